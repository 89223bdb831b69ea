"""What mediafind writes is for the user's eyes only: the library (with its vectors copy, journal
and lock), the caches (thumbnails, query vectors, model identities, dropped pictures), the
settings and the logs are created readable and writable by their owner alone (files 0600, folders
0700), whatever the umask, and such files left wider by an older version are tightened when they
are opened. The names of the photos, the words of the notes and the searches are private.

On Windows the mode bits mean little (the user's profile folders are private already); these
calls do what Python can there and never fail for it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import logging.handlers
import os
import stat
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

FILE_MODE = 0o600
FOLDER_MODE = 0o700
# Group and others: none of these bits stay on what mediafind keeps.
_OPEN_BITS = 0o077


def private_folder(path: Path) -> Path:
    """Make path a folder only its owner can enter: created (with any missing parents, each
    0700) when missing, tightened when it is wider. Raises OSError when it cannot be created."""
    missing: list[Path] = []
    folder = path
    while not os.path.lexists(folder) and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made by another process meanwhile
            folder.mkdir(mode=FOLDER_MODE)
    if not path.is_dir():
        path.mkdir()  # raises the error that says why (a file in the way, say)
    tighten(path)
    return path


def tighten(path: Path) -> None:
    """Take group and others' permissions off a file or folder of this user's (a library left
    wider by an older version, say). Quietly nothing where that is not possible: a missing
    file, read-only media, another user's file."""
    try:
        st = path.stat()
    except OSError:
        return
    mode = stat.S_IMODE(st.st_mode)
    if not mode & _OPEN_BITS or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
        return
    try:
        path.chmod(mode & ~_OPEN_BITS)
    except OSError as e:
        log.debug("cannot make %s private: %s", path, e)


def open_private(path: Path, mode: str = "wb", encoding: str | None = None) -> IO[Any]:
    """open(path, mode) for writing ("w", "a", "a+", with "b" or not), the file created 0600
    whatever the umask, and made so if it existed wider."""
    flags = os.O_CREAT | getattr(os, "O_BINARY", 0)
    flags |= os.O_RDWR if "+" in mode else os.O_WRONLY
    if "w" in mode:
        flags |= os.O_TRUNC
    elif "a" in mode:
        flags |= os.O_APPEND
    else:
        raise ValueError(f"open_private writes; {mode!r} is not a writing mode")
    fd = os.open(path, flags, FILE_MODE)
    try:
        if os.name != "nt":
            st = os.fstat(fd)
            if stat.S_IMODE(st.st_mode) & _OPEN_BITS and st.st_uid == os.getuid():
                os.fchmod(fd, stat.S_IMODE(st.st_mode) & ~_OPEN_BITS)
        return open(fd, mode, encoding=encoding if "b" not in mode else None)
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path, data: bytes) -> None:
    """Write data to a new or emptied file at path that only its owner can read."""
    with open_private(path, "wb") as f:
        f.write(data)


class PrivateLogHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file (and each one that follows a rotation) readable by its owner only:
    the log names files and folders."""

    def _open(self) -> io.TextIOWrapper:
        f = open_private(Path(self.baseFilename), self.mode, self.encoding)
        assert isinstance(f, io.TextIOWrapper)  # a text mode
        return f
