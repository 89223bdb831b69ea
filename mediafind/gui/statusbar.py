"""The status bar's indexing report: what is going on, files done of total, rate, time left, the
current file, pause and resume, and how many files could not be read."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPalette, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from mediafind import units
from mediafind.gui.icons import glyph_icon
from mediafind.keeper import IDLE, INDEXING, PAUSED, SCANNING, STOPPED, Status

# How long a passing message stays.
NOTICE_MS = 8000


def time_left(seconds: float) -> str:
    """Indexing's estimate of the time left. Under a minute it is not counted down: the rate
    varies with each file, and a count of seconds would jump about."""
    return "under a minute left" if seconds < 60 else f"about {units.duration(seconds)} left"


def count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


class IndexingStatus(QWidget):
    """Lives in the status bar; fed with the indexing service's Status."""

    pause_clicked = Signal()
    resume_clicked = Signal()
    errors_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(8)
        self.message = QLabel(self)
        self.progress = QProgressBar(self)
        self.progress.setFixedWidth(140)
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(False)
        self.detail = QLabel(self)
        self.detail.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.detail.setMinimumWidth(80)
        self.pause_button = QToolButton(self)
        self.pause_button.setAutoRaise(True)
        self.pause_button.setIconSize(QSize(14, 14))
        self.pause_button.clicked.connect(self._pause_or_resume)
        self.errors_button = QToolButton(self)
        self.errors_button.setAutoRaise(True)
        self.errors_button.setToolTip("Show the files that could not be read, and why")
        self.errors_button.clicked.connect(self.errors_clicked)
        self.errors_button.hide()
        self.notice = QLabel(self)  # passing messages: "Copied 3 paths."
        self.counts = QLabel(self)
        self.counts.setToolTip("What the library holds now")
        self._notice_timer = QTimer(self)
        self._notice_timer.setSingleShot(True)
        self._notice_timer.setInterval(NOTICE_MS)
        self._notice_timer.timeout.connect(self.notice.clear)
        self._has_folders = True
        self._pending = 0
        layout.addWidget(self.message)
        layout.addWidget(self.progress)
        layout.addWidget(self.pause_button)
        layout.addWidget(self.detail, 1)
        layout.addWidget(self.notice)
        layout.addWidget(self.errors_button)
        layout.addSpacing(12)
        layout.addWidget(self.counts)
        self._paused = False
        self._detail_text = ""
        self.show_status(Status(IDLE))

    def show_status(
        self,
        status: Status,
        loading: bool = False,
        model_missing: bool = False,
    ) -> None:
        state = status.state
        self._paused = state == PAUSED
        self.message.setToolTip("")
        working = state in (INDEXING, SCANNING, PAUSED)
        self.progress.setVisible(working)
        self.pause_button.setVisible(working)
        self._set_pause_icon()
        what = "Re-reading with the new model" if status.reembedding else "Indexing"
        detail = ""
        if state == INDEXING and status.total:
            self._say(self.message, f"{what}: {status.done:,} of {status.total:,}")
            self.progress.setRange(0, status.total)
            self.progress.setValue(status.done)
            parts = []
            if status.rate > 0:
                parts.append(f"{status.rate:.1f} files/s")
            if status.eta is not None and status.done < status.total:
                parts.append(time_left(status.eta))
            if status.current is not None:
                parts.append(status.current.name)  # last: the part cut short when space is short
            detail = " · ".join(parts)
        elif state == INDEXING:
            self._say(self.message, "Loading the model…" if loading else f"{what}…")
            self.progress.setRange(0, 0)  # busy
        elif state == SCANNING:
            self._say(self.message, "Looking for new and changed files…")
            self.progress.setRange(0, 0)
        elif state == PAUSED:
            done = f": {status.done:,} of {status.total:,} done" if status.total else ""
            self._say(self.message, f"Indexing paused{done}")
            self.progress.setRange(0, max(status.total, 1))
            self.progress.setValue(status.done)
        elif state == STOPPED:
            self._say(self.message, "Indexing is off")  # a banner says why
            self.message.setToolTip(status.message)
        elif not self._has_folders:
            self._say(self.message, "No folders yet")
        elif self._pending and model_missing:
            waits = "file waits" if self._pending == 1 else "files wait"
            self._say(self.message, f"{self._pending:,} {waits} for the model")
        else:
            self._say(self.message, "Up to date")
        self._detail_text = detail
        self._elide_detail()
        self.detail.setToolTip(str(status.current) if status.current else "")

    @staticmethod
    def _say(label: QLabel, text: str) -> None:
        """Set a label that must be read whole ("Indexing: 128 of 256"): it keeps the width of
        its text, and the detail beside it (which elides) gives way when room is short."""
        label.setText(text)
        label.setMinimumWidth(label.fontMetrics().horizontalAdvance(text) + 2)

    def show_message(self, text: str) -> None:
        """A passing message, gone after a few seconds."""
        self.notice.setText(text)
        self.notice.setToolTip(text)
        self._notice_timer.start()

    def show_library(self, counts: dict[str, int], has_folders: bool) -> None:
        """What the library holds (counts as Store.counts gives them)."""
        self._has_folders = has_folders
        self._pending = counts.get("pending", 0)
        photos, notes = counts.get("photo", 0), counts.get("note", 0)
        text = f"Library: {count(photos, 'photo')}, {count(notes, 'note')}"
        self._say(self.counts, text if has_folders else "")
        self.set_errors(counts.get("error", 0))

    def set_errors(self, errors: int) -> None:
        """The number of files in the library that could not be read."""
        self.errors_button.setVisible(errors > 0)
        self.errors_button.setText(count(errors, "file", "files") + " could not be read")
        red = QColor("#dc2626")
        self.errors_button.setIcon(glyph_icon("warning", red, 14))
        self.errors_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)

    def _pause_or_resume(self) -> None:
        if self._paused:
            self.resume_clicked.emit()
        else:
            self.pause_clicked.emit()

    def _set_pause_icon(self) -> None:
        colour = self.palette().color(QPalette.ColorRole.WindowText)
        if self._paused:
            self.pause_button.setIcon(glyph_icon("play", colour, 14))
            self.pause_button.setToolTip("Resume indexing")
            self.pause_button.setAccessibleName("Resume indexing")
        else:
            self.pause_button.setIcon(glyph_icon("pause", colour, 14))
            self.pause_button.setToolTip("Pause indexing")
            self.pause_button.setAccessibleName("Pause indexing")

    def _elide_detail(self) -> None:
        width = max(40, self.detail.width())
        metrics = QFontMetrics(self.detail.font())
        self.detail.setText(
            metrics.elidedText(self._detail_text, Qt.TextElideMode.ElideRight, width)
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide_detail()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._set_pause_icon()
        super().changeEvent(event)
