"""Time saving one photo's vector into a small library and into a big one, alternately in one run
(target: the same cost, whatever the library's size). Libraries are made once with random
vectors through the store's own API, and reused.

    .venv/bin/python bench/save_photo.py [--small 1000] [--big 50000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from _table import figure

from mediafind import roots_rows
from mediafind.store import ModelInfo, NewChunk, Store

DIMENSION = 512  # ViT-B-32's
BATCH = 2000


def make_library(path: Path, photos: int) -> None:
    """A library of photos with random unit vectors, as the indexer would leave it."""
    if path.exists():
        return
    started = time.perf_counter()
    rng = np.random.default_rng(1)
    with Store.open(path, writer=True) as store:
        root = roots_rows.add_root(store, path.parent / "photos")
        store.set_model(ModelInfo("bench", "bench-1", DIMENSION))
        for first in range(0, photos, BATCH):
            with store.atomic():
                for i in range(first, min(first + BATCH, photos)):
                    photo = root.path / f"{i // 1000:03}" / f"IMG_{i:07}.jpg"
                    store.mark_pending(root.id, photo, "photo", 1000 + i, i, None)
                    row = store.file_by_path(photo)
                    assert row is not None
                    store.save_indexed(
                        row.id, content_hash=f"h{i}", size=1000 + i, mtime_ns=i,
                        chunks=[NewChunk("image", None, None, None, _vector(rng))],
                    )  # fmt: skip
    print(f"made {path.name}: {photos} photos in {time.perf_counter() - started:.1f} s")


def _vector(rng: np.random.Generator) -> bytes:
    v = rng.standard_normal(DIMENSION).astype(np.float32)
    return (v / np.linalg.norm(v)).tobytes()


def save_one(path: Path, rng: np.random.Generator) -> float:
    """Seconds to re-save the vector of one photo in the middle of the library (as re-indexing
    a changed photo does: delete its chunks and vectors, insert new ones, one transaction)."""
    with Store.open(path, writer=True) as store:
        (root,) = roots_rows.roots(store)
        count = store.counts()["photo"]
        row = store.file_by_path(root.path / f"{count // 2000:03}" / f"IMG_{count // 2:07}.jpg")
        assert row is not None
        started = time.perf_counter()
        store.save_indexed(
            row.id, content_hash="changed", size=row.size, mtime_ns=row.mtime_ns,
            chunks=[NewChunk("image", None, None, None, _vector(rng))],
        )  # fmt: skip
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--big", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/mediafind-bench-save"))
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    small = args.dir / f"library-{args.small}.sqlite3"
    big = args.dir / f"library-{args.big}.sqlite3"
    make_library(small, args.small)
    make_library(big, args.big)
    rng = np.random.default_rng(2)
    times: dict[Path, list[float]] = {small: [], big: []}
    for _ in range(args.rounds):  # alternately: the machine's noise falls on both alike
        for path in (small, big):
            times[path].append(save_one(path, rng))
    a, b = statistics.median(times[small]), statistics.median(times[big])
    print(f"save one photo: {args.small} photos {a * 1000:.2f} ms, {args.big} photos "
          f"{b * 1000:.2f} ms (medians of {args.rounds}); big / small = {b / a:.2f}")  # fmt: skip
    figure(
        f"save one photo, {args.big} ÷ {args.small} photos",
        f"{b / a:.2f}x ({b * 1000:.2f} ms)",
        "≈ 1x, < 1 ms at 100k",
        b / a < 1.5,
    )


if __name__ == "__main__":
    main()
