"""Renders resources/mediafind.svg to PNGs at the freedesktop hicolor sizes, with QtSvg.

    .venv/bin/python packaging/render_icons.py

The PNGs are committed; run this again after changing the SVG.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
# The sizes of the hicolor icon theme that desktops look up.
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def main() -> int:
    app = QGuiApplication(sys.argv)  # QtSvg needs a GUI application for fonts and images
    renderer = QSvgRenderer(str(RESOURCES / "mediafind.svg"))
    if not renderer.isValid():
        print("resources/mediafind.svg is not a valid SVG", file=sys.stderr)
        return 1
    out = RESOURCES / "icons"
    out.mkdir(exist_ok=True)
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        path = out / f"mediafind-{size}.png"
        image.save(str(path))
        print(f"wrote {path.relative_to(RESOURCES.parent)}")
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
