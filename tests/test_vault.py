"""Documents and captions end to end: a vault of Markdown, PDF, Word and photos with captions
inside them and beside them, indexed with the tiny model and searched by picture and by word."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest
from conftest import TINY_SPEC, save_shape
from PIL import Image
from reportlab.pdfgen.canvas import Canvas

from mediafind import shapes
from mediafind.cli import main

XMP = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dc="http://purl.org/dc/elements/1.1/">
 <rdf:Description rdf:about=""><dc:description><rdf:Alt>
 <rdf:li xml:lang="x-default">{text}</rdf:li></rdf:Alt></dc:description></rdf:Description>
</rdf:RDF></x:xmpmeta>"""


def write_pdf(path: Path, pages: list[str], **options: object) -> None:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, **options)
    for page in pages:
        for i, line in enumerate(page.splitlines()):
            canvas.drawString(72, 720 - 14 * i, line)
        canvas.showPage()
    canvas.save()
    path.write_bytes(buffer.getvalue())


def run(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    root = tmp_path_factory.mktemp("vault")
    lib = root.parent / f"{root.name}-library"
    rng = random.Random(3)
    (root / "notes").mkdir()
    (root / "notes" / "garden.md").write_text(
        "# Garden\n\nThe pond is deep.\n\n## Monday\n\n" + shapes.note("green", "square", rng)
    )
    write_pdf(
        root / "notes" / "report.pdf",
        ["Quarterly report, nothing about shapes.", shapes.note("blue", "triangle", rng)],
    )
    word = docx.Document()
    word.add_heading("Workshop", level=1)
    word.add_paragraph(shapes.note("yellow", "circle", rng))
    word.add_paragraph("Reference number ZX-48213 for the workshop booking.")
    word.save(str(root / "notes" / "workshop.docx"))
    # Photos whose captions live inside them (EXIF, XMP) or beside them (an XMP sidecar).
    photos = root / "photos"
    exif_photo = save_shape(photos / "IMG_0001.jpg", "yellow", "square", 1)
    image = Image.open(exif_photo)
    exif = image.getexif()
    exif[0x010E] = "a red triangle on grandma's fridge"
    image.save(exif_photo, exif=exif)
    xmp_photo = photos / "IMG_0002.jpg"
    shapes.render("blue", "circle", random.Random(2)).save(
        xmp_photo, xmp=XMP.format(text="the blue circle sign at the station").encode()
    )
    save_shape(photos / "IMG_0003.jpg", "green", "circle", 3)
    (photos / "IMG_0003.jpg.xmp").write_text(XMP.format(text="a green circle kite"))
    # Documents that cannot be read.
    write_pdf(root / "notes" / "secret.pdf", ["a red circle"], encrypt="pass")
    (root / "notes" / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEDIAFIND_CONFIG_DIR", str(root.parent / "config"))
        base = ["--library", str(lib), "--model", TINY_SPEC]
        assert main([*base, "index", str(root)]) == 0
        yield root, base


def search(
    vault: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str], *query: str
) -> list[dict]:  # type: ignore[type-arg]
    _, base = vault
    code, out, err = run(*base, "search", *query, "--json", capsys=capsys)
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def test_a_dropped_picture_finds_the_pdf_page_and_the_word_document_about_it(
    vault: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    triangle = save_shape(tmp_path / "t.png", "blue", "triangle", 40)
    hits = search(vault, capsys, "--image", str(triangle), "--kind", "note", "-n", "3")
    assert Path(hits[0]["path"]).name == "report.pdf"
    assert hits[0]["location"]["page"] == 2
    circle = save_shape(tmp_path / "c.png", "yellow", "circle", 41)
    hits = search(vault, capsys, "--image", str(circle), "--kind", "note", "-n", "3")
    assert Path(hits[0]["path"]).name == "workshop.docx"
    assert hits[0]["location"]["heading"] == "Workshop"


def test_a_markdown_note_is_found_under_its_heading(
    vault: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    hits = search(vault, capsys, "green square", "kind:note", "-n", "3")
    assert Path(hits[0]["path"]).name == "garden.md"
    assert hits[0]["location"]["heading"] == "Monday"
    assert any(
        hits[0]["snippet"][s:e].lower() in ("green", "square") for s, e in hits[0]["highlights"]
    )


def test_words_find_photos_by_the_captions_inside_and_beside_them(
    vault: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    # The EXIF caption says red triangle although the picture is a yellow square.
    hits = search(vault, capsys, "fridge", "kind:photo")
    assert [Path(h["path"]).name for h in hits] == ["IMG_0001.jpg"]
    assert hits[0]["match"] == "caption" and "fridge" in hits[0]["snippet"]
    assert Path(search(vault, capsys, "station", "kind:photo")[0]["path"]).name == "IMG_0002.jpg"
    assert Path(search(vault, capsys, "kite", "kind:photo")[0]["path"]).name == "IMG_0003.jpg"


def test_a_dropped_picture_finds_the_caption_with_its_photo(
    vault: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    red_triangle = save_shape(tmp_path / "r.png", "red", "triangle", 42)
    hits = search(vault, capsys, "--image", str(red_triangle), "-n", "5")
    captioned = {Path(h["path"]).name: h["snippet"] for h in hits if "caption" in h["why"]}
    assert "red triangle" in captioned["IMG_0001.jpg"]


def test_an_exact_reference_number_brings_its_document_first(
    vault: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    hits = search(vault, capsys, '"ZX-48213"')
    assert Path(hits[0]["path"]).name == "workshop.docx"


def test_filters_and_negatives_on_documents(
    vault: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert {Path(h["path"]).suffix for h in search(vault, capsys, "blue triangle type:pdf")} == {
        ".pdf"
    }
    names = [Path(h["path"]).name for h in search(vault, capsys, "shapes kind:note -quarterly")]
    assert "report.pdf" not in names


def test_encrypted_and_malformed_pdfs_are_reported_and_skipped(
    vault: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    _, base = vault
    code, out, _ = run(*base, "status", "--json", capsys=capsys)
    assert code == 0
    reasons = {Path(e["path"]).name: e["reason"] for e in json.loads(out)["errors"]}
    assert "encrypted" in reasons["secret.pdf"]
    assert reasons["broken.pdf"].startswith("damaged PDF")
    assert json.loads(out)["counts"]["note"] == 3


def test_a_document_cut_by_the_size_cap_is_indexed_with_a_note_in_the_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mediafind import extract

    monkeypatch.setattr(extract, "MAX_TEXT_CHARS", 200)
    root = tmp_path / "notes"
    root.mkdir()
    (root / "long.txt").write_text(("A red circle on every page of this diary. " * 20 + "\n\n") * 5)
    base = ["--library", str(tmp_path / "lib"), "--model", TINY_SPEC]
    assert run(*base, "index", str(root), capsys=capsys)[0] == 0
    code, out, _ = run(*base, "status", "--json", capsys=capsys)
    assert code == 0
    assert json.loads(out)["notes"] == [
        {"path": str(root / "long.txt"), "note": "only the first 200 characters are indexed"}
    ]
