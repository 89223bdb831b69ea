"""The search field: words as you type (debounced), or a picture shown as a removable chip;
suggestions for the filter being typed (kind:, in:, …), and the search tips behind its ? button."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QObject, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPixmap,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCompleter,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QStyle,
    QStyleOptionFrame,
    QToolButton,
    QWidget,
)

from mediafind.gui.dropping import holds_picture
from mediafind.gui.help import TIPS_KEY, SearchTips
from mediafind.gui.icons import glyph, glyph_icon
from mediafind.gui.jobs import in_background
from mediafind.media import NOTE_EXTENSIONS, PHOTO_EXTENSIONS
from mediafind.people import key as name_key
from mediafind.query import ALL, FILTER_KEYS, SORT_MEANINGS, SORTS, home_relative
from mediafind.rows import NOTE, PHOTO

# Quiet time after the last key before searching. Shorter searches on every keystroke (wasted
# work while a word is half typed); longer feels laggy. 150 ms is below the pause between words.
DEBOUNCE_MS = 150
# The filter buttons: each kind with its label, in order.
KIND_LABELS = ((ALL, "All"), (PHOTO, "Photos"), (NOTE, "Notes"))
# The kind filter as one segmented control; palette() keeps it right in light and dark themes.
SEGMENTS = """
QToolButton { border: 1px solid palette(mid); border-left: none; padding: 4px 14px;
              background: palette(button); color: palette(button-text); }
QToolButton#first { border-left: 1px solid palette(mid);
                    border-top-left-radius: 6px; border-bottom-left-radius: 6px; }
QToolButton#last { border-top-right-radius: 6px; border-bottom-right-radius: 6px; }
QToolButton:hover:!checked { background: palette(midlight); }
QToolButton:checked { background: palette(highlight); color: palette(highlighted-text);
                      border-color: palette(highlight); }
"""
PLACEHOLDER = "Search photos and notes: type words, or drop or paste a picture"
PLACEHOLDER_WITH_IMAGE = "Add words to narrow it down (Backspace removes the picture)"
# A term of the query as the parser splits it: quotes keep spaces inside (in:"~/My Pictures").
_TERM = re.compile(r'(?:[^\s"]+|"[^"]*"?)+')
# Filters that hold one value (the last one typed counts): an example from the tips replaces
# the one already typed. type: adds up (type:jpg type:png), so it is not among them.
_SINGLE_VALUED = frozenset(FILTER_KEYS) - {"type", "person", "place"}
# Filters whose values are the names the library knows (people, places): matched as typed
# without case or accents ("person:zoe" offers Zoë), and read off the GUI thread.
_NAMED = ("person", "place")
# Known names are read again when a named filter is typed this long after the last reading.
NAMES_FRESH_SECONDS = 30.0
# The roles of a suggestion: the text typing is matched against, and the term it puts in.
_MATCH_ROLE = Qt.ItemDataRole.UserRole
_TERM_ROLE = Qt.ItemDataRole.UserRole + 1


def terms(text: str) -> list[tuple[int, int]]:
    """Where each term of text starts and ends."""
    return [m.span() for m in _TERM.finditer(text)]


def term_key(term: str) -> str:
    """The filter a term is ("kind" for kind:photo), or "" for words, phrases and negatives."""
    key, sep, _ = term.partition(":")
    return key.lower() if sep and key.lower() in FILTER_KEYS else ""


def without_key(text: str, key: str) -> str:
    """text without its terms of the filter key."""
    return " ".join(text[a:b] for a, b in terms(text) if term_key(text[a:b]) != key)


def suggestions(
    key: str, folders: Sequence[Path], today: date, names: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """What may follow key: — each as (the term to put in, what it means); names: the people
    (person:) or places (place:) the library knows, most photos first."""
    if key in _NAMED:
        says = "a person in your photos" if key == "person" else "where photos were taken"
        return [(f'{key}:"{n}"' if " " in n else f"{key}:{n}", says) for n in names]
    if key == "kind":
        return [("kind:photo", "only photos"), ("kind:note", "only notes")]
    if key == "type":
        photos = sorted(e.lstrip(".") for e in PHOTO_EXTENSIONS)
        notes = sorted(e.lstrip(".") for e in NOTE_EXTENSIONS)
        return (
            [(f"type:{e}", "photos") for e in photos]
            + [("type:raw", "camera RAW photos, all kinds")]
            + [(f"type:{e}", "notes") for e in notes]
        )
    if key == "in":
        named = sorted((home_relative(f) for f in folders), key=str.lower)
        return [(f'in:"{n}"' if " " in n else f"in:{n}", "a watched folder") for n in named]
    if key in ("after", "before"):
        month = today.replace(day=1)
        dates = (
            (f"{today:%Y}", "this year"),
            (f"{today:%Y-%m}", "this month"),
            (f"{month - timedelta(days=1):%Y-%m}", "last month"),
            (f"{today.year - 1}", "last year"),
            (f"{today:%Y-%m-%d}", "today"),
        )
        says = "from {} on" if key == "after" else "before {}"
        return [(f"{key}:{value}", says.format(when)) for value, when in dates]
    if key == "sort":
        return [(f"sort:{s}", SORT_MEANINGS.get(s, s)) for s in SORTS]
    return []


class _Line(QLineEdit):
    """The text part: hands arrow keys, Escape and image pastes to the field, and the keys
    that take a suggestion while suggestions show."""

    down = Signal()
    escape = Signal()
    backspace_on_empty = Signal()
    image_pasted = Signal(object)  # QMimeData
    suggestion_taken = Signal()  # Tab or Enter while suggestions show

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.suggestions: QCompleter | None = None

    def event(self, event: QEvent) -> bool:
        # Here rather than in keyPressEvent: Tab would move the focus before that sees it.
        popup = self.suggestions.popup() if self.suggestions is not None else None
        if event.type() == QEvent.Type.KeyPress and popup is not None and popup.isVisible():
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Tab, Qt.Key.Key_Return, Qt.Key.Key_Enter):
                event.accept()
                self.suggestion_taken.emit()
                return True
            if key == Qt.Key.Key_Escape:  # closes the suggestions, keeps the words
                event.accept()
                popup.hide()
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Paste):
            data = QGuiApplication.clipboard().mimeData()
            if data is not None and holds_picture(data):
                self.image_pasted.emit(data)
                return
        key = event.key()
        if key == Qt.Key.Key_Down:
            self.down.emit()
            return
        if key == Qt.Key.Key_Escape:
            self.escape.emit()
            return
        if key == Qt.Key.Key_Backspace and not self.text():
            self.backspace_on_empty.emit()
            return
        super().keyPressEvent(event)


class ImageChip(QFrame):
    """The picture being searched by: a small thumbnail, its name, and a button to remove it."""

    removed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imageChip")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 2, 2)
        layout.setSpacing(6)
        self.thumbnail = QLabel(self)
        self.thumbnail.setFixedSize(24, 24)
        self.thumbnail.setScaledContents(False)
        self.label = QLabel(self)
        self.close_button = QToolButton(self)
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Remove the picture (Backspace)")
        self.close_button.setAccessibleName("Remove the picture")
        self.close_button.setIconSize(QSize(14, 14))
        self.close_button.clicked.connect(self.removed)
        layout.addWidget(self.thumbnail)
        layout.addWidget(self.label)
        layout.addWidget(self.close_button)
        self._restyle()

    def set_picture(self, name: str, pixmap: QPixmap | None) -> None:
        metrics = QFontMetrics(self.label.font())
        self.label.setText(metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, 220))
        self.label.setToolTip(name)
        if pixmap is not None and not pixmap.isNull():
            ratio = self.devicePixelRatioF()
            scaled = pixmap.scaled(
                round(24 * ratio),
                round(24 * ratio),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            scaled.setDevicePixelRatio(ratio)
            self.thumbnail.setPixmap(scaled)
        else:
            ratio = self.devicePixelRatioF()
            self.thumbnail.setPixmap(glyph("photo", self._text_colour(), 24, ratio))

    def _text_colour(self) -> QColor:
        return self.palette().color(QPalette.ColorRole.Text)

    def _restyle(self) -> None:
        self.close_button.setIcon(glyph_icon("close", self._text_colour(), 14))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._restyle()
        super().changeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = QColor(self.palette().color(QPalette.ColorRole.Highlight))
        colour.setAlphaF(0.18)
        path = QPainterPath()
        path.addRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        painter.fillPath(path, colour)
        painter.end()


class SearchField(QFrame):
    """Looks like one text field; holds a search glyph, the image chip, the text and the button
    of the search tips."""

    query_changed = Signal()  # the user changed the query (after the debounce)
    submitted = Signal()  # Enter: search now
    move_down = Signal()  # Down: on to the results
    image_pasted = Signal(object)  # QMimeData with a picture, pasted into the field

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("searchField")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._image: Path | None = None
        self.image_name = ""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 6, 4)
        layout.setSpacing(8)
        self.icon = QLabel(self)
        self.icon.setFixedSize(18, 18)
        self.chip = ImageChip(self)
        self.chip.hide()
        self.line = _Line(self)
        self.line.setFrame(False)
        self.line.setClearButtonEnabled(True)
        self.line.setPlaceholderText(PLACEHOLDER)
        self.line.setAccessibleName("Search")
        font = QFont(self.line.font())
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.line.setFont(font)
        self.setFocusProxy(self.line)
        self.tips_button = QToolButton(self)
        self.tips_button.setText("?")
        self.tips_button.setAutoRaise(True)
        self.tips_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # F1 is the keyboard's way
        self.tips_button.setToolTip(f"Search tips ({TIPS_KEY})")
        self.tips_button.setAccessibleName("Search tips")
        self.tips_button.clicked.connect(self.show_tips)
        self.tips: SearchTips | None = None
        # The watched folders, for suggestions after in: (the window tells where to read them).
        self.watched_folders: Callable[[], Sequence[Path]] = tuple
        # The people (person) or places (place) the library knows, most photos first: called
        # off the GUI thread (the window tells where to read them).
        self.known_names: Callable[[str], Sequence[str]] | None = None
        self._names: dict[str, tuple[float, Sequence[str]]] = {}
        self.suggestions = QCompleter(self)
        self.suggestions.setWidget(self.line)
        self.suggestions.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.suggestions.setCompletionRole(_MATCH_ROLE)
        self.suggestions.setModel(QStandardItemModel(self.suggestions))
        # The index, not the text: the text is what typing matched, not the term to put in.
        self.suggestions.activated[QModelIndex].connect(  # type: ignore[index]
            self._take_suggestion
        )
        self.line.suggestions = self.suggestions
        layout.addWidget(self.icon)
        layout.addWidget(self.chip)
        layout.addWidget(self.line, 1)
        layout.addWidget(self.tips_button)
        self.setMinimumHeight(QFontMetrics(font).height() + 20)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.query_changed)
        self.line.textEdited.connect(self._edited)
        self.line.textEdited.connect(self._suggest)
        self.line.suggestion_taken.connect(self._take_suggestion)
        self.line.textChanged.connect(self._maybe_cleared)
        self.line.returnPressed.connect(self._submit)
        self.line.escape.connect(self.clear_all)
        self.line.down.connect(self.move_down)
        self.line.backspace_on_empty.connect(self._remove_image)
        self.line.image_pasted.connect(self.image_pasted)
        self.chip.removed.connect(self._remove_image)
        self.line.installEventFilter(self)
        self._restyle()

    # -- state ----------------------------------------------------------------------------

    def text(self) -> str:
        return self.line.text()

    def image(self) -> Path | None:
        return self._image

    def set_text(self, text: str) -> None:
        """Search for text now (as if typed and Enter pressed)."""
        self._drop_image()
        self.line.setText(text)
        self._submit()

    def set_image(self, path: Path, pixmap: QPixmap | None, name: str | None = None) -> None:
        """Search by a picture (a new search: the words typed so far go). Words typed after it
        are searched together with it."""
        self._image = path
        self.image_name = name or path.name
        self.line.clear()
        self.chip.set_picture(self.image_name, pixmap)
        self.chip.show()
        self.line.setPlaceholderText(PLACEHOLDER_WITH_IMAGE)
        self._submit()

    def clear_all(self) -> None:
        """Escape: forget words and picture."""
        had = bool(self.line.text()) or self._image is not None
        self._drop_image()
        self.line.clear()
        if had:
            self._submit()

    def pending(self) -> bool:
        """Whether typing is still settling (a search is due)."""
        return self._debounce.isActive()

    def insert_term(self, term: str) -> None:
        """Add a term to the words (an example from the tips) and search, as typing does. It
        replaces a filter of its key already typed (kind:photo for kind:note)."""
        key = term_key(term)
        text = without_key(self.line.text(), key) if key in _SINGLE_VALUED else self.line.text()
        self.line.setText(f"{text.rstrip()} {term}".lstrip())
        self.line.setFocus(Qt.FocusReason.OtherFocusReason)
        self._debounce.start()

    def drop_key(self, key: str) -> bool:
        """Take the filter key out of the words (without searching); whether it was there."""
        text = self.line.text()
        if not any(term_key(text[a:b]) == key for a, b in terms(text)):
            return False
        self.line.setText(without_key(text, key))
        return True

    # -- help -----------------------------------------------------------------------------

    def show_tips(self) -> SearchTips:
        """The search tips, under the field."""
        if self.tips is None:
            self.tips = SearchTips(self)
            self.tips.example_chosen.connect(self.insert_term)
        self.tips.open_under(self)
        return self.tips

    def _popup(self) -> QAbstractItemView:
        popup = self.suggestions.popup()
        assert popup is not None  # QCompleter makes its list when it is made
        return popup

    def _term_at_cursor(self) -> tuple[int, int] | None:
        """Where the term being typed starts, read up to the cursor (so that a quote opened
        there does not run on into the words after it), and ends: the cursor, or the end of
        the unquoted rest of its word."""
        text, cursor = self.line.text(), self.line.cursorPosition()
        spans = terms(text[:cursor])
        if not spans or spans[-1][1] != cursor:
            return None
        rest = re.match(r'[^\s"]*', text[cursor:])
        return spans[-1][0], cursor + (rest.end() if rest is not None else 0)

    def _suggest(self) -> None:
        """Offer what may follow the filter being typed (kind:, in:, …) at the cursor."""
        popup = self._popup()
        span = self._term_at_cursor()
        typed = self.line.text()[span[0] : self.line.cursorPosition()] if span else ""
        key = term_key(typed)
        if not key:
            popup.hide()
            return
        names: Sequence[str] = ()
        if key in _NAMED:
            names = self._known(key)
        model = self.suggestions.model()
        assert isinstance(model, QStandardItemModel)
        model.clear()
        for term, meaning in suggestions(key, self.watched_folders(), date.today(), names):
            item = QStandardItem(f"{term}    {meaning}")
            match = term.replace('"', "")
            item.setData(name_key(match) if key in _NAMED else match, _MATCH_ROLE)
            item.setData(term, _TERM_ROLE)
            model.appendRow(item)
        prefix = typed.replace('"', "")
        if key in _NAMED:
            prefix = name_key(prefix)
        self.suggestions.setCompletionPrefix(prefix)
        count = self.suggestions.completionCount()
        if count == 0 or (count == 1 and self.suggestions.currentCompletion() == prefix):
            popup.hide()
            return
        place = self.line.cursorRect()
        place.setWidth(popup.sizeHintForColumn(0) + popup.verticalScrollBar().sizeHint().width())
        self.suggestions.complete(place)
        popup.setCurrentIndex(self.suggestions.completionModel().index(0, 0))

    def _known(self, key: str) -> Sequence[str]:
        """The names known for key as last read; read again in the background when they are
        older than NAMES_FRESH_SECONDS (the suggestions show when they arrive)."""
        read_at, names = self._names.get(key, (-NAMES_FRESH_SECONDS, ()))
        source = self.known_names
        if source is not None and time.monotonic() - read_at >= NAMES_FRESH_SECONDS:
            self._names[key] = (time.monotonic(), names)  # one reading at a time
            in_background(lambda: (key, tuple(source(key))), self._names_read)
        return names

    def _names_read(self, read: tuple[str, Sequence[str]]) -> None:
        key, names = read
        self._names[key] = (time.monotonic(), names)
        span = self._term_at_cursor()
        typed = self.line.text()[span[0] : self.line.cursorPosition()] if span else ""
        if self.line.hasFocus() and term_key(typed) == key:
            self._suggest()

    def _take_suggestion(self, index: QModelIndex | None = None) -> None:
        """Put the chosen suggestion (else the highlighted one) in place of the term being
        typed; the rest of the words stay as they are."""
        popup = self._popup()
        if index is None or not index.isValid():
            index = popup.currentIndex()
        popup.hide()
        term = index.data(_TERM_ROLE) if index.isValid() else None
        span = self._term_at_cursor()
        if not isinstance(term, str) or span is None:
            return
        text = self.line.text()
        start, end = span
        rest = text[end:]
        self.line.setText(text[:start] + term + ("" if rest.startswith(" ") else " ") + rest)
        self.line.setCursorPosition(start + len(term) + 1)
        self._debounce.start()

    # -- reactions ------------------------------------------------------------------------

    def _edited(self, text: str) -> None:
        self._debounce.start()

    def _maybe_cleared(self, text: str) -> None:
        # The clear button changes the text without textEdited.
        if not text and not self._debounce.isActive() and self._image is None:
            self._debounce.start()

    def _submit(self) -> None:
        self._debounce.stop()
        self.submitted.emit()

    def _remove_image(self) -> None:
        if self._image is not None:
            self._drop_image()
            self._submit()

    def _drop_image(self) -> None:
        self._image = None
        self.chip.hide()
        self.line.setPlaceholderText(PLACEHOLDER)

    # -- looks ----------------------------------------------------------------------------

    def _restyle(self) -> None:
        colour = self.palette().color(QPalette.ColorRole.PlaceholderText)
        self.icon.setPixmap(glyph("search", colour, 18, self.devicePixelRatioF()))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._restyle()
        super().changeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Drawn as the style draws a text field, so that it looks native everywhere."""
        painter = QPainter(self)
        option = QStyleOptionFrame()
        option.initFrom(self)
        option.lineWidth = self.style().pixelMetric(QStyle.PixelMetric.PM_DefaultFrameWidth)
        option.midLineWidth = 0
        if self.line.hasFocus():
            option.state |= QStyle.StateFlag.State_HasFocus
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_PanelLineEdit, option, painter, self)
        painter.end()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.line and event.type() in (QEvent.Type.FocusIn, QEvent.Type.FocusOut):
            self.update()  # the frame shows the focus of the text inside it
        return super().eventFilter(watched, event)


class KindFilter(QWidget):
    """All, photos or notes: one segmented control beside the search field."""

    chosen = Signal(str)  # the kind clicked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(SEGMENTS)
        self.buttons = QButtonGroup(self)
        self.buttons.setExclusive(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        for i, (_, label) in enumerate(KIND_LABELS):
            button = QToolButton(self)
            button.setText(label)
            button.setCheckable(True)
            button.setToolTip(f"Show {label.lower()} (Ctrl+{i + 1})")
            button.setMinimumWidth(72)
            button.setMinimumHeight(30)
            button.setObjectName("first" if i == 0 else "last" if i == len(KIND_LABELS) - 1 else "")
            self.buttons.addButton(button, i)
            row.addWidget(button)
        self.buttons.idClicked.connect(lambda i: self.chosen.emit(KIND_LABELS[i][0]))

    def show_kind(self, kind: str) -> None:
        index = next(i for i, (k, _) in enumerate(KIND_LABELS) if k == kind)
        self.buttons.button(index).setChecked(True)
