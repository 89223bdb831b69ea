"""What a search reads from the library besides the nearest vectors (Store.knn): chunks and
file names matching words (FTS5), files to browse and count, and the dates and passage counts
of the files found. The SQL lives here, beside the store's (mediafind.store), which would
otherwise grow by a concept."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import apsw

from mediafind.rows import (
    FILE_DATE,
    HIT_COLUMNS,
    NOTE,
    PHOTO,
    ChunkHit,
    DatedFile,
    FileFilter,
    NamedFile,
    chunk_hit,
    decode_path,
)
from mediafind.store import Store, guarded

log = logging.getLogger(__name__)

# A file's name, the last part of its stored path, in SQL on files aliased f: what is left once
# rtrim has taken off every character that is not a separator from the end is its folder.
_SEP = os.sep.replace("'", "''")
_PATH_TEXT = "CAST(f.path AS TEXT)"
_FILE_NAME = (
    f"substr({_PATH_TEXT}, length(rtrim({_PATH_TEXT}, replace({_PATH_TEXT}, '{_SEP}', ''))) + 1)"
)


def _named(row: Sequence[Any]) -> NamedFile:
    # The name is the path's bytes as text, which a name that is not UTF-8 cannot be read as.
    return NamedFile(row[0], decode_path(row[1]), row[2], os.fsdecode(row[3]))


@guarded
def keyword_chunks(
    store: Store, match: str, limit: int, where: FileFilter | None = None
) -> list[ChunkHit]:
    """Text chunks matching an FTS5 query, best (BM25) first; distance holds the BM25 rank
    (lower is better). A query FTS5 cannot parse matches nothing."""
    condition, condition_args = (where or FileFilter()).sql()
    try:
        rows = store.conn.execute(
            f"SELECT {HIT_COLUMNS}, t.rank FROM chunks_fts t "
            "JOIN chunks c ON c.id = t.rowid JOIN files f ON f.id = c.file_id "
            f"WHERE chunks_fts MATCH ? AND {condition} ORDER BY t.rank LIMIT ?",
            (match, *condition_args, limit),
        ).fetchall()
    except apsw.SQLError as e:
        log.info("keyword query %r not understood: %s", match, e)
        return []
    return [chunk_hit(row) for row in rows]


@guarded
def file_dates(store: Store, file_ids: Sequence[int]) -> dict[int, float]:
    """When each file was taken (EXIF date) or else last modified, as a timestamp."""
    if not file_ids:
        return {}
    marks = ",".join("?" * len(file_ids))
    rows = store.conn.execute(
        f"SELECT id, {FILE_DATE} FROM files f WHERE id IN ({marks})", tuple(file_ids)
    )
    return {i: float(d) for i, d in rows}


@guarded
def files_named(
    store: Store, match: str, limit: int, where: FileFilter | None = None
) -> list[NamedFile]:
    """Files (indexed or waiting to be) whose name or folder, below the watched folder,
    matches an FTS5 query, best first. A query FTS5 cannot parse matches nothing."""
    condition, condition_args = (where or FileFilter()).sql()
    try:
        rows = store.conn.execute(
            "SELECT f.id, f.path, f.kind, CAST(n.name AS BLOB) FROM names_fts "
            "JOIN file_names n ON n.id = names_fts.rowid JOIN files f ON f.id = n.id "
            f"WHERE names_fts MATCH ? AND f.status != 'error' AND {condition} "
            "ORDER BY names_fts.rank LIMIT ?",
            (match, *condition_args, limit),
        ).fetchall()
    except apsw.SQLError as e:
        log.info("name query %r not understood: %s", match, e)
        return []
    return [_named(row) for row in rows]


@guarded
def browse(
    store: Store,
    kind: str | None,
    limit: int,
    where: FileFilter | None = None,
    by_name: bool = False,
) -> list[DatedFile]:
    """Files of a kind (both kinds: None) that pass where, newest first: when a photo was
    taken, else when the file last changed; by_name: by file name, A to Z, instead."""
    condition, condition_args = (where or FileFilter()).sql()
    kinds = (kind,) if kind else (PHOTO, NOTE)
    order = f"{_FILE_NAME} COLLATE NOCASE, f.id" if by_name else f"{FILE_DATE} DESC, f.id DESC"
    rows = store.conn.execute(
        f"SELECT f.id, f.path, f.kind, {FILE_DATE} FROM files f "
        f"WHERE f.kind IN ({','.join('?' * len(kinds))}) AND f.status != 'error' "
        f"AND {condition} ORDER BY {order} LIMIT ?",
        (*kinds, *condition_args, limit),
    )
    return [DatedFile(i, decode_path(path), k, float(date)) for i, path, k, date in rows]


@guarded
def count(store: Store, kind: str, where: FileFilter | None = None) -> int:
    """How many files of a kind pass where: all that browse would list, were there no
    limit."""
    condition, condition_args = (where or FileFilter()).sql()
    row = store.conn.execute(
        f"SELECT count(*) FROM files f WHERE f.kind = ? AND f.status != 'error' AND {condition}",
        (kind, *condition_args),
    ).fetchone()
    assert row is not None
    return int(row[0])


@guarded
def passage_counts(store: Store, file_ids: Sequence[int]) -> dict[int, int]:
    """How many text passages each file has."""
    if not file_ids:
        return {}
    marks = ",".join("?" * len(file_ids))
    rows = store.conn.execute(
        f"SELECT file_id, count(*) FROM chunks WHERE file_id IN ({marks}) "
        "AND text IS NOT NULL GROUP BY file_id",
        tuple(file_ids),
    )
    return {i: n for i, n in rows}


@guarded
def files_with_hash(store: Store, content_hash: str) -> list[int]:
    return [
        r[0] for r in store.conn.execute("SELECT id FROM files WHERE hash = ?", (content_hash,))
    ]
