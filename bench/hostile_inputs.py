"""Indexing time of hostile notes against a normal note of the same size, in one run.

    .venv/bin/python bench/hostile_inputs.py

Each note is indexed alone, in a fresh library, by `mediafind index` in a child process with
the tiny model (local-dir; its tokenizer is the one real models use, whose cost grew with the
square of a word's length): a 150,000-letter word, and 1 MB of base64 on one line, each against
a note of ordinary words of the same size. Prints seconds and the ratio hostile / normal.
"""

from __future__ import annotations

import base64
import os
import random
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _table import figure

ROOT = Path(__file__).resolve().parent.parent
TINY = f"local-dir:{ROOT / 'mediafind' / 'assets' / 'tiny-clip'}"
WORDS = [
    "the",
    "red",
    "circle",
    "on",
    "the",
    "kitchen",
    "table",
    "was",
    "bright",
    "in",
    "the",
    "morning",
    "sun",
]


def normal(size: int, rng: random.Random) -> str:
    out: list[str] = []
    length = 0
    while length < size:
        out.append(rng.choice(WORDS))
        length += len(out[-1]) + 1
    return " ".join(out)[:size]


def index_seconds(text: str) -> float:
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "notes"
        folder.mkdir()
        (folder / "note.txt").write_text(text)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "MEDIAFIND_CONFIG_DIR": f"{work}/c",
               "MEDIAFIND_DATA_DIR": f"{work}/d", "MEDIAFIND_CACHE_DIR": f"{work}/k"}  # fmt: skip
        command = [sys.executable, "-m", "mediafind", "--library", f"{work}/lib", "--model",
                   TINY, "--alone", "index", str(folder)]  # fmt: skip
        subprocess.run([*command[:-2], "status"], env=env, capture_output=True)  # warm caches
        started = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        return time.perf_counter() - started


def main() -> None:
    rng = random.Random(7)
    word = "".join(rng.choice(string.ascii_lowercase) for _ in range(150_000))
    blob = base64.b64encode(rng.randbytes(750_000)).decode()
    for name, hostile in (("a 150,000-letter word", word), ("1 MB of base64 on one line", blob)):
        bad, good = index_seconds(hostile), index_seconds(normal(len(hostile), rng))
        figure(
            f"index a note of {name}, against ordinary words of its size",
            f"{bad:.1f} s vs {good:.1f} s ({bad / good:.2f}x)",
            "≤ 2x",
            bad <= 2 * good,
        )


if __name__ == "__main__":
    main()
