"""The model in a process of its own: the same vectors as in-process, errors that say the same,
and a process that ends when the model is let go."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_SPEC

from mediafind import shapes
from mediafind.embed import OpenClipEncoder, SharedEncoder, parse_spec
from mediafind.errors import ModelUnavailable
from mediafind.modelhost import HostedEncoder
from mediafind.session import OpenClipSource, Options, Session


@pytest.fixture(scope="module")
def hosted() -> Iterator[HostedEncoder]:
    encoder = HostedEncoder(parse_spec(TINY_SPEC), "cpu")
    yield encoder
    encoder.close()


def _gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False


def test_hosted_model_encodes_like_the_model_in_this_process(hosted: HostedEncoder) -> None:
    local = OpenClipEncoder(parse_spec(TINY_SPEC), "cpu")
    rng = random.Random(3)
    pictures = [shapes.render("red", "circle", rng), shapes.render("blue", "square", rng)]
    texts = ["a red circle", "a blue square on a white page"]
    assert (hosted.identity, hosted.dimension, hosted.image_size, hosted.max_text_tokens) == (
        local.identity,
        local.dimension,
        local.image_size,
        local.max_text_tokens,
    )
    np.testing.assert_allclose(hosted.encode_texts(texts), local.encode_texts(texts), atol=1e-5)
    np.testing.assert_allclose(
        hosted.encode_images(pictures), local.encode_images(pictures), atol=1e-5
    )
    assert hosted.count_tokens(texts[1]) == local.count_tokens(texts[1])
    assert hosted.encode_texts([]).shape == (0, local.dimension)


def test_a_model_that_cannot_load_says_why_from_its_process(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "open_clip_config.json").write_text('{"model_cfg": {"embed_dim": 8}}')
    (folder / "open_clip_model.safetensors").write_bytes(b"not weights")
    with pytest.raises(ModelUnavailable, match="cannot load the model in"):
        HostedEncoder(parse_spec(f"local-dir:{folder}"), "cpu")


def test_a_failing_call_raises_in_the_caller_and_the_process_serves_on(
    hosted: HostedEncoder,
) -> None:
    with pytest.raises(TypeError, match="Unexpected type"):
        hosted.encode_images(["not a picture"])  # type: ignore[list-item]
    assert hosted.encode_texts(["still here"]).shape == (1, hosted.dimension)


def test_a_dead_model_process_is_replaced_and_letting_go_ends_it() -> None:
    spec = parse_spec(TINY_SPEC)
    shared = SharedEncoder(spec, lambda: HostedEncoder(spec, "cpu"), idle_release=0)
    first = shared.get()
    assert isinstance(first, HostedEncoder)
    # A process that died (killed by the system, say) is replaced on the next use.
    os.kill(first.pid, signal.SIGKILL)
    with pytest.raises(ModelUnavailable, match="process ended"):
        first.encode_texts(["anything"])
    second = shared.get()
    assert isinstance(second, HostedEncoder) and second.pid != first.pid
    assert second.encode_texts(["anything"]).shape == (1, second.dimension)
    assert shared.release_if_idle()
    assert _gone(second.pid)
    started = time.monotonic()
    shared.close()
    assert time.monotonic() - started < 1.0
    with pytest.raises(ModelUnavailable, match="closing"):
        shared.get()


def test_quitting_while_the_hosted_model_loads_ends_its_process_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIAFIND_CONFIG_DIR", str(tmp_path / "config"))
    options = Options(library=str(tmp_path / "library"), model=TINY_SPEC, device="cpu")
    session = Session(options, OpenClipSource(hosted=True))
    before = set(multiprocessing.active_children())  # another test's model, say
    session.warm_up()
    deadline = time.monotonic() + 10
    while not set(multiprocessing.active_children()) - before and time.monotonic() < deadline:
        time.sleep(0.01)
    (child,) = set(multiprocessing.active_children()) - before
    started = time.monotonic()
    session.stop()
    assert time.monotonic() - started < 1.0
    assert _gone(child.pid or 0, within=1.0)
