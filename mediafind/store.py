"""The library file: every query and write, through the Store class, returning typed rows.
Queries of one feature live beside it in store-side modules that take a Store (text_rows,
search_rows, status_rows, people_rows, dupes_rows, evaluate_rows, roots_rows).

The tables and their migrations are in mediafind.schema, the row types in mediafind.rows, the
one-writer lock in mediafind.writelock, the nearest-neighbour search (over a copy of the vectors
beside the library) in mediafind.nearest; their names are re-exported here for callers.
One process writes (the indexer); readers open their own connections. WAL lets them overlap.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Concatenate, Literal, NoReturn, ParamSpec, TypeVar

import apsw

from mediafind import privacy
from mediafind.errors import (
    NOTHING_BEGUN,
    NOTHING_SAID,
    LibraryBusy,
    LibraryError,
    LibraryTooNew,
)
from mediafind.nearest import Nearest
from mediafind.people_rows import PeopleRows
from mediafind.rows import (
    CAPTION_SOURCE,
    EMPTY,
    ERROR,
    IMAGE_SOURCE,
    INDEXED,
    NOTE,
    OCR_SOURCE,
    PENDING,
    PHOTO,
    TEXT_SOURCE,
    ChunkHit,
    DatedFile,
    ErrorRow,
    FileFacts,
    FileFilter,
    FileRow,
    ModelInfo,
    NamedFile,
    NewChunk,
    Root,
    encode_path,
    prefix_range,
)
from mediafind.schema import (
    BUSY_TIMEOUT_MS,
    FOREIGN,
    FREE_SPACE_MARGIN,
    MIGRATIONS,
    SCHEMA_VERSION,
    connect,
    disk_full,
    foreign,
    free_bytes,
    not_a_library,
    read_only,
    translated,
)
from mediafind.vectorfile import Matrix
from mediafind.writelock import WriterLock

# What callers have always imported from here; they live in the modules above.
__all__ = [
    "BUSY_TIMEOUT_MS",
    "CAPTION_SOURCE",
    "EMPTY",
    "ERROR",
    "IMAGE_SOURCE",
    "INDEXED",
    "MIGRATIONS",
    "NOTE",
    "OCR_SOURCE",
    "PENDING",
    "PHOTO",
    "SCHEMA_VERSION",
    "TEXT_SOURCE",
    "ChunkHit",
    "DatedFile",
    "ErrorRow",
    "FileFacts",
    "FileFilter",
    "FileRow",
    "ModelInfo",
    "NamedFile",
    "NewChunk",
    "Root",
    "Store",
    "WriterLock",
]

log = logging.getLogger(__name__)

# Files in error whose reason says they hold nothing to index (errors.nothing_to_read, in SQL).
EMPTY_SQL = (
    "("
    + " OR ".join(
        ["error = ?"] * len(NOTHING_SAID) + ["substr(error, 1, ?) = ?"] * len(NOTHING_BEGUN)
    )
    + ")"
)
EMPTY_SQL_ARGS = (*NOTHING_SAID, *(x for b in NOTHING_BEGUN for x in (len(b), b)))
# FileRow's fields, in its order.
_FILE_COLUMNS = "id, path, root_id, kind, size, mtime_ns, caption_sig, hash, status, error"


# os.fsdecode's codec, called directly: a rescan decodes every stored path of a folder.
_FS_CODEC = (sys.getfilesystemencoding(), sys.getfilesystemencodeerrors())


def _file_row(row: Sequence[Any]) -> FileRow:
    return FileRow(row[0], row[1].decode(*_FS_CODEC), *row[2:])


P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound="Store")


def guarded(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """A store method, or a function of a store-side module that takes the store first, whose
    storage errors (a damaged page met by this query, a full disk, a read-only file) are
    raised as the library errors they mean, naming the file (see schema.translated); other
    errors, bugs, keep their traceback."""

    @functools.wraps(method)
    def call(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except apsw.Error as e:
            self._raise_translated(e)

    return call


def _guard_methods(cls: type[S]) -> type[S]:
    """Every public method of the store guarded (see guarded): the store owns all SQL, so this
    is where a storage error meets the file it is about. atomic() guards its own commit."""
    for name, value in list(vars(cls).items()):
        if not name.startswith("_") and inspect.isfunction(value) and name != "atomic":
            setattr(cls, name, guarded(value))
    return cls


@_guard_methods
class Store:
    """A library file. Use ``Store.open``; close it when done (or use it as a context manager)."""

    def __init__(
        self,
        conn: apsw.Connection,
        path: Path,
        lock: WriterLock | None = None,
        read_only: bool = False,
    ) -> None:
        self.conn = conn
        self.path = path
        self.read_only = read_only
        self._lock = lock
        self._depth = 0
        self._nearest = Nearest(conn, path, writable=not read_only)
        self.people = PeopleRows(conn)  # people, tags and places

    # -- opening and schema ---------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, writer: bool = False) -> Store:
        """Open (creating if needed) the library file and bring its schema up to date.
        writer: this process will change the library; refused while another process does.
        A reader of a library whose folder cannot be written (read-only media, a backup) opens
        it read-only. Every storage failure is a LibraryError that names the file and what to
        do (schema.translated)."""
        try:
            try:
                return cls._open(path, writer)
            except (apsw.FullError, apsw.IOError, apsw.CantOpenError):
                # A reader on a full disk: SQLite cannot make the shared-memory file its WAL
                # locks need. Read it as a read-only disk is read, while no process writes it.
                if writer or not path.is_file() or WriterLock(path).holder() is not None:
                    raise
                return cls._open(path, writer, read_only=True)
        except (apsw.Error, OSError) as e:
            found = translated(e, path)
            if found is None:
                raise
            raise found from e

    @classmethod
    def _open(cls, path: Path, writer: bool, read_only: bool = False) -> Store:
        if path.is_dir():
            raise LibraryError(f"{path} is a folder, not a library file")
        privacy.private_folder(path.parent)
        lock = None
        if writer:
            lock = WriterLock(path)
            lock.acquire()
        read_only |= not writer and path.exists() and not os.access(path.parent, os.W_OK)
        try:
            if not path.exists():
                _create(path)
            elif _empty(path):
                raise not_a_library(path, "empty file")
            conn = connect(path, read_only)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        # SQLite made the file (empty) with the umask's mode, and makes its journal files with
        # the file's mode: taken to 0600 before anything is written (or when an older version
        # left it wider).
        for part in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))):
            privacy.tighten(part)
        store = cls(conn, path, lock, read_only)
        try:
            store._check_ours()
            if not read_only:
                mode = store._wal()
                if mode != "wal":
                    log.warning("library %s is not in WAL mode (%s); readers may wait", path, mode)
            store._migrate()
        except apsw.BusyError as e:
            store.close()
            raise LibraryBusy(f"library {path} is locked by another process") from e
        except BaseException:
            store.close()
            raise
        return store

    def _wal(self) -> str:
        """Switch to WAL (a no-op once the file is in WAL). Switching a new file needs it to
        itself for a moment, and SQLite does not wait for that: another connection creating
        the same library at the same time would make this fail at once, so retry a while."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                return str(self.conn.pragma("journal_mode", "wal"))
            except apsw.BusyError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _check_ours(self) -> None:
        """Refuse another program's database before anything is written to it (not even the
        switch to WAL): its tables are not to be touched, let alone added to."""
        if foreign(self.conn):
            raise not_a_library(self.path, FOREIGN)

    def _migrate(self) -> None:
        version = int(self.conn.pragma("user_version"))
        if version > SCHEMA_VERSION:
            raise LibraryTooNew(
                f"library {self.path} was written by a newer mediafind (schema {version}, "
                f"this version knows up to {SCHEMA_VERSION}); update mediafind to open it"
            )
        if version == SCHEMA_VERSION:
            return
        if self.read_only:
            raise read_only(self.path, f"its schema {version} must be upgraded first")
        if version > 0:
            backup = self.path.with_name(f"{self.path.name}.v{version}.bak")
            log.info("backing up library to %s before upgrading its schema", backup)
            backup.unlink(missing_ok=True)
            self.conn.execute("VACUUM INTO ?", (str(backup),))
            privacy.tighten(backup)
        with self.atomic():
            # Read again under the write lock: another connection opening the same new
            # library may have upgraded it since (two would both create the tables).
            version = int(self.conn.pragma("user_version"))
            for step in range(version, SCHEMA_VERSION):
                log.info("upgrading library schema %d -> %d", step, step + 1)
                self.conn.execute(MIGRATIONS[step])
            self.conn.pragma("user_version", SCHEMA_VERSION)

    def close(self) -> None:
        self._nearest.close()
        self.conn.close()
        if self._lock is not None:
            self._lock.release()

    def writer_pid(self) -> int | None:
        """The pid of the process allowed to write this library now, if any."""
        return (self._lock or WriterLock(self.path)).holder()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """A write transaction; nested calls become savepoints. Rolls back on any exception,
        and raises that exception, never one from the rollback: SQLite has already rolled the
        whole transaction back after some errors (a full disk), so a rollback can fail too. A
        storage error is raised as the library error it means (schema.translated)."""
        if self._depth:
            name = f"mediafind_{self._depth}"
            self.conn.execute(f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield
            except BaseException:
                if not self.conn.getautocommit():  # else SQLite rolled it all back already
                    self._quietly(f"ROLLBACK TO {name}; RELEASE {name}")
                raise
            else:
                self.conn.execute(f"RELEASE {name}")
            finally:
                self._depth -= 1
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except apsw.BusyError as e:
            raise LibraryBusy(f"library {self.path} is being written by another process") from e
        except apsw.Error as e:
            self._raise_translated(e)
        self._depth = 1
        try:
            yield
            self.conn.execute("COMMIT")
        except apsw.Error as e:
            self._rollback()
            self._raise_translated(e)
        except BaseException:
            self._rollback()
            raise
        finally:
            self._depth = 0

    def _raise_translated(self, error: apsw.Error) -> NoReturn:
        """Raise the library error a storage error means, or the error itself (a bug)."""
        found = translated(error, self.path)
        if found is None:
            raise error
        raise found from error

    def _rollback(self) -> None:
        if not self.conn.getautocommit():
            self._quietly("ROLLBACK")

    def _quietly(self, sql: str) -> None:
        """Undo after a failure: what failed is the error to raise; a failure to undo is
        logged (SQLite rolls back what is left when the connection closes)."""
        try:
            self.conn.execute(sql)
        except apsw.Error as e:
            log.info("%s after a failed write of %s also failed: %s", sql, self.path, e)

    def check_room(self) -> None:
        """Raise DiskFull when the disk holding the library has too little free space for
        indexing to save anything (see schema.FREE_SPACE_MARGIN): said before minutes of
        embedding, not after."""
        if free_bytes(self.path) < FREE_SPACE_MARGIN:
            raise disk_full(self.path)

    def _scalar(self, sql: str, args: tuple[object, ...] = ()) -> Any:
        row = self.conn.execute(sql, args).fetchone()
        assert row is not None
        return row[0]

    # -- meta and model -------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def model(self) -> ModelInfo | None:
        """The model whose vectors this library holds, if any."""
        raw = self._meta("model")
        if raw is None:
            return None
        data = json.loads(raw)
        return ModelInfo(data["spec"], data["identity"], int(data["dimension"]))

    def set_model(self, info: ModelInfo) -> bool:
        """Make info the library's model. A different model drops every vector and marks every
        file pending, so the index is re-embedded and never mixes two models. Returns whether
        anything had to be reset."""
        current = self.model()
        if current is not None and (current.identity, current.dimension) == (
            info.identity,
            info.dimension,
        ):
            if current.spec != info.spec:
                with self.atomic():
                    self._set_meta("model", json.dumps(_model_json(info)))
            return False
        with self.atomic():
            reset = current is not None
            if reset:
                log.info("model changed from %s to %s: re-embedding", current, info)
                self.conn.execute("DELETE FROM chunks")
                self.conn.execute(
                    "UPDATE files SET status = 'pending', hash = NULL WHERE status = 'indexed'"
                )
            self.conn.execute("DROP TABLE IF EXISTS vectors")
            self.conn.execute(
                "CREATE VIRTUAL TABLE vectors USING vec0("
                f"chunk_id INTEGER PRIMARY KEY, embedding float[{int(info.dimension)}] "
                "distance_metric=cosine, modality TEXT)"
            )
            # A new vectors table: copies of the old one's vectors (mediafind.nearest) are stale.
            self._set_meta("vectors_token", secrets.token_hex(16))
            self._set_meta("model", json.dumps(_model_json(info)))
        return reset

    # -- files ----------------------------------------------------------------------------

    def files_under(self, root_id: int) -> dict[str, FileRow]:
        """The files of a watched folder, by their path as text (FileRow.path_str)."""
        rows = self.conn.execute(f"SELECT {_FILE_COLUMNS} FROM files WHERE root_id = ?", (root_id,))
        return {r.path_str: r for r in map(_file_row, rows)}

    def file(self, file_id: int) -> FileRow | None:
        row = self.conn.execute(f"SELECT {_FILE_COLUMNS} FROM files WHERE id = ?", (file_id,))
        found = row.fetchone()
        return None if found is None else _file_row(found)

    def file_by_path(self, path: Path) -> FileRow | None:
        row = self.conn.execute(
            f"SELECT {_FILE_COLUMNS} FROM files WHERE path = ?", (encode_path(path),)
        )
        found = row.fetchone()
        return None if found is None else _file_row(found)

    def pending(self) -> list[FileRow]:
        """Files waiting to be embedded, those the user may be waiting for first."""
        rows = self.conn.execute(
            f"SELECT {_FILE_COLUMNS} FROM files WHERE status = 'pending' ORDER BY priority DESC, id"
        )
        return list(map(_file_row, rows))

    def has_pending(self) -> bool:
        return (
            self.conn.execute("SELECT 1 FROM files WHERE status = 'pending' LIMIT 1").fetchone()
            is not None
        )

    def pending_count(self) -> int:
        return int(self._scalar("SELECT count(*) FROM files WHERE status = 'pending'"))

    def files_at(self, path: Path) -> list[FileRow]:
        """The file at path, or every file under it when it is a folder."""
        low, high = prefix_range(path)
        rows = self.conn.execute(
            f"SELECT {_FILE_COLUMNS} FROM files WHERE path = ? OR (path >= ? AND path < ?)",
            (encode_path(path), low, high),
        )
        return list(map(_file_row, rows))

    def mark_pending(
        self,
        root_id: int,
        path: Path,
        kind: str,
        size: int,
        mtime_ns: int,
        caption_sig: str | None,
        priority: int = 0,
    ) -> None:
        """Record a new or changed file as waiting to be embedded (its old vectors stay until
        the new ones replace them)."""
        self.conn.execute(
            "INSERT INTO files(path, root_id, kind, size, mtime_ns, caption_sig, status, priority) "
            "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT(path) DO UPDATE SET "
            "root_id = excluded.root_id, kind = excluded.kind, size = excluded.size, "
            "mtime_ns = excluded.mtime_ns, caption_sig = excluded.caption_sig, "
            "status = 'pending', error = NULL, priority = max(priority, excluded.priority)",
            (encode_path(path), root_id, kind, size, mtime_ns, caption_sig, priority),
        )

    def move_file(self, file_id: int, new_path: Path, mtime_ns: int) -> None:
        """A file moved or renamed with the same content: keep its row, chunks and vectors."""
        self.conn.execute(
            "UPDATE files SET path = ?, mtime_ns = ? WHERE id = ?",
            (encode_path(new_path), mtime_ns, file_id),
        )

    def delete_files(self, file_ids: Iterable[int]) -> int:
        """Remove files with their chunks, text index entries and vectors."""
        count = 0
        with self.atomic():
            has_vectors = self._has_vectors()
            for file_id in file_ids:
                self._delete_chunks(file_id, has_vectors)
                self.conn.execute("DELETE FROM files WHERE id = ?", (file_id,))
                count += 1
        return count

    def _has_vectors(self) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'vectors'"
        ).fetchone()
        return row is not None

    def _delete_chunks(self, file_id: int, has_vectors: bool, source: str | None = None) -> None:
        where = "file_id = ?" + (" AND source = ?" if source else "")
        args: tuple[object, ...] = (file_id, source) if source else (file_id,)
        if has_vectors:
            # By key, one chunk at a time: vec0 answers `chunk_id IN (SELECT …)` by scanning
            # every vector, which made saving one photo cost more the bigger the library.
            ids = [
                row[0] for row in self.conn.execute(f"SELECT id FROM chunks WHERE {where}", args)
            ]
            for chunk_id in ids:
                self.conn.execute("DELETE FROM vectors WHERE chunk_id = ?", (chunk_id,))
        self.conn.execute(f"DELETE FROM chunks WHERE {where}", args)

    def indexed_hashes(self) -> dict[tuple[str, str], int]:
        """(kind, content hash) -> an indexed file with that content, for reusing vectors."""
        rows = self.conn.execute(
            "SELECT kind, hash, min(id) FROM files WHERE status = 'indexed' AND hash IS NOT NULL "
            "GROUP BY kind, hash"
        )
        return {(kind, digest): file_id for kind, digest, file_id in rows}

    def copy_chunks(self, from_file: int, to_file: int, sources: Sequence[str]) -> None:
        """Replace to_file's chunks and vectors of the given sources by copies of from_file's,
        with the picture facts that come with the same content."""
        for source in sources:
            self._delete_chunks(to_file, True, source)
        self.conn.execute(
            "UPDATE files SET (width, height, taken_at, note) = "
            "(SELECT width, height, taken_at, note FROM files WHERE id = ?) WHERE id = ?",
            (from_file, to_file),
        )
        marks = ",".join("?" * len(sources))
        rows = self.conn.execute(
            "SELECT c.seq, c.source, c.text, c.start, c.end, c.page, c.heading, c.boxes, "
            "v.embedding, "
            "v.modality FROM chunks c JOIN vectors v ON v.chunk_id = c.id "
            f"WHERE c.file_id = ? AND c.source IN ({marks}) ORDER BY c.seq",
            (from_file, *sources),
        ).fetchall()
        for *chunk, embedding, modality in rows:
            self.conn.execute(
                "INSERT INTO chunks(file_id, seq, source, text, start, end, page, heading, boxes) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (to_file, *chunk),
            )
            self.conn.execute(
                "INSERT INTO vectors(chunk_id, embedding, modality) VALUES (?, ?, ?)",
                (self.conn.last_insert_rowid(), embedding, modality),
            )

    def save_indexed(
        self,
        file_id: int,
        *,
        content_hash: str,
        size: int,
        mtime_ns: int,
        chunks: Sequence[NewChunk],
        keep_sources: Sequence[str] = (),
        width: int | None = None,
        height: int | None = None,
        taken_at: float | None = None,
        note: str | None = None,
        caption_sig: str | Literal[False] | None = False,
        text_read: str | None = None,
    ) -> None:
        """Replace a file's chunks and vectors (all but keep_sources) and mark it indexed;
        picture facts left None keep their stored value; caption_sig: the signature of the
        sidecars whose captions were read (see captions.signature; False: keep the scan's);
        text_read: the reader that read the text in its pictures (None: not read).
        vec0 has no upsert: old rows are deleted and new ones inserted in one transaction."""
        with self.atomic():
            # The words saved while the model was missing (save_words) make way for these.
            self.conn.execute("DELETE FROM chunks WHERE file_id = ? AND seq < 0", (file_id,))
            every = {IMAGE_SOURCE, TEXT_SOURCE, CAPTION_SOURCE, OCR_SOURCE}
            for source in every - set(keep_sources):
                self._delete_chunks(file_id, True, source)
            first_seq = self._scalar(
                "SELECT coalesce(max(seq) + 1, 0) FROM chunks WHERE file_id = ?", (file_id,)
            )
            for seq, chunk in enumerate(chunks, start=first_seq):
                self.conn.execute(
                    "INSERT INTO chunks(file_id, seq, source, text, start, end, page, heading, "
                    "boxes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        file_id,
                        seq,
                        chunk.source,
                        chunk.text,
                        chunk.start,
                        chunk.end,
                        chunk.page,
                        chunk.heading,
                        chunk.boxes,
                    ),
                )
                modality = "image" if chunk.source == IMAGE_SOURCE else "text"
                self.conn.execute(
                    "INSERT INTO vectors(chunk_id, embedding, modality) VALUES (?, ?, ?)",
                    (self.conn.last_insert_rowid(), chunk.vector, modality),
                )
            self.conn.execute(
                "UPDATE files SET status = 'indexed', error = NULL, priority = 0, hash = ?, "
                "size = ?, mtime_ns = ?, width = coalesce(?, width), height = coalesce(?, height), "
                "taken_at = coalesce(?, taken_at), note = CASE WHEN ? THEN note ELSE ? END, "
                "caption_sig = CASE WHEN ? THEN ? ELSE caption_sig END, indexed_at = ?, "
                "text_read = ? WHERE id = ?",
                (
                    content_hash,
                    size,
                    mtime_ns,
                    width,
                    height,
                    taken_at,
                    bool(keep_sources),  # content kept: so is what was noted about it
                    note,
                    caption_sig is not False,
                    caption_sig or None,
                    time.time(),
                    text_read,
                    file_id,
                ),
            )

    def waiting_for_words(self) -> list[FileRow]:
        """Pending files whose words are not in the library yet (no chunk at all)."""
        rows = self.conn.execute(
            f"SELECT {_FILE_COLUMNS} FROM files f WHERE status = 'pending' AND NOT EXISTS "
            "(SELECT 1 FROM chunks c WHERE c.file_id = f.id) ORDER BY priority DESC, id"
        )
        return list(map(_file_row, rows))

    def save_words(self, file_id: int, chunks: Sequence[NewChunk]) -> None:
        """Make a pending file's text and captions searchable by their words before the model
        can embed them: chunks without vectors (their vector fields are ignored), numbered
        below zero so that save_indexed replaces them. The file stays pending."""
        with self.atomic():
            self.conn.execute("DELETE FROM chunks WHERE file_id = ? AND seq < 0", (file_id,))
            for seq, chunk in enumerate(chunks, start=1):
                self.conn.execute(
                    "INSERT INTO chunks(file_id, seq, source, text, start, end, page, heading, "
                    "boxes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (file_id, -seq, chunk.source, chunk.text, chunk.start, chunk.end,
                     chunk.page, chunk.heading, chunk.boxes),
                )  # fmt: skip

    def save_error(self, file_id: int, reason: str, size: int, mtime_ns: int) -> None:
        """Record why a file cannot be indexed; stale vectors of it go, the row stays."""
        with self.atomic():
            self._delete_chunks(file_id, self._has_vectors())
            self.conn.execute(
                "UPDATE files SET status = 'error', error = ?, priority = 0, hash = NULL, "
                "size = ?, mtime_ns = ?, indexed_at = ? WHERE id = ?",
                (reason, size, mtime_ns, time.time(), file_id),
            )

    # -- search ---------------------------------------------------------------------------

    def knn(
        self,
        vector: bytes,
        modality: str,
        k: int,
        folder: Path | None = None,
        exclude_files: Sequence[int] = (),
        where: FileFilter | None = None,
        with_vectors: bool = False,
    ) -> list[ChunkHit]:
        """The k chunks nearest to vector among one modality ('image' or 'text'), nearest first,
        of files inside folder and passing where, less the excluded files; with_vectors: each
        with its stored vector (read in the same query, not again later)."""
        if not self._has_vectors() or k <= 0:
            return []
        info = self.model()
        if info is None:
            return []
        where = replace(
            where or FileFilter(),
            folder=folder if folder is not None else (where.folder if where else None),
            exclude=(*(where.exclude if where else ()), *exclude_files),
        )
        return self._nearest.knn(vector, modality, k, where, info.dimension, with_vectors)

    def vectors_of(self, chunk_ids: Sequence[int]) -> dict[int, Matrix]:
        """The stored vectors of these chunks (those that have one), read in blocks."""
        info = self.model()
        if info is None or not self._has_vectors():
            return {}
        return self._nearest.vectors(chunk_ids, info.dimension)

    def vector_count(self) -> int:
        if not self._has_vectors():
            return 0
        return int(self._scalar("SELECT count(*) FROM vectors"))

    # -- status ---------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Indexed photos and notes, pending files, files that could not be read (error), and
        files that hold nothing to index (empty; see errors.nothing_to_read)."""
        counts = {PHOTO: 0, NOTE: 0, ERROR: 0, PENDING: 0, EMPTY: 0}
        for kind, status, n in self.conn.execute(
            "SELECT kind, status, count(*) FROM files GROUP BY kind, status"
        ):
            counts[kind if status == INDEXED else status] += n
        if counts[ERROR]:
            empty = self._scalar(
                f"SELECT count(*) FROM files WHERE status = 'error' AND {EMPTY_SQL}", EMPTY_SQL_ARGS
            )
            counts[ERROR] -= empty
            counts[EMPTY] = empty
        return counts

    def facts(self, path: Path) -> FileFacts | None:
        """What the library knows of the file at path; None when it holds no such file."""
        row = self.conn.execute(
            "SELECT kind, status, size, mtime_ns, width, height, taken_at FROM files "
            "WHERE path = ?",
            (encode_path(path),),
        ).fetchone()
        return None if row is None else FileFacts(*row)


def _create(path: Path) -> None:
    """Make a new library file at path whole, or not at all: its schema is written to a file
    beside it, which then takes its place, so that a crash cannot leave an empty file there
    (an empty file is refused as not a library: it was not made by mediafind). Another process
    making the same library at the same moment: the first one's file stays."""
    temp = path.with_name(f"{path.name}.new-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        # Readable by the user only from the start: SQLite gives its journal files this mode.
        privacy.open_private(temp, "wb").close()
        with Store(connect(temp), temp) as store:
            store._migrate()
            store.conn.pragma("journal_mode", "wal")  # kept by the file
        try:
            os.link(temp, path)
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                temp.replace(path)
    finally:
        for part in (temp, *_sidecars(temp)):
            part.unlink(missing_ok=True)


def _sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def _empty(path: Path) -> bool:
    """Whether the library file is empty: a new library in WAL mode has its first page in the
    file at once, so an empty file (with no WAL beside it) was not made by mediafind."""
    try:
        if path.stat().st_size:
            return False
        wal = path.with_name(path.name + "-wal")
        return not (wal.exists() and wal.stat().st_size)
    except OSError:
        return False


def _model_json(info: ModelInfo) -> dict[str, object]:
    return {"spec": info.spec, "identity": info.identity, "dimension": info.dimension}
