"""Duplicate photos: exact copies (the same content hash) and near-copies (resized, recompressed,
lightly cropped or edited, the next shot of a burst, the same shot in two formats), found by
perceptual hash and confirmed by the picture vectors the library already holds, grouped, each
group with the photo to keep and why.

Candidates come from multi-index hashing: each 64-bit hash is cut into BANDS bands, and a photo
is looked up under each of its bands and every band one bit away, so adding a photo costs 136
dictionary look-ups and one numpy comparison with what they find, not a comparison with every
photo (a pair up to 2 × BANDS - 1 bits
apart always shares a band that close; most pairs further apart do too). Groups come from
union-find over the pairs found (see Finder.groups). One shot saved in two formats in one
folder (IMG_1.NEF beside IMG_1.JPG, the RAW+JPEG pair; IMG_1.HEIC beside IMG_1.JPG) is grouped
by its name."""

from __future__ import annotations

import logging
import math
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
# same palette and layout, other hills, trees and houses), each with 14 edited copies. Bits
# between a copy and its original, at the closest pairing of the two hashes: resized,
# recompressed (quality 30-75), brighter, more or less contrast, burst shot, PNG: at most 8;
# cropped 5 %: 14; turned 2-3 degrees: 12; cropped 10 %: 16. Other photos of the same kind of
# scene: mostly 16 and more, but 31 of 13,500 pairs within 8 bits, 808 within 12. Precision and
# recall of the pairs in one group, with the tiny test model's vectors (Finder.groups; every
# pair of one kind of scene compared):
#   SURE_BITS 6, NEAR_BITS 14, MIN_COSINE 0.90   0.998  0.996  (these)
#   SURE_BITS 8, NEAR_BITS 14, MIN_COSINE 0.90   0.965  0.998
#   SURE_BITS 6, NEAR_BITS 12, MIN_COSINE 0.90   1.000  0.987
# and through the whole finder (band look-up included): 0.960 and 0.982. The tiny model is
# trained on coloured shapes, not photos: a photo model's vectors tell a copy from another
# photo of the same place better (CLIP models keep edited copies above 0.9).
# NEAR_BITS: this close, two photos are near-copies when their vectors agree.
NEAR_BITS = 14
# SURE_BITS: this close, a pair is a near-copy without asking the vectors: 8 let in another
# photo of the same scene now and then, 6 none. Two unrelated photos are 6 bits apart by chance
# about once in 10^12 pairs (uniform bits).
SURE_BITS = 6
# MIN_COSINE: the vectors agree when their cosine similarity is at least this.
MIN_COSINE = 0.9
# Vectors this far apart are two pictures, however close the hashes: the hash of a plain
# picture (a shape on a plain ground, a wall) says little, and two of them can hash 6 bits apart
# (seen in the screenshots' sample: 6 bits, cosine -0.17). Set low, for the tiny test model,
# whose vectors of a darkened copy fall to 0.5: grouped precision and recall on
# bench/duplicates.py --looks 20 --seeds 3 were 0.960 / 0.976 with 0.3, 0.960 / 0.962 with 0.5,
# 0.959 / 0.949 with 0.65, 0.960 / 0.919 with 0.8 (without it, 0.960 / 0.982). A photo model
# keeps edited copies above 0.9.
UNLIKE_COSINE = 0.3
# Two photos whose shapes (width to height) differ by more than this share are not copies of
# one picture, however alike their hashes and vectors: plain scenes (a sky, a wall, a shape on
# a plain ground) hash alike at any framing. A crop of 10 % off one side changes the shape by
# 11 %, of 20 % by 25 %.
MAX_SHAPE_CHANGE = 1.25
# Bands per hash for the candidate look-up. 4 bands of 16 bits: each look-up finds the photos
# sharing a band exactly or but for one bit (17 keys of 65,536), so a photo meets about 200
# others in a library of 100k, not all of them, compared in one numpy step: grouping a library
# of 100k photos takes 33 s (bench/duplicates.py). Exact bands only (1 key) found fewer copies:
# grouped recall 0.938 against 0.982.
BANDS = 4
_BAND_BITS = BITS // BANDS
_BAND_MASK = (1 << _BAND_BITS) - 1
_MASK = (1 << BITS) - 1
# What a band key is looked up with: itself, and each of its bits flipped.
_PROBES = (0, *(1 << bit for bit in range(_BAND_BITS)))
# Pictures hashed afresh (contents indexed before hashes were kept) are decoded this large on
# their short side: enough for a 32×32 hash, quick for a JPEG (reduced decode).
HASH_SIDE = 128

# A link between two files of the same content, sorted before any other.
EXACT_LINK = -1

# Dates closer than this are the same: a copy made a moment after its original is as old, and
# FAT (memory cards, USB sticks) keeps file times to 2 seconds.
SAME_TIME = 2.0

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
    """The photos with the one to keep first (a camera RAW file, then the largest picture, then
    the oldest, then one with its camera's date), and why it is that one, in words.

    A RAW file comes first whatever its size: it is the camera's original, which can be
    developed again (exposure, white balance), and the JPEG beside it was made from it, not
    the other way round. Its size would not decide it: LibRaw may count a margin of sensor
    pixels more than the camera's JPEG keeps, or fewer, and ties fall to the name (.CR2 before
    .JPG, .NEF after). Photographers who shoot RAW+JPEG keep the RAW file."""

    def age(p: PhotoRow) -> int:
        return math.floor(date_of(p) / SAME_TIME)

    def order(p: PhotoRow) -> tuple[bool, int, int, bool, str]:
        return not media.is_raw(p.path), -pixels(p), age(p), p.taken_at is None, str(p.path)

    ordered = tuple(sorted(photos, key=order))
    keeper, others = ordered[0], ordered[1:]
    if not media.is_raw(keeper.path):
        return ordered, _why_kept(keeper, others, age)
    rivals = [p for p in others if media.is_raw(p.path)]
    if not rivals:
        return ordered, "the camera's RAW file, the original the others were made from"
    why = _why_kept(keeper, rivals, age)
    return ordered, why if len(rivals) == len(others) else f"a camera RAW file, {why}"


def _why_kept(keeper: PhotoRow, rest: Sequence[PhotoRow], age: Callable[[PhotoRow], int]) -> str:
    """Why keeper is kept rather than rest (sorted after it by keeper_first), in words."""
    if all(pixels(keeper) > pixels(p) for p in rest):
        return f"the largest picture ({keeper.width}×{keeper.height})"
    same = [p for p in rest if pixels(p) == pixels(keeper)]
    if all(age(keeper) < age(p) for p in same):
        day = datetime.fromtimestamp(date_of(keeper)).strftime("%Y-%m-%d %H:%M")
        return f"as large as any, and the oldest ({day})"
    alike = [p for p in same if age(p) == age(keeper)]
    if keeper.taken_at is not None and all(p.taken_at is None for p in alike):
        return "as large and as old as any, and the only one with its camera's date"
    return "as large and as old as any; the first by name"


def same_shape(a: PhotoRow, b: PhotoRow) -> bool:
    """Whether two photos could be copies of one picture by their shape (width to height): a
    copy keeps it, whatever its size, and a light crop changes it a little. Photos of unknown
    size may be."""
    if not (a.width and a.height and b.width and b.height):
        return True
    ratio = (a.width / a.height) / (b.width / b.height)
    return max(ratio, 1 / ratio) <= MAX_SHAPE_CHANGE


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
        # The hashes in a table (one row, a slot, per photo: whole and middle, unsigned), so
        # that a photo is compared with all its candidates in one numpy step; the band index
        # holds slots.
        self._table = np.zeros((1024, 2), np.uint64)
        self._ids = np.full(1024, -1, np.int64)
        self._slots: dict[int, int] = {}
        self._free: list[int] = []
        self._bands: list[dict[int, set[int]]] = [defaultdict(set) for _ in range(BANDS)]
        self._contents: dict[str, set[int]] = defaultdict(set)
        self._stems: dict[tuple[Path, str], set[int]] = defaultdict(set)
        # Each photo's links: the other photo, and how many bits apart (EXACT_LINK: the same
        # content).
        self._links: dict[int, dict[int, int]] = defaultdict(dict)

    def __len__(self) -> int:
        return len(self._photos)

    def add(self, photo: PhotoRow) -> None:
        """Take in a photo, linking it to those it is a copy of."""
        if photo.id in self._photos:
            self.remove(photo.id)
        found = dict.fromkeys(self._contents[photo.content], EXACT_LINK)
        stem = (photo.path.parent, photo.path.stem.lower())
        if photo.hashes is not None:
            near = self._near(photo.hashes)
            for other in self._stems[stem]:
                hashes = self._photos[other].hashes
                if hashes is not None and other not in near:
                    near[other] = closest(photo.hashes, hashes)
            for other, bits in near.items():
                if other not in found and self._alike(photo, other, bits, stem):
                    found[other] = bits
        for other, bits in found.items():
            self._links[photo.id][other] = bits
            self._links[other][photo.id] = bits
        self._photos[photo.id] = photo
        self._contents[photo.content].add(photo.id)
        self._stems[stem].add(photo.id)
        if photo.hashes is not None:
            slot = self._slot_for(photo.id)
            self._table[slot] = [h & _MASK for h in photo.hashes]
            for band, key in self._band_keys(photo.hashes):
                self._bands[band][key].add(slot)

    def remove(self, file_id: int) -> None:
        """Forget a photo (deleted, or changed: add it again)."""
        photo = self._photos.pop(file_id, None)
        if photo is None:
            return
        self._contents[photo.content].discard(file_id)
        self._stems[(photo.path.parent, photo.path.stem.lower())].discard(file_id)
        slot = self._slots.pop(file_id, None)
        if slot is not None:
            for band, key in self._band_keys(photo.hashes):
                self._bands[band][key].discard(slot)
            self._ids[slot] = -1
            self._free.append(slot)
        for other in self._links.pop(file_id, {}):
            self._links[other].pop(file_id, None)
        self._vector_cache.pop(file_id, None)

    def _slot_for(self, file_id: int) -> int:
        if self._free:
            slot = self._free.pop()
        else:
            slot = len(self._slots)
            if slot == len(self._ids):
                self._table = np.concatenate([self._table, np.zeros_like(self._table)])
                self._ids = np.concatenate([self._ids, np.full_like(self._ids, -1)])
        self._slots[file_id] = slot
        self._ids[slot] = file_id
        return slot

    def _near(self, hashes: tuple[int, int]) -> dict[int, int]:
        """The photos sharing a band with one of these hashes (exactly or but for one bit)
        and within NEAR_BITS at their closest pairing, with how many bits apart."""
        slots: set[int] = set()
        for band, key in self._band_keys(hashes):
            index = self._bands[band]
            for flip in _PROBES:
                hit = index.get(key ^ flip)
                if hit:
                    slots |= hit
        if not slots:
            return {}
        at = np.fromiter(slots, np.int64, len(slots))
        theirs = self._table[at]
        bits = np.full(len(at), BITS, np.int64)
        for mine in hashes:
            for column in range(2):
                apart = np.bitwise_count(theirs[:, column] ^ np.uint64(mine & _MASK))
                np.minimum(bits, apart, out=bits)
        close = bits <= NEAR_BITS
        return dict(zip(self._ids[at[close]].tolist(), bits[close].tolist(), strict=True))

    def pairs(self) -> set[frozenset[int]]:
        """Every two photos judged to show the same picture (by file id), before grouping."""
        return {frozenset((a, b)) for a, linked in self._links.items() for b in linked}

    def groups(self) -> list[Group]:
        """The groups of two or more, the most space to free first. Union-find over the links:
        the sure ones first (same content, hashes within SURE_BITS), then the others, closest
        first, each of which may bring a photo into a group but never join two groups: one
        wrong link would otherwise make one group of two pictures' copies (in the bench, 0.68
        of the pairs grouped were right; this way 0.998, and as many copies found)."""
        parent: dict[int, int] = {}
        size: dict[int, int] = {}

        def root(i: int) -> int:
            parent.setdefault(i, i)
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        def join(a: int, b: int) -> None:
            ra, rb = root(a), root(b)
            if ra != rb:
                low, high = min(ra, rb), max(ra, rb)
                parent[high] = low
                size[low] = size.get(low, 1) + size.get(high, 1)

        links = sorted(
            (bits, a, b) for a, linked in self._links.items() for b, bits in linked.items() if a < b
        )
        for bits, a, b in links:
            alone = size.get(root(a), 1) == 1 or size.get(root(b), 1) == 1
            if bits <= SURE_BITS or alone:
                join(a, b)
        members: dict[int, list[PhotoRow]] = defaultdict(list)
        for i in parent:
            members[root(i)].append(self._photos[i])
        out = [group_of(photos) for photos in members.values() if len(photos) > 1]
        out.sort(key=lambda g: (-g.spare_bytes, str(g.keeper.path)))
        return out

    def _alike(self, photo: PhotoRow, b: int, bits: int, stem: tuple[Path, str]) -> bool:
        """Whether two photos of different content bits apart (up to NEAR_BITS) show the same
        picture: never when their shapes differ; always when they are one shot saved in two
        formats (IMG_1.HEIC, IMG_1.JPG in one folder: the names confirm it); else never when
        their vectors say two pictures (below UNLIKE_COSINE), sure within SURE_BITS, and beyond
        it when their vectors agree (MIN_COSINE)."""
        if bits > NEAR_BITS or not same_shape(photo, self._photos[b]):
            return False
        if b in self._stems[stem]:
            return True
        cosine = self._cosine(photo.id, b)
        if cosine is not None and cosine < UNLIKE_COSINE:
            return False
        return bits <= SURE_BITS or (cosine is not None and cosine >= MIN_COSINE)

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


def hash_missing(
    store: Store, should_stop: Callable[[], bool] | None = None
) -> dict[str, tuple[int, int]]:
    """Hash the photo contents indexed before hashes were kept, and keep the hashes when the
    library can be written now (so each content is hashed once), forgetting those of contents
    no file holds any more; the new hashes by content."""
    found: dict[str, tuple[int, int]] = {}
    for digest, path in dupes_rows.unhashed(store):
        if should_stop is not None and should_stop():
            break
        try:
            picture = media.open_image(path.read_bytes(), HASH_SIDE, raw=media.is_raw(path))
            found[digest] = hashes(picture.image)
        except (OSError, UnreadableFile) as e:
            log.info("cannot hash %s: %s", path, e)
    if not store.read_only:
        try:
            dupes_rows.save_hashes(store, found.items())
            dupes_rows.forget_gone(store)
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
