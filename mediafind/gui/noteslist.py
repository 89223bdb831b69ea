"""The notes list: one row per note with its title, type, where the passage is and its
folder, and the passage that matched with the query's words in bold; and the labels that say
what a document is and where in it a passage stands (the preview shows them too)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import QAbstractItemModel, QObject, QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPainterPath,
    QPalette,
    QTextCharFormat,
    QTextLayout,
)
from PySide6.QtWidgets import QListView, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from mediafind import units
from mediafind.gui.results import (
    HIT_ROLE,
    IndexLike,
    ResultsView,
    folder_label,
    selection_background,
    why_label,
)
from mediafind.search import Hit

# Lines of a note's passage shown in the list.
SNIPPET_LINES = 2
# Room above and below a note's type tag, inside its frame.
TAG_PAD = 2

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
        selection_background(painter, option, rect.adjusted(2, 1, -2, -1))
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
