"""Help → How Well Does Search Work on My Photos?: the report dialog on a real window, its chart,
Cancel and Apply Cutoff; and the results' note that offers to show what the cutoff hid."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_MODEL, run_cli
from gui_support import (
    SLOW,
    answer_next_dialog,
    final_results,
    index_folder,
    open_fake_window,
    open_window,
)
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot
from test_eval import captioned_folder

from mediafind import config, presets
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
    assert painted(dialog, 0) > 100  # the bars are drawn


def painted(dialog: EvalDialog, model: int) -> int:
    """Pixels of the chart in the colour of the model-th model (every other one)."""
    picture = dialog.chart.grab().toImage()
    colour = QColor(MODEL_COLOURS[model]).rgb()
    return sum(
        picture.pixel(x, y) == colour
        for x in range(0, picture.width(), 2)
        for y in range(0, picture.height(), 2)
    )


def in_hub_cache(cache: Path, repo: str, files: dict[str, Path | bytes]) -> None:
    """Files as the Hugging Face cache holds them after a download of repo."""
    folder = cache / f"models--{repo.replace('/', '--')}"
    revision = "0" * 40
    snapshot = folder / "snapshots" / revision
    snapshot.mkdir(parents=True)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(revision)
    for name, content in files.items():
        if isinstance(content, Path):
            shutil.copy(content, snapshot / name)
        else:
            (snapshot / name).write_bytes(content)


def blurred_tiny_model(folder: Path) -> Path:
    """A copy of the tiny model whose text tower is scrambled: it finds a caption's photo
    hardly better than chance."""
    from safetensors.numpy import load_file, save_file

    folder.mkdir(parents=True)
    shutil.copy(TINY_MODEL / "open_clip_config.json", folder)
    tensors = load_file(TINY_MODEL / "open_clip_model.safetensors")
    rng = np.random.default_rng(5)
    shape = tensors["text_projection"].shape
    tensors["text_projection"] = rng.standard_normal(shape).astype(np.float32)
    save_file(tensors, folder / "open_clip_model.safetensors")
    return folder


TINY_HUB = "hf-hub:mediafind-tests/tiny-clip-eval"


def test_models_on_this_computer_are_measured_side_by_side_and_the_better_one_used(
    qtbot: QtBot,
    open_window,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from huggingface_hub import constants

    # The weights folder: the balanced preset's weights (only looked for, never loaded), and
    # a preset that is the tiny model from the Hub (no real preset is small enough to run).
    cache = tmp_path / "hf-cache"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    in_hub_cache(cache, "laion/CLIP-ViT-B-32-laion2B-s34B-b79K",
                 {"open_clip_model.safetensors": b"weights"})  # fmt: skip
    files = {n: TINY_MODEL / n for n in ("open_clip_config.json", "open_clip_model.safetensors")}
    in_hub_cache(cache, TINY_HUB.removeprefix("hf-hub:"), files)
    tiny_hub = presets.Preset("tiny", TINY_HUB, "The tiny model, from the Hub.", "MIT")
    monkeypatch.setattr(presets, "PRESETS", (*presets.PRESETS, tiny_hub))
    # The library's model, from the settings file (so that it may be changed): a worse one.
    blurred = f"local-dir:{blurred_tiny_model(tmp_path / 'blurred')}"
    config.save_settings(config.Settings(model=blurred))
    photos = captioned_folder(tmp_path / "Pictures", sidecars=True)
    library = tmp_path / "library"
    code, _, err = run_cli(capsys, "--library", str(library), "index", str(photos))
    assert code == 0, err

    window = open_window(library, model=None)
    dialog = window.evaluate_search()
    qtbot.waitUntil(lambda: dialog.offered is not None, timeout=SLOW)
    assert [p.name for p in dialog.offered] == ["balanced", "tiny"]
    assert dialog.own_box.text() == "blurred — your library's model"
    assert dialog.own_box.isChecked() and not dialog.own_box.isEnabled()
    assert dialog.others_note.isHidden() and dialog.report is None  # waits for a choice
    box = dialog.model_boxes[TINY_HUB]
    assert not box.isChecked()
    box.click()
    qtbot.mouseClick(dialog.measure_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=SLOW)
    report = dialog.report
    assert [m.name for m in report.models] == ["blurred", "tiny"]
    blurred_r1, tiny_r1 = (m.text_to_image.recall[1] for m in report.models)
    assert tiny_r1.low > blurred_r1.high  # told apart on this set
    assert "<th>blurred</th><th>tiny</th>" in dialog.figures.text()
    assert "photos/s / text queries/s" in dialog.figures.text()
    assert painted(dialog, 0) > 50 and painted(dialog, 1) > 100  # both models' bars
    assert dialog.suggestion.text().startswith("Suggested model: tiny: of the models measured")
    assert dialog.use_button.isVisible()

    said = answer_next_dialog("Change Model")
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert said and said[0].startswith("The 24 photos and notes in your library will be read")
    assert window.session.settings.model == TINY_HUB
    assert config.load_settings().model == TINY_HUB
    assert "Your library now uses tiny" in dialog.suggestion.text()
    assert not dialog.use_button.isEnabled()


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
