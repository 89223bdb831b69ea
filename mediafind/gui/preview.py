"""The preview pane: the selected photo larger, with its path, date, dimensions and size; or the
selected note (Markdown rendered) with the passage that matched tinted, and its type, place,
date and size."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from PIL import Image, UnidentifiedImageError
from PySide6.QtCore import QRectF, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QResizeEvent,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from mediafind import extract, text_rows, units
from mediafind.errors import MediafindError
from mediafind.gui.jobs import in_background
from mediafind.gui.noteslist import heading_of, page_of, type_label
from mediafind.gui.results import folder_label
from mediafind.gui.thumbnails import ThumbnailCache
from mediafind.pictext import Box
from mediafind.picturetext import lines_from_json
from mediafind.search import Hit
from mediafind.store import INDEXED, Store
from mediafind.text import MAX_TEXT_CHARS, decode_text

log = logging.getLogger(__name__)

# Opens a read connection to the library of the caller's own, or None while there is no library
# (Session.open_reader). Called off the GUI thread.
Reader = Callable[[], Store | None]
T = TypeVar("T")

# EXIF tags: DateTimeOriginal (in the Exif IFD), DateTime, Orientation.
_EXIF_IFD, _TAKEN, _DATETIME, _ORIENTATION = 0x8769, 36867, 306, 274


@dataclass(frozen=True, slots=True)
class PhotoFacts:
    path: Path
    width: int | None
    height: int | None
    taken: datetime | None
    modified: datetime
    size: int


def photo_facts(path: Path, reader: Reader | None = None) -> PhotoFacts:
    """What the preview says about a photo: what the library read when it indexed the file, or,
    for a file it has not read as it is now, the file's own header. Any thread but the GUI's."""
    st = path.stat()
    known = _known_facts(path, st, reader)
    if known is not None:
        return known
    width = height = None
    taken = None
    try:
        with Image.open(path) as image:
            width, height = image.size
            exif = image.getexif()
            if exif.get(_ORIENTATION) in (5, 6, 7, 8):
                width, height = height, width
            raw = exif.get_ifd(_EXIF_IFD).get(_TAKEN) or exif.get(_DATETIME)
            if isinstance(raw, str):
                taken = datetime.strptime(raw.strip()[:19], "%Y:%m:%d %H:%M:%S")
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError):
        pass  # the preview shows what it has
    return PhotoFacts(path, width, height, taken, datetime.fromtimestamp(st.st_mtime), st.st_size)


# The most names suggested after person: or place: (those in the most photos first).
KNOWN_NAMES = 500


def known_names(reader: Reader | None, key: str) -> list[str]:
    """The people (key "person") or places ("place") the library knows, in the most photos
    first; none when it cannot be read now. Off the GUI thread."""
    try:
        names = ask_library(
            reader,
            lambda store: (
                store.people.names(True, limit=KNOWN_NAMES)
                if key == "person"
                else store.people.place_names(limit=KNOWN_NAMES)
            ),
        )
    except MediafindError as e:
        log.info("the library cannot tell the names it knows: %s", e)
        return []
    return names or []


def people_rows(hit: Hit) -> list[tuple[str, str]]:
    """The preview's lines for who is in a photo and where it was taken, as its metadata says."""
    rows = []
    if hit.people:
        rows.append(("People", ", ".join(hit.people)))
    if hit.place is not None:
        if hit.place.names:
            rows.append(("Place", ", ".join(hit.place.names)))
        rows.append(("Coordinates", hit.place.coordinates()))
    return rows


def ask_library(reader: Reader | None, question: Callable[[Store], T]) -> T | None:
    """The answer to question on a reader of the library; None when there is no library to
    read. MediafindError (a busy, damaged or newer library) is the caller's to word."""
    store = reader() if reader is not None else None
    if store is None:
        return None
    with store:
        return question(store)


def _known_facts(path: Path, st: os.stat_result, reader: Reader | None) -> PhotoFacts | None:
    """The photo's facts as the library holds them, if they describe the file as it is now."""
    try:
        known = ask_library(reader, lambda store: store.facts(path))
    except MediafindError as e:  # a busy or newer library: the file itself says as much
        log.info("the library cannot tell the facts of %s: %s", path, e)
        return None
    if (
        known is None  # not in the library (a picture from elsewhere)
        or known.status != INDEXED  # not read yet, or unreadable
        or (known.size, known.mtime_ns) != (st.st_size, st.st_mtime_ns)  # changed since
        or known.width is None
    ):
        return None
    taken = None if known.taken_at is None else datetime.fromtimestamp(known.taken_at)
    modified = datetime.fromtimestamp(st.st_mtime)
    return PhotoFacts(path, known.width, known.height, taken, modified, st.st_size)


def note_text(path: Path) -> str:
    """A note's text as it was indexed (Markdown stripped, any encoding). Any thread."""
    return extract.read_note(path, path.read_bytes())


# Notes shown rendered: their passages are found in the rendered text by their words.
MARKDOWN = frozenset({".md", ".markdown"})


@dataclass(frozen=True, slots=True)
class NoteContent:
    """What the preview shows of a note: its text, and the file's size and date."""

    path: Path
    text: str  # Markdown source, or the text as it was indexed
    markdown: bool
    size: int
    modified: datetime


def note_content(path: Path) -> NoteContent:
    """A note as the preview shows it: Markdown as written (to be rendered), any other
    document as its text was indexed. Any thread but the GUI's."""
    with path.open("rb") as file:
        st = os.fstat(file.fileno())
        data = file.read()
    modified = datetime.fromtimestamp(st.st_mtime)
    if path.suffix.lower() in MARKDOWN:
        # As much as the indexer reads: a rendered document of more would stall the window.
        text = decode_text(data)[:MAX_TEXT_CHARS]
        return NoteContent(path, text, True, st.st_size, modified)
    return NoteContent(path, extract.read_note(path, data), False, st.st_size, modified)


def _loose(passage: str, flags: int = 0) -> re.Pattern[str] | None:
    """A pattern for passage whatever the whitespace between its words (None: no words)."""
    words = passage.split()
    return re.compile(r"\s+".join(map(re.escape, words)), flags) if words else None


def _wordwise(passage: str) -> re.Pattern[str] | None:
    """A pattern for passage's words in order, whatever stands between them: a rendered
    Markdown note drops the list bullets and table bars its indexed text kept."""
    words = re.findall(r"\w+", passage)
    return re.compile(r"\W+".join(map(re.escape, words))) if words else None


def find_passage(text: str, passage: str) -> tuple[int, int] | None:
    """Where passage occurs in text, whatever the whitespace between its words; failing that,
    where its words stand in order with anything but words between them."""
    for pattern in (_loose(passage), _wordwise(passage)):
        found = pattern.search(text) if pattern is not None else None
        if found:
            return found.span()
    return None


def matched_words(text: str, start: int, end: int, hit: Hit) -> list[tuple[int, int]]:
    """Where, between start and end of text, the words the search highlighted in the hit's
    snippet are, in order (the snippet's whitespace may differ from the text's)."""
    spans: list[tuple[int, int]] = []
    at = start
    for s, e in hit.highlights:
        pattern = _loose((hit.snippet or "")[s:e], re.IGNORECASE)
        if pattern is None:
            continue
        found = pattern.search(text, at, end) or pattern.search(text, start, end)
        if found is not None:
            spans.append(found.span())
            at = found.end()
    return sorted(set(spans))


def _located(hit: Hit, length: int) -> tuple[int, int] | None:
    """The passage's place as the indexer recorded it (when the text no longer holds it as
    it was, e.g. the note changed since)."""
    start, end = hit.location.get("start"), hit.location.get("end")
    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= length:
        return start, end
    return None


def _apply(cursor: QTextCursor, start: int, end: int, style: QTextCharFormat) -> None:
    cursor.setPosition(start)
    cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
    cursor.mergeCharFormat(style)


def show_facts(form: QFormLayout, rows: list[tuple[str, str]], quiet_names: bool = False) -> None:
    """A file's facts as the rows of a form, replacing those it had: names (in a quieter colour
    with quiet_names), and values that wrap and can be selected and copied."""
    while form.rowCount():
        form.removeRow(0)
    for name, value in rows:
        field = QLabel(value)
        field.setWordWrap(True)
        field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label = QLabel(name)
        if quiet_names:
            label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        form.addRow(label, field)


class FitImage(QWidget):
    """A picture scaled to fit, centred; a soft placeholder while it loads."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self._boxes: list[Box] = []  # where the words that matched stand, drawn over it
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setMinimumSize(160, 120)
        self.max_height = 480  # the pane sets it: the picture leaves room for its facts

    def set_pixmap(self, pixmap: QPixmap | None) -> None:
        self._pixmap = pixmap
        self.updateGeometry()
        self.update()

    def set_boxes(self, boxes: Sequence[Box]) -> None:
        """Highlight these parts of the picture (fractions of its width and height): where the
        text that matched stands."""
        self._boxes = list(boxes)
        self.update()

    @property
    def boxes(self) -> list[Box]:
        return list(self._boxes)

    def _aspect(self) -> float:
        if self._pixmap is None or self._pixmap.width() == 0:
            return 0.75  # a placeholder in the shape of most photos
        return self._pixmap.height() / self._pixmap.width()

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        """As tall as the picture is at this width: the facts follow right under it."""
        return max(self.minimumHeight(), min(self.max_height, round(width * self._aspect())))

    def sizeHint(self) -> QSize:
        return QSize(320, self.heightForWidth(320))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        area = self.rect()
        if self._pixmap is None:
            colour = QColor(self.palette().color(QPalette.ColorRole.Text))
            colour.setAlphaF(0.06)
            path = QPainterPath()
            path.addRoundedRect(QRectF(area).adjusted(4, 4, -4, -4), 8, 8)
            painter.fillPath(path, colour)
            return
        ratio = self._pixmap.devicePixelRatio()
        size = QSize(round(self._pixmap.width() / ratio), round(self._pixmap.height() / ratio))
        if size.width() > area.width() or size.height() > area.height():
            size = size.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRectF(0, 0, size.width(), size.height())
        target.moveCenter(QRectF(area).center())
        target.moveTop(area.top())
        clip = QPainterPath()
        clip.addRoundedRect(target, 6, 6)
        painter.setClipPath(clip)
        painter.drawPixmap(target.toRect(), self._pixmap)
        if self._boxes:
            _draw_boxes(painter, target, self._boxes, self.palette())


def _draw_boxes(painter: QPainter, target: QRectF, boxes: Sequence[Box], palette: QPalette) -> None:
    """The text's boxes over the picture drawn in target: a tint and an outline in the theme's
    highlight colour, a little larger than the letters so that they stay readable."""
    edge = QColor(palette.color(QPalette.ColorRole.Highlight))
    fill = QColor(edge)
    fill.setAlphaF(0.22)
    painter.setPen(QPen(edge, 2))
    for left, top, right, bottom in boxes:
        rect = QRectF(
            target.left() + left * target.width(),
            target.top() + top * target.height(),
            (right - left) * target.width(),
            (bottom - top) * target.height(),
        ).adjusted(-3, -2, 3, 2)
        path = QPainterPath()
        path.addRoundedRect(rect, 3, 3)
        painter.fillPath(path, fill)
        painter.drawPath(path)


def text_boxes(hit: Hit) -> list[Box]:
    """Where in a photo the text that brought it stands (OCR's boxes), from its location:
    "lines" (each line's box) or "box" (the passage's), as fractions [left, top, right,
    bottom] of the picture as shown."""
    location = hit.location
    raw = location.get("lines") or ([location["box"]] if location.get("box") else [])
    boxes: list[Box] = []
    for box in raw if isinstance(raw, list) else []:
        if isinstance(box, list | tuple) and len(box) == 4:
            left, top, right, bottom = (float(v) for v in box)
            if 0 <= left < right <= 1 and 0 <= top < bottom <= 1:
                boxes.append((left, top, right, bottom))
    return boxes


def matched_lines(hit: Hit, reader: Reader | None) -> list[Box]:
    """The boxes of the lines read in the photo that hold the query's words (the highlighted
    words of its passage); empty when the library cannot tell (then the passage's boxes are
    the best said). Reads the library: not for the GUI thread."""
    words = {hit.snippet[s:e].casefold() for s, e in hit.highlights} if hit.snippet else set()
    if not words:
        return []
    try:
        raw = ask_library(reader, lambda store: text_rows.lines_of(store, hit.file_id))
    except MediafindError as e:
        log.info("the library cannot tell the lines read in %s: %s", hit.path, e)
        return []
    lines = lines_from_json(raw) if raw else None
    return [ln.box for ln in lines or () if any(w in ln.text.casefold() for w in words)]


class PreviewPane(QWidget):
    """Shows one hit; open and show-in-folder buttons under it."""

    open_requested = Signal(object)  # Hit: open it (a document at the passage's page)
    reveal_requested = Signal(object)  # Path

    def __init__(
        self,
        pictures: ThumbnailCache,
        reader: Reader | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setAccessibleName("Preview")
        self._pictures = pictures
        self._reader = reader  # None: no library, the facts come from the files
        self._pictures.ready.connect(self._picture_ready)
        self._hit: Hit | None = None
        self.stack = QStackedWidget(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

        self.empty = QLabel("Select a photo or a note to see it here.", self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.stack.addWidget(self.empty)

        page = QWidget(self)
        column = QVBoxLayout(page)
        column.setContentsMargins(12, 12, 12, 12)
        column.setSpacing(8)
        self.image = FitImage(page)
        self.title = QLabel(page)
        title_font = QFont(self.title.font())
        title_font.setBold(True)
        title_font.setPointSizeF(title_font.pointSizeF() * 1.1)
        self.title.setFont(title_font)
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts = QFormLayout()
        self.facts.setHorizontalSpacing(12)
        self.facts.setVerticalSpacing(4)
        self.facts.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.text = QTextBrowser(page)
        self.text.setOpenLinks(False)
        self.text.anchorClicked.connect(_follow_link)
        self.text.setFrameShape(QTextBrowser.Shape.NoFrame)
        buttons = QHBoxLayout()
        self.open_button = QPushButton("Open", page)
        self.open_button.setToolTip("Open in its app (Enter)")
        self.reveal_button = QPushButton("Show in Folder", page)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.reveal_button)
        buttons.addStretch(1)
        # Photo: picture, then what it is. Note: what it is, then its text filling the rest.
        column.addWidget(self.image)
        column.addWidget(self.title)
        column.addLayout(self.facts)
        column.addLayout(buttons)
        column.addWidget(self.text, 1)
        column.addStretch(0)
        self.column = column
        self.stack.addWidget(page)
        self.page = page
        self.open_button.clicked.connect(self._open)
        self.reveal_button.clicked.connect(self._reveal)

    @property
    def hit(self) -> Hit | None:
        return self._hit

    def show_hit(self, hit: Hit | None) -> None:
        if hit is not None and hit == self._hit:
            return  # the same result, matched the same way
        self._hit = hit
        if hit is None:
            self.stack.setCurrentWidget(self.empty)
            return
        self.stack.setCurrentWidget(self.page)
        self.title.setText(hit.path.name)
        photo = hit.kind == "photo"
        self._set_facts(
            [("Folder", folder_label(hit.path.parent))] if photo else _note_facts(hit, None)
        )
        self.image.setVisible(photo)
        self.text.setVisible(not photo)
        self.column.setStretch(self.column.count() - 1, 1 if photo else 0)
        if photo:
            self.image.set_pixmap(self._pictures.get(hit.path))
            self.image.set_boxes(text_boxes(hit))
            if self.image.boxes:  # the lines with the query's words, where the library knows
                reader = self._reader
                in_background(lambda: (hit, matched_lines(hit, reader)), self._matched)
            reader = self._reader
            in_background(lambda: photo_facts(hit.path, reader), self._photo_facts, self._failed)
        else:
            self._show_document(QTextDocument())
            in_background(lambda: note_content(hit.path), self._note_content, self._failed)

    def _matched(self, found: tuple[Hit, list[Box]]) -> None:
        hit, boxes = found
        if hit == self._hit and boxes:
            self.image.set_boxes(boxes)

    def _show_document(self, document: QTextDocument) -> None:
        """Show a note in a document of its own. Reusing one leaked the tint: the browser's
        cursor rested on the last passage, and QTextEdit.setPlainText gives all the new text
        the format under that cursor."""
        document.setParent(self.text)
        document.setDefaultFont(self.text.font())
        old = self.text.document()
        ours = old.parent() is self.text  # the browser deletes the first one, its own, itself
        self.text.setDocument(document)
        if ours:
            old.deleteLater()

    def _set_facts(self, rows: list[tuple[str, str]]) -> None:
        show_facts(self.facts, rows, quiet_names=True)

    def _photo_facts(self, facts: PhotoFacts) -> None:
        hit = self._hit
        if hit is None or hit.path != facts.path:
            return
        rows = [("Folder", folder_label(facts.path.parent))]
        if facts.taken is not None:
            rows.append(("Taken", f"{facts.taken:%d %B %Y, %H:%M}"))
        rows.append(("Modified", f"{facts.modified:%d %B %Y, %H:%M}"))
        if facts.width and facts.height:
            rows.append(("Dimensions", f"{facts.width} × {facts.height} pixels"))
        rows.append(("Size", units.size(facts.size)))
        rows += people_rows(hit)
        if hit.match == "caption" and hit.snippet:
            rows.append(("Caption", " ".join(hit.snippet.split())))
        self._set_facts(rows)

    def _note_content(self, content: NoteContent) -> None:
        hit = self._hit
        if hit is None or hit.path != content.path:
            return  # another result was chosen meanwhile
        document = QTextDocument()
        if content.markdown:
            document.setMarkdown(content.text)
        else:
            document.setPlainText(content.text)
        self._show_document(document)
        text = document.toPlainText()  # one character per position of the document
        passage = QTextCharFormat()
        colour = QColor(self.palette().color(QPalette.ColorRole.Highlight))
        colour.setAlphaF(0.25)
        passage.setBackground(colour)
        words = QTextCharFormat()
        words.setFontWeight(QFont.Weight.Bold)
        found = find_passage(text, hit.snippet or "")
        if found is None and not content.markdown:
            found = _located(hit, len(text))  # the indexed text's offsets, not the rendered one's
        cursor = QTextCursor(document)
        if found is not None:
            start, end = found
            _apply(cursor, start, end, passage)
            for word_start, word_end in matched_words(text, start, end, hit):
                _apply(cursor, word_start, word_end, words)
            first = start
        else:
            # The passage is not in the text as it is now: tint what the search matched.
            spans = matched_words(text, 0, len(text), hit)
            for word_start, word_end in spans:
                _apply(cursor, word_start, word_end, passage)
            first = spans[0][0] if spans else -1
        self._set_facts(_note_facts(hit, content))
        if first >= 0:
            cursor.setPosition(first)
            self.text.setTextCursor(cursor)
            # Once the pane has laid out the new facts, which resize the text.
            QTimer.singleShot(0, self._scroll_to_passage)

    def _scroll_to_passage(self) -> None:
        """The passage (where the text's cursor is) near the top, two lines of what leads to
        it above it."""
        bar = self.text.verticalScrollBar()
        lead = 2 * self.text.fontMetrics().lineSpacing()
        bar.setValue(bar.value() + self.text.cursorRect().top() - lead)

    def _failed(self, message: str) -> None:
        if self._hit is not None:
            self._set_facts(
                [("Folder", folder_label(self._hit.path.parent)), ("Cannot read", message)]
            )

    def _picture_ready(self, paths: frozenset[Path]) -> None:
        if self._hit is not None and self._hit.path in paths:
            self.image.set_pixmap(self._pictures.get(self._hit.path))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # Two thirds of the height for the picture: the rest for its name, facts and buttons.
        self.image.max_height = max(120, self.height() * 2 // 3)
        self.image.updateGeometry()

    def _open(self) -> None:
        """Open the file; a document at the passage's page where its viewer can be told it."""
        hit = self._hit
        if hit is None:
            return
        self.open_requested.emit(hit)

    def _reveal(self) -> None:
        if self._hit is not None:
            self.reveal_requested.emit(self._hit.path)


# The links of a rendered note that open in their own app: web pages and mail. A relative link
# names something beside the note, which the browser cannot show.
_LINK_SCHEMES = frozenset({"http", "https", "mailto"})


def _follow_link(url: QUrl) -> None:
    if url.scheme().lower() in _LINK_SCHEMES:
        QDesktopServices.openUrl(url)


def _note_facts(hit: Hit, content: NoteContent | None) -> list[tuple[str, str]]:
    """What the preview says of a note: its type, where the passage is, its folder, its date
    and size (content None: not read yet)."""
    rows = [("Type", type_label(hit.path))]
    page, heading = page_of(hit), heading_of(hit)
    if page is not None:
        rows.append(("Page", str(page)))
    elif heading is not None:
        rows.append(("Section", heading))
    rows.append(("Folder", folder_label(hit.path.parent)))
    # While the file is read, its rows wait with a dash: the text below them does not move
    # when they fill in (which would push a passage scrolled into view out of it).
    modified = f"{content.modified:%d %B %Y, %H:%M}" if content is not None else "–"
    rows.append(("Modified", modified))
    rows.append(("Size", units.size(content.size) if content is not None else "–"))
    return rows
