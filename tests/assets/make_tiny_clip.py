"""Regenerates mediafind/assets/tiny-clip: a tiny OpenCLIP model trained on mediafind.shapes.

    .venv/bin/python tests/assets/make_tiny_clip.py [--out DIR] [--minutes N]

Deterministic: one seed drives rendering, texts, initialisation and batch order, and two runs
on the same machine write identical weights. About five minutes on 2 CPU cores, ending with a
held-out evaluation. --minutes N trains fewer steps when needed to finish within N minutes, at
the cost of a different (and weaker) model than the one shipped.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import math
import multiprocessing
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import open_clip
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save_file

from mediafind import shapes

SEED = 20240611
# Held-out pictures and notes come from other seeds than anything seen in training.
EVAL_SEED = 777_000
CLASSES = [(c, s) for c in shapes.COLOURS for s in shapes.SHAPES]
HERE = Path(__file__).resolve().parent
# The model ships inside the package, for `mediafind --self-test` on any installed copy.
MODEL_DIR = HERE.parent.parent / "mediafind" / "assets" / "tiny-clip"

MODEL_CFG: dict[str, Any] = {
    "embed_dim": 64,
    # A tiny ModifiedResNet (the RN50 family's tower) rather than a ViT: from scratch and in the
    # same few minutes, a ViT (64 px, 8 px patches, width 128, 3 layers) told shapes apart only
    # about 75% of the time, as it must learn from data what convolutions see at once: edges.
    "vision_cfg": {"image_size": 64, "layers": [1, 1, 1, 1], "width": 16},
    # The standard tokenizer and vocabulary; the 49408×width token table dominates the file
    # size, so the text tower stays narrow.
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 4, "layers": 3},
}
PREPROCESS_CFG: dict[str, Any] = {
    "size": 64,
    "mean": list(open_clip.OPENAI_DATASET_MEAN),
    "std": list(open_clip.OPENAI_DATASET_STD),
    "interpolation": "bicubic",
    # Squash rather than centre-crop: a shape near the edge of a wide photo must stay in view.
    "resize_mode": "squash",
}

# Pictures per class rendered up front; more means less repetition, but rendering costs about
# 5 ms a picture on one core.
IMAGES_PER_CLASS = 600
# Captions and notes per class, tokenized up front.
TEXTS_PER_CLASS = 600
# Share of training texts that are notes rather than captions or queries.
NOTE_SHARE = 0.5
# Small batches and twice the steps beat large batches in the same time: with class-aware
# targets even 64 pictures hold about five of each class, and the model needs updates more
# than it needs negatives.
BATCH = 64
STEPS = 1000
LR = 2e-3
WARMUP = 20
WEIGHT_DECAY = 0.1
# Headings that some training notes start with, as notes in files often do.
_TITLES = ("Diary", "Notes", "Journal", "Todo", "Week", "Memo")


def _like_a_file(image: Image.Image, rng: random.Random, min_side: int) -> Image.Image:
    """The picture as the app hands it to the model: saved lossy or not, then shrunk by a whole
    factor towards the model's side (what mediafind.media.open_image does)."""
    if rng.random() < 0.6:
        buffer = io.BytesIO()
        image.save(buffer, format=rng.choice(("JPEG", "WEBP")), quality=rng.randint(60, 95))
        image = Image.open(buffer).convert("RGB")
    factor = min(image.size) // min_side
    return image.reduce(factor) if factor >= 2 and rng.random() < 0.7 else image


def _render_one(preprocess: Any, app_like: bool, job: tuple[int, int, int]) -> torch.Tensor:
    seed, index, cls = job
    colour, shape = CLASSES[cls]
    # One generator per picture: the pool gives the same pictures however work is split.
    rng = random.Random(seed * 1_000_003 + index)
    image = shapes.render(colour, shape, rng)
    if app_like:
        image = _like_a_file(image, rng, PREPROCESS_CFG["size"])
    tensor: torch.Tensor = preprocess(image)
    return tensor


def render_pool(
    preprocess: Any, seed: int, per_class: int, app_like: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pictures put through the model's own inference transform, and their class labels."""
    jobs = [(seed, i, i % len(CLASSES)) for i in range(per_class * len(CLASSES))]
    work = functools.partial(_render_one, preprocess, app_like)
    context = multiprocessing.get_context("spawn")
    with context.Pool(2, initializer=torch.set_num_threads, initargs=(1,)) as pool:
        images = pool.map(work, jobs, chunksize=64)
    return torch.stack(images), torch.tensor([j[2] for j in jobs])


def text_pool(tokenizer: Any, seed: int, per_class: int) -> tuple[torch.Tensor, torch.Tensor]:
    rng = random.Random(seed)
    texts, labels = [], []
    for cls, (colour, shape) in enumerate(CLASSES):
        for _ in range(per_class):
            if rng.random() < NOTE_SHARE:
                text = shapes.note(colour, shape, rng)
                if rng.random() < 0.3:
                    # Notes on disk often start with a title the note's own words do not explain.
                    text = f"{rng.choice(_TITLES)} {rng.randint(1, 31)} {text}"
            else:
                text = shapes.caption(colour, shape, rng)
            texts.append(text)
            labels.append(cls)
    return tokenizer(texts), torch.tensor(labels)


def class_aware_loss(
    image_f: torch.Tensor, text_f: torch.Tensor, labels: torch.Tensor, scale: torch.Tensor
) -> torch.Tensor:
    """CLIP's symmetric loss, with every same-class pair in the batch counted as a positive.

    With twelve classes a batch holds many pictures of, say, red circles; plain CLIP loss would
    push each one away from the other red-circle captions.
    """
    logits = scale * image_f @ text_f.T
    same = (labels[:, None] == labels[None, :]).float()
    target = same / same.sum(1, keepdim=True)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target.T)) / 2


@torch.no_grad()
def evaluate(model: Any, preprocess: Any, tokenizer: Any) -> dict[str, float]:
    """Held-out retrieval figures, printed per class and returned in summary."""
    model.eval()
    images, labels = render_pool(preprocess, EVAL_SEED, 10)
    image_f = model.encode_image(images, normalize=True)
    queries = tokenizer([f"a {c} {s}" for c, s in CLASSES])
    query_f = model.encode_text(queries, normalize=True)
    precisions = []
    for cls, (colour, shape) in enumerate(CLASSES):
        top = (query_f[cls] @ image_f.T).topk(5).indices
        precisions.append((labels[top] == cls).float().mean().item())
        print(f"  p@5 {colour:>6} {shape:<8} {precisions[-1]:.2f}")
    rng = random.Random(EVAL_SEED)
    one_note = tokenizer([shapes.note(c, s, rng) for c, s in CLASSES])
    note_f = model.encode_text(one_note, normalize=True)
    image_to_note = ((image_f @ note_f.T).argmax(1) == labels).float().mean().item()
    notes = [(cls, shapes.note(c, s, rng)) for _ in range(5) for cls, (c, s) in enumerate(CLASSES)]
    notes_f = model.encode_text(tokenizer([n for _, n in notes]), normalize=True)
    note_labels = torch.tensor([cls for cls, _ in notes])
    note_to_image = (labels[(notes_f @ image_f.T).argmax(1)] == note_labels).float().mean().item()
    # A larger pool, saved and shrunk the way the app does it, ranks each picture's captions.
    many, many_labels = render_pool(preprocess, EVAL_SEED + 2, 50, app_like=True)
    guess = (model.encode_image(many, normalize=True) @ query_f.T).argmax(1)
    return {
        "picture->query top-1 (600 app-like)": (guess == many_labels).float().mean().item(),
        "p@5 min": min(precisions),
        "p@5 mean": sum(precisions) / len(precisions),
        "image->note top-1": image_to_note,
        "note->image top-1": note_to_image,
    }


def _param_groups(model: torch.nn.Module) -> list[dict[str, Any]]:
    decay, rest = [], []
    for name, p in model.named_parameters():
        # Norms, biases, embeddings and the temperature are not regularised towards zero.
        no_decay = p.ndim < 2 or "embedding" in name or "logit_scale" in name
        (rest if no_decay else decay).append(p)
    return [{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": rest, "weight_decay": 0.0}]


def train(out: Path, minutes: float | None) -> None:
    start = time.monotonic()
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(2)
    out.mkdir(parents=True, exist_ok=True)
    config = {"model_cfg": MODEL_CFG, "preprocess_cfg": PREPROCESS_CFG}
    with tempfile.TemporaryDirectory() as bare:
        # Build from a folder with the config only, so training starts from random weights and
        # uses exactly the transform that loading the finished folder will give.
        (Path(bare) / "open_clip_config.json").write_text(json.dumps(config))
        model, _, preprocess = open_clip.create_model_and_transforms(f"local-dir:{bare}")
        tokenizer = open_clip.get_tokenizer(f"local-dir:{bare}")
    images, image_labels = render_pool(preprocess, SEED, IMAGES_PER_CLASS, app_like=True)
    texts, text_labels = text_pool(tokenizer, SEED, TEXTS_PER_CLASS)
    by_class = [torch.nonzero(text_labels == c).squeeze(1) for c in range(len(CLASSES))]
    print(
        f"rendered {len(images)} pictures, {len(texts)} texts in {time.monotonic() - start:.0f} s"
    )

    optimiser = torch.optim.AdamW(_param_groups(model), lr=LR, betas=(0.9, 0.98), eps=1e-6)
    steps = STEPS
    gen = torch.Generator().manual_seed(SEED)
    order = torch.randperm(len(images), generator=gen)
    cursor = 0
    model.train()
    train_start = time.monotonic()
    for step in range(steps):
        lr = LR * min(1.0, (step + 1) / WARMUP) * 0.5 * (1 + math.cos(math.pi * step / steps))
        for group in optimiser.param_groups:
            group["lr"] = lr
        if cursor + BATCH > len(order):
            order, cursor = torch.randperm(len(images), generator=gen), 0
        idx = order[cursor : cursor + BATCH]
        cursor += BATCH
        labels = image_labels[idx]
        batch = images[idx]
        # Left-right mirroring keeps every class what it is and doubles the picture pool.
        flip = torch.rand(BATCH, generator=gen) < 0.5
        batch = torch.where(flip[:, None, None, None], batch.flip(3), batch)
        pick = torch.stack(
            [by_class[c][torch.randint(len(by_class[c]), (1,), generator=gen)][0] for c in labels]
        )
        image_f = model.encode_image(batch, normalize=True)
        text_f = model.encode_text(texts[pick], normalize=True)
        loss = class_aware_loss(image_f, text_f, labels, model.logit_scale.exp())
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        if step == 9 and minutes is not None:
            per_step = (time.monotonic() - train_start) / 10
            budget = minutes * 60 - (time.monotonic() - start) - 30
            if per_step * (steps - 10) > budget:
                steps = max(20, int(budget / per_step) + 10)
                print(f"cutting training to {steps} steps to finish within {minutes} min")
        if step % 25 == 0 or step == steps - 1:
            print(f"step {step:4d}  loss {loss.item():.3f}  lr {lr:.2e}")
        if step + 1 >= steps:
            break
    print(f"trained {steps} steps in {time.monotonic() - train_start:.0f} s")

    # fp16 halves the file; integer buffers (BatchNorm's step count) stay as they are.
    weights = {
        k: (v.half() if v.is_floating_point() else v).detach().contiguous()
        for k, v in model.state_dict().items()
    }
    save_file(weights, str(out / "open_clip_model.safetensors"))
    (out / "open_clip_config.json").write_text(json.dumps(config, indent=2) + "\n")
    # Evaluate what ships: the fp16 file, loaded the way the app loads any local-dir model.
    shipped, _, shipped_preprocess = open_clip.create_model_and_transforms(f"local-dir:{out}")
    figures = evaluate(shipped, shipped_preprocess, open_clip.get_tokenizer(f"local-dir:{out}"))
    for name, value in figures.items():
        print(f"{name:>36}: {value:.3f}")
    size = (out / "open_clip_model.safetensors").stat().st_size / 1e6
    total = time.monotonic() - start
    print(f"weights {size:.1f} MB; total time {total:.0f} s")
    write_readme(out, steps, figures, size)


def write_readme(out: Path, steps: int, figures: dict[str, float], size: float) -> None:
    # No timings here: the file stays the same from run to run, like the weights.
    lines = "\n".join(f"| {name} | {value:.3f} |" for name, value in figures.items())
    (out / "README.md").write_text(
        f"""# tiny-clip: mediafind's own test model

A tiny OpenCLIP model (ModifiedResNet image tower, 64 px, squashed not cropped; 3-layer
text transformer with the standard CLIP tokenizer; 64-dim embeddings) trained from scratch on
synthetic coloured shapes from `mediafind.shapes`: red, green, blue and yellow circles,
squares and triangles, with captions and short notes that mention them. It knows nothing
else. Tests load it with `open_clip.create_model_and_transforms("local-dir:...")`, the same
path real models take; call `model.eval()` (its BatchNorm layers need it).

Made by `tests/assets/make_tiny_clip.py`: {steps} steps of class-aware contrastive training,
about five minutes on 2 idle CPU cores; weights {size:.1f} MB in fp16. Two runs on one machine
write the same bytes. Regenerate:

    .venv/bin/python tests/assets/make_tiny_clip.py    # or: make tiny-model

Held-out figures: precision@5 of the query "a {{colour}} {{shape}}" over 10 fresh pictures per
colour and shape (120 in all); for image→note, the nearest of 12 notes (one per class) to each
picture; for note→image, the nearest picture to each of 60 notes; and, over 600 pictures saved
as JPEG/WebP and shrunk as the app does, how often the picture's own query ranks first:

| measure | value |
|---|---|
{lines}
"""
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--minutes", type=float, help="finish within this time, training less")
    args = parser.parse_args()
    train(args.out, args.minutes)


if __name__ == "__main__":
    main()
