"""Every benchmark, then one table of their figures (`make bench`).

    .venv/bin/python bench/all.py [--only NAME ...] [--quick]

Each script runs in a process of its own (so that one's imports and memory do not weigh on
the next) and prints its own lines as it goes; the figures it reports through _table.figure
are gathered into the table at the end. --quick runs smaller sizes (minutes, not an hour).
Speed figures are same-run ratios (A and B timed alternately, medians), since absolute times
on a shared machine vary by a fifth between runs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from _table import MARK

HERE = Path(__file__).resolve().parent

# (script, arguments, quick arguments)
BENCHMARKS: list[tuple[str, list[str], list[str]]] = [
    ("rescan.py", [], ["--files", "20000", "--rounds", "3"]),
    ("save_photo.py", [], ["--big", "20000", "--rounds", "5"]),
    ("window.py", [], ["--rounds", "3"]),
    ("browse_scroll.py", ["--photos", "100000"], ["--rounds", "3"]),
    ("instance_cli.py", [], ["--runs", "7"]),
    ("cold_search.py", [], ["--runs", "3"]),
    ("index_speed.py", [], ["--photos", "60", "--rounds", "2"]),
    ("search_scale.py", ["--photos", "100000", "1000000"], ["--photos", "100000", "--rounds", "7"]),
    ("gui_stall.py", ["--photos", "300", "--model", "balanced"], ["--photos", "60"]),
    ("doctor_speed.py", ["--photos", "20000", "100000"], ["--photos", "20000"]),
    ("hostile_inputs.py", [], []),
    ("ocr_slowdown.py", [], ["--photos", "30", "--screens", "1"]),
    ("ocr_cost.py", [], ["--photos", "12", "--rounds", "2"]),
    ("duplicates.py", [], ["--looks", "6", "--photos", "20000"]),
    ("raw_decode.py", [], ["--side", "3000", "--rounds", "3"]),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", default=None, help="script names, e.g. rescan")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    for script, full, quick in BENCHMARKS:
        name = script.removesuffix(".py")
        if args.only and name not in args.only:
            continue
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, str(HERE / script), *(quick if args.quick else full)],
            cwd=HERE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(MARK):
                rows.append({"bench": name, **json.loads(line[len(MARK) :])})
            else:
                print("   " + line, end="", flush=True)
        if process.wait() != 0:
            rows.append({"bench": name, "measure": "FAILED", "value": f"exit {process.returncode}"})
        print(f"   ({time.perf_counter() - started:.0f} s)", flush=True)
    print_table(rows)


def print_table(rows: list[dict[str, object]]) -> None:
    marks = {True: "yes", False: "NO", None: ""}
    table = [("bench", "measure", "figure", "goal", "met")] + [
        (
            str(r["bench"]),
            str(r["measure"]),
            str(r["value"]),
            str(r.get("goal", "")),
            marks[r.get("met")],  # type: ignore[index]
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(5)]
    print()
    for i, row in enumerate(table):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    main()
