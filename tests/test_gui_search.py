"""The window end to end, offscreen, with the tiny model: typing, dropping a picture, adding a
folder while searching, and a model that cannot be loaded."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from conftest import TINY_SPEC, save_shape
from gui_support import (
    PAIRS,
    SLOW,
    WindowMaker,
    drop,
    final_results,
    indexed,
    make_folder,
    open_window,
)
from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from mediafind.cli import main
from mediafind.embed import Encoder, ModelSpec
from mediafind.gui.bridge import SessionBridge
from mediafind.gui.pane import steady_order
from mediafind.gui.window import MainWindow
from mediafind.keeper import INDEXING, Status
from mediafind.search import Hit
from mediafind.session import OpenClipSource, Options, Session

__all__ = ["indexed", "open_window"]  # fixtures

pytestmark = pytest.mark.slow


def photo_names(window: MainWindow, n: int) -> list[str]:
    model = window.pane.photos_model
    return [model.hit(row).path.name for row in range(min(n, model.rowCount()))]


def test_typing_a_red_circle_brings_red_circles_first(
    qtbot: QtBot, open_window: WindowMaker, indexed: tuple[Path, Path]
) -> None:
    window = open_window(indexed[1])
    assert window.search_field.line.hasFocus() or QApplication.focusWidget() is None
    qtbot.keyClicks(window.search_field.line, "a red circle")  # no Enter: search as you type
    qtbot.waitUntil(
        lambda: final_results(window) and window.pane.photos_model.rowCount() > 0, timeout=SLOW
    )
    assert window.results is not None and not window.results.words_only
    assert all(name.startswith("red-circle-") for name in photo_names(window, 3)), photo_names(
        window, 6
    )
    assert window.pages.currentWidget() is window.pane


def test_dropping_a_green_square_brings_the_note_about_it_first(
    qtbot: QtBot, open_window: WindowMaker, indexed: tuple[Path, Path], tmp_path: Path
) -> None:
    window = open_window(indexed[1])
    picture = save_shape(tmp_path / "dropped.png", "green", "square", seed=4242)
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(picture))])
    drop(window, data)
    assert window.search_field.image() == picture
    assert window.search_field.chip.isVisible()
    qtbot.waitUntil(
        lambda: final_results(window) and window.pane.notes_model.rowCount() > 0, timeout=SLOW
    )
    assert window.pane.notes_model.hit(0).path.name == "green square.md"
    assert photo_names(window, 1)[0].startswith("green-square-")
    # The chip's close button goes back to no query.
    qtbot.mouseClick(window.search_field.chip.close_button, Qt.MouseButton.LeftButton)
    assert window.search_field.image() is None
    qtbot.waitUntil(lambda: final_results(window), timeout=SLOW)
    assert window.results is not None and window.results.query.empty  # the library, listed


def test_a_new_folder_shows_progress_and_its_matches_appear_without_retyping(
    qtbot: QtBot, open_window: WindowMaker, tmp_path: Path
) -> None:
    folder = make_folder(tmp_path / "Holiday", photos_per_pair=3, seed=99)
    window = open_window(tmp_path / "library", watch=True)
    seen: list[tuple[Status, bool, str]] = []

    def record(status: Status) -> None:
        # Connected after the window: what the status bar shows once the window has handled it.
        widget = window.status_widget
        seen.append((status, widget.progress.isVisibleTo(window), widget.message.text()))

    window.bridge.status_changed.connect(record)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.welcome, timeout=SLOW)
    qtbot.keyClicks(window.search_field.line, "a blue triangle")
    qtbot.waitUntil(lambda: final_results(window), timeout=SLOW)
    assert window.pane.photos_model.rowCount() == 0
    assert window.pages.currentWidget() is window.nothing

    window.add_folder(folder)
    qtbot.waitUntil(lambda: window.pane.photos_model.rowCount() >= 3, timeout=SLOW)
    indexing = [(s, shown, text) for s, shown, text in seen if s.state == INDEXING and s.total]
    assert indexing, [s for s, _, _ in seen]
    assert all(shown for _, shown, _ in indexing)
    assert any(text.startswith("Indexing:") and " of " in text for _, _, text in indexing)
    assert window.search_field.text() == "a blue triangle"
    qtbot.waitUntil(lambda: window.session.status().state == "idle", timeout=SLOW)
    qtbot.waitUntil(
        lambda: all(n.startswith("blue-triangle-") for n in photo_names(window, 3)), timeout=SLOW
    )
    qtbot.waitUntil(lambda: window.status_widget.counts.text().startswith("Library: 36 photos"))


def test_a_missing_model_shows_a_banner_and_words_still_find_notes(
    qtbot: QtBot, open_window: WindowMaker, indexed: tuple[Path, Path], tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-model"
    window = open_window(indexed[1], model=f"local-dir:{missing}")
    assert window.model_banner.isVisible()
    text = window.model_banner.text.text()
    assert "cannot be loaded" in text and str(missing) in text and "does not exist" in text
    assert "words still works" in text

    qtbot.keyClicks(window.search_field.line, "green square")
    qtbot.keyClick(window.search_field.line, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: final_results(window) and window.pane.notes_model.rowCount() > 0, timeout=SLOW
    )
    assert window.results is not None and window.results.words_only
    assert window.pane.notes_model.hit(0).path.name == "green square.md"
    assert (
        window.pane.results_note.isVisible()
        and "word matches" in window.pane.results_note.text().lower()
    )
    assert all(n.startswith("green-square-") for n in photo_names(window, 3))

    # A picture cannot be searched without the model: said in words, and the window goes on.
    picture = save_shape(tmp_path / "dropped.png", "red", "circle", seed=5)
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(picture))])
    drop(window, data)
    qtbot.waitUntil(lambda: final_results(window), timeout=SLOW)
    assert window.pages.currentWidget() is window.nothing
    assert "needs the model" in window.nothing.text.text()
    window.search_field.clear_all()  # the library, listed newest first: no model needed
    qtbot.waitUntil(lambda: final_results(window), timeout=SLOW)
    assert window.pages.currentWidget() is window.pane
    assert window.pane.notes_model.rowCount() == len(PAIRS)


@pytest.mark.parametrize(
    "query", ["a red circle", '"green square" kind:note', "blue -triangle after:2000"]
)
def test_the_window_and_the_command_line_give_the_same_results(
    qtbot: QtBot,
    open_window: WindowMaker,
    indexed: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    query: str,
) -> None:
    """One session under both faces: the same query and page size bring the same files in
    the same order, with the same scores."""
    window = open_window(indexed[1])
    window.search_field.set_text(query)
    qtbot.waitUntil(lambda: final_results(window), timeout=SLOW)
    assert window.results is not None
    shown = [(h.path, round(h.score, 6)) for h in window.results.hits]
    limit = window.results.limit
    capsys.readouterr()
    args = ["--library", str(indexed[1]), "--model", TINY_SPEC, "search", query, "-n", str(limit)]
    assert main([*args, "--json"]) == 0
    printed = [(Path(h["path"]), h["score"]) for h in json.loads(capsys.readouterr().out)]
    assert shown and printed == shown


class _GatedSource(OpenClipSource):
    """The real tiny model, loaded only once the test opens the gate: meanwhile the window
    shows word matches, as on a laptop loading a big model."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def load(self, spec: ModelSpec, device: str) -> Encoder:
        self.gate.wait(SLOW / 1000)
        return super().load(spec, device)


def test_the_model_arriving_does_not_move_the_results_above_the_chosen_one(
    qtbot: QtBot, indexed: tuple[Path, Path]
) -> None:
    source = _GatedSource()
    session = Session(Options(library=str(indexed[1]), model=TINY_SPEC), source, tolerant=True)
    window = MainWindow(SessionBridge(session))
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.keyClicks(window.search_field.line, "circle")
        model = window.pane.notes_model
        qtbot.waitUntil(lambda: window.results is not None and model.rowCount() >= 3, timeout=SLOW)
        assert window.results is not None and not window.results.final  # word matches
        qtbot.keyClick(window.search_field.line, Qt.Key.Key_Down)
        window.pane.notes.setFocus()
        window.pane.notes.setCurrentIndex(model.index(2))
        chosen = [model.hit(row).path for row in range(3)]

        source.gate.set()
        qtbot.waitUntil(lambda: final_results(window), timeout=SLOW)
        assert [model.hit(row).path for row in range(3)] == chosen
        assert window.pane.notes.currentIndex().row() == 2
        # The model's own order goes on below; on the next keystroke, it is the model's alone.
        assert not window.results.words_only
    finally:
        source.gate.set()
        window.close()
        session.stop()


def test_steady_order_keeps_the_rows_down_to_the_chosen_one() -> None:
    def hit(name: str, score: float = 0.0) -> Hit:
        return Hit(0, Path(name), "note", score, 0.0, "text")

    shown = [hit("a"), hit("b"), hit("gone")]
    found = [hit("c", 0.9), hit("b", 0.8), hit("a", 0.7), hit("d", 0.6)]
    order = steady_order(shown, found)
    assert [h.path.name for h in order] == ["a", "b", "c", "d"]
    assert order[0].score == 0.7  # the model's evidence, in the old place
