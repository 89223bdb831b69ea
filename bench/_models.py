"""Helpers for the benchmarks: real architectures with random weights, as local-dir model
folders (the same cost to load and run as the published weights; nothing is downloaded)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

MODELS = Path(tempfile.gettempdir()) / "mediafind-bench-random-models"


def random_model(name: str = "ViT-B-32", root: Path = MODELS) -> Path:
    """A model folder of open_clip architecture name with random weights, made once."""
    folder = root / name
    weights = folder / "open_clip_model.safetensors"
    if weights.is_file():
        return folder
    import open_clip
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = open_clip.create_model(name, pretrained=None)
    config = {
        "model_cfg": open_clip.get_model_config(name),
        "preprocess_cfg": {
            "size": model.visual.image_size,
            "mean": list(open_clip.OPENAI_DATASET_MEAN),
            "std": list(open_clip.OPENAI_DATASET_STD),
        },
    }
    (folder / "open_clip_config.json").write_text(json.dumps(config, indent=2))
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    partial = weights.with_suffix(".partial")
    save_file(state, str(partial))
    partial.replace(weights)
    return folder
