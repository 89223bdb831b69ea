"""What the window says when it has no results to show: the welcome page of a first run, the
hint before a search, "nothing found", and banners for problems the user can fix."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QRectF, QSize, QStandardPaths, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mediafind.gui.icons import app_icon, glyph, glyph_icon
from mediafind.gui.results import folder_label
from mediafind.gui.statusbar import count
from mediafind.session import Results

WARNING = "warning"
ERROR = "error"
INFO = "info"
_TINTS = {WARNING: "#f59e0b", ERROR: "#dc2626", INFO: "#3b82f6"}
# Width of the explanations on the empty pages: about 70 characters, easy to read.
TEXT_WIDTH = 520

WELCOME_SENTENCE = (
    "Type what you remember (“dog on a beach”, “the receipt for the bike”) or drop a "
    "picture, and mediafind finds the photos and notes in your folders that match. "
    "Everything stays on this computer."
)


# The core's messages name command-line options; the window names its own controls instead.
_FOR_THE_WINDOW = (
    (re.compile(r";? ?use --model local-dir:\S+"), ". Choose a folder that holds one"),
    (re.compile(r" and use --model local-dir:\S+"), " and choose that folder"),
    (re.compile(r"; `mediafind models` lists the presets"), "; Settings lists the presets"),
    (re.compile(r" \(now: [^)]*\)"), ""),
    (re.compile(r"run `mediafind doctor` to"), "use Help → Check Library to"),
    (re.compile(r"`mediafind doctor` can"), "Help → Check Library can"),
)


def for_the_window(message: str) -> str:
    """A core message, written for the command line, as the window says it."""
    text = message.strip()
    for pattern, replacement in _FOR_THE_WINDOW:
        text = pattern.sub(replacement, text)
    text = text.rstrip(".") + "."
    return text[:1].upper() + text[1:]


def suggested_folders() -> list[Path]:
    """The user's Pictures and Documents folders, where they exist."""
    found = []
    for kind in (
        QStandardPaths.StandardLocation.PicturesLocation,
        QStandardPaths.StandardLocation.DocumentsLocation,
    ):
        location = QStandardPaths.writableLocation(kind)
        if location and Path(location).is_dir() and Path(location) != Path.home():
            found.append(Path(location))
    return found


class Banner(QFrame):
    """A tinted strip across the window: what is wrong, how to fix it, buttons that do."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = WARNING
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        layout.setSpacing(10)
        self.icon = QLabel(self)
        self.icon.setFixedSize(20, 20)
        self.icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.buttons = QHBoxLayout()
        self.buttons.setSpacing(6)
        self.close_button = QToolButton(self)
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Hide this message")
        self.close_button.setAccessibleName("Hide this message")
        self.close_button.clicked.connect(self.hide)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.text, 1)
        layout.addLayout(self.buttons)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(
        self,
        text: str,
        actions: list[tuple[str, Callable[[], None]]] | None = None,
        kind: str = WARNING,
        closable: bool = True,
    ) -> None:
        self.kind = kind
        self.text.setText(text)
        while self.buttons.count():
            item = self.buttons.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for label, action in actions or []:
            button = QPushButton(label, self)
            button.clicked.connect(action)
            self.buttons.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        self.close_button.setVisible(closable)
        self._restyle()
        self.show()

    def _restyle(self) -> None:
        text = self.palette().color(QPalette.ColorRole.WindowText)
        name = "warning" if self.kind != INFO else "search"
        self.icon.setPixmap(glyph(name, QColor(_TINTS[self.kind]), 20, self.devicePixelRatioF()))
        self.close_button.setIcon(glyph_icon("close", text, 14))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._restyle()
        super().changeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        tint = QColor(_TINTS[self.kind])
        fill = QColor(tint)
        fill.setAlphaF(0.16)
        path = QPainterPath()
        path.addRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        painter.fillPath(path, fill)
        tint.setAlphaF(0.55)
        painter.setPen(tint)
        painter.drawPath(path)
        painter.end()


class MessagePage(QWidget):
    """A centred picture, a headline, a sentence and buttons, for when there are no results."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.addStretch(2)
        self.picture = QLabel(self)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel(self)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setWordWrap(True)
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.text = QLabel(self)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setWordWrap(True)
        # A wrapped label centred in a layout gets its plain size hint, too short for its
        # lines: give it a measure, and the height its lines need at that width.
        self.text.setFixedWidth(TEXT_WIDTH)
        self.text.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.buttons = QVBoxLayout()
        self.buttons.setSpacing(8)
        self.buttons.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.footer = QLabel(self)
        self.footer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.footer.setWordWrap(True)
        self.footer.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        outer.addWidget(self.picture)
        outer.addSpacing(12)
        outer.addWidget(self.title)
        outer.addSpacing(6)
        outer.addWidget(self.text, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addSpacing(16)
        outer.addLayout(self.buttons)
        outer.addSpacing(12)
        outer.addWidget(self.footer)
        outer.addStretch(3)
        self._glyph = "search"

    def set_content(
        self, title: str, text: str = "", footer: str = "", glyph_name: str = ""
    ) -> None:
        self.title.setText(title)
        self.text.setText(text)
        self.text.setFixedHeight(self.text.heightForWidth(TEXT_WIDTH))
        self.text.setVisible(bool(text))
        self.footer.setText(footer)
        self.footer.setVisible(bool(footer))
        if glyph_name:
            self._glyph = glyph_name
            self._draw_glyph()

    def _draw_glyph(self) -> None:
        colour = QColor(self.palette().color(QPalette.ColorRole.PlaceholderText))
        self.picture.setPixmap(glyph(self._glyph, colour, 56, self.devicePixelRatioF()))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange and self._glyph:
            self._draw_glyph()
        super().changeEvent(event)


class HintPage(MessagePage):
    """Before a search: what to do, and what the library holds."""

    def show_library(self, counts: dict[str, int]) -> None:
        photos, notes = counts.get("photo", 0), counts.get("note", 0)
        pending = counts.get("pending", 0)
        text = (
            f"{count(photos, 'photo')} and {count(notes, 'note')} are ready to search."
            if photos or notes
            else "Nothing is indexed yet."
        )
        if pending:
            text += f" {pending:,} more are being read; they join the results as they are done."
        self.set_content(
            "Type what you are looking for", f"Or drop a picture here. {text}", "", "search"
        )


class NothingPage(MessagePage):
    """A search that found nothing: what was asked, and what to try."""

    def show_nothing(self, results: Results, indexing: bool) -> None:
        query = results.query
        what = {"photo": "photos", "note": "notes"}.get(query.kind, "photos or notes")
        if query.images:
            title = f"No {what} like this picture"
        elif query.text.strip():
            title = f"No {what} match “{query.text.strip()}”"
        else:
            title = f"No {what} pass these filters"
        if results.unknown:  # person: or place: names no photo has, and where names come from
            advice = ". ".join(results.unknown)
        else:
            advice = results.note if results.words_only else "Try other words"
        if query.kind != "all":
            advice += ", or show all kinds (Ctrl+1)"
        if indexing:
            advice += ". Indexing is still going on: new matches will appear here by themselves"
        self.set_content(title, advice.rstrip(".") + ".", "", "search")


class WelcomePage(MessagePage):
    """The first run: what mediafind does in one sentence, and a way to add folders."""

    add_clicked = Signal()
    suggestion_clicked = Signal(object)  # Path

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._glyph = ""
        self.picture.setPixmap(app_icon().pixmap(QSize(96, 96)))
        self.set_content(
            "Find your photos and notes",
            WELCOME_SENTENCE,
            "You can also drop a folder onto this window.",
        )
        self.add_button = QPushButton("Add Folder…", self)
        self.add_button.setDefault(True)
        self.add_button.setMinimumWidth(260)
        self.add_button.clicked.connect(self.add_clicked)
        self.buttons.addWidget(self.add_button)
        self._suggestions: list[QPushButton] = []

    def set_suggestions(self, folders: list[Path]) -> None:
        for button in self._suggestions:
            button.deleteLater()
        self._suggestions = []
        for folder in folders:
            button = QPushButton(f"Add {folder.name}  ({folder_label(folder)})", self)
            button.setMinimumWidth(260)
            button.setIcon(glyph_icon("folder", self.palette().color(QPalette.ColorRole.Text)))
            button.clicked.connect(lambda _=False, f=folder: self.suggestion_clicked.emit(f))
            self.buttons.addWidget(button)
            self._suggestions.append(button)
