"""The window's parts, offscreen: start-up without torch, the search field, superseded searches,
thumbnails, ten thousand results, pasting and dropping, dialogs, single instance, autostart,
remembered layout, and the last-resort error message. The model here is a fake: these tests
are about the plumbing; test_gui_search.py checks what the tiny model finds."""

from __future__ import annotations

import functools
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import TINY_MODEL, TINY_SPEC, FakeEncoder, save_shape
from gui_support import (
    SLOW,
    FakeSource,
    PacedFake,
    answer_next_dialog,
    drop,
    final_results,
    open_fake_window,
    preview_facts,
)
from PIL import Image
from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QFont, QGuiApplication, QImage, QTextCursor
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox
from pytestqt.qtbot import QtBot

from mediafind import cli, config, roots_rows, units
from mediafind.gui import desktop
from mediafind.gui.app import ErrorReporter, SingleInstance, instance_name, setup_logging
from mediafind.gui.bridge import SessionBridge
from mediafind.gui.folders import FoldersDialog
from mediafind.gui.grid import PhotoGrid
from mediafind.gui.preview import PreviewPane, find_passage
from mediafind.gui.results import HitsModel
from mediafind.gui.runner import SearchRunner
from mediafind.gui.settings_dialog import SettingsDialog
from mediafind.gui.statusbar import IndexingStatus
from mediafind.gui.thumbnails import ThumbnailCache
from mediafind.gui.window import MainWindow
from mediafind.indexer import Indexer
from mediafind.keeper import INDEXING, Status, sync
from mediafind.query import parse
from mediafind.search import Hit, highlight
from mediafind.session import Options, Results, Session
from mediafind.store import ModelInfo, Store

__all__ = ["open_fake_window"]  # fixture

FakeWindow = Callable[..., MainWindow]


def test_the_window_shows_before_torch_is_imported(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from mediafind.gui.app import make_application\n"
        "from mediafind.gui.bridge import SessionBridge\n"
        "from mediafind.gui.window import MainWindow\n"
        "from mediafind.session import Options, Session\n"
        "app = make_application()\n"
        "session = Session(Options(library=sys.argv[1], model=sys.argv[2]), tolerant=True)\n"
        "window = MainWindow(SessionBridge(session))\n"
        "window.show()\n"
        "window.grab()\n"
        "app.processEvents()\n"
        "heavy = ('torch', 'open_clip', 'torchvision')\n"
        "print('HEAVY', [m for m in heavy if m in sys.modules])\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "library"), TINY_SPEC],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "HEAVY []" in out.stdout, out.stderr


def test_mediafind_without_a_command_opens_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, object]] = []

    def run(**options: object) -> int:
        calls.append(options)
        return 7

    monkeypatch.setattr("mediafind.gui.app.run", run)
    assert cli.main(["--library", "/tmp/lib", "--device", "cpu"]) == 7
    assert cli.main(["--model", "fast", "gui"]) == 7
    assert calls[0]["library"] == "/tmp/lib" and calls[0]["device"] == "cpu"
    assert calls[1]["model"] == "fast"


def test_typing_waits_for_a_pause_enter_searches_at_once_and_escape_clears(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    window = open_fake_window(tmp_path / "library")
    field = window.search_field
    before = window.runner.generation
    qtbot.keyClicks(field.line, "red")
    assert window.runner.generation == before  # still typing
    assert field.pending()
    qtbot.waitUntil(lambda: window.runner.generation == before + 1, timeout=2000)
    qtbot.keyClicks(field.line, " circle")
    qtbot.keyClick(field.line, Qt.Key.Key_Return)
    assert window.runner.generation == before + 2  # at once, no debounce
    assert not field.pending()
    qtbot.waitUntil(lambda: final_results(window), timeout=SLOW)
    qtbot.keyClick(field.line, Qt.Key.Key_Escape)
    assert field.text() == "" and window.query().empty  # back to listing the library


def test_a_newer_query_supersedes_an_older_one(qtbot: QtBot, tmp_path: Path) -> None:
    class Slow(FakeEncoder):
        def encode_texts(self, texts):  # type: ignore[no-untyped-def]
            time.sleep(0.3)
            return super().encode_texts(texts)

    options = Options(library=str(tmp_path / "library"), model=TINY_SPEC)
    session = Session(options, FakeSource(Slow()))  # type: ignore[arg-type]
    with Store.open(session.library_file, writer=True):
        pass  # an empty library
    session.load_encoder()
    runner = SearchRunner(session)
    delivered: list[tuple[int, Results]] = []
    runner.finished.connect(lambda generation, results: delivered.append((generation, results)))
    first = runner.submit(parse("red circle"), 20)
    time.sleep(0.1)  # the first is running now
    runner.submit(parse("blue square"), 20)
    third = runner.submit(parse("green triangle"), 20)
    qtbot.waitUntil(lambda: any(g == third for g, _ in delivered), timeout=5000)
    qtbot.wait(400)
    assert [g for g, _ in delivered] == [third]
    assert delivered[0][1].query.text == "green triangle"
    assert first < third
    runner.shutdown()


def test_thumbnails_are_made_once_then_read_from_disk(qtbot: QtBot, tmp_path: Path) -> None:
    photo = save_shape(tmp_path / "photo.jpg", "blue", "circle", seed=3)
    cache = ThumbnailCache(tmp_path / "thumbs", 64)
    assert cache.get(photo) is None  # a placeholder shows meanwhile
    with qtbot.waitSignal(cache.ready, timeout=5000) as ready:
        pass
    assert photo in ready.args[0]
    pixmap = cache.get(photo)
    assert pixmap is not None and max(pixmap.width(), pixmap.height()) == 64
    files = list((tmp_path / "thumbs").rglob("*.jpg"))
    assert len(files) == 1
    # Another session reads the file instead of decoding the photo again.
    again = ThumbnailCache(tmp_path / "thumbs", 64)
    again.get(photo)
    qtbot.waitSignal(again.ready, timeout=5000).wait()
    assert len(list((tmp_path / "thumbs").rglob("*.jpg"))) == 1
    # A changed photo gets a new thumbnail.
    save_shape(photo, "red", "square", seed=4)
    os.utime(photo, ns=(time.time_ns(), time.time_ns() + 10**9))
    fresh = ThumbnailCache(tmp_path / "thumbs", 64)
    fresh.get(photo)
    qtbot.waitSignal(fresh.ready, timeout=5000).wait()
    assert len(list((tmp_path / "thumbs").rglob("*.jpg"))) == 2
    # An unreadable file is marked, not retried.
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    fresh.get(broken)
    qtbot.waitSignal(fresh.ready, timeout=5000).wait()
    assert fresh.broken(broken) and fresh.get(broken) is None


def test_ten_thousand_results_ask_only_for_the_thumbnails_in_view(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: set[Path] = set()
    cache = ThumbnailCache(tmp_path / "thumbs", 150)
    monkeypatch.setattr(cache, "get", lambda path: asked.add(path))
    model = HitsModel()
    hits = [
        Hit(i, tmp_path / f"photo {i:05}.jpg", "photo", 1.0, 1.0, "image") for i in range(10_000)
    ]
    grid = PhotoGrid(cache)
    grid.setModel(model)
    qtbot.addWidget(grid)
    grid.resize(900, 600)
    grid.show()
    started = time.perf_counter()
    model.set_hits(hits)
    grid.grab()
    bar = grid.verticalScrollBar()
    for step in range(1, 41):
        bar.setValue(bar.maximum() * step // 40)
        grid.grab()
    elapsed = time.perf_counter() - started
    assert bar.value() == bar.maximum() > 0
    # 41 screens of at most 5 x 4 cells: only what was on screen was asked for.
    assert 0 < len(asked) <= 41 * 30, len(asked)
    assert Path(tmp_path / "photo 09999.jpg") in asked
    assert elapsed < 20  # generous: it takes well under a second on a laptop


def test_more_results_are_appended_keeping_the_place(qtbot: QtBot, tmp_path: Path) -> None:
    model = HitsModel()
    first = [Hit(i, tmp_path / f"{i}.jpg", "photo", 1.0, 1.0, "image") for i in range(10)]
    more = first + [
        Hit(i, tmp_path / f"{i}.jpg", "photo", 1.0, 1.0, "image") for i in range(10, 20)
    ]
    model.set_hits(first)
    with qtbot.waitSignal(model.rowsInserted, timeout=1000):
        model.set_hits(more)
    assert model.rowCount() == 20
    data = model.mimeData([model.index(0), model.index(3)])
    assert [u.toLocalFile() for u in data.urls()] == [str(first[0].path), str(first[3].path)]


def test_pasting_a_picture_searches_by_it(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    window = open_fake_window(tmp_path / "library")
    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.darkGreen)
    QGuiApplication.clipboard().setImage(image)
    window.search_field.line.setFocus()
    qtbot.keyClick(window.search_field.line, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    picture = window.search_field.image()
    assert picture is not None and picture.suffix == ".png" and picture.is_file()
    assert window.search_field.chip.isVisible()
    assert window.search_field.image_name == "pasted picture"
    qtbot.waitUntil(lambda: final_results(window), timeout=SLOW)
    assert window.results is not None
    assert [p.image for p in window.results.query.images] == [picture]
    # Backspace in the empty field removes the picture.
    qtbot.keyClick(window.search_field.line, Qt.Key.Key_Backspace)
    assert window.search_field.image() is None


def test_a_dropped_folder_is_watched_and_listed_with_its_errors(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "Camera"
    save_shape(folder / "one.png", "red", "circle", seed=1)
    save_shape(folder / "two.png", "blue", "square", seed=2)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    (folder / "note.md").write_text("A red circle on the door.", encoding="utf-8")
    window = open_fake_window(tmp_path / "library", watch=True)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.welcome, timeout=SLOW)
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(folder))])
    drop(window, data)
    qtbot.waitUntil(
        lambda: window.status_widget.counts.text() == "Library: 2 photos, 1 note", timeout=SLOW
    )
    # The empty search field lists the library, newest first.
    qtbot.waitUntil(lambda: window.pane.photos_model.rowCount() == 2, timeout=SLOW)
    assert window.pages.currentWidget() is window.pane
    qtbot.waitUntil(lambda: window.status_widget.errors_button.isVisible(), timeout=SLOW)
    assert window.status_widget.errors_button.text() == "1 file could not be read"

    qtbot.mouseClick(window.status_widget.errors_button, Qt.MouseButton.LeftButton)
    dialog = window.folders_dialog
    assert isinstance(dialog, FoldersDialog) and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.folders.topLevelItemCount() == 1, timeout=SLOW)
    row = dialog.folders.topLevelItem(0)
    assert row is not None
    assert [row.text(c) for c in (1, 2, 3)] == ["Live", "4", "1"]
    assert dialog.errors.tree.topLevelItemCount() == 1
    error = dialog.errors.tree.topLevelItem(0)
    assert error is not None and error.text(0).endswith("broken.jpg") and error.text(1)

    # Removing it, once confirmed, empties the library (the files stay on disk).
    row.setSelected(True)
    said = answer_next_dialog("Remove Folder")
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert said and said[0].startswith("Stop watching")
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.welcome, timeout=SLOW)
    assert (folder / "one.png").is_file()
    dialog.close()


def test_the_note_preview_highlights_the_passage_that_matched(qtbot: QtBot, tmp_path: Path) -> None:
    note = tmp_path / "diary.md"
    note.write_text(
        "# Monday\n\nBought bread.\n\nSaw a  green\nsquare on the door. Then home.\n",
        encoding="utf-8",
    )
    pane = PreviewPane(ThumbnailCache(None, 300))
    qtbot.addWidget(pane)
    snippet = "Saw a green square on the door."
    matched = highlight(snippet, ["green square"])  # what the search said matched
    pane.show_hit(Hit(1, note, "note", 0.9, 0.9, "text", snippet, highlights=matched))
    qtbot.waitUntil(lambda: "Bought bread" in pane.text.toPlainText(), timeout=5000)
    text = pane.text.toPlainText()
    start, end = find_passage(text, snippet) or (0, 0)
    assert text[start:end].split() == ["Saw", "a", "green", "square", "on", "the", "door."]
    cursor = QTextCursor(pane.text.document())
    cursor.setPosition(start + 3)
    assert cursor.charFormat().background().style() != Qt.BrushStyle.NoBrush
    assert cursor.charFormat().fontWeight() != QFont.Weight.Bold  # "Saw": not matched
    cursor.setPosition(text.index("square") + 2)  # "green\nsquare" in the note itself
    assert cursor.charFormat().fontWeight() == QFont.Weight.Bold
    cursor.setPosition(text.index("Bought") + 1)
    assert cursor.charFormat().background().style() == Qt.BrushStyle.NoBrush


def test_the_photo_preview_tells_what_the_library_read_and_reads_files_it_has_not(
    qtbot: QtBot, tmp_path: Path
) -> None:
    photo = save_shape(tmp_path / "photos" / "beach.png", "blue", "circle")
    elsewhere = save_shape(tmp_path / "downloads" / "dropped.png", "red", "square")
    library = tmp_path / "library.sqlite3"
    st = photo.stat()
    with Store.open(library, writer=True) as store:
        store.set_model(ModelInfo("fake", "fake-1", 4))
        root = roots_rows.add_root(store, photo.parent)
        store.mark_pending(root.id, photo, "photo", st.st_size, st.st_mtime_ns, None)
        row = store.file_by_path(photo)
        assert row is not None
        # Facts the PNG itself does not hold (no EXIF, another size): they can only come from
        # the library.
        store.save_indexed(
            row.id, content_hash="h", size=st.st_size, mtime_ns=st.st_mtime_ns, chunks=(),
            width=4000, height=3000, taken_at=datetime(2021, 7, 4, 18, 30).timestamp(),
        )  # fmt: skip
    opened: list[Path] = []

    def reader() -> Store:
        opened.append(library)
        return Store.open(library)

    pane = PreviewPane(ThumbnailCache(None, 300), reader)
    qtbot.addWidget(pane)
    pane.show_hit(Hit(row.id, photo, "photo", 1.0, 1.0, "image"))
    qtbot.waitUntil(lambda: "Dimensions" in preview_facts(pane), timeout=5000)
    facts = preview_facts(pane)
    assert facts["Dimensions"] == "4000 × 3000 pixels"
    assert facts["Taken"] == "04 July 2021, 18:30"
    assert facts["Size"] == units.size(st.st_size)
    assert opened == [library]

    # A picture from elsewhere: its own header says what it is.
    with Image.open(elsewhere) as image:
        width, height = image.size
    pane.show_hit(Hit(0, elsewhere, "photo", 1.0, 1.0, "image"))
    qtbot.waitUntil(lambda: "Dimensions" in preview_facts(pane), timeout=5000)
    assert preview_facts(pane)["Dimensions"] == f"{width} × {height} pixels"
    assert "Taken" not in preview_facts(pane)

    # The photo changed since the library read it: the stored facts no longer describe it.
    os.utime(photo, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    pane.show_hit(Hit(row.id, photo, "photo", 1.0, 1.0, "image"))
    qtbot.waitUntil(lambda: "Dimensions" in preview_facts(pane), timeout=5000)
    assert preview_facts(pane)["Dimensions"] == f"{width} × {height} pixels"
    assert "Taken" not in preview_facts(pane)


def test_settings_save_a_new_model_and_restart_indexing(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config.save_settings(config.Settings(model=TINY_SPEC))
    window = open_fake_window(tmp_path / "library", model=None)
    session = window.session
    dialog = SettingsDialog(session, library_files=0)
    qtbot.addWidget(dialog)
    dialog.model.setCurrentIndex(dialog.model.findData("fast"))
    assert "licence" in dialog.model_info.text().lower()
    dialog.excludes.setPlainText("*.tmp\nPrivate/")
    dialog.accept()
    qtbot.waitUntil(lambda: not session.starting, timeout=SLOW)
    assert session.settings.model == "fast"
    assert session.settings.excludes == ("*.tmp", "Private/")
    assert session.model_text == "fast"
    assert config.load_settings().model == "fast"

    # With files in the library, changing the model asks first, counting the files read
    # again; saying no changes nothing.
    dialog = SettingsDialog(session, library_files=10)
    qtbot.addWidget(dialog)
    dialog.model.setCurrentIndex(dialog.model.findData("best"))
    said = answer_next_dialog("Cancel")
    dialog.accept()
    assert session.settings.model == "fast"
    assert said and "The 10 photos and notes in your library will be read again" in said[0]


def test_start_at_login_writes_an_xdg_autostart_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    if not desktop.autostart_supported():
        pytest.skip("XDG autostart is for Linux and the BSDs")
    assert not desktop.autostart_enabled()
    desktop.set_autostart(True)
    entry = (tmp_path / "xdg" / "autostart" / "mediafind.desktop").read_text(encoding="utf-8")
    assert (
        entry.startswith("[Desktop Entry]\n") and "\nExec=" in entry and "Icon=mediafind" in entry
    )
    assert desktop.autostart_enabled()
    desktop.set_autostart(False)
    assert not desktop.autostart_enabled()
    assert desktop._exec_line(["/opt/my apps/python", "-m", "mediafind"]) == (
        '"/opt/my apps/python" -m mediafind'
    )


def test_the_window_remembers_size_pinned_filter_and_preview(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    def reopen(window: MainWindow) -> MainWindow:
        window.close()
        window.session.stop()  # as the app does when its window closes
        return open_fake_window(tmp_path / "library")

    # A filter chosen for a while is not where the window opens next time.
    window = open_fake_window(tmp_path / "library")
    assert not window.pin_action.isEnabled()  # All is where it opens anyway
    window.resize(760, 520)
    window.set_kind("note")
    window.preview_action.setChecked(False)
    window = reopen(window)
    assert window.query().kind == "all"
    assert not window.preview_action.isChecked()
    assert (window.width(), window.height()) == (760, 520)

    # Pinned, it is, even after another filter was chosen for a while.
    window.set_kind("note")
    assert window.pin_action.isEnabled() and not window.pin_action.isChecked()
    window.pin_action.trigger()
    window.set_kind("photo")
    assert not window.pin_action.isChecked()
    window = reopen(window)
    assert window.query().kind == "note" and window.pin_action.isChecked()
    assert window.kind_filter.buttons.checkedButton() is not None
    assert window.kind_filter.buttons.checkedButton().text() == "Notes"

    # Unpinned, All again.
    window.pin_action.trigger()
    window = reopen(window)
    assert window.query().kind == "all"


def test_a_window_saved_bigger_than_the_screen_is_brought_inside_it(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    window = open_fake_window(tmp_path / "library")
    room = window.screen().availableGeometry()
    # As saved at 100 % on a screen now scaled to 200 %: twice the room there is.
    window.setGeometry(room.x() + 40, room.y() + 40, room.width() * 2, room.height() * 2)
    window.close()
    window.session.stop()
    again = open_fake_window(tmp_path / "library")
    assert again.width() <= room.width() and again.height() <= room.height()
    assert room.contains(again.geometry().center())


def test_a_second_start_raises_the_first_window(qtbot: QtBot, tmp_path: Path) -> None:
    name = instance_name(tmp_path / f"library-{os.getpid()}")
    first = SingleInstance(name)
    assert first.claim()
    with qtbot.waitSignal(first.activated, timeout=5000):
        second = SingleInstance(name)
        assert not second.claim()
    first.release()
    third = SingleInstance(name)
    assert third.claim()  # once the first is gone, a new start is first again
    third.release()


def test_an_unexpected_error_is_logged_and_shown_once_in_words(
    qtbot: QtBot,
    open_fake_window: FakeWindow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    window = open_fake_window(tmp_path / "library")
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: shown.append(text))
    reporter = ErrorReporter(window, tmp_path / "mediafind.log")
    with caplog.at_level(logging.CRITICAL):
        for _ in range(2):
            try:
                raise ValueError("the frobnicator is out of frobs\nsecond line")
            except ValueError as e:
                reporter.excepthook(ValueError, e, e.__traceback__)
    qtbot.waitUntil(lambda: bool(window.status_widget.notice.text()), timeout=2000)
    assert len(shown) == 1
    assert "ValueError: the frobnicator is out of frobs" in shown[0]
    assert "Traceback" not in shown[0] and "second line" not in shown[0]
    assert str(tmp_path / "mediafind.log") in shown[0]
    assert "Unexpected problem" in window.status_widget.notice.text()
    assert any(r.exc_info for r in caplog.records)  # the log keeps the traceback


def test_the_search_field_speaks_the_query_language(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    window = open_fake_window(tmp_path / "library")
    picture = save_shape(tmp_path / "door.png", "blue", "square", seed=8)
    window.set_kind("photo")
    window.search_field.set_image(picture, None, "door.png")
    window.search_field.line.setText('"blue door" -snow kind:note')
    parsed = window.query()
    assert parsed.kind == "note"  # the words say so: they win over the filter buttons
    assert [p.image for p in parsed.images] == [picture]  # the chip's picture, with the words
    assert parsed.phrases == ("blue door",) and parsed.negatives == ("snow",)
    window.search_field.set_text("red")  # a new search: the picture goes
    assert window.query().kind == "photo"
    window.search_field.line.setText('"a phrase still being ty after:20')
    assert window.query().phrases == ("a phrase still being ty after:20",)
    window.search_field.line.setText("red after:20")  # a date still being typed
    assert window.query().words == ("red",) and window.query().after is None


def show_results(window: MainWindow, hits: list[Hit], text: str = "shapes") -> None:
    """Put hits in the window as if a search for text had found them."""
    window.search_field.line.setText(text)
    window.runner.cancel()
    results = Results(window.query(), 200, tuple(hits))
    window._on_results(window.runner.generation, results)


def test_results_open_with_enter_and_offer_what_else_can_be_done(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos = [save_shape(tmp_path / f"p{i}.png", "red", "circle", seed=i) for i in range(3)]
    note = tmp_path / "note.md"
    note.write_text("A red circle on the door.", encoding="utf-8")
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    window = open_fake_window(tmp_path / "library")
    hits = [Hit(i, p, "photo", 1.0, 1.0, "image") for i, p in enumerate(photos)]
    hits.append(Hit(len(photos), note, "note", 0.5, 0.5, "text", "A red circle on the door."))
    show_results(window, hits)
    assert window.pages.currentWidget() is window.pane
    assert (
        window.pane.photos_title.text() == "Photos · 3"
        and window.pane.notes_title.text() == "Notes · 1"
    )

    # The keyboard: down into the grid, Enter opens, Up goes back to the field.
    qtbot.keyClick(window.search_field.line, Qt.Key.Key_Down)
    assert window.pane.photos.hasFocus() and window.pane.photos.currentIndex().row() == 0
    assert window.pane.preview.hit is not None and window.pane.preview.hit.path == photos[0]
    qtbot.keyClick(window.pane.photos, Qt.Key.Key_Return)
    assert [u.toLocalFile() for u in opened] == [str(photos[0])]
    qtbot.keyClick(window.pane.photos, Qt.Key.Key_Up)
    assert window.search_field.line.hasFocus()

    menu = window.pane.result_menu(window.pane.photos, window.pane.photos_model.index(1))
    actions = {a.text(): a for a in menu.actions() if a.text()}
    assert list(actions) == [
        "View Full Size", "Open", "Open With…", "Show in Folder", "Copy", "Copy Path",
        "Find Similar", "Move to Trash", "Properties",
    ]  # fmt: skip
    actions["Copy Path"].trigger()
    copied = QGuiApplication.clipboard().mimeData()
    assert copied is not None and [u.toLocalFile() for u in copied.urls()] == [str(photos[1])]
    actions["Find Similar"].trigger()
    assert window.search_field.image() == photos[1]

    note_menu = window.pane.result_menu(window.pane.notes, window.pane.notes_model.index(0))
    texts = [a.text() for a in note_menu.actions() if a.text()]
    assert texts == [
        "Open", "Open With…", "Show in Folder", "Copy", "Copy Path",
        "Find Photos of This Passage", "Move to Trash", "Properties",
    ]  # fmt: skip


def test_a_picture_dragged_from_a_browser_becomes_the_query(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    window = open_fake_window(tmp_path / "library")
    # Pixels, as browsers give along with the page's address of the picture.
    pixels = QImage(30, 20, QImage.Format.Format_RGB32)
    pixels.fill(Qt.GlobalColor.blue)
    data = QMimeData()
    data.setImageData(pixels)
    drop(window, data)
    first = window.search_field.image()
    assert first is not None and first.is_file() and first.suffix == ".png"

    # Only the address: fetched (here from a server on this machine).
    served = tmp_path / "served"
    save_shape(served / "red circle.jpg", "red", "circle", seed=3)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(served))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        data = QMimeData()
        data.setUrls([QUrl(f"http://127.0.0.1:{server.server_port}/red%20circle.jpg")])
        drop(window, data)
        qtbot.waitUntil(lambda: window.search_field.image() not in (None, first), timeout=10_000)
    finally:
        server.shutdown()
        server.server_close()
    fetched = window.search_field.image()
    assert fetched is not None and fetched.read_bytes() == (served / "red circle.jpg").read_bytes()
    assert window.search_field.image_name == "red circle.jpg"


def test_pause_and_resume_from_the_status_bar(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    folder = tmp_path / "Many"
    for i in range(60):
        save_shape(folder / f"{i:03}.png", "green", "triangle", seed=i)
    window = open_fake_window(tmp_path / "library")
    model = window.session.load_encoder()
    assert isinstance(model, PacedFake)
    model.delay = 0.02  # a slower model: time to press the button
    window.add_folder(folder)
    status = window.status_widget
    qtbot.waitUntil(lambda: status.message.text().startswith("Indexing:"), timeout=SLOW)
    assert status.progress.isVisible() and status.pause_button.isVisible()
    qtbot.mouseClick(status.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: status.message.text().startswith("Indexing paused"), timeout=SLOW)
    assert window.session.status().state == "paused"
    qtbot.mouseClick(status.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.status().state == "idle", timeout=SLOW)
    qtbot.waitUntil(lambda: status.message.text() == "Up to date", timeout=SLOW)
    assert not status.progress.isVisible()


def test_a_new_model_reads_the_library_again_and_says_so(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "Photos"
    for i in range(6):
        save_shape(folder / f"{i}.png", "blue", "square", seed=i)
    library = tmp_path / "library"
    with Store.open(library / "library.sqlite3", writer=True) as store:
        roots_rows.add_root(store, folder)
        sync(Indexer(store, FakeEncoder, FakeEncoder.identity))

    class NewModel(PacedFake):
        identity = "fake-2"

    new_model = NewModel()
    new_model.delay = 0.05
    options = Options(library=str(library), model=TINY_SPEC, watch=False)
    session = Session(options, FakeSource(new_model), tolerant=True)
    bridge = SessionBridge(session)
    window = MainWindow(bridge)
    qtbot.addWidget(window)
    window.show()
    said: list[str] = []
    bridge.status_changed.connect(lambda _: said.append(window.status_widget.message.text()))
    session.start()
    try:
        qtbot.waitUntil(lambda: session.status().state == "idle" and bool(said), timeout=SLOW)
        assert any(s.startswith("Re-reading with the new model: ") for s in said), said
        with Store.open(library / "library.sqlite3") as store:
            info = store.model()
        assert info is not None and info.identity == "fake-2"
        assert not session.reembedding
    finally:
        window.close()
        session.stop()


def test_the_log_goes_to_a_file_in_the_platform_log_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        path = setup_logging()
        assert path is not None and path.is_relative_to(tmp_path / "state")
        logging.getLogger("mediafind.gui.test").info("the window opened")
        logging.getLogger("some.library").info("chatter nobody needs")
        for handler in root.handlers:
            handler.flush()
        text = path.read_text(encoding="utf-8")
        assert "the window opened" in text and "chatter" not in text
    finally:
        for handler in root.handlers[:]:
            if handler not in before[0]:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(before[1])


def test_the_app_exits_cleanly_after_copying_to_the_clipboard(tmp_path: Path) -> None:
    code = (
        "from pathlib import Path\n"
        "from mediafind.gui.app import make_application\n"
        "from mediafind.gui import desktop\n"
        "from PySide6.QtGui import QImage\n"
        "app = make_application()\n"
        "desktop.copy_image(Path('/tmp/a.png'), QImage(4, 4, QImage.Format.Format_RGB32))\n"
        "desktop.copy_paths([Path('/tmp/a.png'), Path('/tmp/b.md')])\n"
        "print(repr(app.clipboard().text()))\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr  # it used to crash as Qt emptied the clipboard
    assert "/tmp/a.png" in out.stdout


def test_the_status_bar_says_the_rate_and_the_time_left(qtbot: QtBot) -> None:
    bar = IndexingStatus()
    qtbot.addWidget(bar)
    bar.resize(1200, 30)
    bar.show()
    qtbot.waitExposed(bar)
    bar.show_status(Status(INDEXING, done=10, total=400, rate=2.5, eta=3725.0))
    assert bar.message.text() == "Indexing: 10 of 400"
    assert bar.detail.text() == "2.5 files/s · about 1 h 02 min left"
    bar.show_status(Status(INDEXING, done=398, total=400, rate=2.5, eta=0.8))
    assert bar.detail.text() == "2.5 files/s · under a minute left"


def test_each_result_tells_why_it_matched(tmp_path: Path) -> None:
    model = HitsModel()
    note = Hit(1, tmp_path / "diary.md", "note", 0.9, 0.9, "text", "A red circle.",
               why=("words", "passage"))  # fmt: skip
    photo = Hit(2, tmp_path / "IMG_1.jpg", "photo", 0.8, 0.8, "image", why=("picture",))
    model.set_hits([note, photo])
    tips = [model.data(model.index(row), Qt.ItemDataRole.ToolTipRole) for row in (0, 1)]
    assert tips == [
        f"{tmp_path / 'diary.md'}\nFound by: words · meaning",
        f"{tmp_path / 'IMG_1.jpg'}\nFound by: picture",
    ]


def test_choose_a_model_folder_opens_the_picker_at_once_and_uses_the_model(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config.save_settings(config.Settings(model=f"local-dir:{tmp_path / 'gone'}"))
    window = open_fake_window(tmp_path / "library", model=None)
    qtbot.waitUntil(lambda: window.model_banner.isVisible(), timeout=SLOW)
    buttons = window.model_banner.buttons
    choose = next(
        b for i in range(buttons.count())
        if (b := buttons.itemAt(i).widget()) is not None and b.text() == "Choose a Model Folder…"
    )  # fmt: skip
    # The system's folder picker cannot be driven here: it answers as a user would.
    asked: list[str] = []
    answers = iter([str(tmp_path), str(TINY_MODEL)])

    def picker(parent: object, title: str, start: str = "", *rest: object) -> str:
        asked.append(title)
        return next(answers)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", picker)
    # A folder without a model is refused in the window's words, and nothing changes.
    said = answer_next_dialog("OK")
    qtbot.mouseClick(choose, Qt.MouseButton.LeftButton)
    assert asked == ["Choose a Model Folder"]
    assert said and "open_clip_config.json" in said[0] and "--model" not in said[0]
    assert config.load_settings().model == f"local-dir:{tmp_path / 'gone'}"

    # A model folder is used at once (an empty library: nothing to read again, no question).
    qtbot.mouseClick(choose, Qt.MouseButton.LeftButton)
    assert config.load_settings().model == f"local-dir:{TINY_MODEL}"
    qtbot.waitUntil(lambda: not window.model_banner.isVisible(), timeout=SLOW)


def test_settings_ask_for_the_model_folder_when_it_is_chosen(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = open_fake_window(tmp_path / "library", model=None)
    dialog = SettingsDialog(window.session, library_files=0)
    qtbot.addWidget(dialog)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: str(TINY_MODEL))
    dialog.model.setCurrentIndex(dialog.model.findData("local"))
    dialog.model.activated.emit(dialog.model.currentIndex())  # as a click in its list does
    qtbot.waitUntil(lambda: dialog.model_folder.text() == str(TINY_MODEL), timeout=SLOW)


def test_adding_a_folder_says_what_happened(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    media = tmp_path / "Media"
    for name in ("Photos", "Notes", "Photos/2024"):
        (media / name).mkdir(parents=True)
    window = open_fake_window(tmp_path / "library")
    notice = window.status_widget.notice
    window.add_folder(media / "Photos")
    assert notice.text() == f"Added {media / 'Photos'}."
    window.add_folder(media / "Notes")
    window.add_folder(media / "Photos")
    assert notice.text() == f"{media / 'Photos'} is already in the library."
    window.add_folder(media / "Photos" / "2024")
    assert notice.text() == (
        f"{media / 'Photos' / '2024'} is already in the library, inside {media / 'Photos'}."
    )
    window.add_folder(media)
    assert notice.text() == f"Added {media}; it takes in {media / 'Photos'}, {media / 'Notes'}."
    assert window.watched == [media]
    qtbot.waitUntil(
        lambda: [f.path for f in window.session.overview().folders] == [media], timeout=SLOW
    )
    window.add_folder(tmp_path / "nowhere")
    assert notice.text() == f"{tmp_path / 'nowhere'} is not a folder."


def test_the_status_bar_never_cuts_its_count_short(qtbot: QtBot) -> None:
    """Seen in a screenshot: "Indexing: 128 of 25" — the 6 of 256 cut off in a narrow window.
    The count keeps its width; the details beside it give way, elided."""
    window = QMainWindow()
    qtbot.addWidget(window)
    bar = IndexingStatus(window)
    window.statusBar().addPermanentWidget(bar, 1)  # as the window holds it
    bar.show_library({"photo": 12_408, "note": 1_337, "error": 3}, True)
    bar.show_status(Status(INDEXING, done=128, total=25_600, current=Path("IMG_1174 long name.jpg"),
                           rate=27.6, eta=30.0))  # fmt: skip
    window.resize(640, 200)
    window.show()
    qtbot.waitExposed(window)
    for label in (bar.message, bar.counts):
        assert label.width() >= label.fontMetrics().horizontalAdvance(label.text()), label.text()
    assert bar.detail.text().endswith("…")  # the details gave way
