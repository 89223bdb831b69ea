"""Nearest neighbours: the store's KNN search, exact, over a copy of the vectors beside the library.

The copy (mediafind.vectorfile) is searched by brute force with numpy, which at 100k photos is
about 8x faster than sqlite-vec's own KNN over the same vectors, and stays exact. The library
stays the truth; the copy follows it:

- the copy says which vectors table it copies (the vectors token, new whenever the table is made
  anew, e.g. for another model) and up to which entry of the vector log (schema.py: triggers on
  the chunks record every chunk that comes or goes, within the same transaction), with that
  entry's random stamp, so that a library put back to an older state is not taken for this one;
- a search reads the log past that entry and catches up in memory: the changed chunks' rows of
  the copy are set aside, and their vectors now, if any, read from the library and searched
  beside it; when those grow past COMPACT_AT, the copy is written anew (so is a missing or
  damaged copy, or one the log no longer reaches back to);
- when the copy cannot be written or read, or the connection is inside a write transaction (its
  changes might still be rolled back), the search is sqlite-vec's, as before.

Reading every vector through sqlite-vec's SQL interface takes ~44 us each (44 s at a million);
the copy is made from the vec0 table's own storage instead (its `_chunks` and `_vector_chunks00`
shadow tables, ~15x faster), after checking that storage looks as this module expects and that a
few vectors read both ways agree. A storage layout it does not know means sqlite-vec's KNN.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import apsw
import numpy as np
import numpy.typing as npt

from mediafind.rows import HIT_COLUMNS, IMAGE_SOURCE, ChunkHit, FileFilter, chunk_hit
from mediafind.vectorfile import Ids, Matrix, Unusable, VectorFile, Writer, cosine, read_seq

log = logging.getLogger(__name__)

# The copy of the vectors sits beside the library: library.sqlite3.vectors.
SUFFIX = ".vectors"
# The largest k sqlite-vec accepts in one KNN query (SQLITE_VEC_VEC0_K_MAX).
KNN_MAX_K = 4096
MODALITIES = ("image", "text")
# Vectors changed since the copy was written, held in memory and searched beside it, before the
# copy is written anew: more holds more memory (2 KiB each at 512 dimensions) between rewrites;
# fewer rewrites the copy (2 GB at a million photos, a few seconds) more often while indexing.
COMPACT_AT = 16_384
# ... or once this share of the copy's rows are set aside (deleted or replaced).
COMPACT_DEAD_SHARE = 0.1
# After failing to write the copy (a read-only folder, a full disk), searches use sqlite-vec's
# KNN and try again after this many seconds, not on every search.
RETRY_AFTER = 300.0
# A search restricted by folder, date or type first checks the nearest FIRST_LOOK x k chunks
# against it, then as many more as the share that passed says are needed, while they number at
# most LOOK_SHARE of the modality's vectors; past that, it lists the chunks that pass and ranks
# only those. Checking a chunk by its key costs about ten times what listing costs per file
# (a full scan of the files, for dates and types): a broad restriction is answered from the
# first look, a narrow one from its list.
FIRST_LOOK = 4
LOOK_SHARE = 0.1
# ... and when some of the nearest chunks went meanwhile, WIDEN times more are looked at.
WIDEN = 8

_SHADOW_COLUMNS = {
    "vectors_chunks": ["chunk_id", "size", "validity", "rowids"],
    "vectors_rowids": ["rowid", "id", "chunk_id", "chunk_offset"],
    "vectors_vector_chunks00": ["rowid", "vectors"],
}


# Rows written to a new copy at a time.
_BLOCK = 8192
# Vectors of one modality: (modality, chunk ids, vectors).
_Block = tuple[str, "Ids", "Matrix"]


class _LayoutUnknown(Exception):
    """sqlite-vec's storage is not as this module reads it."""


@dataclass
class _Delta:
    """Vectors of one modality that changed since the copy was written."""

    ids: Ids = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    matrix: Matrix = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    inverse_norms: npt.NDArray[np.float32] = field(
        default_factory=lambda: np.zeros(0, dtype=np.float32)
    )

    def similarity(self, query: Matrix) -> Matrix:
        return cosine(self.matrix, self.inverse_norms, query)


@dataclass
class _Copy:
    """The copy as one search sees it: the file, its rows set aside, and what changed since."""

    file: VectorFile
    seq: int  # the log entry it is in step with
    entry: int  # that entry's stamp
    dead: dict[str, npt.NDArray[np.bool_]] = field(default_factory=dict)
    changed: dict[int, tuple[str, Matrix]] = field(default_factory=dict)
    deltas: dict[str, _Delta] = field(default_factory=dict)

    def dead_count(self) -> int:
        return sum(int(mask.sum()) for mask in self.dead.values())

    def rows(self) -> int:
        return sum(len(section) for section in self.file.sections.values())


class Nearest:
    """KNN over one library connection (see the module's docstring)."""

    def __init__(self, conn: apsw.Connection, library: Path, writable: bool = True) -> None:
        """writable: whether the copy may be written (not beside a library on read-only media:
        the copy there is read if it is in step, else the search is sqlite-vec's)."""
        self.conn = conn
        self.path = library.with_name(library.name + SUFFIX)
        self._copy: _Copy | None = None
        self._retry_at = 0.0 if writable else math.inf
        self._layout_known = True

    def close(self) -> None:
        if self._copy is not None:
            self._copy.file.close()
            self._copy = None

    def knn(
        self,
        vector: bytes,
        modality: str,
        k: int,
        where: FileFilter,
        dimension: int,
        with_vectors: bool,
    ) -> list[ChunkHit]:
        """The k chunks of a modality nearest to vector, of files that pass where."""
        if self.conn.getautocommit():
            with self.conn:  # one snapshot of the library for the whole search
                copy = self._current(dimension)
                if copy is not None:
                    try:
                        return self._search(copy, vector, modality, k, where, with_vectors)
                    finally:
                        copy.file.release()
        return self._sqlite_knn(vector, modality, k, where, with_vectors)

    # -- searching the copy -----------------------------------------------------------------

    def _search(
        self,
        copy: _Copy,
        vector: bytes,
        modality: str,
        k: int,
        where: FileFilter,
        with_vectors: bool,
    ) -> list[ChunkHit]:
        query = np.frombuffer(vector, dtype=np.float32)
        norm = float(np.linalg.norm(query))
        query = query / norm if norm > 0 else query
        section = copy.file.sections.get(modality)
        delta = copy.deltas.get(modality, _Delta())
        parts = [section.similarity(query) if section is not None else np.zeros(0, np.float32)]
        base = len(parts[0])
        if modality in copy.dead:
            parts[0][copy.dead[modality]] = -np.inf
        parts.append(delta.similarity(query))
        similarity = np.concatenate(parts) if len(parts[1]) else parts[0]
        alive = base - (int(copy.dead[modality].sum()) if modality in copy.dead else 0)
        alive += len(delta.ids)

        def chunk_ids(at: Ids) -> Ids:
            ids = np.empty(len(at), dtype=np.int64)
            inside = at < base
            if section is not None:
                ids[inside] = section.ids[at[inside]]
            ids[~inside] = delta.ids[at[~inside] - base]
            return ids

        def vector_of(at: int) -> bytes:
            if at < base:
                assert section is not None
                return bytes(section.matrix[at].tobytes())
            return bytes(delta.matrix[at - base].tobytes())

        condition, condition_args = where.sql()
        # Excluded files are left out after ranking: look at as many more as they have chunks.
        look = FIRST_LOOK * k if where.narrows else k + self._chunk_count(where.exclude)
        look_at_most = LOOK_SHARE * alive
        filtered = False
        while True:
            look = min(look, alive)
            at = _top(similarity, look)
            ids = chunk_ids(at)
            found = self._hit_rows(ids, condition, condition_args)
            distances = (1.0 - similarity[at].astype(np.float64)).tolist()
            hits = []
            for position, chunk_id, distance in zip(
                at.tolist(), ids.tolist(), distances, strict=True
            ):
                row = found.get(chunk_id)
                if row is not None:
                    stored = vector_of(position) if with_vectors else None
                    hits.append(chunk_hit((*row, distance, stored)))
                    if len(hits) == k:
                        return hits
            if look >= alive:
                return hits
            if not where.narrows or filtered:
                look *= WIDEN  # chunks gone meanwhile
                continue
            # As many as the share that passed says are needed, and a half more.
            look = max(2 * look, math.ceil(1.5 * k * look / max(len(hits), 1)))
            if look > look_at_most:
                # A narrow restriction: rank only the chunks that pass it.
                passing = self._passing(condition, condition_args)
                if section is not None:
                    keep = np.zeros(base, dtype=bool)
                    rows = section.rows_of(passing)
                    keep[rows[rows >= 0]] = True
                    similarity[:base][~keep] = -np.inf
                similarity[base:][~np.isin(delta.ids, passing)] = -np.inf
                alive = int(np.isfinite(similarity).sum())
                look, filtered = k, True

    def vectors(self, chunk_ids: Sequence[int], dimension: int) -> dict[int, Matrix]:
        """The stored vectors of these chunks (those that have one), read from sqlite-vec's
        storage a block of vectors at a time: a keyed read of each reads its whole block each
        time (0.4 ms a vector at 100k photos)."""
        if not chunk_ids:
            return {}
        try:
            blocks = self._read_some(dimension, np.asarray(chunk_ids, np.int64))
        except _LayoutUnknown as e:
            self._layout_unknown(e)
            keyed = {chunk_id: self._stored(chunk_id) for chunk_id in chunk_ids}
            return {i: np.frombuffer(v, np.float32) for i, v in keyed.items() if v is not None}
        return {
            int(i): vector for _, ids, block in blocks for i, vector in zip(ids, block, strict=True)
        }

    def _chunk_count(self, file_ids: Sequence[int]) -> int:
        if not file_ids:
            return 0
        return int(
            self._one(
                "SELECT count(*) FROM chunks WHERE file_id IN (SELECT value FROM json_each(?))",
                (json.dumps(list(file_ids)),),
            )
        )

    def _passing(self, condition: str, args: tuple[object, ...]) -> Ids:
        rows = self.conn.execute(
            f"SELECT c.id FROM chunks c JOIN files f ON f.id = c.file_id WHERE {condition}", args
        )
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    def _hit_rows(
        self, ids: Ids, condition: str, args: tuple[object, ...]
    ) -> dict[int, tuple[Any, ...]]:
        rows = self.conn.execute(
            f"SELECT {HIT_COLUMNS} FROM chunks c JOIN files f ON f.id = c.file_id "
            f"WHERE c.id IN (SELECT value FROM json_each(?)) AND {condition}",
            (json.dumps(ids.tolist()), *args),
        )
        return {row[0]: row for row in rows}

    # -- keeping the copy in step -----------------------------------------------------------

    def _current(self, dimension: int) -> _Copy | None:
        """The copy in step with the library, or None: search with sqlite-vec."""
        if not self._layout_known:
            return None
        token = self._token()
        latest = self._position()
        copy = self._copy
        if copy is not None and (copy.file.token, copy.file.dimension) == (token, dimension):
            if (copy.seq, copy.entry) == latest:
                return copy
            changed = self._changes(copy.seq, copy.entry, latest[0])
            if changed is not None:
                try:
                    self._catch_up(copy, changed, latest, dimension)
                except _LayoutUnknown as e:
                    self._layout_unknown(e)
                    return None
                self._copy = self._compacted(copy, token, latest, dimension)
                return self._copy
        self.close()
        try:
            copy = self._load(token, latest, dimension)
            if copy is None:
                copy = self._build(token, latest, dimension)
            else:
                copy = self._compacted(copy, token, latest, dimension)
        except _LayoutUnknown as e:
            self._layout_unknown(e)
            return None
        self._copy = copy
        return copy

    def _layout_unknown(self, e: _LayoutUnknown) -> None:
        log.warning("sqlite-vec's storage is not as expected (%s): searching with its KNN", e)
        self._layout_known = False
        self.close()

    def _token(self) -> str:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'vectors_token'").fetchone()
        return "" if row is None else str(row[0])

    def _position(self) -> tuple[int, int]:
        """The latest log entry and its stamp; (0, 0) before any."""
        row = self.conn.execute(
            "SELECT seq, stamp FROM vector_log ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return (0, 0) if row is None else (int(row[0]), int(row[1]))

    def _one(self, sql: str, args: tuple[object, ...] = ()) -> Any:
        row = self.conn.execute(sql, args).fetchone()
        assert row is not None
        return row[0]

    def _changes(self, since: int, entry: int, latest: int) -> Ids | None:
        """The chunks that came or went after log entry since (of stamp entry); None when the
        log no longer holds that entry (it keeps the latest only), or holds another one there
        (the library was put back to an older state)."""
        if since > latest:
            return None
        if since > 0:
            row = self.conn.execute(
                "SELECT stamp FROM vector_log WHERE seq = ?", (since,)
            ).fetchone()
            if row is None or row[0] != entry:
                return None
        elif latest > 0 and self._one("SELECT min(seq) FROM vector_log") != 1:
            return None
        if since == latest:
            return np.zeros(0, dtype=np.int64)
        rows = self.conn.execute("SELECT DISTINCT chunk_id FROM vector_log WHERE seq > ?", (since,))
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    def _catch_up(self, copy: _Copy, changed: Ids, latest: tuple[int, int], dimension: int) -> None:
        """Set aside the copy's rows of the changed chunks and hold their vectors now."""
        for modality, section in copy.file.sections.items():
            rows = section.rows_of(changed)
            rows = rows[rows >= 0]
            if len(rows):
                if modality not in copy.dead:
                    copy.dead[modality] = np.zeros(len(section), dtype=bool)
                copy.dead[modality][rows] = True
        for chunk_id in changed.tolist():
            copy.changed.pop(chunk_id, None)
        for modality, ids, vectors in self._read_some(dimension, changed):
            for chunk_id, vec in zip(ids.tolist(), vectors, strict=True):
                copy.changed[chunk_id] = (modality, vec)
        copy.deltas = {}
        for modality in MODALITIES:
            held = sorted((i, v) for i, (m, v) in copy.changed.items() if m == modality)
            if held:
                matrix = np.stack([v for _, v in held]).astype(np.float32)
                norms = np.linalg.norm(matrix, axis=1)
                with np.errstate(divide="ignore"):
                    inverse = np.where(norms > 0, 1.0 / norms, 0.0).astype(np.float32)
                ids = np.array([i for i, _ in held], dtype=np.int64)
                copy.deltas[modality] = _Delta(ids, matrix, inverse)
        copy.seq, copy.entry = latest

    def _compacted(
        self, copy: _Copy, token: str, latest: tuple[int, int], dimension: int
    ) -> _Copy | None:
        """The copy, written anew when too much changed since it was."""
        dead = copy.dead_count()
        if len(copy.changed) < COMPACT_AT and dead <= COMPACT_DEAD_SHARE * max(copy.rows(), 1):
            return copy
        on_disk = read_seq(self.path)
        if on_disk is not None and on_disk[0] == token and copy.file.seq < on_disk[1] <= latest[0]:
            # Another process wrote it anew meanwhile.
            newer = self._load(token, latest, dimension)
            if newer is not None and len(newer.changed) < COMPACT_AT:
                copy.file.close()
                return newer
            if newer is not None:
                newer.file.close()
        if self._may_write():
            written = self._write(token, latest, dimension, *self._from_copy(copy), old=copy)
            if written is not None:
                return written
            if not copy.file.sections:  # let go of to be replaced, and the replacing failed
                return None
        if len(copy.changed) > 4 * COMPACT_AT:
            copy.file.close()
            return None  # too much to hold in memory: sqlite-vec's KNN until the copy is written
        return copy

    def _from_copy(self, copy: _Copy) -> tuple[dict[str, int], Iterator[_Block]]:
        """What a copy in step holds: its counts per modality, and its vectors in blocks."""
        counts = {}
        for modality in MODALITIES:
            section = copy.file.sections.get(modality)
            alive = 0 if section is None else len(section)
            if modality in copy.dead:
                alive -= int(copy.dead[modality].sum())
            counts[modality] = alive + len(copy.deltas.get(modality, _Delta()).ids)

        def blocks() -> Iterator[_Block]:
            for modality, section in copy.file.sections.items():
                dead = copy.dead.get(modality)
                for start in range(0, len(section), _BLOCK):
                    end = min(start + _BLOCK, len(section))
                    ids, matrix = section.ids[start:end], section.matrix[start:end]
                    if dead is not None:
                        ids, matrix = ids[~dead[start:end]], matrix[~dead[start:end]]
                    yield modality, ids, matrix
            for modality, delta in copy.deltas.items():
                yield modality, delta.ids, delta.matrix

        return counts, blocks()

    def _may_write(self) -> bool:
        """Whether to try writing the copy (not soon after it failed)."""
        return time.monotonic() >= self._retry_at

    def _load(self, token: str, latest: tuple[int, int], dimension: int) -> _Copy | None:
        """The copy on disk, caught up, if it is one of this vectors table the log reaches."""
        try:
            file = VectorFile(self.path)
        except Unusable as e:
            if self.path.exists():
                log.info("vector copy unusable, making it anew: %s", e)
            return None
        if (file.token, file.dimension) != (token, dimension):
            file.close()
            return None
        changed = self._changes(file.seq, file.entry, latest[0])
        if changed is None:
            file.close()
            return None
        copy = _Copy(file, file.seq, file.entry)
        if len(changed):
            self._catch_up(copy, changed, latest, dimension)
        return copy

    def _build(self, token: str, latest: tuple[int, int], dimension: int) -> _Copy | None:
        """A new copy of every vector, from the library."""
        if not self._may_write():
            return None
        started = time.perf_counter()
        copy = self._write(token, latest, dimension, *self._read_all(dimension))
        if copy is not None:
            log.info(
                "vector copy made: %d vectors in %.1f s", copy.rows(), time.perf_counter() - started
            )
        return copy

    def _write(
        self,
        token: str,
        latest: tuple[int, int],
        dimension: int,
        counts: dict[str, int],
        blocks: Iterator[_Block],
        old: _Copy | None = None,
    ) -> _Copy | None:
        """A new copy of the vectors given; old: the copy they come from, closed before the
        new one replaces it."""
        writer = None
        try:
            writer = Writer(self.path, (token, *latest), dimension, counts)
            for modality, ids, vectors in blocks:
                writer.add(modality, ids, vectors)
            writer.finish()
            if old is not None:
                old.file.close()
            writer.commit()
            return _Copy(VectorFile(self.path), *latest)
        except (OSError, Unusable, ValueError) as e:
            if writer is not None:
                writer.abandon()
            log.warning("cannot write the vector copy %s: %s", self.path, e)
            self._retry_at = time.monotonic() + RETRY_AFTER
            return None

    # -- reading vectors from sqlite-vec's storage ------------------------------------------

    def _read_all(self, dimension: int) -> tuple[dict[str, int], Iterator[_Block]]:
        """Every vector: the counts per modality, and the vectors in blocks."""
        chunk_size = self._chunk_size()
        texts = self._text_chunks(None)
        places: dict[int, tuple[Ids, Ids]] = {}  # vec0 chunk -> (chunk ids, offsets)
        rows = self.conn.execute("SELECT chunk_id, size, validity, rowids FROM vectors_chunks")
        for chunk, size, validity, rowids in rows:
            if size != chunk_size or len(validity) * 8 != size or len(rowids) != size * 8:
                raise _LayoutUnknown(f"chunk {chunk} of size {size}")
            live = np.unpackbits(np.frombuffer(validity, np.uint8), bitorder="little")
            offsets = np.flatnonzero(live)
            places[chunk] = (np.frombuffer(rowids, np.int64)[offsets], offsets)
        text_count = sum(int(np.isin(ids, texts).sum()) for ids, _ in places.values())
        total = sum(len(ids) for ids, _ in places.values())
        counts = {"image": total - text_count, "text": text_count}
        return counts, self._vectors_at(places, texts, chunk_size, dimension)

    def _read_some(self, dimension: int, wanted: Ids) -> list[_Block]:
        """The vectors of the wanted chunks that have one."""
        chunk_size = self._chunk_size()
        texts = self._text_chunks(wanted)
        rows = self.conn.execute(
            "SELECT rowid, chunk_id, chunk_offset FROM vectors_rowids "
            "WHERE rowid IN (SELECT value FROM json_each(?))",
            (json.dumps(wanted.tolist()),),
        )
        found: dict[int, list[tuple[int, int]]] = {}
        for rowid, chunk, offset in rows:
            found.setdefault(chunk, []).append((rowid, offset))
        places = {
            chunk: (np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
            for chunk, pairs in found.items()
        }
        return list(self._vectors_at(places, texts, chunk_size, dimension))

    def _vectors_at(
        self, places: dict[int, tuple[Ids, Ids]], texts: Ids, chunk_size: int, dimension: int
    ) -> Iterator[_Block]:
        checked = 0
        for chunk in sorted(places):
            ids, offsets = places[chunk]
            if not len(ids):
                continue
            row = self.conn.execute(
                "SELECT vectors FROM vectors_vector_chunks00 WHERE rowid = ?", (chunk,)
            ).fetchone()
            if row is None or len(row[0]) != chunk_size * dimension * 4:
                raise _LayoutUnknown(f"vectors of chunk {chunk}")
            block = np.frombuffer(row[0], np.float32).reshape(chunk_size, dimension)[offsets]
            if checked < 2:  # a few vectors read both ways must agree
                self._check(int(ids[-1]), block[-1])
                checked += 1
            is_text = np.isin(ids, texts)
            for modality, mask in (("image", ~is_text), ("text", is_text)):
                if mask.any():
                    yield modality, ids[mask], block[mask]

    def _chunk_size(self) -> int:
        for table, columns in _SHADOW_COLUMNS.items():
            found = [r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")]
            if found != columns:
                raise _LayoutUnknown(f"{table} has columns {found}")
        row = self.conn.execute("SELECT size FROM vectors_chunks LIMIT 1").fetchone()
        return int(row[0]) if row else 0

    def _text_chunks(self, wanted: Ids | None) -> Ids:
        """Chunks whose vector is of the text modality (the store writes a vector's modality
        from its chunk's source), among wanted (None: all)."""
        sql = f"SELECT id FROM chunks WHERE source != '{IMAGE_SOURCE}'"
        args: tuple[object, ...] = ()
        if wanted is not None:
            sql += " AND id IN (SELECT value FROM json_each(?))"
            args = (json.dumps(wanted.tolist()),)
        return np.fromiter((r[0] for r in self.conn.execute(sql, args)), dtype=np.int64)

    def _check(self, chunk_id: int, vector: Matrix) -> None:
        if self._stored(chunk_id) != vector.tobytes():
            raise _LayoutUnknown(f"vector of chunk {chunk_id} differs")

    def _stored(self, chunk_id: int) -> bytes | None:
        """A chunk's vector as sqlite-vec gives it by key (its whole block read for it)."""
        row = self.conn.execute(
            "SELECT embedding FROM vectors WHERE chunk_id = ?", (chunk_id,)
        ).fetchone()
        return None if row is None else bytes(row[0])

    # -- sqlite-vec's own KNN ---------------------------------------------------------------

    def _sqlite_knn(
        self, vector: bytes, modality: str, k: int, where: FileFilter, with_vectors: bool
    ) -> list[ChunkHit]:
        vectors = ", v.embedding" if with_vectors else ""
        inner = ", embedding" if with_vectors else ""
        select = (
            f"SELECT {HIT_COLUMNS}, {{dist}}{vectors} "
            "FROM {source} JOIN chunks c ON c.id = v.chunk_id JOIN files f ON f.id = c.file_id "
        )
        condition, condition_args = where.sql()
        if not where.narrows:
            # sqlite-vec's KNN; exclusions are applied after it, so ask for as many more as the
            # excluded files have chunks (a note has several), within sqlite-vec's limit on k.
            extra = self._chunk_count(where.exclude)
            sql = select.format(
                dist="v.distance",
                source=f"(SELECT chunk_id, distance{inner} FROM vectors "
                "WHERE embedding MATCH ? AND k = ? AND modality = ?) v",
            )
            sql += f"WHERE {condition} ORDER BY v.distance LIMIT ?"
            args: tuple[object, ...] = (vector, min(k + extra, KNN_MAX_K), modality)
        else:
            # Restricted by folder, date or type: an exact scan of the matching files' vectors.
            sql = select.format(dist="vec_distance_cosine(v.embedding, ?) AS d", source="vectors v")
            sql += f"WHERE v.modality = ? AND {condition} ORDER BY d LIMIT ?"
            args = (vector, modality)
        rows = self.conn.execute(sql, (*args, *condition_args, k))
        return [chunk_hit(row) for row in rows]


def _top(similarity: Matrix, count: int) -> Ids:
    """Positions of the count highest finite similarities, highest first."""
    count = min(count, len(similarity))
    if count <= 0:
        return np.zeros(0, dtype=np.int64)
    if count < len(similarity):
        at = np.argpartition(-similarity, count - 1)[:count]
    else:
        at = np.arange(len(similarity))
    at = at[np.argsort(-similarity[at], kind="stable")]
    return at[np.isfinite(similarity[at])].astype(np.int64)
