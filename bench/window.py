"""The window's start, quit and idle memory, against a bare PySide6 window in the same run.

    .venv/bin/python bench/window.py [--rounds 5] [--library-files 2000] [--model DIR]

Rounds alternate a bare window (QApplication + QMainWindow, shown) and mediafind's window (the
real entry point on a library of --library-files indexed files), each a fresh process, and time
process start -> first paint. mediafind's window is then closed, and the time from the close to
the end of the process is its quit time: once right after the first paint, and once with the
model loaded (--model, a ViT-B-32 with random weights by default). The idle memory is the
window's resident set size after the model was let go (model_idle_seconds = 2).
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
from _models import random_model
from _table import figure

from mediafind.embed import parse_spec, spec_identity
from mediafind.store import ModelInfo

BARE = """
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and obj is window:
            print(f"PAINTED {time.time():.6f}", flush=True)
            QTimer.singleShot(0, app.quit)
        return False

app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(1100, 700)
first_paint = FirstPaint()
app.installEventFilter(first_paint)
window.show()
app.exec()
"""

# Runs in the child: wraps the app's QApplication factory to spot the window's first paint,
# then closes the window after WAIT seconds (printing when), reporting memory on the way.
APP = """
import sys, time
import mediafind.gui.app as app_module
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

WAIT = float(sys.argv[1])
made = app_module.make_application

def rss():
    fields = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines())
    return int(fields["VmRSS"].split()[0]) * 1024

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and type(obj).__name__ == "MainWindow":
            heavy = [m for m in ("torch", "open_clip") if m in sys.modules]
            print(f"PAINTED {time.time():.6f} HEAVY {','.join(heavy) or '-'}", flush=True)
            QApplication.instance().removeEventFilter(self)
            QTimer.singleShot(round(WAIT * 1000), lambda: close(obj))
        return False

def close(window):
    loaded = "torch" in sys.modules
    print(f"RSS {rss()} TORCH {int(loaded)}", flush=True)
    print(f"CLOSING {time.time():.6f}", flush=True)
    window.close()

def make_application(argv=None):
    app = made(argv)
    app._first_paint = FirstPaint()
    app.installEventFilter(app._first_paint)
    return app

app_module.make_application = make_application
sys.argv = ["mediafind"]
raise SystemExit(app_module.run())
"""


def child(code: str, env: dict[str, str], *args: str) -> tuple[float, dict[str, str]]:
    """Run a child; its start time and the values it printed (PAINTED, CLOSING, RSS, ...)."""
    started = time.time()
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=90
    )
    ended = time.time()
    values: dict[str, str] = {"ENDED": f"{ended:.6f}"}
    for line in out.stdout.splitlines():
        parts = line.split()
        values.update(zip(parts[::2], parts[1::2], strict=False))
    if "PAINTED" not in values:
        print(out.stdout, out.stderr, file=sys.stderr)
        raise SystemExit("the window never painted")
    return started, values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--library-files", type=int, default=2000)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--loaded-wait", type=float, default=12.0, help="s until the model is in")
    args = parser.parse_args()
    model_dir = args.model or random_model("ViT-B-32")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        make_folder(base / "notes", args.library_files)
        spec = f"local-dir:{model_dir}"
        # The model's real identity: nothing is re-embedded, the model is loaded by the
        # window's warm-up only, and let go after model_idle_seconds.
        model = ModelInfo(spec, spec_identity(parse_spec(spec)), 512)
        mark_indexed(base / "library" / "library.sqlite3", base / "notes", model)
        (base / "config").mkdir()
        (base / "config" / "settings.toml").write_text("model_idle_seconds = 2\n")
        env = {
            **os.environ,
            "MEDIAFIND_LIBRARY": str(base / "library"),
            "MEDIAFIND_CONFIG_DIR": str(base / "config"),
            "MEDIAFIND_CACHE_DIR": str(base / "cache"),
            "MEDIAFIND_MODEL": spec,
            "XDG_STATE_HOME": str(base / "state"),
        }
        if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
            env.setdefault("QT_QPA_PLATFORM", "offscreen")
        bare, start, quit_now = [], [], []
        for _ in range(args.rounds):
            began, got = child(BARE, env)
            bare.append(float(got["PAINTED"]) - began)
            began, got = child(APP, env, "0")
            start.append(float(got["PAINTED"]) - began)
            quit_now.append(float(got["ENDED"]) - float(got["CLOSING"]))
            if got["HEAVY"] != "-":
                print(f"torch was loaded before the first paint: {got['HEAVY']}")
        # With the model in (warm-up starts 2 s after the start), then let go again.
        _, loaded = child(APP, env, str(args.loaded_wait))
        _, idle = child(APP, env, str(args.loaded_wait + 8))
    ratios = [a / b for a, b in zip(start, bare, strict=True)]
    quit_loaded = float(loaded["ENDED"]) - float(loaded["CLOSING"])
    idle_rss = int(idle["RSS"]) / 1e6
    figure(
        "window start (first paint)",
        f"{statistics.median(start):.2f} s = {statistics.median(ratios):.1f}x a bare window",
        "≤ 1.0 s",
        statistics.median(start) <= 1.0,
    )
    figure("window quit, model not loaded", f"{statistics.median(quit_now):.2f} s", "≤ 0.5 s",
           statistics.median(quit_now) <= 0.5)  # fmt: skip
    figure("window quit, model loaded", f"{quit_loaded:.2f} s", "≤ 0.5 s", quit_loaded <= 0.5)
    figure("window RSS, model let go", f"{idle_rss:.0f} MB", "≤ 300 MB", idle_rss <= 300)
    print(f"{'window':34} {'median':>8} {'ratio':>7}")
    print(f"{'bare PySide6 window, first paint':34} {statistics.median(bare):7.3f}s")
    print(
        f"{'mediafind window, first paint':34} {statistics.median(start):7.3f}s "
        f"{statistics.median(ratios):6.2f}x"
    )
    print(f"{'quit, model not loaded':34} {statistics.median(quit_now):7.3f}s")
    print(
        f"{'quit, model loaded':34} {float(loaded['ENDED']) - float(loaded['CLOSING']):7.3f}s"
        f"  (torch in: {loaded['TORCH'] == '1'}, RSS {int(loaded['RSS']) / 1e6:.0f} MB)"
    )
    print(
        f"{'RSS after the model was let go':34} {int(idle['RSS']) / 1e6:6.0f}MB "
        f"(torch imported: {idle['TORCH'] == '1'})"
    )


if __name__ == "__main__":
    main()
