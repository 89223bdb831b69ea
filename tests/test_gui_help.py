"""Help in the window, offscreen: the search tips (button, F1, menu), suggestions while a filter
is typed, half-typed filters, the kind switch following kind:, the notice for an in: folder
that finds nothing, and the list of every key. The model is the fake: this is about the field."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from conftest import FakeEncoder, small_folder
from gui_support import SLOW, final_results, open_fake_window, shown_suggestions
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from mediafind import roots_rows
from mediafind.gui.help import SearchTips, ShortcutsDialog
from mediafind.gui.searchfield import suggestions, without_key
from mediafind.gui.window import MainWindow
from mediafind.indexer import Indexer
from mediafind.keeper import sync
from mediafind.query import FILTER_KEYS, OPERATORS, SORTS, QueryError, folder_problem, parse
from mediafind.store import Store

__all__ = ["open_fake_window"]  # fixture

FakeWindow = Callable[..., MainWindow]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder holding ~/Pictures and ~/My Notes (a name with a space)."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    small_folder(home / "Pictures")
    notes = home / "My Notes"
    notes.mkdir(parents=True)
    (notes / "pond.md").write_text("The red circle by the pond.\n", encoding="utf-8")
    return home


def library_window(open_fake_window: FakeWindow, qtbot: QtBot, home: Path) -> MainWindow:
    """A window on a library of ~/Pictures and ~/My Notes, listing it."""
    library = home.parent / "library"
    with Store.open(library / "library.sqlite3", writer=True) as store:
        for folder in (home / "Pictures", home / "My Notes"):
            roots_rows.add_root(store, folder)
        sync(Indexer(store, FakeEncoder, FakeEncoder.identity))
    window = open_fake_window(library)
    qtbot.waitUntil(lambda: len(window.watched) == 2, timeout=SLOW)
    qtbot.waitUntil(lambda: final_results(window) and window.pages.currentWidget() is window.pane)
    return window


def settled(window: MainWindow) -> bool:
    """The results answer what the field holds now."""
    return final_results(window)


def visible_tips(window: MainWindow) -> SearchTips | None:
    tips = window.search_field.tips
    return tips if tips is not None and tips.isVisible() else None


# -- the tips ------------------------------------------------------------------------------


def test_the_tips_cover_every_filter_and_order_of_the_parser_and_each_example_parses() -> None:
    assert set(FILTER_KEYS) <= {o.key for o in OPERATORS}
    assert {f"sort:{s}" for s in SORTS} <= {o.example for o in OPERATORS}
    for operator in OPERATORS:
        try:
            query = parse(operator.example)  # not lenient: it would say what is wrong
        except QueryError as e:
            # The example's picture is not on this computer: said as such, so it is read as one.
            assert str(e).startswith("no picture at ") and "picture" in operator.syntax, operator
            continue
        if operator.key:
            assert query.empty, operator  # a filter, not words
        else:
            assert not query.empty, operator


def test_the_tips_open_from_the_button_f1_and_the_menu_and_close_with_escape(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    window = open_fake_window(tmp_path / "library")
    field = window.search_field
    qtbot.mouseClick(field.tips_button, Qt.MouseButton.LeftButton)
    tips = visible_tips(window)
    assert tips is not None and tips.windowType() == Qt.WindowType.Popup
    assert [e.text() for e in tips.examples] == [o.example for o in OPERATORS]
    assert [m.text() for m in tips.meanings] == [o.meaning for o in OPERATORS]
    assert tips.geometry().top() >= field.mapToGlobal(field.rect().bottomLeft()).y()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    assert visible_tips(window) is None

    window.activateWindow()
    qtbot.waitUntil(lambda: field.line.hasFocus())
    qtbot.keyClick(field.line, Qt.Key.Key_F1)
    assert visible_tips(window) is not None
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    assert visible_tips(window) is None

    menu = next(a for a in window.menuBar().actions() if a.text() == "&Help").menu()
    assert isinstance(menu, type(window.menuBar().actions()[0].menu()))
    next(a for a in menu.actions() if a.text() == "&Search Tips").trigger()
    assert visible_tips(window) is not None
    tips.close()


def test_examples_are_reached_by_keys_or_clicked_and_go_into_the_field(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    window = open_fake_window(tmp_path / "library")
    field = window.search_field
    qtbot.keyClicks(field.line, "red")
    tips = field.show_tips()
    assert QApplication.focusWidget() is tips.examples[0]
    qtbot.keyClick(tips.examples[0], Qt.Key.Key_Up)  # wraps round to the last
    assert QApplication.focusWidget() is tips.examples[-1]
    note = next(i for i, o in enumerate(OPERATORS) if o.example == "kind:note")
    for _ in range(note + 1):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Down)
    assert QApplication.focusWidget() is tips.examples[note]
    qtbot.keyClick(tips.examples[note], Qt.Key.Key_Return)
    assert not tips.isVisible()
    assert field.text() == "red kind:note"
    qtbot.waitUntil(lambda: settled(window) and window.results.query.kind == "note")

    # A click on kind:photo replaces kind:note (one kind at a time); an in: example adds up.
    tips = field.show_tips()
    photo = next(e for e in tips.examples if e.text() == "kind:photo")
    qtbot.mouseClick(photo, Qt.MouseButton.LeftButton)
    assert field.text() == "red kind:photo" and not tips.isVisible()
    qtbot.waitUntil(lambda: settled(window) and window.results.query.kind == "photo")


# -- suggestions ---------------------------------------------------------------------------


def test_suggestions_follow_the_filter_being_typed_and_keep_the_rest_of_the_words(
    qtbot: QtBot, open_fake_window: FakeWindow, home: Path
) -> None:
    window = library_window(open_fake_window, qtbot, home)
    field = window.search_field
    submitted: list[None] = []
    field.submitted.connect(lambda: submitted.append(None))
    qtbot.keyClicks(field.line, "kind:")
    assert shown_suggestions(window) == ["kind:photo", "kind:note"]
    qtbot.keyClicks(field.line, "n")
    assert shown_suggestions(window) == ["kind:note"]
    popup = field.suggestions.popup()
    assert popup is not None
    # While the list shows, keys go to it (as a real popup grabs them), and it hands the
    # ones it does not use to the field.
    qtbot.keyClick(popup, Qt.Key.Key_Escape)  # closes the suggestions, keeps the words
    assert shown_suggestions(window) == [] and field.text() == "kind:n"

    field.line.setText("red  circle")
    field.line.setCursorPosition(4)
    qtbot.keyClicks(field.line, "in:")
    assert shown_suggestions(window) == ['in:"~/My Notes"', "in:~/Pictures"]
    qtbot.keyClicks(field.line, '"~/m')  # matched without case, inside the quote
    assert shown_suggestions(window) == ['in:"~/My Notes"']
    qtbot.keyClick(popup, Qt.Key.Key_Tab)
    assert field.text() == 'red in:"~/My Notes" circle'
    assert field.line.hasFocus() and field.line.cursorPosition() == len('red in:"~/My Notes" ')
    assert shown_suggestions(window) == [] and not submitted  # taken, not searched at once
    qtbot.waitUntil(lambda: settled(window) and window.results.query.folder == home / "My Notes")
    assert window.results.query.words == ("red", "circle")

    qtbot.keyClick(field.line, Qt.Key.Key_End)
    qtbot.keyClicks(field.line, " sort:")
    assert shown_suggestions(window) == [f"sort:{s}" for s in SORTS]
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)  # takes the highlighted one, no search
    assert field.text() == f'red in:"~/My Notes" circle sort:{SORTS[1]} ' and not submitted
    assert shown_suggestions(window) == []


def test_suggested_dates_and_types_are_ones_the_parser_reads() -> None:
    dates = suggestions("after", [], date(2025, 1, 15))
    assert [t for t, _ in dates] == [
        "after:2025",
        "after:2025-01",
        "after:2024-12",
        "after:2024",
        "after:2025-01-15",
    ]
    assert dict(dates)["after:2024-12"] == "from last month on"
    assert dict(suggestions("before", [], date(2025, 1, 15)))["before:2025"] == "before this year"
    types = [t for t, _ in suggestions("type", [], date.today())]
    assert {"type:jpg", "type:png", "type:pdf", "type:md"} <= set(types)
    for term in (t for key in FILTER_KEYS for t, _ in suggestions(key, [], date.today())):
        assert parse(term).empty, term  # read as a filter (a wrong one would raise), not words


# -- half-typed filters, the kind switch, in: ----------------------------------------------


@pytest.mark.parametrize("half", ["kind:", "after:20", "in:", "sort:da", "type:"])
def test_a_half_typed_filter_is_no_error_and_the_results_stay(
    qtbot: QtBot, open_fake_window: FakeWindow, home: Path, half: str
) -> None:
    window = library_window(open_fake_window, qtbot, home)
    field = window.search_field
    qtbot.keyClicks(field.line, "red ")
    qtbot.waitUntil(lambda: settled(window) and window.pane.photos_model.rowCount() > 0)
    before = window.results.query
    qtbot.keyClicks(field.line, half)
    qtbot.waitUntil(lambda: settled(window))
    assert window.results.query.words == before.words == ("red",)
    assert window.results.query.kind == before.kind and window.results.query.folder is None
    assert window.pages.currentWidget() is window.pane and window.pane.photos_model.rowCount()
    assert "did not work" not in window.nothing.text.text()
    assert not window.query_notice.isVisible()


def switch_shows(window: MainWindow, kind: str) -> bool:
    labels = {"all": 0, "photo": 1, "note": 2}
    action = window.kind_actions.checkedAction()
    return (
        window.kind_filter.buttons.checkedId() == labels[kind]
        and action is not None
        and action.data() == kind
    )


def test_typing_kind_moves_the_switch_and_clicking_the_switch_takes_kind_out_of_the_words(
    qtbot: QtBot, open_fake_window: FakeWindow, home: Path
) -> None:
    window = library_window(open_fake_window, qtbot, home)
    field = window.search_field
    notes = window.kind_filter.buttons.button(2)
    qtbot.keyClicks(field.line, "red kind:photo")
    qtbot.waitUntil(lambda: settled(window) and switch_shows(window, "photo"))
    assert window.results.query.kind == "photo"
    for _ in "kind:photo":
        qtbot.keyClick(field.line, Qt.Key.Key_Backspace)
    qtbot.waitUntil(lambda: settled(window) and switch_shows(window, "all"))
    assert field.text() == "red " and window.results.query.kind == "all"

    # The switch chose notes: kind:photo typed shows photos, and deleting it goes back to notes.
    qtbot.mouseClick(notes, Qt.MouseButton.LeftButton)
    assert field.text() == "red " and switch_shows(window, "note")
    qtbot.keyClicks(field.line, "kind:photo")
    qtbot.waitUntil(lambda: settled(window) and switch_shows(window, "photo"))
    assert window.pane.photos_section.isVisibleTo(window)
    field.line.setText("red ")
    field.line.textEdited.emit("red ")  # as if the words were cut away at once
    qtbot.waitUntil(lambda: settled(window) and switch_shows(window, "note"))

    # Clicking the switch while kind:photo is typed: the click wins, and kind: leaves the words.
    qtbot.keyClicks(field.line, "kind:photo circle")
    qtbot.waitUntil(lambda: settled(window) and switch_shows(window, "photo"))
    qtbot.mouseClick(notes, Qt.MouseButton.LeftButton)
    assert field.text() == "red circle" and switch_shows(window, "note")
    qtbot.waitUntil(lambda: settled(window) and window.results.query.kind == "note")
    assert window.pane.notes_section.isVisibleTo(window)
    # The same from the keyboard, and nothing is written into the words by a click.
    qtbot.keyClicks(field.line, " kind:note")
    window.kind_actions.actions()[0].trigger()  # View → All (Ctrl+1)
    assert field.text() == "red circle" and switch_shows(window, "all")


def test_an_in_folder_that_finds_nothing_says_why(
    qtbot: QtBot, open_fake_window: FakeWindow, home: Path
) -> None:
    window = library_window(open_fake_window, qtbot, home)
    field = window.search_field
    notice = window.query_notice
    field.set_text("in:~/Picturs")
    qtbot.waitUntil(lambda: settled(window))
    assert notice.isVisible()
    assert notice.text() == (
        "There is no folder ~/Picturs — watched folders: ~/My Notes, ~/Pictures."
    )
    (home / "Downloads").mkdir()
    field.set_text("red in:~/Downloads")
    qtbot.waitUntil(lambda: settled(window))
    assert notice.text().startswith("~/Downloads is not in the library")
    field.set_text("red in:~/Pictures/holiday")  # inside a watched folder: nothing to say
    qtbot.waitUntil(lambda: settled(window))
    assert window.results.query.folder == home / "Pictures" / "holiday"
    assert not notice.isVisible()
    assert folder_problem(home, [home / "Pictures"]) is None  # around a watched folder
    assert without_key('red in:"~/My Notes" -kind:x kind:note', "in") == "red -kind:x kind:note"


# -- the keys ------------------------------------------------------------------------------


def test_the_keys_list_shows_every_key_of_the_window_even_ones_added_later(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    window = open_fake_window(tmp_path / "library")
    added = QShortcut(QKeySequence("Ctrl+Shift+J"), window.pane)
    added.setWhatsThis("Jump to the next photo")
    window.activateWindow()
    qtbot.waitUntil(lambda: window.search_field.line.hasFocus())
    qtbot.keyClick(window.search_field.line, Qt.Key.Key_Slash, Qt.KeyboardModifier.ControlModifier)
    dialog = window.findChild(ShortcutsDialog)
    assert isinstance(dialog, ShortcutsDialog) and dialog.isVisible()

    def native(key: str) -> str:
        return QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)

    listed = {(r.keys, r.what): r.group for r in dialog.rows}
    assert listed[(native("Ctrl+F"), "Find")] == "Edit"
    assert listed[(native("Ctrl+1"), "All")] == "View"
    assert listed[(native("Ctrl+3"), "Notes")] == "View"
    assert listed[(native("Ctrl+L"), "Go to the search")] == "Window"
    assert listed[(native("F1"), "Search Tips")] == "Help"
    assert listed[(native("Ctrl+Shift+J"), "Jump to the next photo")] == "Results"
    assert listed[(native("Down"), "Go down to the results")] == "Search"
    arrows = f"{native('Up')}, {native('Down')}, {native('Left')} or {native('Right')}"
    assert listed[(arrows, "Move between results")] == "Results"
    groups = [dialog.tree.topLevelItem(i).text(0) for i in range(dialog.tree.topLevelItemCount())]
    assert groups[:2] == ["Search", "Results"] and groups[-1] == "Window"
    assert {"File", "Edit", "View", "Help"} <= set(groups)
    dialog.close()


def test_no_two_keys_of_the_window_clash(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    window = open_fake_window(tmp_path / "library")
    keys = [k.toString() for a in window.findChildren(QAction) for k in a.shortcuts()]
    keys += [s.key().toString() for s in window.findChildren(QShortcut)]
    keys = [k for k in keys if k]
    assert len(keys) == len(set(keys)), sorted(keys)
