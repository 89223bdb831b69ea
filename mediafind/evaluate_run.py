"""The evaluation run, as both faces start it: a set of captioned photos embedded with each model
asked for (the library's own by default), the figures of each side by side with its speed on
this computer, the model to suggest, and the calibrated cutoff to apply."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mediafind import evaluate, media, presets, weights
from mediafind.embed import Encoder
from mediafind.errors import MediafindError, UnreadableFile, describe
from mediafind.evaluate import Cutoff, Direction
from mediafind.evaluate_rows import save_cutoff
from mediafind.evaluate_sets import DEFAULT_SPLIT, EvalSet, load
from mediafind.presets import LOCAL_DIR, Preset, parse_spec
from mediafind.session import Session
from mediafind.text import cap_words
from mediafind.towers import IMAGE, TEXT

log = logging.getLogger(__name__)

# Photos and captions per encoder call: enough to keep a model busy, few enough that a Cancel
# is heard within a second or two on a CPU.
IMAGE_BATCH = 16
TEXT_BATCH = 64
DEFAULT_PRECISION = 0.9


class Cancelled(MediafindError):
    """The evaluation was stopped before it was done."""


def model_name(spec: str) -> str:
    """A short name for a model (spec: canonical): the preset's, or the model folder's."""
    preset = next((p.name for p in presets.PRESETS if p.spec == spec), None)
    if preset is not None:
        return preset
    if spec.startswith(LOCAL_DIR):
        return Path(spec[len(LOCAL_DIR) :]).name
    return spec


@dataclass(frozen=True, slots=True)
class Step:
    done: int
    total: int
    what: str  # "ViT-B-32: photos"


ProgressCallback = Callable[[Step], None]


@dataclass(frozen=True, slots=True)
class Measured:
    """One model's figures on the set."""

    spec: str
    identity: str
    photos: int
    pairs: int
    text_to_image: Direction
    image_to_text: Direction
    cutoff: Cutoff | None
    images_per_second: float  # the model alone, decoding aside
    texts_per_second: float
    unreadable: tuple[tuple[Path, str], ...] = ()

    @property
    def name(self) -> str:
        return model_name(self.spec)

    def to_json(self) -> dict[str, object]:
        return {
            "model": self.spec,
            "identity": self.identity,
            "photos": self.photos,
            "pairs": self.pairs,
            "text_to_image": self.text_to_image.to_json(),
            "image_to_text": self.image_to_text.to_json(),
            "cutoff": self.cutoff.to_json() if self.cutoff else None,
            "images_per_second": round(self.images_per_second, 2),
            "texts_per_second": round(self.texts_per_second, 2),
            "unreadable": [{"path": str(p), "reason": r} for p, r in self.unreadable],
        }


@dataclass(frozen=True, slots=True)
class Report:
    """Every model's figures on one set."""

    set_name: str
    photos: int
    pairs: int
    missing: tuple[Path, ...]
    precision: float
    models: tuple[Measured, ...]

    @property
    def suggested(self) -> Measured:
        """The model with the best text -> photo R@1; but a faster one whose R@1 lies within
        the best one's 95 % interval, when there is one (this set cannot tell them apart)."""
        best = max(self.models, key=lambda m: m.text_to_image.recall[1].value)
        low = best.text_to_image.recall[1].low
        close = [m for m in self.models if m.text_to_image.recall[1].value >= low]
        return max(close, key=lambda m: m.images_per_second)

    def to_json(self) -> dict[str, object]:
        return {
            "set": self.set_name,
            "photos": self.photos,
            "pairs": self.pairs,
            "missing": [str(p) for p in self.missing],
            "precision": self.precision,
            "models": [m.to_json() for m in self.models],
            "suggested": self.suggested.spec,
        }

    def table(self) -> str:
        """The figures as a table, one column per model."""
        rows: list[tuple[str, list[str]]] = [("", [m.name for m in self.models])]
        for label, pick in (("text → photo", _t2i), ("photo → text", _i2t)):
            for i, (what, _) in enumerate(pick(self.models[0])):
                cells = [_cell(dict(pick(m))[what], with_interval=what == "R@1")
                         for m in self.models]  # fmt: skip
                rows.append((f"{label if i == 0 else '':<13} {what}", cells))
        rows.append((f"cutoff at precision {self.precision:g}", [_cutoff(m) for m in self.models]))
        rows.append(("photos/s", [f"{m.images_per_second:.1f}" for m in self.models]))
        rows.append(("text queries/s", [f"{m.texts_per_second:.1f}" for m in self.models]))
        first = max(len(label) for label, _ in rows)
        widths = [max(len(cells[i]) for _, cells in rows) for i in range(len(self.models))]
        lines = [
            "  ".join(
                [label.ljust(first), *(c.rjust(w) for c, w in zip(cells, widths, strict=True))]
            )
            for label, cells in rows
        ]
        return "\n".join(line.rstrip() for line in lines)


def _t2i(m: Measured) -> list[tuple[str, evaluate.Figure]]:
    d = m.text_to_image
    return [*((f"R@{k}", f) for k, f in d.recall.items()), ("MRR", d.mrr)]


def _i2t(m: Measured) -> list[tuple[str, evaluate.Figure]]:
    d = m.image_to_text
    return [*((f"R@{k}", f) for k, f in d.recall.items()), ("MRR", d.mrr), ("mAP", d.map)]


def _cell(figure: evaluate.Figure, with_interval: bool) -> str:
    text = f"{100 * figure.value:.1f}"
    if with_interval:
        text += f" ({100 * figure.low:.1f}–{100 * figure.high:.1f})"
    return text


def _cutoff(m: Measured) -> str:
    if m.cutoff is None:
        return "none reached"
    return f"{m.cutoff.similarity:.3f} (finds {100 * m.cutoff.recall:.0f} %)"


def measure(
    found: EvalSet,
    encoder: Encoder,
    precision: float = DEFAULT_PRECISION,
    on_progress: ProgressCallback | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    steps: tuple[int, int] | None = None,
) -> Measured:
    """One model's figures on a set (checked: found.check()). Photos that cannot be decoded
    are left out with their captions, and listed. steps: progress done before this model and
    the run's total (several models)."""
    done, total = steps or (0, len(found.items) + found.pairs)
    label = encoder.spec

    def tick(n: int, what: str) -> None:
        nonlocal done
        if cancelled():
            raise Cancelled("the evaluation was cancelled")
        done += n
        if on_progress is not None:
            on_progress(Step(done, total, f"{label}: {what}"))

    encoder.load((TEXT, IMAGE))  # not in the speed: a model is loaded once a session
    vectors, kept, unreadable = [], [], []
    image_seconds = 0.0
    for start in range(0, len(found.items), IMAGE_BATCH):
        tick(0, "photos")
        batch = found.items[start : start + IMAGE_BATCH]
        pictures = []
        for item in batch:
            try:
                data = item.path.read_bytes()
                media.check_picture_size(len(data))
                raw = media.is_raw(item.path)
                pictures.append(media.open_image(data, encoder.image_size, raw=raw).image)
                kept.append(item)
            except (OSError, UnreadableFile) as e:
                unreadable.append((item.path, describe(e, with_file=False)))
        if pictures:
            began = time.perf_counter()
            vectors.append(encoder.encode_images(pictures))
            image_seconds += time.perf_counter() - began
        tick(len(batch), "photos")
    texts = [cap_words(text) for item in kept for text in item.captions]
    owner = [i for i, item in enumerate(kept) for _ in item.captions]
    used = EvalSet(found.name, tuple(kept))
    used.check()  # the unreadable photos may have left too few
    text_vectors = []
    text_seconds = 0.0
    for start in range(0, len(texts), TEXT_BATCH):
        tick(0, "captions")
        began = time.perf_counter()
        text_vectors.append(encoder.encode_texts(texts[start : start + TEXT_BATCH]))
        text_seconds += time.perf_counter() - began
        tick(len(texts[start : start + TEXT_BATCH]), "captions")
    images = np.concatenate(vectors)
    similarity = (np.concatenate(text_vectors) @ images.T).astype(np.float32)
    return Measured(
        encoder.spec,
        encoder.identity,
        len(kept),
        len(texts),
        evaluate.text_to_image(similarity, owner),
        evaluate.image_to_text(similarity, owner),
        evaluate.cutoff(similarity, owner, precision),
        len(kept) / image_seconds if image_seconds else 0.0,
        len(texts) / text_seconds if text_seconds else 0.0,
        tuple(unreadable),
    )


def comparable(session: Session) -> tuple[Preset, ...]:
    """The presets, other than the session's model, that can be measured now: their weights are
    on this computer (nothing is downloaded for a comparison)."""
    own = session.spec.text if session.spec is not None else None
    return tuple(
        p for p in presets.PRESETS if p.spec != own and weights.on_this_computer(parse_spec(p.spec))
    )


def the_set(
    session: Session, source: Path | None, images: Path | None = None, split: str = DEFAULT_SPLIT
) -> EvalSet:
    """The set SET names (None: the library's captioned photos), checked. Opens the library
    read-only: the evaluation writes nothing unless a cutoff is applied."""
    if source is not None:
        found = load(source, None, images, split)
    else:
        store = session.open_reader()
        if store is None:
            raise MediafindError(
                f"there is no library at {session.library_dir} yet, so no captioned photos to "
                "measure with; give a folder of captioned photos or a Karpathy JSON"
            )
        with store:
            found = load(None, store, images, split)
    found.check()
    return found


def run(
    session: Session,
    found: EvalSet,
    specs: Sequence[str] = (),
    precision: float = DEFAULT_PRECISION,
    on_progress: ProgressCallback | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Report:
    """Each model's figures on the set: the models named (presets, NAME:PRETRAINED,
    local-dir:PATH), else this session's (the library's own). A model other than the session's
    is loaded as the session loads one, and let go after its turn."""
    parsed = [parse_spec(s) for s in specs]  # every name checked before minutes of work
    per_model = len(found.items) + found.pairs
    total = per_model * max(1, len(parsed))
    measured = []
    for i, spec in enumerate(parsed or [None]):
        own = spec is None or (session.spec is not None and spec.text == session.spec.text)
        if own:
            encoder = session.load_encoder((TEXT, IMAGE))
        else:
            assert spec is not None
            encoder = session.models.load(spec, session.device)
        try:
            steps = (i * per_model, total)
            measured.append(measure(found, encoder, precision, on_progress, cancelled, steps))
        finally:
            if not own:
                close = getattr(encoder, "close", None)
                if close is not None:
                    close()
    return Report(
        found.name,
        len(found.items),
        found.pairs,
        found.missing,
        precision,
        tuple(measured),
    )


def apply(session: Session, measured: Measured) -> None:
    """Keep a model's calibrated cutoff in the library, for its searches to use."""
    cutoff = measured.cutoff
    if cutoff is None:
        raise MediafindError(
            f"no similarity reaches the asked precision with {measured.spec} on this set, so "
            "there is no cutoff to apply"
        )
    session.write_library(
        lambda store: save_cutoff(store, measured.identity, measured.spec, cutoff, measured.pairs)
    )
