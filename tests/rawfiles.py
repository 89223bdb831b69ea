"""Camera RAW files for tests: DNG (Adobe's open RAW format, which cameras from Leica, Pentax,
Ricoh and phones write) made with tifffile from a picture, as a camera with a Bayer sensor would
have recorded it: one colour a pixel in a 2×2 red-green-green-blue pattern, linear, 12 bits,
with the tags LibRaw needs to develop it (DNGVersion, the CFA pattern, a colour matrix, black
and white levels, the white balance as shot)."""

from __future__ import annotations

import struct
from io import BytesIO
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

WHITE = 4095  # 12-bit sensor data
# The colour matrix from CIE XYZ to the camera's colours: a camera whose colours are linear
# sRGB's (the inverse of sRGB's matrix to XYZ, D65), so that a developed picture shows the
# colours it was made from.
XYZ_TO_CAMERA = (3.2406, -1.5372, -0.4986, -0.9689, 1.8758, 0.0415, 0.0557, -0.2040, 1.0570)
_D65 = 21  # CalibrationIlluminant
_PREVIEW, _MAIN = 1, 0  # NewSubFileType: a reduced picture, the main one


def dng(
    path: Path,
    picture: Image.Image,
    *,
    preview: str | None = None,
    orientation: int = 1,
    taken: str | None = "2024:06:01 12:30:00",
    shown: Image.Image | None = None,
) -> Path:
    """Write picture (RGB, even width and height) as a DNG at path, with the camera's preview:
    None (a 64-pixel thumbnail only, so readers develop the sensor data), "jpeg" (a full-size
    JPEG preview, as most cameras embed) or "bitmap" (a full-size uncompressed one).
    orientation: EXIF's (6: the camera was turned a quarter clockwise); taken: the camera's
    date, or None for none; shown: the previews' picture when it is not picture (to tell
    which of the two a reader showed)."""
    rgb = picture.convert("RGB")
    seen = (shown or picture).convert("RGB").resize(rgb.size)
    width, height = rgb.size
    main = [
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50707, "B", 4, (1, 1, 0, 0), True),  # DNGBackwardVersion
        (50708, "s", 0, "Mediafind Test Camera", True),  # UniqueCameraModel
        (271, "s", 0, "Mediafind", True),  # Make
        (272, "s", 0, "Test Camera", True),  # Model
        (274, "H", 1, orientation, True),
        (50721, "2i", 9, _srational(XYZ_TO_CAMERA), True),  # ColorMatrix1
        (50778, "H", 1, _D65, True),  # CalibrationIlluminant1
        (50728, "2I", 3, (1, 1, 1, 1, 1, 1), True),  # AsShotNeutral: grey is grey
    ]
    if taken is not None:
        main.append((306, "s", 0, taken, True))  # DateTime
    sensor = [
        (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, "B", 4, (0, 1, 1, 2), True),  # CFAPattern: red, green / green, blue
        (50714, "H", 1, 0, True),  # BlackLevel
        (50717, "H", 1, WHITE, True),  # WhiteLevel
    ]
    first = seen.copy()
    if preview != "bitmap":
        first.thumbnail((64, 64))
    jpeg = _jpeg(seen) if preview == "jpeg" else None
    path.parent.mkdir(parents=True, exist_ok=True)
    with tifffile.TiffWriter(path) as tif:
        # IFD 0 is the thumbnail, the sensor data and the JPEG preview its sub-IFDs, as
        # cameras lay a DNG out.
        subifds = 1 if jpeg is None else 2
        tif.write(np.asarray(first), photometric="rgb", subfiletype=_PREVIEW,
                  subifds=subifds, extratags=main)  # fmt: skip
        tif.write(_mosaic(rgb), photometric="cfa", subfiletype=_MAIN, extratags=sensor)
        if jpeg is not None:
            # tifffile compresses JPEG only through imagecodecs; the JPEG is written as the
            # strip of an uncompressed picture its size (padded: a decoder stops at the JPEG's
            # end), then the IFD is made to say JPEG, YCbCr.
            padded = jpeg.ljust(width * height * 3, b"\0")
            tif.write(iter([padded]), shape=(height, width, 3), dtype="uint8",
                      photometric="rgb", subfiletype=_PREVIEW, rowsperstrip=height)  # fmt: skip
    if jpeg is not None:
        _say_jpeg(path, len(jpeg))
    return path


def _mosaic(rgb: Image.Image) -> np.ndarray:
    """The sensor's readings of rgb: linear light (sRGB's curve undone), one colour a pixel."""
    values = np.asarray(rgb, dtype=np.float64) / 255
    linear = np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)
    levels = np.round(linear * WHITE).astype(np.uint16)
    mosaic = np.empty(levels.shape[:2], np.uint16)
    mosaic[0::2, 0::2] = levels[0::2, 0::2, 0]
    mosaic[0::2, 1::2] = levels[0::2, 1::2, 1]
    mosaic[1::2, 0::2] = levels[1::2, 0::2, 1]
    mosaic[1::2, 1::2] = levels[1::2, 1::2, 2]
    return mosaic


def _jpeg(rgb: Image.Image) -> bytes:
    out = BytesIO()
    rgb.save(out, "JPEG", quality=92)
    return out.getvalue()


def _say_jpeg(path: Path, length: int) -> None:
    """Make the JPEG preview's IFD (the second sub-IFD) say Compression JPEG, YCbCr, and its
    strip as long as the JPEG (not its padding: a reader copies the whole strip, as LibRaw does
    for a preview, which would cost it 36 MB for a 12-megapixel photo)."""
    with tifffile.TiffFile(path) as tif:
        tags = tif.pages[0].pages[1].tags
        at = {code: tags[code].valueoffset for code in (259, 262, 279)}
        kind = tags[279].dtype
    with open(path, "r+b") as f:
        for code, value in ((259, 7), (262, 6)):
            f.seek(at[code])
            f.write(struct.pack("<H", value))
        f.seek(at[279])
        f.write(struct.pack("<I" if kind == 4 else "<Q", length))


def _srational(values: tuple[float, ...], denominator: int = 10_000) -> tuple[int, ...]:
    return tuple(n for v in values for n in (round(v * denominator), denominator))
