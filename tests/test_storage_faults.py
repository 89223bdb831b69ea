"""Every storage fault fed to every command: a damaged library (its header, or a page in the
middle), a file that is not a library (random bytes, another program's database, an empty file),
a library too new, a library path that is a file, a lock path that is a folder, a library being
written by another process, a full disk and a read-only disk. Each command either works (a
read-only library can be searched) or says so in one line naming the file, never a traceback.

The real `main` in this process with the fake model (as test_cli_forgives has it), real library
files damaged byte by byte, real tmpfs mounts made full or read-only (skipped where mounting is
refused), a few real `python -m mediafind` processes, and the real window."""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import apsw
import numpy as np
import pytest
from conftest import SharedFakeSource, fake_model_cli, run_cli, save_shape, small_folder
from gui_support import WindowMaker, open_fake_window
from pytestqt.qtbot import QtBot

from mediafind import roots_rows
from mediafind.cli import main
from mediafind.errors import DiskFull, LibraryDamaged, NotALibrary
from mediafind.nearest import SUFFIX
from mediafind.rows import ModelInfo, NewChunk
from mediafind.store import Store
from mediafind.writelock import WriterLock

__all__ = ["open_fake_window"]  # fixture

pytestmark = pytest.mark.timeout(120)

LIBRARY_FILE = "library.sqlite3"


@pytest.fixture(autouse=True)
def _fake_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with fake_model_cli(monkeypatch):
        yield


cli = run_cli


def build(where: Path) -> tuple[Path, Path]:
    """(pictures, library folder): the small folder indexed, and searched once (the search
    writes the copy of the vectors beside the library)."""
    pictures = small_folder(where / "Pictures")
    library = where / "library"
    assert main(["--library", str(library), "index", str(pictures)]) == 0
    assert main(["--library", str(library), "search", "red circle"]) == 0
    assert (library / (LIBRARY_FILE + SUFFIX)).is_file()
    gc.collect()  # the commands' sessions, and their connections, closed
    return pictures, library


# -- the faults ---------------------------------------------------------------------------


def damage_header(library: Path) -> None:
    """The page size in the header becomes impossible; the header still says SQLite."""
    file = library / LIBRARY_FILE
    data = bytearray(file.read_bytes())
    data[16:24] = b"\xff" * 8
    file.write_bytes(bytes(data))


def page_of(file: Path, table: str) -> int:
    conn = apsw.Connection(str(file))
    try:
        row = conn.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf'", (table,)
        ).fetchone()
        assert row is not None
        return int(row[0])
    finally:
        conn.close()


def damage_page(library: Path) -> None:
    """A page in the middle, the leaf of the files table, overwritten with noise."""
    file = library / LIBRARY_FILE
    page = page_of(file, "files")
    data = bytearray(file.read_bytes())
    size = 4096
    data[(page - 1) * size : page * size] = np.random.default_rng(1).bytes(size)
    file.write_bytes(bytes(data))


def random_bytes(library: Path) -> None:
    (library / LIBRARY_FILE).write_bytes(np.random.default_rng(2).bytes(8192))


def foreign_database(library: Path) -> None:
    file = library / LIBRARY_FILE
    for part in library.glob(LIBRARY_FILE + "*"):
        part.unlink()
    conn = apsw.Connection(str(file))
    conn.execute("CREATE TABLE recipes(name TEXT); INSERT INTO recipes VALUES ('soup')")
    conn.close()


def empty_file(library: Path) -> None:
    (library / LIBRARY_FILE).write_bytes(b"")


def too_new(library: Path) -> None:
    conn = apsw.Connection(str(library / LIBRARY_FILE))
    conn.pragma("user_version", 99)
    conn.close()


def lock_is_a_folder(library: Path) -> None:
    lock = library / (LIBRARY_FILE + ".lock")
    lock.unlink(missing_ok=True)
    lock.mkdir()


COMMANDS: dict[str, list[str]] = {
    "status": ["status"],
    "search": ["search", "red circle"],
    "folders list": ["folders", "list"],
    "folders add": ["folders", "add", "{new}"],
    "folders remove": ["folders", "remove", "{pictures}"],
    "index": ["index"],
    "watch": ["watch"],
    "models": ["models"],
}
READERS = ("status", "search", "folders list", "models")
WRITERS = ("folders add", "folders remove", "index", "watch")
ALL = READERS + WRITERS

# fault -> (what it does to the library folder, the commands that must fail, their exit
# code, what their line says). The other commands must work.
Fault = tuple[Callable[[Path], None], tuple[str, ...], int, str]
FAULTS: dict[str, Fault] = {
    "damaged header": (damage_header, ALL, 1,
                       "is damaged (file is not a database); run `mediafind doctor` to check "
                       "and repair it"),
    "random bytes": (random_bytes, ALL, 2,
                     "is not a mediafind library (file is not a database); if it was one, "
                     "`mediafind doctor` can move it aside"),
    "another program's database": (foreign_database, ALL, 2,
                                   "is not a mediafind library (a database without "
                                   "mediafind's tables)"),
    "empty file": (empty_file, ALL, 2, "is not a mediafind library (empty file)"),
    "too new": (too_new, ALL, 2, "was written by a newer mediafind (schema 99"),
    "lock is a folder": (lock_is_a_folder, ("folders add", "folders remove", "index", "watch"),
                         2, "is a folder, not mediafind's lock file; move it aside"),
}  # fmt: skip


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path]:
    return build(tmp_path)


def run_all(
    capsys: pytest.CaptureFixture[str],
    pictures: Path,
    library: Path,
    fault: Callable[[Path], None],
    commands: tuple[str, ...] = ALL,
) -> dict[str, tuple[int, str, str]]:
    """Each command on a fresh copy of the library with the fault done to it."""
    pristine = library.with_name(library.name + "-pristine")
    if not pristine.exists():
        shutil.copytree(library, pristine)
    new = pictures.parent / "More"
    new.mkdir(exist_ok=True)
    answers = {}
    for name in commands:
        shutil.rmtree(library)
        shutil.copytree(pristine, library)
        fault(library)
        args = [a.format(new=new, pictures=pictures) for a in COMMANDS[name]]
        answers[name] = cli(capsys, "--library", str(library), *args)
    return answers


def assert_one_line(err: str, file: Path, says: str) -> None:
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    assert err.startswith("mediafind: ")
    assert str(file) in err
    assert says in err


@pytest.mark.parametrize("name", list(FAULTS))
def test_each_fault_is_one_line_from_each_command_and_the_rest_work(
    built: tuple[Path, Path], capsys: pytest.CaptureFixture[str], name: str
) -> None:
    fault, failing, code, says = FAULTS[name]
    pictures, library = built
    before: dict[str, bytes] = {}

    def damage(lib: Path) -> None:
        fault(lib)
        before["file"] = (lib / LIBRARY_FILE).read_bytes()

    for command, (got, out, err) in run_all(capsys, pictures, library, damage).items():
        if command in failing:
            assert got == code, (command, out, err)
            named = library / LIBRARY_FILE
            if name == "lock is a folder":
                named = library / (LIBRARY_FILE + ".lock")
            assert_one_line(err, named, says)
            # What is not a library is left exactly as it was: nothing is added to it.
            assert (library / LIBRARY_FILE).read_bytes() == before["file"], command
        else:
            assert got == 0, (command, out, err)
            assert "Traceback" not in err


def test_a_damaged_page_in_the_middle_fails_search_and_index_in_one_line(
    built: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pictures, library = built
    answers = run_all(capsys, pictures, library, damage_page)
    for command in ("search", "index", "watch", "folders remove"):
        code, _, err = answers[command]
        assert code == 1, (command, err)
        assert_one_line(err, library / LIBRARY_FILE, "is damaged (database disk image is "
                        "malformed); run `mediafind doctor` to check and repair it")  # fmt: skip
    for command, (code, _, err) in answers.items():
        assert "Traceback" not in err, command
        assert code in (0, 1), command
        if code:
            assert_one_line(err, library / LIBRARY_FILE, "is damaged")


def test_a_library_path_that_is_a_file_is_one_line_from_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "holiday.jpg"
    file.write_bytes(b"\xff\xd8 not really")
    for command in ALL:
        args = [a.format(new=tmp_path, pictures=tmp_path) for a in COMMANDS[command]]
        code, _out, err = cli(capsys, "--library", str(file), *args)
        if command == "models":
            assert code == 0  # it names no library's state but its own: "no library at"
            continue
        assert code == 2, command
        assert_one_line(err, file, "is a file, not a library folder")


def test_a_library_being_written_by_another_process_is_searched_and_the_writers_wait(
    built: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pictures, library = built
    other = WriterLock(library / LIBRARY_FILE)
    other.acquire()
    try:
        for command in ALL:
            args = [a.format(new=pictures.parent, pictures=pictures) for a in COMMANDS[command]]
            code, _out, err = cli(capsys, "--library", str(library), *args)
            if command in READERS:
                assert (code, "Traceback" in err) == (0, False), (command, err)
            else:
                assert code == 1, command
                assert_one_line(err, library / LIBRARY_FILE, "is being written by another "
                                "mediafind process")  # fmt: skip
    finally:
        other.release()


# -- a full disk --------------------------------------------------------------------------


def test_a_full_disk_raises_the_first_error_not_a_failed_rollback(tmp_path: Path) -> None:
    """SQLite rolls the whole transaction back when the disk is full: the rollback that
    follows fails, and must not hide why (here the file may grow no more: SQLITE_FULL)."""
    with Store.open(tmp_path / LIBRARY_FILE, writer=True) as store:
        store.set_model(ModelInfo("fake", "fake-1", 16))
        root = roots_rows.add_root(store, tmp_path)
        store.mark_pending(root.id, tmp_path / "a.md", "note", 1, 1, None)
        store.conn.pragma("max_page_count", int(store.conn.pragma("page_count")))
        file_id = store.files_under(root.id)[str(tmp_path / "a.md")].id
        big = [NewChunk("text", "words " * 4000, 0, 1, bytes(64)) for _ in range(20)]
        # The indexer's batch: save_indexed nests inside it.
        with pytest.raises(DiskFull) as raised, store.atomic():
            store.save_indexed(file_id, content_hash="h", size=1, mtime_ns=1, chunks=big)
        message = str(raised.value)
        assert message.startswith(f"the disk holding {tmp_path / LIBRARY_FILE} is full (")
        assert message.endswith("MB free); free some space and try again")
        assert isinstance(raised.value.__cause__, apsw.FullError)
        # Nothing half-written, and the library goes on.
        assert store.conn.getautocommit()
        assert store.pending_count() == 1
        store.conn.pragma("max_page_count", 1 << 30)
        store.save_indexed(file_id, content_hash="h", size=1, mtime_ns=1, chunks=big[:1])
        assert store.pending_count() == 0


@contextlib.contextmanager
def tmpfs(where: Path, megabytes: int) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(where)],
        capture_output=True,
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path, leave: int = 0) -> None:
    """Fill the disk until only leave bytes are free (or none)."""
    with open(disk / "filler", "wb") as f:
        try:
            while shutil.disk_usage(disk).free > leave:
                f.write(b"\0" * min(1 << 20, max(4096, shutil.disk_usage(disk).free - leave)))
                f.flush()
        except OSError:
            pass


def test_on_a_full_disk_writers_say_so_in_one_line_and_readers_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with tmpfs(tmp_path / "disk", 40) as disk:
        pictures, library = build(disk)
        save_shape(pictures / "holiday" / "green triangle.png", "green", "triangle", seed=3)
        fill(disk)
        new = tmp_path / "More"
        new.mkdir()
        for command in ALL:
            args = [a.format(new=new, pictures=pictures) for a in COMMANDS[command]]
            code, out, err = cli(capsys, "--library", str(library), *args)
            if command in READERS:
                assert (code, err) == (0, ""), command
                continue
            assert code == 1, (command, out, err)
            assert_one_line(err, library / LIBRARY_FILE, "is full (0 MB free); free some space "
                            "and try again")  # fmt: skip
        assert "red circle.png" in cli(capsys, "--library", str(library), "search", "red")[1]


def test_a_second_index_on_a_nearly_full_disk_fails_before_embedding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with tmpfs(tmp_path / "disk", 40) as disk:
        pictures, library = build(disk)
        for k in range(5):
            save_shape(pictures / "new" / f"green-{k}.png", "green", "triangle", seed=k)
        fill(disk, leave=2 << 20)
        encoded = SharedFakeSource.encoder.images_encoded
        started = time.monotonic()
        code, _, err = cli(capsys, "--library", str(library), "index")
        assert code == 1
        assert_one_line(err, library / LIBRARY_FILE, "is full (")
        assert time.monotonic() - started < 5
        assert SharedFakeSource.encoder.images_encoded == encoded  # nothing embedded in vain


# -- a read-only disk ---------------------------------------------------------------------


@contextlib.contextmanager
def read_only(disk: Path) -> Iterator[None]:
    gc.collect()  # the connections of the commands run before, closed
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    try:
        yield
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=False)


@pytest.mark.parametrize("copy", ["with its vector copy", "without"])
def test_a_library_on_a_read_only_disk_is_searched_and_writers_say_why_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], copy: str
) -> None:
    with tmpfs(tmp_path / "disk", 40) as disk:
        pictures, library = build(disk)
        if copy == "without":
            (library / (LIBRARY_FILE + SUFFIX)).unlink()
        new = tmp_path / "More"
        new.mkdir()
        with read_only(disk):
            listing = sorted(p.name for p in library.iterdir())
            code, out, err = cli(capsys, "--library", str(library), "search", "red circle")
            assert (code, err) == (0, "")
            assert out.splitlines()[0].endswith("red circle.png  [image]") or "red circle" in out
            code, out, err = cli(capsys, "--library", str(library), "status")
            assert (code, err) == (0, "")
            assert "3 could not be read" not in out and "indexed   2 photos, 1 notes" in out
            for command in WRITERS:
                args = [a.format(new=new, pictures=pictures) for a in COMMANDS[command]]
                code, out, err = cli(capsys, "--library", str(library), *args)
                assert code == 1, (command, out, err)
                assert_one_line(
                    err,
                    library / LIBRARY_FILE,
                    "is on a read-only disk or folder "
                    "(read-only file system): it can be searched but not changed",
                )
            assert sorted(p.name for p in library.iterdir()) == listing  # nothing written


# -- the vector copy ----------------------------------------------------------------------


@pytest.mark.parametrize("how", ["cut short", "grown", "ids changed"])
def test_a_damaged_vector_copy_is_not_used_and_the_search_is_still_right(
    built: tuple[Path, Path], capsys: pytest.CaptureFixture[str], how: str
) -> None:
    _pictures, library = built
    copy = library / (LIBRARY_FILE + SUFFIX)
    right = cli(capsys, "--library", str(library), "search", "red circle", "--json")[1]
    data = bytearray(copy.read_bytes())
    if how == "cut short":
        data = data[: len(data) - 4096]
    elif how == "grown":
        data += b"\0" * 4096
    else:  # the first section's ids, just after the header, made to name other chunks
        data[4096:4112] = np.array([77, 78], dtype="<i8").tobytes()
    copy.write_bytes(bytes(data))
    code, out, err = cli(capsys, "--library", str(library), "search", "red circle", "--json")
    assert (code, err) == (0, "")
    assert out == right
    from mediafind.vectorfile import Unusable, VectorFile

    if copy.read_bytes() == bytes(data):  # not written anew: it was read read-only
        with pytest.raises(Unusable):
            VectorFile(copy)


# -- real processes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "command", "code", "says"),
    [
        (damage_header, ["status"], 1, "is damaged"),
        (damage_page, ["index"], 1, "is damaged (database disk image is malformed)"),
        (empty_file, ["folders", "list"], 2, "is not a mediafind library (empty file)"),
    ],
)
def test_a_real_process_says_the_fault_in_one_line(
    built: tuple[Path, Path],
    tmp_path: Path,
    fault: Callable[[Path], None],
    command: list[str],
    code: int,
    says: str,
) -> None:
    _, library = built
    fault(library)
    env = {**os.environ, "MEDIAFIND_MODEL": "local-dir:/nowhere"}
    done = subprocess.run(
        [sys.executable, "-m", "mediafind", "--library", str(library), *command],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == code, done.stderr
    assert_one_line(done.stderr, library / LIBRARY_FILE, says)


# -- the store, directly ------------------------------------------------------------------


def test_a_new_library_is_never_an_empty_file_and_an_empty_file_is_refused(
    tmp_path: Path,
) -> None:
    file = tmp_path / LIBRARY_FILE
    with Store.open(file, writer=True) as store:
        assert roots_rows.roots(store) == []
    assert file.stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [LIBRARY_FILE, LIBRARY_FILE + ".lock"]
    file.write_bytes(b"")
    with pytest.raises(NotALibrary):
        Store.open(file)
    assert file.read_bytes() == b""


def test_a_damaged_page_met_by_a_query_is_raised_as_a_damaged_library(
    built: tuple[Path, Path],
) -> None:
    _, library = built
    damage_page(library)
    with Store.open(library / LIBRARY_FILE) as store, pytest.raises(LibraryDamaged) as raised:
        store.files_under(roots_rows.roots(store)[0].id)
    assert isinstance(raised.value.__cause__, apsw.CorruptError)


# -- the window ---------------------------------------------------------------------------


def test_the_window_on_a_damaged_library_says_so_in_its_words_and_goes_on(
    built: tuple[Path, Path], qtbot: QtBot, open_fake_window: WindowMaker
) -> None:
    _, library = built
    damage_header(library)
    window = open_fake_window(library)
    banner = window.library_banner
    qtbot.waitUntil(banner.isVisible, timeout=10_000)
    said = banner.text.text()
    assert f"{library / LIBRARY_FILE} is damaged (file is not a database)" in said
    assert "use Help → Check Library to check and repair it" in said
    assert "mediafind doctor" not in said and "Traceback" not in said
    qtbot.keyClicks(window.search_field, "red")  # searching a damaged library: no crash
    qtbot.wait(500)
    assert window.isVisible()
