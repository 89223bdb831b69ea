"""Opening files: what kind a file is, pictures of every kind, captions."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mediafind import media
from mediafind.errors import UnreadableFile
from mediafind.media import kind_of, open_image

EXIF_IFD = 0x8769
DATE_TIME_ORIGINAL = 0x9003
ORIENTATION = 0x0112


def encoded(img: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


# -- what a file is ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("kite.jpg", "photo"),
        ("KITE.JPEG", "photo"),
        ("scan.tiff", "photo"),
        ("IMG_0001.HEIC", "photo"),
        ("list.md", "note"),
        ("diary.txt", "note"),
        ("notes.markdown", "note"),
        ("report.pdf", "note"),
        ("Letter.DOCX", "note"),
        ("page.html", "note"),
        ("song.mp3", None),
        ("Makefile", None),
    ],
)
def test_kind_of_names_photos_and_notes(name: str, kind: str | None) -> None:
    assert kind_of(Path(name)) == kind


def test_a_file_read_in_blocks_hashes_as_its_bytes_do(tmp_path: Path) -> None:
    # The indexer hashes the bytes it read, a scan hashes the file to recognise a move.
    data = bytes(range(256)) * 9000  # a few 1 MiB blocks and a partial one
    (tmp_path / "big.bin").write_bytes(data)
    assert media.hash_file(tmp_path / "big.bin") == media.content_hash(data)
    assert media.content_hash(data) != media.content_hash(data[:-1])


# -- pictures ----------------------------------------------------------------------------------


def test_exif_orientation_turns_the_picture_upright() -> None:
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # stored sideways: shown turned a quarter clockwise
    data = encoded(Image.new("RGB", (64, 32), "red"), "JPEG", exif=exif)

    picture = open_image(data, 16)

    assert (picture.width, picture.height) == (32, 64)
    assert picture.image.width < picture.image.height


def test_big_jpeg_is_decoded_small_but_keeps_its_real_size() -> None:
    data = encoded(Image.new("RGB", (4000, 3000), (20, 120, 200)), "JPEG")

    picture = open_image(data, 224)

    assert 224 <= min(picture.image.size) <= 750
    assert (picture.width, picture.height) == (4000, 3000)
    assert picture.image.mode == "RGB"


def test_animated_gif_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (32, 32), colour) for colour in ("red", "blue")]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)

    picture = open_image(data, 16)

    assert picture.image.mode == "RGB"
    assert picture.image.getpixel((8, 8)) == (255, 0, 0)


def test_transparent_png_is_shown_over_white() -> None:
    img = Image.new("RGBA", (32, 32), (0, 0, 255, 255))
    img.putpixel((0, 0), (0, 0, 0, 0))

    picture = open_image(encoded(img, "PNG"), 32)

    assert picture.image.mode == "RGB"
    assert picture.image.getpixel((0, 0)) == (255, 255, 255)
    assert picture.image.getpixel((16, 16)) == (0, 0, 255)


def test_sixteen_bit_grey_keeps_its_brightness() -> None:
    mid_grey = Image.fromarray(np.full((32, 32), 32768, dtype=np.uint16))
    assert mid_grey.mode.startswith("I;16")

    picture = open_image(encoded(mid_grey, "PNG"), 32)

    assert picture.image.mode == "RGB"
    r, g, b = picture.image.getpixel((5, 5))  # type: ignore[misc]
    assert r == g == b and 120 <= r <= 136


def test_palette_image_becomes_rgb() -> None:
    img = Image.new("RGB", (32, 32), (0, 0, 255)).convert("P")
    picture = open_image(encoded(img, "PNG"), 32)
    assert picture.image.mode == "RGB"
    assert picture.image.getpixel((5, 5)) == (0, 0, 255)


def test_cmyk_jpeg_becomes_rgb() -> None:
    img = Image.new("CMYK", (32, 32), (0, 255, 255, 0))  # red in print colours
    picture = open_image(encoded(img, "JPEG", quality=95), 32)
    assert picture.image.mode == "RGB"
    r, g, b = picture.image.getpixel((5, 5))  # type: ignore[misc]
    assert r > 200 and g < 50 and b < 50


def test_date_taken_comes_from_exif() -> None:
    exif = Image.Exif()
    exif.get_ifd(EXIF_IFD)[DATE_TIME_ORIGINAL] = "2021:07:04 12:30:45"
    data = encoded(Image.new("RGB", (32, 32)), "JPEG", exif=exif)

    picture = open_image(data, 16)

    assert picture.taken_at == datetime(2021, 7, 4, 12, 30, 45).timestamp()


def test_photo_without_exif_has_no_date_taken() -> None:
    assert open_image(encoded(Image.new("RGB", (32, 32)), "PNG"), 16).taken_at is None


def test_empty_file_is_unreadable() -> None:
    with pytest.raises(UnreadableFile, match=r"^empty file$"):
        open_image(b"", 16)


def test_garbage_is_not_a_readable_image() -> None:
    with pytest.raises(UnreadableFile, match="not a readable image"):
        open_image(b"this is not a picture at all" * 20, 16)


def test_truncated_jpeg_is_reported_as_truncated() -> None:
    data = encoded(Image.effect_noise((256, 256), 64).convert("RGB"), "JPEG")
    with pytest.raises(UnreadableFile, match="truncated"):
        open_image(data[: len(data) // 2], 16)


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims a size and holds no pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def test_picture_claiming_a_huge_size_is_refused() -> None:
    with pytest.raises(UnreadableFile, match="too large"):
        open_image(png_header(100_000, 100_000), 224)


def test_decompression_bomb_guard_stays_on(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pillow errors (rather than warns) beyond twice the limit.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(UnreadableFile, match="too large"):
        open_image(encoded(Image.new("RGB", (100, 100)), "JPEG"), 16)


def test_heic_photo_opens() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    try:
        data = encoded(Image.new("RGB", (64, 48), (200, 0, 0)), "HEIF", quality=90)
    except (KeyError, OSError, ValueError) as e:
        pytest.skip(f"pillow-heif cannot encode here: {e}")

    picture = open_image(data, 16)

    assert (picture.width, picture.height) == (64, 48)
    r, g, b = picture.image.getpixel((5, 5))  # type: ignore[misc]
    assert r > 150 and g < 60 and b < 60
