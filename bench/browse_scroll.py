"""Scrolling the browsed library: the photo grid with its month headings, against Qt's own icon
view (a QListView in icon mode, uniform cells, the same model and delegate) in the same run.

    .venv/bin/python bench/browse_scroll.py [--photos 20000] [--steps 200] [--rounds 5]

Each round lays out both views over the same photos (dated over two years, so about 24 month
headings), then scrolls each by a third of its height per step and paints it at once (what a
wheel or Page Down costs), A B A B; the figure is the median time per step and its ratio.
Thumbnails are not loaded (the files do not exist): the cost measured is layout and painting,
which is what the headings add.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from _table import figure
from PySide6.QtWidgets import QApplication, QListView

from mediafind.gui.grid import PhotoDelegate, PhotoGrid
from mediafind.gui.results import HitsModel
from mediafind.gui.thumbnails import ThumbnailCache
from mediafind.search import Hit

SIZE = (1000, 700)
# The grid's steps may cost this much more than Qt's headingless icon view.
GOAL_RATIO = 2.0


def dated_hits(count: int) -> list[Hit]:
    """Photos newest first, spread evenly over two years."""
    newest = datetime(2026, 11, 1, tzinfo=UTC).timestamp()
    spread = 2 * 365 * 86400 / count
    return [
        Hit(i, Path(f"/nowhere/IMG_{i:06}.jpg"), "photo", 0.0, 0.0, "", date=newest - i * spread)
        for i in range(count)
    ]


def step_times(view: QListView, steps: int) -> list[float]:
    bar = view.verticalScrollBar()
    bar.setValue(0)
    step = max(1, view.viewport().height() // 3)
    times = []
    for k in range(steps):
        started = time.perf_counter()
        bar.setValue((k * step) % max(1, bar.maximum()))
        view.viewport().repaint()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=20_000)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    thumbnails = ThumbnailCache(None, 160)
    model = HitsModel()
    model.set_hits(dated_hits(args.photos))

    grid = PhotoGrid(thumbnails)
    grid.setModel(model)
    plain = QListView()
    plain.setViewMode(QListView.ViewMode.IconMode)
    plain.setUniformItemSizes(True)
    plain.setResizeMode(QListView.ResizeMode.Adjust)
    plain.setItemDelegate(PhotoDelegate(thumbnails, plain))
    plain.setModel(model)
    for view in (grid, plain):
        view.resize(*SIZE)
        view.show()
    app.processEvents()
    assert len(model.groups()) >= 20, "the photos should span about two years of months"

    grid_steps: list[float] = []
    plain_steps: list[float] = []
    for _ in range(args.rounds):
        grid_steps += step_times(grid, args.steps)
        plain_steps += step_times(plain, args.steps)
    grid_ms = statistics.median(grid_steps) * 1000
    plain_ms = statistics.median(plain_steps) * 1000
    ratio = grid_ms / plain_ms
    print(f"{args.photos:,} photos, {len(model.groups())} months, {args.steps} steps x "
          f"{args.rounds} rounds")  # fmt: skip
    print(f"month grid   {grid_ms:6.2f} ms a step")
    print(f"Qt icon view {plain_ms:6.2f} ms a step")
    figure(
        f"browse scroll step, {args.photos:,} photos with month headings",
        f"{grid_ms:.1f} ms = {ratio:.2f}x Qt's icon view",
        f"≤ {GOAL_RATIO:g}x",
        ratio <= GOAL_RATIO,
    )


if __name__ == "__main__":
    main()
