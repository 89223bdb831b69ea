"""Rounds of abuse for the reliability suite (tests/test_crash.py, and tests/soak.py for
`make soak`): a real `mediafind index` or `watch` process killed with SIGKILL at a chosen
moment, or a `watch` under a storm of file changes; then `index` to completion, and every
invariant of tests/invariants.py checked, the library compared with a clean index.

A round returns what it did and what it found; it raises nothing on a broken invariant, so that
the soak can count and go on (the tests assert that nothing was found).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import apsw
import invariants
from conftest import TINY_MODEL, TINY_SPEC, save_shape

from mediafind.config import LIBRARY_FILE

TESTS = Path(__file__).parent

# Where a kill lands. "random": after a random delay within a whole run's time; "scan": while
# the first scan is being written (the folder recorded, no file yet); "batch": between commits,
# after a random number of files were indexed, while the encoder works on the next batch;
# "commit": the moment the write-ahead log grows while files are being indexed (a batch's
# transaction being written); "watch": a `watch` process, at a random moment after it started.
KILL_POINTS = ("random", "scan", "batch", "commit", "watch")
# How long any one process of a round may take before the round counts as hung.
PROCESS_SECONDS = 120.0
# How long a `watch` may take to catch up once the storm is over.
SETTLE_SECONDS = 60.0


@dataclass(frozen=True)
class Model:
    """How a round runs mediafind: the command line, and how to make a clean index alike."""

    name: str
    command: tuple[str, ...]
    env: dict[str, str]
    clean: Callable[[Path, Path], Path]


def fake_model(slow: float = 0.01) -> Model:
    """The real command line with conftest's FakeEncoder, slow seconds per picture."""
    return Model(
        "fake",
        (sys.executable, str(TESTS / "fakecli.py")),
        {"MEDIAFIND_FAKE_SLOW": str(slow)},
        lambda folder, library: invariants.clean_index(folder, library),
    )


def tiny_model() -> Model:
    """`python -m mediafind --model local-dir:…/tiny-clip`: the real model loader too."""

    def clean(folder: Path, library: Path) -> Path:
        from mediafind.embed import OpenClipEncoder, parse_spec, spec_identity

        spec = parse_spec(TINY_SPEC)
        return invariants.clean_index(
            folder, library, lambda: OpenClipEncoder(spec, "cpu"), spec_identity(spec)
        )

    assert TINY_MODEL.is_dir()
    return Model(
        "tiny",
        (sys.executable, "-m", "mediafind", "--model", TINY_SPEC),
        {"HF_HUB_OFFLINE": "1"},
        clean,
    )


@dataclass
class Outcome:
    """What a round did (one line per step) and the invariants it found broken."""

    name: str
    steps: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    checks: int = 0  # invariant checks made (each of every invariant)

    @property
    def survived(self) -> bool:
        return not self.violations


class Mediafind:
    """One library driven through the command line of a model, in subprocesses."""

    def __init__(self, model: Model, library_dir: Path) -> None:
        self.model = model
        self.dir = library_dir
        self.file = library_dir / LIBRARY_FILE
        self.env = {**os.environ, **model.env, "PYTHONPATH": _python_path()}

    def argv(self, *args: str) -> list[str]:
        return [*self.model.command, "--library", str(self.dir), *args]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=PROCESS_SECONDS,
            check=False,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(*args),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def index(self, outcome: Outcome, *folders: Path) -> None:
        """`index` to completion: exit 0, or 1 when all it had left were unreadable files."""
        started = time.monotonic()
        done = self.run("index", *map(str, folders))
        said = done.stdout.strip().splitlines()[-1:] or [done.stderr.strip()]
        outcome.steps.append(
            f"index ran to the end in {time.monotonic() - started:.1f} s: {said[0]}"
        )
        if done.returncode not in (0, 1) or "Indexed" not in done.stdout:
            outcome.violations.append(f"index exited {done.returncode}: {done.stderr.strip()}")


def _python_path() -> str:
    here = str(TESTS.parent)
    inherited = os.environ.get("PYTHONPATH")
    return f"{here}{os.pathsep}{inherited}" if inherited else here


class _Reader:
    """Peeks at a library being written, as often as a kill needs: its committed file counts
    and the size of its write-ahead log."""

    def __init__(self, library: Path) -> None:
        self.library = library
        self.wal = library.with_name(library.name + "-wal")
        self._conn: apsw.Connection | None = None

    def wal_size(self) -> int:
        try:
            return self.wal.stat().st_size
        except FileNotFoundError:
            return 0

    def counts(self) -> tuple[int, int, int]:
        """(roots, files, indexed files) committed so far; zeros before the tables are."""
        try:
            if self._conn is None:
                if not self.library.exists():
                    return (0, 0, 0)
                self._conn = apsw.Connection(str(self.library), flags=apsw.SQLITE_OPEN_READONLY)
                self._conn.set_busy_timeout(1000)
            row = self._conn.execute(
                "SELECT (SELECT count(*) FROM roots), (SELECT count(*) FROM files), "
                "(SELECT count(*) FROM files WHERE status = 'indexed')"
            ).fetchone()
            assert row is not None
            return (int(row[0]), int(row[1]), int(row[2]))
        except apsw.Error:
            return (0, 0, 0)  # not created yet, or between schema steps

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def _kill_when(
    child: subprocess.Popen[str], reader: _Reader, point: str, rng: random.Random, span: float
) -> str:
    """Kill child at the point asked for; what it had done by then, in words."""
    started = time.monotonic()
    deadline = started + PROCESS_SECONDS
    target = reader.counts()[2] + rng.randint(1, 60)  # more than a run before this one did
    growths = rng.randint(1, 4)
    delay = rng.uniform(0.0, span)
    last_wal, ready = reader.wal_size(), False
    while child.poll() is None and time.monotonic() < deadline:
        now = time.monotonic()
        if point in ("random", "watch"):
            if now - started >= delay:
                break
            time.sleep(0.005)
            continue
        roots, files, indexed = reader.counts()
        if point == "scan" and roots and not files:
            time.sleep(rng.uniform(0, 0.005))
            break
        if point == "batch" and indexed >= target:
            time.sleep(rng.uniform(0, 0.05))
            break
        if point == "commit":
            wal = reader.wal_size()
            ready = ready or indexed > 0
            if ready and wal != last_wal:
                growths -= 1
                if growths == 0:
                    break
            last_wal = wal
            time.sleep(0.0005)
            continue
        time.sleep(0.002)
    at = time.monotonic() - started
    if child.poll() is not None:
        return f"it had finished (exit {child.returncode}) after {at:.2f} s, before the kill"
    child.send_signal(signal.SIGKILL)
    child.wait()
    roots, files, indexed = reader.counts()
    return (
        f"killed -9 after {at:.2f} s ({point}): {files} files recorded, {indexed} indexed, "
        f"WAL {reader.wal_size() // 1024} KiB"
    )


def kill_round(
    name: str,
    mediafind: Mediafind,
    folder: Path,
    clean: Path,
    point: str,
    rng: random.Random,
    span: float = 2.0,
    kills: int = 1,
) -> Outcome:
    """Start `index FOLDER` (or, for point "watch", `watch` on the library holding folder),
    kill it -9 at point, check the crash-safe invariants, again kills times, then `index` to the
    end and check them all, the library against clean (a clean index of folder)."""
    outcome = Outcome(name)
    reader = _Reader(mediafind.file)
    try:
        for kill in range(kills):
            if point == "watch":
                if kill == 0:
                    mediafind.run("folders", "add", str(folder))
                child = mediafind.start("watch")
            else:
                child = mediafind.start("index", str(folder))
            try:
                outcome.steps.append(_kill_when(child, reader, point, rng, span))
            finally:
                if child.poll() is None:
                    child.kill()
                _, err = child.communicate()
            if child.returncode not in (0, -signal.SIGKILL):
                outcome.violations.append(f"exited {child.returncode}: {err.strip()[-300:]}")
            _check(outcome, mediafind.file, complete=False, seed=rng.randrange(1 << 30))
        mediafind.index(outcome, folder)
        _check(outcome, mediafind.file, complete=True, clean=clean, seed=rng.randrange(1 << 30))
    finally:
        reader.close()
    return outcome


def _check(
    outcome: Outcome, library: Path, *, complete: bool, clean: Path | None = None, seed: int = 0
) -> None:
    if not library.exists():
        outcome.steps.append("no library written yet: nothing to check")
        return
    found = invariants.check(library, complete=complete, clean=clean, seed=seed)
    names = invariants.checked(complete=complete, against_clean=clean is not None)
    outcome.checks += len(names)
    outcome.violations += found
    said = "all hold" if not found else f"{len(found)} broken"
    outcome.steps.append(f"checked {len(names)} invariants: {said}")


# -- a storm of changes under `watch` ---------------------------------------------------------


class Storm:
    """Changes a folder as people and programs do, in bursts: new, changed, renamed, moved,
    copied and deleted photos, notes and captions, atomic saves, folders renamed and deleted."""

    def __init__(self, root: Path, rng: random.Random) -> None:
        self.root = root
        self.rng = rng
        self.made = 0
        self.done: list[str] = []

    def files(self, *suffixes: str) -> list[Path]:
        return sorted(
            p for p in self.root.rglob("*") if p.is_file() and p.suffix.lower() in suffixes
        )

    def _new_name(self, suffix: str) -> Path:
        self.made += 1
        folders = [self.root, *sorted(p for p in self.root.rglob("*") if p.is_dir())]
        return self.rng.choice(folders) / f"storm {self.made}{suffix}"

    def burst(self, size: int) -> None:
        for _ in range(size):
            action = self.rng.choice(self.ACTIONS)
            # What it meant to change may have gone (an earlier step of the burst).
            with contextlib.suppress(FileNotFoundError, IndexError):
                action(self)

    def new_photo(self) -> None:
        save_shape(self._new_name(".png"), self.rng.choice(("red", "blue", "green")), "circle",
                   self.rng.randrange(1000))  # fmt: skip
        self.done.append("new photo")

    def new_note(self) -> None:
        words = " ".join(self.rng.choice(("garden", "pond", "train", "lunch")) for _ in range(9))
        self._new_name(".md").write_text(f"# Storm\n\n{words}\n")
        self.done.append("new note")

    def edit_note(self) -> None:
        note = self.rng.choice(self.files(".md", ".txt"))
        with note.open("a") as out:
            out.write(f"\nedited {self.rng.random()}\n")
        self.done.append("edited note")

    def atomic_save(self) -> None:
        """As editors save: a temporary file beside the target, renamed over it."""
        note = self.rng.choice(self.files(".md", ".txt"))
        temporary = note.with_name(f".{note.name}.tmp{self.rng.randrange(10**6)}")
        temporary.write_text(f"saved again {self.rng.random()}\nthe red circle by the pond\n")
        temporary.replace(note)
        self.done.append("atomic save")

    def repaint_photo(self) -> None:
        photo = self.rng.choice(self.files(".png"))
        save_shape(photo, self.rng.choice(("yellow", "green")), "square", self.rng.randrange(99))
        self.done.append("repainted photo")

    def rename(self) -> None:
        path = self.rng.choice(self.files(".png", ".jpg", ".md", ".txt", ".webp"))
        path.rename(path.with_name(f"renamed {self.rng.randrange(10**6)} {path.name}"))
        self.done.append("renamed file")

    def move(self) -> None:
        path = self.rng.choice(self.files(".png", ".jpg", ".md", ".pdf"))
        target = self.root / f"Moved {self.rng.randrange(3)}"
        target.mkdir(exist_ok=True)
        path.rename(target / f"{self.rng.randrange(10**6)} {path.name}")
        self.done.append("moved file")

    def copy(self) -> None:
        path = self.rng.choice(self.files(".png", ".jpg", ".md"))
        shutil.copy2(path, path.with_name(f"copy {self.rng.randrange(10**6)} {path.name}"))
        self.done.append("copied file")

    def delete(self) -> None:
        self.rng.choice(self.files(".png", ".jpg", ".md", ".txt", ".webp")).unlink()
        self.done.append("deleted file")

    def caption(self) -> None:
        photo = self.rng.choice(self.files(".jpg", ".png"))
        sidecar = photo.with_name(photo.name + ".txt")
        if sidecar.exists() and self.rng.random() < 0.4:
            sidecar.unlink()
            self.done.append("deleted caption")
        else:
            sidecar.write_text(f"caption {self.rng.randrange(10**6)} of a garden party\n")
            self.done.append("wrote caption")

    def rename_folder(self) -> None:
        folders = sorted(p for p in self.root.rglob("*") if p.is_dir())
        folder = self.rng.choice(folders)
        folder.rename(folder.with_name(f"{folder.name} (renamed {self.rng.randrange(10**6)})"))
        self.done.append("renamed folder")

    def delete_folder(self) -> None:
        folders = sorted(p for p in self.root.rglob("*") if p.is_dir() and p.parent != self.root)
        shutil.rmtree(self.rng.choice(folders))
        self.done.append("deleted folder")

    # Weighted by repetition: file changes are common, folder changes rare.
    ACTIONS: tuple[Callable[[Storm], None], ...] = (
        new_photo, new_photo, new_note, new_note, edit_note, edit_note, atomic_save,
        atomic_save, repaint_photo, rename, rename, move, copy, delete, delete, caption,
        caption, rename_folder, delete_folder,
    )  # fmt: skip


def storm_round(
    name: str,
    mediafind: Mediafind,
    folder: Path,
    workdir: Path,
    rng: random.Random,
    bursts: int = 6,
    end: str = "quiet",
) -> Outcome:
    """`watch` the folder (changed in place) while a storm of bursts changes it, from before
    the first index is over; then, end "quiet": wait until the watcher has caught up and stop
    it with Ctrl-C; end "kill": kill it -9 in the storm's last burst and run `index`. Then
    check every invariant, the library against a clean index of the folder as it is now."""
    outcome = Outcome(name)
    mediafind.run("folders", "add", str(folder))
    watcher = mediafind.start("watch")
    lines: list[str] = []
    errors: list[str] = []
    assert watcher.stdout is not None and watcher.stderr is not None
    readers = [
        threading.Thread(target=lines.extend, args=(watcher.stdout,), daemon=True),
        threading.Thread(target=errors.extend, args=(watcher.stderr,), daemon=True),
    ]
    for reading in readers:
        reading.start()
    storm = Storm(folder, rng)
    try:
        started = time.monotonic()
        while not any("watching" in line for line in lines):
            if watcher.poll() is not None or time.monotonic() - started > PROCESS_SECONDS:
                outcome.violations.append(f"watch did not start: {''.join(errors)[-300:]}")
                return outcome
            time.sleep(0.02)
        for burst in range(bursts):
            time.sleep(rng.uniform(0.0, 0.4))
            storm.burst(rng.randint(3, 12))
            if end == "kill" and burst == bursts - 1:
                time.sleep(rng.uniform(0.0, 1.0))
                watcher.send_signal(signal.SIGKILL)
        outcome.steps.append(f"storm of {len(storm.done)} changes in {bursts} bursts: "
                             f"{_tally(storm.done)}")  # fmt: skip
        clean = mediafind.model.clean(folder, workdir / f"{name}-clean" / LIBRARY_FILE)
        if end == "kill":
            watcher.wait(PROCESS_SECONDS)
            outcome.steps.append("watch killed -9 in the last burst")
            _check(outcome, mediafind.file, complete=False, seed=rng.randrange(1 << 30))
            mediafind.index(outcome)
        else:
            quiet = time.monotonic()
            while invariants.differences(mediafind.file, clean):
                if time.monotonic() - quiet > SETTLE_SECONDS or watcher.poll() is not None:
                    outcome.violations += [
                        f"watch did not catch up: {d}"
                        for d in invariants.differences(mediafind.file, clean)[:5]
                    ]
                    break
                time.sleep(0.3)
            outcome.steps.append(
                f"watch caught up {time.monotonic() - quiet:.1f} s after the storm"
            )
            watcher.send_signal(signal.SIGINT)
            watcher.wait(PROCESS_SECONDS)
            if watcher.returncode != 0:
                said = "".join(errors)[-300:]
                outcome.violations.append(f"watch exited {watcher.returncode} on Ctrl-C: {said}")
        _check(outcome, mediafind.file, complete=True, clean=clean, seed=rng.randrange(1 << 30))
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
        for reading in readers:
            reading.join(5)
        watcher.stdout.close()
        watcher.stderr.close()
    return outcome


def _tally(done: list[str]) -> str:
    counts: dict[str, int] = {}
    for what in done:
        counts[what] = counts.get(what, 0) + 1
    return ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))
