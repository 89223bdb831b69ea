"""Indexing speed on big photos, against what the CPU can do at best.

    .venv/bin/python bench/index_speed.py [--photos 200] [--rounds 3] [--trees . OTHER]

Makes --photos photo-like 12-megapixel JPEGs once (cached in the temp folder), then, in child
processes so that each has its own peak memory, alternately runs:

- indexer: `mediafind index` through the session (Session.index_now: keeper.sync, the Indexer
  and its decode pool) with ViT-B-32 (random weights, local-dir), on a fresh library, timed
  after the model is opened (the time to open it is printed too);
- bare: a plain loop that decodes a batch of photos, then encodes it (no overlap);
- bound: the encoder alone on decoded pictures (img/s on all cores), and the decoding alone
  (read, hash, decode: CPU seconds per photo on one core). Their sum per photo, spread over all
  cores, is the CPU-work bound: no pipeline can index faster;
- rclip-like: rclip's indexing loop, for reference (see child_rclip_like).

Prints img/s and its ratio to the bound, CPU seconds per photo and their ratio to the
bound's (the pipeline's overhead), CPU use (share of all cores), how much of the machine's CPU
sat idle meanwhile (0%: every core busy, with this or with other programs) and peak RSS,
medians over the rounds. With several --trees (source checkouts), each variant runs with
each tree's code.
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
    # Opened apart: the import of torch and open_clip is the same whatever the pipeline does.
    try:
        session.load_encoder(("text", "image"))
    except TypeError:  # a checkout from before the towers were read apart
        session.load_encoder()
    opened = time.perf_counter() - started
    cpu, started = time.process_time(), time.perf_counter()
    outcome = session.index_now(
        [photos], on_progress=lambda p: steady.append((time.perf_counter(), p.done))
    )
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    shutil.rmtree(library, ignore_errors=True)
    shutil.rmtree(WORK / f"cache-{os.getpid()}", ignore_errors=True)
    assert outcome.indexed and not outcome.errors, outcome
    (t0, d0), (t1, d1) = steady[0], steady[-1]
    return {
        "images": outcome.indexed,
        "seconds": seconds,
        "cpu": cpu,
        "steady": (d1 - d0) / (t1 - t0) if t1 > t0 else 0.0,
        "open": opened,
    }


def child_bare(photos: Path, model: Path) -> dict[str, float]:
    from mediafind import media

    encoder = _encoder(model)
    paths = sorted(photos.glob("*.jpg"))
    encoder.encode_images([Image.new("RGB", (224, 224))])  # load what loads lazily
    cpu, started = time.process_time(), time.perf_counter()
    for first in range(0, len(paths), BATCH):
        pictures = [
            media.open_image(p.read_bytes(), encoder.image_size).image
            for p in paths[first : first + BATCH]
        ]
        encoder.encode_images(pictures)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"images": len(paths), "seconds": seconds, "cpu": cpu}


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
    cpu, started = time.process_time(), time.perf_counter()
    for first in range(0, len(pictures), BATCH):
        encoder.encode_images(pictures[first : first + BATCH])
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    rate = len(pictures) / seconds
    cores = len(os.sched_getaffinity(0))
    return {
        "images": len(paths),
        "encode_rate": rate,
        "encode_cpu": cpu / len(paths),
        "decode_cpu": decode,
        "bound": 1 / (1 / rate + decode / cores),
    }


def child_rclip_like(photos: Path, model: Path) -> dict[str, float]:
    """rclip's indexing loop as of its main.py@564a065 (not rclip itself, which is not
    installed here): each photo opened in turn and decoded whole, the whole model loaded by
    open_clip, batches of 8, torch's threads left as they are."""
    import open_clip
    import torch

    net, _, preprocess = open_clip.create_model_and_transforms(f"local-dir:{model}")
    net.eval()
    paths = sorted(photos.glob("*.jpg"))
    cpu, started = time.process_time(), time.perf_counter()
    for first in range(0, len(paths), 8):
        images = [Image.open(p) for p in paths[first : first + 8]]
        with torch.no_grad():
            batch = torch.stack([preprocess(im) for im in images])
            features = net.encode_image(batch)
            features /= features.norm(dim=-1, keepdim=True)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"images": len(paths), "seconds": seconds, "cpu": cpu}


SAME_FOR_ALL_TREES = {"rclip-like"}  # mediafind's code plays no part in it
CHILDREN = {
    "indexer": child_indexer,
    "bare": child_bare,
    "bound": child_bound,
    "rclip-like": child_rclip_like,
}


def _idle_ticks() -> tuple[int, int]:
    """The machine's idle and total CPU time so far, in ticks (Linux), to tell whether any
    core sat idle during a run, whoever else used the machine."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except OSError:
        return 0, 0
    return fields[3] + fields[4], sum(fields)  # idle + iowait


def run_child(tree: Path, variant: str, photos: Path, model: Path) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=f"{tree}{os.pathsep}{Path(__file__).parent}")
    env["HF_HUB_OFFLINE"] = "1"
    command = [sys.executable, __file__, "--child", variant, str(photos), str(model)]
    idle, total = _idle_ticks()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    idle_after, total_after = _idle_ticks()
    if status != 0:
        raise SystemExit(f"{variant} with {tree} failed ({status})")
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    if "cpu" in figures:
        cores = len(os.sched_getaffinity(0))
        figures["cpu_share"] = figures["cpu"] / figures["seconds"] / cores
    figures["idle"] = (idle_after - idle) / max(total_after - total, 1)
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
    from _table import figure

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
        for t, tree in enumerate(x.resolve() for x in args.trees):
            for variant in args.variants:
                if variant in SAME_FOR_ALL_TREES and t:
                    continue
                figures = run_child(tree, variant, photos, model)
                print(f"round {round_} {tree} {variant}: {figures}", file=sys.stderr)
                runs.setdefault((tree, variant), []).append(figures)
    bounds = {t: _median(v, "bound") for (t, n), v in runs.items() if n == "bound"}
    work = {
        t: _median(v, "encode_cpu") + _median(v, "decode_cpu")
        for (t, n), v in runs.items()
        if n == "bound"
    }
    rclip = [r for (_, n), v in runs.items() if n == "rclip-like" for r in v]
    rclip_rate = statistics.median(r["images"] / r["seconds"] for r in rclip) if rclip else 0.0
    for (tree, variant), values in runs.items():
        median = {k: _median(values, k) for k in values[0]}
        line = f"{tree!s:32} {variant:10}"
        if variant == "bound":
            line += f" {median['bound']:6.2f} img/s: encoder alone {median['encode_rate']:.2f}"
            line += f" img/s ({median['encode_cpu'] * 1000:.0f} ms CPU/photo), decoding"
            line += f" {median['decode_cpu'] * 1000:.0f} ms CPU/photo"
        else:
            rate = median["images"] / median["seconds"]
            cpu = median["cpu"] / median["images"]
            line += f" {rate:6.2f} img/s"
            if tree in bounds:
                line += f" {rate / bounds[tree]:4.2f}x bound,"
            if rclip and variant != "rclip-like":
                line += f" {rate / rclip_rate:4.2f}x rclip-like,"
            line += f" {cpu * 1000:4.0f} ms CPU/photo"
            if tree in work:
                line += f" ({cpu / work[tree]:4.2f}x the bound's)"
            line += ","
            line += f" CPU {median['cpu_share'] * 100:3.0f}%"
        line += f", machine idle {median['idle'] * 100:2.0f}%, peak RSS {median['rss_mb']:5.0f} MB"
        if variant == "indexer" and tree in bounds:
            figure("index 12 MP photos ÷ CPU-work bound", f"{rate / bounds[tree]:.2f}x "
                   f"({rate:.2f} img/s, CPU {median['cpu_share'] * 100:.0f}%)", "≥ 0.9x",
                   rate / bounds[tree] >= 0.9)  # fmt: skip
            if rclip:
                figure("index ÷ an rclip-like loop", f"{rate / rclip_rate:.2f}x")
            figure("peak RSS while indexing", f"{median['rss_mb']:.0f} MB", "≤ rclip's 1050 MB",
                   median["rss_mb"] <= 1050)  # fmt: skip
        if "steady" in median:
            line += f"\n{'':42}after the first batch {median['steady']:.2f} img/s; "
            line += f"model opened in {median['open']:.1f} s"
        print(line)


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


if __name__ == "__main__":
    main()
