"""`mediafind --self-test`: proves an installation works end to end, without the user's data.

It makes a throw-away library, renders a few photos of coloured shapes and writes a note about
each pair (mediafind.shapes), indexes them with the same Indexer the command line uses, then asks
two questions whose right answer is known: typed words ("a red circle") must bring the red
circles first, and a fresh picture of a green square must bring the note about the green square
first. A frozen build that lost a native library, a model config or the tokenizer's vocabulary
fails here instead of in front of a user.

The model is the one given with --model, else the project's tiny model, which ships inside the
package (mediafind/assets/tiny-clip). The tiny model was trained on exactly these pictures, so
its answers are reliable and it needs no download; a real model (e.g. the default ViT-B-32)
passes as well, since it reads colours and shapes easily.
"""

from __future__ import annotations

import logging
import random
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mediafind import config, roots_rows, shapes
from mediafind.embed import LOCAL_DIR, OpenClipEncoder, parse_spec
from mediafind.errors import ModelUnavailable
from mediafind.indexer import Indexer
from mediafind.keeper import sync
from mediafind.query import Part, Query, parse
from mediafind.rows import NOTE, PHOTO
from mediafind.search import Hit, Searcher
from mediafind.store import Store

log = logging.getLogger(__name__)

# The pairs are chosen as each other's near misses: the red circle shares its colour with the
# red square and its shape with the blue circle, the green square its shape with the red square.
# A model (or a broken preprocessing step) that sees only colour or only shape fails.
PAIRS: tuple[tuple[str, str], ...] = (
    ("red", "circle"),
    ("red", "square"),
    ("green", "square"),
    ("blue", "circle"),
)
PHOTOS_PER_PAIR = 3
TEXT_QUERY = ("red", "circle")
IMAGE_QUERY = ("green", "square")
# Fixed seeds: the same pictures and notes on every machine, so a failure is reproducible.
SEED = 20261122
QUERY_SEED = 4242
# The tiny model ships inside the package (package data in pyproject.toml): in a checkout, an
# installed wheel and the frozen app alike, where packaging/mediafind.spec puts it beside the
# package's modules.
MODEL_DIR = Path(__file__).resolve().parent / "assets" / "tiny-clip"


@dataclass(frozen=True, slots=True)
class Step:
    """One line of the report: what was done, how long it took, whether it went right."""

    name: str
    seconds: float
    ok: bool = True
    detail: str = ""


@dataclass
class Report:
    model: str
    device: str = ""
    steps: list[Step] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps)


StepCallback = Callable[[Step], None]


def bundled_model() -> Path | None:
    """The tiny model folder in the package, or None where a repackager left it out."""
    return MODEL_DIR if (MODEL_DIR / "open_clip_config.json").is_file() else None


def default_model() -> str:
    """The model the self-test uses without --model (ModelUnavailable when there is none)."""
    folder = bundled_model()
    if folder is None:
        raise ModelUnavailable(
            "the self-test needs a model: this installation has no bundled test model, so give "
            "one with --model (e.g. --model local-dir:/path/to/mediafind/assets/tiny-clip, "
            "or --model balanced to use the default model)"
        )
    return f"{LOCAL_DIR}{folder}"


def run(
    model: str | None = None, device: str = "auto", on_step: StepCallback | None = None
) -> Report:
    """Run the self-test in a temporary folder that is removed afterwards. Raises
    ModelUnavailable when the model cannot be loaded; wrong answers are failed steps."""
    started = time.monotonic()
    spec = parse_spec(model or default_model())
    report = Report(model=spec.text)

    def record(step: Step) -> None:
        report.steps.append(step)
        if on_step is not None:
            on_step(step)

    with tempfile.TemporaryDirectory(prefix="mediafind-self-test-") as tmp:
        base = Path(tmp)
        with _timed() as t:
            encoder = OpenClipEncoder(spec, device)
        report.device = encoder.device
        record(Step("load model", t(), detail=f"dimension {encoder.dimension}"))

        with _timed() as t:
            folder, truth = _make_files(base / "files")
            query_picture = base / "query" / "green square.png"
            query_picture.parent.mkdir()
            shapes.render(*IMAGE_QUERY, random.Random(QUERY_SEED)).save(query_picture)
        record(Step("make files", t(), detail=f"{len(truth)} photos and notes"))

        with Store.open(base / "library" / config.LIBRARY_FILE, writer=True) as store:
            roots_rows.add_root(store, folder)
            with _timed() as t:
                outcome = sync(Indexer(store, lambda: encoder, encoder.identity))
            problems = "; ".join(f"{p.name}: {why}" for p, why in outcome.errors)
            record(
                Step(
                    "index",
                    t(),
                    ok=outcome.indexed == len(truth) and not outcome.errors,
                    detail=f"{outcome.indexed} of {len(truth)} indexed"
                    + (f" ({problems})" if problems else ""),
                )
            )
            searcher = Searcher(store, encoder)
            colour, shape = TEXT_QUERY
            words = f"a {colour} {shape}"
            with _timed() as t:
                query = parse(words, images_allowed=False).narrowed(kind=PHOTO)
                hits = searcher.search(query, PHOTOS_PER_PAIR)
            record(_judge(f"text {words!r}", t(), hits, truth, TEXT_QUERY, PHOTOS_PER_PAIR))
            with _timed() as t:
                by_picture = Query(parts=(Part(image=query_picture),), kind=NOTE)
                hits = searcher.search(by_picture, len(PAIRS))
            record(_judge("picture of a green square", t(), hits, truth, IMAGE_QUERY, 1))
    report.seconds = time.monotonic() - started
    log.info("self-test %s in %.1f s", "passed" if report.passed else "failed", report.seconds)
    return report


def _make_files(folder: Path) -> tuple[Path, dict[Path, tuple[str, str]]]:
    """Photos and one note per pair; returns the folder and what each file shows.

    The names say nothing about the content: search also matches file names, and the test is
    about what the model sees and reads."""
    rng = random.Random(SEED)
    folder.mkdir(parents=True)
    truth: dict[Path, tuple[str, str]] = {}
    for i, (colour, shape) in enumerate(PAIRS):
        for k in range(PHOTOS_PER_PAIR):
            photo = folder / f"photo-{i * PHOTOS_PER_PAIR + k + 1:02}.jpg"
            shapes.render(colour, shape, rng).save(photo, quality=90)
            truth[photo] = (colour, shape)
        note = folder / f"note-{i + 1}.txt"
        note.write_text(shapes.note(colour, shape, rng) + "\n", encoding="utf-8")
        truth[note] = (colour, shape)
    return folder, truth


def _judge(
    name: str,
    seconds: float,
    hits: Sequence[Hit],
    truth: dict[Path, tuple[str, str]],
    wanted: tuple[str, str],
    first: int,
) -> Step:
    """Passes when the first `first` hits all show `wanted`."""
    right = [truth.get(h.path) == wanted for h in hits[:first]]
    ok = len(right) == first and all(right)
    labels = [f"{h.path.name} ({' '.join(truth.get(h.path, ('?',)))})" for h in hits[:first]]
    shown = ", ".join(labels)
    return Step(name, seconds, ok, f"first: {shown or 'nothing'}")


@contextmanager
def _timed() -> Iterator[Callable[[], float]]:
    """Yields a function that returns the seconds the block took (valid after it ends)."""
    started = time.monotonic()
    elapsed: list[float] = []
    yield lambda: elapsed[0] if elapsed else time.monotonic() - started
    elapsed.append(time.monotonic() - started)


def format_step(step: Step) -> str:
    mark = "ok  " if step.ok else "FAIL"
    return f"{mark} {step.name:<28} {step.seconds:6.2f} s  {step.detail}"
