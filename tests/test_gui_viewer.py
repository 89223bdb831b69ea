"""The full-size viewer and the everyday actions on results, in the real window, offscreen:
Space and double-click, the arrows, Escape; the results' menu and its shortcuts; copying; the
trash (a real freedesktop trash in tmp_path); Properties; Open With from a desktop entry."""

from __future__ import annotations

import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import save_shape
from gui_support import SLOW, on_next_dialog, open_fake_window, trash_here
from PIL import Image
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from mediafind.gui.actions import OpenWithDialog
from mediafind.gui.window import MainWindow
from mediafind.search import Hit
from mediafind.session import Results

__all__ = ["open_fake_window"]  # fixture

FakeWindow = Callable[..., MainWindow]


def show_results(window: MainWindow, hits: list[Hit], text: str = "shapes") -> None:
    """Put hits in the window as if a search for text had found them (once the library's
    first look at its folders is over: its end asks the window's query again)."""
    index = window.session.index
    assert index is not None and index.wait_idle(SLOW / 1000)
    QApplication.processEvents()  # its news, posted before it went idle, reach the window
    deadline = time.monotonic() + SLOW / 1000
    while window._working:  # its news on their way to the window
        assert time.monotonic() < deadline, "the window did not hear the scan end"
        QApplication.processEvents()
        time.sleep(0.01)
    window.search_field.line.setText(text)
    window.runner.cancel()
    results = Results(window.query(), 200, tuple(hits))
    window._on_results(window.runner.generation, results)


def photo_hits(paths: list[Path]) -> list[Hit]:
    return [Hit(i, p, "photo", 1.0, 1.0, "image") for i, p in enumerate(paths)]


def some_photos(folder: Path, n: int) -> list[Path]:
    return [save_shape(folder / f"photo-{i}.png", "red", "circle", seed=i) for i in range(n)]


def refocus(qtbot: QtBot, window: QWidget, widget: QWidget) -> None:
    """Back in the window after a dialog (a window manager gives the focus back; offscreen,
    nothing does)."""
    window.activateWindow()
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus)


def press(button: QMessageBox.StandardButton) -> Callable[[QWidget], None]:
    def answer(dialog: QWidget) -> None:
        assert isinstance(dialog, QMessageBox)
        dialog.button(button).click()

    return answer


def test_space_opens_the_viewer_the_arrows_walk_the_photos_and_escape_comes_back(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    photos = some_photos(tmp_path / "photos", 3)
    Image.new("RGB", (3000, 2000), "teal").save(photos[1])  # larger than the window
    window = open_fake_window(tmp_path / "library")
    show_results(window, photo_hits(photos))
    viewer, grid = window.viewer, window.pane.photos
    qtbot.keyClick(window.search_field.line, Qt.Key.Key_Down)
    assert grid.hasFocus() and grid.currentIndex().row() == 0

    qtbot.keyClick(grid, Qt.Key.Key_Space)
    assert viewer.isVisible() and viewer.path == photos[0]
    assert viewer.geometry() == window.centralWidget().rect()  # over the results, in the window
    assert viewer.name.text() == "photo-0.png" and viewer.position.text() == "1 of 3"
    assert viewer.folder.text().endswith("photos")
    qtbot.waitUntil(lambda: viewer.canvas.showing, timeout=SLOW)
    picture = viewer.pictures.get(photos[0])
    assert picture is not None and picture.width() > window.thumbnails.pixels  # full size

    for expected in (1, 2, 2):  # the last photo is the end: Right stays there
        qtbot.keyClick(viewer, Qt.Key.Key_Right)
        assert viewer.row == expected
    assert viewer.position.text() == "3 of 3" and viewer.path == photos[2]
    for expected in (1, 0, 0):
        qtbot.keyClick(viewer, Qt.Key.Key_Left)
        assert viewer.row == expected
    qtbot.keyClick(viewer, Qt.Key.Key_PageDown)
    assert viewer.path == photos[1]
    qtbot.keyClick(viewer, Qt.Key.Key_1)  # every pixel of the picture, one to a screen pixel
    qtbot.waitUntil(lambda: viewer.canvas.zoom == 1.0 and viewer.canvas.has_full(), timeout=SLOW)
    qtbot.keyClick(viewer, Qt.Key.Key_0)  # fitted again
    assert viewer.canvas.zoom is None

    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert not viewer.isVisible()
    assert grid.currentIndex().row() == 1 and grid.hasFocus()
    assert window.pane.preview.hit is not None and window.pane.preview.hit.path == photos[1]


def test_a_double_click_on_a_photo_opens_it_full_size_and_space_closes_it(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    photos = some_photos(tmp_path / "photos", 3)
    window = open_fake_window(tmp_path / "library")
    show_results(window, photo_hits(photos))
    grid = window.pane.photos
    cell = grid.visualRect(window.pane.photos_model.index(2)).center()
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    qtbot.mouseDClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    assert window.viewer.isVisible() and window.viewer.path == photos[2]
    qtbot.keyClick(window.viewer, Qt.Key.Key_Space)
    assert not window.viewer.isVisible() and grid.currentIndex().row() == 2


def test_a_photo_that_cannot_be_decoded_says_so_in_the_viewer(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not a picture" * 10)
    window = open_fake_window(tmp_path / "library")
    show_results(window, photo_hits([broken]))
    qtbot.keyClick(window.search_field.line, Qt.Key.Key_Down)
    qtbot.keyClick(window.pane.photos, Qt.Key.Key_Space)
    canvas = window.viewer.canvas
    qtbot.waitUntil(lambda: bool(canvas.message), timeout=SLOW)
    assert "broken.jpg cannot be shown" in canvas.message and not canvas.showing


def test_the_menu_shows_each_action_with_its_shortcut_and_the_shortcuts_work_without_it(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    photos = some_photos(tmp_path / "photos", 4)
    window = open_fake_window(tmp_path / "library")
    show_results(window, photo_hits(photos))
    pane, grid = window.pane, window.pane.photos
    menu = pane.result_menu(grid, pane.photos_model.index(0))
    native = QKeySequence.SequenceFormat.NativeText
    shortcuts = {a.text(): a.shortcut().toString(native) for a in menu.actions() if a.text()}
    assert shortcuts == {
        "View Full Size": "Space",
        "Open": "Enter",
        "Open With…": "",
        "Show in Folder": "",
        "Copy": QKeySequence(QKeySequence.StandardKey.Copy).toString(native),
        "Copy Path": "Ctrl+Shift+C",
        "Find Similar": "",
        "Move to Trash": "Del",
        "Properties": "Alt+Return",
    }
    assert all(a.isShortcutVisibleInContextMenu() for a in menu.actions())
    menu.deleteLater()

    # Three chosen: the heading counts them, and Copy Path copies the three, one per line.
    counted: list[int] = []
    pane.selection_changed.connect(counted.append)
    grid.setFocus()
    grid.setCurrentIndex(pane.photos_model.index(0))
    for row in (1, 2):
        grid.selectionModel().select(
            pane.photos_model.index(row), QItemSelectionModel.SelectionFlag.Select
        )
    assert pane.photos_title.text() == "Photos · 4 · 3 selected" and counted[-1] == 3
    qtbot.keyClick(
        grid, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    copied = QGuiApplication.clipboard().mimeData()
    assert copied is not None and copied.text() == "\n".join(str(p) for p in photos[:3])
    assert [u.toLocalFile() for u in copied.urls()] == [str(p) for p in photos[:3]]
    assert window.status_widget.notice.text() == "Copied 3 paths."

    # Copy: the current photo's picture itself, with its file.
    qtbot.keyClick(grid, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().mimeData().hasImage(), timeout=SLOW)
    data = QGuiApplication.clipboard().mimeData()
    assert [u.toLocalFile() for u in data.urls()] == [str(photos[0])]
    with Image.open(photos[0]) as original:
        assert QGuiApplication.clipboard().image().size().toTuple() == original.size

    cell = grid.visualRect(pane.photos_model.index(3)).center()
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=cell)  # one: no count
    assert pane.photos_title.text() == "Photos · 4" and counted[-1] == 1


def test_delete_asks_then_moves_the_photo_to_the_trash_and_the_library_forgets_it(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trash = trash_here(tmp_path, monkeypatch)
    folder = tmp_path / "Pictures"
    photos = some_photos(folder, 3)
    window = open_fake_window(tmp_path / "library")
    window.add_folder(folder)
    model = window.pane.photos_model
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=SLOW)
    qtbot.waitUntil(lambda: window.session.status().state == "idle", timeout=SLOW)
    grid = window.pane.photos
    doomed = model.hit(1).path
    grid.setFocus()
    grid.setCurrentIndex(model.index(1))

    # What the library knows of it, in its Properties.
    qtbot.keyClick(grid, Qt.Key.Key_Return, Qt.KeyboardModifier.AltModifier)
    dialog = window.pane.properties
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.loaded, timeout=SLOW)
    assert dialog.rows()["Indexed"][:2].isdigit() and dialog.rows()["Name"] == doomed.name
    dialog.close()
    refocus(qtbot, window, grid)

    # Cancel keeps it.
    seen = on_next_dialog(press(QMessageBox.StandardButton.Cancel))
    qtbot.keyClick(grid, Qt.Key.Key_Delete)
    assert isinstance(seen[0], QMessageBox)
    assert seen[0].text() == f"Move “{doomed.name}” to the Trash?"
    assert doomed.is_file() and model.row_of(doomed) == 1

    # Yes moves it into the trash: gone from the results at once, and from the library.
    refocus(qtbot, window, grid)
    on_next_dialog(press(QMessageBox.StandardButton.Yes))
    qtbot.keyClick(grid, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: not doomed.exists(), timeout=SLOW)
    assert (trash / "files" / doomed.name).is_file()
    assert (trash / "info" / f"{doomed.name}.trashinfo").is_file()
    qtbot.waitUntil(lambda: model.row_of(doomed) is None, timeout=SLOW)
    assert model.rowCount() == 2 and grid.currentIndex().row() == 1
    assert window.pane.photos_title.text().startswith("Photos · 2")

    def forgotten() -> bool:
        store = window.session.open_reader()
        assert store is not None
        with store:
            return store.file_by_path(doomed) is None

    qtbot.waitUntil(forgotten, timeout=SLOW)
    window._rerun_now()  # the query asked again does not bring it back
    qtbot.wait(300)
    assert model.row_of(doomed) is None and model.rowCount() == 2
    assert {model.hit(r).path for r in range(2)} == {photos[0], photos[1], photos[2]} - {doomed}


def test_several_chosen_are_counted_in_the_question(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trash = trash_here(tmp_path, monkeypatch)
    photos = some_photos(tmp_path / "photos", 4)
    window = open_fake_window(tmp_path / "library")
    show_results(window, photo_hits(photos))
    grid = window.pane.photos
    grid.setFocus()
    grid.selectAll()
    seen = on_next_dialog(press(QMessageBox.StandardButton.Yes))
    qtbot.keyClick(grid, Qt.Key.Key_Delete)
    assert isinstance(seen[0], QMessageBox) and seen[0].text() == "Move 4 photos to the Trash?"
    qtbot.waitUntil(lambda: window.pane.photos_model.rowCount() == 0, timeout=SLOW)
    assert sorted(p.name for p in (trash / "files").iterdir()) == [p.name for p in photos]


def test_properties_show_size_dimensions_and_camera(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    photo = tmp_path / "camera.jpg"
    exif = Image.Exif()
    exif[271], exif[272] = "Canon", "Canon EOS 5D"
    Image.new("RGB", (64, 48), "orange").save(photo, exif=exif)
    window = open_fake_window(tmp_path / "library")
    show_results(window, photo_hits([photo]))
    qtbot.keyClick(window.search_field.line, Qt.Key.Key_Down)
    qtbot.keyClick(window.pane.photos, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    dialog = window.pane.properties
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.loaded, timeout=SLOW)
    rows = dialog.rows()
    size = photo.stat().st_size
    assert rows["Size"].endswith(f"({size:,} bytes)")
    assert rows["Dimensions"] == "64 × 48 pixels"
    assert rows["Camera"] == "Canon EOS 5D"
    assert rows["Type"] == "image/jpeg" and rows["Kind"].startswith("Photo")
    assert rows["Library"] == "Not in the library."


def test_open_with_lists_a_desktop_application_for_the_type_and_starts_it(
    qtbot: QtBot,
    open_fake_window: FakeWindow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("XDG_DATA_DIRS", str(tmp_path / "no-system-apps"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "no-system-config"))
    marker = tmp_path / "opened.txt"
    script = tmp_path / "bin" / "marker viewer"
    script.parent.mkdir()
    script.write_text(f"#!/bin/sh\nprintf '%s' \"$1\" > '{marker}'\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    apps = data / "applications"
    apps.mkdir(parents=True)
    (apps / "marker.desktop").write_text(
        "[Desktop Entry]\nType=Application\nName=Marker Viewer\n"
        f'Exec="{script}" %f\nMimeType=image/png;image/jpeg;\n',
        encoding="utf-8",
    )
    (apps / "notes.desktop").write_text(
        "[Desktop Entry]\nType=Application\nName=Text Only\nExec=true %f\nMimeType=text/plain;\n",
        encoding="utf-8",
    )
    photo = some_photos(tmp_path / "photos", 1)[0]
    window = open_fake_window(tmp_path / "library")
    show_results(window, photo_hits([photo]))
    window.pane.photos.setFocus()
    window.pane.photos.setCurrentIndex(window.pane.photos_model.index(0))
    listed: list[list[str]] = []

    def choose(dialog: QWidget) -> None:
        assert isinstance(dialog, OpenWithDialog)
        listed.append([dialog.list.item(i).text() for i in range(dialog.list.count())])
        dialog.list.setCurrentRow(0)
        dialog.accept()

    on_next_dialog(choose)
    window.pane.open_with_action.trigger()
    assert listed == [["Marker Viewer"]]
    qtbot.waitUntil(lambda: marker.is_file() and marker.read_text() == str(photo), timeout=SLOW)


def test_open_with_says_when_no_application_opens_the_kind(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_DATA_DIRS", str(tmp_path / "none"))
    photo = some_photos(tmp_path / "photos", 1)[0]
    window = open_fake_window(tmp_path / "library")
    show_results(window, photo_hits([photo]))
    window.pane.photos.setFocus()
    window.pane.photos.setCurrentIndex(window.pane.photos_model.index(0))
    said: list[str] = []

    def look(dialog: QWidget) -> None:
        assert isinstance(dialog, OpenWithDialog)
        said.append(dialog.intro.text())
        assert dialog.list.count() == 0 and not dialog.open_button.isEnabled()
        dialog.reject()

    on_next_dialog(look)
    window.pane.open_with_action.trigger()
    assert said and said[0].startswith("No application on this computer says it opens a ")
    assert window.status_widget.notice.text() == ""
