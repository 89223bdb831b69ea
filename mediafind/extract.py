"""Documents as text with locations: PDF pages, Word, OpenDocument, HTML, RTF, Markdown, plain text.

A document becomes a list of sections (a page, a paragraph, a heading, a table), each with the
nearest heading above it and its offset in the document's full text, so that a hit can say where
it is. What cannot be read raises UnreadableFile with a reason written for the user."""

from __future__ import annotations

import codecs
import logging
import re
import threading
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from mediafind.errors import (
    EMPTY_FILE,
    NO_TEXT,
    NO_TEXT_LAYER,
    SCANNED_PDF,
    SCANNED_UNREAD,
    NothingToRead,
    UnreadableFile,
    describe,
)
from mediafind.pictext import TextLine, TextReader
from mediafind.picturetext import joined, kept_lines
from mediafind.text import MAX_TEXT_CHARS, Span, chunk_text, decode_head, decode_text

if TYPE_CHECKING:
    from markdown_it.token import Token

log = logging.getLogger(__name__)

# Sections are joined by this to make the document's full text; Section.start counts in it.
SEPARATOR = "\n\n"

# PDFs are read up to this many pages. Each page costs a few milliseconds even when it holds no
# text, so a 10,000-page scan would hold the decode pool for a minute; 1,000 pages of real text
# already pass the character cap (MAX_TEXT_CHARS, shared with notes) in most books.
MAX_PDF_PAGES = 1000

# DOCX and ODT are zip files: an XML part that unpacks larger than this is refused rather than
# parsed, as a guard against zip bombs. Real documents' XML is about ten times their text, so
# this admits far more text than the character cap keeps.
MAX_XML_BYTES = 100 * 1024 * 1024

# HTML and RTF are parsed in pure Python (2 to 4 MB a second), so only this many bytes of them
# are read (pictures in RTF are dropped first): text beyond it is lost, but files this large are
# mostly markup and scripts, and reading more would hold a decode thread for many seconds.
MAX_MARKUP_BYTES = 8 * 1024 * 1024

# PDF, DOCX, ODT and RTF are read whole (a PDF's and a zip's index is at its end, RTF's pictures
# are dropped from the whole of it): a file larger than this is refused rather than held in
# memory. Text-heavy documents are far smaller (a 1,000-page book is a few MB); files this large
# are scans, which hold no text anyway.
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024

# Scanned pages (a picture and no text layer) are rendered at this resolution for reading the
# text in them: print-size text (10 pt) is then about 24 pixels high, what recognisers read
# best; more costs time with no better reading, less loses small print.
SCAN_DPI = 170
# ... within this many pixels (a poster-size page is rendered smaller): a page's picture is
# held while it is read, three bytes a pixel.
MAX_SCAN_PIXELS = 6_000_000
# Scanned pages read per PDF: reading one costs about a second, so a 1,000-page scan would
# hold the indexer for a quarter of an hour; the rest are said to be left out.
MAX_SCAN_PAGES = 200

# PDFium is not thread-safe, and the indexer decodes in a thread pool: one PDF at a time.
_PDFIUM_LOCK = threading.Lock()

# Old Office binary files and password-protected OOXML files are OLE compound documents.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")


@dataclass(frozen=True, slots=True)
class Section:
    """One structural unit of a document: a PDF page, a paragraph, a heading or a table."""

    text: str
    page: int | None = None  # 1-based, for PDFs
    heading: str | None = None  # the nearest heading above it (a heading's own text for itself)
    start: int = 0  # offset of text within Document.text
    # Text read in the page's picture (a scanned page): its lines, whose joined text is text.
    lines: tuple[TextLine, ...] = ()


@dataclass(frozen=True, slots=True)
class Document:
    sections: list[Section]
    truncated: bool = False  # a size cap cut it
    note: str | None = None  # what the user should know, e.g. which part is not indexed

    @property
    def text(self) -> str:
        """The full text: sections joined by SEPARATOR (Section.start counts in it)."""
        return SEPARATOR.join(s.text for s in self.sections)


class _Builder:
    """Collects sections in order, tracks the current heading and stops at the character cap."""

    def __init__(self) -> None:
        self.limit = MAX_TEXT_CHARS  # read at call time, so tests can lower it
        self.sections: list[Section] = []
        self.heading: str | None = None
        self.length = 0
        self.full = False

    def add(
        self,
        text: str,
        *,
        page: int | None = None,
        is_heading: bool = False,
        lines: tuple[TextLine, ...] = (),
    ) -> bool:
        """Add a section (blank text is skipped); False once the cap is reached."""
        text = text.strip()
        if self.full or not text:
            return not self.full
        if is_heading:
            self.heading = " ".join(text.split())
        start = self.length + (len(SEPARATOR) if self.sections else 0)
        if start + len(text) > self.limit:
            self.full = True
            text = text[: max(self.limit - start, 0)].rstrip()
            if not text:
                return False
        self.sections.append(Section(text, page, self.heading, start, lines))
        self.length = start + len(text)
        return not self.full

    def document(self, cut: str | None = None, notes: Sequence[str] = ()) -> Document:
        """The document; cut says what a size cap other than the character cap left out."""
        if not self.sections:
            raise NothingToRead(NO_TEXT)
        if self.full:
            cut = f"only the first {self.limit:,} characters are indexed"
        said = [cut, *notes] if cut else list(notes)
        return Document(self.sections, truncated=cut is not None, note="; ".join(said) or None)


def chunk_document(
    document: Document,
    count_tokens: Callable[[str], int],
    max_tokens: int,
    overlap_tokens: int,
) -> list[Span]:
    """Chunks that follow the document's structure: consecutive sections on the same page
    under the same heading are cut together (at paragraph and sentence ends where possible,
    with overlap), never across a heading or a page. Offsets count in Document.text."""
    text = document.text
    spans: list[Span] = []
    group: list[Section] = []
    for section in [*document.sections, None]:
        if group and (section is None or _place(section) != _place(group[0])):
            first, last = group[0], group[-1]
            body = text[first.start : last.start + len(last.text)]
            for span in chunk_text(body, count_tokens, max_tokens, overlap_tokens):
                spans.append(
                    Span(
                        first.start + span.start,
                        first.start + span.end,
                        span.text,
                        first.page,
                        first.heading,
                    )
                )
            group = []
        if section is not None:
            group.append(section)
    return spans


def _place(section: Section) -> tuple[int | None, str | None]:
    return section.page, section.heading


def read_note(path: Path, data: bytes) -> str:
    """The text of a note or document as it is indexed (chunk offsets count in it); refuses
    files with no text."""
    return extract(path, data).text


def bytes_needed(path: Path, size: int) -> int:
    """How many of a document's first bytes its reader uses (the file's size when it reads it
    whole): text needs the character cap's bytes and one more (to know that it goes on), HTML
    its markup cap's. Raises UnreadableFile for a file read whole that is too large."""
    reader = _READERS.get(path.suffix.lower())
    if reader in (_text, _markdown):
        return 4 * MAX_TEXT_CHARS + 1
    if reader is _html:
        return MAX_MARKUP_BYTES + 1
    if reader is not None and size > MAX_DOCUMENT_BYTES:
        raise UnreadableFile(
            f"document too large to read ({size / 2**20:,.0f} MB; mediafind reads documents "
            f"up to {MAX_DOCUMENT_BYTES // 2**20} MB)"
        )
    return size


def extract(path: Path, data: bytes, pictures: TextReader | None = None) -> Document:
    """The text of a document, in sections with locations; raises UnreadableFile. pictures:
    what reads the text of a PDF's scanned pages (None: they are not read)."""
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        raise UnreadableFile(f"not a document type mediafind reads ({suffix or 'no extension'})")
    if not data or (len(data) < 4096 and not data.strip()):  # strip() would copy a big file
        raise NothingToRead(EMPTY_FILE)
    document = _pdf(data, pictures) if reader is _pdf else reader(data)
    if document.truncated:
        log.info("%s: %s", path, document.note)
    return document


# -- plain text and Markdown -------------------------------------------------------------------


def _text(data: bytes) -> Document:
    """Paragraphs (separated by blank lines) become sections."""
    builder = _Builder()
    text, cut = _decoded_prefix(data)
    for paragraph in re.split(r"\n[ \t\f\v\r]*\n", text.replace("\r\n", "\n")):
        if not builder.add(paragraph):
            break
    builder.full = builder.full or cut
    return builder.document()


def _decoded_prefix(data: bytes) -> tuple[str, bool]:
    """Decode no more bytes than the character cap can use (a character is at most 4 bytes)."""
    return decode_head(data, 4 * MAX_TEXT_CHARS)


def _markdown(data: bytes) -> Document:
    """Top-level blocks (heading, paragraph, list, quote, table, code) become sections."""
    from markdown_it import MarkdownIt

    source, cut = _decoded_prefix(data)
    builder = _Builder()
    front = re.match(r"---[ \t]*\r?\n(.*?\r?\n)(?:---|\.\.\.)[ \t]*(?:\r?\n|$)", source, re.S)
    if front:
        # YAML front matter (Obsidian, Jekyll): its tags and title are worth finding, but
        # CommonMark would read its closing --- as a heading underline.
        builder.add(front.group(1))
        source = source[front.end() :]
    parts: list[str] = []
    cells: list[str] | None = None
    for token in MarkdownIt("commonmark").enable("table").parse(source):
        if token.type == "inline":
            text = _inline_text(token.children or [])
            if cells is not None:
                cells.append(" ".join(text.split()))
            else:
                parts.append(text)
        elif token.type in ("fence", "code_block"):
            parts.append(token.content.rstrip("\n"))
        elif token.type == "tr_open":
            cells = []
        elif token.type == "tr_close" and cells is not None:
            parts.append(" | ".join(cells))
            cells = None
        if token.level == 0 and token.nesting <= 0 and parts:
            # the end of a top-level block
            if not builder.add("\n".join(parts), is_heading=token.type == "heading_close"):
                break
            parts = []
    builder.full = builder.full or cut
    return builder.document()


def _inline_text(children: list[Token]) -> str:
    out: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline", "image"):  # an image's content is its alt text
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append("\n")
    return "".join(out)


# -- PDF ---------------------------------------------------------------------------------------


def _has_picture(page: Any) -> bool:
    """Whether a PDF page holds a picture (a scanned page is one picture)."""
    import pypdfium2.raw as raw

    kinds = (raw.FPDF_PAGEOBJ_IMAGE,)
    return next(iter(page.get_objects(filter=kinds, max_depth=2)), None) is not None


def _pdf(data: bytes, pictures: TextReader | None = None) -> Document:
    """One section per page that has text: its text layer's, or, for a scanned page (a
    picture, no text layer), the text pictures reads in it."""
    import pypdfium2 as pdfium

    builder = _Builder()
    with _PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as e:
            code = getattr(e, "err_code", None)
            if code == pdfium.raw.FPDF_ERR_PASSWORD:
                raise UnreadableFile("encrypted PDF (needs a password)") from e
            if code == pdfium.raw.FPDF_ERR_SECURITY:
                raise UnreadableFile("encrypted PDF (unsupported protection)") from e
            raise UnreadableFile("damaged PDF: not a readable PDF file") from e
        try:
            count = len(pdf)
            read = min(count, MAX_PDF_PAGES)
            broken = pictured = scanned = 0
            failures: list[str] = []
            for index in range(read):
                lines: tuple[TextLine, ...] = ()
                try:
                    page = pdf[index]
                    try:
                        text = page.get_textpage().get_text_bounded()
                        if not text.strip() and _has_picture(page):
                            pictured += 1  # a scanned page, most likely
                            if pictures is not None and scanned < MAX_SCAN_PAGES:
                                scanned += 1
                                lines = _read_page(page, pictures, failures)
                                text = joined(lines)
                    finally:
                        page.close()  # closes its text page too
                except pdfium.PdfiumError:
                    broken += 1  # one damaged page should not lose the others
                    continue
                if lines:
                    going = builder.add(text, page=index + 1, lines=lines)
                else:
                    going = builder.add(_clean_pdf_text(text), page=index + 1)
                if not going:
                    break
        finally:
            pdf.close()
    if not builder.sections:
        if broken == read:
            raise UnreadableFile("damaged PDF: no page could be read")
        pages = f"first {read} pages" if read < count else f"{count} pages"
        where = "its only page" if count == 1 else f"any of its {pages}"
        if pictured and failures:
            raise NothingToRead(f"{SCANNED_UNREAD} (reading failed: {failures[0]})")
        if pictured and scanned:
            raise NothingToRead(f"{SCANNED_UNREAD} (no text found on {where})")
        if pictured:  # pages that are pictures: a scan, which OCR could read
            raise NothingToRead(f"{SCANNED_PDF} (no text layer on {where})")
        raise NothingToRead(f"{NO_TEXT_LAYER} (no text and no pictures on {where})")
    cut = None
    if read < count:
        left_out = f"page {count}" if read + 1 == count else f"pages {read + 1}-{count}"
        cut = f"{left_out} not indexed (page cap)"
    notes = [f"{broken} damaged page{'s' if broken > 1 else ''} skipped"] if broken else []
    if failures:
        pages = "a scanned page" if len(failures) == 1 else f"{len(failures)} scanned pages"
        notes.append(f"the text of {pages} could not be read ({failures[0]})")
    if pictures is not None and pictured > scanned:
        notes.append(f"{pictured - scanned} scanned pages not read (only {scanned} are)")
    return builder.document(cut, notes)


def _read_page(page: Any, pictures: TextReader, failures: list[str]) -> tuple[TextLine, ...]:
    """The lines of text read in a scanned page, rendered at SCAN_DPI within MAX_SCAN_PIXELS;
    none when it holds none, or when reading it failed (said in failures)."""
    width, height = page.get_size()  # in points, 72 to the inch
    scale = min(SCAN_DPI / 72, (MAX_SCAN_PIXELS / max(width * height, 1.0)) ** 0.5)
    try:
        picture = page.render(scale=scale).to_pil().convert("RGB")
        if not pictures.has_text(picture):
            return ()
        return tuple(kept_lines(pictures.read(picture)))
    except Exception as e:  # the reader's failure costs this page's text, not the document
        log.warning("cannot read the text of a scanned PDF page", exc_info=True)
        failures.append(describe(e))
        return ()


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _clean_pdf_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # PDFium marks a hyphen it found at a line end with \x02: the word goes on on the next line.
    text = re.sub(r"\x02\n", "", text)
    return _CONTROL.sub("", text)


# -- DOCX --------------------------------------------------------------------------------------


def _docx(data: bytes) -> Document:
    """Paragraphs (Heading and Title styles are headings) and tables, in document order."""
    if data.startswith(_OLE_MAGIC):
        if _OLE_ENCRYPTED_STREAM in data:
            raise UnreadableFile("encrypted Word document (needs a password)")
        raise UnreadableFile("old Word format (.doc), not .docx: save it as .docx to index it")
    _check_package(data, "Word document", "[Content_Types].xml")
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(BytesIO(data))
        builder = _Builder()
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                rows = []
                for row in block.rows:
                    texts: list[str] = []
                    previous = None
                    for cell in row.cells:
                        if cell is not previous:  # a merged cell is listed once per column
                            texts.append(" ".join(cell.text.split()))
                        previous = cell
                    rows.append(" | ".join(t for t in texts if t))
                going = builder.add("\n".join(r for r in rows if r))
            else:
                style = block.style.name if block.style is not None else None
                # Built-in style names are stored in English whatever the language of Word.
                heading = (style or "").lower().startswith(("heading", "title"))
                going = builder.add(block.text, is_heading=heading)
            if not going:
                break
    except (PackageNotFoundError, KeyError, ValueError, SyntaxError, zipfile.BadZipFile) as e:
        # lxml's XMLSyntaxError is a SyntaxError; a missing part is a KeyError.
        raise UnreadableFile(f"damaged Word document: {_reason(e)}") from e
    except Exception as e:
        # python-docx trusts the package's structure and trips over a broken one with whatever
        # error comes first (AttributeError, TypeError…): still a damaged file, not our bug.
        log.debug("python-docx cannot read a document", exc_info=True)
        raise UnreadableFile("damaged Word document: unexpected structure") from e
    return builder.document()


def _check_package(data: bytes, what: str, required: str) -> zipfile.ZipFile:
    """The zip of an office document, with its required part and no oversized XML."""
    try:
        package = zipfile.ZipFile(BytesIO(data))
        names = set(package.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise UnreadableFile(f"damaged {what}: not a zip archive") from e
    if required not in names:
        raise UnreadableFile(f"damaged {what}: {required} is missing")
    biggest = max(
        (i.file_size for i in package.infolist() if i.filename.endswith(".xml")), default=0
    )
    if biggest > MAX_XML_BYTES:
        raise UnreadableFile(f"{what} too large to open safely ({biggest:,} bytes of XML)")
    return package


def _reason(e: BaseException) -> str:
    return (str(e).strip().strip("'\"") or type(e).__name__).splitlines()[0][:200]


# -- ODT ---------------------------------------------------------------------------------------

_TEXT_NS = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_OFFICE_NS = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
# Not text a reader sees: deleted tracked changes, footnote bodies and comments (which would
# land in the middle of a sentence), field declarations.
_ODF_SKIP = frozenset(
    {
        _TEXT_NS + "tracked-changes",
        _TEXT_NS + "note",
        _OFFICE_NS + "annotation",
        _TEXT_NS + "sequence-decls",
        _TEXT_NS + "variable-decls",
        _OFFICE_NS + "forms",
    }
)


def _odt(data: bytes) -> Document:
    """Headings (text:h) and paragraphs (text:p, in lists and tables too) from content.xml."""
    package = _check_package(data, "OpenDocument text", "content.xml")
    try:
        manifest = "META-INF/manifest.xml"
        if manifest in package.namelist() and b"encryption-data" in package.read(manifest):
            raise UnreadableFile("encrypted OpenDocument text (needs a password)")
        root = parse_xml(package.read("content.xml"))
    except (zipfile.BadZipFile, OSError, ValueError, ElementTree.ParseError) as e:
        raise UnreadableFile(f"damaged OpenDocument text: {_reason(e)}") from e
    body = root.find(f"{_OFFICE_NS}body/{_OFFICE_NS}text")
    if body is None:
        raise UnreadableFile("not an OpenDocument text (no text body)")
    builder = _Builder()
    try:
        _odf_walk(body, builder)
    except RecursionError as e:
        raise UnreadableFile("damaged OpenDocument text: nested too deeply") from e
    return builder.document()


def _odf_walk(element: ElementTree.Element, builder: _Builder) -> bool:
    for child in element:
        if child.tag in _ODF_SKIP:
            continue
        if child.tag in (_TEXT_NS + "h", _TEXT_NS + "p"):
            going = builder.add(_odf_text(child), is_heading=child.tag == _TEXT_NS + "h")
        else:
            going = _odf_walk(child, builder)  # lists, tables, sections, frames
        if not going:
            return False
    return True


def _odf_text(element: ElementTree.Element) -> str:
    parts = [element.text or ""]
    for child in element:
        if child.tag == _TEXT_NS + "s":  # a run of spaces, c of them
            count = child.get(_TEXT_NS + "c", "1")
            parts.append(" " * min(int(count) if count.isdigit() else 1, 100))
        elif child.tag == _TEXT_NS + "tab":
            parts.append("\t")
        elif child.tag == _TEXT_NS + "line-break":
            parts.append("\n")
        elif child.tag not in _ODF_SKIP:
            parts.append(_odf_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def parse_xml(data: bytes) -> ElementTree.Element:
    """Parse XML from a file, refusing DTDs: neither ODF nor XMP uses them, and entity
    declarations are how XML bombs work. Raises ElementTree.ParseError."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ElementTree.ParseError("XML with a DTD is not read")
    return ElementTree.fromstring(data)


# -- HTML --------------------------------------------------------------------------------------

_HTML_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "math", "nav"})
_HTML_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_HTML_BLOCKS = _HTML_HEADINGS | {
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hr",
    "li", "main", "ol", "p", "pre", "section", "summary", "table", "title", "ul",
}  # fmt: skip
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.I)
# WHATWG: these labels mean windows-1252, and a page cannot declare UTF-16 in a meta tag.
_CHARSET_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252"}


class _HtmlText(HTMLParser):
    def __init__(self, builder: _Builder) -> None:
        super().__init__(convert_charrefs=True)
        self.builder = builder
        self.buffer: list[str] = []
        self.skip = 0
        self.pre = 0
        self.cells_in_row = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HTML_SKIP:
            self.skip += 1
        elif tag in _HTML_BLOCKS:
            self.flush()
            self.pre += tag == "pre"
        elif tag == "br":
            self.buffer.append("\n")
        elif tag == "tr":
            self.buffer.append("\n")
            self.cells_in_row = 0
        elif tag in ("td", "th"):
            if self.cells_in_row:
                self.buffer.append(" | ")
            self.cells_in_row += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _HTML_SKIP:
            self.skip = max(self.skip - 1, 0)
        elif tag in _HTML_BLOCKS:
            self.flush(is_heading=tag in _HTML_HEADINGS)
            if tag == "pre":
                self.pre = max(self.pre - 1, 0)

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.buffer.append(data if self.pre else re.sub(r"\s+", " ", data))

    def flush(self, is_heading: bool = False) -> None:
        text = "".join(self.buffer)
        self.buffer = []
        if not self.pre:
            text = "\n".join(" ".join(line.split()) for line in text.split("\n") if line.strip())
        self.builder.add(text, is_heading=is_heading)


def _html(data: bytes) -> Document:
    """Blocks (paragraphs, list items, tables…) become sections; h1-h6 are headings."""
    cut = len(data) > MAX_MARKUP_BYTES
    text = _decode_html(data[:MAX_MARKUP_BYTES])
    builder = _Builder()
    parser = _HtmlText(builder)
    parser.feed(text)
    parser.close()
    parser.flush()
    return builder.document("only the first part of this large page is indexed" if cut else None)


def _decode_html(data: bytes) -> str:
    if not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        declared = _META_CHARSET.search(data[:4096])
        if declared:
            name = declared.group(1).decode("ascii").lower()
            name = "utf-8" if name.startswith("utf-16") else _CHARSET_ALIASES.get(name, name)
            try:
                return data.decode(codecs.lookup(name).name, errors="replace")
            except LookupError:
                pass  # an unknown charset: guess, as for a note
    return decode_text(data)


# -- RTF ---------------------------------------------------------------------------------------


def _rtf(data: bytes) -> Document:
    """Each paragraph (\\par) becomes a section."""
    from striprtf.striprtf import remove_pict_groups, rtf_to_text

    if not data.lstrip().startswith(b"{\\rtf"):
        raise UnreadableFile("damaged RTF document: it does not start with {\\rtf")
    # RTF is 7-bit: other characters are escapes that striprtf decodes with the file's code page.
    source = data.decode("latin-1")
    if len(source) > MAX_MARKUP_BYTES:
        source = str(remove_pict_groups(source))  # type: ignore[no-untyped-call]
    cut = len(source) > MAX_MARKUP_BYTES
    source = source[:MAX_MARKUP_BYTES]
    try:
        text = str(rtf_to_text(source, errors="replace"))  # type: ignore[no-untyped-call]
    except (ValueError, IndexError, LookupError) as e:
        raise UnreadableFile(f"damaged RTF document: {_reason(e)}") from e
    # \uN escapes give UTF-16 halves for characters beyond the BMP (emoji): pair them up.
    text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    builder = _Builder()
    for paragraph in text.split("\n"):
        if not builder.add(paragraph):
            break
    return builder.document(
        "only the first part of this large document is indexed" if cut else None
    )


_READERS: dict[str, Callable[[bytes], Document]] = {
    ".txt": _text,
    ".md": _markdown,
    ".markdown": _markdown,
    ".pdf": _pdf,
    ".docx": _docx,
    ".odt": _odt,
    ".html": _html,
    ".htm": _html,
    ".rtf": _rtf,
}
# The kinds of document mediafind reads: media.NOTE_EXTENSIONS says the same (a test holds them
# equal), so that media, which decides what a file is, need not import the readers.
DOCUMENT_EXTENSIONS = frozenset(_READERS)
