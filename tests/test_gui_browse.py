"""Browsing the library in the window, offscreen: months under pinned headings, filters alone,
the sort menu against sort: in the words, the thumbnail size, a grid that fills its width, and
counts of everything found rather than of the page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from conftest import FakeEncoder
from dated import index, save_dated_photo
from gui_support import SLOW, final_results, open_fake_window
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from mediafind.gui.grid import THUMB, THUMB_STEP, PhotoGrid
from mediafind.gui.results import HitsModel
from mediafind.gui.thumbnails import ThumbnailCache
from mediafind.gui.window import MainWindow
from mediafind.search import Hit

__all__ = ["open_fake_window"]  # fixture

FakeWindow = Callable[..., MainWindow]

# (prefix, photos, EXIF date or None, modification time): 300 photos, more than the first page.
MONTHS = [
    ("nov", 121, datetime(2026, 11, 14, 12), datetime(2026, 12, 1)),
    ("mar", 100, None, datetime(2025, 3, 9, 15)),  # no EXIF date: the file's time counts
    ("jul", 79, datetime(2024, 7, 2, 8), datetime(2026, 12, 2)),  # copied later, taken then
]
HEADINGS = ["November 2026", "March 2025", "July 2024"]


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("browse")
    root = base / "Pictures"
    for prefix, count, taken, modified in MONTHS:
        for i in range(count):
            # Within a month, later numbers are a minute newer: the order is known.
            taken_i = taken.replace(minute=i % 60, hour=taken.hour + i // 60) if taken else None
            modified_i = modified.replace(minute=i % 60, hour=modified.hour + i // 60)
            colour = (i * 2 % 256, 100, 200)
            save_dated_photo(root / prefix / f"{prefix}-{i:03}.jpg", taken_i, modified_i, colour)
    index(root, base / "library" / "library.sqlite3", FakeEncoder())
    return base / "library"


def browse(qtbot: QtBot, window: MainWindow, rows: int) -> PhotoGrid:
    qtbot.waitUntil(
        lambda: final_results(window) and window.pane.photos_model.rowCount() == rows,
        timeout=SLOW,
    )
    assert window.pages.currentWidget() is window.pane
    return window.pane.photos


def hit_month(window: MainWindow, row: int) -> str:
    date = window.pane.photos_model.hit(row).date
    assert date is not None
    return datetime.fromtimestamp(date).strftime("%B %Y")


def names(window: MainWindow) -> list[str]:
    model = window.pane.photos_model
    return [model.hit(row).path.name for row in range(model.rowCount())]


def type_query(qtbot: QtBot, window: MainWindow, text: str) -> None:
    window.search_field.line.clear()
    qtbot.keyClicks(window.search_field.line, text)
    qtbot.keyClick(window.search_field.line, Qt.Key.Key_Return)


def test_browsing_shows_months_newest_first_and_pins_the_month_at_the_top(
    qtbot: QtBot, open_fake_window: FakeWindow, library: Path
) -> None:
    window = open_fake_window(library)
    window.resize(1000, 700)
    grid = browse(qtbot, window, 200)  # the first page: November, then most of March
    assert [label for _, label in window.pane.photos_model.groups()] == HEADINGS[:2]
    assert names(window)[:2] == ["nov-120.jpg", "nov-119.jpg"]
    assert names(window)[121] == "mar-099.jpg"
    assert grid.pinned_heading() == "November 2026"

    # Scroll into March: its heading is pinned, and it is the month of the photos at the top.
    march = grid.visualRect(window.pane.photos_model.index(121))
    grid.verticalScrollBar().setValue(grid.verticalOffset() + march.top() + 3 * march.height())
    assert grid.pinned_heading() == "March 2025"
    below_heading = grid.indexAt(QPoint(grid.cell_width() // 2, 60))
    assert below_heading.isValid() and hit_month(window, below_heading.row()) == "March 2025"
    grid.grab()  # paints the pinned heading over the photos without complaint

    # Scrolled to the end, the rest of the library comes, with July.
    bar = grid.verticalScrollBar()
    qtbot.waitUntil(
        lambda: (bar.setValue(bar.maximum()), window.pane.photos_model.rowCount() == 300)[1],
        timeout=SLOW,
    )
    assert [label for _, label in window.pane.photos_model.groups()] == HEADINGS
    assert window.pane.photos_title.text() == "Photos · 300"


def test_keys_move_over_photos_from_month_to_month_never_onto_headings(
    qtbot: QtBot, open_fake_window: FakeWindow, library: Path
) -> None:
    window = open_fake_window(library)
    window.resize(1000, 700)
    grid = browse(qtbot, window, 200)
    columns = grid.columns()
    assert 121 % columns != 0  # November's last line is short: Down must still find March
    grid.setFocus()
    grid.setCurrentIndex(window.pane.photos_model.index(120))  # November's last photo
    qtbot.keyClick(grid, Qt.Key.Key_Right)
    assert grid.currentIndex().row() == 121 and hit_month(window, 121) == "March 2025"
    qtbot.keyClick(grid, Qt.Key.Key_Up)  # back over March's heading, into November's last line
    up = grid.currentIndex().row()
    assert hit_month(window, up) == "November 2026" and up > 120 - columns
    qtbot.keyClick(grid, Qt.Key.Key_Down)
    assert grid.currentIndex().row() == 121
    qtbot.keyClick(grid, Qt.Key.Key_Down)
    assert grid.currentIndex().row() == 121 + columns
    qtbot.keyClick(grid, Qt.Key.Key_PageDown)
    assert grid.currentIndex().row() > 121 + columns
    qtbot.keyClick(grid, Qt.Key.Key_End)
    assert grid.currentIndex().row() == window.pane.photos_model.rowCount() - 1
    qtbot.keyClick(grid, Qt.Key.Key_Home)
    assert grid.currentIndex().row() == 0
    # Shift+End selects every photo from here on, and nothing else.
    qtbot.keyClick(grid, Qt.Key.Key_End, Qt.KeyboardModifier.ShiftModifier)
    assert len(grid.selected_hits()) == window.pane.photos_model.rowCount()


def test_filters_alone_narrow_the_browse(
    qtbot: QtBot, open_fake_window: FakeWindow, library: Path
) -> None:
    window = open_fake_window(library)
    browse(qtbot, window, 200)
    type_query(qtbot, window, "kind:photo after:2025 before:2026")
    browse(qtbot, window, 100)
    assert all(name.startswith("mar-") for name in names(window))
    assert [label for _, label in window.pane.photos_model.groups()] == ["March 2025"]
    assert window.pane.photos_title.text() == "Photos · 100"
    type_query(qtbot, window, f"in:{library.parent / 'Pictures' / 'jul'}")
    browse(qtbot, window, 79)
    assert window.pane.photos_title.text() == "Photos · 79"


def test_the_sort_menu_orders_the_results_and_sort_in_the_words_wins(
    qtbot: QtBot, open_fake_window: FakeWindow, library: Path
) -> None:
    window = open_fake_window(library)
    browse(qtbot, window, 200)
    menu = window.toolbar.sort
    # Browsing: nothing to rank by relevance; newest first is what applies.
    assert window.toolbar.order() == "date"
    relevance = menu.model().item(menu.findData("relevance"))  # type: ignore[attr-defined]
    assert not relevance.isEnabled()

    menu.activated.emit(menu.findData("name"))
    qtbot.waitUntil(lambda: final_results(window) and names(window)[0] == "jul-000.jpg")
    assert names(window) == sorted(names(window))
    assert window.pane.photos_model.groups() == []  # no months in name order
    assert window.pane.photos_title.text() == "Photos · 300"

    type_query(qtbot, window, "sort:date")  # the words say otherwise: they win
    qtbot.waitUntil(lambda: final_results(window) and names(window)[0] == "nov-120.jpg")
    assert window.toolbar.order() == "date" and not menu.isEnabled()
    type_query(qtbot, window, "")
    qtbot.waitUntil(lambda: final_results(window) and names(window)[0] == "jul-000.jpg")
    assert window.toolbar.order() == "name" and menu.isEnabled()

    menu.activated.emit(menu.findData("date"))
    type_query(qtbot, window, "sort:name kind:photo")
    qtbot.waitUntil(lambda: final_results(window) and names(window)[0] == "jul-000.jpg")
    assert window.toolbar.order() == "name" and not menu.isEnabled()


def test_thumbnails_grow_with_ctrl_wheel_and_keys_and_the_size_is_remembered(
    qtbot: QtBot, open_fake_window: FakeWindow, library: Path
) -> None:
    window = open_fake_window(library)
    window.resize(1000, 700)
    grid = browse(qtbot, window, 200)
    assert grid.thumb_size == THUMB
    before = grid.columns()
    centre = QPointF(grid.viewport().rect().center())
    wheel = QWheelEvent(
        centre,
        grid.viewport().mapToGlobal(centre),
        QPoint(0, 0),
        QPoint(0, 240),  # two notches away from the user
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(grid.viewport(), wheel)
    assert grid.thumb_size == THUMB + 2 * THUMB_STEP
    assert window.toolbar.slider.value() == grid.thumb_size
    assert grid.columns() < before
    assert window.thumbnails.pixels >= grid.thumb_size  # never blurrier than the cell
    qtbot.keyClick(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert grid.thumb_size == THUMB + THUMB_STEP
    qtbot.keyClick(window, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert grid.thumb_size == THUMB + 3 * THUMB_STEP
    window.toolbar.slider.setValue(300)
    assert grid.thumb_size == 300
    window.close()

    again = open_fake_window(library)
    assert again.pane.photos.thumb_size == 300
    assert again.toolbar.slider.value() == 300
    qtbot.keyClick(again, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert again.pane.photos.thumb_size == THUMB


@pytest.mark.parametrize("width", [700, 1000, 1333])
def test_the_grid_fills_its_width(
    qtbot: QtBot, open_fake_window: FakeWindow, library: Path, width: int
) -> None:
    window = open_fake_window(library)
    window.resize(width + 400, 700)
    grid = browse(qtbot, window, 200)
    window.pane.setSizes([width, 300])
    qtbot.waitUntil(lambda: grid.columns() > 1)
    room = grid.viewport().width()
    assert room - 8 - grid.columns() < grid.cell_width() * grid.columns() <= room


def test_a_few_photos_sit_left_at_their_size_and_reflow(qtbot: QtBot, tmp_path: Path) -> None:
    grid = PhotoGrid(ThumbnailCache(None, THUMB))
    model = HitsModel()
    grid.setModel(model)
    qtbot.addWidget(grid)
    model.set_hits([Hit(i, tmp_path / f"{i}.jpg", "photo", 1.0, 1.0, "image") for i in range(3)])
    grid.resize(900, 400)
    grid.show()
    qtbot.waitExposed(grid)
    wide = grid.columns()
    assert wide > 3
    cells = [grid.visualRect(model.index(row)) for row in range(3)]
    assert cells[0].left() < 10 and cells[1].left() == cells[0].right() + 1
    assert all(c.top() == cells[0].top() for c in cells)  # one line, from the left
    assert grid.cell_width() * wide <= grid.viewport().width() < grid.cell_width() * (wide + 1)
    grid.resize(2 * THUMB, 400)
    assert grid.columns() < 3  # reflowed: the third photo goes under the first
    assert grid.visualRect(model.index(2)).top() > cells[0].top()
    assert grid.pinned_heading() == ""  # no dates, no months


def test_tabbing_into_the_grid_shows_a_focus_ring(
    qtbot: QtBot, open_fake_window: FakeWindow, library: Path
) -> None:
    window = open_fake_window(library)
    window.resize(1000, 700)
    grid = browse(qtbot, window, 200)
    window.activateWindow()
    window.search_field.line.setFocus()
    # Tab through the field's neighbours until the grid has the keyboard.
    for _ in range(12):
        if grid.hasFocus():
            break
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert grid.hasFocus()
    current = grid.currentIndex()
    assert current.isValid() and not grid.selectionModel().isSelected(current)
    cell = grid.visualRect(current)
    picture = grid.viewport().grab().toImage()
    ratio = picture.devicePixelRatio()
    highlight = grid.palette().color(grid.palette().ColorRole.Highlight)

    def ring_at(x: int, y: int) -> bool:
        colour = picture.pixelColor(round(x * ratio), round(y * ratio))
        return abs(colour.hue() - highlight.hue()) < 12 and colour.saturation() > 60

    # The ring runs along the cell's left edge, the keyboard's place, though nothing is chosen.
    middle = cell.center().y()
    assert any(ring_at(cell.left() + dx, middle) for dx in range(1, 4))
    other = grid.visualRect(window.pane.photos_model.index(current.row() + 1))
    assert not any(ring_at(other.left() + dx, other.center().y()) for dx in range(1, 4))
