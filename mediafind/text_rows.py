"""Text read in pictures (schema: picture_text, files.text_read): what each reader read in each
picture content, kept for copies and later runs, and the files queued to be read again when
where text is read changes. The SQL lives here, beside the store's (mediafind.store)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mediafind.errors import SCANNED_PDF
from mediafind.rows import NOTE, PHOTO, prefix_range
from mediafind.store import Store, guarded


@guarded
def contents_read(store: Store, reader: str) -> set[str]:
    """The contents (hashes) whose text this reader has read: not to be read again."""
    rows = store.conn.execute("SELECT hash FROM picture_text WHERE reader = ?", (reader,))
    return {digest for (digest,) in rows}


@guarded
def lines_read(store: Store, content_hash: str, reader: str) -> str | None:
    """What the reader read in this content (JSON lines, see picturetext), or None."""
    row = store.conn.execute(
        "SELECT lines FROM picture_text WHERE hash = ? AND reader = ?", (content_hash, reader)
    ).fetchone()
    return None if row is None else str(row[0])


@guarded
def lines_of(store: Store, file_id: int) -> str | None:
    """What was read in the picture of this file as it is now (JSON lines), or None."""
    row = store.conn.execute(
        "SELECT p.lines FROM files f JOIN picture_text p ON p.hash = f.hash "
        "AND p.reader = f.text_read WHERE f.id = ?",
        (file_id,),
    ).fetchone()
    return None if row is None else str(row[0])


@guarded
def save_lines(store: Store, content_hash: str, reader: str, lines: str) -> None:
    """Keep what the reader read in this content, for copies and later runs."""
    store.conn.execute(
        "INSERT OR REPLACE INTO picture_text(hash, reader, lines) VALUES (?, ?, ?)",
        (content_hash, reader, lines),
    )


@guarded
def queue_text_reading(store: Store, folders: Sequence[Path] | None) -> int:
    """Make pending the files whose text in pictures is read where it should not be or
    not read where it should (folders: where it is read, empty: everywhere; None: nowhere),
    and the scanned PDFs that could not be read without it; how many. They come back by
    the indexer's reuse path: their pictures are not embedded again. Contents no file
    holds any more lose what was read in them."""
    args: tuple[bytes, ...] = ()
    if folders is None:
        covered = "0"
    elif not folders:
        covered = "1"
    else:
        ranges = [bound for folder in folders for bound in prefix_range(folder)]
        covered = "(" + " OR ".join(["(path >= ? AND path < ?)"] * len(folders)) + ")"
        args = tuple(ranges)
    with store.atomic():
        store.conn.execute(
            "UPDATE files SET status = 'pending' WHERE ("
            f"status = 'indexed' AND kind = '{PHOTO}' AND (text_read IS NULL) = {covered}"
            f") OR (status = 'error' AND kind = '{NOTE}' AND error LIKE ? AND {covered})",
            (*args, f"{SCANNED_PDF}%", *args),
        )
        changed = store.conn.changes()
        store.conn.execute(
            "DELETE FROM picture_text WHERE hash NOT IN "
            "(SELECT hash FROM files WHERE hash IS NOT NULL)"
        )
    return changed
