"""Indexing speed on big photos, against what the CPU can do at best.

    .venv/bin/python bench/index_speed.py [--photos 200] [--rounds 3] [--trees . OTHER]

Makes --photos photo-like 12-megapixel JPEGs once (cached in the temp folder), then, in child
processes so that each has its own peak memory, alternately runs:

- indexer: `mediafind index` through the session (Session.index_now: keeper.sync, the Indexer
  and its decode pool) with ViT-B-32 (random weights, local-dir), on a fresh library;
- bare: a plain loop that decodes a batch of photos, then encodes it (no overlap);
- bound: the encoder alone on decoded pictures (img/s on all cores), and the decoding alone
  (read, hash, decode: CPU seconds per photo on one core). Their sum per photo, spread over all
  cores, is the CPU-work bound: no pipeline can index faster.

Prints img/s, the ratio to the bound, CPU use (share of all cores) and peak RSS, medians over
the rounds. With several --trees (source checkouts), each variant runs with each tree's code.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

WORK = Path(tempfile.gettempdir()) / "mediafind-bench-index"
PHOTOS = Path(tempfile.gettempdir()) / "mediafind-bench-photos-12mp"
WIDTH, HEIGHT = 4000, 3000
BATCH = 32


def make_photos(count: int, folder: Path = PHOTOS) -> list[Path]:
    """count photo-like JPEGs of 12 megapixels: soft colour fields, shapes and sensor-like
    noise (so they compress like photos, about 3 MB each), with EXIF dates."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"IMG_{i:04}.jpg" for i in range(count)]
    made = 0
    for i, path in enumerate(paths):
        if path.exists():
            continue
        rng = np.random.default_rng(i)
        field = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
        image = Image.fromarray(field).resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC)
        draw = ImageDraw.Draw(image)
        for _ in range(30):
            x, y, r = rng.integers(0, WIDTH), rng.integers(0, HEIGHT), rng.integers(50, 600)
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        noise = rng.normal(0, 6, (HEIGHT, WIDTH // 4, 1)).astype(np.int16)
        pixels = np.asarray(image, dtype=np.int16) + np.tile(noise, (1, 4, 3))
        exif = Image.Exif()
        exif[0x0132] = f"2024:06:{1 + i % 28:02} 12:00:00"
        partial = path.with_suffix(".partial")
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(
            partial, "JPEG", quality=90, exif=exif
        )
        partial.replace(path)
        made += 1
    if made:
        print(f"made {made} photos in {folder}", file=sys.stderr)
    return paths


# -- children: each prints one JSON line -------------------------------------------------------


def _encoder(model: Path):  # type: ignore[no-untyped-def]
    from mediafind.embed import OpenClipEncoder, parse_spec

    return OpenClipEncoder(parse_spec(f"local-dir:{model}"), "cpu")


def child_indexer(photos: Path, model: Path) -> dict[str, float]:
    from mediafind.session import Options, Session

    library = WORK / f"library-{os.getpid()}"
    shutil.rmtree(library, ignore_errors=True)
    os.environ["MEDIAFIND_CACHE_DIR"] = str(WORK / f"cache-{os.getpid()}")
    steady: list[tuple[float, int]] = []
    session = Session(Options(library=str(library), model=f"local-dir:{model}", watch=False))
    started = time.perf_counter()
    outcome = session.index_now(
        [photos], on_progress=lambda p: steady.append((time.perf_counter(), p.done))
    )
    seconds = time.perf_counter() - started
    shutil.rmtree(library, ignore_errors=True)
    shutil.rmtree(WORK / f"cache-{os.getpid()}", ignore_errors=True)
    assert outcome.indexed and not outcome.errors, outcome
    (t0, d0), (t1, d1) = steady[0], steady[-1]
    return {"images": outcome.indexed, "seconds": seconds, "steady": (d1 - d0) / (t1 - t0)}


def child_bare(photos: Path, model: Path) -> dict[str, float]:
    from mediafind import media

    encoder = _encoder(model)
    paths = sorted(photos.glob("*.jpg"))
    encoder.encode_images([Image.new("RGB", (224, 224))])  # load what loads lazily
    started = time.perf_counter()
    for first in range(0, len(paths), BATCH):
        pictures = [
            media.open_image(p.read_bytes(), encoder.image_size).image
            for p in paths[first : first + BATCH]
        ]
        encoder.encode_images(pictures)
    return {"images": len(paths), "seconds": time.perf_counter() - started}


def child_bound(photos: Path, model: Path) -> dict[str, float]:
    from mediafind import media

    encoder = _encoder(model)
    paths = sorted(photos.glob("*.jpg"))
    cpu = time.process_time()
    pictures = []
    for p in paths:
        data = p.read_bytes()
        media.content_hash(data)
        pictures.append(media.open_image(data, encoder.image_size).image)
    decode = (time.process_time() - cpu) / len(paths)
    encoder.encode_images(pictures[:4])  # warm-up
    started = time.perf_counter()
    for first in range(0, len(pictures), BATCH):
        encoder.encode_images(pictures[first : first + BATCH])
    rate = len(pictures) / (time.perf_counter() - started)
    cores = len(os.sched_getaffinity(0))
    bound = 1 / (1 / rate + decode / cores)
    return {"images": len(paths), "encode_rate": rate, "decode_cpu": decode, "bound": bound}


CHILDREN = {"indexer": child_indexer, "bare": child_bare, "bound": child_bound}


def run_child(tree: Path, variant: str, photos: Path, model: Path) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=f"{tree}{os.pathsep}{Path(__file__).parent}")
    env["HF_HUB_OFFLINE"] = "1"
    command = [sys.executable, __file__, "--child", variant, str(photos), str(model)]
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{variant} with {tree} failed ({status})")
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    cores = len(os.sched_getaffinity(0))
    figures["cpu_share"] = (usage.ru_utime + usage.ru_stime) / wall / cores
    figures["rss_mb"] = usage.ru_maxrss / 1024
    return figures


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, variant, photos, model = sys.argv
        print(json.dumps(CHILDREN[variant](Path(photos), Path(model))))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--trees", nargs="*", type=Path, default=[Path()])
    parser.add_argument("--variants", nargs="*", default=list(CHILDREN), choices=list(CHILDREN))
    args = parser.parse_args()
    from _models import random_model

    model = random_model("ViT-B-32")
    make_photos(args.photos)
    photos = WORK / f"photos-{args.photos}"
    if not photos.is_dir() or len(list(photos.glob("*.jpg"))) != args.photos:
        shutil.rmtree(photos, ignore_errors=True)
        photos.mkdir(parents=True)
        for i in range(args.photos):
            (photos / f"IMG_{i:04}.jpg").symlink_to(PHOTOS / f"IMG_{i:04}.jpg")
    runs: dict[tuple[Path, str], list[dict[str, float]]] = {}
    for round_ in range(args.rounds):
        for tree in (t.resolve() for t in args.trees):
            for variant in args.variants:
                figures = run_child(tree, variant, photos, model)
                print(f"round {round_} {tree} {variant}: {figures}", file=sys.stderr)
                runs.setdefault((tree, variant), []).append(figures)
    bounds = {
        t: statistics.median(r["bound"] for r in v) for (t, n), v in runs.items() if n == "bound"
    }
    for (tree, variant), values in runs.items():
        median = {k: statistics.median(v[k] for v in values) for k in values[0]}
        rate = median.get("bound") or median["images"] / median["seconds"]
        line = f"{tree!s:32} {variant:8} {rate:6.2f} img/s"
        if variant == "bound":
            encoder, decode = median["encode_rate"], median["decode_cpu"] * 1000
            line += f" (encoder {encoder:.2f} img/s, decode {decode:.0f} ms CPU/photo)"
        elif tree in bounds:
            line += f"  {rate / bounds[tree]:4.2f}x bound"
        if "steady" in median:
            line += f"  steady {median['steady']:.2f} img/s"
        line += f"  CPU {median['cpu_share'] * 100:3.0f}%  peak RSS {median['rss_mb']:5.0f} MB"
        print(line)


if __name__ == "__main__":
    main()
