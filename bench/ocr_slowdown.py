"""Indexing a mixed photo folder with text in pictures read, against the same folder without,
in the same run (A B A B): the slowdown the issue's budget is about (≤ 15 % for a library where
most photos hold no text).

    .venv/bin/python bench/ocr_slowdown.py [--photos 60] [--screens 3] [--rounds 2]

The folder: camera-like photos without text (bench/ocr_cost.py's, at 2016×1512) and a few
screenshots; the model: ViT-B-32 with random weights (bench/_models.random_model, the cost of
the published one). Each run indexes the folder into a fresh library in this process (the
model loaded once for all runs), with OCR on (the shipped RapidOCR engine, its results not kept
between runs) or off.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from _models import random_model
from _table import figure
from ocr_cost import camera_photo, screenshot

from mediafind.embed import OpenClipEncoder, parse_spec
from mediafind.indexer import Indexer
from mediafind.keeper import sync
from mediafind.ocr import OcrEngine
from mediafind.picturetext import Reading
from mediafind.store import Store

GOAL = 0.15


def make_folder(folder: Path, photos: int, screens: int) -> None:
    rng = random.Random(7)
    folder.mkdir(parents=True)
    for i in range(photos):
        camera_photo(rng).save(folder / f"IMG_{i:04}.jpg", quality=88)
    for i in range(screens):
        screenshot(rng).save(folder / f"Screenshot {i}.png")


def index_once(folder: Path, encoder: OpenClipEncoder, reading: Reading | None) -> float:
    with tempfile.TemporaryDirectory(prefix="mediafind-bench-ocr-") as tmp:
        started = time.perf_counter()
        with Store.open(Path(tmp) / "library.sqlite3", writer=True) as store:
            store.add_root(folder)
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
    with tempfile.TemporaryDirectory(prefix="mediafind-bench-ocr-folder-") as tmp:
        folder = Path(tmp) / "Pictures"
        make_folder(folder, args.photos, args.screens)
        index_once(folder, encoder, Reading(lambda: engine))  # warm: both models loaded
        without: list[float] = []
        with_ocr: list[float] = []
        for _ in range(args.rounds):
            without.append(index_once(folder, encoder, None))
            with_ocr.append(index_once(folder, encoder, Reading(lambda: engine)))
    off, on = statistics.median(without), statistics.median(with_ocr)
    slowdown = on / off - 1
    files = args.photos + args.screens
    print(f"{args.photos} photos without text and {args.screens} screenshots, {args.rounds} rounds")
    print(f"without reading text  {off:6.1f} s  ({off / files * 1000:.0f} ms a file)")
    print(f"reading text          {on:6.1f} s  ({on / files * 1000:.0f} ms a file)")
    figure(
        f"indexing {args.photos} photos + {args.screens} screenshots, text in pictures read",
        f"{slowdown:+.0%} against not read",
        f"≤ +{GOAL:.0%}",
        slowdown <= GOAL,
    )


if __name__ == "__main__":
    main()
