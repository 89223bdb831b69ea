"""Time `mediafind doctor`'s checks on a big library: the quick check (SQLite's quick_check, the
keyword indexes' own checks, the counts, the model, the vector copy), the cheap part that `index`
runs before it writes (doctor.preflight), and the full check (every page, every vector).

    .venv/bin/python bench/doctor_speed.py [--photos 20000 100000] [--rounds 3]
        [--dir /tmp/mediafind-bench-doctor]

Libraries are made first when missing (bench/_library.make_library: photos with vectors shaped
like CLIP ViT-B-32's and 1,000 notes of 1-7 passages). Medians of the rounds.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from _library import make_library
from _table import figure

from mediafind import doctor
from mediafind.store import Store

# What `index` may spend on its check before it writes, on a big library.
PREFLIGHT_GOAL_S = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, nargs="+", default=[20_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/mediafind-bench-doctor"))
    args = parser.parse_args()
    for photos in args.photos:
        library = args.dir / f"{photos}" / "library.sqlite3"
        if not library.exists():
            made = make_library(library, photos)
            print(f"made a library of {photos:,} photos in {made.seconds:.0f} s")
        quick, full, pre = [], [], []
        for _ in range(args.rounds):
            started = time.perf_counter()
            report = doctor.check(library)
            quick.append(time.perf_counter() - started)
            assert report.healthy, report
            with Store.open(library) as store:
                started = time.perf_counter()
                doctor.preflight(store)
                pre.append(time.perf_counter() - started)
            started = time.perf_counter()
            report = doctor.check(library, full=True)
            full.append(time.perf_counter() - started)
            assert report.healthy, report
        median = statistics.median
        print(f"{photos:,} photos: quick {median(quick):.2f} s, index's preflight "
              f"{median(pre):.3f} s, full {median(full):.2f} s")  # fmt: skip
        figure(f"doctor quick check, {photos:,} photos", f"{median(quick):.2f} s")
        figure(
            f"index's check before writing, {photos:,} photos",
            f"{median(pre):.3f} s",
            f"< {PREFLIGHT_GOAL_S} s",
            median(pre) < PREFLIGHT_GOAL_S,
        )
        figure(f"doctor --full, {photos:,} photos", f"{median(full):.2f} s")


if __name__ == "__main__":
    main()
