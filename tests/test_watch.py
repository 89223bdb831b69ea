"""The watcher alone: real watchdog observers, debounced change sets, fallbacks."""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mediafind import watch
from mediafind.watch import ChangeSet, Watcher


class Collector:
    def __init__(self) -> None:
        self.sets: list[ChangeSet] = []
        self.lock = threading.Lock()

    def __call__(self, changes: ChangeSet) -> None:
        with self.lock:
            self.sets.append(changes)

    def paths(self) -> set[Path]:
        with self.lock:
            return {p for c in self.sets for ps in c.paths.values() for p in ps}

    def rescans(self) -> set[Path]:
        with self.lock:
            return {r for c in self.sets for r in c.rescan}


def wait_for(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture
def collector() -> Collector:
    return Collector()


@pytest.fixture
def watcher(collector: Collector) -> Iterator[Watcher]:
    w = Watcher(collector, quiet=0.3, max_delay=1.0)
    w.start()
    yield w
    w.stop()


def test_a_burst_of_writes_to_one_file_becomes_one_change_after_the_quiet_period(
    watcher: Watcher, collector: Collector, tmp_path: Path
) -> None:
    assert watcher.watch(tmp_path) == watch.LIVE
    target = tmp_path / "note.txt"
    for i in range(20):
        target.write_text(f"version {i}")
        time.sleep(0.01)
    wait_for(lambda: target in collector.paths())
    time.sleep(0.5)
    assert sum(target in ps for c in collector.sets for ps in c.paths.values()) == 1


def test_a_steady_stream_still_flushes_after_the_maximum_delay(
    watcher: Watcher, collector: Collector, tmp_path: Path
) -> None:
    watcher.watch(tmp_path)
    target = tmp_path / "growing.txt"
    started = time.monotonic()
    with open(target, "w") as f:
        while target not in collector.paths():
            f.write("more\n")
            f.flush()
            time.sleep(0.05)
            assert time.monotonic() - started < 5
    assert time.monotonic() - started < 2.0  # max_delay is 1 s; never waits for quiet


def test_moves_name_both_ends(watcher: Watcher, collector: Collector, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.jpg").write_bytes(b"x")
    watcher.watch(tmp_path)
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.jpg").rename(tmp_path / "b" / "y.jpg")
    wait_for(lambda: {tmp_path / "a" / "x.jpg", tmp_path / "b" / "y.jpg"} <= collector.paths())


def test_network_drives_are_polled(
    watcher: Watcher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watch, "filesystem_type", lambda path: "nfs4")
    assert watch.needs_polling(tmp_path)
    assert watcher.watch(tmp_path) == watch.POLLING
    assert watcher.states()[tmp_path] == (watch.POLLING, "network or removable drive")
    monkeypatch.setattr(watch, "filesystem_type", lambda path: "ext4")
    assert not watch.needs_polling(tmp_path)
    assert watcher.watch(tmp_path, polling=True) == watch.POLLING  # the user's override


def test_local_filesystem_type_is_read_from_the_mount_table(tmp_path: Path) -> None:
    kind = watch.filesystem_type(tmp_path)
    assert kind is not None and kind not in watch.REMOTE_FILESYSTEMS


def test_watch_limit_reached_falls_back_to_polling_and_asks_for_a_rescan(
    watcher: Watcher, collector: Collector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(watch.Observer, "schedule", full)
    assert watcher.watch(tmp_path) == watch.POLLING
    assert "limit" in watcher.states()[tmp_path][1]
    wait_for(lambda: tmp_path in collector.rescans())


def test_an_observer_that_dies_is_replaced_by_polling_and_a_rescan(
    collector: Collector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watch, "HEALTH_CHECK_SECONDS", 0.1)
    w = Watcher(collector, quiet=0.2)
    w.start()
    try:
        assert w.watch(tmp_path) == watch.LIVE
        observer = w._watched[tmp_path].observer
        assert observer is not None
        observer.stop()
        observer.join()
        wait_for(lambda: w.states()[tmp_path][0] == watch.POLLING)
        wait_for(lambda: tmp_path in collector.rescans())
    finally:
        w.stop()


def test_a_missing_folder_is_offline_until_it_returns(
    collector: Collector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watch, "HEALTH_CHECK_SECONDS", 0.1)
    folder = tmp_path / "drive"
    w = Watcher(collector, quiet=0.2)
    w.start()
    try:
        assert w.watch(folder) == watch.OFFLINE
        folder.mkdir()
        wait_for(lambda: w.states()[folder][0] == watch.LIVE)
        wait_for(lambda: folder in collector.rescans())
    finally:
        w.stop()


def test_queue_overflow_switches_that_folder_to_polling_and_rescans_it(
    watcher: Watcher, collector: Collector, tmp_path: Path
) -> None:
    import logging

    hit, calm = tmp_path / "hit", tmp_path / "calm"
    hit.mkdir()
    calm.mkdir()
    watcher.watch(hit)
    watcher.watch(calm)
    # What watchdog logs when the kernel's inotify queue overflows under a watched folder.
    logging.getLogger("watchdog.observers.inotify").warning(
        "Inotify queue overflowed; reconciling recursive watches below %r", str(hit)
    )
    wait_for(lambda: hit in collector.rescans())
    assert watcher.states()[hit] == (watch.POLLING, "change events were lost (queue overflow)")
    assert watcher.states()[calm][0] == watch.LIVE
