"""The library's side of finding duplicates: the photos with their perceptual hashes, the
hashes kept per picture content, and the photos' picture vectors. The SQL lives here, beside
the store's (mediafind.store), which would otherwise grow by a concept."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mediafind.rows import IMAGE_SOURCE, PHOTO, decode_path, prefix_range
from mediafind.store import Store


@dataclass(frozen=True, slots=True)
class PhotoRow:
    """An indexed photo as duplicates are judged: what it is, how big, when, and its hashes
    (None until its picture has been hashed)."""

    id: int
    path: Path
    size: int
    width: int | None
    height: int | None
    taken_at: float | None  # from its EXIF; None: the file says nothing of when
    mtime: float
    content: str  # the content hash: equal for exact copies
    hashes: tuple[int, int] | None  # dupes_hash.hashes: whole, middle


def photos(store: Store, folders: Sequence[Path] = ()) -> list[PhotoRow]:
    """The indexed photos (inside folders, when given), by path."""
    where, args = "1", tuple[bytes, ...]()
    if folders:
        where = "(" + " OR ".join(["(f.path >= ? AND f.path < ?)"] * len(folders)) + ")"
        args = tuple(bound for folder in folders for bound in prefix_range(folder))
    rows = store.conn.execute(
        "SELECT f.id, f.path, f.size, f.width, f.height, f.taken_at, f.mtime_ns, f.hash, "
        "p.whole, p.middle FROM files f LEFT JOIN picture_hashes p ON p.hash = f.hash "
        f"WHERE f.kind = '{PHOTO}' AND f.status = 'indexed' AND f.hash IS NOT NULL AND {where} "
        "ORDER BY f.path",
        args,
    )
    return [
        PhotoRow(i, decode_path(p), s, w, h, t, m / 1e9, c, None if a is None else (a, b))
        for i, p, s, w, h, t, m, c, a, b in rows
    ]


def unhashed(store: Store) -> list[tuple[str, Path]]:
    """Indexed photo contents without hashes (indexed before hashing came), each with a file
    that holds it."""
    rows = store.conn.execute(
        "SELECT f.hash, min(f.path) FROM files f WHERE f.kind = ? AND f.status = 'indexed' "
        "AND f.hash IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM picture_hashes p WHERE p.hash = f.hash) GROUP BY f.hash",
        (PHOTO,),
    )
    return [(digest, decode_path(path)) for digest, path in rows]


def save_hashes(store: Store, found: Iterable[tuple[str, tuple[int, int]]]) -> None:
    """Keep each content's hashes."""
    with store.atomic():
        for digest, (whole, middle) in found:
            store.conn.execute(
                "INSERT INTO picture_hashes(hash, whole, middle) VALUES (?, ?, ?) "
                "ON CONFLICT(hash) DO UPDATE SET whole = excluded.whole, "
                "middle = excluded.middle",
                (digest, whole, middle),
            )


def unlinked(store: Store) -> list[tuple[str, tuple[int, int]]]:
    """The contents whose hashes are kept but not yet in the band index (hashed before links
    were kept, or by a process that could not write), with their hashes."""
    rows = store.conn.execute(
        "SELECT p.hash, p.whole, p.middle FROM picture_hashes p WHERE NOT EXISTS "
        "(SELECT 1 FROM picture_bands b WHERE b.hash = p.hash)"
    )
    return [(digest, (whole, middle)) for digest, whole, middle in rows]


def banded(store: Store, keys: Sequence[int]) -> list[tuple[str, int, int]]:
    """The linked contents with any of these band keys, with their hashes."""
    if not keys:
        return []
    marks = ",".join("?" * len(keys))
    rows = store.conn.execute(
        "SELECT p.hash, p.whole, p.middle FROM picture_hashes p WHERE p.hash IN "
        f"(SELECT b.hash FROM picture_bands b WHERE b.band_key IN ({marks}))",
        tuple(keys),
    )
    return [(digest, whole, middle) for digest, whole, middle in rows]


def save_links(
    store: Store, digest: str, keys: Iterable[int], near: Iterable[tuple[str, int]]
) -> None:
    """Keep a content's band keys and the contents near it (with how many bits apart), in
    place of what was kept for it. Inside the caller's transaction."""
    conn = store.conn
    conn.execute("DELETE FROM picture_bands WHERE hash = ?", (digest,))
    conn.execute("DELETE FROM picture_pairs WHERE a = ? OR b = ?", (digest, digest))
    conn.executemany(
        "INSERT INTO picture_bands(band_key, hash) VALUES (?, ?)", [(k, digest) for k in keys]
    )
    conn.executemany(
        "INSERT OR REPLACE INTO picture_pairs(a, b, bits) VALUES (?, ?, ?)",
        [(min(digest, other), max(digest, other), bits) for other, bits in near if other != digest],
    )


def pairs(store: Store) -> list[tuple[str, str, int]]:
    """Every two contents kept as near each other: (a, b, bits apart)."""
    return list(store.conn.execute("SELECT a, b, bits FROM picture_pairs"))


def forget_gone(store: Store) -> None:
    """Forget the hashes (and so the links) of contents no file holds any more."""
    with store.atomic():
        store.conn.execute(
            "DELETE FROM picture_hashes WHERE hash NOT IN "
            "(SELECT hash FROM files WHERE hash IS NOT NULL)"
        )


def picture_vectors(store: Store, file_ids: Iterable[int]) -> dict[int, bytes]:
    """The picture vector of each photo that has one, by file id, read in blocks (see
    Store.vectors_of)."""
    wanted = list(file_ids)
    if not wanted:
        return {}
    chunks = dict(
        store.conn.execute(
            "SELECT c.id, c.file_id FROM chunks c WHERE c.source = ? "
            "AND c.file_id IN (SELECT value FROM json_each(?))",
            (IMAGE_SOURCE, json.dumps(wanted)),
        )
    )
    vectors = store.vectors_of(list(chunks))
    return {chunks[chunk]: vector.tobytes() for chunk, vector in vectors.items()}
