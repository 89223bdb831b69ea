"""The app icon (from resources/), and the few small glyphs the window draws itself in the
theme's text colour, so that they match light and dark themes and any icon theme (or none)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

# resources/ beside the package in a source checkout or an editable install.
RESOURCES = Path(__file__).resolve().parent.parent.parent / "resources"
APP_ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


@cache
def app_icon() -> QIcon:
    """mediafind's icon at every size we ship; the icon theme's 'mediafind' (installed by the
    packages) when the resources are not beside the code; a drawn lens as the last resort."""
    icon = QIcon()
    for size in APP_ICON_SIZES:
        png = RESOURCES / "icons" / f"mediafind-{size}.png"
        if png.is_file():
            icon.addFile(str(png))
    if icon.isNull():
        icon = QIcon.fromTheme("mediafind")
    if icon.isNull():
        icon = QIcon(glyph("search", QColor("#1e40af"), 64))
    return icon


def glyph(name: str, colour: QColor, size: int = 16, ratio: float = 1.0) -> QPixmap:
    """A simple line drawing: search, close, pause, play, warning, info, folder, note, photo."""
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = float(size)
    pen = QPen(colour, max(1.5, s / 10))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    if name == "search":
        p.drawEllipse(QRectF(s * 0.15, s * 0.15, s * 0.5, s * 0.5))
        p.drawLine(QPointF(s * 0.58, s * 0.58), QPointF(s * 0.85, s * 0.85))
    elif name == "close":
        p.drawLine(QPointF(s * 0.3, s * 0.3), QPointF(s * 0.7, s * 0.7))
        p.drawLine(QPointF(s * 0.7, s * 0.3), QPointF(s * 0.3, s * 0.7))
    elif name == "pause":
        p.drawLine(QPointF(s * 0.38, s * 0.25), QPointF(s * 0.38, s * 0.75))
        p.drawLine(QPointF(s * 0.62, s * 0.25), QPointF(s * 0.62, s * 0.75))
    elif name == "play":
        path = QPainterPath(QPointF(s * 0.32, s * 0.22))
        path.lineTo(s * 0.78, s * 0.5)
        path.lineTo(s * 0.32, s * 0.78)
        path.closeSubpath()
        p.fillPath(path, colour)
    elif name == "warning":
        path = QPainterPath(QPointF(s * 0.5, s * 0.1))
        path.lineTo(s * 0.92, s * 0.86)
        path.lineTo(s * 0.08, s * 0.86)
        path.closeSubpath()
        p.drawPath(path)
        p.drawLine(QPointF(s * 0.5, s * 0.38), QPointF(s * 0.5, s * 0.6))
        p.drawPoint(QPointF(s * 0.5, s * 0.73))
    elif name == "info":
        p.drawEllipse(QRectF(s * 0.12, s * 0.12, s * 0.76, s * 0.76))
        p.drawLine(QPointF(s * 0.5, s * 0.45), QPointF(s * 0.5, s * 0.68))
        p.drawPoint(QPointF(s * 0.5, s * 0.32))
    elif name == "folder":
        path = QPainterPath(QPointF(s * 0.1, s * 0.25))
        for x, y in ((0.4, 0.25), (0.5, 0.35), (0.9, 0.35), (0.9, 0.8), (0.1, 0.8)):
            path.lineTo(s * x, s * y)
        path.closeSubpath()
        p.drawPath(path)
    elif name == "note":
        p.drawRoundedRect(QRectF(s * 0.2, s * 0.1, s * 0.6, s * 0.8), s * 0.06, s * 0.06)
        for k in range(3):
            y = s * (0.32 + 0.16 * k)
            p.drawLine(QPointF(s * 0.32, y), QPointF(s * 0.68, y))
    elif name == "photo":
        p.drawRoundedRect(QRectF(s * 0.1, s * 0.2, s * 0.8, s * 0.6), s * 0.08, s * 0.08)
        path = QPainterPath(QPointF(s * 0.18, s * 0.72))
        path.lineTo(s * 0.4, s * 0.45)
        path.lineTo(s * 0.56, s * 0.62)
        path.lineTo(s * 0.66, s * 0.52)
        path.lineTo(s * 0.82, s * 0.72)
        p.drawPath(path)
        p.drawEllipse(QPointF(s * 0.68, s * 0.36), s * 0.05, s * 0.05)
    elif name == "spinner":
        # A three-quarter arc: shown still, it reads as "working".
        p.drawArc(QRectF(s * 0.2, s * 0.2, s * 0.6, s * 0.6), 90 * 16, -270 * 16)
    else:
        raise ValueError(f"no glyph named {name!r}")
    p.end()
    return pixmap


def glyph_icon(name: str, colour: QColor, size: int = 16, ratio: float = 2.0) -> QIcon:
    """A glyph as an icon, drawn at twice the size so that it stays sharp on high-DPI screens."""
    return QIcon(glyph(name, colour, size, ratio))
