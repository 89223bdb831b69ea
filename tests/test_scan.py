"""Walking watched folders and comparing them with the library."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import apsw
import pytest
from conftest import save_shape

from mediafind import roots_rows, scan
from mediafind.media import hash_file
from mediafind.rows import encode_path
from mediafind.scan import OFFLINE, Entry, Excluder, plan, reconcile, walk
from mediafind.store import ModelInfo, Root, Store


def write(path: Path, data: bytes | str = b"data") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


def found(root: Path, excluder: Excluder | None = None) -> list[str]:
    """What a walk yields, as paths relative to root; fails on any walk error."""
    errors: list[tuple[Path, str]] = []
    entries = [
        e.path.relative_to(root).as_posix() for e in walk(root, excluder or Excluder(), errors)
    ]
    assert errors == []
    return sorted(entries)


def entries_by_name(root: Path) -> dict[str, Entry]:
    return {e.path.name: e for e in walk(root, Excluder(), [])}


# -- walking -----------------------------------------------------------------------------------


def test_default_excludes_skip_hidden_system_and_dependency_files(tmp_path: Path) -> None:
    write(tmp_path / "kite.jpg")
    write(tmp_path / "trip" / "notes.md")
    for skipped in (
        ".hidden.jpg",
        ".thumbnails/kite.jpg",
        "@eaDir/kite.jpg/SYNOPHOTO_THUMB_XL.jpg",
        "trip/@eaDir/notes.md",
        "._kite.jpg",
        ".git/description.txt",
        "node_modules/readme.md",
        "trip/node_modules/readme.md",
        "$RECYCLE.BIN/kite.jpg",
        "System Volume Information/notes.txt",
    ):
        write(tmp_path / skipped)

    assert found(tmp_path) == ["kite.jpg", "trip/notes.md"]


def test_files_mediafind_does_not_index_are_not_yielded(tmp_path: Path) -> None:
    write(tmp_path / "kite.jpg")
    write(tmp_path / "song.mp3")
    write(tmp_path / "archive.zip")
    write(tmp_path / "kite.jpg.xmp")  # a sidecar: read with its photo
    assert found(tmp_path) == ["kite.jpg"]


def test_pattern_without_a_slash_skips_that_name_anywhere(tmp_path: Path) -> None:
    write(tmp_path / "kite.jpg")
    write(tmp_path / "kite.png")
    write(tmp_path / "deep" / "down" / "sunset.png")
    write(tmp_path / "private" / "diary.md")
    write(tmp_path / "trip" / "private" / "diary.md")

    assert found(tmp_path, Excluder(["*.png", "private"])) == ["kite.jpg"]


def test_pattern_with_a_slash_skips_that_path_under_the_root(tmp_path: Path) -> None:
    write(tmp_path / "trips" / "2019" / "beach.jpg")
    write(tmp_path / "trips" / "2020" / "beach.jpg")
    write(tmp_path / "old" / "trips" / "2019" / "beach.jpg")

    assert found(tmp_path, Excluder(["trips/2019/"])) == [
        "old/trips/2019/beach.jpg",
        "trips/2020/beach.jpg",
    ]


def test_link_to_a_parent_folder_does_not_loop(tmp_path: Path) -> None:
    write(tmp_path / "kite.jpg")
    write(tmp_path / "trip" / "beach.jpg")
    (tmp_path / "trip" / "back up").symlink_to("..", target_is_directory=True)

    assert found(tmp_path) == ["kite.jpg", "trip/beach.jpg"]


def test_dangling_link_is_skipped_silently(tmp_path: Path) -> None:
    write(tmp_path / "kite.jpg")
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "deleted.jpg")
    assert found(tmp_path) == ["kite.jpg"]


@pytest.fixture
def locked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder the walk may not list. Root may list any folder, so there the refusal is
    simulated by the one stand-in these tests use."""
    folder = tmp_path / "locked"
    write(folder / "secret.jpg")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        real_scandir = os.scandir

        def scandir(path: Path) -> object:
            if Path(path) == folder:
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return real_scandir(path)

        monkeypatch.setattr(os, "scandir", scandir)
        yield folder
    else:
        folder.chmod(0)
        yield folder
        folder.chmod(0o755)


def test_unreadable_folder_is_reported_and_the_walk_goes_on(tmp_path: Path, locked: Path) -> None:
    write(tmp_path / "kite.jpg")
    errors: list[tuple[Path, str]] = []

    names = [e.path.name for e in walk(tmp_path, Excluder(), errors)]

    assert names == ["kite.jpg"]
    assert errors == [(locked, "Permission denied")]


def test_file_name_that_is_not_utf8_is_found_and_round_trips(tmp_path: Path) -> None:
    raw = encode_path(tmp_path) + b"/caf\xe9.jpg"
    try:
        with open(raw, "wb") as f:
            f.write(b"jpeg")
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")

    (entry,) = walk(tmp_path, Excluder(), [])

    assert encode_path(entry.path) == raw


def test_sidecar_captions_are_not_notes(tmp_path: Path) -> None:
    write(tmp_path / "kite.jpg")
    write(tmp_path / "kite.jpg.txt", "a red kite")
    write(tmp_path / "beach.png")
    write(tmp_path / "beach.txt", "the beach at dawn")
    write(tmp_path / "diary.txt", "dear diary")

    entries = entries_by_name(tmp_path)

    assert sorted(entries) == ["beach.png", "diary.txt", "kite.jpg"]
    assert entries["kite.jpg"].caption_sig is not None
    assert entries["beach.png"].caption_sig is not None
    assert entries["diary.txt"].kind == "note"


def test_editing_a_caption_changes_its_photos_signature(tmp_path: Path) -> None:
    write(tmp_path / "kite.jpg")
    caption = write(tmp_path / "kite.jpg.txt", "a red kite")
    before = entries_by_name(tmp_path)["kite.jpg"].caption_sig

    caption.write_text("a red kite over the dunes")
    os.utime(caption, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))

    after = entries_by_name(tmp_path)["kite.jpg"].caption_sig
    assert after is not None and after != before


# -- planning against the library --------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    save_shape(root / "red circle.jpg", "red", "circle", 1)
    save_shape(root / "trip" / "blue triangle.png", "blue", "triangle", 2)
    write(root / "notes" / "list.md", "# List\n\n- eggs\n")
    return root


@pytest.fixture
def root(store: Store, folder: Path) -> Root:
    store.set_model(ModelInfo("fake", "fake-1", 4))
    return roots_rows.add_root(store, folder)


def index_all(store: Store, root: Root) -> None:
    """Scan, then record every pending file as indexed, as the indexer would."""
    reconcile(store, [root])
    for row in store.pending():
        path = row.path
        store.save_indexed(
            row.id,
            content_hash=hash_file(path),
            size=row.size,
            mtime_ns=row.mtime_ns,
            chunks=[],
        )


def row_for(store: Store, path: Path) -> int:
    row = store.file_by_path(path)
    assert row is not None
    return row.id


def test_new_folder_has_every_file_added(store: Store, root: Root, folder: Path) -> None:
    p = plan(store, root)
    assert sorted(e.path.relative_to(folder).as_posix() for e in p.added) == [
        "notes/list.md",
        "red circle.jpg",
        "trip/blue triangle.png",
    ]
    assert (p.changed, p.moved, p.vanished, p.unchanged, p.online) == ([], [], [], 0, True)


def test_indexed_folder_is_unchanged(store: Store, root: Root) -> None:
    index_all(store, root)
    p = plan(store, root)
    assert (p.unchanged, p.has_work) == (3, False)


def test_edited_file_is_changed(store: Store, root: Root, folder: Path) -> None:
    index_all(store, root)
    write(folder / "notes" / "list.md", "# List\n\n- eggs\n- milk\n")

    p = plan(store, root)

    assert [e.path for e in p.changed] == [folder / "notes" / "list.md"]
    assert (p.added, p.vanished, p.unchanged) == ([], [], 2)


def test_deleted_file_has_vanished(store: Store, root: Root, folder: Path) -> None:
    index_all(store, root)
    kite = row_for(store, folder / "red circle.jpg")
    (folder / "red circle.jpg").unlink()

    p = plan(store, root)

    assert [row.id for row in p.vanished] == [kite]
    assert p.added == []


def test_file_left_pending_by_an_interrupted_run_is_changed(
    store: Store, root: Root, folder: Path
) -> None:
    reconcile(store, [root])  # recorded, never indexed
    p = plan(store, root)
    assert len(p.changed) == 3 and p.unchanged == 0


def test_photo_whose_caption_was_added_is_changed(store: Store, root: Root, folder: Path) -> None:
    index_all(store, root)
    write(folder / "red circle.jpg.txt", "a red circle on grey")

    p = plan(store, root)

    assert [e.path for e in p.changed] == [folder / "red circle.jpg"]
    assert p.added == []


def test_renamed_file_is_a_move_of_its_row(store: Store, root: Root, folder: Path) -> None:
    index_all(store, root)
    old = row_for(store, folder / "red circle.jpg")
    new_path = folder / "trip" / "kept" / "circle.jpg"
    new_path.parent.mkdir()
    (folder / "red circle.jpg").rename(new_path)

    p = plan(store, root)

    assert [(row.id, entry.path) for row, entry in p.moved] == [(old, new_path)]
    assert (p.added, p.vanished) == ([], [])


def test_same_size_but_other_content_is_not_a_move(store: Store, root: Root, folder: Path) -> None:
    write(folder / "a.txt", "apples")
    index_all(store, root)
    (folder / "a.txt").unlink()
    write(folder / "b.txt", "grapes")  # same size, other words

    p = plan(store, root)

    assert p.moved == []
    assert [e.path.name for e in p.added] == ["b.txt"]
    assert [row.path.name for row in p.vanished] == ["a.txt"]


def test_offline_root_keeps_its_rows(store: Store, root: Root, folder: Path) -> None:
    index_all(store, root)
    shutil.rmtree(folder)

    p = plan(store, root)
    found = reconcile(store, [root])

    assert (p.online, p.vanished, p.has_work) == (False, [], False)
    assert (found.offline, found.wrote) == ([folder], False)
    assert len(store.files_under(root.id)) == 3
    assert roots_rows.root_states(store)[root.id] == (OFFLINE, "folder not found")


def test_reconcile_records_additions_changes_moves_and_removals(
    store: Store, root: Root, folder: Path
) -> None:
    index_all(store, root)
    circle = row_for(store, folder / "red circle.jpg")
    (folder / "red circle.jpg").rename(folder / "circle.jpg")
    (folder / "trip" / "blue triangle.png").unlink()
    write(folder / "notes" / "list.md", "# List\n\n- eggs\n- milk\n")
    write(folder / "notes" / "new.md", "fresh")

    found = reconcile(store, [root])

    assert (found.moved, found.removed, found.marked) == (1, 1, 2)
    files = {r.path.relative_to(folder).as_posix(): r for r in store.files_under(root.id).values()}
    assert sorted(files) == ["circle.jpg", "notes/list.md", "notes/new.md"]
    assert (files["circle.jpg"].id, files["circle.jpg"].status) == (circle, "indexed")
    assert files["notes/list.md"].status == files["notes/new.md"].status == "pending"


def test_reconcile_writes_everything_or_nothing(
    store: Store, root: Root, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_all(store, root)
    (folder / "trip" / "blue triangle.png").unlink()
    write(folder / "notes" / "new.md", "fresh")
    p = plan(store, root)
    before = store.files_under(root.id)
    # A file the library refuses comes last: what came before it must not stay written.
    p.added.append(Entry(str(folder / "clip.mp4"), "video", 1, 1))
    monkeypatch.setattr(scan, "plan", lambda *args: p)

    with pytest.raises(apsw.ConstraintError):
        reconcile(store, [root])

    assert store.files_under(root.id) == before


def test_reconcile_follows_hints_in_one_folder_and_walks_the_others(
    store: Store, root: Root, folder: Path, tmp_path: Path
) -> None:
    index_all(store, root)
    write(folder / "notes" / "hinted.md", "seen")
    write(folder / "notes" / "unhinted.md", "not looked at")
    found = reconcile(store, [root], hints={folder: [folder / "notes" / "hinted.md"]}, priority=1)
    assert found.marked == 1
    assert [r.path.name for r in store.pending()] == ["hinted.md"]
    assert reconcile(store, [root]).marked == 2  # the walk finds both (hinted.md still pending)
