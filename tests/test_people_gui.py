"""The window with people and places: the preview lists who is in a photo and where it was
taken, and the search field suggests the names the library knows after person: and place:."""

from __future__ import annotations

from pathlib import Path

from gui_support import (
    SLOW,
    WindowMaker,
    final_results,
    index_folder,
    open_window,
    preview_facts,
    shown_suggestions,
)
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from test_people import make_album

__all__ = ["open_window"]  # the fixture, used by name

from mediafind.gui.window import MainWindow


def search_for(qtbot: QtBot, window: MainWindow, text: str) -> None:
    """Type text in the field, Enter, and wait for the model's answer."""
    window.search_field.line.clear()
    qtbot.keyClicks(window.search_field.line, text)
    qtbot.keyClick(window.search_field.line, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: final_results(window), timeout=SLOW)


def album_window(open_window: WindowMaker, tmp_path: Path) -> MainWindow:
    library = index_folder(make_album(tmp_path / "Pictures"), tmp_path / "library")
    window = open_window(library)
    window.resize(1100, 750)
    return window


def test_the_preview_lists_the_people_and_the_place_of_a_photo(
    qtbot: QtBot, open_window: WindowMaker, tmp_path: Path
) -> None:
    window = album_window(open_window, tmp_path)
    field = window.search_field
    search_for(qtbot, window, "person:zoe")  # without the accent
    assert window.results is not None
    assert [h.path.name for h in window.results.hits] == ["z1.jpg"]
    qtbot.keyClick(field.line, Qt.Key.Key_Down)  # into the results: the preview shows the photo
    preview = window.pane.preview
    qtbot.waitUntil(lambda: "Size" in preview_facts(preview), timeout=SLOW)
    facts = preview_facts(preview)
    assert facts["People"] == "Zoë"
    assert facts["Place"] == "Sydney, New South Wales, Australia"
    assert facts["Coordinates"] == "33.8688° S, 151.2093° E"

    # A photo without GPS or people says nothing of them.
    search_for(qtbot, window, "plain")
    qtbot.keyClick(field.line, Qt.Key.Key_Down)
    assert preview.hit is not None and preview.hit.path.name == "plain.jpg"
    qtbot.waitUntil(lambda: "Size" in preview_facts(preview), timeout=SLOW)
    assert not {"People", "Place", "Coordinates"} & set(preview_facts(preview))


def test_the_field_suggests_known_people_and_places(
    qtbot: QtBot, open_window: WindowMaker, tmp_path: Path
) -> None:
    window = album_window(open_window, tmp_path)
    field = window.search_field
    qtbot.keyClicks(field.line, "person:")
    qtbot.waitUntil(lambda: bool(shown_suggestions(window)), timeout=SLOW)
    assert sorted(shown_suggestions(window)) == [
        "person:Anna", "person:Anna-Lena", "person:Lena", "person:Zoë"
    ]  # fmt: skip
    qtbot.keyClicks(field.line, "zo")  # without the accent
    assert shown_suggestions(window) == ["person:Zoë"]
    popup = field.suggestions.popup()
    assert popup is not None
    qtbot.keyClick(popup, Qt.Key.Key_Tab)
    assert field.text() == "person:Zoë "

    qtbot.keyClicks(field.line, "place:new")
    qtbot.waitUntil(lambda: bool(shown_suggestions(window)), timeout=SLOW)
    assert shown_suggestions(window) == [
        'place:"New South Wales"', 'place:"New York"', 'place:"New York City"'
    ]  # fmt: skip
    qtbot.keyClick(popup, Qt.Key.Key_Escape)
    field.line.clear()
    qtbot.keyClicks(field.line, "place:")
    assert "place:Lisbon" in shown_suggestions(window)
    assert shown_suggestions(window)[0] == "place:Lisbon"  # in the most photos


def test_a_person_no_photo_names_is_said_so_on_the_empty_page(
    qtbot: QtBot, open_window: WindowMaker, tmp_path: Path
) -> None:
    window = album_window(open_window, tmp_path)
    search_for(qtbot, window, "person:Nobody")
    assert window.pages.currentWidget() is window.nothing
    assert window.nothing.title.text() == "No photos or notes pass these filters"
    text = window.nothing.text.text()
    assert text.startswith("No photo names a person “Nobody”: people are read from the face tags")
    assert "write into photos and their .xmp sidecars." in text
