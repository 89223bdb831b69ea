"""What reading text in pictures costs (mediafind.ocr, RapidOCR through ONNX Runtime).

    .venv/bin/python bench/ocr_cost.py [--photos 24] [--rounds 3]

- per photo without text: the cheap pass (has_text: detection alone on a small copy) on
  photo-like pictures drawn here (mediafind.shapes with camera grain, at 2016×1512: a
  12-megapixel JPEG decoded at half scale) and on a noisy photo, and how many it wrongly takes
  as holding text;
- per page with text: read() on a 1920×1080 screenshot and on an A4 page at 150 dpi;
- the cheap pass's cost per photo over the image embedding's (ViT-B-32, random weights: the
  same cost as the real ones), timed alternately in the same run, medians over the rounds: the
  indexer runs the two side by side, so the slowdown it makes (goal ≤ 15 %) is measured whole
  by bench/ocr_slowdown.py;
- the import cost of mediafind.ocr (ONNX Runtime and OpenCV load on first use, not then).
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import subprocess
import sys
import time

from _models import random_model
from _table import figure
from PIL import Image, ImageDraw, ImageFont

from mediafind import embed, shapes
from mediafind.ocr import OcrEngine

PHOTO = (2016, 1512)
TEXT = "the quick brown fox jumps over the lazy dog while invoices and receipts wait"
WORDS = TEXT.split()


def camera_photo(rng: random.Random, size: tuple[int, int] = PHOTO) -> Image.Image:
    """A shapes photo with a camera's fine grain (no camera gives exactly flat areas)."""
    colour, shape = rng.choice(list(shapes.COLOURS)), rng.choice(shapes.SHAPES)
    small = shapes.render(colour, shape, rng, size=(size[0] // 4, size[1] // 4))
    photo = small.resize(size, Image.Resampling.BICUBIC)
    grain = Image.frombytes("L", size, rng.randbytes(size[0] * size[1])).convert("RGB")
    return Image.blend(photo, grain, rng.uniform(0.04, 0.1))


def noisy_photo(rng: random.Random, size: tuple[int, int] = PHOTO) -> Image.Image:
    """Coarse and fine noise all over: foliage, gravel, a crowd seen from afar."""
    cells = (size[0] // 8, size[1] // 8)
    coarse = Image.frombytes("RGB", cells, rng.randbytes(cells[0] * cells[1] * 3))
    fine = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    return Image.blend(coarse.resize(size, Image.Resampling.BILINEAR), fine, 0.3)


def screenshot(rng: random.Random) -> Image.Image:
    """A 1920×1080 window: a title bar, a sidebar, and 13-pixel UI text in a settings pane."""
    screen = Image.new("RGB", (1920, 1080), (246, 246, 248))
    paint = ImageDraw.Draw(screen)
    font = ImageFont.load_default(size=13)
    paint.rectangle((0, 0, 1920, 36), fill=(225, 225, 230))
    paint.text((16, 10), "Settings - Network and Internet", font=font, fill=(30, 30, 30))
    paint.rectangle((0, 36, 280, 1080), fill=(236, 236, 240))
    for i, item in enumerate(("Wi-Fi", "Ethernet", "VPN", "Proxy", "Bluetooth", "Display")):
        paint.text((24, 70 + 36 * i), item, font=font, fill=(40, 40, 40))
    for i in range(16):
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9)))
        paint.text((320, 70 + 40 * i), line.capitalize(), font=font, fill=(30, 30, 30))
    return screen


def a4_page(rng: random.Random) -> Image.Image:
    """An A4 page at 150 dpi (1240×1754): a heading and 40 lines of 11-point text."""
    page = Image.new("RGB", (1240, 1754), (255, 255, 255))
    paint = ImageDraw.Draw(page)
    paint.text((120, 110), "Invoice 2026-0147", font=ImageFont.load_default(size=40), fill=0)
    body = ImageFont.load_default(size=23)  # 11 points at 150 dpi
    for i in range(40):
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 12)))
        paint.text((120, 200 + 36 * i), line.capitalize(), font=body, fill=(20, 20, 20))
    return page


def per_item(seconds: float, items: int) -> float:
    return 1000 * seconds / items


def timed(work: object) -> float:
    started = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - started


def import_cost() -> tuple[float, float]:
    """Milliseconds to import mediafind.ocr and, for comparison, mediafind.pictext (the types
    alone), each in a fresh interpreter, medians of five."""

    def once(module: str) -> float:
        code = f"import time; t = time.perf_counter(); import {module}; "
        code += "print(time.perf_counter() - t)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        return 1000 * float(out.stdout)

    ocr = statistics.median(once("mediafind.ocr") for _ in range(5))
    types = statistics.median(once("mediafind.pictext") for _ in range(5))
    return ocr, types


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(14)

    ocr_ms, types_ms = import_cost()
    print(f"import mediafind.ocr {ocr_ms:.0f} ms (mediafind.pictext alone {types_ms:.0f} ms)")
    figure("import mediafind.ocr (ONNX Runtime loads on first use)", f"{ocr_ms:.0f} ms")

    engine = OcrEngine(device="cpu")
    started = time.perf_counter()
    provider = engine.provider  # makes the sessions
    print(f"OCR sessions ready in {time.perf_counter() - started:.2f} s on {provider}")
    photos = [camera_photo(rng) for _ in range(args.photos)]
    noisy = [noisy_photo(rng) for _ in range(4)]
    engine.has_text(photos[0])  # warm-up

    folder = random_model("ViT-B-32")
    encoder = embed.OpenClipEncoder(embed.parse_spec(f"local-dir:{folder}"), "cpu")
    encoder.load()
    encoder.encode_images(photos[:2])  # warm-up

    cheap, noisy_cheap, embedding = [], [], []
    flagged = 0
    for _ in range(args.rounds):
        # Alternately, so that both see the same load on a shared machine.
        started = time.perf_counter()
        flagged = sum(engine.has_text(photo) for photo in photos)
        cheap.append(per_item(time.perf_counter() - started, len(photos)))
        embedding.append(per_item(timed(lambda: encoder.encode_images(photos)), len(photos)))
        started = time.perf_counter()
        flagged_noisy = sum(engine.has_text(photo) for photo in noisy)
        noisy_cheap.append(per_item(time.perf_counter() - started, len(noisy)))
    has_text_ms, embed_ms = statistics.median(cheap), statistics.median(embedding)
    print(
        f"cheap pass {has_text_ms:.1f} ms/photo, noisy {statistics.median(noisy_cheap):.1f}"
        f" ms/photo; ViT-B-32 image embedding {embed_ms:.1f} ms/photo"
    )
    figure("cheap pass, photo without text (2016×1512)", f"{has_text_ms:.1f} ms/photo")
    figure("cheap pass, noisy photo without text", f"{statistics.median(noisy_cheap):.1f} ms/photo")
    wrong = flagged + flagged_noisy
    figure(
        "photos without text taken as holding text",
        f"{wrong} of {len(photos) + len(noisy)}",
        "≤ 5 %",
        wrong <= 0.05 * (len(photos) + len(noisy)),
    )
    # One after the other, on one thread: the indexer runs the pass beside the model, so the
    # slowdown it makes (the budget's figure) is bench/ocr_slowdown.py's, measured whole.
    figure(
        "cheap pass / ViT-B-32 embedding, one after the other",
        f"{100 * has_text_ms / embed_ms:.1f} %",
    )

    for name, page in (
        ("1920×1080 screenshot", screenshot(rng)),
        ("A4 page, 150 dpi", a4_page(rng)),
    ):
        engine.has_text(page)
        seconds = []
        lines = []
        for _ in range(max(1, args.rounds - 1)):
            started = time.perf_counter()
            lines = engine.read(page)
            seconds.append(time.perf_counter() - started)
        cheap_ms = 1000 * timed(lambda page=page: engine.has_text(page))
        print(
            f"{name}: read {len(lines)} lines in {statistics.median(seconds):.2f} s "
            f"(cheap pass {cheap_ms:.0f} ms)"
        )
        figure(f"read, {name}", f"{statistics.median(seconds):.2f} s/page ({len(lines)} lines)")

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    before = peak
    huge = Image.new("L", (12000, 9000), 235)
    ImageDraw.Draw(huge).text((3000, 4000), "ARCHIVE", font=ImageFont.load_default(size=320))
    seconds = timed(lambda: engine.read(huge))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"12000×9000 picture: read in {seconds:.2f} s; peak memory {peak:.0f} MiB "
        f"(+{peak - before:.0f} MiB, of which the picture itself 103 MiB)"
    )
    figure("read, 12000×9000 picture (cut to 4 MP)", f"{seconds:.2f} s, +{peak - before:.0f} MiB")


if __name__ == "__main__":
    main()
