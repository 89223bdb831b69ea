"""The files that could not be read, in the window: each row's actions (open, show in folder,
copy path, try again, ignore), files with nothing to index listed as information, and the
status bar's count following them."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import save_shape
from gui_support import SLOW, answer_next_dialog, open_fake_window
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from pytestqt.qtbot import QtBot

from mediafind import config
from mediafind.gui.folders import FoldersDialog
from mediafind.gui.window import MainWindow

__all__ = ["open_fake_window"]  # a fixture
FakeWindow = Callable[..., MainWindow]


class _Opener(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toLocalFile())


def _rows(dialog: FoldersDialog) -> dict[str, str]:
    tree = dialog.errors.tree
    rows = {}
    for i in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(i)
        assert item is not None
        rows[Path(item.toolTip(0)).name] = item.text(1)
    return rows


def _select(dialog: FoldersDialog, name: str) -> None:
    tree = dialog.errors.tree
    tree.clearSelection()
    for i in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(i)
        assert item is not None
        if Path(item.toolTip(0)).name == name:
            item.setSelected(True)
            tree.setCurrentItem(item)
            return
    raise AssertionError(f"{name} is not listed")


@pytest.fixture
def camera(tmp_path: Path) -> Path:
    """A folder as a phone's camera leaves it: photos, one cut short by a full card, one
    zero-byte file from a failed copy, and an empty note."""
    folder = tmp_path / "Camera"
    save_shape(folder / "IMG_0001.jpg", "red", "circle", seed=1)
    save_shape(folder / "IMG_0002.jpg", "blue", "square", seed=2)
    (folder / "IMG_0003.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(64))
    (folder / "IMG_0004.jpg").write_bytes(b"")
    (folder / "todo.md").write_text("", encoding="utf-8")
    return folder


WatchingWindow = Callable[[], tuple[MainWindow, FoldersDialog]]


@pytest.fixture
def watching(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path, camera: Path
) -> WatchingWindow:
    """watching() -> a window watching the camera folder, and its list of unreadable files."""

    def make() -> tuple[MainWindow, FoldersDialog]:
        window = open_fake_window(tmp_path / "library", watch=True)
        window.add_folder(camera)
        return window, _open_errors(qtbot, window)

    return make


def _open_errors(qtbot: QtBot, window: MainWindow) -> FoldersDialog:
    qtbot.waitUntil(lambda: window.status_widget.errors_button.isVisible(), timeout=SLOW)
    qtbot.mouseClick(window.status_widget.errors_button, Qt.MouseButton.LeftButton)
    dialog = window.folders_dialog
    assert isinstance(dialog, FoldersDialog)
    qtbot.waitUntil(lambda: len(_rows(dialog)) == 3, timeout=SLOW)
    return dialog


def test_empty_files_are_information_and_broken_ones_errors(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path, camera: Path
) -> None:
    window = open_fake_window(tmp_path / "library", watch=True)
    window.add_folder(camera)
    qtbot.waitUntil(
        lambda: window.status_widget.counts.text() == "Library: 2 photos, 0 notes", timeout=SLOW
    )
    # Only the damaged photo counts as a file that could not be read.
    qtbot.waitUntil(
        lambda: window.status_widget.errors_button.text() == "1 file could not be read",
        timeout=SLOW,
    )
    dialog = _open_errors(qtbot, window)
    rows = _rows(dialog)
    assert rows["IMG_0003.jpg"] == "not a readable image (corrupt or unsupported format)"
    assert rows["IMG_0004.jpg"] == "empty file (nothing to index)"
    assert rows["todo.md"] == "empty file (nothing to index)"
    assert dialog.errors_title.text() == "Files that could not be read (1)"
    folder_row = dialog.folders.topLevelItem(0)
    assert folder_row is not None and folder_row.text(3) == "1"

    # Every action is in the row's menu, with its key.
    _select(dialog, "IMG_0003.jpg")
    menu_texts = []
    for action in dialog.errors.file_actions.values():
        assert action.isEnabled()
        menu_texts.append((action.text(), action.shortcut().toString()))
    assert menu_texts == [
        ("Open", "Return"),
        ("Show in Folder", "Ctrl+Shift+R"),
        ("Copy Path", "Ctrl+Shift+C"),
        ("Try Again", "Ctrl+R"),
        ("Ignore", "Del"),
    ]
    dialog.close()


def test_copy_path_and_open_act_on_the_selected_rows(
    qtbot: QtBot, watching: WatchingWindow, camera: Path
) -> None:
    _, dialog = watching()
    _select(dialog, "IMG_0003.jpg")
    dialog.errors.tree.setFocus()
    qtbot.keyClick(
        dialog.errors.tree,
        Qt.Key.Key_C,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert QGuiApplication.clipboard().text() == str(camera / "IMG_0003.jpg")
    assert dialog.errors.message.text() == "Copied 1 path."

    handler = _Opener()  # what the desktop is asked to open
    QDesktopServices.setUrlHandler("file", handler, "open")
    try:
        qtbot.mouseClick(dialog.errors.buttons["open"], Qt.MouseButton.LeftButton)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert handler.opened == [str(camera / "IMG_0003.jpg")]
    dialog.close()


def test_try_again_reads_a_fixed_file(qtbot: QtBot, watching: WatchingWindow, camera: Path) -> None:
    window, dialog = watching()
    # The user copies the photo again from the card, keeping its time: no change is seen.
    broken = camera / "IMG_0003.jpg"
    stat = broken.stat()
    save_shape(broken, "green", "triangle", seed=3)
    os.utime(broken, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    _select(dialog, "IMG_0003.jpg")
    qtbot.mouseClick(dialog.errors.buttons["retry"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "IMG_0003.jpg" not in _rows(dialog), timeout=SLOW)
    assert dialog.errors.message.text() == "Trying 1 file again…"
    qtbot.waitUntil(
        lambda: window.status_widget.counts.text() == "Library: 3 photos, 0 notes", timeout=SLOW
    )
    qtbot.waitUntil(lambda: not window.status_widget.errors_button.isVisible(), timeout=SLOW)
    dialog.close()


def test_ignore_leaves_a_file_out_from_now_on(
    qtbot: QtBot, watching: WatchingWindow, camera: Path
) -> None:
    window, dialog = watching()
    _select(dialog, "IMG_0003.jpg")

    # Cancel keeps it.
    said = answer_next_dialog("Cancel")
    qtbot.mouseClick(dialog.errors.buttons["ignore"], Qt.MouseButton.LeftButton)
    assert said and "IMG_0003.jpg" in said[0]
    assert config.load_settings().excludes == ()

    answer_next_dialog("Ignore")
    qtbot.mouseClick(dialog.errors.buttons["ignore"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: config.load_settings().excludes == ("/IMG_0003.jpg",), timeout=SLOW)
    qtbot.waitUntil(lambda: "IMG_0003.jpg" not in _rows(dialog), timeout=SLOW)
    qtbot.waitUntil(lambda: not window.status_widget.errors_button.isVisible(), timeout=SLOW)
    assert (camera / "IMG_0003.jpg").is_file()  # left where it is
    dialog.close()
