"""Errors the core raises; the CLI and the GUI turn them into one readable line."""

import os

# A description longer than this is cut: a whole HTTP body or a torch stack in an error message
# would flood a status bar or a dialog, and the log has the rest.
DESCRIBE_MAX = 200


class MediafindError(Exception):
    """Base class: the message is written for the user and stands on its own."""


class ConfigError(MediafindError):
    """The settings file or an option cannot be understood."""


class LibraryError(MediafindError):
    """The library file cannot be opened or used."""


class NoLibrary(LibraryError):
    """There is no library where one was asked for (and the command would not create one)."""


class LibraryTooNew(LibraryError):
    """The library was written by a newer mediafind than this one."""


class LibraryBusy(LibraryError):
    """Another process is writing this library."""


class LibraryDamaged(LibraryError):
    """The library file is damaged: SQLite found a page it cannot make sense of, or the
    doctor found its parts out of step; the message says to run `mediafind doctor`."""


class NotALibrary(LibraryError):
    """The file in the library's place is not a mediafind library: empty, not a database, or
    another program's database."""


class DiskFull(LibraryError):
    """The disk holding the library has no room for what must be written."""


class LibraryReadOnly(LibraryError):
    """The library cannot be written (a read-only disk, folder or file): it can be searched,
    not changed."""


# Library errors that say the library cannot be used now, through no fault in what was asked:
# the command line exits 1 for them, as for a busy library (2 is for a mistaken request).
UNAVAILABLE: tuple[type[LibraryError], ...] = (
    LibraryBusy, LibraryDamaged, DiskFull, LibraryReadOnly
)  # fmt: skip


class ModelMismatch(LibraryError):
    """The library's vectors were made by another model than the one asked for."""


class ModelUnavailable(MediafindError):
    """The model's weights cannot be loaded; the message says how to get them."""


class UnreadableFile(MediafindError):
    """One file cannot be indexed; the message is the reason recorded for it."""


# Files that were read and hold nothing to index: information for the user, not a failure.
# They are recorded like unreadable files (their reason is the message), and told apart by it:
# the reason is one of NOTHING_SAID, or starts with one of NOTHING_BEGUN (the rest says where).
EMPTY_FILE = "empty file"
NO_TEXT = "no text in the file"
SCANNED_PDF = "scanned PDF without text"  # its pages are pictures
NO_TEXT_LAYER = "PDF without a text layer"  # and without pictures: drawn shapes, blank pages
SCANNED_UNREAD = "scanned PDF in whose pages no text was read"  # read, and nothing found
NOTHING_SAID = (EMPTY_FILE, NO_TEXT)
NOTHING_BEGUN = (SCANNED_PDF, NO_TEXT_LAYER, SCANNED_UNREAD)


class NothingToRead(UnreadableFile):
    """The file was read and holds nothing to index (empty, or pages without a text layer)."""


def nothing_to_read(reason: str) -> bool:
    """Whether a recorded reason says the file holds nothing to index (see NothingToRead),
    rather than that it could not be read."""
    return reason in NOTHING_SAID or reason.startswith(NOTHING_BEGUN)


def describe(exc: BaseException, with_file: bool = True) -> str:
    """An exception as one readable sentence: our own errors by their message (written for the
    user), an operating system error by what the system said and the file it said it about
    (with_file=False: where the file is named beside it already), anything else by its type and
    the first line of its message."""
    if isinstance(exc, MediafindError):
        return str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        named = (exc.filename, exc.filename2) if with_file else ()
        files = [_name(f) for f in named if f is not None]
        return _cut(f"{exc.strerror}: {' → '.join(files)}" if files else exc.strerror)
    lines = str(exc).strip().splitlines()
    name = type(exc).__name__
    return _cut(f"{name}: {lines[0].strip()}" if lines else name)


def _cut(text: str) -> str:
    return text if len(text) <= DESCRIBE_MAX else text[: DESCRIBE_MAX - 1].rstrip() + "…"


def _name(filename: object) -> str:
    return os.fsdecode(filename) if isinstance(filename, bytes) else str(filename)
