"""The longest the window's GUI thread stalls while 1,000 photos are indexed (target: 50 ms).

    .venv/bin/python bench/gui_stall.py [--photos 1000] [--model tiny|balanced]

A QTimer ticks every 5 ms on the GUI thread; a stall is a gap between ticks beyond that. The
window is the real one, with a query typed in, so that it re-runs the search as batches commit
and loads thumbnails, as it does for a user who watches results arrive. Figures are given for
the model loading (once per session: importing torch holds Python's lock in long C calls) and
for the indexing that follows (from the model's arrival to the end). --model balanced uses
ViT-B-32 with random weights (the cost of the real weights; nothing is downloaded). The model
runs in a process of its own, as in the app.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from _models import random_model
from _table import figure
from PySide6.QtCore import QTimer

from mediafind import shapes
from mediafind.gui.app import make_application
from mediafind.gui.bridge import SessionBridge
from mediafind.gui.window import MainWindow
from mediafind.keeper import IDLE, INDEXING, Status
from mediafind.session import MODEL_LOADING, MODEL_READY, OpenClipSource, Options, Session

TINY = Path(__file__).resolve().parent.parent / "mediafind" / "assets" / "tiny-clip"
TICK_MS = 5


def make_photos(folder: Path, count: int) -> None:
    """count photos of coloured shapes (640 px, JPEG), made once and reused."""
    folder.mkdir(parents=True, exist_ok=True)
    have = len(list(folder.glob("*.jpg")))
    rng = random.Random(1)
    started = time.perf_counter()
    for i in range(have, count):
        colour, shape = rng.choice(list(shapes.COLOURS)), rng.choice(shapes.SHAPES)
        shapes.render(colour, shape, rng, (640, 480)).save(folder / f"{i:05} {colour} {shape}.jpg")
    if count > have:
        print(f"made {count - have} photos in {time.perf_counter() - started:.1f} s")


class Heartbeat:
    """Gaps between GUI-thread ticks, filed under the phase they happened in."""

    def __init__(self) -> None:
        self.phase = "starting"
        self.worst: dict[str, float] = {}
        self.over: dict[str, int] = {}
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)

    def tick(self) -> None:
        now = time.perf_counter()
        stall = (now - self._last) * 1000 - TICK_MS
        self._last = now
        self.worst[self.phase] = max(self.worst.get(self.phase, 0.0), stall)
        if stall > 50:
            self.over[self.phase] = self.over.get(self.phase, 0) + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=1000)
    parser.add_argument("--model", choices=("tiny", "balanced"), default="tiny")
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()) / "mf-bench")
    args = parser.parse_args()
    photos = args.folder / f"photos-{args.photos}"
    make_photos(photos, args.photos)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for name in ("CONFIG", "CACHE", "DATA"):
            os.environ[f"MEDIAFIND_{name}_DIR"] = str(base / name.lower())
        app = make_application(sys.argv[:1])
        folder = TINY if args.model == "tiny" else random_model("ViT-B-32")
        options = Options(library=str(base / "library"), model=f"local-dir:{folder}")
        # As the app does: the model in a process of its own (modelhost.py).
        session = Session(options, OpenClipSource(hosted=True), tolerant=True)
        bridge = SessionBridge(session)
        window = MainWindow(bridge)
        window.resize(1100, 720)
        window.show()
        beat = Heartbeat()
        started = time.perf_counter()
        marks: dict[str, float] = {}

        def on_model() -> None:
            if session.model_state == MODEL_LOADING:
                beat.phase = "loading the model"
            elif session.model_state == MODEL_READY and beat.phase == "loading the model":
                marks["ready"] = time.perf_counter()
                beat.phase = "indexing"

        def on_status(status: Status) -> None:
            if status.state == INDEXING and status.total and "first" not in marks:
                marks["first"] = time.perf_counter()
            elif status.state == IDLE and beat.phase == "indexing" and "first" in marks:
                marks["done"] = time.perf_counter()
                beat.phase = "done"
                QTimer.singleShot(1000, app.quit)

        bridge.model_changed.connect(on_model)
        bridge.status_changed.connect(on_status)
        session.start()
        beat.timer.start()

        def begin() -> None:
            beat.phase = "before the model loads"
            window.search_field.line.setText("a red circle")
            window.search()
            window.add_folder(photos)

        QTimer.singleShot(500, begin)
        QTimer.singleShot(30 * 60 * 1000, app.quit)
        app.exec()
        session.stop()
    embedding = marks.get("done", time.perf_counter()) - marks.get("ready", started)
    print(f"indexed {args.photos} photos with the {args.model} model in {embedding:.1f} s")
    for phase, worst in beat.worst.items():
        over = beat.over.get(phase, 0)
        print(f"  {phase:18} longest GUI stall {worst:6.1f} ms  ({over} stalls over 50 ms)")
        if phase in ("loading the model", "indexing"):
            figure(f"GUI stall, {phase}", f"{worst:.0f} ms", "≤ 50 ms", worst <= 50)


if __name__ == "__main__":
    main()
