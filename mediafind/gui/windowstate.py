"""What the window remembers between runs: its place and size (brought back inside the screen
it opens on), how its panes are split, and the user's choices (the sort, the filter it opens
on, the preview, the thumbnail size)."""

from __future__ import annotations

from typing import NamedTuple

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QWidget

from mediafind.gui.grid import THUMB
from mediafind.gui.pane import ResultsPane
from mediafind.query import ALL, KINDS, RELEVANCE, SORTS

# Pixels a restored window may stand out of its screen before it is brought back inside.
FIT_SLACK = 16


class Choices(NamedTuple):
    """The user's choices the window opens with."""

    sort: str  # the sort menu's choice
    pinned: str | None  # the filter the window opens on, if not All
    preview: bool
    thumb: int  # the thumbnails' side


def restore_window(window: QMainWindow, pane: ResultsPane, settings: QSettings) -> Choices:
    """Put the window and its panes back as they were; the choices to open with."""
    geometry = settings.value("window/geometry")
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)
    else:
        window.resize(1100, 720)
    fit_screen(window)
    for key, splitter in (
        ("window/splitter", pane),
        ("window/sections", pane.sections),
    ):
        state = settings.value(key)
        if isinstance(state, QByteArray) and not state.isEmpty():
            splitter.restoreState(state)
    sort = settings.value("window/sort", RELEVANCE)
    # The window opens on All, unless the user pinned another filter.
    pinned = settings.value("window/pinned", "")
    preview = settings.value("window/preview", True)
    try:
        thumb = int(str(settings.value("window/thumb", THUMB)))
    except (TypeError, ValueError):
        thumb = THUMB
    return Choices(
        sort if sort in SORTS else RELEVANCE,
        pinned if pinned in KINDS and pinned != ALL else None,
        preview not in (False, "false"),
        thumb,
    )


def save_window(
    window: QMainWindow, pane: ResultsPane, choices: Choices, settings: QSettings
) -> None:
    """Keep the window's place, its panes' split and the choices for the next run."""
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/splitter", pane.saveState())
    settings.setValue("window/sections", pane.sections.saveState())
    settings.setValue("window/pinned", choices.pinned or "")
    settings.setValue("window/preview", choices.preview)
    settings.setValue("window/thumb", choices.thumb)
    settings.setValue("window/sort", choices.sort)
    settings.sync()


def fit_screen(window: QWidget) -> None:
    """Geometry saved on another screen, or at another scale (a 1600-pixel-wide window
    saved at 100 % is too big for the same screen at 200 %), is brought inside the screen
    the window opens on."""
    if window.isMaximized() or window.isFullScreen():
        return  # the window manager fits those
    room = window.screen().availableGeometry()
    frame = window.frameGeometry()
    slack = FIT_SLACK  # a frame's shadow or border may stand out of the room a little
    if room.adjusted(-slack, -slack, slack, slack).contains(frame):
        return
    extra = frame.size() - window.size()  # the title bar and borders
    width = min(window.width(), round(room.width() * 0.92) - extra.width())
    height = min(window.height(), round(room.height() * 0.92) - extra.height())
    window.resize(max(width, window.minimumWidth()), max(height, window.minimumHeight()))
    frame = window.frameGeometry()
    frame.moveCenter(room.center())
    window.move(frame.topLeft())
