"""Shared fixtures: a library in tmp_path, a deterministic fake encoder, the tiny model."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import tempfile
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mediafind import shapes
from mediafind.embed import ModelSpec, Vectors
from mediafind.store import Store

# Never reach for the network: open_clip downloads through huggingface_hub, which reads these
# when it is first imported.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="mediafind-hf-")

TINY_MODEL = Path(__file__).parent.parent / "mediafind" / "assets" / "tiny-clip"
TINY_SPEC = f"local-dir:{TINY_MODEL}"


class FakeEncoder:
    """Deterministic stand-in for plumbing tests: texts embed as bags of hashed words, pictures
    as their mean colour. It counts what it was asked to encode."""

    spec = "fake"
    identity = "fake-1"
    dimension = 16
    image_size = 32
    max_text_tokens = 12

    def __init__(self) -> None:
        self.images_encoded = 0
        self.texts_encoded: list[str] = []

    def encode_images(self, images: Sequence[Image.Image]) -> Vectors:
        self.images_encoded += len(images)
        out = np.zeros((len(images), self.dimension), dtype=np.float32)
        for i, image in enumerate(images):
            r, g, b = np.asarray(image.convert("RGB"), dtype=np.float32).mean(axis=(0, 1))
            out[i, :3] = (r, g, b)
            out[i, 3] = 1.0
        return _normalise(out)

    def encode_texts(self, texts: Sequence[str]) -> Vectors:
        self.texts_encoded.extend(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                slot = hashlib.blake2b(word.encode(), digest_size=2).digest()[0] % self.dimension
                out[i, slot] += 1.0
            out[i, -1] += 0.01
        return _normalise(out)

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def load(self, towers: Collection[str] = ()) -> None:
        pass


class SharedFakeSource:
    """The fake model for every session of this process, the command line's included: put in
    place of OpenClipSource (monkeypatch "mediafind.session.OpenClipSource")."""

    encoder = FakeEncoder()

    def __init__(self, hosted: bool = False) -> None:
        pass

    def identity(self, spec: ModelSpec) -> str:
        return self.encoder.identity

    def load(self, spec: ModelSpec, device: str) -> FakeEncoder:
        return self.encoder

    def close(self) -> None:
        pass


@contextmanager
def fake_model_cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command line, run in this process, with SharedFakeSource as every session's model
    (named "fast"), no running instance asked, and a runtime folder of its own (sockets need
    a short path)."""
    runtime = Path(tempfile.mkdtemp(prefix="mf-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setattr("mediafind.session.OpenClipSource", SharedFakeSource)
    monkeypatch.setenv("MEDIAFIND_NO_INSTANCE", "1")
    monkeypatch.setenv("MEDIAFIND_MODEL", "fast")  # the fake model stands in for it
    try:
        yield
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The command line run in this process: its exit code, stdout and stderr."""
    from mediafind.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _normalise(v: Vectors) -> Vectors:
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "lib" / "library.sqlite3") as s:
        yield s


@pytest.fixture
def fake() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture(autouse=True)
def _gc_on_gui_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    """In tests with a QApplication, Python's cycles are collected on the GUI thread only, as
    in the window (mediafind.gui.garbage): a collection that a thumbnail worker or the indexing
    service sets off would destroy a finished test's Qt objects on that thread."""
    if "qapp" not in request.fixturenames:
        yield
        return
    from mediafind.gui.garbage import collect_on_gui_thread

    collector = collect_on_gui_thread(request.getfixturevalue("qapp"))
    yield
    collector.stop()  # after the test's windows are closed; the next test may not have Qt


def save_shape(path: Path, colour: str, shape: str, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    shapes.render(colour, shape, random.Random(seed)).save(path)
    return path


def small_folder(root: Path) -> Path:
    """Two photos and a note that speaks of one of them."""
    save_shape(root / "holiday" / "red circle.png", "red", "circle", seed=1)
    save_shape(root / "holiday" / "blue square.png", "blue", "square", seed=2)
    (root / "notes").mkdir(parents=True)
    (root / "notes" / "garden.md").write_text("# Garden\n\nThe red circle by the pond.\n")
    return root


@pytest.fixture(autouse=True)
def _isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the user's own settings, library or caches."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("MEDIAFIND_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("MEDIAFIND_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("MEDIAFIND_CACHE_DIR", str(home / "cache"))
    monkeypatch.delenv("MEDIAFIND_LIBRARY", raising=False)
    monkeypatch.delenv("MEDIAFIND_MODEL", raising=False)
    monkeypatch.delenv("MEDIAFIND_DEVICE", raising=False)
