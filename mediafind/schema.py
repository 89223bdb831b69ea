"""The library file's schema: its tables, one migration step per version, and the connection
that opens it with sqlite-vec loaded (the one place it is)."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import apsw
import sqlite_vec

from mediafind.errors import (
    DiskFull,
    LibraryBusy,
    LibraryDamaged,
    LibraryError,
    LibraryReadOnly,
    MediafindError,
    NotALibrary,
)

# How long a connection waits for another one's lock before giving up. Long enough to ride out
# an indexer batch commit, short enough that a stuck writer is reported rather than hanging.
BUSY_TIMEOUT_MS = 10_000

# One step per schema version: MIGRATIONS[i] upgrades version i to i + 1. Never edit a step that
# has shipped; add a new one.
MIGRATIONS: list[str] = [
    # 0 -> 1: the first schema.
    """
    CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE roots(
        id INTEGER PRIMARY KEY,
        path BLOB NOT NULL UNIQUE,
        polling INTEGER,                      -- NULL: decide from the drive
        excludes TEXT NOT NULL DEFAULT '[]',  -- JSON list of glob patterns
        added_at REAL NOT NULL,
        state TEXT,                           -- as the watching process last saw it
        note TEXT                             -- why it is in that state
    );
    CREATE TABLE files(
        id INTEGER PRIMARY KEY,
        path BLOB NOT NULL UNIQUE,
        root_id INTEGER REFERENCES roots(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('photo', 'note')),
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        caption_sig TEXT,                     -- size:mtime of a photo's sidecar caption
        hash TEXT,                            -- content hash, to recognise moves and copies
        status TEXT NOT NULL CHECK (status IN ('pending', 'indexed', 'error')),
        priority INTEGER NOT NULL DEFAULT 0,  -- pending files the user may be waiting for: 1
        error TEXT,
        width INTEGER,
        height INTEGER,
        taken_at REAL,
        indexed_at REAL
    );
    CREATE INDEX files_hash ON files(hash);
    CREATE INDEX files_root ON files(root_id);
    CREATE INDEX files_status ON files(status);
    CREATE INDEX files_pending ON files(priority DESC, id) WHERE status = 'pending';
    CREATE TABLE chunks(
        id INTEGER PRIMARY KEY,
        file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('image', 'text', 'caption')),
        text TEXT,
        start INTEGER,
        end INTEGER
    );
    CREATE INDEX chunks_file ON chunks(file_id);
    -- The keyword index covers text chunks only; the view keeps its content table free of the
    -- picture rows, whose text is NULL.
    CREATE VIEW text_chunks AS SELECT id, text FROM chunks WHERE text IS NOT NULL;
    CREATE VIRTUAL TABLE chunks_fts USING fts5(
        text, content='text_chunks', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks WHEN new.text IS NOT NULL BEGIN
        INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks WHEN old.text IS NOT NULL BEGIN
        INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END;
    """,
    # 1 -> 2: where a text chunk sits in its document, to show it: page (PDFs) and heading.
    """
    ALTER TABLE chunks ADD COLUMN page INTEGER;
    ALTER TABLE chunks ADD COLUMN heading TEXT;
    """,
    # 2 -> 3: what the user should know about a file that was indexed, e.g. only in part.
    """
    ALTER TABLE files ADD COLUMN note TEXT;
    """,
    # 3 -> 4: file and folder names as words, relative to the watched folder and without
    # accents, so that `beach` finds IMG_2024-07-14_beach.jpg and `grandma` the photos in
    # "Grandma's 80th". The index keeps no copy of the names (contentless); triggers keep it in
    # step with the files, whatever changes them.
    """
    CREATE VIEW file_names AS
        SELECT f.id, coalesce(
            substr(CAST(f.path AS TEXT), length(CAST(r.path AS TEXT)) + 2), CAST(f.path AS TEXT)
        ) AS name
        FROM files f LEFT JOIN roots r ON r.id = f.root_id;
    CREATE VIRTUAL TABLE names_fts USING fts5(
        name, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER names_fts_insert AFTER INSERT ON files BEGIN
        INSERT INTO names_fts(rowid, name) SELECT id, name FROM file_names WHERE id = new.id;
    END;
    CREATE TRIGGER names_fts_update AFTER UPDATE OF path, root_id ON files BEGIN
        DELETE FROM names_fts WHERE rowid = old.id;
        INSERT INTO names_fts(rowid, name) SELECT id, name FROM file_names WHERE id = new.id;
    END;
    CREATE TRIGGER names_fts_delete AFTER DELETE ON files BEGIN
        DELETE FROM names_fts WHERE rowid = old.id;
    END;
    INSERT INTO names_fts(rowid, name) SELECT id, name FROM file_names;
    """,
    # 4 -> 5: searches read a copy of the vectors beside the library (mediafind.nearest), which
    # catches up with the library by reading what changed since it was made: a log of the
    # chunks that came or went (a chunk's vector comes and goes with it), kept by triggers in
    # the same transaction, whatever writes the chunks. Each entry drops the one 100,000 older,
    # so the log holds the latest changes only; a copy further behind is made anew. Each entry
    # has a random stamp: a library put back to an older state (a backup) and changed since
    # has other stamps than the copy knows. The vectors token names the vectors table; the store
    # draws a new one whenever it makes the table anew.
    """
    CREATE TABLE vector_log(
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        chunk_id INTEGER NOT NULL,
        stamp INTEGER NOT NULL
    );
    CREATE TRIGGER vector_log_insert AFTER INSERT ON chunks BEGIN
        INSERT INTO vector_log(chunk_id, stamp) VALUES (new.id, random());
        DELETE FROM vector_log WHERE seq <= last_insert_rowid() - 100000;
    END;
    CREATE TRIGGER vector_log_delete AFTER DELETE ON chunks BEGIN
        INSERT INTO vector_log(chunk_id, stamp) VALUES (old.id, random());
        DELETE FROM vector_log WHERE seq <= last_insert_rowid() - 100000;
    END;
    INSERT INTO meta(key, value) VALUES ('vectors_token', lower(hex(randomblob(16))));
    """,
    # 5 -> 6: `status` reads counts per kind and state, per watched folder, and the latest
    # notes and errors; at a million files each was a scan of the whole table (0.45 + 0.18 +
    # 0.15 s). Covering indexes make the counts a scan of a small index, and partial ones
    # make the latest notes and errors a walk down a short index. (root_id, status) serves
    # every use of the old files_root too.
    """
    CREATE INDEX files_kind_status ON files(kind, status);
    CREATE INDEX files_root_status ON files(root_id, status);
    DROP INDEX files_root;
    CREATE INDEX files_noted ON files(indexed_at) WHERE note IS NOT NULL;
    CREATE INDEX files_failed ON files(indexed_at) WHERE status = 'error';
    """,
    # 6 -> 7: text read in pictures (OCR). Its chunks have a source of their own, 'ocr', and
    # keep where their lines stand in the picture (boxes: a JSON list of [left, top, right,
    # bottom] fractions, one per line); a file keeps which reader read it (text_read: NULL, not
    # read), so that turning reading on or off finds the files to read again; and what each
    # reader read in each content is kept (picture_text: lines as JSON, [] for no text), so that
    # a copy or an unchanged picture is never read twice. The chunks' CHECK names their
    # sources, so the table is made anew with the same ids (the keyword index and the vectors
    # are keyed by them and stay valid), and the view and triggers on it with it.
    """
    DROP VIEW text_chunks;
    CREATE TABLE chunks_new(
        id INTEGER PRIMARY KEY,
        file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('image', 'text', 'caption', 'ocr')),
        text TEXT,
        start INTEGER,
        end INTEGER,
        page INTEGER,
        heading TEXT,
        boxes TEXT
    );
    INSERT INTO chunks_new(id, file_id, seq, source, text, start, end, page, heading)
        SELECT id, file_id, seq, source, text, start, end, page, heading FROM chunks;
    DROP TABLE chunks;
    ALTER TABLE chunks_new RENAME TO chunks;
    CREATE INDEX chunks_file ON chunks(file_id);
    CREATE VIEW text_chunks AS SELECT id, text FROM chunks WHERE text IS NOT NULL;
    CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks WHEN new.text IS NOT NULL BEGIN
        INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks WHEN old.text IS NOT NULL BEGIN
        INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END;
    CREATE TRIGGER vector_log_insert AFTER INSERT ON chunks BEGIN
        INSERT INTO vector_log(chunk_id, stamp) VALUES (new.id, random());
        DELETE FROM vector_log WHERE seq <= last_insert_rowid() - 100000;
    END;
    CREATE TRIGGER vector_log_delete AFTER DELETE ON chunks BEGIN
        INSERT INTO vector_log(chunk_id, stamp) VALUES (old.id, random());
        DELETE FROM vector_log WHERE seq <= last_insert_rowid() - 100000;
    END;
    ALTER TABLE files ADD COLUMN text_read TEXT;
    CREATE TABLE picture_text(
        hash TEXT NOT NULL,
        reader TEXT NOT NULL,
        lines TEXT NOT NULL,
        PRIMARY KEY (hash, reader)
    ) WITHOUT ROWID;
    """,
    # 7 -> 8: people, tags and places, read from what a photo's metadata and its sidecars say
    # (mediafind.people). photo_facts has a row per photo read, with the size:mtime_ns:sidecar
    # signature it was read at (key), so that only photos changed since are read again, and
    # its place (NULL without GPS); photo_names its people (person 1) and tags (person 0), each
    # with its folded form for filters. facts_fts holds all of it as words, for search.
    """
    CREATE TABLE photo_facts(
        file_id INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        lat REAL,
        lon REAL,
        city TEXT,
        region TEXT,
        country TEXT,
        place_key TEXT          -- ' city | region | country ', folded, for place:
    );
    CREATE INDEX photo_facts_placed ON photo_facts(file_id) WHERE lat IS NOT NULL;
    CREATE INDEX photo_facts_place ON photo_facts(place_key) WHERE place_key IS NOT NULL;
    CREATE TABLE photo_names(
        file_id INTEGER NOT NULL REFERENCES photo_facts(file_id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        folded TEXT NOT NULL,
        person INTEGER NOT NULL,
        PRIMARY KEY (file_id, folded, person)
    ) WITHOUT ROWID;
    CREATE INDEX photo_names_folded ON photo_names(person, folded);
    CREATE VIRTUAL TABLE facts_fts USING fts5(
        words, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER facts_fts_delete AFTER DELETE ON photo_facts BEGIN
        DELETE FROM facts_fts WHERE rowid = old.file_id;
    END;
    """,
    # 8 -> 9: near-duplicates (mediafind.dupes). Each picture content's perceptual hashes, of
    # the whole picture and of its middle (dupes_hash), kept by content hash like the text read
    # in pictures: a copy, a move or an unchanged file is never hashed again. Signed 64-bit.
    """
    CREATE TABLE picture_hashes(
        hash TEXT PRIMARY KEY,
        whole INTEGER NOT NULL,
        middle INTEGER NOT NULL
    ) WITHOUT ROWID;
    """,
    # 9 -> 10: near-duplicates found as pictures arrive (mediafind.dupes.link), not by a pass
    # over the whole library each time. picture_bands: the bands of each content's hashes
    # (band * 65536 + its 16 bits), its look-up index; a content with none is not linked yet.
    # picture_pairs: contents whose hashes are at most dupes.NEAR_BITS apart (a < b), with how
    # many bits; whether they are copies is judged when duplicates are asked for (shapes,
    # names and vectors), from these alone.
    """
    CREATE TABLE picture_bands(
        band_key INTEGER NOT NULL,
        hash TEXT NOT NULL REFERENCES picture_hashes(hash) ON DELETE CASCADE,
        PRIMARY KEY (band_key, hash)
    ) WITHOUT ROWID;
    CREATE INDEX picture_bands_hash ON picture_bands(hash);
    CREATE TABLE picture_pairs(
        a TEXT NOT NULL REFERENCES picture_hashes(hash) ON DELETE CASCADE,
        b TEXT NOT NULL REFERENCES picture_hashes(hash) ON DELETE CASCADE,
        bits INTEGER NOT NULL,
        PRIMARY KEY (a, b)
    ) WITHOUT ROWID;
    CREATE INDEX picture_pairs_b ON picture_pairs(b);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


def connect(path: Path, read_only: bool = False) -> apsw.Connection:
    """A connection to the library file at path, waiting out other writers' locks, with
    sqlite-vec loaded and foreign keys on; the caller brings the schema up to date.
    read_only: the file's folder cannot be written (read-only media, a backup), so SQLite cannot
    make the files beside it that its locks need: open it as immutable, which needs none (no
    process writes a library there, so there is nothing to lock against)."""
    try:
        if read_only:
            conn = apsw.Connection(
                path.absolute().as_uri() + "?immutable=1",
                flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI,
            )
        else:
            conn = apsw.Connection(str(path))
    except apsw.Error as e:
        raise translated(e, path) or LibraryError(f"cannot open library {path}: {e}") from e
    conn.set_busy_timeout(BUSY_TIMEOUT_MS)
    # The one place sqlite-vec is loaded.
    conn.enable_load_extension(True)
    conn.load_extension(sqlite_vec.loadable_path())
    conn.enable_load_extension(False)
    conn.pragma("foreign_keys", True)
    return conn


def translated(error: BaseException, path: Path) -> MediafindError | None:
    """What a storage error met while using the library at path means, as one sentence naming
    the file and what to do; None for errors that are not about the storage (they are bugs, and
    keep their traceback)."""
    if isinstance(error, MediafindError):
        return error
    if isinstance(error, (apsw.CorruptError, apsw.NotADBError)):
        return damaged(path, str(error))
    if isinstance(error, apsw.FullError) or _errno(error) in (errno.ENOSPC, errno.EDQUOT):
        return disk_full(path)
    if isinstance(error, apsw.ReadOnlyError) or _errno(error) in (errno.EROFS, errno.EACCES):
        why = "read-only file system" if _errno(error) == errno.EROFS else "permission denied"
        return read_only(path, why if not isinstance(error, apsw.Error) else str(error))
    if isinstance(error, apsw.CantOpenError):
        folder = path.parent
        if not os.access(folder, os.W_OK):
            return read_only(path, "the folder cannot be written")
        return LibraryError(f"cannot open the library {path} ({error}); check that the disk "
                            "holding it is there and readable")  # fmt: skip
    if isinstance(error, apsw.BusyError):
        return LibraryBusy(f"library {path} is locked by another process; try again once it "
                           "is done")  # fmt: skip
    if isinstance(error, apsw.IOError):
        if free_bytes(path) < FREE_SPACE_MARGIN:
            return disk_full(path)
        return LibraryError(f"cannot read or write the library {path} ({error}); check the disk "
                            "holding it, then run `mediafind doctor`")  # fmt: skip
    return None


def damaged(path: Path, detail: str) -> LibraryError:
    """A library SQLite cannot read, as one sentence: a database file (its header says so) is
    damaged; anything else is not a library at all."""
    if not _says_sqlite(path):
        return not_a_library(path, "file is not a database")
    return LibraryDamaged(
        f"{path} is damaged ({detail}); run `mediafind doctor` to check and repair it"
    )


FOREIGN = "a database without mediafind's tables"


def foreign(conn: apsw.Connection) -> bool:
    """Whether the database is another program's: tables, but not mediafind's."""
    version = int(conn.pragma("user_version"))
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return (version == 0 and bool(tables)) or (version > 0 and "meta" not in tables)


def not_a_library(path: Path, why: str) -> NotALibrary:
    return NotALibrary(
        f"{path} is not a mediafind library ({why}); if it was one, `mediafind doctor` can move "
        "it aside and make a new one, otherwise choose another library folder"
    )


def disk_full(path: Path) -> DiskFull:
    megabytes = free_bytes(path) / 1e6
    return DiskFull(
        f"the disk holding {path} is full ({megabytes:.0f} MB free); free some space and try again"
    )


def read_only(path: Path, why: str) -> LibraryReadOnly:
    return LibraryReadOnly(
        f"{path} is on a read-only disk or folder ({why}): it can be searched but not changed; "
        "copy its folder somewhere writable to index it"
    )


# Indexing refuses to start with less free space than this beside the library (and a write that
# fails for want of space says the disk is full): a batch of vectors, its chunks and the WAL
# growing with them take a few megabytes; with less, indexing would embed for minutes and then
# fail to save any of it. Small enough not to stand in the way on a nearly full disk.
FREE_SPACE_MARGIN = 16 * 2**20


def free_bytes(path: Path) -> int:
    """Free space on the disk holding path (the file or, before it exists, its folder)."""
    for place in (path, path.parent):
        try:
            return shutil.disk_usage(place).free
        except OSError:
            continue
    return 0


def _errno(error: BaseException) -> int | None:
    return error.errno if isinstance(error, OSError) else None


# The first bytes of every SQLite database file.
_SQLITE_MAGIC = b"SQLite format 3\x00"


def _says_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    except OSError:
        return False
