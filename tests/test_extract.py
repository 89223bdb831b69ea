"""Documents as text: every format from a real file written by the test."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docx
import pytest
from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from mediafind import extract as extract_module
from mediafind.errors import UnreadableFile, nothing_to_read
from mediafind.extract import DOCUMENT_EXTENSIONS, Document, extract, read_note
from mediafind.media import NOTE_EXTENSIONS


def read(path: Path) -> Document:
    return extract(path, path.read_bytes())


def texts(document: Document) -> list[str]:
    return [s.text for s in document.sections]


def unreadable(path: Path) -> str:
    with pytest.raises(UnreadableFile) as caught:
        read(path)
    return str(caught.value)


def assert_offsets_point_at_sections(document: Document) -> None:
    full = document.text
    for section in document.sections:
        assert full[section.start : section.start + len(section.text)] == section.text


# -- plain text and Markdown -------------------------------------------------------------------


def test_plain_text_paragraphs_become_sections_at_their_offsets(tmp_path: Path) -> None:
    note = tmp_path / "kites.txt"
    note.write_text("A red kite.\nIt flew high.\n\n  \n\nThe string broke.\r\n\r\nWe ran.\n")
    document = read(note)
    assert texts(document) == ["A red kite.\nIt flew high.", "The string broke.", "We ran."]
    assert [s.heading for s in document.sections] == [None, None, None]
    assert document.text == "A red kite.\nIt flew high.\n\nThe string broke.\n\nWe ran."
    assert_offsets_point_at_sections(document)
    assert not document.truncated and document.note is None


def test_plain_text_in_a_windows_code_page_is_decoded(tmp_path: Path) -> None:
    note = tmp_path / "menu.txt"
    note.write_bytes("Crème brûlée for dessert, à volonté.".encode("cp1252"))
    assert texts(read(note)) == ["Crème brûlée for dessert, à volonté."]


def test_an_empty_document_is_unreadable(tmp_path: Path) -> None:
    (tmp_path / "blank.txt").write_text("  \n\n ")
    (tmp_path / "blank.pdf").write_bytes(b"")
    assert unreadable(tmp_path / "blank.txt") == "empty file"
    assert unreadable(tmp_path / "blank.pdf") == "empty file"


def test_a_file_of_another_type_is_not_a_document(tmp_path: Path) -> None:
    (tmp_path / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    assert "not a document type" in unreadable(tmp_path / "sheet.xlsx")
    assert {".pdf", ".docx", ".odt", ".rtf", ".html", ".htm", ".md", ".txt"} <= DOCUMENT_EXTENSIONS


def test_every_note_kind_has_a_reader() -> None:
    assert NOTE_EXTENSIONS == DOCUMENT_EXTENSIONS


def test_markdown_headings_label_the_sections_below_them(tmp_path: Path) -> None:
    note = tmp_path / "trip.md"
    note.write_text(
        "Before any heading.\n\n# Beach day\n\nWe flew a *red* kite.\n\n"
        "## Lunch\n\nSandwiches with [mustard](https://example.com).\n\n"
        "Setext heading\n--------------\n\nLast words.\n"
    )
    document = read(note)
    assert [(s.text, s.heading) for s in document.sections] == [
        ("Before any heading.", None),
        ("Beach day", "Beach day"),
        ("We flew a red kite.", "Beach day"),
        ("Lunch", "Lunch"),
        ("Sandwiches with mustard.", "Lunch"),
        ("Setext heading", "Setext heading"),
        ("Last words.", "Setext heading"),
    ]
    assert_offsets_point_at_sections(document)


def test_markdown_lists_tables_quotes_and_code_are_one_section_each(tmp_path: Path) -> None:
    note = tmp_path / "lists.md"
    note.write_text(
        "# Packing\n\n- towel\n- sun cream\n  - factor 50\n\n> Do not forget\n> the kite.\n\n"
        "| item | count |\n|------|-------|\n| pegs | 12 |\n\n```\nprint('hi')\n```\n"
    )
    document = read(note)
    assert texts(document) == [
        "Packing",
        "towel\nsun cream\nfactor 50",
        "Do not forget\nthe kite.",
        "item | count\npegs | 12",
        "print('hi')",
    ]
    assert {s.heading for s in document.sections} == {"Packing"}


def test_markdown_front_matter_is_text_not_a_heading(tmp_path: Path) -> None:
    note = tmp_path / "vault.md"
    note.write_text("---\ntitle: Kites\ntags: [beach, wind]\n---\n\nBody text.\n")
    document = read(note)
    assert [(s.text, s.heading) for s in document.sections] == [
        ("title: Kites\ntags: [beach, wind]", None),
        ("Body text.", None),
    ]


def test_markdown_with_only_markup_has_no_text(tmp_path: Path) -> None:
    note = tmp_path / "rule.md"
    note.write_text("---\n\n<!-- a comment -->\n\n***\n")
    assert unreadable(note) == "no text in the file"


MARKDOWN = """\
# Trip to the *coast*

We flew a **red kite** near the `lighthouse`, see [the map](https://example.org/map).

![a red circle on the sand](circle.png)

- buy eggs
- fix the bike

```python
print("hello")
```
"""


def test_markdown_keeps_its_words_and_drops_its_markup(tmp_path: Path) -> None:
    note = tmp_path / "trip.md"
    note.write_text(MARKDOWN, encoding="utf-8")
    plain = read(note).text

    for kept in (
        "Trip to the coast",
        "We flew a red kite near the lighthouse, see the map.",
        "a red circle on the sand",
        "buy eggs",
        "fix the bike",
        'print("hello")',
    ):
        assert kept in plain
    for markup in ("#", "*", "`", "](", "https://", "circle.png", "- buy"):
        assert markup not in plain


def test_markdown_note_is_read_without_markup(tmp_path: Path) -> None:
    path = tmp_path / "trip.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    text = read_note(path, path.read_bytes())
    assert "red kite" in text and "**" not in text


def test_plain_note_is_read_as_is(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_bytes(b"# not a heading\n**eggs**")
    assert read_note(path, path.read_bytes()) == "# not a heading\n**eggs**"


def test_markdown_note_with_only_markup_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "rule.md"
    path.write_text("---\n\n***\n", encoding="utf-8")
    with pytest.raises(UnreadableFile, match="no text"):
        read_note(path, path.read_bytes())


def test_the_character_cap_cuts_the_document_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extract_module, "MAX_TEXT_CHARS", 40)
    note = tmp_path / "long.txt"
    note.write_text("First paragraph here.\n\nSecond paragraph is cut.\n\nThird is gone.")
    document = read(note)
    assert texts(document) == ["First paragraph here.", "Second paragraph"]
    assert len(document.text) <= 40
    assert document.truncated
    assert document.note == "only the first 40 characters are indexed"


# -- PDF ---------------------------------------------------------------------------------------


def pdf_bytes(pages: list[str | Image.Image], **canvas_options: object) -> bytes:
    """A PDF with one page per item: lines of text, or a picture and no text at all."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, **canvas_options)
    for page in pages:
        if isinstance(page, Image.Image):
            canvas.drawImage(ImageReader(page), 72, 300, width=300, height=300)
        else:
            for i, line in enumerate(page.splitlines()):
                canvas.drawString(72, 720 - 14 * i, line)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def test_pdf_sections_keep_their_page_numbers(tmp_path: Path) -> None:
    report = tmp_path / "report.pdf"
    report.write_bytes(pdf_bytes(["Kites of the north\nby the sea", "Page two", "Page three"]))
    document = read(report)
    assert [(s.page, s.text) for s in document.sections] == [
        (1, "Kites of the north\nby the sea"),
        (2, "Page two"),
        (3, "Page three"),
    ]
    assert_offsets_point_at_sections(document)
    assert not document.truncated


def test_a_pdf_page_without_text_is_skipped_but_counted(tmp_path: Path) -> None:
    report = tmp_path / "gap.pdf"
    report.write_bytes(pdf_bytes(["Before the photo", Image.new("RGB", (8, 8), "red"), "After"]))
    assert [(s.page, s.text) for s in read(report).sections] == [
        (1, "Before the photo"),
        (3, "After"),
    ]


def test_a_pdf_of_pictures_only_is_a_scanned_pdf_without_text(tmp_path: Path) -> None:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(pdf_bytes([Image.new("RGB", (8, 8), "red"), Image.new("RGB", (8, 8), "blue")]))
    reason = unreadable(scan)
    assert reason == "scanned PDF without text (no text layer on any of its 2 pages)"


def test_a_blank_pdf_is_a_pdf_without_a_text_layer_not_a_scan(tmp_path: Path) -> None:
    blank = tmp_path / "blank.pdf"
    blank.write_bytes(pdf_bytes([""]))
    reason = unreadable(blank)
    assert reason == "PDF without a text layer (no text and no pictures on its only page)"
    assert nothing_to_read(reason)  # information, not an error


def test_an_encrypted_pdf_needs_a_password(tmp_path: Path) -> None:
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(pdf_bytes(["Bank details"], encrypt="hunter2"))
    assert unreadable(secret) == "encrypted PDF (needs a password)"


def test_a_pdf_that_only_restricts_printing_is_read(tmp_path: Path) -> None:
    from reportlab.lib.pdfencrypt import StandardEncryption

    locked = tmp_path / "locked.pdf"
    encryption = StandardEncryption("", ownerPassword="owner", canPrint=0)
    locked.write_bytes(pdf_bytes(["Readable by all"], encrypt=encryption))
    assert texts(read(locked)) == ["Readable by all"]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda pdf: pdf[: len(pdf) // 3], id="truncated"),
        pytest.param(lambda pdf: b"%PDF-1.4\n" + b"garbage " * 64, id="garbage"),
        pytest.param(lambda pdf: pdf[:-200], id="no-cross-reference"),
    ],
)
def test_a_malformed_pdf_is_a_damaged_pdf(tmp_path: Path, damage: Callable[[bytes], bytes]) -> None:
    broken = tmp_path / "broken.pdf"
    good = pdf_bytes(["Some text that was here", "and more"])
    broken.write_bytes(damage(good))
    assert unreadable(broken).startswith("damaged PDF: ")


def test_pdfs_can_be_read_from_several_threads_at_once(tmp_path: Path) -> None:
    # The indexer decodes in a thread pool, and PDFium is not thread-safe.
    data = pdf_bytes([f"Page {n} of the manual" for n in range(1, 21)])
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: texts(extract(Path("m.pdf"), data)), range(12)))
    assert all(r == results[0] for r in results)
    assert results[0][19] == "Page 20 of the manual"


def test_the_page_cap_reads_the_first_pages_and_names_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extract_module, "MAX_PDF_PAGES", 2)
    book = tmp_path / "book.pdf"
    book.write_bytes(pdf_bytes(["one", "two", "three", "four"]))
    document = read(book)
    assert texts(document) == ["one", "two"]
    assert document.truncated
    assert document.note == "pages 3-4 not indexed (page cap)"


# -- Word, OpenDocument, HTML, RTF -------------------------------------------------------------


def test_docx_paragraphs_headings_and_tables_come_in_order(tmp_path: Path) -> None:
    word = docx.Document()
    word.add_paragraph("Intro before headings.")
    word.add_heading("Garden", level=1)
    word.add_paragraph("Tomatoes grow by the wall.")
    table = word.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "plant", (0, 1): "month", (1, 0): "basil", (1, 1): "May"}.items():
        table.cell(r, c).text = text
    word.add_paragraph("")
    word.add_heading("Kitchen", level=2)
    word.add_paragraph("Soup.")
    path = tmp_path / "garden.docx"
    word.save(str(path))
    document = read(path)
    assert [(s.text, s.heading) for s in document.sections] == [
        ("Intro before headings.", None),
        ("Garden", "Garden"),
        ("Tomatoes grow by the wall.", "Garden"),
        ("plant | month\nbasil | May", "Garden"),
        ("Kitchen", "Kitchen"),
        ("Soup.", "Kitchen"),
    ]
    assert_offsets_point_at_sections(document)


@pytest.mark.parametrize(
    "parts",
    [
        pytest.param({"readme.txt": "hello"}, id="no-package-parts"),
        pytest.param({"[Content_Types].xml": "<Types/>"}, id="no-document-xml"),
        pytest.param(
            {"[Content_Types].xml": "<Types", "word/document.xml": "<w:document"}, id="bad-xml"
        ),
    ],
)
def test_a_zip_without_a_word_document_is_a_damaged_word_document(
    tmp_path: Path, parts: dict[str, str]
) -> None:
    path = tmp_path / "empty.docx"
    with zipfile.ZipFile(path, "w") as package:
        for name, content in parts.items():
            package.writestr(name, content)
    assert unreadable(path).startswith("damaged Word document: ")


def test_a_word_package_missing_its_document_part_is_damaged(tmp_path: Path) -> None:
    whole = tmp_path / "whole.docx"
    word = docx.Document()
    word.add_paragraph("Lost text")
    word.save(str(whole))
    path = tmp_path / "gutted.docx"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(path, "w") as package:
        for item in source.infolist():
            if item.filename != "word/document.xml":
                package.writestr(item, source.read(item))
    assert unreadable(path) == (
        "damaged Word document: There is no item named 'word/document.xml' in the archive"
    )


def test_an_office_file_unpacking_to_huge_xml_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extract_module, "MAX_XML_BYTES", 1000)
    path = tmp_path / "bomb.odt"
    write_odt(path, ODT_CONTENT)
    assert unreadable(path).startswith("OpenDocument text too large to open safely")


def test_a_word_file_that_is_not_a_zip_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "fake.docx"
    path.write_bytes(b"This is not a zip at all")
    assert unreadable(path) == "damaged Word document: not a zip archive"


def test_a_password_protected_word_file_says_it_is_encrypted(tmp_path: Path) -> None:
    # Word saves a protected .docx as an OLE compound file with an EncryptedPackage stream.
    path = tmp_path / "locked.docx"
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    path.write_bytes(header + "EncryptedPackage".encode("utf-16-le") + bytes(64))
    assert unreadable(path) == "encrypted Word document (needs a password)"


ODT_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content
  xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
  xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
  xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0">
 <office:body><office:text>
  <text:sequence-decls><text:sequence-decl text:name="Figure"/></text:sequence-decls>
  <text:p>Opening words.</text:p>
  <text:h text:outline-level="1">Mountains</text:h>
  <text:p>Snow<text:s text:c="3"/>on <text:span>the</text:span> peaks<text:note>
    <text:note-citation>1</text:note-citation>
    <text:note-body><text:p>A footnote.</text:p></text:note-body></text:note>.</text:p>
  <text:list><text:list-item><text:p>boots</text:p></text:list-item>
   <text:list-item><text:p>rope</text:p></text:list-item></text:list>
  <table:table><table:table-row><table:table-cell><text:p>altitude</text:p></table:table-cell>
  </table:table-row></table:table>
  <text:h text:outline-level="2">Valleys</text:h>
  <text:p>Green<text:line-break/>and quiet.</text:p>
 </office:text></office:body>
</office:document-content>
"""


def write_odt(path: Path, content: str, manifest: str = "<manifest/>") -> None:
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        package.writestr("content.xml", content)
        package.writestr("META-INF/manifest.xml", manifest)


def test_odt_headings_and_paragraphs_come_from_its_content(tmp_path: Path) -> None:
    path = tmp_path / "hike.odt"
    write_odt(path, ODT_CONTENT)
    document = read(path)
    assert [(s.text, s.heading) for s in document.sections] == [
        ("Opening words.", None),
        ("Mountains", "Mountains"),
        ("Snow   on the peaks.", "Mountains"),
        ("boots", "Mountains"),
        ("rope", "Mountains"),
        ("altitude", "Mountains"),
        ("Valleys", "Valleys"),
        ("Green\nand quiet.", "Valleys"),
    ]


def test_an_encrypted_odt_needs_a_password(tmp_path: Path) -> None:
    path = tmp_path / "locked.odt"
    write_odt(path, "\x00\x01binary", '<manifest><encryption-data checksum="x"/></manifest>')
    assert unreadable(path) == "encrypted OpenDocument text (needs a password)"


def test_an_odt_declaring_entities_is_refused(tmp_path: Path) -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">]><d>&a;&a;</d>'
    path = tmp_path / "bomb.odt"
    write_odt(path, bomb)
    assert unreadable(path).startswith("damaged OpenDocument text: ")


def test_html_headings_start_sections_and_scripts_are_skipped(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<!doctype html><html><head><title>Trip</title><style>p{color:red}</style>"
        "<script>var s = '<p>not text</p>';</script></head><body>"
        "<nav><a href='/'>Home</a></nav><p>Intro &amp; welcome</p>"
        "<h1>Day <em>one</em></h1><p>We   walked<br>far.</p><div>Tea at <b>five</b></div>"
        "<table><tr><th>time</th><th>place</th></tr><tr><td>9:00</td><td>pier</td></tr></table>"
        "<noscript>Enable JavaScript</noscript><template><p>hidden</p></template>"
        "<h2>Day two</h2><ul><li>rain</li><li>cards</li></ul><pre>  keep   spacing</pre>"
        "</body></html>",
        encoding="utf-8",
    )
    document = read(page)
    assert [(s.text, s.heading) for s in document.sections] == [
        ("Trip", None),
        ("Intro & welcome", None),
        ("Day one", "Day one"),
        ("We walked\nfar.", "Day one"),
        ("Tea at five", "Day one"),
        ("time | place\n9:00 | pier", "Day one"),
        ("Day two", "Day two"),
        ("rain", "Day two"),
        ("cards", "Day two"),
        ("keep   spacing", "Day two"),
    ]
    assert_offsets_point_at_sections(document)


def test_html_is_decoded_with_its_meta_charset(tmp_path: Path) -> None:
    page = tmp_path / "old.htm"
    markup = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
    page.write_bytes((markup + "<p>Café “Zürich”</p></head></html>").encode("cp1252"))
    assert texts(read(page)) == ["Café “Zürich”"]


def test_a_huge_html_page_is_read_up_to_the_cap_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extract_module, "MAX_MARKUP_BYTES", 100)
    page = tmp_path / "huge.html"
    page.write_text("<p>kept words</p>" + "<p>lost words</p>" * 20)
    document = read(page)
    assert texts(document)[0] == "kept words"
    assert "\n\n".join(texts(document)).count("words") < 20
    assert document.truncated
    assert document.note == "only the first part of this large page is indexed"


def test_rtf_paragraphs_and_escaped_characters_are_read(tmp_path: Path) -> None:
    letter = tmp_path / "letter.rtf"
    letter.write_bytes(
        rb"{\rtf1\ansi\ansicpg1252{\fonttbl\f0\fswiss Helvetica;}\f0\pard Dear Ren\'e9e,\par"
        rb"\par The {\b kite} is \u9731? ready.\par {\pict\pngblip 89504e47}Bye\par}"
    )
    assert texts(read(letter)) == ["Dear Renée,", "The kite is ☃ ready.", "Bye"]


def test_a_file_that_is_not_rtf_is_a_damaged_rtf_document(tmp_path: Path) -> None:
    fake = tmp_path / "fake.rtf"
    fake.write_text("just words")
    assert unreadable(fake).startswith("damaged RTF document")
