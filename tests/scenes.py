"""Made-up photos of outdoor scenes, their edited copies, and other photos of the same kind of
scene, for measuring how well duplicates are told apart (bench/duplicates.py, tests/test_dupes.py).

A scene is a sky, ridges of hills, a sun, a few trees and houses, and grain, drawn from a seed;
a look (the palette and the kind of layout) comes from a second seed, so that two scenes with
the same look and different seeds are two photos of the same kind of place: the distractors
a duplicate finder must not group."""

from __future__ import annotations

import random
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter


def scene(look: int, seed: int, size: tuple[int, int] = (1024, 768)) -> Image.Image:
    """A photo of a scene: the look (palette, horizon, sun) from look, the details from seed."""
    style = random.Random(look)
    rng = random.Random(seed * 7919 + look)
    width, height = size
    top = np.array([style.randint(40, 140), style.randint(90, 180), style.randint(160, 255)])
    low = np.array([style.randint(170, 255), style.randint(150, 230), style.randint(120, 220)])
    t = np.linspace(0, 1, height)[:, None, None]
    sky = (top * (1 - t) + low * t).repeat(width, axis=1)
    image = Image.fromarray(sky.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    sun_x = style.uniform(0.15, 0.85) * width + rng.uniform(-0.15, 0.15) * width
    sun_y = style.uniform(0.1, 0.35) * height + rng.uniform(-0.08, 0.08) * height
    r = style.uniform(0.04, 0.09) * width
    draw.ellipse((sun_x - r, sun_y - r, sun_x + r, sun_y + r), fill=(255, 240, 200))
    horizon = style.uniform(0.45, 0.65)
    for layer in range(3):
        base = (horizon + 0.1 * layer + rng.uniform(-0.06, 0.06)) * height
        shade = [
            max(0, min(255, c - 40 * layer + rng.randint(-20, 20))) for c in style_colour(style)
        ]
        points = [(0, height)]
        y = base
        for x in range(0, width + 32, 32):
            y = max(0.2 * height, min(0.95 * height, y + rng.uniform(-0.04, 0.04) * height))
            points.append((x, y))
        points.append((width, height))
        draw.polygon(points, fill=tuple(shade))
    for _ in range(rng.randint(3, 9)):
        x, y = rng.uniform(0, width), rng.uniform(0.6, 0.95) * height
        s = rng.uniform(0.03, 0.09) * height
        if rng.random() < 0.6:  # a tree
            draw.rectangle((x - s * 0.1, y, x + s * 0.1, y + s), fill=(80, 50, 30))
            draw.ellipse(
                (x - s * 0.6, y - s, x + s * 0.6, y + s * 0.2),
                fill=(30, 100 + rng.randint(0, 60), 40),
            )
        else:  # a house
            colour = (rng.randint(120, 240), rng.randint(80, 200), rng.randint(60, 160))
            draw.rectangle((x - s, y - s * 0.8, x + s, y + s * 0.4), fill=colour)
            draw.polygon(
                [(x - s * 1.2, y - s * 0.8), (x, y - s * 1.6), (x + s * 1.2, y - s * 0.8)],
                fill=(150, 40, 30),
            )
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    grain = np.random.default_rng(seed + 1000 * look).normal(0, 6, (height, width, 3))
    pixels = np.clip(np.asarray(image, dtype=np.float64) + grain, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def style_colour(style: random.Random) -> tuple[int, int, int]:
    return (style.randint(40, 140), style.randint(90, 170), style.randint(30, 110))


def jpeg(image: Image.Image, quality: int = 92) -> bytes:
    out = BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _reopened(data: bytes) -> Image.Image:
    with Image.open(BytesIO(data)) as img:
        return img.convert("RGB")


def _crop(image: Image.Image, share: float, rng: random.Random) -> Image.Image:
    """A crop taking share of each side in all, split at random between its two edges."""
    w, h = image.size
    left, top = rng.uniform(0, share) * w, rng.uniform(0, share) * h
    return image.crop(
        (int(left), int(top), int(left + (1 - share) * w), int(top + (1 - share) * h))
    )


def _rotated(image: Image.Image, degrees: float) -> Image.Image:
    """Straightened as an editor does it: turned, then cropped to lose the corners."""
    w, h = image.size
    turned = image.rotate(degrees, resample=Image.Resampling.BICUBIC)
    m = 0.05
    return turned.crop((int(w * m), int(h * m), int(w * (1 - m)), int(h * (1 - m))))


def _burst(image: Image.Image, rng: random.Random) -> Image.Image:
    """The next shot of a burst: the camera moved a little, the light flickered."""
    w, h = image.size
    dx, dy = rng.uniform(0.02, 0.04) * w, rng.uniform(0.01, 0.03) * h
    shifted = image.crop((int(dx), int(dy), int(dx + 0.95 * w), int(dy + 0.95 * h))).resize((w, h))
    noise = np.random.default_rng(rng.randint(0, 2**31)).normal(0, 4, (h, w, 3))
    pixels = np.clip(
        np.asarray(shifted, dtype=np.float64) * rng.uniform(0.95, 1.05) + noise, 0, 255
    )
    return Image.fromarray(pixels.astype(np.uint8), "RGB")


# Each variant: a name and how to make it from the original picture, as the bytes of its file.
Variant = Callable[[Image.Image, random.Random], bytes]
VARIANTS: dict[str, Variant] = {
    "resized to half": lambda im, _: jpeg(im.resize((im.width // 2, im.height // 2))),
    "resized to a quarter, quality 60": lambda im, _: jpeg(
        im.resize((im.width // 4, im.height // 4)), 60
    ),
    "recompressed at quality 30": lambda im, _: jpeg(im, 30),
    "recompressed at quality 50": lambda im, _: jpeg(im, 50),
    "recompressed at quality 75": lambda im, _: jpeg(im, 75),
    "cropped 5 %": lambda im, rng: jpeg(_crop(im, 0.05, rng)),
    "cropped 10 %": lambda im, rng: jpeg(_crop(im, 0.10, rng)),
    "brighter": lambda im, _: jpeg(ImageEnhance.Brightness(im).enhance(1.25)),
    "more contrast": lambda im, _: jpeg(ImageEnhance.Contrast(im).enhance(1.3)),
    "less contrast, darker": lambda im, _: jpeg(
        ImageEnhance.Brightness(ImageEnhance.Contrast(im).enhance(0.75)).enhance(0.85)
    ),
    "turned 2°": lambda im, _: jpeg(_rotated(im, 2.0)),
    "turned -3°": lambda im, _: jpeg(_rotated(im, -3.0)),
    "burst shot": lambda im, rng: jpeg(_burst(im, rng)),
    "saved as PNG": lambda im, _: _png(_reopened(jpeg(im))),
}


def _png(image: Image.Image) -> bytes:
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def duplicate_photos(root: Path, size: tuple[int, int] = (640, 480)) -> Path:
    """A folder of photos with duplicates: beach.jpg with an exact copy in backup/, hills.jpg
    with a resized and recompressed copy in sent/, and another photo of the same kind of scene
    as hills.jpg (hills again.jpg), which is no copy."""
    (root / "backup").mkdir(parents=True)
    (root / "sent").mkdir()
    (root / "beach.jpg").write_bytes(jpeg(scene(1, 0, size)))
    (root / "backup" / "beach.jpg").write_bytes((root / "beach.jpg").read_bytes())
    hills = scene(4, 0, size)
    (root / "hills.jpg").write_bytes(jpeg(hills))
    small = hills.resize((size[0] // 2, size[1] // 2), Image.Resampling.LANCZOS)
    (root / "sent" / "hills small.jpg").write_bytes(jpeg(small, 50))
    (root / "hills again.jpg").write_bytes(jpeg(scene(4, 1, size)))
    return root
