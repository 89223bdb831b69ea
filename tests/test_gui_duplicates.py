"""Edit → Find Duplicates: the real window on a real library of photos with copies (indexed
with the fake model), the dialog driven with the mouse, and a real freedesktop trash in
tmp_path that takes the extra copies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from gui_support import SLOW, open_fake_window, trash_here
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QStyle, QStyleOptionButton
from pytestqt.qtbot import QtBot
from scenes import duplicate_photos

from mediafind.dupes import EXACT, NEAR
from mediafind.gui.duplicates import DuplicatesDialog, GroupBox
from mediafind.gui.window import MainWindow

__all__ = ["open_fake_window"]  # fixture
FakeWindow = Callable[..., MainWindow]


def click(qtbot: QtBot, box: QCheckBox) -> None:
    """Click the box's tick, at its left end (the box is wider than its tick and label, and
    deaf beyond them)."""
    option = QStyleOptionButton()
    box.initStyleOption(option)
    tick = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, box)
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=tick.center())


def indexed(window: MainWindow, photos: int) -> bool:
    """Whether the library holds this many indexed photos and nothing waits."""
    store = window.session.open_reader()
    if store is None:
        return False
    with store:
        counts = store.counts()
    return counts["photo"] == photos and counts["pending"] == 0


def open_dialog(qtbot: QtBot, window: MainWindow) -> DuplicatesDialog:
    """Edit → Find Duplicates…, and the groups once found."""
    [action] = [a for a in window.menuBar().actions() if a.text() == "&Edit"]
    menu = action.menu()
    [find] = [a for a in menu.actions() if a.text() == "Find &Duplicates…"]  # type: ignore[union-attr]
    find.trigger()
    dialog = window.findChild(DuplicatesDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.loaded, timeout=SLOW)
    return dialog


def test_the_extra_copies_of_the_chosen_groups_go_to_the_trash_and_the_library_forgets_them(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trash = trash_here(tmp_path, monkeypatch)
    folder = duplicate_photos(tmp_path / "Pictures")
    window = open_fake_window(tmp_path / "library")
    window.add_folder(folder)
    qtbot.waitUntil(lambda: indexed(window, 5), timeout=SLOW)
    dialog = open_dialog(qtbot, window)

    # Two groups, side by side, the keeper of each kept and the copies not.
    boxes = {box.group.kind: box for box in dialog.findChildren(GroupBox)}
    assert set(boxes) == {EXACT, NEAR}
    near = boxes[NEAR]
    assert [c.photo.path.name for c in near.cards] == ["hills.jpg", "hills small.jpg"]
    assert [c.keep.isChecked() for c in near.cards] == [True, False]
    assert all(not c.thumbnail.pixmap().isNull() for c in near.cards)
    assert near.cards[0].facts.text().startswith("640×480 · ")
    assert near.cards[1].facts.text().startswith("320×240 · ")
    assert near.cards[1].facts.text().endswith("\nin sent")
    assert "the largest picture (640×480)" in near.title()
    assert dialog.status.text().startswith("2 groups of duplicates: 2 photos besides the ones")

    # Every photo of a group marked for the trash: that group moves nothing.
    exact = boxes[EXACT]
    click(qtbot, exact.cards[0].keep)
    assert exact.to_trash() == []
    assert dialog.trash_button.text().startswith("Trash All but the Keeper (1 photo, ")
    click(qtbot, exact.cards[0].keep)
    assert dialog.trash_button.text().startswith("Trash All but the Keeper (2 photos, ")

    # The exact copies left out; the near copy goes to the trash.
    exact.setChecked(False)
    small = folder / "sent" / "hills small.jpg"
    size = small.stat().st_size
    qtbot.mouseClick(dialog.trash_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Moved"), timeout=SLOW)
    assert dialog.status.text().startswith("Moved 1 photo to the Trash · ")
    assert dialog.status.text().endswith(" freed; restore it from the Trash.")
    assert not small.exists() and (trash / "files" / small.name).stat().st_size == size
    assert (folder / "backup" / "beach.jpg").is_file() and (folder / "hills.jpg").is_file()
    assert [b.group.kind for b in dialog.findChildren(GroupBox) if b.isVisible()] == [EXACT]

    def forgotten() -> bool:
        store = window.session.open_reader()
        assert store is not None
        with store:
            return store.file_by_path(small) is None

    qtbot.waitUntil(forgotten, timeout=SLOW)
    dialog.close()


def test_a_library_without_duplicates_says_so(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    folder = duplicate_photos(tmp_path / "Pictures")
    for copy in (folder / "backup" / "beach.jpg", folder / "sent" / "hills small.jpg"):
        copy.unlink()
    window = open_fake_window(tmp_path / "library")
    window.add_folder(folder)
    qtbot.waitUntil(lambda: indexed(window, 3), timeout=SLOW)
    dialog = open_dialog(qtbot, window)
    assert dialog.status.text() == "No duplicate photos found."
    assert not dialog.trash_button.isEnabled()
    dialog.close()
