"""Results: the photo grid (an icon view over a list model, thumbnails loaded lazily, uniform
cells so that ten thousand results scroll smoothly) and the notes list (title, folder, and the
passage that matched)."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractListModel,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QLocale,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QRectF,
    QSize,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QRegion,
    QResizeEvent,
    QTextCharFormat,
    QTextLayout,
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

from mediafind import units
from mediafind.gui.thumbnails import ThumbnailCache
from mediafind.search import Hit

HIT_ROLE = Qt.ItemDataRole.UserRole + 1

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
# Lines of a note's passage shown in the list.
SNIPPET_LINES = 2
# Room above and below a note's type tag, inside its frame.
TAG_PAD = 2

IndexLike = QModelIndex | QPersistentModelIndex


# What each piece of evidence is called in the window (search.py names them).
WHY_LABELS = {"picture": "picture", "caption": "caption", "passage": "meaning",
              "words": "words", "name": "name",
              "text in picture": "text in picture"}  # fmt: skip


def why_label(hit: Hit) -> str:
    """Why a result matched, as a small tag: "words · meaning"."""
    return " · ".join(WHY_LABELS.get(w, w) for w in hit.why)


def folder_label(folder: Path) -> str:
    """A folder as people read it: the home folder as ~."""
    home = Path.home()
    try:
        return str(Path("~") / folder.relative_to(home))
    except ValueError:
        return str(folder)


def month_label(year: int, month: int) -> str:
    """A month as a heading: "November 2026", in the user's language."""
    name = QLocale().standaloneMonthName(month, QLocale.FormatType.LongFormat)
    return f"{name} {year}"


class HitsModel(QAbstractListModel):
    """Search hits of one kind, best first; hits in date order (they carry their dates) are
    grouped by month."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._hits: list[Hit] = []
        self._rows: dict[Path, int] = {}
        self._groups: list[tuple[int, str]] = []

    def set_hits(self, hits: Sequence[Hit]) -> None:
        """Show hits. More of the same (the next page) is appended, so that the scroll
        position and selection stay; anything else replaces the list."""
        new = list(hits)
        if new == self._hits:
            return
        old = self._hits
        if len(new) > len(old) and new[: len(old)] == old:
            self.beginInsertRows(QModelIndex(), len(old), len(new) - 1)
            self._hits = new
            self._index()
            self.endInsertRows()
            return
        self.beginResetModel()
        self._hits = new
        self._index()
        self.endResetModel()

    def _index(self) -> None:
        self._rows = {}
        self._groups = []
        last: tuple[int, int] | None = None
        for row, hit in enumerate(self._hits):
            self._rows.setdefault(hit.path, row)
            if hit.date is not None:
                # Local time: the month the photo was taken where the user is.
                when = datetime.fromtimestamp(hit.date)
                month = (when.year, when.month)
                if month != last:
                    self._groups.append((row, month_label(*month)))
                    last = month

    def groups(self) -> list[tuple[int, str]]:
        """Where each month starts (row) and its heading; empty when the hits are not in date
        order."""
        return self._groups

    def hit(self, row: int) -> Hit:
        return self._hits[row]

    def row_of(self, path: Path) -> int | None:
        return self._rows.get(path)

    def rowCount(self, parent: IndexLike = QModelIndex()) -> int:  # noqa: B008 (Qt's API)
        return 0 if parent.isValid() else len(self._hits)

    def data(self, index: IndexLike, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._hits):
            return None
        hit = self._hits[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return hit.path.name
        if role == Qt.ItemDataRole.ToolTipRole:
            found = f"\nFound by: {why_label(hit)}" if hit.why else ""
            return f"{hit.path}{found}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{hit.path.name}, in {folder_label(hit.path.parent)}"
        if role == HIT_ROLE:
            return hit
        return None

    def flags(self, index: IndexLike) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsDragEnabled
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list", "text/plain"]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        """Dragged out, results are the files themselves: any app that takes files takes them."""
        paths = [self._hits[i.row()].path for i in indexes if i.isValid()]
        data = QMimeData()
        data.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
        data.setText("\n".join(str(p) for p in paths))
        return data

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction | Qt.DropAction.LinkAction


class ResultsView(QListView):
    """What the two result views share: dragging out, context menus, keyboard hand-off."""

    leave_top = Signal()  # Up on the first row: back to the search field

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setUniformItemSizes(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setMouseTracking(True)  # hover highlight

    def keyPressEvent(self, event: QKeyEvent) -> None:
        current = self.currentIndex()
        if event.key() == Qt.Key.Key_Up and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            first = self.model().index(0, 0) if self.model() is not None else QModelIndex()
            if not current.isValid() or (
                first.isValid() and self.visualRect(current).top() <= self.visualRect(first).top()
            ):
                self.leave_top.emit()
                return
        super().keyPressEvent(event)

    def enter_from_above(self) -> None:
        """Take the focus from the search field: select the first result if none is."""
        model = self.model()
        if model is None or model.rowCount() == 0:
            return
        if not self.currentIndex().isValid():
            self.setCurrentIndex(model.index(0, 0))
        self.setFocus(Qt.FocusReason.TabFocusReason)

    def selected_hits(self) -> list[Hit]:
        rows = sorted(i.row() for i in self.selectionModel().selectedIndexes())
        model = self.model()
        assert isinstance(model, HitsModel)
        return [model.hit(r) for r in rows]


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


def _selection_background(painter: QPainter, option: QStyleOptionViewItem, rect: QRect) -> None:
    """A rounded highlight for selected and hovered cells, in the theme's colours."""
    palette = option.palette
    state = option.state
    selected = bool(state & QStyle.StateFlag.State_Selected)
    hovered = bool(state & QStyle.StateFlag.State_MouseOver)
    focused = bool(state & QStyle.StateFlag.State_HasFocus)  # the keyboard's place
    if not (selected or hovered or focused):
        return
    path = QPainterPath()
    path.addRoundedRect(QRectF(rect).adjusted(1.5, 1.5, -1.5, -1.5), 8, 8)
    if selected or hovered:
        colour = QColor(palette.color(QPalette.ColorRole.Highlight))
        colour.setAlphaF(0.30 if selected else 0.12)
        painter.fillPath(path, colour)
    if focused:
        # A ring a keyboard user can find, chosen or not (tabbing into the grid lands here).
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 2))
        painter.drawPath(path)
        painter.restore()


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
        _selection_background(painter, option, rect)
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


# What each kind of document is called in the notes list and the preview, by its extension
# (the extensions of media.NOTE_EXTENSIONS: a test holds them equal).
DOCUMENT_TYPES = {".pdf": "PDF", ".md": "Markdown", ".markdown": "Markdown", ".txt": "Text",
                  ".docx": "Word", ".odt": "OpenDocument", ".rtf": "RTF", ".html": "Web page",
                  ".htm": "Web page"}  # fmt: skip


def type_label(path: Path) -> str:
    """What kind of document a file is, as a short tag: "PDF", "Markdown", "Word"."""
    suffix = path.suffix.lower()
    return DOCUMENT_TYPES.get(suffix) or suffix.removeprefix(".").upper() or "File"


def page_of(hit: Hit) -> int | None:
    """The page (1-based) of the passage that matched, for documents that have pages."""
    page = hit.location.get("page")
    return page if isinstance(page, int) and page > 0 else None


def heading_of(hit: Hit) -> str | None:
    """The heading the passage that matched stands under (None when that is only the
    document's title: its file's name)."""
    heading = hit.location.get("heading")
    if not isinstance(heading, str) or not heading.strip():
        return None
    return None if heading.strip().casefold() == hit.path.stem.casefold() else heading


def place_label(hit: Hit) -> str:
    """Where in its document the passage is: "p. 51", "under “Budget”", or "" when it cannot
    say (plain text, a passage before the first heading)."""
    page = page_of(hit)
    if page is not None:
        return f"p. {page}"
    heading = heading_of(hit)
    return f"under “{heading}”" if heading is not None else ""


def file_label(size: int, modified: datetime) -> str:
    """A file's size and day, as the notes list shows them: "12.3 kB · 3 Oct 2024"."""
    return f"{units.size(size)} · {modified.day} {modified:%b %Y}"


class NoteTexts(NamedTuple):
    """The texts of a note's row in the list."""

    title: str
    facts: str  # size and date
    type: str
    place: str  # page or heading of the passage
    folder: str
    why: str


class NotesList(ResultsView):
    """Notes, one per row: title, type, where the passage is, folder and the passage."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.ListMode)
        self.setAccessibleName("Notes")
        self.setItemDelegate(NoteDelegate(self))
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def show_passages(self, shown: bool) -> None:
        """Rows with room for the passage that matched, or (browsing: no passage) without."""
        delegate = self.itemDelegate()
        lines = SNIPPET_LINES if shown else 0
        if isinstance(delegate, NoteDelegate) and delegate.lines != lines:
            delegate.lines = lines
            self.scheduleDelayedItemsLayout()

    def setModel(self, model: QAbstractItemModel | None) -> None:
        super().setModel(model)
        delegate = self.itemDelegate()
        if model is not None and isinstance(delegate, NoteDelegate):
            # New results: their files are looked at afresh (one may have changed since).
            model.modelReset.connect(delegate.forget_files)


class NoteDelegate(QStyledItemDelegate):
    """Title in bold with the file's size and date; its type as a tag, where the passage is
    and the folder, in a quieter colour; two lines of the matching passage with the query's
    words in bold."""

    MARGIN = 10
    # Files whose size and date are remembered: a few screens of notes. Paint runs per row
    # and per frame while scrolling; a stat per paint would wait on the disk each time.
    FILES_KEPT = 2000

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lines = SNIPPET_LINES  # of passage under each row (none while browsing)
        self._files: dict[Path, str] = {}

    def file_label(self, path: Path) -> str:
        """path's size and date, read once per result list ("" when the file is gone)."""
        label = self._files.get(path)
        if label is None:
            try:
                st = path.stat()
            except OSError:
                label = ""
            else:
                label = file_label(st.st_size, datetime.fromtimestamp(st.st_mtime))
            if len(self._files) >= self.FILES_KEPT:
                self._files.clear()
            self._files[path] = label
        return label

    def forget_files(self) -> None:
        self._files.clear()

    def texts(self, hit: Hit) -> NoteTexts:
        """What a note's row says, before it is cut to fit."""
        return NoteTexts(
            hit.path.stem or hit.path.name,
            self.file_label(hit.path),
            type_label(hit.path),
            place_label(hit),
            folder_label(hit.path.parent),
            why_label(hit),
        )

    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont, QFont]:
        base = QFont(option.font)
        title = QFont(base)
        title.setBold(True)
        small = QFont(base)
        small.setPointSizeF(max(7.0, base.pointSizeF() * 0.9))
        return title, small, base

    def sizeHint(self, option: QStyleOptionViewItem, index: IndexLike) -> QSize:
        title, small, base = self._fonts(option)
        height = QFontMetrics(title).height() + QFontMetrics(small).height() + TAG_PAD
        height += self.lines * QFontMetrics(base).lineSpacing() + 2 * self.MARGIN + 6
        return QSize(200, height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: IndexLike) -> None:
        hit = index.data(HIT_ROLE)
        if not isinstance(hit, Hit):
            return
        rect: QRect = option.rect
        palette: QPalette = option.palette
        title_font, small, base = self._fonts(option)
        quiet = palette.color(QPalette.ColorRole.PlaceholderText)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        _selection_background(painter, option, rect.adjusted(2, 1, -2, -1))
        inner = rect.adjusted(self.MARGIN + 4, self.MARGIN, -self.MARGIN - 4, -self.MARGIN)
        width = inner.width()
        y = inner.top()
        # The title, and at its right the file's size and date.
        small_fm = QFontMetrics(small)
        fm = QFontMetrics(title_font)
        row = self.texts(hit)
        facts = row.facts
        facts_width = small_fm.horizontalAdvance(facts) + 8 if facts else 0
        if facts:
            painter.setFont(small)
            painter.setPen(quiet)
            painter.drawText(
                QRect(inner.right() - facts_width, y, facts_width, fm.height()),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                facts,
            )
        painter.setFont(title_font)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        title = fm.elidedText(row.title, Qt.TextElideMode.ElideRight, width - facts_width)
        painter.drawText(QRect(inner.left(), y, width - facts_width, fm.height()), 0, title)
        y += fm.height() + TAG_PAD // 2
        # The type as a tag, where the passage is, the folder; at the right why it matched.
        fm = small_fm
        painter.setFont(small)
        line = QRect(inner.left(), y, width, fm.height())
        why = row.why
        why_width = fm.horizontalAdvance(why) + 8 if why else 0
        if why:
            painter.setPen(quiet)
            painter.drawText(
                QRect(line.right() - why_width, y, why_width, fm.height()),
                int(Qt.AlignmentFlag.AlignRight),
                why,
            )
        x = line.left() + _draw_tag(painter, palette, fm, row.type, line.topLeft())
        room = line.right() - why_width - x
        place, folder = row.place, row.folder
        painter.setPen(quiet)
        if place:
            # Where the passage is counts more than the folder: the folder gives way first.
            place = fm.elidedText(place, Qt.TextElideMode.ElideRight, room)
            painter.setPen(palette.color(QPalette.ColorRole.Text))
            painter.drawText(QRect(x, y, room, fm.height()), 0, place)
            painter.setPen(quiet)
            x += fm.horizontalAdvance(place)
            room = line.right() - why_width - x
            folder = " · " + folder
        folder = fm.elidedText(folder, Qt.TextElideMode.ElideMiddle, room)
        if room > 0:
            painter.drawText(QRect(x, y, room, fm.height()), 0, folder)
        y += fm.height() + TAG_PAD // 2 + 4
        if self.lines == 0:  # browsing: no passage
            painter.restore()
            return
        painter.setFont(base)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        # Line breaks become spaces one for one, so that the hit's highlight offsets still fit.
        snippet = re.sub(r"\s", " ", hit.snippet or "")
        # The words the search matched, in bold (search.highlight chose them).
        spans = [(s, e - s) for s, e in hit.highlights]
        snippet, spans = _without_title(snippet, spans, hit.path.stem)
        # The heading it stands under is said above it ("under “Budget”"): not again.
        snippet, spans = _without_title(snippet, spans, heading_of(hit) or "")
        layout = snippet_layout(snippet, base, width, spans, self.lines)
        # Bold words can push the cut text onto one more line: never draw past the cell.
        painter.setClipRect(
            QRect(inner.left(), y, width, self.lines * QFontMetrics(base).lineSpacing())
        )
        layout.draw(painter, QRectF(inner.left(), y, 0, 0).topLeft())
        painter.restore()


def _draw_tag(painter: QPainter, palette: QPalette, fm: QFontMetrics, text: str, at: QPoint) -> int:
    """A small rounded tag (a file's type) with its top left at at; its width and a gap."""
    width = fm.horizontalAdvance(text) + 10
    box = QRectF(at.x(), at.y() - TAG_PAD / 2, width, fm.height() + TAG_PAD)
    fill = QColor(palette.color(QPalette.ColorRole.Highlight))
    fill.setAlphaF(0.14)
    path = QPainterPath()
    path.addRoundedRect(box, 4, 4)
    painter.fillPath(path, fill)
    painter.setPen(palette.color(QPalette.ColorRole.Text))
    painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)
    return width + 6


def _without_title(
    snippet: str, spans: list[tuple[int, int]], title: str
) -> tuple[str, list[tuple[int, int]]]:
    """A passage that starts with a heading already shown (the note's title, or the heading
    its place names) starts after it."""
    if not title or not snippet.lower().startswith(title.lower()):
        return snippet, spans
    rest = snippet[len(title) :].lstrip(" #:-–—")
    if not rest:
        return snippet, spans
    cut = len(snippet) - len(rest)
    return rest, [(s - cut, n) for s, n in spans if s >= cut]


def snippet_layout(
    text: str, font: QFont, width: int, spans: Sequence[tuple[int, int]], max_lines: int
) -> QTextLayout:
    """text laid out in at most max_lines lines of width, cut with an ellipsis, the spans
    (start, length) in bold; a text whose first bold word would not be in view starts a little
    before it."""
    text, spans = _from_first_span(text, spans, font, width * max_lines)
    layout = _lay_out(text, font, width, spans)
    if layout.lineCount() > max_lines:
        last = layout.lineAt(max_lines - 1)
        head = text[: last.textStart()]
        tail = QFontMetrics(font).elidedText(
            text[last.textStart() :], Qt.TextElideMode.ElideRight, width
        )
        layout = _lay_out(head + tail, font, width, spans)
    return layout


def _from_first_span(
    text: str, spans: Sequence[tuple[int, int]], font: QFont, room: int
) -> tuple[str, list[tuple[int, int]]]:
    if not spans:
        return text, []
    start, length = spans[0]
    # Most of the room, not all: the line breaks waste some of it.
    if QFontMetrics(font).horizontalAdvance(text[: start + length]) < room * 0.7:
        return text, list(spans)
    cut = text.rfind(" ", 0, max(0, start - 40))
    if cut <= 0:
        return text, list(spans)
    # "…" stands where text[: cut + 1] was: every offset moves back by cut.
    return "…" + text[cut + 1 :], [(s - cut, n) for s, n in spans if s - cut >= 1]


def _lay_out(text: str, font: QFont, width: int, spans: Sequence[tuple[int, int]]) -> QTextLayout:
    layout = QTextLayout(text, font)
    bold = QTextCharFormat()
    bold.setFontWeight(QFont.Weight.Bold)
    ranges = []
    for start, length in spans:
        if start >= len(text):
            continue
        span = QTextLayout.FormatRange()
        span.start, span.length, span.format = start, length, bold
        ranges.append(span)
    layout.setFormats(ranges)
    line_height = QFontMetrics(font).lineSpacing()
    layout.beginLayout()
    y = 0.0
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        line.setPosition(QRectF(0, y, 0, 0).topLeft())
        y += line_height
    layout.endLayout()
    return layout
