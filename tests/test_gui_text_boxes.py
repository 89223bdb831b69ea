"""The preview shows where in a photo the words that matched stand (text read in the picture):
its boxes drawn over the picture, in the theme's highlight colour."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gui_support import SLOW, open_fake_window
from PIL import Image
from pytestqt.qtbot import QtBot

from mediafind import roots_rows, text_rows
from mediafind.gui.preview import matched_lines, text_boxes
from mediafind.gui.window import MainWindow
from mediafind.pictext import TextLine
from mediafind.picturetext import lines_json
from mediafind.search import Hit
from mediafind.store import Store

__all__ = ["open_fake_window"]  # fixture

FakeWindow = Callable[..., MainWindow]


def _hit(path: Path, location: dict[str, object]) -> Hit:
    return Hit(1, path, "photo", 1.0, 0.5, "ocr", "WIFI PASSWORD", location, why=("ocr",))


def test_the_boxes_of_a_hit_are_read_from_its_location(tmp_path: Path) -> None:
    photo = tmp_path / "screenshot.png"
    assert text_boxes(_hit(photo, {"box": [0.1, 0.2, 0.5, 0.3]})) == [(0.1, 0.2, 0.5, 0.3)]
    lines = {"box": [0.1, 0.2, 0.5, 0.6], "lines": [[0.1, 0.2, 0.5, 0.3], [0.1, 0.5, 0.4, 0.6]]}
    assert text_boxes(_hit(photo, lines)) == [(0.1, 0.2, 0.5, 0.3), (0.1, 0.5, 0.4, 0.6)]
    # Nothing to draw, or nonsense: nothing drawn.
    assert text_boxes(_hit(photo, {"page": 3})) == []
    assert text_boxes(_hit(photo, {"box": [0.5, 0.2, 0.1, 0.3]})) == []
    assert text_boxes(_hit(photo, {"box": "0.1 0.2"})) == []


def test_the_preview_draws_the_text_boxes_over_the_picture(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    photo = tmp_path / "screenshot.png"
    Image.new("RGB", (800, 600), "white").save(photo)
    window = open_fake_window(tmp_path / "library")
    window.resize(1100, 720)
    preview = window.pane.preview
    window.pages.setCurrentWidget(window.pane)
    preview.show_hit(_hit(photo, {"box": [0.25, 0.25, 0.75, 0.5]}))
    image = preview.image
    qtbot.waitUntil(lambda: image._pixmap is not None, timeout=SLOW)
    assert image.boxes == [(0.25, 0.25, 0.75, 0.5)]
    picture = image.grab().toImage()
    ratio = picture.devicePixelRatio()
    highlight = image.palette().color(image.palette().ColorRole.Highlight)

    def tinted(x: float, y: float) -> bool:
        colour = picture.pixelColor(round(x * ratio), round(y * ratio))
        return colour != colour.fromRgb(255, 255, 255) and abs(colour.hue() - highlight.hue()) < 15

    # The picture fills the widget's width, top-aligned: the box's middle is tinted, the
    # picture's corner is not.
    width = image.width()
    height = width * 600 / 800
    assert tinted(width * 0.5, height * 0.375)
    assert not tinted(width * 0.1, height * 0.9)

    # Another result without text boxes: none drawn.
    preview.show_hit(Hit(2, photo, "photo", 1.0, 0.5, "image"))
    assert image.boxes == []


def test_only_the_lines_that_hold_the_words_are_marked(tmp_path: Path) -> None:
    """The passage of a screenshot joins its lines; the library keeps each line read with its
    box, and the preview marks those with the query's words."""
    photo = tmp_path / "Pictures" / "screenshot.png"
    photo.parent.mkdir()
    Image.new("RGB", (800, 600), "white").save(photo)
    lines = [
        TextLine("Home network: Lighthouse-5G", (0.1, 0.1, 0.5, 0.2), 0.98),
        TextLine("Wifi password: seashell42", (0.1, 0.3, 0.5, 0.4), 0.97),
        TextLine("Router: 192.168.1.1", (0.1, 0.5, 0.5, 0.6), 0.99),
    ]
    library = tmp_path / "lib" / "library.sqlite3"
    with Store.open(library, writer=True) as store:
        root = roots_rows.add_root(store, photo.parent)
        store.mark_pending(root.id, photo, "photo", 1, 1, None)
        row = store.file_by_path(photo)
        assert row is not None
        with store.atomic():
            text_rows.save_lines(store, "h1", "reader-1", lines_json(lines))
            store.save_indexed(row.id, content_hash="h1", size=1, mtime_ns=1, chunks=[],
                               text_read="reader-1")  # fmt: skip
    passage = "Home network: Lighthouse-5G Wifi password: seashell42 Router: 192.168.1.1"
    location = {"lines": [list(line.box) for line in lines]}
    hit = Hit(row.id, photo, "photo", 1.0, 0.5, "ocr", passage, location, ((28, 32), (33, 41)))
    assert matched_lines(hit, lambda: Store.open(library)) == [(0.1, 0.3, 0.5, 0.4)]
    # No highlighted words, or no library: nothing to narrow (the passage's boxes stay).
    assert (
        matched_lines(Hit(row.id, photo, "photo", 1.0, 0.5, "ocr", passage, location), None) == []
    )
