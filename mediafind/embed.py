"""Encoders turn pictures and text into vectors in one shared space.

torch and open_clip are imported only when a model is loaded, so the command line and the window
start without them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt

from mediafind import privacy, towers
from mediafind.config import DEFAULT_MODEL_IDLE_SECONDS, cache_dir
from mediafind.errors import ModelUnavailable, describe

# The names a user gives a model live in mediafind.presets (light enough for the command line's
# first checks); they are re-exported here, where the rest of the code has always found them.
from mediafind.presets import DEFAULT_PRESET as DEFAULT_PRESET
from mediafind.presets import HF_HUB as HF_HUB
from mediafind.presets import LOCAL_DIR as LOCAL_DIR
from mediafind.presets import PRESETS as PRESETS
from mediafind.presets import ModelSpec as ModelSpec
from mediafind.presets import Preset as Preset
from mediafind.presets import default_spec as default_spec
from mediafind.presets import parse_spec as parse_spec
from mediafind.presets import preset as preset
from mediafind.towers import IMAGE as IMAGE
from mediafind.towers import TEXT as TEXT
from mediafind.towers import TOWERS as TOWERS

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]

CONFIG_FILE = "open_clip_config.json"
# The names open_clip looks for in a model folder, best first.
WEIGHT_FILES = (
    "open_clip_model.safetensors",
    "open_clip_pytorch_model.safetensors",
    "open_clip_pytorch_model.bin",
    "open_clip_pytorch_model.pth",
    "model.safetensors",
    "pytorch_model.bin",
    "pytorch_model.pth",
    "model.pth",
)

# Pictures per forward pass. On CPU larger batches barely help and hold more memory; on a GPU
# 64 keeps it busy without running out of memory on 4 GB cards with ViT-B models.
CPU_BATCH = 16
# Calls of up to this many texts or pictures are a query, encoded on one thread: a second one
# saves about a third of 0.1 s on an idle machine, and costs seconds when another program holds
# a core (the threads wait for each other at every layer). Batches use every core.
QUERY_ITEMS = 4
# How long to wait for the Hugging Face Hub before treating the machine as offline.
HUB_CHECK_SECONDS = 3.0
GPU_BATCH = 64


def _weights_in(folder: Path) -> Path | None:
    for name in WEIGHT_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


def _local_fix(spec: ModelSpec) -> str:
    return (
        "a model folder holds open_clip_config.json and open_clip_model.safetensors; "
        f"use --model local-dir:/path/to/that/folder (now: {spec.text})"
    )


def check_local_dir(spec: ModelSpec) -> Path:
    """The weights file of a local-dir model, or ModelUnavailable saying what is missing.

    open_clip itself only logs a warning for a folder without weights and builds a model with
    random weights, which would silently fill the library with noise."""
    folder = spec.local_dir
    assert folder is not None
    if not folder.is_dir():
        raise ModelUnavailable(f"model folder {folder} does not exist; {_local_fix(spec)}")
    config = folder / CONFIG_FILE
    if not config.is_file():
        raise ModelUnavailable(f"model folder {folder} has no {CONFIG_FILE}; {_local_fix(spec)}")
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
        data["model_cfg"]["embed_dim"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ModelUnavailable(
            f"{config} is not an open_clip model config (needs model_cfg.embed_dim): {e}"
        ) from e
    weights = _weights_in(folder)
    if weights is None:
        raise ModelUnavailable(
            f"model folder {folder} has no weights file ({WEIGHT_FILES[0]}); {_local_fix(spec)}"
        )
    return weights


def local_identity(folder: Path, weights: Path) -> str:
    """Identity of a local model: its content, so moving the folder does not re-embed.

    Hashing the weights takes seconds (600 MB for ViT-B-32), so the result is remembered in the
    user cache folder with what the file system says of both files: path, size, inode, device,
    and modification and change times in nanoseconds. Writing a file in place changes its times
    (the change time cannot be set back by programs such as `touch`), and copying or renaming
    another file over it changes its inode, so a remembered identity is one of the same
    content; anything else hashes again."""
    files = (folder / CONFIG_FILE, weights)
    before = _stat_key(files)
    remembered = _read_identities()
    if before in remembered:
        return remembered[before]
    digest = hashlib.blake2b(digest_size=16)
    digest.update(files[0].read_bytes())
    with open(weights, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    identity = f"local:{digest.hexdigest()}"
    # Remember only what is settled: a file that changed while it was read, or so recently
    # that a change within the file system's clock tick would leave its times as they are,
    # is hashed again next time (git's racy-file rule).
    settled = all(time.time() - f.stat().st_mtime > RACY_SECONDS for f in files)
    if settled and _stat_key(files) == before:
        _remember_identity(before, identity)
    return identity


# A file changed less than this long ago may change again without its times showing it.
RACY_SECONDS = 2.0
IDENTITIES_FILE = "model-identities.json"
# Identities remembered: a few models per user; the oldest are forgotten first.
IDENTITIES_KEPT = 32


def _stat_key(files: Sequence[Path]) -> str:
    parts = []
    for path in files:
        st = path.stat()
        parts.append(
            f"{path.resolve()}|{st.st_size}|{st.st_ino}|{st.st_dev}|{st.st_mtime_ns}|"
            f"{st.st_ctime_ns}"
        )
    return "\n".join(parts)


def _identities_path() -> Path:
    return cache_dir() / IDENTITIES_FILE


def _read_identities() -> dict[str, str]:
    try:
        data = json.loads(_identities_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def _remember_identity(key: str, identity: str) -> None:
    """Add key -> identity to the file, atomically (two processes at once: one wins, and the
    other's model is hashed again some day)."""
    remembered = _read_identities()
    remembered.pop(key, None)
    remembered[key] = identity
    kept = dict(list(remembered.items())[-IDENTITIES_KEPT:])
    path = _identities_path()
    try:
        privacy.private_folder(path.parent)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        privacy.write_private(partial, json.dumps(kept, indent=1).encode("utf-8"))
        partial.replace(path)
    except OSError as e:
        log.info("cannot remember the model's identity in %s: %s", path, e)


def spec_identity(spec: ModelSpec) -> str:
    """What identifies the vectors a spec makes, without loading the model."""
    if spec.local_dir is not None:
        return local_identity(spec.local_dir, check_local_dir(spec))
    return spec.text


class Encoder(Protocol):
    """Turns pictures and texts into unit vectors of one space."""

    spec: str  # as the user named it (canonical)
    identity: str  # changes whenever the vectors would change
    dimension: int

    @property
    def image_size(self) -> int:
        """The picture side the model looks at."""
        ...

    @property
    def max_text_tokens(self) -> int:
        """Tokens of text one vector can cover."""
        ...

    def encode_images(self, images: Sequence[Image.Image]) -> Vectors: ...

    def encode_texts(self, texts: Sequence[str]) -> Vectors: ...

    def count_tokens(self, text: str) -> int: ...

    def load(self, towers: Collection[str] = TOWERS) -> None:
        """Read these towers' weights now rather than on first use (TEXT, IMAGE); raises
        ModelUnavailable."""
        ...


def import_torch() -> Any:
    """torch, imported so that its threads sleep when they wait for one another.

    OpenMP's threads otherwise spin at each of the dozens of barriers of a forward pass. When
    another program, or mediafind's own decoding, holds a core, the spinning thread burns it
    while the thread it waits for cannot run: on 2 cores beside one busy program, one text
    encoding on 2 threads took 1.8-2.3 s instead of 0.15 s, and 8 pictures ran at 1.5-1.9
    instead of 2.9-3.6 img/s. OMP_WAIT_POLICY is read once, when torch loads OpenMP; a value
    the user set wins."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    return torch


def cores() -> int:
    """The CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def pick_device(choice: str) -> str:
    """'auto' picks CUDA, then Apple's MPS, then the CPU."""
    torch = import_torch()

    if choice != "auto":
        if choice == "cuda" and not torch.cuda.is_available():
            raise ModelUnavailable("device 'cuda' was asked for, but no CUDA GPU is available")
        if choice == "mps" and not torch.backends.mps.is_available():
            raise ModelUnavailable("device 'mps' was asked for, but Apple MPS is not available")
        return choice
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


class OpenClipEncoder:
    """An OpenCLIP model. Construction reads what the model is (its config, tokenizer and
    preprocessing; open_clip downloads the weights once if they are not here yet); each tower's
    weights are read when first needed, or by load(), so that a search by words never reads
    the image tower's (see mediafind.towers)."""

    def __init__(self, spec: ModelSpec, device: str = "auto") -> None:
        torch = import_torch()

        self.spec = spec.text
        self.device = pick_device(device)
        # Half precision on GPUs: twice the speed and half the memory, same retrieval quality.
        self._dtype = torch.float16 if self.device in ("cuda", "mps") else torch.float32
        self._batch = GPU_BATCH if self.device != "cpu" else CPU_BATCH
        self._lock = threading.Lock()
        self._cores = cores()
        if spec.local_dir is None:
            problem = registry_problem(spec)
            if problem:
                raise ModelUnavailable(f"{problem}; `mediafind models` lists the presets")
        self.identity = spec_identity(spec)
        self._skeleton: towers.Skeleton | None = None
        try:
            # Weights already downloaded are used as they are: a load asks the Hub nothing
            # (not even whether they changed), so that searching never touches the network.
            with _hub_offline():
                opened = self._open(spec)
        except Exception:
            log.info("%s is not all on this computer: asking the Hub", spec.text, exc_info=True)
            # Not downloaded yet: open_clip fetches them (the first index of a Hub preset).
            with _offline_unless_hub_reachable(spec) as offline:
                try:
                    opened = self._open(spec)
                except Exception as e:
                    raise ModelUnavailable(_load_failure(spec, e, offline)) from e
        model, preprocess, tokenizer, config = opened
        self._reparameterize = _reparameterizable(model)
        self._channels_last = False
        self._model: Any = model
        self._preprocess: Any = preprocess
        self._tokenizer: Any = tokenizer
        if self._skeleton is None:
            self._ready_image_tower()
        # From the config, not from a trial encoding: that would read a tower's weights.
        self.dimension = int(config["embed_dim"])
        self.image_size = int(_image_size(model))
        context = int(getattr(tokenizer, "context_length", 77) or 77)
        self.max_text_tokens = context - 2  # start and end tokens
        log.info("opened model %s on %s (dimension %d)", self.spec, self.device, self.dimension)

    def _open(self, spec: ModelSpec) -> tuple[Any, Any, Any, dict[str, Any]]:
        """The model, its preprocessing, tokenizer and config: a skeleton whose towers load
        on demand where the weights allow it (a safetensors file in open_clip's own layout, on
        the CPU), else the whole model as open_clip loads it."""
        import open_clip
        import torch

        config = open_clip.get_model_config(spec.name)
        if config is None:
            raise ModelUnavailable(f"open_clip has no config for {spec.name}")
        tokenizer = open_clip.get_tokenizer(spec.name)
        hf_text = "hf_model_name" in config.get("text_cfg", {})
        weights = _weights_file(spec)
        if self.device == "cpu" and not hf_text and weights.suffix == ".safetensors":
            try:
                model, preprocess = towers.build(spec.name, spec.pretrained)
                self._skeleton = towers.Skeleton(model, weights)
                return model, preprocess, tokenizer, config
            except towers.Unfit as e:
                log.info("reading all of %s at once: %s", spec.text, e)
        model, _, preprocess = open_clip.create_model_and_transforms(
            spec.name,
            pretrained=spec.pretrained,
            device=self.device,
            precision="fp16" if self._dtype == torch.float16 else "fp32",
        )
        model.eval()
        return model, preprocess, tokenizer, config

    def load(self, which: Collection[str] = TOWERS) -> None:
        """Read these towers' weights now, unless read already (each is read on first use
        otherwise). Raises ModelUnavailable."""
        skeleton = self._skeleton
        if skeleton is None:
            return
        # Under the encoder's lock: no encoding sees a tower before it is ready for use.
        with self._lock:
            try:
                read = skeleton.load(which)
            except Exception as e:
                raise ModelUnavailable(
                    f"cannot read the weights of {self.spec} ({skeleton.weights}): {describe(e)}"
                ) from e
            if IMAGE in read:
                self._ready_image_tower()
        if read:
            log.info("read the %s weights of %s", " and ".join(read), self.spec)

    def _ready_image_tower(self) -> None:
        if not self._reparameterize:
            return
        import torch
        from timm.utils.model import reparameterize_model

        # MobileCLIP-style towers fuse their training branches for inference: about twice
        # as fast, and faster again in channels-last layout on CPU.
        visual = reparameterize_model(self._model.visual)
        self._model.visual = visual.to(memory_format=torch.channels_last)
        self._channels_last = True

    def encode_images(self, images: Sequence[Image.Image]) -> Vectors:
        import torch

        self.load((IMAGE,))
        out: list[Vectors] = []
        with self._lock, torch.inference_mode():
            self._use_threads(len(images))
            for start in range(0, len(images), self._batch):
                batch = torch.stack(
                    [self._preprocess(im) for im in images[start : start + self._batch]]
                )
                batch = batch.to(self.device, self._dtype)
                if self._channels_last:
                    batch = batch.contiguous(memory_format=torch.channels_last)
                features = self._model.encode_image(batch, normalize=True)
                out.append(features.float().cpu().numpy())
        return _stack(out, self.dimension)

    def encode_texts(self, texts: Sequence[str]) -> Vectors:
        import torch

        self.load((TEXT,))
        out: list[Vectors] = []
        with self._lock, torch.inference_mode():
            self._use_threads(len(texts))
            for start in range(0, len(texts), self._batch):
                tokens = self._tokenizer(list(texts[start : start + self._batch])).to(self.device)
                features = self._model.encode_text(tokens, normalize=True)
                out.append(features.float().cpu().numpy())
        return _stack(out, self.dimension)

    def _use_threads(self, items: int) -> None:
        """One thread for a query, all cores for a batch (torch's setting is the process's,
        so each call sets it; calls are serialised by the lock)."""
        import torch

        threads = 1 if items <= QUERY_ITEMS else self._cores
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)

    @property
    def loaded(self) -> frozenset[str]:
        """The towers whose weights are read."""
        return frozenset(self._skeleton.loaded if self._skeleton is not None else TOWERS)

    def count_tokens(self, text: str) -> int:
        inner = getattr(self._tokenizer, "tokenizer", None)
        if inner is not None:  # a Hugging Face tokenizer (multilingual models)
            return len(inner(text, add_special_tokens=False)["input_ids"])
        return len(self._tokenizer.encode(text))


def _weights_file(spec: ModelSpec) -> Path:
    """Where the weights are on this computer, fetched by open_clip's own download first if
    they are not here yet."""
    if spec.local_dir is not None:
        return check_local_dir(spec)
    from open_clip.pretrained import (
        download_pretrained,
        download_pretrained_from_hf,
        get_pretrained_cfg,
    )

    if spec.text.startswith(HF_HUB):
        return Path(download_pretrained_from_hf(spec.text[len(HF_HUB) :]))
    assert spec.pretrained is not None
    name = spec.name.replace("/", "-")
    return Path(download_pretrained(get_pretrained_cfg(name, spec.pretrained)))


def _stack(parts: list[Vectors], dimension: int) -> Vectors:
    if not parts:
        return np.zeros((0, dimension), dtype=np.float32)
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


def _image_size(model: Any) -> int:
    size = getattr(model.visual, "image_size", 224)
    return int(size[0] if isinstance(size, tuple | list) else size)


def _reparameterizable(model: Any) -> bool:
    return any(hasattr(m, "reparameterize") for m in model.visual.modules())


@contextmanager
def _hub_offline() -> Iterator[None]:
    """huggingface_hub reads its cache only, asking the Hub nothing, while this lasts."""
    from huggingface_hub import constants

    was = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = was


@contextmanager
def _offline_unless_hub_reachable(spec: ModelSpec) -> Iterator[bool]:
    """Without a connection to the Hugging Face Hub, load from its cache only: otherwise each
    missing file costs a minute of retries before the same failure."""
    if spec.local_dir is not None:
        yield False
        return
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        yield True
        return
    host = urlsplit(constants.ENDPOINT).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=HUB_CHECK_SECONDS).close()
    except OSError:
        log.info("%s cannot be reached: using downloaded weights only", host)
        constants.HF_HUB_OFFLINE = True
        try:
            yield True
        finally:
            constants.HF_HUB_OFFLINE = False
        return
    yield False


def _load_failure(spec: ModelSpec, error: Exception, offline: bool) -> str:
    reason = describe(error)
    if spec.local_dir is not None:
        return f"cannot load the model in {spec.local_dir}: {reason}; {_local_fix(spec)}"
    if offline:
        reason = "not downloaded yet, and there is no internet connection"
    elif len(reason) > 160:
        reason = reason[:157] + "..."
    return (
        f"cannot get the weights of {spec.text} ({reason}). Connect to the internet once so "
        "they download into the cache, or copy a model folder (open_clip_config.json + "
        "open_clip_model.safetensors) to this machine and use --model local-dir:/path/to/folder"
    )


def registry_problem(spec: ModelSpec) -> str | None:
    """Why open_clip's registry does not know spec (None when it does). No download."""
    import_torch()
    import open_clip

    if spec.local_dir is not None or spec.text.startswith(HF_HUB):
        return None
    if spec.name not in open_clip.list_models():
        return f"open_clip has no model named {spec.name!r}"
    tags = open_clip.list_pretrained_tags_by_model(spec.name)
    if spec.pretrained is not None and spec.pretrained not in tags:
        return f"{spec.name} has no weights tagged {spec.pretrained!r} (known: {', '.join(tags)})"
    return None


def weights_cache_dir() -> Path:
    """Where open_clip (through huggingface_hub) keeps downloaded weights."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


class SharedEncoder:
    """One model per process, loaded on first use and shared by the indexer and searches (an
    encoder serialises its own calls), let go again after an idle time so an idle app does not
    hold a gigabyte. Thread-safe."""

    def __init__(
        self,
        spec: ModelSpec,
        load: Callable[[], Encoder] | None = None,
        idle_release: float = DEFAULT_MODEL_IDLE_SECONDS,
        device: str = "auto",
    ) -> None:
        self.spec = spec
        self._load = load or (lambda: OpenClipEncoder(spec, device))
        self.idle_release = idle_release
        self._encoder: Encoder | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._last_use = 0.0

    @property
    def loaded(self) -> bool:
        return self._encoder is not None

    def get(self, towers: Collection[str] = ()) -> Encoder:
        """The model, opened if needed, with these towers' weights read (the others are read
        when first used); raises ModelUnavailable."""
        with self._lock:
            if self._closed:
                raise ModelUnavailable("the model was let go: mediafind is closing")
            if self._encoder is not None and not getattr(self._encoder, "alive", True):
                self._encoder = None  # its process ended: start another
            if self._encoder is None:
                self._encoder = self._load()
            self._last_use = time.monotonic()
            encoder = self._encoder
        encoder.load(towers)
        return encoder

    def release_if_idle(self) -> bool:
        """Drop the model if unused for idle_release seconds. Returns whether it did."""
        with self._lock:
            idle = time.monotonic() - self._last_use >= self.idle_release
            if self._encoder is None or not idle:
                return False
            encoder, self._encoder = self._encoder, None
        _close(encoder)
        log.info("released model %s after %.0f s unused", self.spec.text, self.idle_release)
        return True

    def close(self) -> None:
        """Let the model go now (at exit): a model in a process of its own ends at once. A model
        still loading is left to finish (a process of its own is ended at exit anyway)."""
        self._closed = True
        if not self._lock.acquire(blocking=False):
            return
        try:
            encoder, self._encoder = self._encoder, None
        finally:
            self._lock.release()
        if encoder is not None:
            _close(encoder)


def _close(encoder: Encoder) -> None:
    close = getattr(encoder, "close", None)
    if close is not None:
        close()
