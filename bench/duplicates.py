"""How well duplicates are found, and how long a fresh full pass takes at 100k photos.

    .venv/bin/python bench/duplicates.py [--looks 20] [--seeds 3] [--model SPEC] [--photos 100000]

Precision and recall: made-up photos of outdoor scenes (tests/scenes.py), `--seeds` photos of
each of `--looks` kinds of scene (the others of the same look are the distractors: the same
palette and layout, other hills, trees and houses), each with 14 edited copies (resized,
recompressed at qualities 30-75, cropped 5 and 10 %, brighter, more and less contrast, turned
2 and 3 degrees, a burst shot, saved as PNG), written to a folder, indexed into a real library
by the real indexer with --model (default: the tiny test model), and grouped by
mediafind.dupes.find. A pair of photos is right when both come from one original. Printed:
precision and recall over the pairs of photos put in one group (what a user sees) and over the
pairs judged alike directly, the same for the hashes alone (as if every pair's vectors agreed),
and per kind of edit. The tiny model is trained on coloured shapes: its vectors of these scenes
say less than a photo model's would.

Timing: hashing one picture as the indexer does (from the picture decoded for the model, at
ViT-B-32's 224 pixels) times 100k; a library of --photos photos (made-up vectors and hashes, a
tenth of them near-copies of another) grouped by mediafind.dupes.find the first time (every
photo linked then: a library indexed before links were kept) and again (the links read);
linking one new photo into it, as the indexer does.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from _library import make_library
from _table import figure

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from scenes import VARIANTS, jpeg, scene

from mediafind import dupes, dupes_rows, embed, media, roots_rows, scan
from mediafind.dupes_hash import hashes
from mediafind.indexer import Indexer, Outcome
from mediafind.store import Store

TINY = Path(__file__).resolve().parent.parent / "mediafind" / "assets" / "tiny-clip"


def write_folder(root: Path, looks: int, seeds: int) -> dict[Path, tuple[int, int]]:
    """The photos and their copies; each file's original, as (look, seed)."""
    truth: dict[Path, tuple[int, int]] = {}
    for look, seed in itertools.product(range(looks), range(seeds)):
        picture = scene(look, seed)
        folder = root / f"look {look:03}"
        folder.mkdir(parents=True, exist_ok=True)
        original = folder / f"scene {seed}.jpg"
        original.write_bytes(jpeg(picture))
        truth[original] = (look, seed)
        rng = random.Random(look * 1000 + seed)
        for n, (name, make) in enumerate(VARIANTS.items()):
            suffix = ".png" if "PNG" in name else ".jpg"
            copy = folder / f"scene {seed} copy {n:02} {name.replace('%', 'pc')}{suffix}"
            copy.write_bytes(make(picture, rng))
            truth[copy] = (look, seed)
    return truth


def index(library: Path, root: Path, spec: str) -> None:
    encoder = embed.OpenClipEncoder(embed.parse_spec(spec), "cpu")
    with Store.open(library, writer=True) as store:
        folder = roots_rows.add_root(store, root)
        scan.reconcile(store, [folder])
        Indexer(store, lambda: encoder, encoder.identity).embed_pending(Outcome())


def scores(pairs: set[frozenset[Path]], truth: dict[Path, tuple[int, int]]) -> tuple[float, float]:
    right = {frozenset(p) for p in itertools.combinations(truth, 2) if truth[p[0]] == truth[p[1]]}
    found = len(pairs & right)
    return found / max(len(pairs), 1), found / len(right)


def grouped_pairs(groups: list[dupes.Group]) -> set[frozenset[Path]]:
    """Every two photos in one group."""
    return {
        frozenset((a.path, b.path)) for g in groups for a, b in itertools.combinations(g.photos, 2)
    }


def per_edit(pairs: set[frozenset[Path]], truth: dict[Path, tuple[int, int]]) -> dict[str, float]:
    """Recall of each kind of edit: the copy grouped with its original."""
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    originals = {v: p for p, v in truth.items() if " copy " not in p.name}
    for path, origin in truth.items():
        if " copy " in path.name:
            name = list(VARIANTS)[int(path.stem.split(" copy ")[1][:2])]
            total[name] += 1
            found[name] += frozenset((path, originals[origin])) in pairs
    return {name: found[name] / total[name] for name in total}


def finder(store: Store, vectors: bool) -> dupes.Finder:
    """The library's photos in a Finder; vectors False: as if every pair's vectors agreed, so
    that the hashes alone decide."""
    agreeing = np.ones(4, np.float32).tobytes()
    if vectors:
        return dupes.load(store)
    return dupes.load(store, vectors=lambda ids: dict.fromkeys(ids, agreeing))


def quality(args: argparse.Namespace, work: Path) -> None:
    started = time.perf_counter()
    truth = write_folder(work / "photos", args.looks, args.seeds)
    print(f"wrote {len(truth)} photos in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    index(work / "quality.sqlite3", work / "photos", args.model)
    print(f"indexed them in {time.perf_counter() - started:.0f} s", flush=True)
    model = Path(args.model).name
    with Store.open(work / "quality.sqlite3") as store:
        paths = {p.id: p.path for p in dupes_rows.photos(store)}
        results = {}
        for name, vectors in ((f"with {model}'s vectors", True), ("hashes alone", False)):
            found = finder(store, vectors)
            links = {frozenset(paths[i] for i in pair) for pair in found.pairs()}
            results[name] = (links, grouped_pairs(found.groups()))
    vectors = f"with {model}'s vectors"
    print("photos in one group, as the window and `mediafind duplicates` show them:")
    for name, (_, grouped) in results.items():
        precision, recall = scores(grouped, truth)
        print(f"  {name:28} precision {precision:.3f}  recall {recall:.3f}")
        if name == vectors:
            figure("duplicates: grouped, precision", f"{precision:.3f}", ">= 0.95",
                   precision >= 0.95)  # fmt: skip
            figure("duplicates: grouped, recall", f"{recall:.3f}", ">= 0.95", recall >= 0.95)
    print("pairs judged the same picture directly (before grouping):")
    for name, (links, _) in results.items():
        precision, recall = scores(links, truth)
        print(f"  {name:28} precision {precision:.3f}  recall {recall:.3f}")
    links, grouped = results[vectors]
    direct, together = per_edit(links, truth), per_edit(grouped, truth)
    print("each kind of copy and its original: judged alike directly, in one group")
    for name in VARIANTS:
        print(f"  {name:36} {direct[name]:.2f}  {together[name]:.2f}")


def timing(args: argparse.Namespace, work: Path) -> None:
    picture = media.open_image(jpeg(scene(1, 1, (4000, 3000)), 90), 224).image
    rounds = 200
    started = time.perf_counter()
    for _ in range(rounds):
        hashes(picture)
    per_photo = (time.perf_counter() - started) / rounds
    print(f"hashing: {per_photo * 1000:.2f} ms a photo, {per_photo * 100_000 / 60:.1f} min "
          "for 100k photos (done once, as each is indexed)")  # fmt: skip
    library = work / "big" / "library.sqlite3"
    library.parent.mkdir()
    made = make_library(library, args.photos, notes=0)
    print(f"made a library of {made.photos} photos in {made.seconds:.0f} s", flush=True)
    rng = np.random.default_rng(5)
    with Store.open(library, writer=True) as store:
        contents = [r.content for r in dupes_rows.photos(store)]
        values = rng.integers(-(2**63), 2**63 - 1, size=(len(contents), 2), dtype=np.int64)
        for i in range(1, len(contents), 10):  # a tenth are near-copies of the photo before
            flips = rng.choice(64, 6, replace=False)
            mask = int(sum(1 << int(b) for b in flips))
            for j in range(2):
                v = (int(values[i - 1, j]) & (2**64 - 1)) ^ mask
                values[i, j] = v - 2**64 if v >= 2**63 else v
        dupes_rows.save_hashes(
            store, ((c, (int(a), int(b))) for c, (a, b) in zip(contents, values, strict=True))
        )
    with Store.open(library, writer=True) as store:
        started = time.perf_counter()
        groups = dupes.find(store)  # links every photo: a library indexed before links were kept
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = dupes.find(store)  # reads the links
        asked = time.perf_counter() - started
        linking = link_new(store, rng, 1000)
    print(f"grouping {args.photos} photos: linking them all first {first:.1f} s, "
          f"{len(groups)} groups; asked again (links kept) {asked:.1f} s, "
          f"{len(again)} groups")  # fmt: skip
    print(f"linking a photo as it is indexed: {linking * 1000:.2f} ms")
    total = (per_photo + linking) * 100_000 + asked * 100_000 / args.photos
    print(f"a fresh full pass at 100k photos: {total / 60:.1f} min (hashing and linking as each "
          f"is indexed, then grouping); catching up a library indexed before links were kept: "
          f"{first * 100_000 / args.photos:.0f} s")  # fmt: skip
    figure("duplicates: fresh full pass, 100k photos", f"{total / 60:.1f} min", "minutes",
           total < 30 * 60)  # fmt: skip
    figure("duplicates: asked for, 100k photos linked", f"{asked * 100_000 / args.photos:.1f} s",
           "seconds", asked * 100_000 / args.photos < 60)  # fmt: skip


def link_new(store: Store, rng: np.random.Generator, count: int) -> float:
    """Seconds to link one new content into the library, as the indexer does (median of count,
    each in its own transaction, all taken back after)."""
    times = []
    for n in range(count):
        digest = f"bench-new-{n}"
        a, b = (int(v) for v in rng.integers(-(2**63), 2**63 - 1, size=2, dtype=np.int64))
        with store.atomic():
            dupes_rows.save_hashes(store, [(digest, (a, b))])
            started = time.perf_counter()
            dupes.link(store, digest, (a, b))
            times.append(time.perf_counter() - started)
    with store.atomic():
        store.conn.execute("DELETE FROM picture_hashes WHERE hash LIKE 'bench-new-%'")
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--looks", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--model", default=f"local-dir:{TINY}")
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--work", type=Path, help="keep the photos and libraries in this folder")
    args = parser.parse_args()
    if args.work is not None:
        args.work.mkdir(parents=True)
        if not args.skip_quality:
            quality(args, args.work)
        if not args.skip_timing:
            timing(args, args.work)
        return
    with tempfile.TemporaryDirectory(prefix="mediafind-dupes-") as work:
        if not args.skip_quality:
            quality(args, Path(work))
        if not args.skip_timing:
            timing(args, Path(work))


if __name__ == "__main__":
    main()
