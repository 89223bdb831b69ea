"""Real processes: killed in the middle of indexing, interrupted while watching; killed -9 at
chosen moments of `index` and `watch`, and a `watch` under a storm of changes, each followed by
every invariant of tests/invariants.py (`make soak` runs many more rounds: tests/soak.py)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import apsw
import invariants
import library
import pytest
import rounds
from conftest import TINY_SPEC, FakeEncoder, save_shape, small_folder

from mediafind import roots_rows, scan
from mediafind.indexer import Indexer, Outcome
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
        roots_rows.add_root(store, root)
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


# -- the invariant checker finds what it is there to find -------------------------------------


def _damage(library_file: Path, sql: str) -> None:
    """Change the library behind the store's back (no foreign keys, no triggers of its own)."""
    conn = apsw.Connection(str(library_file))
    conn.enable_load_extension(True)
    import sqlite_vec

    conn.load_extension(sqlite_vec.loadable_path())
    conn.execute(sql)
    conn.close()


DAMAGE = {
    "a photo's vector gone": (
        "DELETE FROM vectors WHERE chunk_id = (SELECT min(id) FROM chunks WHERE source = 'image')",
        "chunks have their vectors",
    ),
    "a note's chunks gone": (
        "DELETE FROM chunks WHERE source = 'text'",
        "files have their chunks",
    ),
    "a chunk of no file": (
        "INSERT INTO chunks(file_id, seq, source, text) VALUES (999, 0, 'text', 'lost words')",
        "no orphan chunks",
    ),
    "a file left pending": ("UPDATE files SET status = 'pending'", "nothing pending"),
    "a keyword entry gone": (
        "INSERT INTO chunks_fts(chunks_fts, rowid, text) SELECT 'delete', id, text FROM chunks "
        "WHERE text IS NOT NULL",
        "keyword index agrees with the chunks",
    ),
    "a content's duplicate links gone": (
        "DELETE FROM picture_bands",
        "duplicate links agree with the hashes",
    ),
    "a duplicate link the hashes do not make": (
        "INSERT INTO picture_pairs(a, b, bits) SELECT min(hash), max(hash), 65 FROM picture_hashes",
        "duplicate links agree with the hashes",
    ),
    "a vector changed behind the log": (
        "UPDATE vectors SET embedding = (SELECT embedding FROM vectors WHERE chunk_id = "
        "(SELECT max(id) FROM chunks)) WHERE chunk_id = (SELECT min(id) FROM chunks)",
        "vector",
    ),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_the_invariant_checker_finds_each_kind_of_damage(tmp_path: Path, damage: str) -> None:
    folder = small_folder(tmp_path / "photos")
    clean = invariants.clean_index(folder, tmp_path / "clean" / "library.sqlite3")
    library_file = invariants.clean_index(folder, tmp_path / "lib" / "library.sqlite3")
    assert invariants.check(library_file, clean=clean) == []  # and the copy of vectors made
    sql, broken = DAMAGE[damage]
    _damage(library_file, sql)
    found = invariants.check(library_file, clean=clean)
    assert any(f.startswith(broken) for f in found), found


def test_the_library_differs_from_a_clean_index_of_a_folder_changed_since(tmp_path: Path) -> None:
    folder = small_folder(tmp_path / "photos")
    library_file = invariants.clean_index(folder, tmp_path / "lib" / "library.sqlite3")
    (folder / "notes" / "garden.md").write_text("# Garden\n\nThe pond is dry.\n")
    save_shape(folder / "holiday" / "green.png", "green", "circle", 3)
    clean = invariants.clean_index(folder, tmp_path / "clean" / "library.sqlite3")
    found = invariants.differences(library_file, clean)
    assert any("green.png is missing" in f for f in found), found
    assert any("garden.md has other chunks" in f for f in found), found


# -- kill -9 at chosen moments, and a storm under watch -------------------------------------


@pytest.fixture(scope="module")
def realistic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A realistic folder (photos with captions, notes, a PDF, broken files) and a clean index
    of it with the fake model."""
    work = tmp_path_factory.mktemp("realistic")
    folder = work / "photos"
    library.build(folder)
    return folder, invariants.clean_index(folder, work / "clean" / "library.sqlite3")


@pytest.mark.parametrize("point", rounds.KILL_POINTS)
def test_a_library_killed_9_at_any_moment_becomes_a_clean_index_after_the_next_run(
    tmp_path: Path, realistic: tuple[Path, Path], point: str
) -> None:
    folder, clean = realistic
    mediafind = rounds.Mediafind(rounds.fake_model(), tmp_path / "lib")
    seed = rounds.KILL_POINTS.index(point)
    outcome = rounds.kill_round(point, mediafind, folder, clean, point, random.Random(seed))
    assert outcome.survived, "\n".join(outcome.steps + outcome.violations)
    assert any(step.startswith("killed -9") for step in outcome.steps), outcome.steps


def test_watch_under_a_storm_of_changes_ends_equal_to_a_clean_index(
    tmp_path: Path, realistic: tuple[Path, Path]
) -> None:
    folder = tmp_path / "photos"
    shutil.copytree(realistic[0], folder)
    mediafind = rounds.Mediafind(rounds.fake_model(), tmp_path / "lib")
    outcome = rounds.storm_round("storm", mediafind, folder, tmp_path, random.Random(3))
    assert outcome.survived, "\n".join(outcome.steps + outcome.violations)
    assert outcome.checks == len(invariants.checked(complete=True, against_clean=True))


def test_a_caption_written_while_its_photo_waits_goes_when_it_is_deleted(tmp_path: Path) -> None:
    """Found by make soak: the indexer reads a photo's captions when it embeds it; the row must
    keep the signature of the captions it read, not the scan's before, or a caption written in
    between, then deleted while no watcher saw it (a killed watch), stays searchable."""
    root, library_file = tmp_path / "photos", tmp_path / "lib" / "library.sqlite3"
    save_shape(root / "a.png", "red", "circle", 1)
    sidecar = root / "a.png.txt"
    with Store.open(library_file, writer=True) as store:
        roots_rows.add_root(store, root)
        scan.reconcile(store)  # the photo recorded, no caption beside it yet
        sidecar.write_text("a caption written meanwhile\n")
        Indexer(store, FakeEncoder, "fake-1").embed_pending(Outcome())  # reads the caption
        sidecar.unlink()
        sync(Indexer(store, FakeEncoder, "fake-1"))
    clean = invariants.clean_index(root, tmp_path / "clean" / "library.sqlite3")
    assert invariants.differences(library_file, clean) == []
