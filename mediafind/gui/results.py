"""Results: what the photo grid and the notes list share — the model of a search's hits
(grouped by month when they are in date order), the list view both build on (dragging out,
context menus, keyboard hand-off), the labels of a result, and the selection's highlight."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import (
    QAbstractListModel,
    QLocale,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QRectF,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyleOptionViewItem, QWidget

from mediafind.search import Hit

HIT_ROLE = Qt.ItemDataRole.UserRole + 1

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


def selection_background(painter: QPainter, option: QStyleOptionViewItem, rect: QRect) -> None:
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
