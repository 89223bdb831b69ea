"""The live library: a real Keeper with real watchdog observers on real folders."""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import FakeEncoder, save_shape

from mediafind import indexer, roots_rows, shapes, status_rows
from mediafind.errors import LibraryBusy
from mediafind.keeper import IDLE, Keeper, Status
from mediafind.rows import decode_path
from mediafind.store import Store
from mediafind.writelock import WriterLock

QUIET = 0.3


class CountingEncoder(FakeEncoder):
    """Remembers every picture it embedded (by its exact pixels) to catch double work."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay
        self.seen: list[bytes] = []

    def encode_images(self, images):  # type: ignore[no-untyped-def]
        self.seen.extend(im.tobytes() for im in images)
        time.sleep(self.delay * len(images))
        return super().encode_images(images)


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@pytest.fixture
def library(tmp_path: Path) -> Path:
    return tmp_path / "lib" / "library.sqlite3"


@pytest.fixture
def root(tmp_path: Path, library: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    with Store.open(library, writer=True) as store:
        roots_rows.add_root(store, folder)
    return folder


def start(library: Path, encoder: FakeEncoder, **kw: object) -> Keeper:
    service = Keeper(library, lambda: encoder, encoder.identity, quiet=QUIET, **kw)  # type: ignore[arg-type]
    service.start()
    return service


@pytest.fixture
def running(library: Path, root: Path) -> Iterator[tuple[Keeper, CountingEncoder]]:
    encoder = CountingEncoder()
    service = start(library, encoder)
    assert service.wait_idle(10)
    yield service, encoder
    service.stop()


def indexed_paths(library: Path) -> set[Path]:
    with Store.open(library) as store:
        rows = store.conn.execute("SELECT path FROM files WHERE status = 'indexed'").fetchall()
    return {decode_path(r[0]) for r in rows}


def on_disk(root: Path) -> set[Path]:
    return {
        p for p in root.rglob("*") if p.is_file() and p.suffix in (".jpg", ".png", ".txt", ".md")
    }


def indexed_versions(library: Path) -> dict[Path, tuple[int, int]]:
    with Store.open(library) as store:
        rows = store.conn.execute(
            "SELECT path, size, mtime_ns FROM files WHERE status = 'indexed'"
        ).fetchall()
    return {decode_path(p): (size, mtime) for p, size, mtime in rows}


def disk_versions(root: Path) -> dict[Path, tuple[int, int]]:
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in on_disk(root)}


def settle(service: Keeper, library: Path, root: Path, timeout: float = 30.0) -> None:
    """Wait until the index matches the disk exactly: the same files, at the same versions."""
    wait_for(lambda: indexed_versions(library) == disk_versions(root), timeout)
    assert service.wait_idle(timeout)


def test_create_modify_rename_move_delete_and_atomic_save_are_followed(
    running: tuple[Keeper, CountingEncoder], library: Path, root: Path
) -> None:
    service, encoder = running
    save_shape(root / "a.jpg", "red", "circle", 1)
    (root / "notes").mkdir()
    (root / "notes" / "n.md").write_text("a green square")
    settle(service, library, root)
    save_shape(root / "a.jpg", "blue", "square", 2)  # modified
    (root / "trip").mkdir()
    save_shape(root / "b.png", "yellow", "triangle", 3)
    settle(service, library, root)
    (root / "b.png").rename(root / "trip" / "b renamed.png")  # move across subfolders
    (root / "notes" / "n.md").unlink()
    # An editor's atomic save: write a temporary file, then rename it over the target.
    tmp = root / ".a.jpg.tmp"
    shapes.render("green", "circle", random.Random(4)).save(tmp, format="JPEG")
    tmp.replace(root / "a.jpg")
    settle(service, library, root)
    assert indexed_paths(library) == {root / "a.jpg", root / "trip" / "b renamed.png"}
    # red circle, blue square, yellow triangle, green circle: each embedded once, no more.
    assert len(encoder.seen) == 4 == len(set(encoder.seen))


def test_a_burst_of_500_new_files_is_indexed_once_each(
    running: tuple[Keeper, CountingEncoder], library: Path, root: Path
) -> None:
    service, encoder = running
    for i in range(500):
        folder = root / f"burst {i % 5}"
        folder.mkdir(exist_ok=True)
        save_shape(folder / f"{i}.png", ("red", "green", "blue", "yellow")[i % 4], "circle", i)
    settle(service, library, root, timeout=120)
    assert len(indexed_paths(library)) == 500
    assert len(encoder.seen) == 500


def test_changes_made_while_not_running_are_found_at_the_next_start(
    library: Path, root: Path
) -> None:
    encoder = CountingEncoder()
    service = start(library, encoder)
    save_shape(root / "a.jpg", "red", "circle", 1)
    settle(service, library, root)
    service.stop()
    save_shape(root / "b.jpg", "blue", "circle", 2)
    (root / "a.jpg").unlink()
    service = start(library, CountingEncoder())
    try:
        settle(service, library, root)
        assert indexed_paths(library) == {root / "b.jpg"}
    finally:
        service.stop()


def test_a_second_writer_is_refused_with_the_holders_pid_while_readers_work(
    running: tuple[Keeper, CountingEncoder], library: Path
) -> None:
    with pytest.raises(LibraryBusy, match=f"pid {os.getpid()}"):
        Store.open(library, writer=True)
    with Store.open(library) as reader:
        assert reader.counts()["pending"] == 0
        assert reader.writer_pid() == os.getpid()
    second = Keeper(library, FakeEncoder, "fake-1", quiet=QUIET)
    with pytest.raises(LibraryBusy):
        second.start()


def test_a_folder_that_disappears_is_offline_and_kept_then_not_reembedded_on_return(
    library: Path, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mediafind import watch

    monkeypatch.setattr(watch, "HEALTH_CHECK_SECONDS", 0.2)
    encoder = CountingEncoder()
    service = start(library, encoder)
    try:
        save_shape(root / "a.jpg", "red", "circle", 1)
        settle(service, library, root)
        unplugged = tmp_path / "unplugged"
        root.rename(unplugged)
        wait_for(lambda: service.root_states().get(root, ("", ""))[0] == "offline")
        time.sleep(QUIET * 3)
        assert indexed_paths(library) == {root / "a.jpg"}  # still searchable
        unplugged.rename(root)
        wait_for(lambda: service.root_states().get(root, ("", ""))[0] == "live")
        assert service.wait_idle(10)
        assert indexed_paths(library) == {root / "a.jpg"}
        assert len(encoder.seen) == 1
    finally:
        service.stop()


def test_pause_holds_work_and_resume_finishes_it(library: Path, root: Path) -> None:
    for i in range(20):
        save_shape(root / f"{i}.png", "red", "square", i)
    encoder = CountingEncoder(delay=0.02)
    service = start(library, encoder)
    try:
        service.pause()
        wait_for(lambda: service.status().state == "paused")
        seen = len(encoder.seen)
        time.sleep(0.5)
        assert len(encoder.seen) - seen <= 8  # at most the encoder call in flight
        service.resume()
        settle(service, library, root)
    finally:
        service.stop()


def test_stop_takes_effect_within_a_second_and_keeps_what_was_committed(
    library: Path, root: Path
) -> None:
    for i in range(200):
        save_shape(root / f"{i}.png", "blue", "circle", i)
    encoder = CountingEncoder(delay=0.02)
    service = start(library, encoder)
    wait_for(lambda: service.status().done > 0)
    started = time.monotonic()
    service.stop()
    assert time.monotonic() - started < 1.0
    with Store.open(library) as store:
        counts = store.counts()
        assert counts["photo"] + counts["pending"] == 200
        assert counts["photo"] == store.vector_count()
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_file_just_added_goes_before_the_backlog(library: Path, root: Path) -> None:
    backlog = root / "backlog"
    backlog.mkdir()
    for i in range(120):
        save_shape(backlog / f"{i}.png", "yellow", "square", i)
    encoder = CountingEncoder(delay=0.02)
    service = start(library, encoder)
    try:
        wait_for(lambda: service.status().done > 0)
        save_shape(root / "new.jpg", "red", "triangle", 999)
        wait_for(lambda: root / "new.jpg" in indexed_paths(library))
        with Store.open(library) as store:
            assert store.counts()["pending"] > 0  # the backlog was not finished first
    finally:
        service.stop()


def test_model_is_released_when_idle_and_loaded_again_for_new_work(
    library: Path, root: Path
) -> None:
    loads: list[CountingEncoder] = []

    def factory() -> CountingEncoder:
        loads.append(CountingEncoder())
        return loads[-1]

    service = Keeper(library, factory, "fake-1", quiet=QUIET, idle_release=0.2)  # type: ignore[arg-type]
    service.start()
    try:
        save_shape(root / "a.jpg", "red", "circle", 1)
        settle(service, library, root)
        assert len(loads) == 1
        time.sleep(0.5)
        service.rescan()  # wakes the loop, which notices it has been idle
        assert service.wait_idle(10)
        save_shape(root / "b.jpg", "blue", "circle", 2)
        settle(service, library, root)
        assert len(loads) == 2
    finally:
        service.stop()


def test_progress_events_report_counts_and_end_idle(library: Path, root: Path) -> None:
    for i in range(40):
        save_shape(root / f"{i}.png", "green", "triangle", i)
    events: list[Status] = []
    lock = threading.Lock()
    service = Keeper(library, CountingEncoder, "fake-1", quiet=QUIET)  # type: ignore[arg-type]

    def listen(status: Status) -> None:
        with lock:
            events.append(status)

    service.add_listener(listen)
    service.start()
    try:
        assert service.wait_idle(30)
        states = [e.state for e in events]
        assert "scanning" in states and "indexing" in states and states[-1] == IDLE
        last_progress = [e for e in events if e.state == "indexing" and e.total][-1]
        assert last_progress.done == last_progress.total == 40
        assert last_progress.rate > 0
    finally:
        service.stop()


def test_the_count_shows_before_the_model_loads_and_goes_on_across_runs(
    library: Path, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the status bar shows: "0 of 30" at once (not after the model loaded and a first
    batch was done), then a count that never goes back when more files arrive mid-way."""
    monkeypatch.setattr(indexer, "PHOTO_BATCH", 5)
    for i in range(30):
        save_shape(root / f"{i}.png", "green", "triangle", i)
    events: list[Status] = []
    lock = threading.Lock()
    loaded = threading.Event()
    gate = threading.Event()

    def factory() -> CountingEncoder:
        assert gate.wait(20)  # a big model loading on a laptop
        loaded.set()
        return CountingEncoder(delay=0.1)

    def listen(status: Status) -> None:
        with lock:
            events.append(status)

    service = Keeper(library, factory, "fake-1", quiet=QUIET)  # type: ignore[arg-type]
    service.add_listener(listen)
    service.start()
    try:
        wait_for(lambda: any(e.state == "indexing" and e.total == 30 for e in list(events)))
        assert not loaded.is_set()
        first = next(e for e in list(events) if e.state == "indexing" and e.total)
        assert (first.done, first.total) == (0, 30)
        gate.set()
        wait_for(lambda: any(e.done >= 10 for e in list(events)))
        for i in range(30, 40):  # more photos come while the first ones are read
            save_shape(root / "later" / f"{i}.png", "blue", "square", i)
        assert service.wait_idle(60)
        settle(service, library, root)
        with lock:
            counted = [e.done for e in events if e.state == "indexing" and e.total]
            finals = [e for e in events if e.state == "indexing" and e.total]
        assert counted == sorted(counted), counted  # never back to 0 mid-way
        assert finals[-1].done == finals[-1].total == 40
    finally:
        gate.set()
        service.stop()


def test_awkward_files_are_recorded_or_skipped_never_a_crash(
    running: tuple[Keeper, CountingEncoder], library: Path, root: Path
) -> None:
    service, _ = running
    (root / "loop").mkdir()
    (root / "loop" / "again").symlink_to(root)  # a symlink loop
    name = os.fsdecode(b"caf\xe9.jpg")  # not valid UTF-8
    save_shape(root / name, "red", "circle", 1)
    folder_then_file = root / "was a folder"
    folder_then_file.mkdir()
    save_shape(folder_then_file / "x.jpg", "blue", "circle", 2)
    wait_for(lambda: folder_then_file / "x.jpg" in indexed_paths(library))
    (folder_then_file / "x.jpg").unlink()
    folder_then_file.rmdir()
    (root / "was a folder").write_text("now a file")  # not an indexable kind
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    wait_for(lambda: service.status().errors >= 1)
    assert service.wait_idle(20)
    assert indexed_paths(library) == {root / name}
    with Store.open(library) as store:
        assert [e.path.name for e in status_rows.errors(store)] == ["broken.png"]


def test_a_file_changing_while_it_is_read_ends_indexed_at_its_last_version(
    running: tuple[Keeper, CountingEncoder], library: Path, root: Path
) -> None:
    service, _ = running
    note = root / "journal.md"
    deadline = time.monotonic() + 2.0
    i = 0
    while time.monotonic() < deadline:  # an app saving every few milliseconds
        note.write_text("a red circle, " * (i % 50 + 1))
        i += 1
        time.sleep(0.005)
    settle(service, library, root)
    with Store.open(library) as store:
        row = store.file_by_path(note)
        assert row is not None and row.size == note.stat().st_size
        (text,) = store.conn.execute(
            "SELECT group_concat(text, ' ') FROM chunks WHERE file_id = ?", (row.id,)
        ).fetchone()
    assert text.count("circle") >= note.read_text().count("circle")


def test_status_command_shows_folder_states_from_the_watching_process(
    running: tuple[Keeper, CountingEncoder],
    library: Path,
    root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from mediafind.cli import main

    assert main(["--library", str(library.parent), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["writer_pid"] == os.getpid()
    assert [(f["path"], f["state"]) for f in status["folders"]] == [(str(root), "live")]


def test_a_writer_starting_while_a_reader_asks_who_writes_is_not_refused(tmp_path: Path) -> None:
    """The window asks who writes the library (a brief probe of the lock) while its keeper
    starts: the keeper must not take that probe for another writer."""
    library = tmp_path / "library.sqlite3"
    Store.open(library, writer=True).close()
    stop = threading.Event()

    def ask_again_and_again() -> None:
        while not stop.is_set():
            WriterLock(library).holder()

    askers = [threading.Thread(target=ask_again_and_again) for _ in range(2)]
    for asker in askers:
        asker.start()
    try:
        for _ in range(30):
            Store.open(library, writer=True).close()
    finally:
        stop.set()
        for asker in askers:
            asker.join()


def test_without_the_model_a_watched_note_is_searchable_by_its_words_at_once(
    library: Path, root: Path
) -> None:
    from mediafind.errors import ModelUnavailable
    from mediafind.query import parse
    from mediafind.search import keyword_search

    def no_model() -> FakeEncoder:
        raise ModelUnavailable("the weights are not here")

    keeper = Keeper(library, no_model, "fake-1", quiet=QUIET)
    keeper.start()
    try:
        (root / "recipe.md").write_text("Crème brûlée, the Sunday way.", encoding="utf-8")
        with Store.open(library) as store:
            wait_for(lambda: bool(keyword_search(store, parse("creme"), 5)), timeout=15)
            [hit] = keyword_search(store, parse("creme"), 5)
            assert hit.path == root / "recipe.md" and hit.why == ("words",)
            assert store.counts()["pending"] == 1
        assert "the weights are not here" in keeper.status().message
    finally:
        keeper.stop()
