"""One query's text encoding, alone and beside a busy program (one process spinning on a core),
with ViT-B-32 (random weights): what threads that wait for each other cost.

    .venv/bin/python bench/query_encode.py [--rounds 3] [--trees . OTHER]

Each measurement is a fresh process (with each tree's code): it opens the model, encodes once
to warm up, then times 5 encodings of one text; medians over rounds, trees alternating.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

from _models import random_model

CHILD = """
import statistics, sys, time
from mediafind.embed import OpenClipEncoder, parse_spec
encoder = OpenClipEncoder(parse_spec("local-dir:" + sys.argv[1]), "cpu")
encoder.encode_texts(["a dog on a beach"])
times = []
for i in range(5):
    started = time.perf_counter()
    encoder.encode_texts([f"a red bicycle {i}"])
    times.append(time.perf_counter() - started)
print(statistics.median(times))
"""


def measure(tree: Path, model: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(model)],
        env=env,
        cwd=model,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--trees", nargs="*", type=Path, default=[Path()])
    args = parser.parse_args()
    model = random_model("ViT-B-32")
    trees = [t.resolve() for t in args.trees]
    figures: dict[tuple[Path, bool], list[float]] = {}
    for _ in range(args.rounds):
        for busy in (False, True):
            spinner = None
            if busy:
                spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            try:
                for tree in trees:
                    figures.setdefault((tree, busy), []).append(measure(tree, model))
            finally:
                if spinner is not None:
                    spinner.kill()
                    spinner.wait()
    for (tree, busy), values in figures.items():
        beside = "beside a busy process" if busy else "alone"
        print(f"{tree!s:32} {beside:22} {statistics.median(values) * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
