"""Images and texts per second for the model presets, with random weights (same cost as real
ones; nothing is downloaded).

    .venv/bin/python bench/encoder_speed.py [--models fast balanced] [--images 64]
"""

from __future__ import annotations

import argparse
import random
import time

from _models import random_model

from mediafind import embed, shapes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="*", default=[p.name for p in embed.PRESETS[:3]])
    parser.add_argument("--images", type=int, default=64)
    args = parser.parse_args()
    rng = random.Random(0)
    pictures = [
        shapes.render(rng.choice(list(shapes.COLOURS)), rng.choice(shapes.SHAPES), rng)
        for _ in range(args.images)
    ]
    texts = [shapes.note("red", "circle", rng) for _ in range(args.images)]
    for name in args.models:
        spec = embed.parse_spec(name)
        started = time.perf_counter()
        # The preset's architecture with random weights: the same cost, nothing downloaded.
        folder = random_model(spec.name)
        encoder = embed.OpenClipEncoder(embed.parse_spec(f"local-dir:{folder}"), "cpu")
        encoder.load()
        load = time.perf_counter() - started
        encoder.encode_images(pictures[:4])  # warm-up
        started = time.perf_counter()
        encoder.encode_images(pictures)
        images = args.images / (time.perf_counter() - started)
        started = time.perf_counter()
        encoder.encode_texts(texts)
        text_rate = args.images / (time.perf_counter() - started)
        print(
            f"{name:13} {spec.text:45} build {load:5.1f} s  {images:6.1f} img/s  "
            f"{text_rate:7.1f} texts/s  (dimension {encoder.dimension})"
        )


if __name__ == "__main__":
    main()
