"""Time a rescan of an unchanged folder of many files (target: 100,000 files in under 10 s on
2 cores). The files are made once under the given folder and reused.

    .venv/bin/python bench/rescan.py [--files 100000] [--dir /tmp/mediafind-bench]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _library import make_folder, mark_indexed

from mediafind import scan
from mediafind.indexer import Indexer
from mediafind.keeper import sync
from mediafind.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/mediafind-bench-rescan"))
    args = parser.parse_args()
    root = args.dir / f"{args.files} files"
    library = args.dir / f"library-{args.files}.sqlite3"
    if not library.exists():
        make_folder(root, args.files)
        started = time.perf_counter()
        mark_indexed(library, root)
        print(f"first scan and record: {time.perf_counter() - started:.1f} s")
    with Store.open(library, writer=True) as store:
        (folder,) = store.roots()
        for attempt in (1, 2, 3):
            started = time.perf_counter()
            plan = scan.plan(store, folder)
            elapsed = time.perf_counter() - started
            assert not plan.has_work and plan.unchanged == args.files, plan
            print(f"rescan {attempt}: {args.files} unchanged files in {elapsed:.2f} s")
        started = time.perf_counter()

        def no_model() -> None:
            raise AssertionError("an unchanged rescan must not load the model")

        outcome = sync(Indexer(store, no_model, "unused"))  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
        print(
            f"`index` on it (scan + nothing to do): {elapsed:.2f} s, {outcome.unchanged} unchanged"
        )


if __name__ == "__main__":
    main()
