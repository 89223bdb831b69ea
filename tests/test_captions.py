"""Captions of a photo, from real files written by the test: which files are its sidecars, what
they and the photo itself say, and the signature a scan compares."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import pytest
from PIL import Image

from mediafind.captions import (
    Captions,
    of_photo,
    photo_captions,
    sidecar_owner,
    sidecars_among,
    signature,
    user_comment_text,
)

EXIF_IFD = 0x8769
IMAGE_DESCRIPTION = 0x010E
USER_COMMENT = 0x9286


def sig(*files: Path) -> str:
    return ";".join(f"{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)


# -- which files are sidecars ------------------------------------------------------------------


def test_photo_name_plus_txt_is_its_caption() -> None:
    assert sidecar_owner("kite.jpg.txt", {"kite.jpg", "kite.jpg.txt"}) == "kite.jpg"


def test_txt_with_a_photos_stem_is_its_caption() -> None:
    assert sidecar_owner("kite.txt", {"kite.jpg", "kite.txt"}) == "kite.jpg"
    assert sidecar_owner("IMG_1.txt", {"IMG_1.JPG", "IMG_1.txt"}) == "IMG_1.JPG"


def test_txt_without_a_photo_is_a_note() -> None:
    assert sidecar_owner("notes.txt", {"notes.txt", "kite.jpg"}) is None
    assert sidecar_owner("kite.jpg.txt", {"kite.jpg.txt"}) is None
    assert sidecar_owner("kite.md", {"kite.md", "kite.jpg"}) is None


def test_a_folder_at_once_finds_the_same_sidecars_as_one_name_at_a_time() -> None:
    names = {
        "kite.jpg", "kite.jpg.txt", "kite.txt", "kite.xmp", "IMG_1.JPG", "IMG_1.TXT",
        "a.Jpg", "a.Jpg.txt", "a.txt", "notes.txt", "b.png.xmp", "c.heic", "c.XMP",
        "trip.md", ".hidden.txt", "x.jpg.txt", "report.pdf", "noext", "noext.txt",
    }  # fmt: skip
    assert sidecars_among(names) == {n for n in names if sidecar_owner(n, names)}
    assert sidecars_among({"notes.txt", "diary.md"}) == set()


# -- text sidecars -----------------------------------------------------------------------------


def test_caption_is_read_with_its_signature(tmp_path: Path) -> None:
    photo = tmp_path / "kite.jpg"
    photo.write_bytes(b"jpeg")
    caption = tmp_path / "kite.jpg.txt"
    caption.write_text("  a red kite over the dunes\n", encoding="utf-8")
    st = caption.stat()

    assert of_photo(photo, photo.read_bytes()) == Captions(
        ("a red kite over the dunes",),
        f"{st.st_size}:{st.st_mtime_ns}",
    )


def test_caption_named_after_the_stem_is_read(tmp_path: Path) -> None:
    (tmp_path / "kite.txt").write_text("a red kite", encoding="utf-8")
    assert of_photo(tmp_path / "kite.jpg", b"").texts == ("a red kite",)


def test_photo_without_a_caption_has_none(tmp_path: Path) -> None:
    (tmp_path / "kite.jpg.txt").write_text("   \n", encoding="utf-8")  # blank: no caption
    assert of_photo(tmp_path / "kite.jpg", b"").texts == ()


# -- captions inside a photo -------------------------------------------------------------------


def jpeg(exif: Image.Exif | None = None, xmp: bytes | None = None) -> bytes:
    buffer = io.BytesIO()
    options: dict[str, object] = {}
    if exif is not None:
        options["exif"] = exif
    if xmp is not None:
        options["xmp"] = xmp
    Image.new("RGB", (8, 8), "teal").save(buffer, "JPEG", **options)
    return buffer.getvalue()


def exif_with(description: str | bytes | None = None, comment: bytes | None = None) -> Image.Exif:
    exif = Image.Exif()
    if description is not None:
        exif[IMAGE_DESCRIPTION] = description
    if comment is not None:
        exif.get_ifd(EXIF_IFD)[USER_COMMENT] = comment
    return exif


def xmp_packet(title: str | None = None, descriptions: dict[str, str] | None = None) -> bytes:
    def alt(tag: str, values: dict[str, str]) -> str:
        items = "".join(
            f'<rdf:li xml:lang="{lang}">{text}</rdf:li>' for lang, text in values.items()
        )
        return f"<dc:{tag}><rdf:Alt>{items}</rdf:Alt></dc:{tag}>"

    body = (alt("title", {"x-default": title}) if title else "") + alt(
        "description", descriptions or {}
    )
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"{body}</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def with_iptc(jpeg_data: bytes, datasets: list[tuple[int, int, bytes]]) -> bytes:
    """Insert an APP13 Photoshop segment holding IPTC datasets (Pillow cannot write IPTC)."""
    iptc = b"".join(
        b"\x1c" + bytes([record, number]) + struct.pack(">H", len(value)) + value
        for record, number, value in datasets
    )
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iptc))
    resource += iptc + b"\x00" * (len(iptc) % 2)
    payload = b"Photoshop 3.0\x00" + resource
    segment = b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg_data[:2] + segment + jpeg_data[2:]


def test_exif_image_description_is_a_caption() -> None:
    assert photo_captions(jpeg(exif_with("Grandma in her garden"))) == ["Grandma in her garden"]


def test_utf8_in_exif_image_description_is_decoded() -> None:
    data = jpeg(exif_with("Pâtisserie à Lyon".encode()))
    assert photo_captions(data) == ["Pâtisserie à Lyon"]


def test_user_comment_with_an_ascii_header_is_a_caption() -> None:
    data = jpeg(exif_with(comment=b"ASCII\x00\x00\x00Boats at dawn\x00"))
    assert photo_captions(data) == ["Boats at dawn"]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_user_comment_with_a_unicode_header_is_read_in_either_byte_order(codec: str) -> None:
    data = jpeg(exif_with(comment=b"UNICODE\x00" + "Snow on Ōyama".encode(codec)))
    assert photo_captions(data) == ["Snow on Ōyama"]


def test_user_comment_in_the_exif_byte_order_when_the_text_does_not_tell() -> None:
    text = "東京タワー"  # no zero bytes in either order
    assert user_comment_text(b"UNICODE\x00" + text.encode("utf-16-be"), ">") == text
    assert user_comment_text(b"UNICODE\x00" + text.encode("utf-16-le"), "<") == text


def test_user_comment_with_a_jis_header_is_read() -> None:
    assert user_comment_text(b"JIS\x00\x00\x00\x00\x00" + "富士山".encode("iso2022_jp")) == "富士山"


def test_a_blank_user_comment_is_no_caption() -> None:
    blank = b"\x00" * 8 + b" " * 20
    nuls = b"ASCII\x00\x00\x00" + b"\x00" * 32
    assert photo_captions(jpeg(exif_with(comment=blank))) == []
    assert photo_captions(jpeg(exif_with(comment=nuls))) == []


def test_xmp_title_comes_before_descriptions_in_every_language() -> None:
    packet = xmp_packet("Summer kite", {"x-default": "A kite over dunes", "fr": "Un cerf-volant"})
    assert photo_captions(jpeg(xmp=packet)) == [
        "Summer kite",
        "A kite over dunes",
        "Un cerf-volant",
    ]


def test_iptc_headline_and_caption_are_captions() -> None:
    data = with_iptc(
        jpeg(),
        [
            (1, 90, b"\x1b%G"),  # coded character set: UTF-8
            (2, 105, "Fête du village".encode()),
            (2, 120, b"Dancing in the square"),
        ],
    )
    assert photo_captions(data) == ["Fête du village", "Dancing in the square"]


def test_camera_junk_is_not_a_caption() -> None:
    for junk in ("OLYMPUS DIGITAL CAMERA", "SONY DSC  ", "DCIM", "default", "IMG_1234.JPG"):
        assert photo_captions(jpeg(exif_with(junk))) == [], junk
    assert photo_captions(jpeg(xmp=xmp_packet("DSC00012", {"x-default": "Real words"}))) == [
        "Real words"
    ]


def test_the_same_caption_in_exif_xmp_and_iptc_counts_once() -> None:
    packet = xmp_packet(None, {"x-default": "Lighthouse at night"})
    data = with_iptc(
        jpeg(exif_with("Lighthouse  at night"), xmp=packet), [(2, 120, b"lighthouse at night")]
    )
    assert photo_captions(data) == ["Lighthouse at night"]


def test_png_title_and_xmp_are_captions() -> None:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Title", "Harbour map")
    info.add_itxt("XML:com.adobe.xmp", xmp_packet(None, {"x-default": "Drawn by hand"}).decode())
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG", pnginfo=info)
    assert photo_captions(buffer.getvalue()) == ["Harbour map", "Drawn by hand"]


def test_a_photo_without_metadata_has_no_captions() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG")
    assert photo_captions(buffer.getvalue()) == []
    assert photo_captions(jpeg()) == []
    assert photo_captions(b"not an image") == []
    assert photo_captions(b"") == []


def test_an_xmp_packet_declaring_entities_is_ignored() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;">]>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>'
    )
    assert photo_captions(jpeg(exif_with("Still here"), xmp=bomb)) == ["Still here"]


# -- XMP sidecars ------------------------------------------------------------------------------


def test_darktable_and_lightroom_sidecars_are_read(tmp_path: Path) -> None:
    photo = tmp_path / "pier.jpg"
    photo.write_bytes(jpeg())
    darktable = tmp_path / "pier.jpg.xmp"
    darktable.write_bytes(xmp_packet("Pier", {"x-default": "Fishing boats"}))
    lightroom = tmp_path / "pier.xmp"
    lightroom.write_bytes(xmp_packet(None, {"x-default": "Fishing boats", "de": "Fischerboote"}))
    captions = of_photo(photo, photo.read_bytes())
    assert captions.texts == ("Pier", "Fishing boats", "Fischerboote")
    assert captions.signature == sig(darktable, lightroom)


def test_a_photo_without_a_sidecar_has_no_signature(tmp_path: Path) -> None:
    photo = tmp_path / "plain.jpg"
    photo.write_bytes(jpeg())
    assert of_photo(photo, photo.read_bytes()) == Captions((), None)


def test_an_edited_sidecar_changes_its_signature(tmp_path: Path) -> None:
    photo = tmp_path / "fox.jpg"
    sidecar = tmp_path / "fox.xmp"
    sidecar.write_bytes(xmp_packet(None, {"x-default": "A fox"}))
    os.utime(sidecar, ns=(1_000_000_000, 1_000_000_000))
    before = of_photo(photo, jpeg())
    sidecar.write_bytes(xmp_packet(None, {"x-default": "A red fox"}))
    after = of_photo(photo, jpeg())
    assert before.texts == ("A fox",) and after.texts == ("A red fox",)
    assert before.signature != after.signature


# -- all of a photo's captions -----------------------------------------------------------------


def test_sidecars_come_before_the_photos_own_captions_and_each_text_counts_once(
    tmp_path: Path,
) -> None:
    photo = tmp_path / "boat.jpg"
    photo.write_bytes(jpeg(exif_with("Boats at  DAWN"), xmp=xmp_packet("Harbour")))
    (tmp_path / "boat.txt").write_text("boats at dawn\n")
    (tmp_path / "boat.jpg.xmp").write_bytes(xmp_packet("Harbour", {"x-default": "IMG_0042"}))
    assert of_photo(photo, photo.read_bytes()).texts == ("boats at dawn", "Harbour")


def test_a_text_sidecar_is_a_caption_even_when_a_camera_could_have_written_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "cat.jpg.txt").write_text("Photo")
    assert of_photo(tmp_path / "cat.jpg", jpeg(exif_with("Photo"))).texts == ("Photo",)


def test_the_signature_lists_every_sidecar_in_order_even_an_empty_one(tmp_path: Path) -> None:
    photo = tmp_path / "gull.jpg"
    photo.write_bytes(jpeg())
    files = [tmp_path / name for name in ("gull.jpg.txt", "gull.txt", "gull.jpg.xmp", "gull.xmp")]
    for i, file in enumerate(files):
        file.write_text("" if i == 0 else "x" * i)
        os.utime(file, ns=(i * 1_000_000_000, i * 1_000_000_000))

    expected = "0:0;1:1000000000;2:2000000000;3:3000000000"
    assert sig(*files) == expected  # the format libraries store: changing it re-embeds captions
    names = {p.name for p in tmp_path.iterdir()}
    assert signature(photo, names) == of_photo(photo, b"").signature == expected
    assert signature(photo, names - {"gull.txt"}) == sig(files[0], files[2], files[3])
