"""Indexing photo folders with text in pictures read, against the same folders without, in
the same run (A B A B): the slowdown on photos without text, which the budget is about (≤ 15 %:
most of a library's photos hold no text), and what each screenshot adds when it is read (the
cost of recognition, which screens and scans pay whole).

    .venv/bin/python bench/ocr_slowdown.py [--photos 60] [--screens 3] [--rounds 2]

The folders: camera-like photos without text (bench/ocr_cost.py's, at 2016×1512), and the same
photos with a few screenshots; the model: ViT-B-32 with random weights (bench/_models.
random_model, the cost of the published one). Each run indexes a folder into a fresh library in
this process (the model loaded once for all runs), with OCR on (the shipped RapidOCR engine,
its results not kept between runs) or off.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from _models import random_model
from _table import figure
from ocr_cost import camera_photo, screenshot

from mediafind import roots_rows
from mediafind.embed import OpenClipEncoder, parse_spec
from mediafind.indexer import Indexer
from mediafind.keeper import sync
from mediafind.ocr import OcrEngine
from mediafind.picturetext import Reading
from mediafind.store import Store

GOAL = 0.15


def make_folders(photos_only: Path, mixed: Path, photos: int, screens: int) -> None:
    rng = random.Random(7)
    photos_only.mkdir(parents=True)
    for i in range(photos):
        camera_photo(rng).save(photos_only / f"IMG_{i:04}.jpg", quality=88)
    shutil.copytree(photos_only, mixed)
    for i in range(screens):
        screenshot(rng).save(mixed / f"Screenshot {i}.png")


def index_once(folder: Path, encoder: OpenClipEncoder, reading: Reading | None) -> float:
    with tempfile.TemporaryDirectory(prefix="mediafind-bench-ocr-") as tmp:
        started = time.perf_counter()
        with Store.open(Path(tmp) / "library.sqlite3", writer=True) as store:
            roots_rows.add_root(store, folder)
            outcome = sync(Indexer(store, lambda: encoder, encoder.identity, reading=reading))
        assert not outcome.errors and not outcome.cancelled, outcome.errors
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=60)
    parser.add_argument("--screens", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    encoder = OpenClipEncoder(parse_spec(f"local-dir:{random_model('ViT-B-32')}"), "cpu")
    engine = OcrEngine()
    times: dict[tuple[str, bool], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="mediafind-bench-ocr-folder-") as tmp:
        photos, mixed = Path(tmp) / "Pictures", Path(tmp) / "Mixed"
        make_folders(photos, mixed, args.photos, args.screens)
        index_once(mixed, encoder, Reading(lambda: engine))  # warm: both models loaded
        for _ in range(args.rounds):
            for name, folder in (("photos", photos), ("mixed", mixed)):
                for reads in (False, True):
                    reading = Reading(lambda: engine) if reads else None
                    times.setdefault((name, reads), []).append(index_once(folder, encoder, reading))
    median = {key: statistics.median(values) for key, values in times.items()}
    off, on = median["photos", False], median["photos", True]
    slowdown = on / off - 1
    per_screen = ((median["mixed", True] - median["mixed", False]) - (on - off)) / max(
        args.screens, 1
    )
    print(f"{args.photos} photos without text, then with {args.screens} screenshots, medians of")
    print(f"{args.rounds} rounds:")
    for name in ("photos", "mixed"):
        for reads in (False, True):
            label = f"{name}, {'reading text' if reads else 'without reading text'}"
            print(f"{label:32} {median[name, reads]:6.1f} s")
    figure(
        f"indexing {args.photos} photos without text, text in pictures read",
        f"{slowdown:+.0%} against not read",
        f"≤ +{GOAL:.0%}",
        slowdown <= GOAL,
    )
    if args.screens:
        figure("reading the text of a 1920×1080 screenshot while indexing", f"{per_screen:.1f} s")


if __name__ == "__main__":
    main()
