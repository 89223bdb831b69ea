"""The image-caption sets the evaluation runs on: the library's own captioned photos, a folder of
photos with sidecar captions or a captions.json, or a Karpathy-split JSON (Flickr30k, COCO)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mediafind import captions, media
from mediafind.errors import MediafindError, describe
from mediafind.evaluate_rows import captioned_photos
from mediafind.kinds import PHOTO
from mediafind.store import Store

log = logging.getLogger(__name__)

# Fewer photos than this and the figures say little: Recall@10 of 12 photos is most of the set,
# and one photo more or less moves Recall@1 by several points.
MIN_PHOTOS = 20
CAPTIONS_FILE = "captions.json"
DEFAULT_SPLIT = "test"


@dataclass(frozen=True, slots=True)
class Item:
    path: Path
    captions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EvalSet:
    """Photos with their captions; missing: photos the set names that are not on disk (left
    out, and said)."""

    name: str
    items: tuple[Item, ...]
    missing: tuple[Path, ...] = ()

    @property
    def pairs(self) -> int:
        return sum(len(item.captions) for item in self.items)

    def check(self) -> None:
        """Raise MediafindError, saying what to do, when the set is too small to measure."""
        gone = f" ({len(self.missing)} photos it names are missing)" if self.missing else ""
        if not self.items:
            raise MediafindError(f"{self.name} has no captioned photos to measure with{gone}")
        if len(self.items) < MIN_PHOTOS:
            raise MediafindError(
                f"{self.name} has {len(self.items)} captioned photos ({self.pairs} caption-photo "
                f"pairs){gone}; the figures need at least {MIN_PHOTOS} photos with a caption each"
            )


def from_library(store: Store) -> EvalSet:
    """The library's photos that have captions, as the library keeps them."""
    items, missing = [], []
    for path, texts in captioned_photos(store):
        if path.is_file():
            items.append(Item(path, tuple(texts)))
        else:
            missing.append(path)
    name = "the library's captioned photos"
    if not items and not missing:
        raise MediafindError(
            "none of the library's photos has a caption yet: write one beside a photo "
            "(photo.jpg.txt) or in its description, or measure with a folder of captioned "
            "photos or a Karpathy JSON (`mediafind eval FOLDER`)"
        )
    return EvalSet(name, tuple(items), tuple(missing))


def from_folder(folder: Path) -> EvalSet:
    """A folder's photos with their captions: from its captions.json ({"photo.jpg": "caption"
    or ["caption", ...]}, paths relative to the folder) when it has one, else each photo's
    sidecar and embedded captions, as indexing reads them."""
    listed = folder / CAPTIONS_FILE
    if listed.is_file():
        return _from_captions_json(listed)
    items = []
    for path in _photos_in(folder):
        try:
            found = captions.of_photo(path, path.read_bytes()).texts
        except OSError as e:
            log.warning("cannot read %s: %s", path, describe(e, with_file=False))
            continue
        if found:
            items.append(Item(path, found))
    return EvalSet(f"the captioned photos of {folder}", tuple(items))


def _photos_in(folder: Path) -> list[Path]:
    found = []
    for top, dirs, files in os.walk(folder):
        dirs.sort()
        found += [Path(top, f) for f in sorted(files) if media.kind_of_name(f) == PHOTO]
    return found


def _from_captions_json(listed: Path) -> EvalSet:
    data = _read_json(listed)
    if not isinstance(data, dict):
        raise MediafindError(
            f"{listed} is not a captions file: it should map each photo to its caption, as "
            f'{{"photo.jpg": "a red bicycle"}}'
        )
    items, missing = [], []
    for name, said in data.items():
        texts = [said] if isinstance(said, str) else said
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise MediafindError(f"{listed}: the caption of {name} is not text")
        path = listed.parent / name
        kept = tuple(t.strip() for t in texts if t.strip())
        if not path.is_file():
            missing.append(path)
        elif kept:
            items.append(Item(path, kept))
    return EvalSet(f"the photos of {listed}", tuple(items), tuple(missing))


def from_karpathy(listed: Path, images: Path | None, split: str = DEFAULT_SPLIT) -> EvalSet:
    """A split of a Karpathy JSON (dataset_flickr30k.json, dataset_coco.json: images[] with
    filename, split and sentences[].raw), its photos found under images (by filepath/filename
    or filename), by default the folder the JSON is in."""
    data = _read_json(listed)
    entries = data.get("images") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise MediafindError(f"{listed} is not a Karpathy split file: it has no images list")
    where = images if images is not None else listed.parent
    chosen = [e for e in entries if isinstance(e, dict) and e.get("split") == split]
    if not chosen:
        splits = sorted({str(e.get("split")) for e in entries if isinstance(e, dict)})
        raise MediafindError(
            f"{listed} has no photos in the split {split!r} (its splits: {', '.join(splits)})"
        )
    items, missing = [], []
    for entry in chosen:
        name = str(entry.get("filename", ""))
        texts = tuple(
            str(s.get("raw", "")).strip()
            for s in entry.get("sentences", [])
            if isinstance(s, dict) and str(s.get("raw", "")).strip()
        )
        path = _find(where, str(entry.get("filepath", "")), name)
        if path is None:
            missing.append(where / name)
        elif texts:
            items.append(Item(path, texts))
    if not items:
        raise MediafindError(
            f"none of the {len(chosen)} photos of the split {split!r} of {listed} is under "
            f"{where}: give the folder that holds them with --images"
        )
    return EvalSet(f"the {split} split of {listed.name}", tuple(items), tuple(missing))


def _find(where: Path, subfolder: str, name: str) -> Path | None:
    for path in (where / subfolder / name, where / name):
        if name and path.is_file():
            return path
    return None


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise MediafindError(f"cannot read {path}: {describe(e, with_file=False)}") from e
    except ValueError as e:
        raise MediafindError(f"{path} is not valid JSON: {e}") from e


def load(source: Path | None, store: Store | None, images: Path | None, split: str) -> EvalSet:
    """The set a SET argument names: None, the library's own (store); a folder; a captions
    file or a Karpathy JSON."""
    if source is None:
        if store is None:
            raise MediafindError("there is no library yet, so no captioned photos in it")
        return from_library(store)
    if source.is_dir():
        return from_folder(source)
    if not source.is_file():
        raise MediafindError(f"{source} is neither a folder of photos nor a JSON file")
    data = _read_json(source)
    if isinstance(data, dict) and "images" in data:
        return from_karpathy(source, images, split)
    return _from_captions_json(source)


def missing_lines(found: EvalSet, shown: int = 5) -> Sequence[str]:
    """Sentences saying which photos of the set are missing (left out)."""
    if not found.missing:
        return ()
    names = ", ".join(str(p) for p in found.missing[:shown])
    more = f" and {len(found.missing) - shown} more" if len(found.missing) > shown else ""
    return (f"{len(found.missing)} photos of the set are missing and were left out: {names}{more}",)
