"""Helpers for the benchmarks: big folders whose files the library already holds as indexed, and
big libraries of photos and notes with made-up vectors that look like CLIP's."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from mediafind import roots_rows, scan
from mediafind.store import IMAGE_SOURCE, NOTE, PHOTO, TEXT_SOURCE, ModelInfo, NewChunk, Store

DIMENSION = 512  # ViT-B-32's
MODEL = ModelInfo("bench", "bench-1", DIMENSION)
# Photos and notes written per transaction: as the indexer batches, and big enough that the
# commits do not dominate.
BATCH = 5000


def make_folder(root: Path, files: int, per_folder: int = 100) -> None:
    """files small notes, per_folder to a folder, nested two levels deep."""
    started = time.perf_counter()
    for i in range(files):
        folder = root / f"year {i // (per_folder * 50)}" / f"album {i // per_folder}"
        if i % per_folder == 0:
            folder.mkdir(parents=True, exist_ok=True)
        (folder / f"note {i}.txt").write_text(f"note number {i}")
    print(f"made {files} files in {time.perf_counter() - started:.1f} s")


def mark_indexed(library: Path, root: Path, model: ModelInfo | None = None) -> None:
    """Record every file under root as indexed (embedding is not what these benchmarks time)."""
    with Store.open(library, writer=True) as store:
        folder = roots_rows.add_root(store, root)
        scan.reconcile(store, [folder])
        if model is not None:
            store.set_model(model)
        with store.atomic():
            store.conn.execute("UPDATE files SET status = 'indexed', hash = 'x'")


class ClipLike:
    """Unit vectors shaped like CLIP ViT-B-32's, not iid Gaussian ones (whose nearest neighbours
    are all about equally far, which flatters no method and misleads some):

    - a shared offset: every image vector leans the same way (image-image cosine ~0.45 between
      unrelated photos), text vectors another way that is near it (the "modality gap"), with a
      few dimensions much larger than the rest, as CLIP has;
    - topics, Zipf-sized (a few very common subjects, a long tail): photos of one subject ~0.7;
    - bursts of near-duplicates (2-8 shots of the same scene, ~0.95), a third of the photos;
    - texts about a topic meet its photos at ~0.35, others at ~0.15 (CLIP's usual range).

    iid: plain iid Gaussian unit vectors instead, for comparison."""

    # Shares of each part in the squared length of an image vector: offset, topic, own detail.
    OFFSET, TOPIC, DETAIL = 0.45, 0.25, 0.30
    # ... and of a text vector (its topic weighs less: words say less than a picture shows).
    TEXT_OFFSET, TEXT_TOPIC, TEXT_DETAIL = 0.50, 0.15, 0.35
    BURSTS = 1 / 3  # share of photos in bursts
    BURST_NOISE = 0.05  # share of a burst shot's length that is its own

    def __init__(self, photos: int, seed: int = 1, iid: bool = False) -> None:
        self.rng = np.random.default_rng(seed)
        self.iid = iid
        rng = self.rng
        self.topics = max(50, photos // 200)
        self.image_mean = _unit(rng.standard_normal(DIMENSION))
        spikes = rng.choice(DIMENSION, 3, replace=False)  # CLIP's few outsized dimensions
        self.image_mean[spikes] += np.array([0.6, -0.5, 0.4])
        self.image_mean = _unit(self.image_mean)
        self.text_mean = _unit(0.3 * self.image_mean + _unit(rng.standard_normal(DIMENSION)))
        self.topic = _unit(rng.standard_normal((self.topics, DIMENSION)))
        # Zipf-like topic sizes.
        weights = 1.0 / np.arange(1, self.topics + 1) ** 0.8
        self.topic_p = weights / weights.sum()
        # Per-dimension spread of the detail (CLIP's dimensions differ in variance).
        scale = np.exp(rng.normal(0.0, 0.5, DIMENSION))
        self.scale = (scale / np.sqrt((scale**2).mean())).astype(np.float64)

    def _detail(self, n: int) -> np.ndarray:
        return _unit(self.rng.standard_normal((n, DIMENSION)) * self.scale)

    def images(self, n: int) -> np.ndarray:
        """n image vectors in shooting order (a burst's shots follow each other)."""
        if self.iid:
            return _unit(self.rng.standard_normal((n, DIMENSION))).astype(np.float32)
        topics = self.rng.choice(self.topics, n, p=self.topic_p)
        detail = self._detail(n)
        i = 0
        while i < n:  # bursts: shots share their scene's topic and detail
            if self.rng.random() < self.BURSTS / 4.5:  # mean burst length 4.5
                length = int(self.rng.integers(2, 9))
                end = min(n, i + length)
                topics[i:end] = topics[i]
                own = self._detail(end - i)
                detail[i:end] = _unit(
                    np.sqrt(1 - self.BURST_NOISE) * detail[i] + np.sqrt(self.BURST_NOISE) * own
                )
                i = end
            else:
                i += 1
        return self._mix(self.image_mean, topics, detail, self.OFFSET, self.TOPIC, self.DETAIL)

    def texts(self, n: int) -> np.ndarray:
        """n text vectors (passages of notes, or text queries), each about one topic."""
        if self.iid:
            return _unit(self.rng.standard_normal((n, DIMENSION))).astype(np.float32)
        topics = self.rng.choice(self.topics, n, p=self.topic_p)
        return self._mix(
            self.text_mean, topics, self._detail(n),
            self.TEXT_OFFSET, self.TEXT_TOPIC, self.TEXT_DETAIL,
        )  # fmt: skip

    def _mix(
        self, mean: np.ndarray, topics: np.ndarray, detail: np.ndarray, a: float, b: float, c: float
    ) -> np.ndarray:
        mixed = np.sqrt(a) * mean + np.sqrt(b) * self.topic[topics] + np.sqrt(c) * detail
        return _unit(mixed).astype(np.float32)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


@dataclass(frozen=True)
class Made:
    photos: int
    notes: int
    text_chunks: int
    seconds: float


# Photos are taken from this date on, a few minutes apart on average.
_FIRST_SHOT = datetime(2008, 1, 1).timestamp()
_SHOT_EVERY = 600.0
# Photo types, with their shares.
_TYPES = (("jpg", 0.85), ("heic", 0.1), ("png", 0.05))
_WORDS = ("garden", "beach", "birthday", "snow", "kitchen", "train", "cat", "harbour", "bridge",
          "market", "forest", "wedding", "museum", "river", "bicycle", "lantern")  # fmt: skip


def photo_path(root: Path, i: int, taken: float, extension: str) -> Path:
    """Where photo i lives: dated folders of at most 1000 photos, as cameras and phones sort."""
    day = datetime.fromtimestamp(taken)
    return root / f"{day:%Y}" / f"{day:%Y-%m} {i // 1000:04}" / f"IMG_{i:07}.{extension}"


def make_library(
    path: Path,
    photos: int,
    notes: int = 1000,
    *,
    seed: int = 1,
    iid: bool = False,
    on_disk: bool = False,
) -> Made:
    """A library of photos and notes with made-up vectors (see ClipLike), as the indexer leaves
    it, written through the store's own API in batches. Notes have 1-7 text passages each.
    on_disk: also create each file, empty, with the size and time the library records, so that
    scans and `status` see a library in step with its folder ("files" beside path)."""
    started = time.perf_counter()
    root_path = path.parent / "files"
    vectors = ClipLike(photos, seed, iid)
    rng = np.random.default_rng(seed + 1)
    types = rng.choice([t for t, _ in _TYPES], photos, p=[p for _, p in _TYPES])
    text_chunks = 0
    with Store.open(path, writer=True) as store:
        root = roots_rows.add_root(store, root_path)
        store.set_model(MODEL)
        made: set[Path] = set()
        for first in range(0, photos, BATCH):
            count = min(BATCH, photos - first)
            batch = vectors.images(count)
            with store.atomic():
                for j in range(count):
                    i = first + j
                    taken = _FIRST_SHOT + i * _SHOT_EVERY * (1 + 0.5 * np.sin(i))
                    photo = photo_path(root.path, i, taken, str(types[i]))
                    mtime_ns = int(taken * 1e9)
                    if on_disk:
                        _touch(photo, mtime_ns, made)
                    picture = NewChunk(IMAGE_SOURCE, None, None, None, batch[j].tobytes())
                    _save(store, root.id, photo, PHOTO, mtime_ns, taken, [picture])
        with store.atomic():
            for n in range(notes):
                passages = int(rng.integers(1, 8))
                batch = vectors.texts(passages)
                note = root.path / "Notes" / f"{n // 500:03}" / f"note {n:05}.md"
                mtime_ns = int((_FIRST_SHOT + n * 86400.0) * 1e9)
                if on_disk:
                    _touch(note, mtime_ns, made)
                chunks = []
                for p in range(passages):
                    words = " ".join(rng.choice(_WORDS, 12))
                    start, vector = p * 100, batch[p].tobytes()
                    chunks.append(NewChunk(TEXT_SOURCE, words, start, start + len(words), vector))
                _save(store, root.id, note, NOTE, mtime_ns, None, chunks)
                text_chunks += passages
    return Made(photos, notes, text_chunks, time.perf_counter() - started)


def _touch(path: Path, mtime_ns: int, made: set[Path]) -> None:
    if path.parent not in made:
        path.parent.mkdir(parents=True, exist_ok=True)
        made.add(path.parent)
    with open(path, "wb"):
        pass
    os.utime(path, ns=(mtime_ns, mtime_ns))


def _save(
    store: Store,
    root_id: int,
    path: Path,
    kind: str,
    mtime_ns: int,
    taken: float | None,
    chunks: list[NewChunk],
) -> None:
    store.mark_pending(root_id, path, kind, 0, mtime_ns, None)
    row = store.file_by_path(path)
    assert row is not None
    store.save_indexed(
        row.id, content_hash=f"h{row.id}", size=0, mtime_ns=mtime_ns, chunks=chunks,
        taken_at=taken,
    )  # fmt: skip
