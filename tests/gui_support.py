"""What the window tests share: a folder of shapes and notes, a library of it indexed with the
tiny model, and windows that are closed and stopped after each test."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

# Before any QApplication exists: the tests draw offscreen, on any machine.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
import send2trash.plat_other
from conftest import TINY_SPEC, FakeEncoder, save_shape
from PySide6.QtCore import QMimeData, Qt, QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QFormLayout,
    QLabel,
    QMessageBox,
    QWidget,
)
from pytestqt.qtbot import QtBot

from mediafind import roots_rows, shapes
from mediafind.embed import ModelSpec, OpenClipEncoder, parse_spec, spec_identity
from mediafind.gui.bridge import SessionBridge
from mediafind.gui.preview import PreviewPane
from mediafind.gui.window import MainWindow
from mediafind.indexer import Indexer
from mediafind.keeper import sync
from mediafind.session import OpenClipSource, Options, Session
from mediafind.sources import ModelSource
from mediafind.store import Store

PAIRS = [(c, s) for c in shapes.COLOURS for s in shapes.SHAPES]
PHOTOS_PER_PAIR = 3
# Long enough for a first model load on a slow machine; tests end as soon as things happen.
SLOW = 60_000


def make_folder(root: Path, photos_per_pair: int = PHOTOS_PER_PAIR, seed: int = 7) -> Path:
    """Photos named colour-shape-k.png in photos/, a note per pair in notes/."""
    rng = random.Random(seed)
    for colour, shape in PAIRS:
        for k in range(photos_per_pair):
            save_shape(
                root / "photos" / f"{colour}-{shape}-{k}.png", colour, shape, rng.randrange(10**9)
            )
        note = root / "notes" / f"{colour} {shape}.md"
        note.parent.mkdir(parents=True, exist_ok=True)
        note.write_text(f"# Diary\n\n{shapes.note(colour, shape, rng)}\n", encoding="utf-8")
    return root


def index_folder(root: Path, library: Path) -> Path:
    """Index root into library (a folder) with the tiny model, as `mediafind index` would."""
    spec = parse_spec(TINY_SPEC)
    with Store.open(library / "library.sqlite3", writer=True) as store:
        roots_rows.add_root(store, root)
        sync(Indexer(store, lambda: OpenClipEncoder(spec, "cpu"), spec_identity(spec)))
    return library


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(folder, library): the shapes folder, indexed once for the module. Tests leave it as is."""
    base = tmp_path_factory.mktemp("indexed")
    root = make_folder(base / "Pictures")
    return root, index_folder(root, base / "library")


WindowMaker = Callable[..., MainWindow]


@pytest.fixture
def open_window(qtbot: QtBot) -> Iterator[WindowMaker]:
    """open_window(library, model=TINY_SPEC, watch=False) -> a shown MainWindow, indexing."""
    yield from _windows(qtbot, OpenClipSource())


def _windows(qtbot: QtBot, models: ModelSource) -> Iterator[Callable[..., MainWindow]]:
    """Make shown, started windows whose models come from models; close them all at the end."""
    made: list[tuple[MainWindow, Session]] = []

    def make(library: Path, model: str | None = TINY_SPEC, watch: bool = False) -> MainWindow:
        options = Options(library=str(library), model=model, watch=watch)
        session = Session(options, models, tolerant=True)
        window = MainWindow(SessionBridge(session))
        qtbot.addWidget(window)
        window.show()
        session.start()
        qtbot.waitUntil(lambda: not session.starting, timeout=SLOW)
        made.append((window, session))
        return window

    yield make
    for window, session in made:
        window.close()
        session.stop()
        window.thumbnails.wait()
        window.pictures.wait()


def drop(window: MainWindow, data: QMimeData) -> None:
    """What a drag from a file manager does: enter, then drop, in the middle of the window."""
    centre = window.rect().center()
    actions = Qt.DropAction.CopyAction
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(centre, actions, data, buttons, modifiers)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(window, QDropEvent(centre, actions, data, buttons, modifiers))


def final_results(window: MainWindow) -> bool:
    """The window shows the model's answer to the query in its field (not word matches shown
    while the model loads)."""
    results = window.results
    return (
        results is not None
        and results.final
        and results.query == window.query()
        and not window.search_field.pending()
    )


class PacedFake(FakeEncoder):
    """The fake model, as slow per picture as a test needs (to press a button meanwhile)."""

    delay = 0.0

    def encode_images(self, images):  # type: ignore[no-untyped-def]
        time.sleep(self.delay * len(images))
        return super().encode_images(images)


class FakeSource:
    """A model source that hands out one FakeEncoder, whatever model is asked for."""

    def __init__(self, encoder: PacedFake) -> None:
        self.encoder = encoder

    def identity(self, spec: ModelSpec) -> str:
        return self.encoder.identity

    def close(self) -> None:
        pass

    def load(self, spec: ModelSpec, device: str) -> PacedFake:
        return self.encoder


@pytest.fixture
def open_fake_window(qtbot: QtBot) -> Iterator[Callable[..., MainWindow]]:
    """open_fake_window(library, model=TINY_SPEC, watch=False) -> a window whose model is the
    FakeEncoder: for the plumbing, where what the model finds does not matter. model=None: the
    model of the settings file, as without --model."""
    yield from _windows(qtbot, FakeSource(PacedFake()))


def on_next_dialog(answer: Callable[[QWidget], None]) -> list[QWidget]:
    """Answer the next modal dialog (a question the window asks) with answer(dialog), once it
    is up, as a user would. Returns a list that receives the dialog."""
    seen: list[QWidget] = []

    def look() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, look)
            return
        seen.append(dialog)
        answer(dialog)

    QTimer.singleShot(0, look)
    return seen


def answer_next_dialog(button: str) -> list[str]:
    """Click the button with this text in the next modal dialog. Returns a list that receives
    the dialog's text (a message box's text and its detail) once answered."""
    said: list[str] = []

    def click(dialog: QWidget) -> None:
        if isinstance(dialog, QMessageBox):
            said.append(f"{dialog.text()}\n{dialog.informativeText()}")
        for candidate in dialog.findChildren(QAbstractButton):
            if candidate.text().replace("&", "") == button:
                candidate.click()
                return
        raise AssertionError(f"no {button!r} button in {dialog.windowTitle()!r}")

    on_next_dialog(click)
    return said


def preview_facts(pane: PreviewPane) -> dict[str, str]:
    """The facts the preview shows, by their labels."""
    rows = {}
    for row in range(pane.facts.rowCount()):
        name = pane.facts.itemAt(row, QFormLayout.ItemRole.LabelRole).widget()
        value = pane.facts.itemAt(row, QFormLayout.ItemRole.FieldRole).widget()
        assert isinstance(name, QLabel) and isinstance(value, QLabel)
        rows[name.text()] = value.text()
    return rows


def shown_suggestions(window: MainWindow) -> list[str]:
    """What the search field's suggestion popup offers (none when it is not shown)."""
    completer = window.search_field.suggestions
    popup = completer.popup()
    if popup is None or not popup.isVisible():
        return []
    model = completer.completionModel()
    return [
        str(model.index(r, 0).data(Qt.ItemDataRole.UserRole + 1)) for r in range(model.rowCount())
    ]


def trash_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the freedesktop trash at tmp_path/data/Trash (send2trash reads the folder once,
    when first imported: its copy is pointed there too)."""
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(send2trash.plat_other, "XDG_DATA_HOME", bytes(data))
    monkeypatch.setattr(send2trash.plat_other, "HOMETRASH_B", bytes(data / "Trash"))
    monkeypatch.setattr(send2trash.plat_other, "HOMETRASH", str(data / "Trash"))
    return data / "Trash"
