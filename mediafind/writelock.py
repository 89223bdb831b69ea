"""Only one process writes a library: the lock file beside it that says which."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import IO

from mediafind.errors import LibraryBusy, LibraryError
from mediafind.privacy import open_private


class WriterLock:
    """Only one process writes a library: an OS lock on a file beside it, which also holds the
    writer's pid so that a second writer can say who holds it. The OS drops the lock when the
    holder dies, even by kill -9."""

    # Windows locks are mandatory: lock a byte past the pid so that others can still read it.
    _LOCK_OFFSET = 4096
    # holder() probes the lock by taking it for an instant: a writer starting at that instant
    # tries again for this long before it calls the library busy. A real second writer holds
    # the lock for as long as it runs, so waiting this much more costs nothing.
    _ACQUIRE_TRIES = 20
    _ACQUIRE_PAUSE_S = 0.025

    def __init__(self, library: Path) -> None:
        self.library = library
        self.path = library.with_name(library.name + ".lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Raises LibraryBusy while another process holds the lock, and OSError when the lock
        file cannot be opened (a read-only folder: the store says what that means)."""
        try:
            f = open_private(self.path, "a+", encoding="ascii")  # kept open while held
        except IsADirectoryError:
            raise LibraryError(
                f"{self.path} is a folder, not mediafind's lock file; move it aside so that the "
                "library can be written"
            ) from None
        try:
            for tries_left in reversed(range(self._ACQUIRE_TRIES)):
                try:
                    self._lock(f)
                    break
                except OSError:
                    if not tries_left:
                        raise
                    time.sleep(self._ACQUIRE_PAUSE_S)
        except OSError:
            f.seek(0)
            holder = f.read(32).strip() or "unknown"
            f.close()
            raise LibraryBusy(
                f"library {self.library} is being written by another mediafind process "
                f"(pid {holder}); searches still work, changes must wait until it stops"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        self._file = f

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the file releases the lock
            self._file = None

    def holder(self) -> int | None:
        """The pid of the process writing the library, or None when nobody does."""
        if self._file is not None:
            return os.getpid()
        try:
            with open_private(self.path, "a+", encoding="ascii") as f:
                try:
                    self._lock(f)
                except OSError:
                    f.seek(0)
                    text = f.read(32).strip()
                    return int(text) if text.isdigit() else -1
                return None
        except OSError:
            return None

    def _lock(self, f: IO[str]) -> None:
        if os.name == "nt":
            import msvcrt

            f.seek(self._LOCK_OFFSET)
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        else:
            import fcntl

            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
