"""Help → How Well Does Search Work on My Photos?: the report dialog on a real window, its chart,
Cancel and Apply Cutoff; and the results' note that offers to show what the cutoff hid."""

from __future__ import annotations

from pathlib import Path

from conftest import TINY_MODEL
from gui_support import SLOW, final_results, index_folder, open_fake_window, open_window
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot
from test_eval import captioned_folder

from mediafind.evaluate import Cutoff
from mediafind.evaluate_rows import captioned_photos, cutoffs, save_cutoff
from mediafind.gui.eval_dialog import MODEL_COLOURS, EvalDialog
from mediafind.gui.window import MainWindow
from mediafind.search import PICTURE
from mediafind.store import Store

__all__ = ["open_fake_window", "open_window"]  # fixtures


def captioned_library(tmp_path: Path) -> Path:
    photos = captioned_folder(tmp_path / "Pictures", sidecars=True)
    return index_folder(photos, tmp_path / "library")


def menu_action(window: MainWindow, text: str) -> None:
    for menu in window.menuBar().actions():
        for action in menu.menu().actions():
            if action.text().replace("&", "") == text:
                action.trigger()
                return
    raise AssertionError(f"no menu item {text!r}")


def test_the_report_shows_figures_a_chart_and_the_suggested_model(
    qtbot: QtBot, open_window, tmp_path: Path
) -> None:
    window = open_window(captioned_library(tmp_path))
    menu_action(window, "How Well Does Search Work on My Photos?")
    dialog = window.findChild(EvalDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=SLOW)
    assert dialog.report is not None, dialog.summary.text()
    assert dialog.summary.text().startswith("Measured on 24 of your captioned photos")
    assert "text → photo R@1" in dialog.figures.text()
    assert dialog.suggestion.text().startswith(f"Suggested model: {TINY_MODEL.name}.")
    # No preset's weights are on this computer here: nothing else to compare, said once.
    assert (
        dialog.others_note.text() == "Other models are compared once downloaded: Settings › Model."
    )
    assert dialog.own_box.isChecked() and not dialog.own_box.isEnabled()
    assert dialog.model_boxes == {} and dialog.use_button.isHidden()
    # Two photos of each kind: no similarity picks a caption's own photo 90 % of the time.
    assert "No similarity reaches precision 90%" in dialog.suggestion.text()
    assert not dialog.apply_button.isEnabled()
    picture = dialog.chart.grab().toImage()
    colour = QColor(MODEL_COLOURS[0]).rgb()
    painted = sum(
        picture.pixel(x, y) == colour
        for x in range(0, picture.width(), 2)
        for y in range(0, picture.height(), 2)
    )
    assert painted > 100  # the bars are drawn


def by_picture(window: MainWindow) -> int:
    """Photos found by what they show (not by their names or captions' words)."""
    assert window.results is not None
    return sum(PICTURE in h.why for h in window.results.photos)


def test_apply_cutoff_keeps_it_and_the_window_offers_to_show_all(
    qtbot: QtBot, open_window, tmp_path: Path
) -> None:
    window = open_window(captioned_library(tmp_path))
    session = window.session
    dialog = EvalDialog(session, window, precision=0.4)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.apply_button.isEnabled(), timeout=SLOW)
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.applied, timeout=SLOW)
    assert "Applied" in dialog.suggestion.text()
    with Store.open(session.library_file) as store:
        kept = cutoffs(store)[session.model_identity()]
    assert kept.precision == 0.4

    # A cutoff above all but the best photo of "a red circle": the note says results were
    # hidden, and Show all brings them back for this search.
    qtbot.keyClicks(window.search_field.line, "a red circle")
    qtbot.waitUntil(lambda: final_results(window), timeout=SLOW)
    shown = [h.similarity for h in window.results.photos if h.similarity]
    session.write_library(
        lambda store: save_cutoff(
            store, session.model_identity(), "tiny", Cutoff(max(shown) - 1e-4, 0.9, 0.9, 0.5), 24
        )
    )
    window.search_field.line.clear()
    qtbot.keyClicks(window.search_field.line, "a red circle")
    qtbot.waitUntil(lambda: final_results(window) and window.results.hidden > 0, timeout=SLOW)
    note = window.pane.results_note
    assert note.isVisible()
    assert note.text().startswith("Showing results above your library's relevance cutoff · ")
    fewer = by_picture(window)
    # Click the link at the end of the line.
    plain = "Showing results above your library's relevance cutoff · Show al"
    x = note.fontMetrics().horizontalAdvance(plain) + note.contentsMargins().left()
    qtbot.mouseClick(note, Qt.MouseButton.LeftButton, pos=QPoint(x, note.height() // 2))
    qtbot.waitUntil(lambda: final_results(window) and window.results.hidden == 0, timeout=SLOW)
    assert by_picture(window) > fewer
    assert not window.pane.results_note.isVisible()


def test_cancel_stops_the_measurement_and_changes_nothing(
    qtbot: QtBot, open_fake_window, tmp_path: Path
) -> None:
    photos = captioned_folder(tmp_path / "Pictures", sidecars=True)
    window = open_fake_window(tmp_path / "library")
    session = window.session
    session.add_folder(photos, wait=True)

    def captioned() -> int:
        with Store.open(session.library_file) as store:
            return len(captioned_photos(store))

    qtbot.waitUntil(lambda: captioned() == 24, timeout=SLOW)
    session.models.encoder.delay = 0.2  # a second per batch of photos: time to press Cancel
    dialog = window.evaluate_search()
    qtbot.waitUntil(lambda: dialog.progress.maximum() > 0, timeout=SLOW)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.job is None, timeout=SLOW)
    assert dialog.summary.text() == "The measurement was cancelled; nothing was changed."
    assert dialog.report is None and dialog.measure_button.isEnabled()
    with Store.open(session.library_file) as store:
        assert cutoffs(store) == {}
