"""Results: the photo grid (an icon view over a list model, thumbnails loaded lazily, uniform
cells so that ten thousand results scroll smoothly) and the notes list (title, folder, and the
passage that matched)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractListModel,
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
    QPainter,
    QPainterPath,
    QPalette,
    QResizeEvent,
    QTextCharFormat,
    QTextLayout,
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

# Thumbnail side in logical pixels. Bigger shows more of each photo, smaller more photos at once;
# 150 fits five columns in a 900 px wide results area.
THUMB = 150
# Space around a thumbnail inside its cell, for the selection frame.
PAD = 6
# Lines of a note's passage shown in the list.
SNIPPET_LINES = 2
# Room above and below a note's type tag, inside its frame.
TAG_PAD = 2

IndexLike = QModelIndex | QPersistentModelIndex


# What each piece of evidence is called in the window (search.py names them).
WHY_LABELS = {"picture": "picture", "caption": "caption", "passage": "meaning",
              "words": "words", "name": "name"}  # fmt: skip


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


class HitsModel(QAbstractListModel):
    """Search hits of one kind, best first."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._hits: list[Hit] = []
        self._rows: dict[Path, int] = {}

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
        for row, hit in enumerate(self._hits):
            self._rows.setdefault(hit.path, row)

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


class PhotoGrid(ResultsView):
    """Photos as a grid of thumbnails."""

    def __init__(self, thumbnails: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setWrapping(True)
        self.setSpacing(4)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setAccessibleName("Photos")
        self.verticalScrollBar().setSingleStep(48)
        self.setItemDelegate(PhotoDelegate(thumbnails, self))
        thumbnails.device_pixel_ratio = self.devicePixelRatioF()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Share the width left over by whole columns among the columns, so the grid fills
        the view instead of leaving a ragged gap on the right."""
        super().resizeEvent(event)
        delegate = self.itemDelegate()
        if not isinstance(delegate, PhotoDelegate):
            return
        option = QStyleOptionViewItem()
        option.initFrom(self)
        cell = delegate.sizeHint(option, QModelIndex())
        width = self.viewport().width() - 2 * self.spacing()
        columns = max(1, width // (cell.width() + self.spacing()))
        grid = QSize(width // columns, cell.height() + self.spacing())
        if grid != self.gridSize():
            self.setGridSize(grid)


def _selection_background(painter: QPainter, option: QStyleOptionViewItem, rect: QRect) -> None:
    """A rounded highlight for selected and hovered cells, in the theme's colours."""
    palette = option.palette
    state = option.state
    selected = bool(state & QStyle.StateFlag.State_Selected)
    hovered = bool(state & QStyle.StateFlag.State_MouseOver)
    focused = bool(state & QStyle.StateFlag.State_HasFocus)
    if not (selected or hovered):
        return
    colour = QColor(palette.color(QPalette.ColorRole.Highlight))
    colour.setAlphaF(0.30 if selected else 0.12)
    path = QPainterPath()
    path.addRoundedRect(QRectF(rect).adjusted(1, 1, -1, -1), 8, 8)
    painter.fillPath(path, colour)
    if selected and focused:
        painter.setPen(palette.color(QPalette.ColorRole.Highlight))
        painter.drawPath(path)


class PhotoDelegate(QStyledItemDelegate):
    """A thumbnail (or a placeholder while it loads) over the file name."""

    def __init__(self, thumbnails: ThumbnailCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thumbnails = thumbnails
        # The caption font and its metrics, made once per view font: paint runs per cell.
        self._fonts: tuple[QFont, QFont, QFontMetrics] | None = None

    def _caption(self, option: QStyleOptionViewItem) -> tuple[QFont, QFontMetrics]:
        base: QFont = option.font
        if self._fonts is None or self._fonts[0] != base:
            font = QFont(base)
            font.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
            self._fonts = (QFont(base), font, QFontMetrics(font))
        return self._fonts[1], self._fonts[2]

    def _caption_height(self, option: QStyleOptionViewItem) -> int:
        return self._caption(option)[1].height() + 4

    def sizeHint(self, option: QStyleOptionViewItem, index: IndexLike) -> QSize:
        return QSize(THUMB + 2 * PAD, THUMB + 2 * PAD + self._caption_height(option))

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
        box = QRect(rect.x() + PAD, rect.y() + PAD, THUMB, THUMB)
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
        caption = QRect(rect.x() + PAD, box.bottom() + 3, THUMB, metrics.height() + 4)
        name = metrics.elidedText(hit.path.name, Qt.TextElideMode.ElideMiddle, THUMB)
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
    """The heading the passage that matched stands under."""
    heading = hit.location.get("heading")
    return heading if isinstance(heading, str) and heading.strip() else None


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
        height += SNIPPET_LINES * QFontMetrics(base).lineSpacing() + 2 * self.MARGIN + 6
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
        painter.setFont(base)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        # Line breaks become spaces one for one, so that the hit's highlight offsets still fit.
        snippet = re.sub(r"\s", " ", hit.snippet or "")
        # The words the search matched, in bold (search.highlight chose them).
        spans = [(s, e - s) for s, e in hit.highlights]
        snippet, spans = _without_title(snippet, spans, hit.path.stem)
        layout = snippet_layout(snippet, base, width, spans, SNIPPET_LINES)
        # Bold words can push the cut text onto one more line: never draw past the cell.
        painter.setClipRect(
            QRect(inner.left(), y, width, SNIPPET_LINES * QFontMetrics(base).lineSpacing())
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
    """A passage that starts with the note's heading, already shown as its title, starts
    after it."""
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
