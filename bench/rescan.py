"""Time a rescan and an `index` of an unchanged folder of many files against a bare walk + stat
of the same folder, alternated (target: within 1.5x). The files are made once under the given
folder and reused.

    .venv/bin/python bench/rescan.py [--files 100000] [--dir /tmp/mediafind-bench]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from _library import make_folder, mark_indexed
from _table import figure

from mediafind import roots_rows, scan
from mediafind.indexer import Indexer
from mediafind.keeper import sync
from mediafind.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/mediafind-bench-rescan"))
    args = parser.parse_args()
    root = args.dir / f"{args.files} files"
    library = args.dir / f"library-{args.files}.sqlite3"
    if not library.exists():
        make_folder(root, args.files)
        started = time.perf_counter()
        mark_indexed(library, root)
        print(f"first scan and record: {time.perf_counter() - started:.1f} s")
    bare, rescans, indexes = [], [], []
    with Store.open(library, writer=True) as store:
        (folder,) = roots_rows.roots(store)

        def no_model() -> None:
            raise AssertionError("an unchanged rescan must not load the model")

        for _ in range(args.rounds):  # alternated: the machine's load hits each alike
            started = time.perf_counter()
            seen = bare_walk(root)
            bare.append(time.perf_counter() - started)
            assert seen == args.files, seen
            started = time.perf_counter()
            plan = scan.plan(store, folder)
            rescans.append(time.perf_counter() - started)
            assert not plan.has_work and plan.unchanged == args.files, plan
            started = time.perf_counter()
            outcome = sync(Indexer(store, no_model, "unused"))  # type: ignore[arg-type]
            indexes.append(time.perf_counter() - started)
            assert outcome.unchanged == args.files
    median = statistics.median
    print(f"bare os.walk + stat of {args.files} files: median {median(bare):.2f} s")
    for what, times in (("rescan (scan.plan)", rescans), ("`index` with nothing to do", indexes)):
        ratio = median([t / b for t, b in zip(times, bare, strict=True)])
        print(f"{what}: median {median(times):.2f} s = {ratio:.2f}x the bare walk")
        figure(
            f"{what}, {args.files} files ÷ bare walk+stat",
            f"{ratio:.2f}x ({median(times):.2f} s)",
            "≤ 1.5x",
            ratio <= 1.5,
        )


def bare_walk(root: Path) -> int:
    """What any rescan must do at least: list every folder and stat every file."""
    count = 0
    for folder, _, names in os.walk(root):
        for name in names:
            os.stat(os.path.join(folder, name))  # noqa: PTH116, PTH118
            count += 1
    return count


if __name__ == "__main__":
    main()
