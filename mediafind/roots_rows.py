"""The watched folders (schema: roots): each with its polling choice, its exclusions and the
state the watcher last found it in. The SQL lives here, beside the store's (mediafind.store),
which would otherwise grow by a concept."""

from __future__ import annotations

import json
import time
from pathlib import Path

from mediafind.rows import Root, decode_path, encode_path, prefix_range
from mediafind.store import Store, guarded


@guarded
def roots(store: Store) -> list[Root]:
    """The watched folders, by path."""
    rows = store.conn.execute("SELECT id, path, polling, excludes FROM roots ORDER BY path")
    return [
        Root(i, decode_path(p), None if poll is None else bool(poll), tuple(json.loads(ex)))
        for i, p, poll, ex in rows
    ]


@guarded
def add_root(store: Store, path: Path) -> Root:
    """Watch a folder. A folder inside a watched one is already watched (that root is
    returned); a folder holding watched ones takes them over, with their files."""
    raw = encode_path(path)
    with store.atomic():
        for root in roots(store):
            if root.path == path or raw.startswith(prefix_range(root.path)[0]):
                return root
        store.conn.execute("INSERT INTO roots(path, added_at) VALUES (?, ?)", (raw, time.time()))
        new_id = store.conn.last_insert_rowid()
        low, high = prefix_range(path)
        inner = "SELECT id FROM roots WHERE path >= ? AND path < ?"
        store.conn.execute(
            f"UPDATE files SET root_id = ? WHERE root_id IN ({inner})", (new_id, low, high)
        )
        store.conn.execute(f"DELETE FROM roots WHERE id IN ({inner})", (low, high))
    return next(r for r in roots(store) if r.id == new_id)


@guarded
def set_root_polling(store: Store, root_id: int, polling: bool | None) -> None:
    """Force polling on (True) or off (False) for a watched folder, or let the kind of drive
    decide (None)."""
    with store.atomic():
        store.conn.execute(
            "UPDATE roots SET polling = ? WHERE id = ?",
            (None if polling is None else int(polling), root_id),
        )


@guarded
def remove_root(store: Store, path: Path) -> bool:
    """Forget a watched folder and everything indexed from it."""
    with store.atomic():
        row = store.conn.execute(
            "SELECT id FROM roots WHERE path = ?", (encode_path(path),)
        ).fetchone()
        if row is None:
            return False
        ids = [r[0] for r in store.conn.execute("SELECT id FROM files WHERE root_id = ?", row)]
        store.delete_files(ids)
        store.conn.execute("DELETE FROM roots WHERE id = ?", row)
    return True


@guarded
def set_root_state(store: Store, root_id: int, state: str, note: str) -> None:
    """What the watcher found of a watched folder (missing, unreadable, …) and its words."""
    with store.atomic():
        store.conn.execute(
            "UPDATE roots SET state = ?, note = ? WHERE id = ?", (state, note, root_id)
        )


@guarded
def root_states(store: Store) -> dict[int, tuple[str | None, str | None]]:
    """Each watched folder's state and note, by id (None: never said)."""
    return {i: (s, n) for i, s, n in store.conn.execute("SELECT id, state, note FROM roots")}
