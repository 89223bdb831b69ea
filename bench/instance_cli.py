"""How long a command takes when a running `mediafind watch` answers it, against a bare
`mediafind --help` process (target: `search WORDS` at most 1.5 times as long), and against the
same search done alone (`--alone`: it loads the model itself). The commands run in turn, A, B,
C, … again and again, and the medians are compared. Uses the tiny model on a small generated
library; bytecode is written and used, as in an installed mediafind.

Every word search asks something new (a query asked before is answered from the remembered
query vectors, without the model): `search WORDS` includes the instance's encoding of it;
`search kind:photo` and `status` show what the command line and the socket themselves cost.

    .venv/bin/python bench/instance_cli.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _table import figure

from mediafind import shapes

TINY = Path(__file__).resolve().parent.parent / "mediafind" / "assets" / "tiny-clip"
COMMANDS = {
    "--help": ["--help"],
    "search WORDS": [],  # new_words(): new ones each time
    "search kind:photo": ["search", "kind:photo", "-n", "5"],
    "status": ["status"],
}
_asked = 0


def new_words() -> list[str]:
    """A word search never asked before."""
    global _asked
    _asked += 1
    colour, shape = list(shapes.COLOURS)[_asked % 4], shapes.SHAPES[_asked % 3]
    return ["search", f"a {colour} {shape} number {_asked}", "-n", "5"]


def make_folder(root: Path) -> None:
    rng = random.Random(7)
    for colour in shapes.COLOURS:
        for shape in shapes.SHAPES:
            picture = root / "photos" / f"{colour} {shape}.png"
            picture.parent.mkdir(parents=True, exist_ok=True)
            shapes.render(colour, shape, rng).save(picture)
            note = root / "notes" / f"{colour} {shape}.md"
            note.parent.mkdir(parents=True, exist_ok=True)
            note.write_text(shapes.note(colour, shape, rng), encoding="utf-8")


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--alone-runs", type=int, default=3, help="runs of the search alone")
    parser.add_argument(
        "--instance-threads",
        type=int,
        help="torch's threads in the watch process (OMP_NUM_THREADS); default: torch's choice",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root, library = Path(tmp) / "folder", Path(tmp) / "library"
        make_folder(root)
        env = {
            **os.environ,
            "MEDIAFIND_LIBRARY": str(library),
            "MEDIAFIND_MODEL": f"local-dir:{TINY}",
            "MEDIAFIND_CONFIG_DIR": str(Path(tmp) / "config"),
            "MEDIAFIND_CACHE_DIR": str(Path(tmp) / "cache"),  # remembered query vectors
            "HF_HUB_OFFLINE": "1",
        }
        for unwanted in ("MEDIAFIND_NO_INSTANCE", "PYTHONDONTWRITEBYTECODE"):
            env.pop(unwanted, None)
        mediafind = [sys.executable, "-m", "mediafind"]
        subprocess.run([*mediafind, "index", str(root)], env=env, check=True, capture_output=True)
        threads = {"OMP_NUM_THREADS": str(args.instance_threads)} if args.instance_threads else {}
        watch = subprocess.Popen(
            [*mediafind, "watch"], env={**env, **threads}, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        try:
            assert watch.stdout is not None
            for line in watch.stdout:
                if line.startswith("watching "):
                    break
            # Once each: the instance loads its model, bytecode is written.
            for command in COMMANDS.values():
                timed([*mediafind, *(command or new_words())], env)
            times: dict[str, list[float]] = {name: [] for name in COMMANDS}
            for _ in range(args.runs):
                for name, command in COMMANDS.items():
                    times[name].append(timed([*mediafind, *(command or new_words())], env)[0])
            alone_times = []
            for _ in range(args.alone_runs):
                query = new_words()
                seconds, alone = timed([*mediafind, "--alone", *query], env)
                alone_times.append(seconds)
                answer = timed([*mediafind, *query], env)[1]
                assert answer == alone, "the instance and --alone answer differently"
        finally:
            watch.terminate()
            watch.wait(10)
    bare = statistics.median(times["--help"])
    print(f"medians of {args.runs} runs each, answered by a running `mediafind watch`:")
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(f"  mediafind {name:18} {median * 1000:6.0f} ms  {median / bare:5.2f} x --help")
    alone = statistics.median(alone_times)
    words = statistics.median(times["search WORDS"])
    print(f"  mediafind --alone search WORDS {alone * 1000:6.0f} ms  (loads the model; "
          f"{alone / words:.0f} x the answer of the instance)")  # fmt: skip
    print(f"search WORDS by the instance / --help = {words / bare:.2f} (target <= 1.5)")
    figure("CLI search answered by a running watch ÷ `--help`", f"{words / bare:.2f}x "
           f"({words * 1000:.0f} ms)", "≤ 1.5x", words / bare <= 1.5)  # fmt: skip


if __name__ == "__main__":
    main()
