"""The session, as the window sees it: its callbacks (which come from any thread) turned into Qt
signals that arrive on the GUI thread, and the window's own saved state.

Every decision — which model, what a folder's state is, how a search falls back — is the
session's (mediafind/session.py); this only carries it across threads.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal

from mediafind import config, privacy
from mediafind.session import Session


class SessionBridge(QObject):
    """One session for one window. Its signals arrive on the GUI thread whatever thread caused
    them."""

    status_changed = Signal(object)  # a mediafind.keeper.Status
    model_changed = Signal()  # the session's model_state or model_problem changed
    indexing_changed = Signal()  # the indexing service started, stopped or could not start

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        # Window geometry and the last kind filter: the window's, not the settings file's.
        self.window_state = QSettings(str(_private_state()), QSettings.Format.IniFormat, self)
        session.on_status(self.status_changed.emit)
        session.on_model_changed(self.model_changed.emit)
        session.on_indexing_changed(self.indexing_changed.emit)


def _private_state() -> Path:
    """The window's state file, made readable by the user only before Qt writes it (Qt keeps a
    file's permissions when it saves it again)."""
    path = config.config_dir() / "window.ini"
    try:
        privacy.private_folder(path.parent)
        privacy.open_private(path, "ab").close()
    except OSError:
        pass  # Qt says nothing either: the window's layout is not kept
    return path
