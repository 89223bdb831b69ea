"""A picture's perceptual hash (pHash): 64 bits that change little when the picture is resized,
recompressed or lightly edited, so that near-copies are found by counting differing bits.

The DCT pHash as ImageHash computes it, written with numpy (which the app has through torch)
rather than taken from ImageHash, which pulls in scipy and PyWavelets: about 100 MB more in
every desktop package for one 32×32 transform."""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt
from PIL import Image

# The picture is shrunk to SIDE×SIDE grey levels and its lowest BAND×BAND frequencies keep one
# bit each: above or below their median. 32 and 8 are pHash's own: smaller loses the picture's
# layout, more frequencies bring in detail that recompression changes.
SIDE = 32
BAND = 8
BITS = BAND * BAND


@functools.cache
def _dct_matrix(n: int) -> npt.NDArray[np.float64]:
    """The orthonormal DCT-II as a matrix: M @ x transforms the columns of x."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    m: npt.NDArray[np.float64] = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2 / n)
    m[0] /= np.sqrt(2)
    return m


def perceptual_hash(picture: Image.Image) -> int:
    """The picture's 64-bit pHash, as a signed integer (what SQLite stores)."""
    grey = picture.convert("L").resize((SIDE, SIDE), Image.Resampling.LANCZOS)
    pixels = np.asarray(grey, dtype=np.float64)
    m = _dct_matrix(SIDE)
    low = (m @ pixels @ m.T)[:BAND, :BAND]
    bits = (low > np.median(low)).flatten()
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return value - (1 << BITS) if value >= 1 << (BITS - 1) else value


# The second hash is of the picture's middle, this share of each side: a copy cropped by up to
# a tenth, or straightened (turned, then cropped), shows about this much of the original, so
# one of the four pairings of two photos' hashes compares like with like (bench/duplicates.py:
# a 10 % crop is at most 16 bits from its original this way, up to 24 with one hash only).
MIDDLE = 0.9


def hashes(picture: Image.Image) -> tuple[int, int]:
    """The pHash of the whole picture and of its middle (MIDDLE of each side)."""
    w, h = picture.size
    margin_x, margin_y = w * (1 - MIDDLE) / 2, h * (1 - MIDDLE) / 2
    middle = picture.crop(
        (round(margin_x), round(margin_y), round(w - margin_x), round(h - margin_y))
    )
    return perceptual_hash(picture), perceptual_hash(middle)


def closest(a: tuple[int, int], b: tuple[int, int]) -> int:
    """How many bits apart two photos' hashes are, at their closest pairing."""
    return min(distance(x, y) for x in a for y in b)


def distance(a: int, b: int) -> int:
    """How many of the 64 bits differ between two hashes."""
    return ((a ^ b) & ((1 << BITS) - 1)).bit_count()
