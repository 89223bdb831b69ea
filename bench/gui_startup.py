"""Time from process start to the first painted window (target: 1.5 s on 2 CPU cores), and
whether torch was loaded by then (it must not be).

    .venv/bin/python bench/gui_startup.py [--runs 5] [--library-files 2000]

Each run starts a fresh `python -m mediafind` process (the real entry point, single-instance
check, log file and all) on a library of --library-files indexed files, notes the wall-clock
time of the window's first paint event, and quits. Without a display, Qt draws offscreen.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _library import make_folder, mark_indexed

from mediafind.store import ModelInfo

TINY = Path(__file__).resolve().parent.parent / "mediafind" / "assets" / "tiny-clip"

# Runs in the child: wraps the app's QApplication factory to spot the window's first paint.
CHILD = """
import sys, time
import mediafind.gui.app as app_module
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

made = app_module.make_application

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and type(obj).__name__ == "MainWindow":
            heavy = [m for m in ("torch", "open_clip") if m in sys.modules]
            print(f"PAINTED {time.time():.6f} HEAVY {','.join(heavy) or '-'}", flush=True)
            QApplication.instance().removeEventFilter(self)
            QTimer.singleShot(0, QApplication.quit)
        return False

def make_application(argv=None):
    app = made(argv)
    app._first_paint = FirstPaint()
    app.installEventFilter(app._first_paint)
    return app

app_module.make_application = make_application
sys.argv = ["mediafind"]
raise SystemExit(app_module.run())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--library-files", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        make_folder(base / "notes", args.library_files)
        model = ModelInfo(f"local-dir:{TINY}", "bench", 64)
        mark_indexed(base / "library" / "library.sqlite3", base / "notes", model)
        env = {
            **os.environ,
            "MEDIAFIND_LIBRARY": str(base / "library"),
            "MEDIAFIND_CONFIG_DIR": str(base / "config"),
            "MEDIAFIND_CACHE_DIR": str(base / "cache"),
            "MEDIAFIND_MODEL": f"local-dir:{TINY}",
            "XDG_STATE_HOME": str(base / "state"),
        }
        if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
            env.setdefault("QT_QPA_PLATFORM", "offscreen")
        times = []
        for run in range(args.runs):
            started = time.time()
            out = subprocess.run(
                [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=60
            )
            line = next((x for x in out.stdout.splitlines() if x.startswith("PAINTED")), None)
            if line is None:
                print(out.stdout, out.stderr, file=sys.stderr)
                raise SystemExit("the window never painted")
            _, painted, _, heavy = line.split()
            seconds = float(painted) - started
            times.append(seconds)
            print(f"run {run + 1}: first paint after {seconds:.3f} s; torch loaded: {heavy}")
    print(
        f"process start -> first painted window: median {statistics.median(times):.3f} s, "
        f"best {min(times):.3f} s, worst {max(times):.3f} s ({args.runs} runs, "
        f"platform {env.get('QT_QPA_PLATFORM', 'default')}, {os.cpu_count()} CPUs)"
    )


if __name__ == "__main__":
    main()
