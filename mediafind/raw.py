"""Camera RAW files (DNG, CR2, CR3, NEF, ARW, ORF, RW2, RAF, PEF, SRW, …) as pictures, through
LibRaw (rawpy): Pillow reads none of them. rawpy is imported only when a RAW file is decoded.

A RAW file is a sensor's readings, not a picture: making one (demosaicing, white balance, colour)
is slow, so the camera's own JPEG preview, embedded in nearly every RAW file, is used whenever it
is large enough; only a file without one is developed, at half size."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from io import BytesIO
from typing import TYPE_CHECKING

from PIL import Image, ImageOps, UnidentifiedImageError

from mediafind.errors import UnreadableFile

if TYPE_CHECKING:
    import rawpy

log = logging.getLogger(__name__)

# What LibRaw reads, by the cameras' own names for their files; `type:raw` means all of them.
RAW_EXTENSIONS = frozenset(
    {".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".sr2", ".srf", ".orf", ".rw2",
     ".rwl", ".raf", ".pef", ".srw", ".3fr", ".iiq", ".erf", ".mrw"}
)  # fmt: skip

# LibRaw's orientation (raw.sizes.flip) -> how to turn the stored picture upright. 5 and 6 are
# the quarter turns (EXIF 8 and 6): LibRaw's own develop applies them, a preview needs them.
_TURNS = {
    3: Image.Transpose.ROTATE_180,
    5: Image.Transpose.ROTATE_90,
    6: Image.Transpose.ROTATE_270,
}
# A preview's shape (long side to short) may differ from the sensor's by this share and still be
# the whole picture; a preview letterboxed to another shape (black bars) is not used, since bars
# would change its vector and its perceptual hash.
_SHAPE_SLACK = 0.03
_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True, slots=True)
class RawPicture:
    image: Image.Image  # RGB, upright, at least min_side on its short side when the file allows
    width: int  # the photo's own size, as shown (turned a quarter when the camera was)
    height: int
    taken_at: float | None


def open_raw(data: bytes, min_side: int, max_pixels: int, dated: bool = False) -> RawPicture:
    """Decode a camera RAW file from its bytes, no smaller than min_side on its short side where
    the file is that large; a picture of more than max_pixels is refused (as media refuses
    others). dated: the caller knows when it was taken (taken_at is then None): LibRaw gives
    the date only after reading all the sensor data, which a preview does not need (33 ms of
    the 40 a 12-megapixel DNG took). Raises UnreadableFile."""
    import rawpy  # LibRaw: loaded with the first RAW file, never by `mediafind --help`

    try:
        with rawpy.imread(BytesIO(data)) as raw:
            sizes = raw.sizes
            width, height = sizes.width, sizes.height
            if sizes.flip in (5, 6):
                width, height = height, width
            image = _preview(raw, min_side, max_pixels) or _develop(raw, min_side, max_pixels)
            stamp = 0.0 if dated else raw.other.timestamp.timestamp()  # 0: the file has none
            taken_at = stamp if stamp > 0 else None
    except rawpy.LibRawError as e:
        raise UnreadableFile(f"not a readable camera RAW file (LibRaw: {_reason(e)})") from e
    return RawPicture(image, width, height, taken_at)


def _preview(raw: rawpy.RawPy, min_side: int, max_pixels: int) -> Image.Image | None:
    """The camera's embedded preview, upright, when it shows the whole picture at min_side or
    more; None to develop the file instead."""
    import rawpy

    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        return None
    except rawpy.LibRawError as e:  # a damaged preview: the sensor data may still be read
        log.info("cannot read a RAW file's preview: %s", _reason(e))
        return None
    data = thumb.data
    try:
        if isinstance(data, bytes):  # a JPEG (ThumbFormat.JPEG)
            return _jpeg_preview(raw, data, min_side, max_pixels)
        bitmap = Image.fromarray(data).convert("RGB")
        return _upright(bitmap, raw.sizes.flip) if _fits(raw, bitmap.size, min_side) else None
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError, TypeError,
            Image.DecompressionBombError) as e:  # fmt: skip
        log.info("cannot decode a RAW file's preview: %s", e)
        return None


def _jpeg_preview(
    raw: rawpy.RawPy, data: bytes, min_side: int, max_pixels: int
) -> Image.Image | None:
    with Image.open(BytesIO(data)) as img:
        if not _fits(raw, img.size, min_side):
            return None
        img.draft("RGB", (min_side, min_side))  # a reduced JPEG decode: far faster
        if img.size[0] * img.size[1] > max_pixels:
            return None
        img.load()
        if img.getexif().get(_EXIF_ORIENTATION, 1) != 1:  # the preview says itself
            return ImageOps.exif_transpose(img).convert("RGB")
        return _upright(img.convert("RGB"), raw.sizes.flip)


def _fits(raw: rawpy.RawPy, size: tuple[int, int], min_side: int) -> bool:
    """Whether a preview of size (width, height, as stored) is large enough and the whole
    picture (the sensor's shape)."""
    if min(size) < min_side:
        return False
    shape = max(size) / min(size)
    sensor = max(raw.sizes.width, raw.sizes.height) / max(min(raw.sizes.width, raw.sizes.height), 1)
    return abs(shape / sensor - 1) <= _SHAPE_SLACK


def _develop(raw: rawpy.RawPy, min_side: int, max_pixels: int) -> Image.Image:
    """Develop the sensor data, at half size when that is still min_side, upright."""
    sizes = raw.sizes
    if sizes.raw_width * sizes.raw_height > max_pixels:
        # LibRaw holds the sensor data at 2 bytes a pixel and the picture at 8 bytes a pixel of
        # its half size: 4 bytes a sensor pixel, as a picture of that size decoded whole.
        raise UnreadableFile(
            f"picture too large to open ({sizes.raw_width * sizes.raw_height / 1e6:,.0f} "
            f"megapixels with no preview; mediafind opens pictures up to "
            f"{max_pixels // 1_000_000})"
        )
    half = min(sizes.width, sizes.height) // 2 >= min_side
    # Half size skips demosaicing (each 2×2 block of the sensor is one pixel): 4 times fewer
    # pixels and several times faster. The camera's white balance, as its preview would have
    # it; LibRaw's automatic brightness, since a RAW file's data is linear and dark.
    rgb = raw.postprocess(half_size=half, use_camera_wb=True, no_auto_bright=False, output_bps=8)
    return Image.fromarray(rgb).convert("RGB")


def _upright(image: Image.Image, flip: int) -> Image.Image:
    turn = _TURNS.get(flip)
    return image.transpose(turn) if turn is not None else image


def _reason(e: BaseException) -> str:
    """LibRaw's message as words (rawpy gives it as bytes)."""
    message = e.args[0] if e.args else ""
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return str(message).strip() or type(e).__name__
