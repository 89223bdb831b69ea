"""The models a user can name: the presets, and the spec forms (a preset, NAME:PRETRAINED,
hf-hub:ORG/REPO, local-dir:PATH) read into a ModelSpec.

Only the standard library: the command line checks a --model before it asks a running instance
or opens a library, without loading numpy or the model code (mediafind.embed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mediafind.errors import ModelUnavailable

LOCAL_DIR = "local-dir:"
HF_HUB = "hf-hub:"


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    spec: str
    summary: str
    license: str


# Figures: images per second measured on 2 CPU cores with random weights (bench/encoder_speed.py);
# Flickr30k text->image R@1 as published by the weights' authors.
PRESETS = (
    Preset(
        "fast",
        "MobileCLIP2-S0:dfndr2b",
        "MobileCLIP2-S0: ~28 img/s on 2 CPU cores (reparameterized, channels-last); "
        "Flickr30k R@1 69.2. Fastest and slightly better than balanced, but see licence.",
        "Apple ML research licence (research use only)",
    ),
    Preset(
        "balanced",
        "ViT-B-32:laion2b_s34b_b79k",
        "OpenCLIP ViT-B/32 on LAION-2B: ~25 img/s on 2 CPU cores; Flickr30k R@1 66.8. "
        "The default: good quality per millisecond on a laptop CPU, and free for anyone.",
        "MIT",
    ),
    Preset(
        "best",
        "ViT-L-14:datacomp_xl_s13b_b90k",
        "OpenCLIP ViT-L/14 on DataComp-1B: clearly better matches, but about 20x slower than "
        "balanced on a CPU (0.5 vs 11 img/s measured side by side on 2 busy cores): for a GPU.",
        "MIT",
    ),
    Preset(
        "multilingual",
        "xlm-roberta-base-ViT-B-32:laion5b_s13b_b90k",
        "ViT-B/32 image tower with an XLM-RoBERTa text tower: queries in Chinese, German, "
        "Spanish and 100 more languages. Needs the `multilingual` extra (transformers).",
        "MIT",
    ),
)
DEFAULT_PRESET = "balanced"


def preset(name: str) -> Preset | None:
    return next((p for p in PRESETS if p.name == name), None)


def default_spec() -> str:
    found = preset(DEFAULT_PRESET)
    assert found is not None
    return found.spec


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A model as the user names it: a preset, NAME:PRETRAINED, hf-hub:ORG/REPO or
    local-dir:PATH."""

    text: str  # canonical form, as stored in the library
    name: str  # what open_clip is given as model name
    pretrained: str | None = None
    local_dir: Path | None = None


def parse_spec(text: str) -> ModelSpec:
    text = text.strip()
    found = preset(text)
    if found is not None:
        text = found.spec
    if text.startswith(LOCAL_DIR):
        raw = text[len(LOCAL_DIR) :]
        if not raw:
            raise ModelUnavailable(
                "local-dir: needs a folder, e.g. --model local-dir:/path/to/model"
            )
        folder = Path(raw).expanduser().resolve()
        return ModelSpec(f"{LOCAL_DIR}{folder}", f"{LOCAL_DIR}{folder}", local_dir=folder)
    if text.startswith(HF_HUB):
        return ModelSpec(text, text)
    name, sep, pretrained = text.partition(":")
    if not sep or not name or not pretrained:
        names = ", ".join(p.name for p in PRESETS)
        raise ModelUnavailable(
            f"model {text!r} is not a preset ({names}), NAME:PRETRAINED "
            "(e.g. ViT-B-32:laion2b_s34b_b79k) or local-dir:PATH"
        )
    return ModelSpec(text, name, pretrained=pretrained)
