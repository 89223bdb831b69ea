"""The OCR engine (mediafind.ocr) on pictures the tests draw: words on photos and on noise at
several sizes and small angles, a receipt, a screenshot, a huge picture, and photos without
text (mediafind.shapes), with the real PP-OCR models through ONNX Runtime."""

from __future__ import annotations

import ast
import importlib.util
import random
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import FakeEncoder
from PIL import Image, ImageDraw, ImageFont

from mediafind import media, roots_rows, shapes
from mediafind.indexer import Indexer
from mediafind.keeper import sync
from mediafind.ocr import OcrEngine
from mediafind.pictext import TextLine
from mediafind.picturetext import Reading
from mediafind.query import parse
from mediafind.search import TEXT_IN_PICTURE, Searcher
from mediafind.store import Store

# How far a box may stand from where the words were drawn, as a share of the picture's side:
# the detector's boxes are padded around the letters (its unclip ratio).
TOLERANCE = 0.03


@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    return OcrEngine(device="cpu")


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's own scalable font: on every machine, without a font file."""
    return ImageFont.load_default(size=size)


def draw_words(
    picture: Image.Image, words: str, at: tuple[int, int], size: int, angle: float = 0.0
) -> tuple[float, float, float, float]:
    """Draws dark words on the picture (turned by angle degrees); returns where, as fractions."""
    face = font(size)
    _, _, right, bottom = face.getbbox(words)
    layer = Image.new("RGBA", (right + 8, bottom + 8), (0, 0, 0, 0))
    ImageDraw.Draw(layer).text((4, 4), words, font=face, fill=(20, 20, 25, 255))
    layer = layer.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
    picture.paste(layer, at, layer)
    box = layer.getbbox()
    assert box is not None
    w, h = picture.size
    return (
        (at[0] + box[0]) / w,
        (at[1] + box[1]) / h,
        (at[0] + box[2]) / w,
        (at[1] + box[3]) / h,
    )


def noisy(size: tuple[int, int], seed: int) -> Image.Image:
    """A light, grainy background: fine random grain, the kind a camera gives."""
    rng = random.Random(seed)
    grain = Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))
    return Image.blend(Image.new("RGB", size, (205, 200, 190)), grain.convert("RGB"), 0.25)


def grainy(photo: Image.Image, seed: int) -> Image.Image:
    """The photo with a camera's fine grain, at a camera's size."""
    big = photo.resize((1600, 1200), Image.Resampling.BICUBIC)
    rng = random.Random(seed)
    grain = Image.frombytes("L", big.size, rng.randbytes(big.width * big.height))
    return Image.blend(big, grain.convert("RGB"), 0.08)


def text_of(lines: list[TextLine]) -> str:
    return " ".join(line.text for line in lines).lower()


def near(found: tuple[float, ...], drawn: tuple[float, ...]) -> bool:
    return all(abs(a - b) <= TOLERANCE for a, b in zip(found, drawn, strict=True))


@pytest.mark.parametrize(
    ("background", "size", "angle"),
    [("plain", 28, 0.0), ("plain", 48, 4.0), ("noisy", 36, -3.0), ("noisy", 60, 0.0)],
)
def test_words_drawn_on_a_photo_are_read_where_they_were_drawn(
    engine: OcrEngine, background: str, size: int, angle: float
) -> None:
    picture = (
        shapes.render("blue", "circle", random.Random(size), size=(960, 720))
        if background == "plain"
        else noisy((960, 720), seed=size)
    )
    drawn = draw_words(picture, "Lighthouse Road", (140, 470), size, angle)

    assert engine.has_text(picture)
    lines = engine.read(picture)

    matches = [line for line in lines if "lighthouse" in line.text.lower()]
    assert matches, f"read {text_of(lines)!r}"
    assert near(matches[0].box, drawn), (matches[0].box, drawn)
    assert all(0.5 <= line.score <= 1.0 for line in lines)


def test_a_sign_in_a_camera_photo_is_seen_by_the_cheap_pass(engine: OcrEngine) -> None:
    # A 12-megapixel photo decoded at half size, with a camera's grain (so looked at whole and
    # small); the sign's letters stand about 5 % of the long side.
    photo = grainy(shapes.render("green", "square", random.Random(3), size=(504, 378)), 3)
    photo = photo.resize((2016, 1512))
    drawn = draw_words(photo, "BAKERY", (700, 500), 130, angle=-5.0)

    assert engine.has_text(photo)
    lines = engine.read(photo)
    assert "bakery" in text_of(lines)
    assert near(next(line.box for line in lines if "bakery" in line.text.lower()), drawn)


def test_a_receipt_is_read_line_by_line_in_reading_order(engine: OcrEngine) -> None:
    receipt = Image.new("RGB", (480, 640), (250, 248, 240))
    rows = ["IKEA Malmo", "Meatballs 4.95", "Lamp 12.50", "Total 17.45", "Thank you"]
    for i, row in enumerate(rows):
        draw_words(receipt, row, (40, 40 + i * 100), 30)

    lines = engine.read(receipt)

    text = text_of(lines)
    for word in ("ikea", "meatballs", "12.50", "total", "17.45", "thank"):
        assert word in text, f"{word!r} not in {text!r}"
    tops = [line.box[1] for line in lines]
    assert tops == sorted(tops)


def test_small_text_in_a_screenshot_is_found_and_read(engine: OcrEngine) -> None:
    # A 1920×1080 screen with 13-pixel UI text: 3 pixels tall if the screen were shrunk like a
    # photo, which is why screens and scans are looked at in tiles.
    screen = screenshot()

    assert engine.has_text(screen)
    assert "hunter2" in text_of(engine.read(screen))


def screenshot() -> Image.Image:
    """A 1920×1080 screen with 13-pixel UI text in a dialog."""
    screen = Image.new("RGB", (1920, 1080), (246, 246, 248))
    paint = ImageDraw.Draw(screen)
    paint.rectangle((0, 0, 1920, 36), fill=(225, 225, 230))
    paint.rectangle((1300, 600, 1800, 900), fill=(255, 255, 255), outline=(180, 180, 190))
    draw_words(screen, "Wi-Fi password: hunter2", (1330, 640), 13)
    draw_words(screen, "Network settings", (1330, 610), 13)
    return screen


class ModelSizedEncoder(FakeEncoder):
    image_size = 224  # ViT-B-32's: photos are decoded this small for the model


def test_indexing_reads_screens_and_signs_and_decodes_photos_without_text_once(
    engine: OcrEngine, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "Pictures"
    folder.mkdir()
    screenshot().save(folder / "Screenshot 2026-03-02.png")
    sign = grainy(shapes.render("green", "square", random.Random(3), size=(504, 378)), 3)
    sign = sign.resize((2016, 1512))
    draw_words(sign, "BAKERY", (700, 500), 130, angle=-5.0)
    sign.save(folder / "IMG_2041.jpg", quality=90)
    for seed in range(3):
        photo = grainy(shapes.render("blue", "circle", random.Random(seed), size=(504, 378)), seed)
        photo.resize((2016, 1512)).save(folder / f"IMG_{3000 + seed}.jpg", quality=90)
    decodes: dict[int, list[int]] = {}  # by file size: the sizes each file was decoded at
    real_open = media.open_image

    def counted(data: bytes, min_side: int, *, raw: bool = False) -> media.Picture:
        decodes.setdefault(len(data), []).append(min_side)
        return real_open(data, min_side, raw=raw)

    monkeypatch.setattr(media, "open_image", counted)
    fake = ModelSizedEncoder()
    roots_rows.add_root(store, folder)

    outcome = sync(Indexer(store, lambda: fake, fake.identity, reading=Reading(lambda: engine)))  # type: ignore[arg-type,return-value]

    assert (outcome.indexed, outcome.errors) == (5, [])
    for words, name in (("hunter2", "Screenshot 2026-03-02.png"), ("bakery", "IMG_2041.jpg")):
        hits = Searcher(store, fake).search(parse(words), limit=3)  # type: ignore[arg-type]
        assert hits[0].path == folder / name
        assert TEXT_IN_PICTURE in hits[0].to_json()["why"]  # type: ignore[operator]
    # A photo without text is decoded once, at the model's size: the cheap pass looks at that.
    for seed in range(3):
        assert decodes[(folder / f"IMG_{3000 + seed}.jpg").stat().st_size] == [fake.image_size]


def test_photos_without_text_are_passed_over_by_the_cheap_pass(engine: OcrEngine) -> None:
    rng = random.Random(14)
    photos = [
        shapes.render(rng.choice(list(shapes.COLOURS)), rng.choice(shapes.SHAPES), rng)
        for _ in range(20)
    ]
    # With a camera's grain they are no longer flat, and are looked at small and whole.
    photos += [grainy(photo, seed) for seed, photo in enumerate(photos[:10])]
    photos += [noisy((640, 480), seed) for seed in range(3)]

    flagged = [i for i, photo in enumerate(photos) if engine.has_text(photo)]

    # At most one in twenty: a false "yes" costs one recognition that finds nothing.
    assert len(photos) == 33
    assert len(flagged) <= 1, f"text seen in photos {flagged}"


def test_a_huge_picture_is_read_within_bounded_time_and_memory(engine: OcrEngine) -> None:
    picture = Image.new("L", (12000, 9000), 235)
    drawn = draw_words(picture, "ARCHIVE 1987", (3000, 4000), 320)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    started = time.perf_counter()

    lines = engine.read(picture)

    took = time.perf_counter() - started
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert "archive" in text_of(lines)
    assert near(next(line.box for line in lines if "archive" in line.text.lower()), drawn)
    assert took < 30, f"{took:.1f} s"
    assert grown < 1500, f"the process grew by {grown:.0f} MiB"


def test_an_empty_picture_reads_no_lines(engine: OcrEngine) -> None:
    blank = Image.new("RGB", (800, 600), (255, 255, 255))
    assert not engine.has_text(blank)
    assert engine.read(blank) == []


def test_transparent_pictures_read_as_if_on_paper(engine: OcrEngine) -> None:
    sticker = Image.new("RGBA", (640, 240), (0, 0, 0, 0))
    draw_words(sticker, "Harbour", (60, 70), 64)
    assert "harbour" in text_of(engine.read(sticker))
    # A palette picture with a transparent colour, as a GIF or an 8-bit PNG comes.
    palette = sticker.convert("P", palette=Image.Palette.ADAPTIVE)
    palette.info["transparency"] = palette.getpixel((0, 0))
    assert "harbour" in text_of(engine.read(palette))


def test_threads_reading_at_once_get_the_same_lines(engine: OcrEngine) -> None:
    picture = noisy((640, 360), seed=7)
    draw_words(picture, "Platform 9", (80, 140), 48)
    blank = noisy((640, 360), seed=8)
    alone = engine.read(picture)
    results: list[tuple[bool, bool, list[TextLine]]] = []

    def work() -> None:
        results.append((engine.has_text(picture), engine.has_text(blank), engine.read(picture)))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert "platform" in text_of(alone)
    assert results == [(True, False, alone)] * 3


def test_identity_names_the_package_and_its_models_without_loading_them() -> None:
    fresh = OcrEngine()
    identity = fresh.identity
    assert "rapidocr_onnxruntime 1." in identity
    assert "det_infer.onnx" in identity and "rec_infer.onnx" in identity
    assert fresh.identity == OcrEngine().identity


def test_importing_the_engine_loads_neither_onnx_runtime_nor_opencv() -> None:
    code = (
        "import sys, mediafind.ocr\n"
        "heavy = [m for m in ('onnxruntime', 'cv2', 'rapidocr_onnxruntime', 'numpy')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_the_packaged_app_takes_the_models_and_onnx_runtime_along() -> None:
    """What packaging/mediafind.spec collects for OCR exists, and it no longer leaves ONNX
    Runtime out (it once did, as a corner of torch that mediafind did not use)."""
    spec = Path(__file__).resolve().parent.parent / "packaging" / "mediafind.spec"
    text = spec.read_text(encoding="utf-8")
    excludes = next(
        ast.literal_eval(node.value)
        for node in ast.parse(text).body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "excludes" for t in node.targets)
    )
    assert "onnxruntime" not in excludes and "cv2" not in excludes
    assert 'collect_data_files("rapidocr_onnxruntime"' in text
    assert 'collect_dynamic_libs("onnxruntime")' in text
    package = importlib.util.find_spec("rapidocr_onnxruntime")
    assert package is not None and package.submodule_search_locations
    folder = Path(next(iter(package.submodule_search_locations)))
    assert (folder / "config.yaml").is_file()
    assert len(list((folder / "models").glob("*.onnx"))) == 3
    runtime = importlib.util.find_spec("onnxruntime")
    assert runtime is not None and runtime.origin is not None
    capi = Path(runtime.origin).parent / "capi"
    libraries = [
        p.name for p in capi.iterdir() if p.name.endswith((".dll", ".dylib")) or ".so" in p.name
    ]
    assert any(name.startswith(("libonnxruntime.", "onnxruntime.")) for name in libraries)
