"""The photo grid: thumbnails in uniform cells that fill the width, laid out month by month
under headings (the one at the top stays pinned), so that ten thousand photos scroll smoothly;
and the delegate that paints one photo's cell."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QRegion,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from mediafind.gui.results import HIT_ROLE, HitsModel, IndexLike, ResultsView, selection_background
from mediafind.gui.thumbnails import ThumbnailCache
from mediafind.search import Hit

# Thumbnail side in logical pixels, as the size slider first stands. Bigger shows more of each
# photo, smaller more photos at once; 150 fits five columns in a 900 px wide results area.
THUMB = 150
# The slider's range: below 96 a photo is a coloured stamp; above 320 two columns fill a laptop.
MIN_THUMB = 96
MAX_THUMB = 320
# What one notch of Ctrl+wheel, or Ctrl++ / Ctrl+-, changes the side by.
THUMB_STEP = 16
# Space around a thumbnail inside its cell, for the selection frame.
PAD = 6


@dataclass(frozen=True, slots=True)
class _Section:
    """A month of the grid (or all of it, ungrouped): its heading, its rows and where it
    starts, in content coordinates."""

    first: int  # model row of its first photo
    count: int
    top: int  # y of the heading (of the first photos when there is no heading)
    label: str  # empty: no heading
    heading: int  # the heading's height (0 without one)
    height: int  # heading and photos


class PhotoGrid(ResultsView):
    """Photos as a grid of thumbnails that fills the width; in date order, each month starts a
    row under a heading across the grid, and the heading of the month at the top stays there
    while its photos scroll under it.

    A QListView for what the result views share (dragging out, selection, keys), with its own
    layout: a QListView grid cannot hold full-width headings. The layout is arithmetic over the
    months (columns × rows), so ten thousand photos cost no more to lay out, paint or hit-test
    than a hundred."""

    thumb_size_changed = Signal(int)
    # QListView's constructor calls the overrides below before __init__ has made what they use:
    # until it has, they answer as an empty view would.
    _ready = False

    def __init__(self, thumbnails: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumbnails = thumbnails
        self.setViewMode(QListView.ViewMode.ListMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Fixed)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setAccessibleName("Photos")
        self._delegate = PhotoDelegate(thumbnails, self)
        self.setItemDelegate(self._delegate)
        thumbnails.device_pixel_ratio = self.devicePixelRatioF()
        self._sections: list[_Section] = []
        self._tops: list[int] = []  # each section's top, for bisect
        self._columns = 1
        self._column_width = 1
        self._content_height = 0
        self._laid_out_for = (-1, -1)  # (width, thumb) of the layout
        self._wheel = 0  # Ctrl+wheel eighths of a degree not yet turned into a step
        self._hover = QPersistentModelIndex()
        self._ready = True

    # -- size -----------------------------------------------------------------------------

    @property
    def thumb_size(self) -> int:
        return self._delegate.thumb

    def set_thumb_size(self, size: int) -> None:
        """Thumbnails of this side (logical pixels, kept within MIN_THUMB..MAX_THUMB); the
        photo at the top stays in view."""
        size = max(MIN_THUMB, min(MAX_THUMB, size))
        if size == self._delegate.thumb:
            return
        anchor = self.indexAt(QPoint(self._column_width // 2, self._sticky_height() + 1))
        self._delegate.thumb = size
        self.thumbnails.pixels = thumbnail_pixels(size)
        self._relayout()
        if anchor.isValid():
            self.scrollTo(anchor, QAbstractItemView.ScrollHint.PositionAtTop)
        self.thumb_size_changed.emit(size)

    def zoom(self, steps: int) -> None:
        """Bigger (steps > 0) or smaller thumbnails, THUMB_STEP per step."""
        self.set_thumb_size(self.thumb_size + steps * THUMB_STEP)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if not self._ready or not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(event)
            return
        # One notch is 120 eighths of a degree; touchpads send less, more often.
        self._wheel += event.angleDelta().y()
        steps = int(self._wheel / 120)
        if steps:
            self._wheel -= steps * 120
            self.zoom(steps)
        event.accept()

    # -- layout ---------------------------------------------------------------------------

    def setModel(self, model: QAbstractItemModel | None) -> None:
        old = self.model()
        if old is not None:
            for signal in (old.modelReset, old.rowsInserted, old.rowsRemoved, old.layoutChanged):
                signal.disconnect(self._model_changed)
        super().setModel(model)
        if model is not None and self._ready:
            for signal in (
                model.modelReset,
                model.rowsInserted,
                model.rowsRemoved,
                model.layoutChanged,
            ):
                signal.connect(self._model_changed)
        self._model_changed()

    def _model_changed(self) -> None:
        if not self._ready:
            return
        self._laid_out_for = (-1, -1)
        self._relayout()

    def _relayout(self) -> None:
        self._laid_out_for = (-1, -1)
        self._set_scroll_range()
        self.viewport().update()

    def _ensure_layout(self) -> None:
        width = self.viewport().width()
        if self._laid_out_for == (width, self._delegate.thumb):
            return
        self._laid_out_for = (width, self._delegate.thumb)
        cell = self._delegate.cell_size(self.font())
        usable = max(1, width - 2 * GRID_MARGIN)
        # Whole columns, and the width left over shared among them: no ragged gap on the right.
        self._columns = max(1, usable // cell.width())
        self._column_width = usable // self._columns
        model = self.model()
        rows = model.rowCount() if model is not None else 0
        groups = model.groups() if isinstance(model, HitsModel) else []
        if not groups or groups[0][0] != 0:
            groups = [(0, ""), *groups]
        heading = self._heading_height()
        self._sections = []
        self._tops = []
        y = GRID_MARGIN
        for i, (first, label) in enumerate(groups):
            end = groups[i + 1][0] if i + 1 < len(groups) else rows
            count = max(0, min(end, rows) - first)
            if count == 0 and label:
                continue
            own = heading if label else 0
            lines = -(-count // self._columns)
            height = own + lines * cell.height()
            self._sections.append(_Section(first, count, y, label, own, height))
            self._tops.append(y)
            y += height
        self._content_height = y + GRID_MARGIN

    def _heading_height(self) -> int:
        return QFontMetrics(self._heading_font()).height() + 2 * HEADING_PAD

    def _heading_font(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        return font

    def _sticky_height(self) -> int:
        """Room the pinned heading takes at the top (none when the grid has no headings)."""
        self._ensure_layout()
        return self._heading_height() if any(s.label for s in self._sections) else 0

    def doItemsLayout(self) -> None:
        super().doItemsLayout()  # QListView's own layout is left unused; this one counts
        if self._ready:
            self._laid_out_for = (-1, -1)
            self._ensure_layout()

    def updateGeometries(self) -> None:
        super().updateGeometries()  # QListView's scroll ranges, set right below
        if self._ready:
            self._set_scroll_range()

    def _set_scroll_range(self) -> None:
        """The scroll range of this layout (QListView's own, set by updateGeometries, counts
        rows of one cell each)."""
        self._ensure_layout()
        bar = self.verticalScrollBar()
        page = self.viewport().height()
        bar.setRange(0, max(0, self._content_height - page))
        bar.setPageStep(page)
        bar.setSingleStep(max(16, self._delegate.cell_size(self.font()).height() // 3))
        self.horizontalScrollBar().setRange(0, 0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Reflow: as many columns as fit, sharing the width left over."""
        super().resizeEvent(event)
        if self._ready:
            self._relayout()

    def cell_width(self) -> int:
        """The width of one column (the cells share the view's width)."""
        self._ensure_layout()
        return self._column_width

    def columns(self) -> int:
        self._ensure_layout()
        return self._columns

    # -- where things are -----------------------------------------------------------------

    def _section_of_row(self, row: int) -> _Section | None:
        self._ensure_layout()
        firsts = [s.first for s in self._sections]  # a few hundred months at most
        i = bisect_right(firsts, row) - 1
        if i < 0:
            return None
        section = self._sections[i]
        return section if row < section.first + section.count else None

    def _section_at(self, y: int) -> int:
        """The index of the section that content y falls in (clamped)."""
        self._ensure_layout()
        return max(0, min(len(self._sections) - 1, bisect_right(self._tops, y) - 1))

    def _cell_rect(self, row: int) -> QRect:
        """A photo's slot in content coordinates (empty when the row is not laid out)."""
        section = self._section_of_row(row)
        if section is None:
            return QRect()
        line, column = divmod(row - section.first, self._columns)
        height = self._delegate.cell_size(self.font()).height()
        y = section.top + section.heading + line * height
        return QRect(GRID_MARGIN + column * self._column_width, y, self._column_width, height)

    def visualRect(self, index: IndexLike) -> QRect:
        if not self._ready or not index.isValid() or index.model() is not self.model():
            return QRect()
        return self._cell_rect(index.row()).translated(0, -self.verticalOffset())

    def indexAt(self, point: QPoint) -> QModelIndex:
        model = self.model()
        if not self._ready or model is None:
            return QModelIndex()
        self._ensure_layout()
        if not self._sections:
            return QModelIndex()
        y = point.y() + self.verticalOffset()
        section = self._sections[self._section_at(y)]
        inside = y - section.top - section.heading
        column = (point.x() - GRID_MARGIN) // self._column_width
        if inside < 0 or not 0 <= column < self._columns or point.x() < GRID_MARGIN:
            return QModelIndex()
        line = inside // self._delegate.cell_size(self.font()).height()
        at = line * self._columns + column
        return model.index(section.first + at, 0) if at < section.count else QModelIndex()

    def horizontalOffset(self) -> int:
        return 0

    def verticalOffset(self) -> int:
        return self.verticalScrollBar().value()

    def isIndexHidden(self, index: IndexLike) -> bool:
        return False

    def scrollTo(
        self,
        index: IndexLike,
        hint: QAbstractItemView.ScrollHint = QAbstractItemView.ScrollHint.EnsureVisible,
    ) -> None:
        """Bring a photo into view, below the pinned heading."""
        rect = self._cell_rect(index.row()) if self._ready and index.isValid() else QRect()
        if rect.isEmpty():
            return
        bar = self.verticalScrollBar()
        above = self._sticky_height()
        page = self.viewport().height()
        hints = QAbstractItemView.ScrollHint
        if hint == hints.PositionAtTop:
            bar.setValue(rect.top() - above)
        elif hint == hints.PositionAtBottom:
            bar.setValue(rect.bottom() - page + 1)
        elif hint == hints.PositionAtCenter:
            bar.setValue(rect.center().y() - page // 2)
        elif rect.top() - above < bar.value():
            bar.setValue(rect.top() - above)
        elif rect.bottom() >= bar.value() + page:
            bar.setValue(rect.bottom() - page + 1)

    def moveCursor(
        self, action: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier
    ) -> QModelIndex:
        """Arrows move across and down the grid, from month to month; headings are never
        stepped on."""
        model = self.model()
        rows = model.rowCount() if model is not None else 0
        if not self._ready or model is None or rows == 0:
            return QModelIndex()
        current = self.currentIndex()
        row = current.row() if current.isValid() else -1
        moves = QAbstractItemView.CursorAction
        if row < 0 or action == moves.MoveHome:
            return model.index(0, 0)
        if action == moves.MoveEnd:
            return model.index(rows - 1, 0)
        if action in (moves.MoveRight, moves.MoveNext):
            return model.index(min(rows - 1, row + 1), 0)
        if action in (moves.MoveLeft, moves.MovePrevious):
            return model.index(max(0, row - 1), 0)
        rect = self._cell_rect(row)
        column = (rect.left() - GRID_MARGIN) // self._column_width
        height = rect.height()
        if action == moves.MoveDown:
            target = self._row_near(rect.top() + height, column, below=True)
        elif action == moves.MoveUp:
            target = self._row_near(rect.top() - 1, column, below=False)
        elif action == moves.MovePageDown:
            target = self._row_near(rect.top() + self.viewport().height(), column, below=True)
        else:  # MovePageUp: the others are above
            target = self._row_near(rect.top() - self.viewport().height(), column, below=False)
        return model.index(row if target is None else target, 0)

    def _row_near(self, y: int, column: int, below: bool) -> int | None:
        """The photo in column on the line at content y (a heading there: the line after it,
        or before it), the last of a short line when that line ends sooner."""
        if y < GRID_MARGIN:
            return 0 if self._sections and not below else None
        if y >= self._content_height - GRID_MARGIN:
            last = self._sections[-1] if self._sections else None
            return last.first + last.count - 1 if last and below else None
        i = self._section_at(y)
        section = self._sections[i]
        height = self._delegate.cell_size(self.font()).height()
        inside = y - section.top - section.heading
        if inside < 0:  # on the heading
            if below:
                line = 0
            elif i == 0:
                return None
            else:
                section = self._sections[i - 1]
                line = (section.count - 1) // self._columns
        else:
            line = inside // height
        at = min(section.count - 1, line * self._columns + column)
        return section.first + at

    def setSelection(self, rect: QRect, command: QItemSelectionModel.SelectionFlag) -> None:
        """Select the photos from the first to the last that rect touches, in reading order
        (as shift-click and shift-arrows mean it)."""
        model = self.model()
        if not self._ready:
            return
        area = rect.normalized().translated(0, self.verticalOffset())
        first = self._first_in(area)
        last = self._last_in(area)
        if first is None or last is None or last < first:
            self.selectionModel().select(QItemSelection(), command)
            return
        selection = QItemSelection(model.index(first, 0), model.index(last, 0))
        self.selectionModel().select(selection, command)

    def _first_in(self, area: QRect) -> int | None:
        top = max(area.top(), GRID_MARGIN)
        row = self._row_near(top, max(0, (area.left() - GRID_MARGIN) // self._column_width), True)
        return row if row is not None and self._cell_rect(row).intersects(area) else None

    def _last_in(self, area: QRect) -> int | None:
        column = min(self._columns - 1, (area.right() - GRID_MARGIN) // self._column_width)
        bottom = min(area.bottom(), self._content_height - GRID_MARGIN - 1)
        row = self._row_near(bottom, max(0, column), False)
        return row if row is not None and self._cell_rect(row).intersects(area) else None

    def visualRegionForSelection(self, selection: QItemSelection) -> QRegion:
        # The whole view: selecting ten thousand photos must not measure each.
        return QRegion(self.viewport().rect())

    # -- painting -------------------------------------------------------------------------

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        # Repaint rather than move the pixels: the pinned heading stays where it is.
        self.viewport().update()

    def pinned_heading(self) -> str:
        """The heading pinned at the top: the month of the photos at the top of the view
        (empty when the grid has no headings)."""
        self._ensure_layout()
        if not self._sections:
            return ""
        return self._sections[self._section_at(self.verticalOffset())].label

    def paintEvent(self, event: QPaintEvent) -> None:
        model = self.model()
        if not self._ready or model is None:
            return
        self._ensure_layout()
        if not self._sections:
            return
        painter = QPainter(self.viewport())
        offset = self.verticalOffset()
        page = self.viewport().height()
        width = self.viewport().width()
        height = self._delegate.cell_size(self.font()).height()
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        selection = self.selectionModel()
        current = self.currentIndex()
        focused = self.hasFocus()
        first = self._section_at(offset)
        for section in self._sections[first:]:
            if section.top >= offset + page:
                break
            if section.label:
                self._paint_heading(painter, section.label, section.top - offset, width)
            body = section.top + section.heading
            start = max(0, (offset - body) // height) * self._columns
            stop = min(section.count, -(-(offset + page - body) // height) * self._columns)
            for at in range(start, stop):
                index = model.index(section.first + at, 0)
                option.rect = self._cell_rect(section.first + at).translated(0, -offset)
                state = QStyle.StateFlag.State_Enabled
                if selection.isSelected(index):
                    state |= QStyle.StateFlag.State_Selected
                if index == self._hover:
                    state |= QStyle.StateFlag.State_MouseOver
                if focused and index == current:
                    state |= QStyle.StateFlag.State_HasFocus
                option.state = state
                self._delegate.paint(painter, option, index)
        # The month at the top, pinned; the next month's heading pushes it up as it arrives.
        top = self._sections[first]
        if top.label and offset > top.top:
            y = 0
            if first + 1 < len(self._sections):
                y = min(0, self._sections[first + 1].top - offset - top.heading)
            self._paint_heading(painter, top.label, y, width)

    def _paint_heading(self, painter: QPainter, label: str, y: int, width: int) -> None:
        rect = QRect(0, y, width, self._heading_height())
        painter.fillRect(rect, self.palette().color(QPalette.ColorRole.Base))
        painter.setFont(self._heading_font())
        painter.setPen(self.palette().color(QPalette.ColorRole.Text))
        text = rect.adjusted(GRID_MARGIN + PAD, 0, -GRID_MARGIN, 0)
        painter.drawText(text, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if not self._ready:
            super().mouseMoveEvent(event)
            return
        hovered = QPersistentModelIndex(self.indexAt(event.position().toPoint()))
        if hovered != self._hover:
            self._hover = hovered
            self.viewport().update()
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        if self._ready and self._hover.isValid():
            self._hover = QPersistentModelIndex()
            self.viewport().update()
        super().leaveEvent(event)


def thumbnail_pixels(size: int) -> int:
    """The side thumbnails are made at for cells of size: a few steps, so that a slider drag
    does not decode every photo again at each pixel, and never blurrier than the cell."""
    return next((s for s in THUMBNAIL_STEPS if s >= size), THUMBNAIL_STEPS[-1])


# Sides thumbnails are made at (each kept on disk once made); see thumbnail_pixels.
THUMBNAIL_STEPS = (160, 240, MAX_THUMB)
# Space around the grid, and above and below a month's heading text.
GRID_MARGIN = 4
HEADING_PAD = 8


class PhotoDelegate(QStyledItemDelegate):
    """A thumbnail (or a placeholder while it loads) over the file name."""

    def __init__(self, thumbnails: ThumbnailCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thumbnails = thumbnails
        self.thumb = THUMB  # the thumbnail's side, logical pixels
        # The caption font and its metrics, made once per view font: paint runs per cell.
        self._fonts: tuple[QFont, QFont, QFontMetrics] | None = None

    def _caption(self, option: QStyleOptionViewItem) -> tuple[QFont, QFontMetrics]:
        return self._caption_for(option.font)

    def _caption_for(self, base: QFont) -> tuple[QFont, QFontMetrics]:
        if self._fonts is None or self._fonts[0] != base:
            font = QFont(base)
            font.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
            self._fonts = (QFont(base), font, QFontMetrics(font))
        return self._fonts[1], self._fonts[2]

    def _caption_height(self, option: QStyleOptionViewItem) -> int:
        return self._caption(option)[1].height() + 4

    def cell_size(self, font: QFont) -> QSize:
        """A cell: the thumbnail, the space around it and the name under it."""
        caption = self._caption_for(font)[1].height() + 4
        return QSize(self.thumb + 2 * PAD, self.thumb + 2 * PAD + caption)

    def sizeHint(self, option: QStyleOptionViewItem, index: IndexLike) -> QSize:
        return QSize(self.thumb + 2 * PAD, self.thumb + 2 * PAD + self._caption_height(option))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: IndexLike) -> None:
        hit = index.data(HIT_ROLE)
        if not isinstance(hit, Hit):
            return
        palette: QPalette = option.palette
        # The grid may be wider than a cell: keep the cell in the middle of its slot.
        rect = QRect(QPoint(0, 0), self.sizeHint(option, index))
        rect.moveCenter(option.rect.center())
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        selection_background(painter, option, rect)
        thumb = self.thumb
        box = QRect(rect.x() + PAD, rect.y() + PAD, thumb, thumb)
        pixmap = self.thumbnails.get(hit.path)
        if pixmap is not None:
            ratio = pixmap.devicePixelRatio()
            size = QSize(round(pixmap.width() / ratio), round(pixmap.height() / ratio))
            size = size.scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(box.center())
            # Square corners: a rounded clip path costs more than the picture itself to draw.
            painter.drawPixmap(target, pixmap)
        else:
            placeholder = QColor(palette.color(QPalette.ColorRole.Text))
            placeholder.setAlphaF(0.08)
            path = QPainterPath()
            path.addRoundedRect(QRectF(box).adjusted(8, 8, -8, -8), 6, 6)
            painter.fillPath(path, placeholder)
            if self.thumbnails.broken(hit.path):
                painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
                painter.drawText(box, Qt.AlignmentFlag.AlignCenter, "cannot show\nthis picture")
        font, metrics = self._caption(option)
        painter.setFont(font)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        caption = QRect(rect.x() + PAD, box.bottom() + 3, thumb, metrics.height() + 4)
        name = metrics.elidedText(hit.path.name, Qt.TextElideMode.ElideMiddle, thumb)
        painter.drawText(caption, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, name)
        painter.restore()
