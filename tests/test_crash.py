"""Real processes: killed in the middle of indexing, interrupted while watching."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from conftest import TINY_SPEC, FakeEncoder, save_shape

from mediafind.indexer import Indexer
from mediafind.keeper import sync
from mediafind.store import Store

TESTS = Path(__file__).parent

# A separate process indexing with a slow fake encoder, so that it is surely mid-way when killed.
INDEXING_CHILD = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {tests!r})
    from pathlib import Path
    from conftest import FakeEncoder
    from mediafind.indexer import Indexer
    from mediafind.keeper import sync
    from mediafind.store import Store

    class Slow(FakeEncoder):
        def encode_images(self, images):
            time.sleep(0.05 * len(images))
            return super().encode_images(images)

    with Store.open(Path({library!r}), writer=True) as store:
        sync(Indexer(store, Slow, "fake-1"))
    """
)


def test_kill_9_mid_indexing_loses_nothing_committed_and_resumes(tmp_path: Path) -> None:
    root, library = tmp_path / "photos", tmp_path / "lib" / "library.sqlite3"
    for i in range(150):
        save_shape(root / f"{i:03}.png", ("red", "blue")[i % 2], "circle", i)
    with Store.open(library, writer=True) as store:
        store.add_root(root)
    child = subprocess.Popen(
        [sys.executable, "-c", INDEXING_CHILD.format(tests=str(TESTS), library=str(library))]
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with Store.open(library) as reader:
                if reader.counts()["photo"] >= 40:
                    break
            assert child.poll() is None, "the child finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    with Store.open(library, writer=True) as store:  # the dead writer's lock is gone
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        counts = store.counts()
        committed = counts["photo"]
        assert 40 <= committed < 150
        assert counts["pending"] == 150 - committed
        # Nothing half-written: every indexed photo has its vector, and only those.
        assert store.vector_count() == committed
        encoder = FakeEncoder()
        outcome = sync(Indexer(store, lambda: encoder, "fake-1"))
        assert outcome.indexed == 150 - committed
        assert encoder.images_encoded == 150 - committed
        assert store.counts()["photo"] == 150


def test_watch_command_stops_cleanly_within_a_second_on_ctrl_c(tmp_path: Path) -> None:
    root, library = tmp_path / "photos", tmp_path / "lib"
    save_shape(root / "a.png", "red", "circle", 1)
    env = {**os.environ, "MEDIAFIND_LIBRARY": str(library)}
    base = [sys.executable, "-m", "mediafind", "--model", TINY_SPEC]
    subprocess.run([*base, "folders", "add", str(root)], env=env, check=True, capture_output=True)
    watcher = subprocess.Popen(
        [*base, "watch"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with Store.open(library / "library.sqlite3") as reader:
                if reader.counts()["photo"] == 1:
                    break
            assert watcher.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        started = time.monotonic()
        watcher.send_signal(signal.SIGINT)
        out, err = watcher.communicate(timeout=10)
        assert time.monotonic() - started < 1.5
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 0, err
    assert "watching" in out and "stopping" in err
    with Store.open(library / "library.sqlite3", writer=True) as store:
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
