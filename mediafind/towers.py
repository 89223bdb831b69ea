"""An OpenCLIP model built without its weights, whose two towers are read from the weights file
one at a time, when first needed.

A search by words needs the text tower only (a third of ViT-B-32's weights), a search by
picture the image tower only; indexing notes never needs the image tower. Building the model
the usual way costs more than either: open_clip fills every weight with random numbers (1.2 s
and 600 MB for ViT-B-32 on 2 cores), then reads the whole file over them. Here the weights are
created on torch's meta device (shapes without storage), and a tower's tensors are read from
the safetensors file, which is memory-mapped, so only what is read is loaded.

This works when the file holds exactly the tensors open_clip's model has, as files written by
open_clip do; for anything else (older formats, checkpoints that need converting, text towers
from Hugging Face transformers) the whole model is loaded by open_clip itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

TEXT = "text"
IMAGE = "image"
TOWERS = (TEXT, IMAGE)

# Patching torch.nn.Module while a model is built must not meet another build.
_BUILD_LOCK = threading.Lock()


def tower_of(key: str) -> str:
    """Which tower a state-dict key belongs to. The few shared scalars (logit scale and bias)
    go with the text tower; neither tower's encoder uses them."""
    return IMAGE if key.startswith("visual.") else TEXT


class Unfit(Exception):
    """The weights file is not one that towers can be read from one at a time."""


class Skeleton:
    """An open_clip model whose weights are loaded one tower at a time (see the module)."""

    def __init__(self, model: Any, weights: Path) -> None:
        """Checks, from the file's header only, that every tensor is there with its shape;
        raises Unfit otherwise."""
        from safetensors import safe_open

        self.model = model
        self.weights = weights
        self.loaded: set[str] = set()
        self._lock = threading.Lock()
        self._expected = {k: (tuple(t.shape), t.dtype) for k, t in model.state_dict().items()}
        with safe_open(str(weights), framework="pt") as f:
            found = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118
        if set(found) != set(self._expected):
            missing = sorted(set(self._expected) - set(found))[:3]
            extra = sorted(set(found) - set(self._expected))[:3]
            raise Unfit(f"the file's tensors differ (missing {missing}, unexpected {extra})")
        for key, shape in found.items():
            if shape != self._expected[key][0]:
                raise Unfit(f"{key} is {shape} in the file, {self._expected[key][0]} in the model")

    def load(self, towers: Collection[str]) -> list[str]:
        """Read these towers' tensors, unless read already. Returns the towers it read."""
        from safetensors import safe_open

        with self._lock:
            wanted = [t for t in TOWERS if t in towers and t not in self.loaded]
            if not wanted:
                return []
            state = {}
            with safe_open(str(self.weights), framework="pt") as f:
                for key, (_, dtype) in self._expected.items():
                    if tower_of(key) in wanted:
                        tensor = f.get_tensor(key)
                        state[key] = tensor if tensor.dtype == dtype else tensor.to(dtype)
            # assign: the model takes the file's tensors as they are (memory-mapped) rather
            # than copying them into storage it would first have to allocate.
            self.model.load_state_dict(state, strict=False, assign=True)
            self.loaded.update(wanted)
            return wanted


def build(name: str, pretrained: str | None) -> tuple[Any, Any]:
    """The model (its weights on the meta device, its buffers real) and its preprocessing,
    as open_clip.create_model_and_transforms makes them, without reading any weights."""
    import open_clip
    from torch import nn

    with _weights_on_meta() as buffers, _without(NO_WEIGHTS_WARNING):
        model, _, preprocess = open_clip.create_model_and_transforms(
            name, pretrained=pretrained, load_weights=False, device="meta"
        )
    # create_model_and_transforms moves the model to the device it is given, buffers too:
    # put back those made while building (a text tower's causal mask), which no file holds.
    for module in model.modules():
        for key, buffer in list(module._buffers.items()):
            if buffer is not None and buffer.is_meta and (id(module), key) in buffers:
                module._buffers[key] = buffers[(id(module), key)][1]
    unmade = [k for k, b in model.named_buffers() if b.is_meta]
    if unmade:
        raise Unfit(f"buffers {unmade[:3]} would have no values")
    model.eval()
    assert isinstance(model, nn.Module)
    return model, preprocess


# What open_clip warns, on the root logger, about a model built without weights: true, but
# the weights are read next.
NO_WEIGHTS_WARNING = "No pretrained weights loaded"


@contextmanager
def _without(warning: str) -> Iterator[None]:
    """Leave out the root logger's records that start with warning, while this runs."""
    root = logging.getLogger()

    def keep(record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(warning)

    root.addFilter(keep)
    try:
        yield
    finally:
        root.removeFilter(keep)


@contextmanager
def _weights_on_meta() -> Iterator[dict[tuple[int, str], tuple[Any, Any]]]:
    """While this runs, each parameter a module registers goes to the meta device (so that
    initialising it costs nothing), and each buffer is noted, by module and name (accelerate's
    init_empty_weights does the same). The module is kept with it, so that its id is not
    reused by another."""
    from torch import Tensor, nn

    buffers: dict[tuple[int, str], tuple[Any, Any]] = {}
    register_parameter = nn.Module.register_parameter
    register_buffer = nn.Module.register_buffer

    def on_meta(self: nn.Module, name: str, param: nn.Parameter | None) -> None:
        if param is not None and not param.is_meta:
            param = nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)
        register_parameter(self, name, param)

    def noted(self: nn.Module, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        register_buffer(self, name, tensor, persistent)
        if tensor is not None:
            buffers[(id(self), name)] = (self, tensor)

    with _BUILD_LOCK:
        nn.Module.register_parameter = on_meta  # type: ignore[method-assign]
        nn.Module.register_buffer = noted  # type: ignore[method-assign]
        try:
            yield buffers
        finally:
            nn.Module.register_parameter = register_parameter  # type: ignore[method-assign]
            nn.Module.register_buffer = register_buffer  # type: ignore[method-assign]
