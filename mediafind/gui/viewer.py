"""The full-size viewer: one photo of the results at a time, over the whole window, with the
previous and next photo a key away."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from mediafind.gui import desktop
from mediafind.gui.jobs import in_background
from mediafind.gui.results import HitsModel, folder_label
from mediafind.gui.thumbnails import ThumbnailCache

# Pictures kept decoded at screen size: the one shown and its neighbours either side, at 4K.
MEMORY_BYTES = 160 * 1024 * 1024
# The side a picture is decoded at when no screen says better (logical pixels).
FALLBACK_PIXELS = 1920
# Each Ctrl+wheel step or +/- zooms by this factor: eight steps double the size twice over.
ZOOM_STEP = 1.25
# No closer than this many screen pixels per picture pixel.
MAX_ZOOM = 16.0
BACKGROUND = QColor(24, 24, 24)
TEXT = QColor(230, 230, 230)


class PhotoCanvas(QWidget):
    """A picture fitted to the area at first; zoomed with the wheel (Ctrl) or keys, dragged
    about when larger than the area. A clear sentence instead when it cannot be shown."""

    # What a double-click or Ctrl+wheel asks: screen pixels per picture pixel (None: fit),
    # around this point (None: the middle). The viewer first reads every pixel if need be.
    zoom_wanted = Signal(object, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Photo")
        self.setMinimumSize(200, 150)
        self._pixmap: QPixmap | None = None  # fitted to the screen
        self._full: QPixmap | None = None  # every pixel, loaded when zoomed past the fitted one
        self._image_size = QSize()  # the picture's own size, in pixels, once known
        self._message = ""
        self._zoom: float | None = None  # screen pixels per picture pixel; None: fit
        self._centre = QPointF(0.5, 0.5)  # the point of the picture in the middle of the area
        self._drag: QPointF | None = None

    @property
    def zoom(self) -> float | None:
        return self._zoom

    @property
    def message(self) -> str:
        """What is said instead of the picture ("" while it shows or loads)."""
        return self._message

    @property
    def showing(self) -> bool:
        return self._pixmap is not None

    def show_picture(self, pixmap: QPixmap | None, message: str = "") -> None:
        """pixmap None and no message: loading."""
        self._pixmap = pixmap
        self._message = message
        self.update()

    def reset(self) -> None:
        """A new photo: fitted, with no full-size picture yet."""
        self._full = None
        self._image_size = QSize()
        self._zoom = None
        self._centre = QPointF(0.5, 0.5)
        self._pixmap = None
        self._message = ""
        self.update()

    def set_full(self, image: QImage) -> None:
        self._full = QPixmap.fromImage(image)
        self._image_size = image.size()
        if self._pixmap is None and not self._message:
            # Every pixel came before the screen-sized copy (a zoom asked while that loaded):
            # it serves as both.
            self._pixmap = self._full
        self.update()

    def has_full(self) -> bool:
        return self._full is not None

    def fit(self) -> None:
        self._zoom = None
        self._centre = QPointF(0.5, 0.5)
        self.update()

    def set_zoom(self, zoom: float, at: QPointF | None = None) -> None:
        """Screen pixels per picture pixel, centred on the picture's point under at."""
        if self._pixmap is None:
            return
        if zoom <= self.fit_zoom():
            self.fit()
            return
        if at is not None:
            target = self._target()
            if target.width() > 0 and target.height() > 0:
                self._centre = QPointF(
                    min(1.0, max(0.0, (at.x() - target.left()) / target.width())),
                    min(1.0, max(0.0, (at.y() - target.top()) / target.height())),
                )
        self._zoom = min(MAX_ZOOM, zoom)
        self.update()

    def zoomed_by(self, factor: float) -> float:
        """The zoom factor times closer than now."""
        return (self._zoom or self.fit_zoom()) * factor

    def _picture_size(self) -> QSize:
        """The picture's own pixels (as far as known: the fitted copy's until the full one)."""
        if self._image_size.isValid():
            return self._image_size
        if self._pixmap is not None:
            return self._pixmap.size()
        return QSize()

    def fit_zoom(self) -> float:
        """Screen pixels per picture pixel when the picture fits the area (never enlarged)."""
        size = self._picture_size()
        if size.isEmpty():
            return 1.0
        ratio = self.devicePixelRatioF()
        across = self.width() * ratio / size.width()
        down = self.height() * ratio / size.height()
        return min(1.0, across, down)

    def _target(self) -> QRectF:
        """Where the picture goes, in logical pixels."""
        size = self._picture_size()
        ratio = self.devicePixelRatioF()
        zoom = self._zoom if self._zoom is not None else self.fit_zoom()
        width, height = size.width() * zoom / ratio, size.height() * zoom / ratio
        area = QRectF(self.rect())
        left = _place(area.width(), width, self._centre.x())
        top = _place(area.height(), height, self._centre.y())
        return QRectF(left, top, width, height)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        pixmap = self._pixmap
        if self._zoom is not None and self._full is not None:
            pixmap = self._full
        if pixmap is None:
            painter.setPen(TEXT)
            font = QFont(self.font())
            font.setPointSizeF(font.pointSizeF() * 1.2)
            painter.setFont(font)
            text = self._message or "Loading…"
            box = self.rect().adjusted(40, 40, -40, -40)
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            painter.drawText(box, flags, text)
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawPixmap(self._target(), pixmap, QRectF(pixmap.rect()))

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.zoom_wanted.emit(1.0 if self._zoom is None else None, event.position())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._zoom is not None:
            self._drag = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is None:
            return
        target = self._target()
        moved = event.position() - self._drag
        self._drag = event.position()
        if target.width() > 0 and target.height() > 0:
            self._centre = QPointF(
                min(1.0, max(0.0, self._centre.x() - moved.x() / target.width())),
                min(1.0, max(0.0, self._centre.y() - moved.y() / target.height())),
            )
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag = None
        self.unsetCursor()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120
            if steps:
                self.zoom_wanted.emit(self.zoomed_by(ZOOM_STEP**steps), event.position())
            event.accept()
        else:
            event.ignore()  # the viewer turns the page


def _place(room: float, length: float, centre: float) -> float:
    """Where a picture length long starts in room so that its point at centre (0..1) is in
    the middle: a picture smaller than the room stays in its middle, a larger one never shows
    past its edges."""
    if length <= room:
        return (room - length) / 2
    return min(0.0, max(room - length, room / 2 - centre * length))


class Viewer(QWidget):
    """Covers its parent with one photo of the photos model at a time. Escape, Space or Back
    close it; closed says which photo was shown last, for the grid to select."""

    closed = Signal(object)  # Path
    open_requested = Signal(object)  # Path: in the system's app (Enter)

    def __init__(self, model: HitsModel, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAccessibleName("Full-size photo")
        self.setAutoFillBackground(True)
        palette = self.palette()
        for role in (QPalette.ColorRole.Window, QPalette.ColorRole.Base):
            palette.setColor(role, BACKGROUND)
        for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text):
            palette.setColor(role, TEXT)
        self.setPalette(palette)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.model = model
        self.pictures = ThumbnailCache(None, FALLBACK_PIXELS, MEMORY_BYTES, parent=self)
        self.pictures.ready.connect(self._arrived)
        self._row = -1
        self._path: Path | None = None
        self._pending_zoom: tuple[float, QPointF | None] | None = None

        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        bar = QWidget(self)
        row = QHBoxLayout(bar)
        row.setContentsMargins(10, 6, 10, 6)
        row.setSpacing(12)
        self.back_button = QPushButton("‹ Back to Results", bar)
        self.back_button.setToolTip("Back to the results (Escape)")
        self.back_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.back_button.clicked.connect(self.close_viewer)
        self.name = QLabel(bar)
        name_font = QFont(self.name.font())
        name_font.setBold(True)
        self.name.setFont(name_font)
        self.folder = QLabel(bar)
        self.folder.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.position = QLabel(bar)
        row.addWidget(self.back_button)
        row.addWidget(self.name)
        row.addWidget(self.folder, 1)
        row.addWidget(self.position)
        self.canvas = PhotoCanvas(self)
        self.canvas.zoom_wanted.connect(self.zoom_to)
        column.addWidget(bar)
        column.addWidget(self.canvas, 1)
        self.hide()

        parent.installEventFilter(self)
        model.modelReset.connect(self._results_changed)
        model.rowsInserted.connect(self._results_changed)

    # -- opening and closing --------------------------------------------------------------

    def open_at(self, row: int) -> None:
        """Cover the parent with the photo at row of the model."""
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        screen = self.screen()
        side = max(screen.size().width(), screen.size().height()) if screen else FALLBACK_PIXELS
        if side != self.pictures.pixels:
            self.pictures.pixels = side
            self.pictures.forget_queue()
        self.pictures.device_pixel_ratio = self.devicePixelRatioF()
        self.raise_()
        self.show()
        self.setFocus(Qt.FocusReason.OtherFocusReason)
        self.show_row(row)

    def close_viewer(self) -> None:
        if not self.isVisible():
            return
        self.hide()
        if self._path is not None:
            self.closed.emit(self._path)

    @property
    def row(self) -> int:
        return self._row

    @property
    def path(self) -> Path | None:
        return self._path

    # -- moving through the results -------------------------------------------------------

    def show_row(self, row: int) -> None:
        count = self.model.rowCount()
        if not 0 <= row < count:
            return
        hit = self.model.hit(row)
        changed = hit.path != self._path
        self._row, self._path = row, hit.path
        self.name.setText(hit.path.name)
        self.folder.setText(folder_label(hit.path.parent))
        self.position.setText(f"{row + 1:,} of {count:,}")
        if changed:
            self.canvas.reset()
            self._pending_zoom = None
        self._show_picture()
        for near in (row + 1, row - 1):  # the next page turn finds its picture ready
            if 0 <= near < count:
                self.pictures.get(self.model.hit(near).path)

    def next(self) -> None:
        self.show_row(min(self._row + 1, self.model.rowCount() - 1))

    def previous(self) -> None:
        self.show_row(max(self._row - 1, 0))

    def _show_picture(self) -> None:
        path = self._path
        if path is None:
            return
        pixmap = self.pictures.get(path)
        if pixmap is not None:
            self.canvas.show_picture(pixmap)
        elif self.pictures.broken(path):
            self.canvas.show_picture(
                None,
                f"{path.name} cannot be shown: the file is damaged, or its format is one "
                "this computer cannot read.",
            )
        else:
            self.canvas.show_picture(None)

    def _arrived(self, paths: frozenset[Path]) -> None:
        if self._path in paths:
            self._show_picture()

    def _results_changed(self) -> None:
        """The results were asked for again (indexing found more, a photo went to the trash):
        stay on the same photo, or on the one that took its place."""
        if not self.isVisible() or self._path is None:
            return
        count = self.model.rowCount()
        if count == 0:
            self.close_viewer()
            return
        row = self.model.row_of(self._path)
        self.show_row(row if row is not None else min(self._row, count - 1))

    def zoom_to(self, zoom: float | None, at: QPointF | None = None) -> None:
        """zoom screen pixels per picture pixel (None: fit). The screen-sized copy has too few
        pixels for that: every pixel is read first, and the zoom follows."""
        path = self._path
        if zoom is None or path is None:
            self.canvas.fit()
            return
        if self.canvas.has_full():
            self.canvas.set_zoom(zoom, at)
            return
        self._pending_zoom = (zoom, at)
        in_background(lambda: (path, desktop.read_image(path)), self._full_arrived)

    def _full_arrived(self, loaded: tuple[Path, QImage]) -> None:
        path, image = loaded
        if path != self._path:
            return
        self.canvas.set_full(image)
        if self._pending_zoom is not None:
            self.canvas.set_zoom(*self._pending_zoom)
            self._pending_zoom = None

    # -- events ---------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        Key = Qt.Key
        if key in (Key.Key_Escape, Key.Key_Space, Key.Key_Backspace):
            self.close_viewer()
        elif key in (Key.Key_Right, Key.Key_PageDown, Key.Key_Down):
            self.next()
        elif key in (Key.Key_Left, Key.Key_PageUp, Key.Key_Up):
            self.previous()
        elif key == Key.Key_Home:
            self.show_row(0)
        elif key == Key.Key_End:
            self.show_row(self.model.rowCount() - 1)
        elif key in (Key.Key_Return, Key.Key_Enter) and self._path is not None:
            self.open_requested.emit(self._path)
        elif key == Key.Key_1:
            self.zoom_to(1.0)
        elif key == Key.Key_0:
            self.zoom_to(None)
        elif key in (Key.Key_Plus, Key.Key_Equal):
            self.zoom_to(self.canvas.zoomed_by(ZOOM_STEP))
        elif key == Key.Key_Minus:
            self.zoom_to(self.canvas.zoomed_by(1 / ZOOM_STEP))
        else:
            super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        """The wheel turns pages (with Ctrl, the canvas zooms and does not pass it on)."""
        steps = event.angleDelta().y()
        if steps < 0:
            self.next()
        elif steps > 0:
            self.previous()
        event.accept()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        parent = self.parentWidget()
        if watched is parent and parent is not None and event.type() == QEvent.Type.Resize:
            self.setGeometry(parent.rect())
        return False
