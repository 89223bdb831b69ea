"""CPU used by `mediafind watch` over a folder of 10,000 files where nothing changes
(target: about 0%). Measures the process's own CPU time from /proc (Linux).

    .venv/bin/python bench/watch_idle.py [--files 10000] [--seconds 30]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _library import make_folder, mark_indexed

from mediafind.embed import OpenClipEncoder, parse_spec
from mediafind.store import ModelInfo

TINY = Path(__file__).resolve().parent.parent / "mediafind" / "assets" / "tiny-clip"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    spec = parse_spec(f"local-dir:{TINY}")
    encoder = OpenClipEncoder(spec, device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        root, library = Path(tmp) / "photos", Path(tmp) / "lib"
        make_folder(root, args.files)
        model = ModelInfo(encoder.spec, encoder.identity, encoder.dimension)
        mark_indexed(library / "library.sqlite3", root, model)
        env = {**os.environ, "MEDIAFIND_LIBRARY": str(library)}
        command = [sys.executable, "-m", "mediafind", "--model", spec.text, "watch"]
        watcher = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        try:
            assert watcher.stdout is not None
            while "up to date" not in watcher.stdout.readline():
                pass
            time.sleep(3)  # let start-up settle
            before, started = cpu_seconds(watcher.pid), time.monotonic()
            time.sleep(args.seconds)
            used, elapsed = cpu_seconds(watcher.pid) - before, time.monotonic() - started
        finally:
            watcher.terminate()
            watcher.wait(10)
    print(
        f"`mediafind watch` over {args.files} unchanged files: {used:.2f} s CPU in "
        f"{elapsed:.0f} s = {100 * used / elapsed:.2f}% of one core"
    )


if __name__ == "__main__":
    main()
