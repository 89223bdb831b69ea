"""Model folders with a real architecture and random weights: the same cost as the published
weights (which cannot be downloaded everywhere), made once and cached."""

from __future__ import annotations

import json
from pathlib import Path

CACHE = Path("/tmp/mediafind-bench-models")


def random_model(name: str = "ViT-B-32", cache: Path = CACHE) -> Path:
    """A local-dir model folder (open_clip_config.json + open_clip_model.safetensors) of the
    named open_clip architecture with random weights."""
    folder = cache / name
    weights = folder / "open_clip_model.safetensors"
    if weights.is_file():
        return folder
    import open_clip
    from open_clip.factory import get_model_config
    from safetensors.torch import save_model

    folder.mkdir(parents=True, exist_ok=True)
    model = open_clip.create_model(name, pretrained=None)
    preprocess = {
        "size": model.visual.image_size,
        "mean": list(open_clip.OPENAI_DATASET_MEAN),
        "std": list(open_clip.OPENAI_DATASET_STD),
    }
    config = {"model_cfg": get_model_config(name), "preprocess_cfg": preprocess}
    (folder / "open_clip_config.json").write_text(json.dumps(config, indent=2))
    partial = weights.with_suffix(".partial")
    save_model(model, str(partial))
    partial.rename(weights)
    return folder
