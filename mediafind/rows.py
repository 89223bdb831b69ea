"""What the library holds, as typed rows: watched folders, files, chunks and search hits, the
filter a search applies, and paths as the library stores them.

Paths are stored as bytes (``os.fsencode``) so that names which are not valid UTF-8 round-trip;
that encoding stays inside the store: rows carry Paths, and the store's methods take them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

# Re-exported: the store and the faces name the kinds through rows.
from mediafind.kinds import NOTE as NOTE
from mediafind.kinds import PHOTO as PHOTO
from mediafind.people_rows import filter_sql
from mediafind.raw import RAW_EXTENSIONS

# Chunk sources: the picture itself, text of a note, caption text of a photo, text read in a
# picture (a photo's, or a scanned PDF page's).
IMAGE_SOURCE = "image"
TEXT_SOURCE = "text"
CAPTION_SOURCE = "caption"
OCR_SOURCE = "ocr"

PENDING = "pending"
INDEXED = "indexed"
ERROR = "error"
EMPTY = "empty"  # not a status: files in error that hold nothing to index (store.counts)


def encode_path(path: str | os.PathLike[str]) -> bytes:
    return os.fsencode(path)


def decode_path(raw: bytes) -> Path:
    return Path(os.fsdecode(raw))


def prefix_range(folder: Path) -> tuple[bytes, bytes]:
    """Stored-path range [low, high) holding every path strictly inside folder."""
    raw = encode_path(folder)
    sep = os.fsencode(os.sep)
    low = raw if raw.endswith(sep) else raw + sep
    high = low[:-1] + bytes([low[-1] + 1])
    return low, high


@dataclass(frozen=True, slots=True)
class Root:
    id: int
    path: Path
    polling: bool | None  # None: decide from the kind of drive
    excludes: tuple[str, ...]


class FileRow(NamedTuple):
    """A file as the library holds it. A tuple, not a frozen dataclass: a rescan makes one per
    file of a watched folder, and a frozen dataclass's __init__ cost a fifth of a 100k rescan."""

    id: int
    # The path as text: a scan compares hundreds of thousands of them, and making a Path of
    # each costs more than the whole comparison. `path` makes the Path when one is needed.
    path_str: str
    root_id: int | None
    kind: str
    size: int
    mtime_ns: int
    caption_sig: str | None
    hash: str | None
    status: str
    error: str | None

    @property
    def path(self) -> Path:
        return Path(self.path_str)


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What the library knows of one file as it last read it. Size and modification time tell
    whether the file changed since; the picture facts are None until a photo is indexed."""

    kind: str
    status: str
    size: int
    mtime_ns: int
    width: int | None  # as the photo is shown (EXIF orientation applied)
    height: int | None
    taken_at: float | None  # EXIF date, a timestamp in local time


@dataclass(frozen=True, slots=True)
class FileRecord:
    """How the library read one file (for the window's Properties)."""

    status: str
    error: str | None  # why it could not be read
    indexed_at: float | None  # a timestamp; None until read
    captions: tuple[str, ...]  # the captions found for it (sidecar, EXIF/XMP description)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    spec: str
    identity: str
    dimension: int


@dataclass(frozen=True, slots=True)
class NewChunk:
    """A piece to store: an image (text None) or a span of text, with its vector."""

    source: str
    text: str | None
    start: int | None
    end: int | None
    vector: bytes
    page: int | None = None
    heading: str | None = None
    boxes: str | None = None  # text read in a picture: its lines' boxes (picturetext)


@dataclass(frozen=True, slots=True)
class ChunkHit:
    chunk_id: int
    file_id: int
    # The file's path as the library stores it: a search reads a thousand hits and shows a few
    # files, and making a Path of each hit cost more than finding it. `path` makes the Path.
    stored_path: bytes
    kind: str
    source: str
    text: str | None
    start: int | None
    end: int | None
    page: int | None
    heading: str | None
    boxes: str | None  # text read in a picture: its lines' boxes, as JSON (picturetext)
    distance: float
    vector: bytes | None = None  # the chunk's stored vector, when the search asked for it

    @property
    def path(self) -> Path:
        return decode_path(self.stored_path)


# ChunkHit's fields but the distance (and the vector), which each search adds its own way: SQL on
# chunks aliased c and files aliased f.
HIT_COLUMNS = (
    "c.id, c.file_id, f.path, f.kind, c.source, c.text, c.start, c.end, c.page, c.heading, c.boxes"
)


def chunk_hit(row: Sequence[Any]) -> ChunkHit:
    """A ChunkHit from HIT_COLUMNS, the distance and optionally the vector."""
    return ChunkHit(*row)


@dataclass(frozen=True, slots=True)
class NamedFile:
    """A file found by its name: its path relative to its watched folder, as text."""

    file_id: int
    path: Path
    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class DatedFile:
    """A file as browsing lists it, with its date (see FILE_DATE), a timestamp."""

    file_id: int
    path: Path
    kind: str
    date: float


# A photo's date is when it was taken (EXIF), else, like a note's, when it was last changed:
# SQL on files aliased f, for FileFilter's dates and the store's file_dates.
FILE_DATE = "coalesce(f.taken_at, f.mtime_ns / 1e9)"
# type:jpg means .jpg and .jpeg alike, and so on.
_TYPE_ALIASES = {"jpg": ("jpg", "jpeg"), "jpeg": ("jpg", "jpeg"), "tif": ("tif", "tiff"),
                 "tiff": ("tif", "tiff"), "md": ("md", "markdown"), "htm": ("htm", "html"),
                 "html": ("htm", "html"), "heic": ("heic", "heif"),
                 "raw": tuple(sorted(e.lstrip(".") for e in RAW_EXTENSIONS))}  # fmt: skip


@dataclass(frozen=True, slots=True)
class FileFilter:
    """Which files a search may return."""

    folder: Path | None = None
    after: float | None = None  # inclusive timestamp
    before: float | None = None  # exclusive timestamp
    extensions: tuple[str, ...] = ()  # lower case, without the dot
    exclude: tuple[int, ...] = ()  # file ids
    people: tuple[str, ...] = ()  # folded names (people.key): photos with each of them
    places: tuple[str, ...] = ()  # folded place names: photos taken there

    @property
    def narrows(self) -> bool:
        """Whether it leaves out more than a few named files."""
        return bool(
            self.folder or self.after or self.before or self.extensions
            or self.people or self.places
        )  # fmt: skip

    def sql(self) -> tuple[str, tuple[object, ...]]:
        """A condition on files aliased f, with its arguments."""
        clauses: list[str] = []
        args: list[object] = []
        if self.folder is not None:
            clauses.append("f.path >= ? AND f.path < ?")
            args += prefix_range(self.folder)
        if self.after is not None:
            clauses.append(f"{FILE_DATE} >= ?")
            args.append(self.after)
        if self.before is not None:
            clauses.append(f"{FILE_DATE} < ?")
            args.append(self.before)
        if self.extensions:
            suffixes = sorted({a for e in self.extensions for a in _TYPE_ALIASES.get(e, (e,))})
            clauses.append("(" + " OR ".join(["CAST(f.path AS TEXT) LIKE ?"] * len(suffixes)) + ")")
            args += [f"%.{suffix}" for suffix in suffixes]
        if self.exclude:
            clauses.append(f"f.id NOT IN ({','.join('?' * len(self.exclude))})")
            args += self.exclude
        if self.people or self.places:
            named, named_args = filter_sql(self.people, self.places)
            clauses += named
            args += named_args
        return " AND ".join(clauses) or "1", tuple(args)


@dataclass(frozen=True, slots=True)
class ErrorRow:
    path: Path
    reason: str
