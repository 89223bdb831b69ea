"""What the library says of its own state, as `mediafind status` and the window show it: files
per watched folder and those that could not be read, the files in error and the notes on files
read only in part, a retry of failed files, the library's size on disk, and how one file was
read, and all of it as one Overview. (The counts by kind, which nearly every caller asks for, stay
Store.counts.) The SQL lives here, beside the store's (mediafind.store)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from mediafind import roots_rows
from mediafind.report import FolderState, Overview
from mediafind.rows import CAPTION_SOURCE, ErrorRow, FileRecord, decode_path, encode_path
from mediafind.store import EMPTY_SQL, EMPTY_SQL_ARGS, Store, guarded


@guarded
def root_counts(store: Store) -> dict[int, tuple[int, int]]:
    """Per root: (files, files that could not be read)."""
    rows = store.conn.execute(
        f"SELECT root_id, count(*), sum(status = 'error' AND NOT {EMPTY_SQL}) FROM files "
        "GROUP BY root_id",
        EMPTY_SQL_ARGS,
    )
    return {r: (n, e or 0) for r, n, e in rows if r is not None}


@guarded
def notes(store: Store, limit: int | None = None) -> list[ErrorRow]:
    """Indexed files with something to say (e.g. only in part), most recent first."""
    rows = store.conn.execute(
        # +status: walk the short files_noted index, not every indexed file's entry in
        # files_status (at a million files, 0.14 s against nothing).
        "SELECT path, note FROM files WHERE +status = 'indexed' AND note IS NOT NULL "
        "ORDER BY indexed_at DESC LIMIT ?",
        (-1 if limit is None else limit,),
    )
    return [ErrorRow(decode_path(p), n) for p, n in rows]


@guarded
def errors(store: Store, limit: int | None = None, empty: bool = False) -> list[ErrorRow]:
    """Files that could not be read (empty: files that hold nothing to index instead),
    most recent first."""
    rows = store.conn.execute(
        f"SELECT path, error FROM files WHERE status = 'error' AND {'' if empty else 'NOT'} "
        f"{EMPTY_SQL} ORDER BY indexed_at DESC LIMIT ?",
        (*EMPTY_SQL_ARGS, -1 if limit is None else limit),
    )
    return [ErrorRow(decode_path(p), e or "unknown error") for p, e in rows]


@guarded
def retry(store: Store, paths: Iterable[Path]) -> int:
    """Files that could not be read become pending again, first in line; how many did."""
    total = 0
    for path in paths:
        store.conn.execute(
            "UPDATE files SET status = 'pending', error = NULL, priority = 1 "
            "WHERE path = ? AND status = 'error'",
            (encode_path(path),),
        )
        total += store.conn.changes()
    return total


@guarded
def file_size_on_disk(store: Store) -> int:
    total = 0
    for suffix in ("", "-wal", "-shm"):
        part = store.path.with_name(store.path.name + suffix)
        if part.exists():
            total += part.stat().st_size
    return total


@guarded
def record(store: Store, path: Path) -> FileRecord | None:
    """How the library read the file at path: its status, why it failed, when, and its
    captions; None when it holds no such file."""
    row = store.conn.execute(
        "SELECT id, status, error, indexed_at FROM files WHERE path = ?", (encode_path(path),)
    ).fetchone()
    if row is None:
        return None
    file_id, status, error, indexed_at = row
    captions = store.conn.execute(
        "SELECT text FROM chunks WHERE file_id = ? AND source = ? AND text IS NOT NULL "
        "ORDER BY seq",
        (file_id, CAPTION_SOURCE),
    )
    return FileRecord(status, error, indexed_at, tuple(text for (text,) in captions))


def overview(
    store: Store,
    library: Path,
    live: Mapping[Path, tuple[str, str]],
    listed: int | None,
) -> Overview:
    """What the library holds now, as `mediafind status` and the window show it. live: the
    watched folders' states as a watcher in this process sees them; listed: how many unreadable
    files and notes to list (None: all)."""
    info = store.model()
    writer = store.writer_pid()
    return Overview(
        library=library,
        exists=True,
        size_bytes=file_size_on_disk(store),
        model=info.spec if info else None,
        writer_pid=writer,
        counts=store.counts(),
        folders=folder_states(store, live, writer),
        errors=[(e.path, e.reason) for e in errors(store, limit=listed)],
        notes=[(n.path, n.reason) for n in notes(store, limit=listed)],
        empty=[(e.path, e.reason) for e in errors(store, limit=listed, empty=True)],
        named=store.people.counts(),
    )


def folder_states(
    store: Store, live: Mapping[Path, tuple[str, str]], writer_pid: int | None
) -> list[FolderState]:
    """Each watched folder's state: as a watcher in this process sees it (live), else as the
    process writing the library (writer_pid) recorded it, else unwatched (offline when the
    folder is missing)."""
    recorded = roots_rows.root_states(store) if writer_pid is not None else {}
    counts = root_counts(store)
    out = []
    for root in roots_rows.roots(store):
        path = root.path
        files, unreadable = counts.get(root.id, (0, 0))
        state, note = live.get(path) or recorded.get(root.id) or (None, None)
        if state is None:
            state, note = ("unwatched", "") if path.is_dir() else ("offline", "folder not found")
        out.append(FolderState(path, state, note or "", files, unreadable))
    return out
