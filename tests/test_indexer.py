"""The pipeline with a fake encoder: what gets embedded, reused, removed and reported."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import FakeEncoder, save_shape

from mediafind import roots_rows, search_rows, status_rows
from mediafind.indexer import Indexer
from mediafind.keeper import sync
from mediafind.report import Progress
from mediafind.search import Hit
from mediafind.store import Store


def make_indexer(store: Store, encoder: FakeEncoder, **kw: object) -> Indexer:
    return Indexer(store, lambda: encoder, encoder.identity, **kw)  # type: ignore[arg-type]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "photos and notes"
    save_shape(root / "red circle.jpg", "red", "circle", 1)
    save_shape(root / "trip" / "blue triangle.png", "blue", "triangle", 2)
    (root / "notes").mkdir()
    (root / "notes" / "groceries.md").write_text("# List\n\n- eggs\n- a **green square** card\n")
    return root


def test_first_run_embeds_every_photo_and_note(
    store: Store, fake: FakeEncoder, folder: Path
) -> None:
    roots_rows.add_root(store, folder)
    outcome = sync(make_indexer(store, fake))
    assert (outcome.indexed, outcome.errors) == (3, [])
    assert store.counts() == {"photo": 2, "note": 1, "error": 0, "pending": 0, "empty": 0}
    assert fake.images_encoded == 2


def test_second_run_with_nothing_changed_embeds_nothing(
    store: Store, fake: FakeEncoder, folder: Path
) -> None:
    roots_rows.add_root(store, folder)
    sync(make_indexer(store, fake))
    again = FakeEncoder()
    outcome = sync(make_indexer(store, again))
    assert (outcome.indexed, outcome.unchanged) == (0, 3)
    assert again.images_encoded == 0 and again.texts_encoded == []


def test_renamed_photo_keeps_its_vector_without_reembedding(
    store: Store, fake: FakeEncoder, folder: Path
) -> None:
    roots_rows.add_root(store, folder)
    sync(make_indexer(store, fake))
    old = store.file_by_path(folder / "red circle.jpg")
    assert old is not None
    (folder / "trip" / "deeper").mkdir()
    (folder / "red circle.jpg").rename(folder / "trip" / "deeper" / "renamed.jpg")
    again = FakeEncoder()
    outcome = sync(make_indexer(store, again))
    assert outcome.moved == 1 and again.images_encoded == 0
    moved = store.file_by_path(folder / "trip" / "deeper" / "renamed.jpg")
    assert moved is not None and moved.id == old.id and moved.status == "indexed"
    assert store.file_by_path(folder / "red circle.jpg") is None
    assert store.vector_count() == 2 + 1


def test_copied_photo_reuses_the_vectors_of_the_original(
    store: Store, fake: FakeEncoder, folder: Path
) -> None:
    roots_rows.add_root(store, folder)
    sync(make_indexer(store, fake))
    shutil.copy2(folder / "red circle.jpg", folder / "copy.jpg")
    again = FakeEncoder()
    outcome = sync(make_indexer(store, again))
    assert (outcome.reused, again.images_encoded) == (1, 0)
    assert store.counts()["photo"] == 3
    assert store.vector_count() == 3 + 1


def test_deleted_photo_leaves_the_index(store: Store, fake: FakeEncoder, folder: Path) -> None:
    roots_rows.add_root(store, folder)
    sync(make_indexer(store, fake))
    (folder / "trip" / "blue triangle.png").unlink()
    outcome = sync(make_indexer(store, FakeEncoder()))
    assert outcome.removed == 1
    assert store.counts()["photo"] == 1
    assert store.vector_count() == 1 + 1
    # FTS5 checks its index against the chunks table and raises if they differ.
    store.conn.execute("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)")


def test_changed_photo_is_embedded_again(store: Store, fake: FakeEncoder, folder: Path) -> None:
    roots_rows.add_root(store, folder)
    sync(make_indexer(store, fake))
    save_shape(folder / "red circle.jpg", "yellow", "square", 9)
    again = FakeEncoder()
    outcome = sync(make_indexer(store, again))
    assert (outcome.indexed, again.images_encoded) == (1, 1)
    assert store.vector_count() == 3


def test_unreadable_files_are_recorded_with_reasons_and_the_rest_indexed(
    store: Store, fake: FakeEncoder, folder: Path
) -> None:
    (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    (folder / "zero.png").write_bytes(b"")
    good = (folder / "red circle.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(good[: len(good) // 2])
    (folder / "empty note.txt").write_text("   \n")
    roots_rows.add_root(store, folder)
    outcome = sync(make_indexer(store, fake))
    reasons = {p.name: r for p, r in outcome.errors}
    assert set(reasons) == {"corrupt.jpg", "zero.png", "truncated.jpg", "empty note.txt"}
    assert reasons["zero.png"] == "empty file"
    assert "truncated" in reasons["truncated.jpg"]
    assert reasons["corrupt.jpg"].startswith(("damaged image", "not a readable image"))
    assert outcome.indexed == 3
    listed = [*status_rows.errors(store), *status_rows.errors(store, empty=True)]
    assert {Path(os.fsdecode(e.path)).name for e in listed} == set(reasons)
    assert {e.path.name for e in status_rows.errors(store, empty=True)} == {
        "zero.png",
        "empty note.txt",
    }


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_permission_denied_is_recorded(store: Store, fake: FakeEncoder, folder: Path) -> None:
    secret = folder / "secret.txt"
    secret.write_text("a private red circle")
    secret.chmod(0)
    roots_rows.add_root(store, folder)
    outcome = sync(make_indexer(store, fake))
    assert [(p.name, r) for p, r in outcome.errors] == [("secret.txt", "Permission denied")]


def test_caption_sidecar_is_embedded_with_its_photo_not_as_a_note(
    store: Store, fake: FakeEncoder, folder: Path
) -> None:
    (folder / "red circle.jpg.txt").write_text("Grandma's red circle plate")
    roots_rows.add_root(store, folder)
    sync(make_indexer(store, fake))
    assert store.counts()["note"] == 1
    assert "Grandma's red circle plate" in fake.texts_encoded
    # Editing the caption embeds the caption again, not the picture.
    (folder / "red circle.jpg.txt").write_text("Grandpa's red circle plate")
    os.utime(folder / "red circle.jpg.txt", ns=(1, 1))
    again = FakeEncoder()
    sync(make_indexer(store, again))
    assert again.images_encoded == 0
    assert again.texts_encoded == ["Grandpa's red circle plate"]


def test_file_names_that_are_not_utf8_round_trip(
    store: Store, fake: FakeEncoder, tmp_path: Path
) -> None:
    root = tmp_path / "raw"
    root.mkdir()
    name = os.fsdecode(b"caf\xe9 \xff.jpg")  # Latin-1 bytes, not valid UTF-8
    save_shape(root / name, "green", "square")
    roots_rows.add_root(store, root)
    outcome = sync(make_indexer(store, fake))
    assert outcome.indexed == 1
    (row,) = store.conn.execute("SELECT path FROM files").fetchall()
    assert row[0] == os.fsencode(root) + b"/caf\xe9 \xff.jpg"


def test_progress_reports_counts_and_cancel_stops_between_batches(
    store: Store, fake: FakeEncoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from mediafind import indexer

    monkeypatch.setattr(indexer, "PHOTO_BATCH", 2)
    root = tmp_path / "many"
    for i in range(10):
        save_shape(root / f"{i}.png", "red", "circle", i)
    roots_rows.add_root(store, root)
    seen: list[Progress] = []
    cancel = threading.Event()

    def on_progress(p: Progress) -> None:
        seen.append(p)
        if p.done >= 4:
            cancel.set()

    outcome = sync(make_indexer(store, fake, on_progress=on_progress, cancel=cancel))
    assert outcome.cancelled
    assert seen[0].total == 10 and seen[-1].done == 4
    assert store.counts()["pending"] == 6
    # The next run picks up where this one stopped.
    rest = sync(make_indexer(store, FakeEncoder()))
    assert rest.indexed == 6 and store.counts()["photo"] == 10


def test_a_different_model_reembeds_everything(
    store: Store, fake: FakeEncoder, folder: Path
) -> None:
    roots_rows.add_root(store, folder)
    sync(make_indexer(store, fake))
    other = FakeEncoder()
    other.identity = "fake-2"
    outcome = sync(make_indexer(store, other))
    assert outcome.model_reset and outcome.indexed == 3
    assert other.images_encoded == 2
    info = store.model()
    assert info is not None and info.identity == "fake-2"


def test_without_the_model_files_wait_and_their_words_are_saved(store: Store, folder: Path) -> None:
    from mediafind.errors import ModelUnavailable

    roots_rows.add_root(store, folder)

    def no_model() -> FakeEncoder:
        raise ModelUnavailable("no weights")

    outcome = sync(Indexer(store, no_model, "x"))  # type: ignore[arg-type]
    assert outcome.waiting_for_model == "no weights" and outcome.indexed == 0
    assert store.model() is None and store.vector_count() == 0
    counts = store.counts()
    assert counts["pending"] == 3 and counts["photo"] == counts["note"] == 0
    # The note's words are in the library already; the photos have no caption to save.
    assert outcome.words_only == 1
    assert [h.path.name for h in search_rows.keyword_chunks(store, '"eggs"', 10)] == [
        "groceries.md"
    ]
    again = sync(Indexer(store, no_model, "x"))  # type: ignore[arg-type]
    assert again.words_only == 0  # saved once


def test_keyword_search_finds_notes_by_their_words_and_photos_by_name_without_a_model(
    store: Store, fake: FakeEncoder, folder: Path
) -> None:
    from mediafind.query import parse
    from mediafind.search import keyword_search

    def typed(text: str, kind: str = "all") -> list[Hit]:
        return keyword_search(store, parse(text, lenient=True).narrowed(kind=kind), 20)

    roots_rows.add_root(store, folder)
    sync(make_indexer(store, fake))
    hits = typed("green squ", kind="note")
    assert [h.path.name for h in hits] == ["groceries.md"]
    assert hits[0].snippet is not None and "green square" in hits[0].snippet
    photos = typed("Blue", kind="photo")
    assert [h.path.name for h in photos] == ["blue triangle.png"]
    assert typed("nothing like this") == []
    assert typed('"quotes" and AND OR * ( are safe') == []


def test_notes_alone_never_read_the_image_towers_weights(store: Store, tmp_path: Path) -> None:
    from conftest import TINY_SPEC

    from mediafind.embed import TEXT, OpenClipEncoder, parse_spec

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "pond.md").write_text("The red circle by the pond.\n")
    encoder = OpenClipEncoder(parse_spec(TINY_SPEC), device="cpu")
    roots_rows.add_root(store, notes)
    outcome = sync(Indexer(store, lambda: encoder, encoder.identity))
    assert (outcome.indexed, outcome.errors) == (1, [])
    assert encoder.loaded == {TEXT}
