"""Model specs, presets and loading through the real open_clip code path."""

from __future__ import annotations

import hashlib
import logging
import os
import random
import shutil
import socket
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import TINY_MODEL, TINY_SPEC

from mediafind import embed, shapes
from mediafind.errors import ModelUnavailable


@pytest.mark.parametrize("preset", embed.PRESETS, ids=lambda p: p.name)
def test_every_preset_resolves_in_open_clips_registry(preset: embed.Preset) -> None:
    spec = embed.parse_spec(preset.name)
    assert spec.text == preset.spec
    assert embed.registry_problem(spec) is None


def test_default_preset_is_free_for_anyone() -> None:
    default = embed.preset(embed.DEFAULT_PRESET)
    assert default is not None and default.license == "MIT"


def test_spec_forms_are_parsed() -> None:
    named = embed.parse_spec("ViT-B-32:laion2b_s34b_b79k")
    assert (named.name, named.pretrained, named.local_dir) == (
        "ViT-B-32",
        "laion2b_s34b_b79k",
        None,
    )
    local = embed.parse_spec("local-dir:mediafind/assets/tiny-clip")
    assert local.local_dir == TINY_MODEL.resolve()
    assert local.text == f"local-dir:{TINY_MODEL.resolve()}"
    with pytest.raises(ModelUnavailable, match="NAME:PRETRAINED"):
        embed.parse_spec("ViT-B-32")


def test_unknown_model_name_is_a_clear_error() -> None:
    with pytest.raises(ModelUnavailable, match="no model named 'ViT-Nope'"):
        embed.OpenClipEncoder(embed.parse_spec("ViT-Nope:foo"))


def test_weights_that_cannot_be_downloaded_say_how_to_use_a_local_folder() -> None:
    # HF_HUB_OFFLINE is set for the whole test run: open_clip cannot download.
    with pytest.raises(ModelUnavailable) as raised:
        embed.OpenClipEncoder(embed.parse_spec("ViT-B-32:laion2b_s34b_b79k"))
    message = str(raised.value)
    assert "cannot get the weights of ViT-B-32:laion2b_s34b_b79k" in message
    assert "--model local-dir:" in message
    assert "\n" not in message


def test_local_folder_without_weights_is_refused_not_filled_with_random_weights(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copy(TINY_MODEL / "open_clip_config.json", folder)
    with pytest.raises(ModelUnavailable, match="has no weights file"):
        embed.OpenClipEncoder(embed.parse_spec(f"local-dir:{folder}"))


def test_missing_local_folder_is_named_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match=r"does not exist; .*--model local-dir:"):
        embed.OpenClipEncoder(embed.parse_spec(f"local-dir:{tmp_path / 'nowhere'}"))


def test_local_identity_follows_the_content_not_the_place(tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere"
    shutil.copytree(TINY_MODEL, moved)
    assert embed.spec_identity(embed.parse_spec(f"local-dir:{moved}")) == embed.spec_identity(
        embed.parse_spec(TINY_SPEC)
    )


def test_tiny_model_encodes_unit_vectors_of_its_dimension() -> None:
    from mediafind import shapes

    encoder = embed.OpenClipEncoder(embed.parse_spec(TINY_SPEC), device="cpu")
    import random

    pictures = [shapes.render("red", "circle", random.Random(i)) for i in range(3)]
    images = encoder.encode_images(pictures)
    texts = encoder.encode_texts(["a red circle", "a note about a blue square"])
    assert images.shape == (3, encoder.dimension) and texts.shape == (2, encoder.dimension)
    assert images.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(images, axis=1), 1.0, atol=1e-3)
    assert encoder.max_text_tokens == 75
    assert encoder.count_tokens("a red circle") == 3


def test_shared_encoder_loads_once_and_lets_go_when_idle() -> None:
    shared = embed.SharedEncoder(embed.parse_spec(TINY_SPEC), device="cpu", idle_release=3600)
    assert not shared.loaded
    first = shared.get()
    assert shared.get() is first and shared.loaded
    assert not shared.release_if_idle()  # used just now
    shared.idle_release = 0
    assert shared.release_if_idle() and not shared.loaded
    assert shared.get() is not first


def _whole_tiny_model() -> tuple[Any, Any, Any]:
    """The tiny model as open_clip loads it, every weight at once."""
    import open_clip

    model, _, preprocess = open_clip.create_model_and_transforms(TINY_SPEC)
    return model.eval(), preprocess, open_clip.get_tokenizer(TINY_SPEC)


def test_text_tower_alone_encodes_texts_as_the_whole_model_does() -> None:
    import torch

    encoder = embed.OpenClipEncoder(embed.parse_spec(TINY_SPEC), device="cpu")
    texts = ["a red circle", "a note about a blue square"]
    vectors = encoder.encode_texts(texts)
    assert encoder.loaded == {embed.TEXT}
    model, _, tokenizer = _whole_tiny_model()
    with torch.inference_mode():
        expected = model.encode_text(tokenizer(texts), normalize=True).numpy()
    np.testing.assert_allclose(vectors, expected, atol=1e-6)


def test_image_tower_alone_encodes_pictures_as_the_whole_model_does() -> None:
    import torch

    encoder = embed.OpenClipEncoder(embed.parse_spec(TINY_SPEC), device="cpu")
    pictures = [shapes.render("green", "square", random.Random(i)) for i in range(3)]
    vectors = encoder.encode_images(pictures)
    assert encoder.loaded == {embed.IMAGE}
    model, preprocess, _ = _whole_tiny_model()
    with torch.inference_mode():
        batch = torch.stack([preprocess(p) for p in pictures])
        expected = model.encode_image(batch, normalize=True).numpy()
    np.testing.assert_allclose(vectors, expected, atol=1e-6)


def test_opening_a_model_reads_no_weights_and_encodes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import open_clip

    calls: list[str] = []
    for name in ("encode_text", "encode_image"):
        real = getattr(open_clip.CLIP, name)

        def counted(self: Any, *args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            calls.append(_name)
            return _real(self, *args, **kw)

        monkeypatch.setattr(open_clip.CLIP, name, counted)
    encoder = embed.OpenClipEncoder(embed.parse_spec(TINY_SPEC), device="cpu")
    assert calls == [] and encoder.loaded == frozenset()
    # What a probe would have measured comes from the model's config.
    assert (encoder.dimension, encoder.image_size, encoder.max_text_tokens) == (64, 64, 75)
    encoder.load()
    assert calls == [] and encoder.loaded == {embed.TEXT, embed.IMAGE}
    assert encoder.encode_texts(["a red circle"]).shape == (1, 64)
    assert calls == ["encode_text"]


def test_opening_a_model_does_not_warn_that_its_weights_are_random(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO):
        embed.OpenClipEncoder(embed.parse_spec(TINY_SPEC), device="cpu")
    assert not [r for r in caplog.records if "pretrained weights" in r.getMessage()]


def test_weights_in_another_format_are_read_whole_by_open_clip(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file

    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copy(TINY_MODEL / "open_clip_config.json", folder)
    state = load_file(TINY_MODEL / "open_clip_model.safetensors")
    torch.save(state, folder / "open_clip_pytorch_model.bin")
    encoder = embed.OpenClipEncoder(embed.parse_spec(f"local-dir:{folder}"), device="cpu")
    assert encoder.loaded == {embed.TEXT, embed.IMAGE}
    lean = embed.OpenClipEncoder(embed.parse_spec(TINY_SPEC), device="cpu")
    texts = ["a yellow triangle"]
    np.testing.assert_allclose(encoder.encode_texts(texts), lean.encode_texts(texts), atol=1e-6)


def _settle(folder: Path) -> float:
    """Date the folder's files a minute back: older than the racy-file rule's window."""
    then = time.time() - 60
    for path in folder.iterdir():
        os.utime(path, (then, then))
    return then


def test_local_identity_is_remembered_until_the_weights_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "model"
    shutil.copytree(TINY_MODEL, folder)
    then = _settle(folder)
    spec = embed.parse_spec(f"local-dir:{folder}")
    first = embed.spec_identity(spec)
    assert first == embed.spec_identity(embed.parse_spec(TINY_SPEC))

    class NoHashing:
        def blake2b(self, **_: Any) -> None:
            raise AssertionError("hashed the weights again")

    with monkeypatch.context() as patched:
        patched.setattr(embed, "hashlib", NoHashing())
        assert embed.spec_identity(spec) == first
    # Rewritten in place, same size, its modification time set back: the change time tells.
    weights = folder / "open_clip_model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    os.utime(weights, (then, then))
    assert embed.spec_identity(spec) != first


def test_a_model_written_just_now_is_not_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "model"
    shutil.copytree(TINY_MODEL, folder)
    for path in folder.iterdir():
        os.utime(path)  # written just now
    spec = embed.parse_spec(f"local-dir:{folder}")
    embed.spec_identity(spec)
    hashed: list[bool] = []
    blake2b = hashlib.blake2b

    def counted(**kw: Any) -> Any:
        hashed.append(True)
        return blake2b(**kw)

    monkeypatch.setattr(embed.hashlib, "blake2b", counted)
    embed.spec_identity(spec)
    assert hashed


def test_a_query_is_encoded_on_one_thread_and_a_batch_on_every_core() -> None:
    import torch

    before = torch.get_num_threads()
    encoder = embed.OpenClipEncoder(embed.parse_spec(TINY_SPEC), device="cpu")
    try:
        encoder.encode_texts(["a red circle"])
        assert torch.get_num_threads() == 1
        picture = shapes.render("red", "circle", random.Random(1))
        encoder.encode_images([picture] * (embed.QUERY_ITEMS + 1))
        assert torch.get_num_threads() == embed.cores()
    finally:
        torch.set_num_threads(before)


def test_torchs_threads_sleep_while_they_wait_unless_the_user_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OMP_WAIT_POLICY", "unset")  # restored afterwards, set or not
    monkeypatch.delenv("OMP_WAIT_POLICY")
    embed.import_torch()
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    embed.import_torch()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_a_model_from_the_hubs_cache_reads_its_towers_apart_too() -> None:
    from huggingface_hub import constants

    # The tiny model as the Hugging Face cache holds a downloaded hf-hub: model (offline here).
    repo = Path(constants.HF_HUB_CACHE) / "models--mediafind-tests--tiny-clip"
    revision = "0" * 40
    snapshot = repo / "snapshots" / revision
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    for name in ("open_clip_config.json", "open_clip_model.safetensors"):
        shutil.copy(TINY_MODEL / name, snapshot)
    try:
        hub = embed.OpenClipEncoder(embed.parse_spec("hf-hub:mediafind-tests/tiny-clip"), "cpu")
        assert hub.loaded == frozenset()
        texts = ["a purple star"]
        local = embed.OpenClipEncoder(embed.parse_spec(TINY_SPEC), device="cpu")
        np.testing.assert_allclose(hub.encode_texts(texts), local.encode_texts(texts), atol=1e-6)
        assert hub.loaded == {embed.TEXT}
    finally:
        shutil.rmtree(repo)


def test_downloaded_weights_are_loaded_without_asking_the_hub(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Hub preset already in the cache: its load asks the Hub nothing (huggingface_hub is
    offline while open_clip reads it), and no connection is even tried."""
    from huggingface_hub import constants

    tiny = embed.parse_spec(f"local-dir:{TINY_MODEL}")
    real_open = embed.OpenClipEncoder._open
    offline_at_open: list[bool] = []

    def cached_open(self: embed.OpenClipEncoder, spec: embed.ModelSpec) -> object:
        offline_at_open.append(constants.HF_HUB_OFFLINE)
        return real_open(self, tiny)  # as open_clip reads weights from the Hub's cache

    def no_network(*args: object, **kwargs: object) -> object:
        raise AssertionError(f"a connection was tried: {args}")

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(embed.OpenClipEncoder, "_open", cached_open)
    monkeypatch.setattr(embed.socket, "create_connection", no_network)
    encoder = embed.OpenClipEncoder(embed.parse_spec("ViT-B-32:laion2b_s34b_b79k"), "cpu")
    assert offline_at_open == [True]
    assert constants.HF_HUB_OFFLINE is False  # as it was
    assert encoder.dimension > 0

    # Not in the cache: the Hub is asked (whether it answers, then the download).
    tried: list[object] = []
    calls: list[bool] = []

    def missing_then_fetched(self: embed.OpenClipEncoder, spec: embed.ModelSpec) -> object:
        calls.append(constants.HF_HUB_OFFLINE)
        if constants.HF_HUB_OFFLINE:
            raise FileNotFoundError("not in the cache")
        return real_open(self, tiny)

    def reachable(address: object, timeout: float = 0) -> socket.socket:
        tried.append(address)
        return socket.socket()

    monkeypatch.setattr(embed.OpenClipEncoder, "_open", missing_then_fetched)
    monkeypatch.setattr(embed.socket, "create_connection", reachable)
    embed.OpenClipEncoder(embed.parse_spec("ViT-B-32:laion2b_s34b_b79k"), "cpu")
    assert calls == [True, False] and len(tried) == 1
