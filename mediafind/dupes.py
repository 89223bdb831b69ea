"""Duplicate photos: exact copies (the same content hash) and near-copies (resized, recompressed,
lightly cropped or edited, the next shot of a burst, the same shot in two formats), found by
perceptual hash and confirmed by the picture vectors the library already holds, grouped, each
group with the photo to keep and why.

Candidates come from multi-index hashing, kept in the library as pictures are indexed (link):
each 64-bit hash is cut into BANDS bands, and a new content is looked up under each of its
bands and every band one bit away, so adding a picture costs 136 index look-ups in one query
and one numpy comparison with what they find, not a comparison with every photo (a pair up to
2 × BANDS - 1 bits apart always shares a band that close; most pairs further apart do too).
The contents found within NEAR_BITS are kept as links; asking for duplicates reads them, judges
each link between two photos (shapes, vectors, names: Finder) and groups by union-find
(Finder.groups): seconds at 100k photos, not a pass over all of them. One shot saved in two
formats in one folder (IMG_1.NEF beside IMG_1.JPG, the RAW+JPEG pair; IMG_1.HEIC beside
IMG_1.JPG) is grouped by its name."""

from __future__ import annotations

import itertools
import logging
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
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


# What names a file as a copy of another: "IMG_1 (1).jpg" (a browser's or a file manager's
# second download or paste; not "Party (2019).jpg"), "IMG_1 copy.jpg", "IMG_1 - Copy (2).jpg",
# "Copy of IMG_1.jpg"; and folders that hold copies (a backup, "Copies", "Duplicates").
_COPY_NAME = re.compile(r"(^copy of )|([ _-]copy( \d{1,2})?$)|( \(\d{1,2}\)$)", re.IGNORECASE)
_COPY_FOLDERS = frozenset({"backup", "backups", "copies", "copy", "duplicates"})


def named_as_a_copy(path: Path) -> bool:
    """Whether a file's name, or a folder it is in, says it is a copy of another."""
    stem = re.sub(r" \(\d{1,2}\)$", "", path.stem)  # "IMG_1 - Copy (2)": the copy's number
    if _COPY_NAME.search(path.stem) or _COPY_NAME.search(stem):
        return True
    return any(part.casefold() in _COPY_FOLDERS for part in path.parent.parts)


def keeper_first(photos: Iterable[PhotoRow]) -> tuple[tuple[PhotoRow, ...], str]:
    """The photos with the one to keep first (a camera RAW file, then the largest picture, then
    the oldest, then one with its camera's date, then one not named or kept as a copy), and
    why it is that one, in words.

    A RAW file comes first whatever its size: it is the camera's original, which can be
    developed again (exposure, white balance), and the JPEG beside it was made from it, not
    the other way round. Its size would not decide it: LibRaw may count a margin of sensor
    pixels more than the camera's JPEG keeps, or fewer, and ties fall to the name (.CR2 before
    .JPG, .NEF after). Photographers who shoot RAW+JPEG keep the RAW file."""

    def age(p: PhotoRow) -> int:
        return math.floor(date_of(p) / SAME_TIME)

    def order(p: PhotoRow) -> tuple[bool, int, int, bool, bool, str]:
        return (
            not media.is_raw(p.path),
            -pixels(p),
            age(p),
            p.taken_at is None,
            named_as_a_copy(p.path),
            str(p.path),
        )

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
    dated = [p for p in alike if (p.taken_at is None) == (keeper.taken_at is None)]
    if not named_as_a_copy(keeper.path) and all(named_as_a_copy(p.path) for p in dated):
        return "as large and as old as any; the others are named or kept as copies"
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


def band_keys(found: tuple[int, int]) -> set[int]:
    """A content's keys in the band index: each band of each hash, as band * 2**16 + its bits."""
    return {
        band << _BAND_BITS | ((value >> (band * _BAND_BITS)) & _BAND_MASK)
        for value in found
        for band in range(BANDS)
    }


def probe_keys(found: tuple[int, int]) -> list[int]:
    """The keys a content's near contents are looked up under: its own, each with one bit of
    its band flipped."""
    return sorted({key ^ flip for key in band_keys(found) for flip in _PROBES})


def within(found: tuple[int, int], candidates: Sequence[tuple[str, int, int]]) -> dict[str, int]:
    """The candidates (content, whole, middle) at most NEAR_BITS from found at their closest
    pairing of hashes, with how many bits apart; compared in one numpy step."""
    if not candidates:
        return {}
    theirs = np.array([(w & _MASK, m & _MASK) for _, w, m in candidates], np.uint64)
    bits = np.full(len(candidates), BITS, np.int64)
    for mine in found:
        for column in range(2):
            apart = np.bitwise_count(theirs[:, column] ^ np.uint64(mine & _MASK))
            np.minimum(bits, apart, out=bits)
    return {candidates[i][0]: int(bits[i]) for i in np.flatnonzero(bits <= NEAR_BITS).tolist()}


class Bands:
    """Contents' hashes held in memory and looked up by band as the library's band index is
    (see link): for contents linked where the library cannot be written."""

    def __init__(self) -> None:
        self._keys: dict[int, list[str]] = defaultdict(list)
        self._hashes: dict[str, tuple[int, int]] = {}

    def add(self, digest: str, found: tuple[int, int]) -> None:
        for key in band_keys(found):
            self._keys[key].append(digest)
        self._hashes[digest] = found

    def near(self, found: tuple[int, int]) -> dict[str, int]:
        """The contents held within NEAR_BITS of found, with how many bits apart."""
        seen = {digest for key in probe_keys(found) for digest in self._keys.get(key, ())}
        return within(found, [(digest, *self._hashes[digest]) for digest in seen])


def near_in_library(store: Store, digest: str, found: tuple[int, int]) -> dict[str, int]:
    """The contents linked in the library within NEAR_BITS of a content's hashes (found), but
    itself, with how many bits apart: about 136 index look-ups in one query."""
    near = within(found, dupes_rows.banded(store, probe_keys(found)))
    near.pop(digest, None)
    return near


def link(store: Store, digest: str, found: tuple[int, int]) -> dict[str, int]:
    """Keep a newly hashed content (its hashes kept) in the library's band index, linked to the
    contents near it, and return those with how many bits apart: what indexing a picture adds,
    so that finding duplicates later reads links instead of comparing every photo. Inside the
    caller's transaction."""
    near = near_in_library(store, digest, found)
    dupes_rows.save_links(store, digest, band_keys(found), near.items())
    return near


# Contents linked per transaction when catching up (link_missing).
LINK_BATCH = 500


def link_missing(
    store: Store,
    unsaved: Mapping[str, tuple[int, int]] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[tuple[str, str, int]]:
    """Link the contents hashed but not linked yet (hashed before links were kept, or by a
    process that could not write), keeping the links when the library can be written now, and
    those whose hashes could not be kept (unsaved) in memory only. Returns every link made:
    (content, content, bits apart)."""
    todo = dupes_rows.unlinked(store)
    known = {digest for digest, _ in todo}
    extra = [(digest, h) for digest, h in (unsaved or {}).items() if digest not in known]
    memory = Bands()
    made: list[tuple[str, str, int]] = []

    def in_memory(batch: Sequence[tuple[str, tuple[int, int]]]) -> None:
        for digest, found in batch:
            near = near_in_library(store, digest, found) | memory.near(found)
            memory.add(digest, found)
            made.extend((digest, other, bits) for other, bits in near.items())

    writing = not store.read_only
    for start in range(0, len(todo), LINK_BATCH):
        if should_stop is not None and should_stop():
            return made
        batch = todo[start : start + LINK_BATCH]
        if writing:
            try:
                with store.atomic():
                    links = [(digest, link(store, digest, found)) for digest, found in batch]
            except LibraryError as e:  # busy: another process writes; linked again next time
                log.info("links not kept: %s", e)
                writing = False
            else:
                made.extend((d, other, bits) for d, near in links for other, bits in near.items())
                continue
        in_memory(batch)
    in_memory(extra)
    return made


def around(links: Iterable[tuple[str, str, int]]) -> dict[str, dict[str, int]]:
    """Links (content, content, bits) as each content's near contents."""
    near: dict[str, dict[str, int]] = defaultdict(dict)
    for a, b, bits in links:
        near[a][b] = bits
        near[b][a] = bits
    return near


class Finder:
    """Groups of duplicates among photos added one at a time (and removed): each addition is
    linked to the photos of its content, to those of the contents near it (their hashes at most
    NEAR_BITS apart: the links kept as pictures are indexed), judged by their shapes and vectors,
    and to those of its name in another format in its folder."""

    def __init__(self, vectors: Callable[[Sequence[int]], dict[int, bytes]]) -> None:
        """vectors: the picture vectors of the photos with these ids (those that have one)."""
        self._vectors = vectors
        self._vector_cache: dict[int, np.ndarray | None] = {}
        self._photos: dict[int, PhotoRow] = {}
        self._contents: dict[str, set[int]] = defaultdict(set)
        self._stems: dict[tuple[Path, str], set[int]] = defaultdict(set)
        # Each photo's links: the other photo, and how many bits apart (EXACT_LINK: the same
        # content).
        self._links: dict[int, dict[int, int]] = defaultdict(dict)

    def __len__(self) -> int:
        return len(self._photos)

    def add(self, photo: PhotoRow, near: Mapping[str, int]) -> None:
        """Take in a photo, linking it to those it is a copy of. near: the contents near its
        own, with how many bits apart (see link)."""
        if photo.id in self._photos:
            self.remove(photo.id)
        found = dict.fromkeys(self._contents.get(photo.content, ()), EXACT_LINK)
        candidates = {
            other: bits
            for content, bits in near.items()
            if content != photo.content
            for other in self._contents.get(content, ())
        }
        stem = (photo.path.parent, photo.path.stem.lower())
        if photo.hashes is not None:
            for other in self._stems.get(stem, ()):
                hashes = self._photos[other].hashes
                if hashes is not None and other not in candidates:
                    candidates[other] = closest(photo.hashes, hashes)
        for other, bits in candidates.items():
            if other not in found and self._alike(photo, other, bits, stem):
                found[other] = bits
        for other, bits in found.items():
            self._links[photo.id][other] = bits
            self._links[other][photo.id] = bits
        self._photos[photo.id] = photo
        self._contents[photo.content].add(photo.id)
        self._stems[stem].add(photo.id)

    def read_vectors(self, file_ids: Iterable[int]) -> None:
        """Read these photos' vectors now, in one go (those it will be asked to compare),
        rather than a pair at a time as they are needed."""
        wanted = [i for i in file_ids if i not in self._vector_cache]
        read = self._vectors(wanted) if wanted else {}
        for i in wanted:
            raw = read.get(i)
            self._vector_cache[i] = None if raw is None else np.frombuffer(raw, np.float32)

    def remove(self, file_id: int) -> None:
        """Forget a photo (deleted, or changed: add it again)."""
        photo = self._photos.pop(file_id, None)
        if photo is None:
            return
        self._contents[photo.content].discard(file_id)
        self._stems[(photo.path.parent, photo.path.stem.lower())].discard(file_id)
        for other in self._links.pop(file_id, {}):
            self._links[other].pop(file_id, None)
        self._vector_cache.pop(file_id, None)

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
        self.read_vectors((a, b))
        va, vb = self._vector_cache[a], self._vector_cache[b]
        if va is None or vb is None or va.shape != vb.shape:
            return None
        norm = float(np.linalg.norm(va) * np.linalg.norm(vb))
        return float(va @ vb) / norm if norm else None


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


def load(
    store: Store,
    folders: Sequence[Path] = (),
    should_stop: Callable[[], bool] | None = None,
    vectors: Callable[[Sequence[int]], dict[int, bytes]] | None = None,
) -> Finder:
    """The library's indexed photos (inside folders, when given) in a Finder, with the links
    kept as they were indexed; photos indexed before hashes or links were kept are hashed and
    linked first (once, when the library can be written). vectors: what the picture vectors
    are read with (the library's, by default)."""
    fresh = hash_missing(store, should_stop)
    near = around(itertools.chain(dupes_rows.pairs(store), link_missing(store, fresh, should_stop)))
    finder = Finder(vectors or (lambda ids: dupes_rows.picture_vectors(store, ids)))
    photos = dupes_rows.photos(store, folders)
    finder.read_vectors(p.id for p in photos if p.content in near)  # those to be compared
    for photo in photos:
        if should_stop is not None and should_stop():
            break
        if photo.hashes is None and photo.content in fresh:
            photo = replace(photo, hashes=fresh[photo.content])
        finder.add(photo, near.get(photo.content, {}))
    return finder


def find(
    store: Store,
    folders: Sequence[Path] = (),
    should_stop: Callable[[], bool] | None = None,
) -> list[Group]:
    """The groups of duplicates among the library's indexed photos (inside folders, when
    given), the most space to free first."""
    return load(store, folders, should_stop).groups()
