"""Notes in the window, with a folder of real documents (Markdown with headings and lists, a PDF
of three pages, plain text, a Word document): each note's type, the page or heading of its
passage, its file's size and date; the preview renders Markdown and tints only the passage,
however one moves between notes; Open goes to the PDF's page in the default viewer."""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import docx
import pytest
from conftest import FakeEncoder, save_shape
from gui_support import SLOW, final_results, open_fake_window, preview_facts
from PySide6.QtCore import QModelIndex, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QFont, QFontMetrics, QTextCharFormat, QTextDocument
from pytestqt.qtbot import QtBot
from reportlab.pdfgen.canvas import Canvas

from mediafind import extract, media, roots_rows, units
from mediafind.gui import desktop
from mediafind.gui.noteslist import DOCUMENT_TYPES, NoteDelegate, place_label
from mediafind.gui.preview import find_passage
from mediafind.gui.results import HIT_ROLE
from mediafind.gui.window import MainWindow
from mediafind.indexer import Indexer
from mediafind.keeper import sync
from mediafind.query import parse
from mediafind.search import Hit, Searcher
from mediafind.store import Store

__all__ = ["open_fake_window"]  # fixture

FakeWindow = Callable[..., MainWindow]

# The day the notes were last written: what the list and the preview must say.
WRITTEN = datetime(2024, 10, 3, 14, 5)

TRIP_PLAN = """\
# Budget

Rent for the harbour flat is 800 a month.

- groceries 300
- *ferry* tickets 90
- a `bike` lock

## Travel

Take the **night train** to the coast, see [the timetable](https://example.org/trains).
"""

LOG_PAGES = [
    "Arrival. The keeper showed us the lamp room and the stairs.",
    "The harbour was quiet today, only the gulls were loud.",
    "We left at dawn with the morning boat.",
]


def write_notes(root: Path) -> dict[str, Path]:
    """A Markdown plan, a PDF log of three pages, a shopping list, a Word document; each
    speaks of the harbour once, all last written on WRITTEN."""
    root.mkdir(parents=True)
    notes = {
        "markdown": root / "Trip plan.md",
        "pdf": root / "Lighthouse log.pdf",
        "text": root / "shopping.txt",
        "word": root / "Renovation.docx",
    }
    notes["markdown"].write_text(TRIP_PLAN, encoding="utf-8")
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=True)
    for line in LOG_PAGES:
        canvas.drawString(72, 760, line)
        canvas.showPage()
    canvas.save()
    notes["pdf"].write_bytes(buffer.getvalue())
    # A long list: its passage is far down, out of view until the preview scrolls to it.
    items = "".join(f"Item {n}: bread, milk and eggs.\n\n" for n in range(80))
    notes["text"].write_text(
        f"Milk and eggs.\n\n{items}Fish from the harbour market on Friday.\n", encoding="utf-8"
    )
    document = docx.Document()
    document.add_paragraph("Things to fix before winter.")
    document.add_heading("Kitchen", level=1)
    document.add_paragraph("New tiles, the colour of the harbour at dusk.")
    document.save(str(notes["word"]))
    for path in notes.values():
        os.utime(path, (WRITTEN.timestamp(), WRITTEN.timestamp()))
    return notes


def harbour_window(open_fake_window: FakeWindow, qtbot: QtBot, root: Path) -> MainWindow:
    """A window over the notes, searched for "harbour" (each note once)."""
    window = open_fake_window(root.parent / "library")
    window.add_folder(root)
    qtbot.waitUntil(lambda: window.session.status().state == "idle", timeout=SLOW)
    qtbot.keyClicks(window.search_field.line, "harbour")
    qtbot.keyClick(window.search_field.line, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: final_results(window) and window.pane.notes_model.rowCount() == 4, timeout=SLOW
    )
    return window


def row_of(window: MainWindow, path: Path) -> QModelIndex:
    row = window.pane.notes_model.row_of(path)
    assert row is not None, path
    return window.pane.notes_model.index(row)


def choose(qtbot: QtBot, window: MainWindow, path: Path) -> Hit:
    """Click a note in the list; its hit, once the preview has read it."""
    notes = window.pane.notes
    index = row_of(window, path)
    notes.scrollTo(index)
    centre = notes.visualRect(index).center()
    qtbot.mouseClick(notes.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    return shown(qtbot, window, path)


def shown(qtbot: QtBot, window: MainWindow, path: Path) -> Hit:
    """Wait until the preview shows the note at path, read; its hit."""
    preview = window.pane.preview
    qtbot.waitUntil(
        lambda: (
            preview.hit is not None
            and preview.hit.path == path
            and preview_facts(window.pane.preview).get("Size", "–") != "–"
        ),
        timeout=SLOW,
    )
    assert preview.hit is not None
    return preview.hit


def tinted(document: QTextDocument) -> list[int]:
    """The positions of the characters with a background (the passage's tint)."""
    positions = []
    block = document.begin()
    while block.isValid():
        for it in block:
            fragment = it.fragment()
            if fragment.charFormat().background().style() != Qt.BrushStyle.NoBrush:
                positions += range(fragment.position(), fragment.position() + fragment.length())
        block = block.next()
    return positions


def assert_only_the_passage_is_tinted(window: MainWindow, hit: Hit) -> None:
    document = window.pane.preview.text.document()
    text = document.toPlainText()
    found = find_passage(text, hit.snippet or "")
    assert found is not None, (hit.snippet, text)
    start, end = found
    assert "harbour" in text[start:end]
    # Every character of the passage (block ends carry no character format), and no other.
    passage = [i for i in range(start, end) if not block_end(document, i)]
    assert tinted(document) == passage, (hit.path.name, text[start:end])


def passage_in_view(window: MainWindow) -> bool:
    """The start of the passage (where the preview put the text's cursor) is on screen."""
    text = window.pane.preview.text
    return text.viewport().rect().contains(text.cursorRect())


def block_end(document: QTextDocument, position: int) -> bool:
    block = document.findBlock(position)
    return position == block.position() + block.length() - 1


def test_each_note_shows_its_type_the_place_of_its_passage_and_its_size_and_date(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    notes = write_notes(tmp_path / "Notes")
    window = harbour_window(open_fake_window, qtbot, notes["markdown"].parent)
    delegate = window.pane.notes.itemDelegate()
    assert isinstance(delegate, NoteDelegate)
    expected = {
        "markdown": ("Markdown", "under “Budget”"),
        "pdf": ("PDF", "p. 2"),
        "text": ("Text", ""),
        "word": ("Word", "under “Kitchen”"),
    }
    for name, path in notes.items():
        hit = row_of(window, path).data(HIT_ROLE)
        assert isinstance(hit, Hit)
        texts = delegate.texts(hit)
        assert (texts.type, texts.place) == expected[name], name
        assert texts.title == path.stem
        assert texts.facts == f"{units.size(path.stat().st_size)} · 3 Oct 2024"
    # The rows are painted with all of it (a picture of the list, as the screen shows it).
    assert not window.pane.notes.grab().isNull()

    # The preview says the same of the PDF, with the file's own size and date.
    choose(qtbot, window, notes["pdf"])
    facts = preview_facts(window.pane.preview)
    assert facts["Type"] == "PDF" and facts["Page"] == "2"
    assert facts["Modified"] == "03 October 2024, 14:05"
    assert facts["Size"] == units.size(notes["pdf"].stat().st_size)
    choose(qtbot, window, notes["word"])
    assert preview_facts(window.pane.preview)["Section"] == "Kitchen"


def test_the_list_reads_each_file_once_per_result_list(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("one", encoding="utf-8")
    os.utime(note, (WRITTEN.timestamp(), WRITTEN.timestamp()))
    delegate = NoteDelegate()
    assert delegate.file_label(note) == "3 bytes · 3 Oct 2024"
    note.write_text("longer now", encoding="utf-8")
    assert delegate.file_label(note) == "3 bytes · 3 Oct 2024"  # remembered while painting
    delegate.forget_files()  # new results
    assert delegate.file_label(note).startswith("10 bytes · ")
    note.unlink()
    delegate.forget_files()
    assert delegate.file_label(note) == ""


def test_every_kind_of_document_has_a_type_name() -> None:
    assert set(DOCUMENT_TYPES) == set(media.NOTE_EXTENSIONS)


def test_page_and_heading_reach_the_hits_found_by_meaning(tmp_path: Path) -> None:
    notes = write_notes(tmp_path / "Notes")
    with Store.open(tmp_path / "library" / "library.sqlite3", writer=True) as store:
        roots_rows.add_root(store, notes["pdf"].parent)
        sync(Indexer(store, FakeEncoder, FakeEncoder.identity))
        # A picture finds notes by the meaning of their passages alone (no words to match).
        picture = save_shape(tmp_path / "picture.png", "blue", "circle", seed=3)
        hits = Searcher(store, FakeEncoder()).search(parse("").with_image(picture), 20)
    found = [h for h in hits if h.kind == "note" and h.why == ("passage",)]
    # Each passage's page and heading are those of the part of the document it was cut from.
    for hit in found:
        start = hit.location["start"]
        assert isinstance(start, int)
        sections = extract.extract(hit.path, hit.path.read_bytes()).sections
        section = next(s for s in reversed(sections) if s.start <= start)
        assert hit.location.get("page") == section.page, hit
        assert hit.location.get("heading") == section.heading, hit
    places = {h.path: (h.location.get("page"), h.location.get("heading")) for h in found}
    # The fake model finds these two by meaning (the same every run: it hashes words).
    assert places[notes["pdf"]] == (2, None)
    assert places[notes["word"]] == (None, "Kitchen")


def test_the_preview_renders_markdown_and_tints_only_the_passage_from_note_to_note(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = write_notes(tmp_path / "Notes")
    window = harbour_window(open_fake_window, qtbot, notes["markdown"].parent)
    preview = window.pane.preview
    hit = choose(qtbot, window, notes["markdown"])
    document = preview.text.document()
    blocks = {}
    block = document.begin()
    while block.isValid():
        blocks[block.text()] = block
        block = block.next()
    # Rendered: headings are headings, the list a list, emphasis and links kept; no markup.
    assert blocks["Budget"].blockFormat().headingLevel() == 1
    assert blocks["Travel"].blockFormat().headingLevel() == 2
    assert blocks["groceries 300"].textList() is not None
    assert "#" not in document.toPlainText() and "**" not in document.toPlainText()
    text = document.toPlainText()

    def format_at(word: str) -> QTextCharFormat:
        cursor = preview.text.textCursor()
        cursor.setPosition(text.index(word) + 1)
        return cursor.charFormat()

    assert format_at("ferry").fontItalic()
    assert format_at("night train").fontWeight() == QFont.Weight.Bold
    assert format_at("timetable").anchorHref() == "https://example.org/trains"
    assert_only_the_passage_is_tinted(window, hit)
    qtbot.waitUntil(lambda: passage_in_view(window), timeout=5000)

    # A link opens in its own app.
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    link = preview.text.textCursor()
    link.setPosition(text.index("timetable") + 2)
    spot = preview.text.cursorRect(link).center()
    qtbot.mouseClick(preview.text.viewport(), Qt.MouseButton.LeftButton, pos=spot)
    assert opened == [QUrl("https://example.org/trains")]

    # Down through the others, and back up to the plan: only each passage is tinted.
    notes_view = window.pane.notes
    order = [window.pane.notes_model.hit(r).path for r in range(4)]
    at = order.index(notes["markdown"])
    moves = [Qt.Key.Key_Down] * (3 - at) + [Qt.Key.Key_Up] * 3 + [Qt.Key.Key_Down] * at
    for key in moves:
        at += 1 if key == Qt.Key.Key_Down else -1
        qtbot.keyClick(notes_view, key)
        hit = shown(qtbot, window, order[at])
        assert_only_the_passage_is_tinted(window, hit)
    plain = choose(qtbot, window, notes["text"])
    assert preview.text.document().toPlainText().startswith("Milk and eggs.")  # plain stays plain
    assert_only_the_passage_is_tinted(window, plain)
    qtbot.waitUntil(lambda: passage_in_view(window), timeout=5000)
    assert preview.text.verticalScrollBar().value() > 0  # scrolled down to it


# -- opening at the page ------------------------------------------------------------------


def fake_viewer(tmp_path: Path, program: str, exec_args: str = "%U") -> Path:
    """Make a viewer called program (a script that writes its arguments, one a line, to a
    file) the default app for PDFs, in a desktop of its own; the file it will write."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    said = tmp_path / f"{program}-arguments.txt"
    script = bin_dir / program
    # Written whole, then renamed: the test never reads half of it.
    script.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" > "{said}.part"\nmv "{said}.part" "{said}"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    data, config = tmp_path / "data", tmp_path / "config"
    (data / "applications").mkdir(parents=True, exist_ok=True)
    config.mkdir(exist_ok=True)
    entry = f"fake-{program}.desktop"
    (data / "applications" / entry).write_text(
        f"[Desktop Entry]\nType=Application\nName=Fake {program}\n"
        f"Exec={script} {exec_args}\nMimeType=application/pdf;\n",
        encoding="utf-8",
    )
    (config / "mimeapps.list").write_text(
        f"[Default Applications]\napplication/pdf={entry}\n", encoding="utf-8"
    )
    return said


@pytest.fixture
def own_desktop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """XDG folders of the test's own: the machine's apps and defaults do not count."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_DIRS", str(tmp_path / "no-data"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "no-config"))
    monkeypatch.delenv("XDG_CURRENT_DESKTOP", raising=False)
    return tmp_path


def arguments(qtbot: QtBot, said: Path) -> list[str]:
    qtbot.waitUntil(said.is_file, timeout=10_000)
    return said.read_text(encoding="utf-8").splitlines()


pytestmark_linux = pytest.mark.skipif(
    os.name != "posix" or os.uname().sysname == "Darwin", reason="XDG desktops only"
)


@pytestmark_linux
def test_open_on_a_pdf_hit_starts_the_default_viewer_at_the_passages_page(
    qtbot: QtBot,
    open_fake_window: FakeWindow,
    own_desktop: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    said = fake_viewer(own_desktop, "okular")
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    notes = write_notes(own_desktop / "Notes")
    window = harbour_window(open_fake_window, qtbot, notes["pdf"].parent)
    choose(qtbot, window, notes["pdf"])
    qtbot.mouseClick(window.pane.preview.open_button, Qt.MouseButton.LeftButton)
    assert arguments(qtbot, said) == ["-p", "2", str(notes["pdf"])]
    assert opened == []  # not opened a second time, plainly
    # A note without pages opens plainly, in its own app.
    choose(qtbot, window, notes["markdown"])
    qtbot.mouseClick(window.pane.preview.open_button, Qt.MouseButton.LeftButton)
    assert opened == [QUrl.fromLocalFile(str(notes["markdown"]))]


@pytestmark_linux
@pytest.mark.parametrize(
    ("program", "expected"),
    [
        ("evince", ["--page-index=5", "{pdf}"]),
        ("atril", ["--page-index=5", "{pdf}"]),
        ("zathura", ["-P", "5", "{pdf}"]),
        ("qpdfview", ["{pdf}#5"]),
        ("mupdf", ["{pdf}", "5"]),
        ("firefox", ["{uri}#page=5"]),
    ],
)
def test_each_known_viewer_is_told_the_page_its_own_way(
    qtbot: QtBot, own_desktop: Path, program: str, expected: list[str]
) -> None:
    said = fake_viewer(own_desktop, program)
    pdf = own_desktop / "My log.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    assert desktop.open_at_page(pdf, 5)
    wanted = [e.format(pdf=pdf, uri=pdf.as_uri()) for e in expected]
    assert arguments(qtbot, said) == wanted


def test_an_unknown_viewer_or_no_default_opens_plainly(own_desktop: Path) -> None:
    pdf = own_desktop / "log.pdf"
    assert desktop.page_command(pdf, 2) is None  # no default app at all
    fake_viewer(own_desktop, "mystery-viewer")
    assert desktop.page_command(pdf, 2) is None
    assert not desktop.open_at_page(pdf, 2)


def test_a_flatpak_viewer_is_known_by_its_id(own_desktop: Path) -> None:
    data = own_desktop / "data" / "applications"
    data.mkdir(parents=True)
    (data / "org.gnome.Evince.desktop").write_text(
        "[Desktop Entry]\nType=Application\nName=Document Viewer\n"
        "Exec=/usr/bin/flatpak run --branch=stable --command=evince org.gnome.Evince %U\n",
        encoding="utf-8",
    )
    (own_desktop / "config").mkdir()
    (own_desktop / "config" / "mimeapps.list").write_text(
        "[Added Associations]\napplication/pdf=gone.desktop;org.gnome.Evince.desktop;\n",
        encoding="utf-8",
    )
    pdf = own_desktop / "log.pdf"
    assert desktop.page_command(pdf, 3) == [
        "/usr/bin/flatpak", "run", "--branch=stable", "--command=evince", "org.gnome.Evince",
        "--page-index=3", str(pdf),
    ]  # fmt: skip


def test_a_heading_that_is_only_the_title_is_not_repeated() -> None:
    def hit(heading: str) -> Hit:
        location: dict[str, object] = {"heading": heading, "start": 0, "end": 5}
        return Hit(1, Path("/notes/2024-10-01 diary.md"), "note", 1.0, 0.0, "text", "x", location)

    assert place_label(hit("2024-10-01 diary")) == ""  # the file's own title
    assert place_label(hit("Budget")) == "under “Budget”"


def test_browsing_lists_notes_without_room_for_a_passage(
    qtbot: QtBot, open_fake_window: FakeWindow, tmp_path: Path
) -> None:
    written = write_notes(tmp_path / "Notes")
    window = harbour_window(open_fake_window, qtbot, written["markdown"].parent)
    notes = window.pane.notes
    searched = notes.sizeHintForRow(0)
    window.search_field.clear_all()
    qtbot.waitUntil(
        lambda: final_results(window) and window.results is not None
        and window.results.query.empty and window.pane.notes_model.rowCount() == 4,
        timeout=SLOW,
    )  # fmt: skip
    browsed = notes.sizeHintForRow(0)
    assert browsed < searched - QFontMetrics(notes.font()).lineSpacing()
    notes.grab()  # paints the rows without a passage
