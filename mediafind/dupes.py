"""Duplicate photos: exact copies (the same content hash) and near-copies (resized, recompressed,
lightly cropped or edited, the next shot of a burst, the same shot in two formats), found by
perceptual hash and confirmed by the picture vectors the library already holds, grouped, each
group with the photo to keep and why.

Candidates come from multi-index hashing: each 64-bit hash is cut into BANDS bands, and a photo
is looked up under each of its bands and every band one bit away, so adding a photo costs a few
dozen dictionary look-ups, not a comparison with every photo (a pair up to 2 × BANDS - 1 bits
apart always shares a band that close; most pairs further apart do too). Groups are the
connected photos (union-find over the pairs found)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import numpy as np

from mediafind import dupes_rows, media
from mediafind.dupes_hash import BITS, closest, hashes
from mediafind.dupes_rows import PhotoRow
from mediafind.errors import LibraryError, UnreadableFile
from mediafind.report import json_path
from mediafind.store import Store

log = logging.getLogger(__name__)

# Thresholds, measured by bench/duplicates.py (`bench/duplicates.py --looks 20 --seeds 3`):
# 60 made-up outdoor photos, 3 of each of 20 kinds of scene (the other two are the distractors:
# same palette and layout, other hills, trees and houses), each with 14 edited copies. Distance
# between a copy and its original, at the closest pairing of the two hashes: resized,
# recompressed (quality 30-75), brighter, more or less contrast, burst shot, PNG: at most 8
# bits; cropped 5 %: 14; turned 2-3 degrees: 12; cropped 10 %: 16. Other photos of the same
# kind of scene: mostly 16 and more, but 31 of 13,500 pairs within 8 bits, 808 within 12.
# Judging every pair of one kind of scene (the links, before grouping), with the tiny test
# model's vectors:                          precision  recall
#   SURE_BITS 8, NEAR_BITS 14, MIN_COSINE 0.90   0.958   0.956  (this)
#   SURE_BITS 8, NEAR_BITS 12, MIN_COSINE 0.95   0.993   0.927
#   SURE_BITS 6, NEAR_BITS 14, MIN_COSINE 0.90   0.958   0.941
#   hashes alone, up to 14 bits                  0.917   0.976
# The tiny model is trained on coloured shapes, not photos: a photo model's vectors tell a copy
# from another photo of the same place better (CLIP models keep edited copies above 0.9).
# NEAR_BITS: this close, two photos are near-copies when their vectors agree.
NEAR_BITS = 14
# SURE_BITS: this close, a pair is a near-copy without asking the vectors. Two unrelated photos
# are 8 bits apart by chance about once in 10^10 pairs (uniform bits).
SURE_BITS = 8
# MIN_COSINE: the vectors agree when their cosine similarity is at least this.
MIN_COSINE = 0.9
# Bands per hash for the candidate look-up. 4 bands of 16 bits: each look-up finds the photos
# sharing a band exactly or but for one bit (17 keys of 65,536), so a photo meets a few
# hundred others in a library of 100k, not all of them.
BANDS = 4
_BAND_BITS = BITS // BANDS
_BAND_MASK = (1 << _BAND_BITS) - 1
# Pictures hashed afresh (contents indexed before hashes were kept) are decoded this large on
# their short side: enough for a 32×32 hash, quick for a JPEG (reduced decode).
HASH_SIDE = 128

EXACT = "exact copies"
NEAR = "near copies"


@dataclass(frozen=True)
class Group:
    """Photos of one picture, the one to keep first, with why it is the one to keep."""

    photos: tuple[PhotoRow, ...]
    kind: str  # EXACT, or NEAR when any two differ in content
    why: str

    @property
    def keeper(self) -> PhotoRow:
        return self.photos[0]

    @property
    def others(self) -> tuple[PhotoRow, ...]:
        return self.photos[1:]

    @property
    def spare_bytes(self) -> int:
        """What trashing all but the keeper frees."""
        return sum(p.size for p in self.others)

    def to_json(self) -> dict[str, object]:
        """The group as `mediafind duplicates --json` gives it."""
        return {
            "kind": self.kind,
            "keeper": json_path(self.keeper.path)["path"],
            "why": self.why,
            "spare_bytes": self.spare_bytes,
            "photos": [
                {
                    **json_path(p.path),
                    "keeper": p is self.keeper,
                    "size_bytes": p.size,
                    "width": p.width,
                    "height": p.height,
                    "date": datetime.fromtimestamp(date_of(p)).isoformat(timespec="seconds"),
                    "date_from": "camera" if p.taken_at is not None else "file",
                }
                for p in self.photos
            ],
        }


def date_of(photo: PhotoRow) -> float:
    """When the photo was taken (its EXIF), else when its file last changed."""
    return photo.taken_at if photo.taken_at is not None else photo.mtime


def pixels(photo: PhotoRow) -> int:
    return (photo.width or 0) * (photo.height or 0)


def keeper_first(photos: Iterable[PhotoRow]) -> tuple[tuple[PhotoRow, ...], str]:
    """The photos with the one to keep first (the largest picture, then the oldest, then one
    with its camera's date), and why it is that one, in words."""
    ordered = tuple(
        sorted(photos, key=lambda p: (-pixels(p), date_of(p), p.taken_at is None, str(p.path)))
    )
    keeper, rest = ordered[0], ordered[1:]
    if all(pixels(keeper) > pixels(p) for p in rest):
        return ordered, f"the largest picture ({keeper.width}×{keeper.height})"
    same = [p for p in rest if pixels(p) == pixels(keeper)]
    if all(date_of(keeper) < date_of(p) for p in same):
        day = datetime.fromtimestamp(date_of(keeper)).strftime("%Y-%m-%d %H:%M")
        return ordered, f"as large as any, and the oldest ({day})"
    alike = [p for p in same if date_of(p) == date_of(keeper)]
    if keeper.taken_at is not None and all(p.taken_at is None for p in alike):
        return ordered, "as large and as old as any, and the only one with its camera's date"
    return ordered, "as large and as old as any; the first by name"


def group_of(photos: Iterable[PhotoRow]) -> Group:
    """Photos of one picture as a group, the one to keep first."""
    ordered, why = keeper_first(photos)
    return Group(ordered, EXACT if len({p.content for p in ordered}) == 1 else NEAR, why)


class Finder:
    """Groups of duplicates among photos added one at a time (and removed): each addition is
    compared only with the photos that share a hash band with it (see BANDS), or its content,
    or its name in another format, and confirmed by their vectors where the hashes alone are
    not sure."""

    def __init__(self, vectors: Callable[[Sequence[int]], dict[int, bytes]]) -> None:
        """vectors: the picture vectors of the photos with these ids (those that have one)."""
        self._vectors = vectors
        self._vector_cache: dict[int, np.ndarray | None] = {}
        self._photos: dict[int, PhotoRow] = {}
        self._bands: list[dict[int, set[int]]] = [defaultdict(set) for _ in range(BANDS)]
        self._contents: dict[str, set[int]] = defaultdict(set)
        self._stems: dict[tuple[Path, str], set[int]] = defaultdict(set)
        self._links: dict[int, set[int]] = defaultdict(set)

    def __len__(self) -> int:
        return len(self._photos)

    def add(self, photo: PhotoRow) -> None:
        """Take in a photo, linking it to those it is a copy of."""
        if photo.id in self._photos:
            self.remove(photo.id)
        found = set(self._contents[photo.content])
        stem = (photo.path.parent, photo.path.stem.lower())
        if photo.hashes is not None:
            for other in self._stems[stem] | self._band_neighbours(photo.hashes):
                if other not in found and self._alike(photo, self._photos[other]):
                    found.add(other)
        for other in found:
            self._links[photo.id].add(other)
            self._links[other].add(photo.id)
        self._photos[photo.id] = photo
        self._contents[photo.content].add(photo.id)
        self._stems[stem].add(photo.id)
        for key in self._band_keys(photo.hashes):
            self._bands[key[0]][key[1]].add(photo.id)

    def remove(self, file_id: int) -> None:
        """Forget a photo (deleted, or changed: add it again)."""
        photo = self._photos.pop(file_id, None)
        if photo is None:
            return
        self._contents[photo.content].discard(file_id)
        self._stems[(photo.path.parent, photo.path.stem.lower())].discard(file_id)
        for band, key in self._band_keys(photo.hashes):
            self._bands[band][key].discard(file_id)
        for other in self._links.pop(file_id, set()):
            self._links[other].discard(file_id)
        self._vector_cache.pop(file_id, None)

    def pairs(self) -> set[frozenset[int]]:
        """Every two photos judged to show the same picture (by file id), before grouping."""
        return {frozenset((a, b)) for a, linked in self._links.items() for b in linked}

    def groups(self) -> list[Group]:
        """The groups of two or more, the most space to free first."""
        parent = {i: i for i in self._links}

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for a, linked in self._links.items():
            for b in linked:
                ra, rb = root(a), root(b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
        members: dict[int, list[PhotoRow]] = defaultdict(list)
        for i in self._links:
            if self._links[i]:
                members[root(i)].append(self._photos[i])
        out = [group_of(photos) for photos in members.values()]
        out.sort(key=lambda g: (-g.spare_bytes, str(g.keeper.path)))
        return out

    def _alike(self, a: PhotoRow, b: PhotoRow) -> bool:
        """Whether two photos of different content show the same picture."""
        assert a.hashes is not None and b.hashes is not None
        bits = closest(a.hashes, b.hashes)
        if bits <= SURE_BITS:
            return True
        if bits > NEAR_BITS:
            return False
        cosine = self._cosine(a.id, b.id)
        return cosine is not None and cosine >= MIN_COSINE

    def _cosine(self, a: int, b: int) -> float | None:
        wanted = [i for i in (a, b) if i not in self._vector_cache]
        if wanted:
            read = self._vectors(wanted)
            for i in wanted:
                raw = read.get(i)
                self._vector_cache[i] = None if raw is None else np.frombuffer(raw, np.float32)
        va, vb = self._vector_cache[a], self._vector_cache[b]
        if va is None or vb is None or va.shape != vb.shape:
            return None
        norm = float(np.linalg.norm(va) * np.linalg.norm(vb))
        return float(va @ vb) / norm if norm else None

    def _band_keys(self, found: tuple[int, int] | None) -> set[tuple[int, int]]:
        if found is None:
            return set()
        return {
            (band, (value >> (band * _BAND_BITS)) & _BAND_MASK)
            for value in found
            for band in range(BANDS)
        }

    def _band_neighbours(self, found: tuple[int, int]) -> set[int]:
        """The photos sharing a band with one of these hashes, exactly or but for one bit."""
        out: set[int] = set()
        for band, key in self._band_keys(found):
            index = self._bands[band]
            for probe in (key, *(key ^ (1 << bit) for bit in range(_BAND_BITS))):
                hit = index.get(probe)
                if hit:
                    out |= hit
        return out


def hash_missing(
    store: Store, should_stop: Callable[[], bool] | None = None
) -> dict[str, tuple[int, int]]:
    """Hash the photo contents indexed before hashes were kept, and keep the hashes when the
    library can be written now (so each content is hashed once); the hashes by content."""
    found: dict[str, tuple[int, int]] = {}
    for digest, path in dupes_rows.unhashed(store):
        if should_stop is not None and should_stop():
            break
        try:
            found[digest] = hashes(media.open_image(path.read_bytes(), HASH_SIDE).image)
        except (OSError, UnreadableFile) as e:
            log.info("cannot hash %s: %s", path, e)
    if found and not store.read_only:
        try:
            dupes_rows.save_hashes(store, found.items())
        except LibraryError as e:  # busy: another process writes; hashed again next time
            log.info("hashes not kept: %s", e)
    return found


def find(
    store: Store,
    folders: Sequence[Path] = (),
    should_stop: Callable[[], bool] | None = None,
) -> list[Group]:
    """The groups of duplicates among the library's indexed photos (inside folders, when
    given), the most space to free first."""
    fresh = hash_missing(store, should_stop)
    finder = Finder(lambda ids: dupes_rows.picture_vectors(store, ids))
    for photo in dupes_rows.photos(store, folders):
        if should_stop is not None and should_stop():
            break
        if photo.hashes is None and photo.content in fresh:
            photo = replace(photo, hashes=fresh[photo.content])
        finder.add(photo)
    return finder.groups()
