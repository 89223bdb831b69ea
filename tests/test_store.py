"""The library file: schema and migrations, the model, roots, and chunks, vectors and the keyword
index kept in step."""

from __future__ import annotations

import threading
from pathlib import Path

import apsw
import numpy as np
import pytest

from mediafind import roots_rows, status_rows
from mediafind import store as store_module
from mediafind.errors import LibraryTooNew, nothing_to_read
from mediafind.rows import decode_path, encode_path
from mediafind.store import (
    CAPTION_SOURCE,
    IMAGE_SOURCE,
    NOTE,
    PHOTO,
    TEXT_SOURCE,
    FileFacts,
    ModelInfo,
    NewChunk,
    Root,
    Store,
)

MODEL = ModelInfo("fake", "fake-1", 4)


def vec(*values: float) -> bytes:
    return np.asarray(values, dtype=np.float32).tobytes()


def image(vector: bytes) -> NewChunk:
    return NewChunk(IMAGE_SOURCE, None, None, None, vector)


def text(words: str, vector: bytes, source: str = TEXT_SOURCE) -> NewChunk:
    return NewChunk(source, words, 0, len(words), vector)


def add_file(store: Store, root: Root, name: str | Path, kind: str = PHOTO) -> int:
    path = root.path / name
    store.mark_pending(root.id, path, kind, 10, 1, None)
    row = store.file_by_path(path)
    assert row is not None
    return row.id


def index(store: Store, file_id: int, *chunks: NewChunk, **facts: int) -> None:
    store.save_indexed(
        file_id, content_hash=f"hash{file_id}", size=10, mtime_ns=1, chunks=chunks, **facts
    )


def table_names(store: Store) -> set[str]:
    return {name for (name,) in store.conn.execute("SELECT name FROM sqlite_master")}


def columns(conn: apsw.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def chunk_count(store: Store) -> int:
    return int(store.conn.execute("SELECT count(*) FROM chunks").fetchone()[0])


def keyword_hits(store: Store, word: str) -> list[int]:
    """Chunk ids the keyword index returns for word (rowids only, so a stale entry shows)."""
    rows = store.conn.execute("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?", (word,))
    return sorted(rowid for (rowid,) in rows)


def assert_in_step(store: Store) -> None:
    """Every chunk has one vector, and the keyword index matches the chunks' text exactly."""
    orphans = store.conn.execute(
        "SELECT count(*) FROM vectors WHERE chunk_id NOT IN (SELECT id FROM chunks)"
    ).fetchone()[0]
    assert (store.vector_count(), orphans) == (chunk_count(store), 0)
    # Raises apsw.CorruptError when the index and its content table disagree.
    store.conn.execute("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)")


@pytest.fixture
def photos(store: Store, tmp_path: Path) -> Root:
    store.set_model(MODEL)
    return roots_rows.add_root(store, tmp_path / "photos")


# -- schema ------------------------------------------------------------------------------------


def test_new_library_has_the_current_schema(store: Store) -> None:
    assert {"meta", "roots", "files", "chunks", "chunks_fts", "text_chunks"} <= table_names(store)
    assert store.conn.pragma("user_version") == store_module.SCHEMA_VERSION


def test_new_library_is_in_wal_mode(store: Store) -> None:
    assert store.conn.pragma("journal_mode") == "wal"


def test_new_library_makes_no_backup(store: Store) -> None:
    assert list(store.path.parent.glob("*.bak")) == []


def test_library_from_a_newer_mediafind_raises_library_too_new(tmp_path: Path) -> None:
    path = tmp_path / "library.sqlite3"
    with Store.open(path) as s:
        s.conn.pragma("user_version", store_module.SCHEMA_VERSION + 1)
    with pytest.raises(LibraryTooNew, match="newer mediafind"):
        Store.open(path)
    assert list(tmp_path.glob("*.bak")) == []


def test_older_library_is_backed_up_then_upgraded_with_its_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "library.sqlite3"
    old_version = store_module.SCHEMA_VERSION
    with Store.open(path) as old:
        root = roots_rows.add_root(old, tmp_path / "photos")
        add_file(old, root, "kite.jpg")
    monkeypatch.setattr(
        store_module,
        "MIGRATIONS",
        [*store_module.MIGRATIONS, "ALTER TABLE files ADD COLUMN x INTEGER"],
    )
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", old_version + 1)

    with Store.open(path) as new:
        assert new.conn.pragma("user_version") == old_version + 1
        assert "x" in columns(new.conn, "files")
        assert roots_rows.roots(new) == [root]
        assert list(new.files_under(root.id)) == [str(tmp_path / "photos" / "kite.jpg")]

    backup = apsw.Connection(str(tmp_path / f"library.sqlite3.v{old_version}.bak"))
    try:
        assert backup.pragma("user_version") == old_version
        assert "x" not in columns(backup, "files")
        assert backup.execute("SELECT count(*) FROM files").fetchone()[0] == 1
    finally:
        backup.close()


def test_failed_upgrade_leaves_the_library_at_its_old_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "library.sqlite3"
    old_version = store_module.SCHEMA_VERSION
    with Store.open(path) as old:
        roots_rows.add_root(old, tmp_path / "photos")
    broken = [
        *store_module.MIGRATIONS,
        "ALTER TABLE files ADD COLUMN x INTEGER; ALTER TABLE no_such_table ADD COLUMN y",
    ]
    monkeypatch.setattr(store_module, "MIGRATIONS", broken)
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", old_version + 1)
    with pytest.raises(apsw.SQLError):
        Store.open(path)

    conn = apsw.Connection(str(path))
    try:
        assert conn.pragma("user_version") == old_version
        assert "x" not in columns(conn, "files")
        assert conn.execute("SELECT count(*) FROM roots").fetchone()[0] == 1
    finally:
        conn.close()


# -- the model ---------------------------------------------------------------------------------


def test_first_model_creates_the_vector_table(store: Store) -> None:
    assert "vectors" not in table_names(store)
    assert store.set_model(MODEL) is False
    assert "vectors" in table_names(store)
    assert store.model() == MODEL


def test_same_model_again_changes_nothing(photos: Root, store: Store) -> None:
    file_id = add_file(store, photos, "kite.jpg")
    index(store, file_id, image(vec(1, 0, 0, 0)))
    assert store.set_model(ModelInfo("fake", "fake-1", 4)) is False
    assert store.vector_count() == 1
    assert store.counts()[PHOTO] == 1


def test_same_model_under_another_spec_keeps_vectors_and_records_the_spec(
    photos: Root, store: Store
) -> None:
    index(store, add_file(store, photos, "kite.jpg"), image(vec(1, 0, 0, 0)))
    assert store.set_model(ModelInfo("local-dir:/models/fake", "fake-1", 4)) is False
    assert store.vector_count() == 1
    assert store.model() == ModelInfo("local-dir:/models/fake", "fake-1", 4)


@pytest.mark.parametrize(
    "new_model",
    [ModelInfo("other", "other-1", 4), ModelInfo("fake", "fake-1", 8)],
    ids=["other identity", "other dimension"],
)
def test_another_model_drops_vectors_and_marks_indexed_files_pending(
    photos: Root, store: Store, new_model: ModelInfo
) -> None:
    photo = add_file(store, photos, "kite.jpg")
    note = add_file(store, photos, "kite.md", NOTE)
    index(store, photo, image(vec(1, 0, 0, 0)))
    index(store, note, text("a red kite", vec(0, 1, 0, 0)))

    assert store.set_model(new_model) is True

    assert (store.vector_count(), chunk_count(store)) == (0, 0)
    assert keyword_hits(store, "kite") == []
    assert [(row.id, row.status, row.hash) for row in store.pending()] == [
        (photo, "pending", None),
        (note, "pending", None),
    ]
    assert store.model() == new_model
    index(store, photo, image(vec(*range(1, new_model.dimension + 1))))
    assert_in_step(store)


# -- roots -------------------------------------------------------------------------------------


def test_folder_inside_a_watched_one_returns_that_root(photos: Root, store: Store) -> None:
    inner = roots_rows.add_root(store, photos.path / "2023" / "summer")
    assert inner == photos
    assert roots_rows.roots(store) == [photos]


def test_folder_holding_watched_ones_takes_them_over_with_their_files(
    store: Store, tmp_path: Path
) -> None:
    store.set_model(MODEL)
    summer = roots_rows.add_root(store, tmp_path / "photos" / "summer")
    winter = roots_rows.add_root(store, tmp_path / "photos" / "winter")
    kite = add_file(store, summer, "kite.jpg")
    snow = add_file(store, winter, "snow.jpg")
    index(store, kite, image(vec(1, 0, 0, 0)))

    parent = roots_rows.add_root(store, tmp_path / "photos")

    assert roots_rows.roots(store) == [parent]
    assert {row.id for row in store.files_under(parent.id).values()} == {kite, snow}
    assert store.vector_count() == 1


def test_sibling_folder_with_the_same_leading_letters_is_a_separate_root(
    store: Store, tmp_path: Path
) -> None:
    short = roots_rows.add_root(store, tmp_path / "a" / "b")
    longer = roots_rows.add_root(store, tmp_path / "a" / "bc")
    assert longer != short
    assert roots_rows.roots(store) == [short, longer]


def test_removing_a_root_forgets_its_files_chunks_vectors_and_keywords(
    photos: Root, store: Store, tmp_path: Path
) -> None:
    notes = roots_rows.add_root(store, tmp_path / "notes")
    photo = add_file(store, photos, "beach.jpg")
    index(store, photo, image(vec(1, 0, 0, 0)), text("sunset", vec(0, 1, 0, 0), CAPTION_SOURCE))
    index(store, add_file(store, photos, "beach.md", NOTE), text("sunset beach", vec(0, 0, 1, 0)))
    kept = add_file(store, notes, "hike.md", NOTE)
    index(store, kept, text("mountain sunset", vec(0, 0, 0, 1)))

    assert roots_rows.remove_root(store, photos.path) is True

    assert roots_rows.roots(store) == [notes]
    assert store.files_under(photos.id) == {}
    assert keyword_hits(store, "beach") == []
    assert len(keyword_hits(store, "sunset")) == 1
    assert store.vector_count() == 1
    assert_in_step(store)


def test_removing_an_unknown_root_reports_false(store: Store, tmp_path: Path) -> None:
    assert roots_rows.remove_root(store, tmp_path / "nowhere") is False


# -- chunks, vectors and keywords in step -------------------------------------------------------


def test_reindexing_a_note_replaces_its_chunks_everywhere(photos: Root, store: Store) -> None:
    note = add_file(store, photos, "list.md", NOTE)
    index(store, note, text("old eggs", vec(1, 0, 0, 0)), text("old milk", vec(0, 1, 0, 0)))
    index(store, note, text("new bread", vec(0, 0, 1, 0)))

    assert keyword_hits(store, "old") == []
    assert len(keyword_hits(store, "bread")) == 1
    assert store.vector_count() == 1
    assert_in_step(store)


def test_new_caption_keeps_the_photo_vector(photos: Root, store: Store) -> None:
    photo = add_file(store, photos, "kite.jpg")
    index(store, photo, image(vec(1, 0, 0, 0)), text("red kite", vec(0, 1, 0, 0), CAPTION_SOURCE))
    image_chunk = store.conn.execute(
        "SELECT id FROM chunks WHERE source = 'image' AND file_id = ?", (photo,)
    ).fetchone()

    store.save_indexed(
        photo,
        content_hash="hash",
        size=10,
        mtime_ns=2,
        chunks=[text("blue kite", vec(0, 0, 1, 0), CAPTION_SOURCE)],
        keep_sources=(IMAGE_SOURCE,),
    )

    sources = store.conn.execute("SELECT id, source FROM chunks ORDER BY seq").fetchall()
    assert sources[0] == (image_chunk[0], IMAGE_SOURCE)
    assert [source for _, source in sources] == [IMAGE_SOURCE, CAPTION_SOURCE]
    assert keyword_hits(store, "red") == []
    assert len(keyword_hits(store, "blue")) == 1
    assert_in_step(store)


def test_picture_facts_left_out_keep_their_stored_value(photos: Root, store: Store) -> None:
    photo = add_file(store, photos, "kite.jpg")
    index(store, photo, image(vec(1, 0, 0, 0)), width=4000, height=3000)
    index(store, photo, image(vec(0, 1, 0, 0)))
    size = store.conn.execute("SELECT width, height FROM files WHERE id = ?", (photo,)).fetchone()
    assert size == (4000, 3000)


def test_error_drops_the_files_chunks_but_keeps_its_row(photos: Root, store: Store) -> None:
    note = add_file(store, photos, "list.md", NOTE)
    index(store, note, text("eggs and milk", vec(1, 0, 0, 0)))

    store.save_error(note, "no text in the file", 0, 5)

    row = store.file(note)
    assert row is not None
    assert (row.status, row.error, row.hash, row.size) == ("error", "no text in the file", None, 0)
    assert keyword_hits(store, "eggs") == []
    assert store.vector_count() == 0
    # A file with nothing to index is listed apart from the files that could not be read.
    assert status_rows.errors(store) == []
    assert [e.reason for e in status_rows.errors(store, empty=True)] == ["no text in the file"]
    assert store.counts()["error"] == 0 and store.counts()["empty"] == 1
    assert_in_step(store)


def test_files_in_error_are_counted_apart_from_files_with_nothing_to_index(
    photos: Root, store: Store
) -> None:
    reasons = {
        "broken.jpg": "not a readable image (corrupt or unsupported format)",
        "blank.jpg": "empty file",
        "scan.pdf": "scanned PDF without text (no text layer on its only page)",
        "drawing.pdf": "PDF without a text layer (no text and no pictures on its only page)",
        "locked.pdf": "encrypted PDF (needs a password)",
        "nothing.md": "no text in the file",
    }
    ids = {}
    for name, reason in reasons.items():
        ids[name] = add_file(store, photos, name, NOTE if name.endswith((".pdf", ".md")) else PHOTO)
        store.save_error(ids[name], reason, 0, 5)
    counts = store.counts()
    assert (counts["error"], counts["empty"]) == (2, 4)
    assert {e.path.name for e in status_rows.errors(store)} == {"broken.jpg", "locked.pdf"}
    empty = {e.path.name for e in status_rows.errors(store, empty=True)}
    assert empty == {"blank.jpg", "scan.pdf", "drawing.pdf", "nothing.md"}
    assert status_rows.root_counts(store)[photos.id] == (6, 2)
    assert all(nothing_to_read(e.reason) for e in status_rows.errors(store, empty=True))
    assert not any(nothing_to_read(e.reason) for e in status_rows.errors(store))

    # Try Again: files in error become pending, first in line; others are left alone.
    with store.atomic():
        tried = status_rows.retry(store, [photos.path / "broken.jpg", photos.path / "blank.jpg",
                             photos.path / "nowhere.jpg"])  # fmt: skip
    assert tried == 2
    assert store.counts()["pending"] == 2
    assert [r.path.name for r in store.pending()][:2] in (["broken.jpg", "blank.jpg"],
                                                         ["blank.jpg", "broken.jpg"])  # fmt: skip


def test_deleted_files_take_their_chunks_vectors_and_keywords(photos: Root, store: Store) -> None:
    gone = add_file(store, photos, "gone.md", NOTE)
    kept = add_file(store, photos, "kept.md", NOTE)
    index(store, gone, text("tulips", vec(1, 0, 0, 0)), text("roses", vec(0, 1, 0, 0)))
    index(store, kept, text("daisies", vec(0, 0, 1, 0)))

    assert store.delete_files([gone]) == 1

    assert store.file(gone) is None
    assert keyword_hits(store, "tulips") == keyword_hits(store, "roses") == []
    assert len(keyword_hits(store, "daisies")) == 1
    assert store.vector_count() == 1
    assert_in_step(store)


# -- nearest neighbours ------------------------------------------------------------------------


def test_knn_returns_only_the_asked_modality_nearest_first(photos: Root, store: Store) -> None:
    near, far = add_file(store, photos, "near.jpg"), add_file(store, photos, "far.jpg")
    note = add_file(store, photos, "near.md", NOTE)
    index(store, near, image(vec(1, 0.1, 0, 0)))
    index(store, far, image(vec(0, 1, 0, 0)))
    index(store, note, text("red", vec(1, 0, 0, 0)))

    images = store.knn(vec(1, 0, 0, 0), "image", 10)
    texts = store.knn(vec(1, 0, 0, 0), "text", 10)

    assert [hit.file_id for hit in images] == [near, far]
    assert images[0].distance < images[1].distance
    assert [(hit.file_id, hit.text) for hit in texts] == [(note, "red")]


def test_knn_in_a_folder_skips_a_sibling_with_the_same_leading_letters(
    photos: Root, store: Store
) -> None:
    inside = add_file(store, photos, "b/kite.jpg")
    deeper = add_file(store, photos, "b/summer/kite.jpg")
    sibling = add_file(store, photos, "bc/kite.jpg")
    for file_id in (inside, deeper, sibling):
        index(store, file_id, image(vec(1, 0, 0, 0)))

    folder = photos.path / "b"
    hits = store.knn(vec(1, 0, 0, 0), "image", 10, folder=folder)

    assert {hit.file_id for hit in hits} == {inside, deeper}


def test_knn_leaves_out_excluded_files_and_still_returns_k_hits(photos: Root, store: Store) -> None:
    long_note = add_file(store, photos, "long.md", NOTE)
    index(store, long_note, *(text(f"part {i}", vec(1, 0, 0, 0.01 * i)) for i in range(3)))
    others = [add_file(store, photos, f"other{i}.md", NOTE) for i in range(3)]
    for i, file_id in enumerate(others):
        index(store, file_id, text("other", vec(1, 0.2 * (i + 1), 0, 0)))

    hits = store.knn(vec(1, 0, 0, 0), "text", 2, exclude_files=[long_note])
    in_folder = store.knn(vec(1, 0, 0, 0), "text", 2, folder=photos.path, exclude_files=[long_note])

    assert [hit.file_id for hit in hits] == others[:2]
    assert [hit.file_id for hit in in_folder] == others[:2]


def test_knn_before_any_model_finds_nothing(store: Store) -> None:
    assert store.knn(vec(1, 0, 0, 0), "image", 5) == []


# -- paths and concurrency ---------------------------------------------------------------------


def test_path_that_is_not_utf8_round_trips_through_the_library(photos: Root, store: Store) -> None:
    raw = encode_path(photos.path) + b"/caf\xe9 cr\xe8me.jpg"
    path = decode_path(raw)
    assert encode_path(path) == raw

    file_id = add_file(store, photos, path)
    index(store, file_id, image(vec(1, 0, 0, 0)))

    row = store.file_by_path(path)
    assert row is not None and row.path == path
    assert store.conn.execute("SELECT path FROM files").fetchone()[0] == raw  # stored as bytes
    assert [r.path for r in store.files_under(photos.id).values()] == [path]
    assert [hit.path for hit in store.knn(vec(1, 0, 0, 0), "image", 1)] == [path]
    assert path.name.startswith("caf")


def test_reader_is_not_blocked_by_an_open_write_transaction(store: Store, tmp_path: Path) -> None:
    with Store.open(store.path) as reader:
        reader.conn.set_busy_timeout(100)
        with store.atomic():
            roots_rows.add_root(store, tmp_path / "photos")
            assert roots_rows.roots(reader) == []
        assert len(roots_rows.roots(reader)) == 1


def test_writer_commits_while_a_reader_holds_its_snapshot(store: Store, tmp_path: Path) -> None:
    store.conn.set_busy_timeout(100)
    with Store.open(store.path) as reader:
        reader.conn.execute("BEGIN")
        assert roots_rows.roots(reader) == []
        roots_rows.add_root(store, tmp_path / "photos")
        assert roots_rows.roots(reader) == []  # still its own snapshot
        reader.conn.execute("COMMIT")
        assert len(roots_rows.roots(reader)) == 1


def test_connections_opening_a_new_library_at_once_create_it_once(tmp_path: Path) -> None:
    """The window's indexing service and its first reads open a new library together."""

    def open_one(path: Path, writer: bool, start: threading.Barrier, errors: list[object]) -> None:
        start.wait()
        try:
            with Store.open(path, writer=writer):
                pass
        except BaseException as e:
            errors.append(e)

    for attempt in range(10):
        path = tmp_path / f"lib{attempt}" / "library.sqlite3"
        start = threading.Barrier(6)
        errors: list[object] = []
        threads = [
            threading.Thread(target=open_one, args=(path, i == 0, start, errors)) for i in range(6)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []


def test_a_photos_facts_are_read_back_as_the_indexer_saved_them(photos: Root, store: Store) -> None:
    file_id = add_file(store, photos, "beach.jpg")
    raw = encode_path(decode_path(photos.path) / "beach.jpg")
    waiting = store.facts(raw)
    assert waiting == FileFacts(PHOTO, "pending", 10, 1, None, None, None)
    index(store, file_id, image(vec(1, 0, 0, 0)), width=4032, height=3024, taken_at=1.7e9)
    assert store.facts(raw) == FileFacts(PHOTO, "indexed", 10, 1, 4032, 3024, 1.7e9)
    assert store.facts(photos.path / "elsewhere.jpg") is None
