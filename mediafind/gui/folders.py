"""The folders dialog: the watched folders with their state (live, polling, offline), how many
files each holds, and the files that could not be read, each with its reason."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mediafind.gui.desktop import copy_paths, open_file, show_in_folder
from mediafind.gui.icons import glyph_icon
from mediafind.gui.jobs import in_background
from mediafind.gui.results import folder_label
from mediafind.report import Overview
from mediafind.session import Session

NATIVE = QKeySequence.SequenceFormat.NativeText
ERROR_RED = "#dc2626"
INFO_BLUE = "#3b82f6"
# Files opened at once from the list: more is almost always a slip of the mouse.
OPEN_AT_ONCE = 10
# Files named in the question before "Ignore".
IGNORE_LISTED = 5
# After Try Again or Ignore, the list is read again this much later (the files are read by then,
# or the restart has forgotten them); the indexing's own refreshes follow.
RETRY_REFRESH_MS = 1500

STATE_LABELS = {
    "live": ("Live", "Changes are seen as they happen."),
    "polling": ("Polling", "Looked at every minute (network or removable drive)."),
    "offline": ("Offline", "The folder cannot be reached; its files stay in the library."),
    "unwatched": ("Not watched", "No mediafind process is following this folder's changes."),
}


def choose_folder(parent: QWidget | None) -> Path | None:
    """Ask for a folder to watch."""
    chosen = QFileDialog.getExistingDirectory(
        parent, "Add a Folder to Search", str(Path.home()), QFileDialog.Option.ShowDirsOnly
    )
    if not chosen:
        return None
    folder = Path(chosen).absolute()
    return Path(os.path.realpath(folder)) if folder.is_symlink() else folder


class FoldersDialog(QDialog):
    """Add and remove watched folders; see what could not be read."""

    add_requested = Signal(object)  # Path
    remove_requested = Signal(object)  # Path

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Watched Folders")
        self.resize(760, 520)
        self._overview: Overview | None = None
        layout = QVBoxLayout(self)
        intro = QLabel(
            "mediafind indexes the photos and notes in these folders, and follows changes "
            "as they happen.",
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.folders = QTreeWidget(self)
        self.folders.setHeaderLabels(["Folder", "State", "Files", "Cannot read"])
        self.folders.setRootIsDecorated(False)
        self.folders.setUniformRowHeights(True)
        self.folders.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.folders.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.folders, 2)
        row = QHBoxLayout()
        self.add_button = QPushButton("Add Folder…", self)
        self.remove_button = QPushButton("Remove Folder", self)
        self.remove_button.setEnabled(False)
        self.remove_button.setToolTip(
            "Stop watching the folder and forget its files (they stay on disk)"
        )
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.errors_title = QLabel(self)
        layout.addWidget(self.errors_title)
        self.errors = UnreadableList(self)
        layout.addWidget(self.errors, 3)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.errors.retry_requested.connect(self._retry)
        self.errors.ignore_requested.connect(self._ignore)
        self.add_button.clicked.connect(self._add)
        self.remove_button.clicked.connect(self._remove)
        self.folders.itemSelectionChanged.connect(self._selection_changed)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        """Read the library again (in the background) and show what it says."""
        in_background(self.session.overview, self.show_overview)

    def show_errors(self) -> None:
        """Open on the unreadable files of every folder."""
        self.folders.clearSelection()
        self.errors.setFocus()

    def show_overview(self, overview: Overview) -> None:
        self._overview = overview
        selected = self._selected()
        self.folders.clear()
        for folder in overview.folders:
            label, explanation = STATE_LABELS.get(folder.state, (folder.state.title(), ""))
            state = f"{label} ({folder.note})" if folder.note else label
            item = QTreeWidgetItem(
                [folder_label(folder.path), state, f"{folder.files:,}", f"{folder.errors:,}"]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, folder.path)
            item.setToolTip(0, str(folder.path))
            item.setToolTip(1, explanation)
            for column in (2, 3):
                item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight)
            self.folders.addTopLevelItem(item)
            if folder.path == selected:
                item.setSelected(True)
        if not overview.folders:
            empty = QTreeWidgetItem(["No folders yet: add one to start."])
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.folders.addTopLevelItem(empty)
        self._show_errors()

    def _selected(self) -> Path | None:
        items = self.folders.selectedItems()
        if not items:
            return None
        path = items[0].data(0, Qt.ItemDataRole.UserRole)
        return path if isinstance(path, Path) else None

    def _selection_changed(self) -> None:
        self.remove_button.setEnabled(self._selected() is not None)
        self._show_errors()

    def _show_errors(self) -> None:
        selected = self._selected()
        overview = self._overview
        errors = overview.errors if overview is not None else []
        empty = overview.empty if overview is not None else []
        if selected is not None:
            errors = [(p, r) for p, r in errors if p.is_relative_to(selected)]
            empty = [(p, r) for p, r in empty if p.is_relative_to(selected)]
        where = f" in {folder_label(selected)}" if selected is not None else ""
        if errors:
            self.errors_title.setText(f"Files that could not be read{where} ({len(errors):,})")
        elif empty:
            self.errors_title.setText(f"Every file{where} could be read; some hold nothing.")
        else:
            self.errors_title.setText(f"Every file{where} could be read.")
        self.errors.show_files(errors, empty)

    def _add(self) -> None:
        folder = choose_folder(self)
        if folder is not None:
            self.add_requested.emit(folder)

    def _remove(self) -> None:
        folder = self._selected()
        if folder is None:
            return
        folders = self._overview.folders if self._overview is not None else []
        files = next((f.files for f in folders if f.path == folder), 0)
        if ask(
            self,
            "Remove Folder",
            f"Stop watching {folder_label(folder)}?",
            f"Its {files:,} files leave the library (search no longer finds them). The files "
            "themselves stay where they are.",
            "Remove Folder",
        ):
            self.remove_requested.emit(folder)

    def _retry(self, paths: list[Path]) -> None:
        def tried(count: int) -> None:
            self.errors.say(
                f"Trying {count_files(count)} again…" if count else "Nothing to try again."
            )
            QTimer.singleShot(RETRY_REFRESH_MS, self.refresh)

        in_background(lambda: self.session.retry_files(paths), tried, self.errors.say)

    def _ignore(self, paths: list[Path]) -> None:
        names = "\n".join(folder_label(p) for p in paths[:IGNORE_LISTED])
        more = len(paths) - IGNORE_LISTED
        if more > 0:
            names += f"\n…and {count_files(more, 'more file')}"
        if not ask(
            self,
            "Ignore Files",
            f"Leave {count_files(len(paths))} out of the library from now on?",
            f"{names}\n\nThe files stay where they are. Settings › Skip files matching lists "
            "what is left out; remove a line there to index it again.",
            "Ignore",
        ):
            return

        def ignored(patterns: list[str]) -> None:
            if patterns:
                self.errors.say(f"Ignoring {count_files(len(patterns))} from now on.")
            else:
                self.errors.say("These files are not in a watched folder.")
            QTimer.singleShot(RETRY_REFRESH_MS, self.refresh)

        in_background(lambda: self.session.ignore_files(paths), ignored, self.errors.say)


def ask(parent: QWidget, title: str, question: str, detail: str, action: str) -> bool:
    """A question whose yes-button is named by its action ("Remove Folder"), Cancel first."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(title)
    box.setText(question)
    box.setInformativeText(detail)
    yes = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Cancel))
    box.exec()
    return box.clickedButton() is yes


def count_files(n: int, one: str = "file") -> str:
    return f"{n:,} {one if n == 1 else one + 's'}"


class UnreadableList(QWidget):
    """The files that could not be read, each with its reason, and what can be done about each:
    open it, show it in its folder, copy its path, try it again (after fixing it), or ignore it
    from now on. Files that hold nothing to index (empty, scans without text) are listed apart,
    as information."""

    retry_requested = Signal(object)  # list[Path]
    ignore_requested = Signal(object)  # list[Path]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["File", "Reason"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.tree, 1)
        row = QHBoxLayout()
        self.file_actions: dict[str, QAction] = {}
        self.buttons: dict[str, QPushButton] = {}
        for key, label, shortcut, tip in (
            ("open", "Open", "Return", "Open the file in its own app"),
            ("reveal", "Show in Folder", "Ctrl+Shift+R", "Show the file in the file manager"),
            ("copy", "Copy Path", "Ctrl+Shift+C", "Copy the files' paths"),
            ("retry", "Try Again", "Ctrl+R", "Read the files again (after fixing them)"),
            ("ignore", "Ignore", "Delete", "Leave the files out of the library from now on"),
        ):
            action = QAction(label, self)
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setToolTip(tip)
            action.triggered.connect(getattr(self, f"_{key}"))
            self.tree.addAction(action)
            self.file_actions[key] = action
            button = QPushButton(label + ("…" if key == "ignore" else ""), self)
            button.setToolTip(f"{tip} ({action.shortcut().toString(NATIVE)})")
            button.clicked.connect(action.trigger)
            row.addWidget(button)
            self.buttons[key] = button
        row.addStretch(1)
        self.message = QLabel(self)
        self.message.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        row.addWidget(self.message)
        layout.addLayout(row)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.tree.itemActivated.connect(lambda *_: self._open())
        self.tree.customContextMenuRequested.connect(self._menu)
        self._selection_changed()

    def show_files(self, errors: list[tuple[Path, str]], empty: list[tuple[Path, str]]) -> None:
        """Show files in error (red), and files holding nothing to index (information)."""
        selected = set(self.selected())
        self.tree.clear()
        warning = glyph_icon("warning", QColor(ERROR_RED), 14)
        info = glyph_icon("info", QColor(INFO_BLUE), 14)
        for group, icon, rows in (("error", warning, errors), ("empty", info, empty)):
            for path, reason in rows:
                said = reason if group == "error" else f"{reason} (nothing to index)"
                item = QTreeWidgetItem([folder_label(path), said])
                item.setIcon(0, icon)
                item.setData(0, Qt.ItemDataRole.UserRole, path)
                item.setData(1, Qt.ItemDataRole.UserRole, group)
                item.setToolTip(0, str(path))
                item.setToolTip(1, said)
                self.tree.addTopLevelItem(item)
                item.setSelected(path in selected)
        self.setVisible(bool(errors or empty))
        self._selection_changed()

    def selected(self) -> list[Path]:
        paths = [item.data(0, Qt.ItemDataRole.UserRole) for item in self.tree.selectedItems()]
        return [p for p in paths if isinstance(p, Path)]

    def say(self, text: str) -> None:
        self.message.setText(text)

    def _selection_changed(self) -> None:
        chosen = bool(self.selected())
        for key in self.file_actions:
            self.file_actions[key].setEnabled(chosen)
            self.buttons[key].setEnabled(chosen)

    def _menu(self, position: QPoint) -> None:
        if not self.selected():
            return
        menu = QMenu(self)
        for key in ("open", "reveal", "copy"):
            menu.addAction(self.file_actions[key])
        menu.addSeparator()
        menu.addAction(self.file_actions["retry"])
        menu.addAction(self.file_actions["ignore"])
        menu.exec(self.tree.viewport().mapToGlobal(position))
        menu.deleteLater()

    def _open(self) -> None:
        for path in self.selected()[:OPEN_AT_ONCE]:
            if not path.exists():
                self.say(f"{path.name} is no longer there.")
            elif not open_file(path):
                self.say(f"No app could open {path.name}.")

    def _reveal(self) -> None:
        paths = self.selected()
        if paths:
            show_in_folder(paths[0])

    def _copy(self) -> None:
        paths = self.selected()
        if paths:
            copy_paths(paths)
            self.say(f"Copied {count_files(len(paths), 'path')}.")

    def _retry(self) -> None:
        if paths := self.selected():
            self.retry_requested.emit(paths)

    def _ignore(self) -> None:
        if paths := self.selected():
            self.ignore_requested.emit(paths)
