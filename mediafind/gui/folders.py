"""The folders dialog: the watched folders with their state (live, polling, offline), how many
files each holds, and the files that could not be read, each with its reason."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mediafind.gui.jobs import in_background
from mediafind.gui.results import folder_label
from mediafind.report import Overview
from mediafind.session import Session

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
        self.remove_button = QPushButton("Remove", self)
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
        self.errors = QTreeWidget(self)
        self.errors.setHeaderLabels(["File", "Reason"])
        self.errors.setRootIsDecorated(False)
        self.errors.setUniformRowHeights(True)
        self.errors.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.errors.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.errors.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.errors, 3)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
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
        errors = self._overview.errors if self._overview is not None else []
        if selected is not None:
            errors = [(p, r) for p, r in errors if p.is_relative_to(selected)]
        where = f" in {folder_label(selected)}" if selected is not None else ""
        if errors:
            self.errors_title.setText(f"Files that could not be read{where} ({len(errors):,})")
        else:
            self.errors_title.setText(f"Every file{where} could be read.")
        self.errors.clear()
        self.errors.setVisible(bool(errors))
        for path, reason in errors:
            item = QTreeWidgetItem([folder_label(path), reason])
            item.setToolTip(0, str(path))
            item.setToolTip(1, reason)
            self.errors.addTopLevelItem(item)

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
        answer = QMessageBox.question(
            self,
            "Remove Folder",
            f"Stop watching {folder_label(folder)}?\n\n"
            f"Its {files:,} files leave the library (search no longer finds them). The files "
            "themselves stay where they are.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.remove_requested.emit(folder)
