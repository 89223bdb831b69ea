"""Text in pictures through indexing, the library and search, with a reader written here: it
reads the words the tests drew, and says where they stand."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from conftest import FakeEncoder
from gui_support import SLOW, open_fake_window
from PIL import Image, ImageDraw, ImageFont

from mediafind import config, roots_rows, search_rows, status_rows
from mediafind import store as store_module
from mediafind.errors import ConfigError
from mediafind.indexer import Indexer
from mediafind.keeper import sync
from mediafind.pictext import Box, TextLine
from mediafind.picturetext import Reading
from mediafind.query import parse
from mediafind.search import TEXT_IN_PICTURE, Searcher
from mediafind.store import OCR_SOURCE, Store

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytestqt.qtbot import QtBot

    from mediafind.gui.window import MainWindow

    FakeWindow = Callable[..., MainWindow]

__all__ = ["open_fake_window"]  # fixture


class DrawnTextReader:
    """Reads what the tests drew: words in black on a picture of one background colour each.
    Its cheap pass says yes only where dark pixels are; reading finds the picture's words by
    its background colour. It counts its reads, and can be made to fail."""

    identity = "drawn-text-1"

    def __init__(self) -> None:
        self.drawn: dict[tuple[int, int, int], list[TextLine]] = {}
        self.reads = 0
        self.failure: Exception | None = None

    def draw(self, path: Path, background: tuple[int, int, int], words: list[str]) -> Path:
        """A picture of background with each of words on a line of its own, in black."""
        image = Image.new("RGB", (480, 320), background)
        pen = ImageDraw.Draw(image)
        font = ImageFont.load_default(size=28)
        lines = []
        for i, text in enumerate(words):
            left, top, right, bottom = pen.textbbox((30, 30 + 50 * i), text, font=font)
            pen.text((30, 30 + 50 * i), text, fill="black", font=font)
            box: Box = (left / 480, top / 320, right / 480, bottom / 320)
            lines.append(TextLine(text, box, 0.97))
        self.drawn[background] = lines
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path)
        return path

    def cheap_side(self, picture: Image.Image) -> int:
        return 480  # the pictures whole: the words are found by their black pixels

    def has_text(self, picture: Image.Image) -> bool:
        return bool((np.asarray(picture.convert("L")) < 60).any())

    def read(self, picture: Image.Image) -> list[TextLine]:
        self.reads += 1
        if self.failure is not None:
            raise self.failure
        corner = np.asarray(picture.convert("RGB"))[2, 2].astype(int)
        colour = min(self.drawn, key=lambda c: int(np.abs(corner - np.array(c)).sum()))
        return list(self.drawn[colour])


def plain(path: Path, colour: tuple[int, int, int]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (480, 320), colour).save(path)
    return path


@pytest.fixture
def reader() -> DrawnTextReader:
    return DrawnTextReader()


def indexer(
    store: Store, fake: FakeEncoder, reader: DrawnTextReader | None, folders: tuple[Path, ...] = ()
) -> Indexer:
    reading = None if reader is None else Reading(lambda: reader, folders)
    return Indexer(store, lambda: fake, fake.identity, reading=reading)  # type: ignore[arg-type,return-value]


@pytest.fixture
def photos(tmp_path: Path, reader: DrawnTextReader) -> Path:
    root = tmp_path / "photos"
    reader.draw(root / "screenshot.png", (250, 250, 240), ["Wifi password", "hunter2 kestrel"])
    reader.draw(root / "receipt.png", (240, 240, 250), ["IKEA invoice", "total 129.00"])
    plain(root / "sky.png", (90, 140, 230))
    plain(root / "grass.png", (60, 170, 70))
    return root


def search(store: Store, fake: FakeEncoder, text: str) -> list[dict[str, object]]:
    return [h.to_json() for h in Searcher(store, fake).search(parse(text), limit=10)]


def read_in_pictures(hits: list[dict[str, object]]) -> list[dict[str, object]]:
    return [h for h in hits if TEXT_IN_PICTURE in h["why"]]  # type: ignore[operator]


def test_a_word_drawn_in_a_photo_is_found_with_where_it_stands(
    store: Store, fake: FakeEncoder, reader: DrawnTextReader, photos: Path
) -> None:
    roots_rows.add_root(store, photos)
    outcome = sync(indexer(store, fake, reader))
    assert (outcome.indexed, outcome.errors) == (4, [])

    hits = search(store, fake, "kestrel")
    assert hits[0]["path"] == str(photos / "screenshot.png")
    assert TEXT_IN_PICTURE in hits[0]["why"] and hits[0]["match"] == "ocr"
    assert "kestrel" in str(hits[0]["snippet"])
    location = hits[0]["location"]
    assert isinstance(location, dict)
    drawn = reader.drawn[(250, 250, 240)]
    assert location["lines"] == [[round(v, 4) for v in line.box] for line in drawn]
    left, top, right, bottom = location["box"]
    assert (left, top) == pytest.approx(drawn[0].box[:2], abs=1e-4)
    assert (right, bottom) == pytest.approx(
        (max(d.box[2] for d in drawn), drawn[1].box[3]), abs=1e-4
    )
    # By its words, accents folded like a note's, and by its meaning (the fake encoder's).
    assert search(store, fake, "ÍKEA")[0]["path"] == str(photos / "receipt.png")
    by_meaning = Searcher(store, fake).search(parse("invoice total kind:photo"), limit=3)
    assert by_meaning[0].path == photos / "receipt.png"


def test_photos_without_text_stop_at_the_cheap_pass(
    store: Store, fake: FakeEncoder, reader: DrawnTextReader, photos: Path
) -> None:
    roots_rows.add_root(store, photos)
    sync(indexer(store, fake, reader))
    assert reader.reads == 2  # the screenshot and the receipt, not the sky or the grass
    sources = store.conn.execute(
        "SELECT count(*) FROM chunks WHERE source = ?", (OCR_SOURCE,)
    ).fetchone()
    assert sources[0] == 2


def test_indexing_again_copies_and_renames_never_read_the_same_content_twice(
    store: Store, fake: FakeEncoder, reader: DrawnTextReader, photos: Path
) -> None:
    roots_rows.add_root(store, photos)
    sync(indexer(store, fake, reader))
    sync(indexer(store, fake, reader))
    assert reader.reads == 2
    (photos / "screenshot.png").rename(photos / "wifi.png")
    shutil.copy(photos / "receipt.png", photos / "receipt copy.png")
    sync(indexer(store, fake, reader))
    assert reader.reads == 2
    found = {h["path"] for h in search(store, fake, "IKEA") if TEXT_IN_PICTURE in h["why"]}
    assert found == {str(photos / "receipt.png"), str(photos / "receipt copy.png")}
    assert search(store, fake, "kestrel")[0]["path"] == str(photos / "wifi.png")


def test_a_changed_photo_is_read_again_and_its_old_words_go(
    store: Store, fake: FakeEncoder, reader: DrawnTextReader, photos: Path
) -> None:
    roots_rows.add_root(store, photos)
    sync(indexer(store, fake, reader))
    reader.draw(photos / "screenshot.png", (250, 250, 240), ["Boarding pass", "gate B12"])
    sync(indexer(store, fake, reader))
    assert reader.reads == 3
    assert not read_in_pictures(search(store, fake, "kestrel"))
    assert search(store, fake, "boarding")[0]["path"] == str(photos / "screenshot.png")


def test_a_reader_that_fails_leaves_the_photo_indexed_with_a_note(
    store: Store, fake: FakeEncoder, reader: DrawnTextReader, photos: Path
) -> None:
    reader.failure = RuntimeError("the engine ran out of memory")
    roots_rows.add_root(store, photos)
    outcome = sync(indexer(store, fake, reader))
    assert (outcome.indexed, outcome.errors) == (4, [])
    notes = {n.path.name: n.reason for n in status_rows.notes(store)}
    assert notes["screenshot.png"] == (
        "the text in this picture could not be read (RuntimeError: the engine ran out of memory)"
    )
    assert store.counts()["photo"] == 4


def test_a_scanned_pdf_is_found_with_its_page(
    store: Store, fake: FakeEncoder, reader: DrawnTextReader, tmp_path: Path
) -> None:
    root = tmp_path / "scans"
    first = reader.draw(tmp_path / "p1.png", (255, 255, 255), ["Dear Sir or Madam"])
    second = reader.draw(tmp_path / "p2.png", (230, 255, 230), ["Pension statement 2023"])
    root.mkdir()
    pages = [Image.open(first).convert("RGB"), Image.open(second).convert("RGB")]
    pages[0].save(root / "letter.pdf", save_all=True, append_images=pages[1:], resolution=100)
    roots_rows.add_root(store, root)
    outcome = sync(indexer(store, fake, reader))
    assert (outcome.indexed, outcome.errors) == (1, [])
    hit = search(store, fake, "pension")[0]
    assert hit["path"] == str(root / "letter.pdf") and TEXT_IN_PICTURE in hit["why"]
    location = hit["location"]
    assert isinstance(location, dict) and location["page"] == 2 and "box" in location


def test_a_scanned_pdf_without_a_reader_holds_nothing_to_index(
    store: Store, fake: FakeEncoder, reader: DrawnTextReader, tmp_path: Path
) -> None:
    root = tmp_path / "scans"
    page = reader.draw(tmp_path / "p1.png", (255, 255, 255), ["Dear Sir or Madam"])
    root.mkdir()
    Image.open(page).convert("RGB").save(root / "letter.pdf", resolution=100)
    roots_rows.add_root(store, root)
    sync(indexer(store, fake, None))
    assert store.counts()["empty"] == 1
    # Reading turned on: the scan is read, without the user asking.
    sync(indexer(store, fake, reader))
    assert search(store, fake, "madam")[0]["path"] == str(root / "letter.pdf")


def test_reading_off_reads_nothing_and_turning_it_on_reads_without_embedding_again(
    store: Store, fake: FakeEncoder, reader: DrawnTextReader, photos: Path
) -> None:
    roots_rows.add_root(store, photos)
    sync(indexer(store, fake, None))
    assert reader.reads == 0 and not read_in_pictures(search(store, fake, "kestrel"))
    images = fake.images_encoded
    sync(indexer(store, fake, reader, folders=(photos,)))
    assert reader.reads == 2 and fake.images_encoded == images
    assert search(store, fake, "kestrel")[0]["path"] == str(photos / "screenshot.png")
    # Limited to another folder: what was read here goes.
    sync(indexer(store, fake, reader, folders=(photos.parent / "elsewhere",)))
    assert not read_in_pictures(search(store, fake, "kestrel"))
    assert fake.images_encoded == images


def test_the_settings_file_turns_reading_off_or_limits_it_to_folders(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    assert config.load_settings(path).ocr is True
    chosen = config.Settings(ocr=False, ocr_folders=("~/Screenshots",))
    config.save_settings(chosen, path)
    assert "ocr = false" in path.read_text()
    assert config.load_settings(path) == chosen
    config.save_settings(config.Settings(), path)
    assert "ocr" not in path.read_text()
    path.write_text('ocr = "yes"\n')
    with pytest.raises(ConfigError, match=r"'ocr' .* must be true or false"):
        config.load_settings(path)


def test_a_library_of_schema_6_keeps_its_files_and_words_when_upgraded(
    tmp_path: Path, fake: FakeEncoder, reader: DrawnTextReader, photos: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    path = tmp_path / "library.sqlite3"
    note = photos / "note.md"
    note.write_text("The heron stood in the reeds.\n")
    with monkeypatch.context() as old:
        old.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:6])
        old.setattr(store_module, "SCHEMA_VERSION", 6)
        with Store.open(path, writer=True) as v6:  # as the code before schema 7 wrote it
            root = roots_rows.add_root(v6, photos)
            v6.conn.execute(
                "INSERT INTO files(path, root_id, kind, size, mtime_ns, status) "
                "VALUES (?, ?, 'note', 1, 1, 'indexed')",
                (str(note).encode(), root.id),
            )
            file_id = v6.conn.last_insert_rowid()
            for seq, (source, text) in enumerate(
                [("text", "The heron stood"), ("caption", "reeds")]
            ):
                v6.conn.execute(
                    "INSERT INTO chunks(file_id, seq, source, text, start, end, page, heading) "
                    "VALUES (?, ?, ?, ?, 0, 5, 1, 'Birds')",
                    (file_id, seq, source, text),
                )
            v6_chunks = v6.conn.execute("SELECT * FROM chunks ORDER BY id").fetchall()
            assert v6.conn.pragma("user_version") == 6
    with Store.open(path, writer=True) as upgraded:
        assert upgraded.conn.pragma("user_version") == store_module.SCHEMA_VERSION
        chunks = upgraded.conn.execute("SELECT * FROM chunks ORDER BY id").fetchall()
        assert [c[:-1] for c in chunks] == v6_chunks and {c[-1] for c in chunks} == {None}
        assert [h.file_id for h in search_rows.keyword_chunks(upgraded, "heron", 5)] == [file_id]
        assert upgraded.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # Its photos are read once it is indexed, and found by their words; the note's words
        # stay in step with it.
        sync(indexer(upgraded, fake, reader))
        assert search(upgraded, fake, "kestrel")[0]["path"] == str(photos / "screenshot.png")
        assert search(upgraded, fake, "heron")[0]["path"] == str(note)
    assert (tmp_path / "library.sqlite3.v6.bak").exists()


def test_the_settings_window_turns_reading_off_and_indexing_restarts(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    from PySide6.QtCore import Qt

    from mediafind.gui.settings_dialog import SettingsDialog

    window = open_fake_window(tmp_path / "library")
    session = window.session
    assert session.reading() is not None
    dialog = SettingsDialog(session, library_files=0)
    qtbot.addWidget(dialog)
    assert dialog.read_text.isChecked()
    qtbot.mouseClick(dialog.read_text, Qt.MouseButton.LeftButton)
    dialog.accept()
    qtbot.waitUntil(lambda: not session.starting, timeout=SLOW)
    assert session.settings.ocr is False and session.reading() is None
    assert config.load_settings().ocr is False


class NamelessReader(DrawnTextReader):
    """A reader whose package lost its metadata: it cannot say what it is."""

    @property  # type: ignore[override]
    def identity(self) -> str:
        raise LookupError("No package metadata was found for rapidocr_onnxruntime")


def test_a_reader_that_cannot_say_what_it_is_leaves_pictures_indexed_without_text(
    store: Store, fake: FakeEncoder, photos: Path
) -> None:
    reader = NamelessReader()
    reader.draw(photos / "note.png", (250, 240, 240), ["Dentist Tuesday"])
    roots_rows.add_root(store, photos)

    outcome = sync(indexer(store, fake, reader))

    assert (outcome.indexed, outcome.errors) == (5, [])
    assert reader.reads == 0
    assert search(store, fake, "dentist") == []
