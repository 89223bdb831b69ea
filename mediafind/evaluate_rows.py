"""What the evaluation reads from a library (its captioned photos) and the one thing it may
write there: the calibrated relevance cutoff of a model, in the meta table."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from mediafind.evaluate import Cutoff
from mediafind.rows import CAPTION_SOURCE, decode_path
from mediafind.store import Store

# meta key: {model identity: SavedCutoff as JSON}. Per model: a cutoff is a similarity on one
# model's scale, meaningless for another's vectors.
CUTOFFS_KEY = "relevance_cutoffs"


@dataclass(frozen=True, slots=True)
class SavedCutoff:
    similarity: float
    precision: float
    pairs: int  # captions it was measured on
    spec: str
    measured_at: float


def captioned_photos(store: Store) -> list[tuple[Path, list[str]]]:
    """Each photo of the library with a caption (sidecar, EXIF, XMP or IPTC), with its caption
    passages in order (a long caption is kept as the passages the search compares). A photo
    waiting to be embedded counts too: its captions are read before its picture is."""
    rows = store.conn.execute(
        "SELECT f.path, c.text FROM chunks c JOIN files f ON f.id = c.file_id "
        "WHERE c.source = ? AND c.text IS NOT NULL AND c.text != '' "
        "ORDER BY f.path, c.seq",
        (CAPTION_SOURCE,),
    ).fetchall()
    photos: dict[bytes, list[str]] = {}
    for raw, text in rows:
        assert isinstance(raw, bytes)  # paths are stored as their bytes (rows.encode_path)
        photos.setdefault(raw, []).append(str(text))
    return [(decode_path(raw), texts) for raw, texts in photos.items()]


def cutoffs(store: Store) -> dict[str, SavedCutoff]:
    """The calibrated cutoffs kept in the library, by model identity."""
    row = store.conn.execute("SELECT value FROM meta WHERE key = ?", (CUTOFFS_KEY,)).fetchone()
    if row is None:
        return {}
    try:
        data = json.loads(row[0])
        return {k: SavedCutoff(**v) for k, v in data.items()}
    except (ValueError, TypeError):
        return {}  # written by something else: as if never calibrated


def relevance_cutoff(store: Store, identity: str) -> float | None:
    """The calibrated cutoff of this model on this library, if one was applied."""
    found = cutoffs(store).get(identity)
    return None if found is None else found.similarity


def save_cutoff(store: Store, identity: str, spec: str, cutoff: Cutoff, pairs: int) -> None:
    """Keep a model's cutoff (replacing its earlier one); the only write of the evaluation."""
    kept = cutoffs(store)
    kept[identity] = SavedCutoff(cutoff.similarity, cutoff.precision, pairs, spec, time.time())
    value = json.dumps({k: vars_of(v) for k, v in kept.items()})
    with store.atomic():
        store.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (CUTOFFS_KEY, value),
        )


def vars_of(saved: SavedCutoff) -> dict[str, object]:
    return {
        "similarity": saved.similarity,
        "precision": saved.precision,
        "pairs": saved.pairs,
        "spec": saved.spec,
        "measured_at": saved.measured_at,
    }
