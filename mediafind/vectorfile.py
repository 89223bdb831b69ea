"""The library's vectors in a file beside it, laid out for exact brute-force search with numpy.

sqlite-vec reads each vector through SQLite and answers a KNN query about 8x slower than numpy
over the same vectors in memory; holding them all in memory instead costs 2 GB at a million
photos. This file holds them as one float32 matrix per modality, memory-mapped: a search streams
it through BLAS from the page cache at memory speed, and afterwards lets go of the pages, which
stay cached by the system but do not count against the process.

The file is derived, never the truth: its header says which state of the library it copies (the
vectors token and log position, see mediafind.nearest), and it is written whole to a temporary
file, synced, then renamed over the old one, so a reader sees an old file or a new one, never half
of one. Anything that does not look right about it makes it unusable, not wrong.

Layout: MAGIC, a little-endian uint32 header length, the JSON header (with the file's size: a
file cut short or grown is unusable), padding to HEADER_SIZE;
then per modality, each at an offset the header gives: chunk ids (int64, in row order), the
inverse of each vector's length (float32), the ids sorted (int64) with their rows (int64), and the
vectors (float32, rows of `dimension`).
"""

from __future__ import annotations

import contextlib
import glob
import json
import logging
import mmap
import os
import struct
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from mediafind.privacy import open_private

log = logging.getLogger(__name__)

MAGIC = b"MFVECS1\n"
HEADER_SIZE = 4096
# A file being written is named after the file and its writer's process id.
_TEMP = ".tmp-"
# A file being written that has not changed for this many seconds was left by a writer that
# crashed: it is removed.
ABANDONED_AFTER = 600
# Sections start on page boundaries: letting go of one matrix's pages leaves the others alone.
_ALIGN = mmap.PAGESIZE
# Arrays of each section, in file order, with their types and how many values per row.
_ARRAYS: tuple[tuple[str, str, int], ...] = (
    ("ids", "<i8", 1),
    ("inverse_norms", "<f4", 1),
    ("sorted_ids", "<i8", 1),
    ("sorted_rows", "<i8", 1),
)
_MATRIX = "<f4"

# Products with a matrix of at least this many values are left to BLAS (see product).
BLAS_FROM = 1 << 24

Ids = npt.NDArray[np.int64]
Matrix = npt.NDArray[np.float32]


class Unusable(Exception):
    """The file is missing, unreadable, or not what its header says."""


@dataclass(frozen=True)
class Section:
    """One modality's vectors: row i is chunk ids[i]."""

    ids: Ids
    inverse_norms: npt.NDArray[np.float32]
    sorted_ids: Ids
    sorted_rows: Ids
    matrix: Matrix

    def __len__(self) -> int:
        return len(self.ids)

    def similarity(self, query: Matrix) -> Matrix:
        """Each row's cosine similarity to a unit-length query."""
        return cosine(self.matrix, self.inverse_norms, query)

    def rows_of(self, chunk_ids: Ids) -> Ids:
        """The row of each chunk id, -1 where it has none."""
        if not len(self.sorted_ids):
            return np.full(len(chunk_ids), -1, dtype=np.int64)
        at = np.searchsorted(self.sorted_ids, chunk_ids)
        at = np.minimum(at, len(self.sorted_ids) - 1)
        found = self.sorted_ids[at] == chunk_ids
        return np.where(found, self.sorted_rows[at], -1)


class VectorFile:
    """An open vector file. token, seq and entry: the library state it copies (see
    mediafind.nearest)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with open(path, "rb") as f:
                header = _read_header(f)
                size = os.fstat(f.fileno()).st_size
                self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        except OSError as e:
            raise Unusable(f"cannot read {path}: {e}") from e
        try:
            self.token = str(header["token"])
            self.seq = int(header["seq"])
            self.entry = int(header["entry"])
            self.dimension = int(header["dimension"])
            if int(header["size"]) != size:
                # Cut short (a full disk, a copy that stopped) or grown: not the file written.
                raise ValueError(f"{size} bytes where {int(header['size'])} were written")
            self.sections = {
                modality: self._section(layout, size)
                for modality, layout in dict(header["sections"]).items()
            }
        except (KeyError, TypeError, ValueError) as e:
            self.close()
            raise Unusable(f"{path} is damaged: {e}") from e

    def _section(self, layout: Mapping[str, Any], size: int) -> Section:
        count = int(layout["count"])
        arrays: dict[str, np.ndarray] = {}
        for name, kind, width in (*_ARRAYS, ("matrix", _MATRIX, self.dimension)):
            offset = int(layout[name])
            nbytes = count * width * np.dtype(kind).itemsize
            if count < 0 or offset < HEADER_SIZE or offset + nbytes > size:
                raise ValueError(f"{name} lies outside the file")
            if count == 0:
                arrays[name] = np.zeros((0, width) if name == "matrix" else 0, dtype=kind)
                continue
            assert self._map is not None
            array = np.frombuffer(self._map, dtype=kind, count=count * width, offset=offset)
            arrays[name] = array.reshape(count, width) if name == "matrix" else array
        section = Section(**arrays)
        # The ids, as read, must agree with their sorted index: a search maps rows to chunks by
        # them, and a damaged id would name the wrong file. (The vectors themselves are checked
        # by `mediafind doctor`, which reads them all.)
        if count and (
            np.any(section.sorted_ids[1:] < section.sorted_ids[:-1])
            or np.any(section.sorted_rows < 0)
            or np.any(section.sorted_rows >= count)
            or np.any(section.ids[section.sorted_rows] != section.sorted_ids)
        ):
            raise ValueError("its chunk ids disagree with their index")
        return section

    def release(self) -> None:
        """Let go of the pages a search read: they stay in the system's cache (the next search
        finds them there) but no longer count in this process's memory."""
        if self._map is not None and hasattr(mmap, "MADV_DONTNEED"):
            with contextlib.suppress(OSError, ValueError):
                self._map.madvise(mmap.MADV_DONTNEED)

    def close(self) -> None:
        # Views of the map may still live in results being built; the map closes once they go.
        self.sections = {}
        self._map = None


def read_seq(path: Path) -> tuple[str, int] | None:
    """The token and log position of the file at path without opening it all; None when it
    cannot be read."""
    try:
        with open(path, "rb") as f:
            header = _read_header(f)
        return str(header["token"]), int(header["seq"])
    except (OSError, Unusable, KeyError, TypeError, ValueError):
        return None


def _read_header(f: BinaryIO) -> dict[str, Any]:
    start = f.read(len(MAGIC) + 4)
    if len(start) < len(MAGIC) + 4 or not start.startswith(MAGIC):
        raise Unusable("not a vector file")
    (length,) = struct.unpack("<I", start[len(MAGIC) :])
    if length > HEADER_SIZE - len(start):
        raise Unusable("header too long")
    try:
        header = json.loads(f.read(length))
    except ValueError as e:
        raise Unusable(f"header unreadable: {e}") from e
    if not isinstance(header, dict):
        raise Unusable("header is not an object")
    return header


class Writer:
    """Writes a vector file: vectors are added in blocks, per modality, as they are read from the
    library; the file appears at path only once finished and synced."""

    def __init__(
        self,
        path: Path,
        state: tuple[str, int, int],
        dimension: int,
        counts: Mapping[str, int],
    ) -> None:
        """state: the library state the vectors are of (token, seq, entry)."""
        self.path = path
        _remove_abandoned(path)
        self._temp = path.with_name(f"{path.name}{_TEMP}{os.getpid()}")
        token, seq, entry = state
        self._header: dict[str, Any] = {
            "token": token, "seq": seq, "entry": entry, "dimension": dimension
        }  # fmt: skip
        self._dimension = dimension
        self._layouts: dict[str, dict[str, int]] = {}
        self._ids: dict[str, list[Ids]] = {}
        self._norms: dict[str, list[npt.NDArray[np.float32]]] = {}
        self._written: dict[str, int] = {}
        offset = HEADER_SIZE
        for modality, count in counts.items():
            layout = {"count": count}
            for name, kind, width in (*_ARRAYS, ("matrix", _MATRIX, dimension)):
                layout[name] = offset
                offset = _aligned(offset + count * width * np.dtype(kind).itemsize)
            self._layouts[modality] = layout
            self._ids[modality], self._norms[modality] = [], []
            self._written[modality] = 0
        self._header["size"] = offset
        self._file = open_private(self._temp, "wb")  # closed in finish() or abandon()
        self._file.truncate(offset)

    def add(self, modality: str, ids: Ids, vectors: Matrix) -> None:
        """Append rows to a modality, in the order given."""
        layout = self._layouts[modality]
        row = self._written[modality]
        if row + len(ids) > layout["count"]:
            raise ValueError(f"more {modality} vectors than announced")
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self._dimension)
        self._file.seek(layout["matrix"] + row * self._dimension * 4)
        self._file.write(vectors.tobytes())
        norms = np.linalg.norm(vectors, axis=1)
        with np.errstate(divide="ignore"):
            inverse = np.where(norms > 0, 1.0 / norms, 0.0).astype(np.float32)
        self._ids[modality].append(np.asarray(ids, dtype=np.int64))
        self._norms[modality].append(inverse)
        self._written[modality] = row + len(ids)

    def finish(self) -> None:
        """Write what is left and sync: the file is complete, not yet at its place."""
        try:
            for modality, layout in self._layouts.items():
                if self._written[modality] != layout["count"]:
                    raise ValueError(f"fewer {modality} vectors than announced")
                ids = _joined(self._ids[modality], np.int64)
                order = np.argsort(ids, kind="stable")
                arrays = {
                    "ids": ids,
                    "inverse_norms": _joined(self._norms[modality], np.float32),
                    "sorted_ids": ids[order],
                    "sorted_rows": order.astype(np.int64),
                }
                for name, array in arrays.items():
                    self._file.seek(layout[name])
                    self._file.write(array.tobytes())
            self._header["sections"] = self._layouts
            header = json.dumps(self._header).encode()
            if len(MAGIC) + 4 + len(header) > HEADER_SIZE:
                raise ValueError("header too long")
            self._file.seek(0)
            self._file.write(MAGIC + struct.pack("<I", len(header)) + header)
            self._file.flush()
            # A crash must not leave a file whose header is there and whose vectors are not:
            # it would be taken for a good one.
            os.fsync(self._file.fileno())
            self._file.close()
        except BaseException:
            self.abandon()
            raise

    def commit(self) -> None:
        """Put the finished file in place of the old one (on Windows, only once no process
        maps the old one any more)."""
        try:
            self._temp.replace(self.path)
        except BaseException:
            self.abandon()
            raise

    def abandon(self) -> None:
        self._file.close()
        with contextlib.suppress(OSError):
            self._temp.unlink()


def cosine(matrix: Matrix, inverse_norms: npt.NDArray[np.float32], query: Matrix) -> Matrix:
    """Each row's cosine similarity to a unit-length query, given the rows' inverse norms."""
    if not len(matrix):
        return np.zeros(0, dtype=np.float32)
    similarity = product(matrix, query)
    similarity *= inverse_norms
    return similarity


def product(matrix: Matrix, vector: Matrix) -> Matrix:
    """matrix @ vector: by BLAS for a big matrix, whose threads pay off there (a million rows,
    2 cores: 70 ms, 127 ms on one core); by numpy's own loop on one core for a smaller one, for
    which BLAS's thread hand-offs cost more than they save (a few thousand rows: 8 ms on 2 busy
    cores, 0.5 ms on one)."""
    if matrix.size >= BLAS_FROM:
        return matrix @ vector
    result: Matrix = np.einsum("ij,j->i", matrix, vector)
    return result


def _remove_abandoned(path: Path) -> None:
    """Remove what writers that crashed left: files being written are touched all the time."""
    stale = time.time() - ABANDONED_AFTER
    for temp in path.parent.glob(f"{glob.escape(path.name)}{_TEMP}*"):
        with contextlib.suppress(OSError):
            if temp.stat().st_mtime < stale:
                temp.unlink()


def _aligned(offset: int) -> int:
    return -(-offset // _ALIGN) * _ALIGN


def _joined(parts: Iterable[np.ndarray], kind: type[np.generic]) -> np.ndarray:
    parts = list(parts)
    return np.concatenate(parts).astype(kind) if parts else np.zeros(0, dtype=kind)
