"""The tiny CLIP model the package ships, loaded the way real models are, finds the right shapes."""

from __future__ import annotations

import random
from typing import Any

import open_clip
import pytest
import torch
from conftest import TINY_SPEC

from mediafind import shapes

pytestmark = pytest.mark.slow

# Not a seed the training script uses, so these pictures and notes are new to the model.
HELD_OUT_SEED = 31_337
PICTURES_PER_PAIR = 10
PAIRS = [(colour, shape) for colour in shapes.COLOURS for shape in shapes.SHAPES]


@pytest.fixture(scope="module")
def tiny() -> tuple[Any, Any, Any]:
    model, _, preprocess = open_clip.create_model_and_transforms(TINY_SPEC)
    return model.eval(), preprocess, open_clip.get_tokenizer(TINY_SPEC)


@pytest.fixture(scope="module")
def held_out(tiny: tuple[Any, Any, Any]) -> tuple[torch.Tensor, list[tuple[str, str]]]:
    """Normalised embeddings of fresh pictures, and the pair each one shows."""
    model, preprocess, _ = tiny
    rng = random.Random(HELD_OUT_SEED)
    pairs = [pair for pair in PAIRS for _ in range(PICTURES_PER_PAIR)]
    batch = torch.stack([preprocess(shapes.render(c, s, rng)) for c, s in pairs])
    with torch.no_grad():
        return model.encode_image(batch, normalize=True), pairs


def _embed_texts(tiny: tuple[Any, Any, Any], texts: list[str]) -> torch.Tensor:
    model, _, tokenizer = tiny
    with torch.no_grad():
        texts_f: torch.Tensor = model.encode_text(tokenizer(texts), normalize=True)
    return texts_f


def test_tokenizer_is_the_standard_clip_tokenizer() -> None:
    assert isinstance(open_clip.get_tokenizer(TINY_SPEC), open_clip.SimpleTokenizer)


@pytest.mark.parametrize(("colour", "shape"), PAIRS, ids=[f"{c}-{s}" for c, s in PAIRS])
def test_text_query_brings_matching_shapes_first(
    tiny: tuple[Any, Any, Any],
    held_out: tuple[torch.Tensor, list[tuple[str, str]]],
    colour: str,
    shape: str,
) -> None:
    images, pairs = held_out
    query = _embed_texts(tiny, [f"a {colour} {shape}"])[0]
    top = (images @ query).topk(5).indices.tolist()
    found = [pairs[i] for i in top]
    assert found.count((colour, shape)) >= 4, f"top 5 for 'a {colour} {shape}': {found}"


def test_photo_of_green_square_finds_the_green_square_note_first(
    tiny: tuple[Any, Any, Any],
) -> None:
    model, preprocess, _ = tiny
    rng = random.Random(HELD_OUT_SEED + 1)
    notes = [shapes.note(c, s, rng) for c, s in PAIRS]
    photo = preprocess(shapes.render("green", "square", rng)).unsqueeze(0)
    with torch.no_grad():
        image = model.encode_image(photo, normalize=True)[0]
    best = int((_embed_texts(tiny, notes) @ image).argmax())
    assert PAIRS[best] == ("green", "square"), f"nearest note: {notes[best]!r}"
