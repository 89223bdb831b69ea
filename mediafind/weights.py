"""Model weights from the Hugging Face Hub: where a model's weights come from, whether they are
on this computer already, whether the Hub can be reached, and a download that reports its
progress and can be cancelled.

open_clip downloads weights by itself when a model first loads, but silently and without a way to
stop. The window uses this module to offer the download up front, with a progress bar
(gui/download.py). The files land in the same Hugging Face cache under the names open_clip asks
for, so open_clip then loads them from there without downloading again.
"""

from __future__ import annotations

import importlib.util
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mediafind.embed import (
    CONFIG_FILE,
    HF_HUB,
    HUB_CHECK_SECONDS,
    WEIGHT_FILES,
    ModelSpec,
    check_local_dir,
    import_torch,
)
from mediafind.errors import MediafindError, ModelUnavailable, describe

log = logging.getLogger(__name__)

# open_clip's names for weights on the Hub (open_clip.constants), kept here so that knowing
# whether a download is needed does not wait for torch to import.
OPEN_CLIP_WEIGHTS = "open_clip_pytorch_model.bin"
OPEN_CLIP_SAFE_WEIGHTS = "open_clip_model.safetensors"

ProgressCallback = Callable[[int, int | None], None]  # bytes so far, total bytes (if known)

# The Hub to use; None: huggingface_hub's own (huggingface.co, or HF_ENDPOINT when set at start).
# huggingface_hub reads its endpoint once, at import; this can change it later (tests do).
ENDPOINT: str | None = None


class DownloadCancelled(MediafindError):
    """The download was stopped on request (huggingface_hub removes the partial file)."""


@dataclass(frozen=True, slots=True)
class HubWeights:
    """A model's weights file on the Hub: the repository and the names open_clip tries."""

    spec: str
    repo_id: str
    filenames: tuple[str, ...]  # best first: the safetensors file when there is one

    @property
    def label(self) -> str:
        return self.spec.split(":", 1)[0] if ":" in self.spec else self.spec


def hub_weights(spec: ModelSpec) -> HubWeights | None:
    """Where open_clip gets the weights of spec: None for a model folder, and for the few
    models whose weights come from elsewhere than the Hub (plain URLs) or with more files than
    one (hf-hub: models bring their own config and tokenizer), which open_clip fetches itself."""
    if spec.local_dir is not None or spec.text.startswith(HF_HUB) or spec.pretrained is None:
        return None
    import_torch()
    from open_clip.pretrained import get_pretrained_cfg

    hub = str(get_pretrained_cfg(spec.name, spec.pretrained).get("hf_hub", ""))
    if not hub:
        return None
    # open_clip's convention: "org/repo/" (the default file name) or "org/repo/file.bin".
    repo_id, _, filename = hub.rpartition("/")
    if not filename:
        repo_id, filename = hub.rstrip("/"), OPEN_CLIP_WEIGHTS
    # open_clip prefers a .safetensors twin of the file it is given, when the Hub has one.
    names = [filename]
    if filename == OPEN_CLIP_WEIGHTS:
        names.insert(0, OPEN_CLIP_SAFE_WEIGHTS)
    elif filename.endswith((".bin", ".pth")):
        names.insert(0, filename[:-4] + ".safetensors")
    return HubWeights(spec.text, repo_id, tuple(names))


def cached(weights: HubWeights, cache_dir: Path | None = None) -> Path | None:
    """The weights file in the local Hugging Face cache, if one of its names is there."""
    from huggingface_hub import try_to_load_from_cache

    for name in weights.filenames:
        found = try_to_load_from_cache(weights.repo_id, name, cache_dir=cache_dir)
        if isinstance(found, str):
            return Path(found)
    return None


def on_this_computer(spec: ModelSpec) -> bool:
    """Whether spec loads without the network: a model folder that holds a model, or Hub
    weights in the cache (with, for a text tower from Hugging Face transformers, the package and
    the tower's files). A model whose weights open_clip fetches from elsewhere counts as absent:
    where they would land cannot be told without asking for them."""
    from huggingface_hub import try_to_load_from_cache

    def in_cache(repo_id: str, *names: str) -> bool:
        return any(isinstance(try_to_load_from_cache(repo_id, n), str) for n in names)

    if spec.local_dir is not None:
        try:
            check_local_dir(spec)
        except ModelUnavailable:
            return False
        return True
    if spec.text.startswith(HF_HUB):
        repo_id = spec.text[len(HF_HUB) :]
        return in_cache(repo_id, CONFIG_FILE) and in_cache(repo_id, *WEIGHT_FILES)
    where = hub_weights(spec)
    if where is None or cached(where) is None:
        return False
    from open_clip import get_model_config

    text = (get_model_config(spec.name) or {}).get("text_cfg", {})
    tower = text.get("hf_tokenizer_name") or text.get("hf_model_name")
    if not tower:
        return True
    return importlib.util.find_spec("transformers") is not None and in_cache(tower, "config.json")


def hub_reachable(endpoint: str | None = None, timeout: float = HUB_CHECK_SECONDS) -> bool:
    """Whether a connection to the Hub opens within timeout: a quick offline test, where a
    download attempt would retry for a minute before failing."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    url = urlsplit(endpoint or ENDPOINT or constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname or "huggingface.co", port), timeout=timeout).close()
    except OSError:
        return False
    return True


def remote_size(weights: HubWeights, endpoint: str | None = None) -> int | None:
    """The size in bytes of the file a download would fetch (None when it cannot be known)."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import EntryNotFoundError

    for name in weights.filenames:
        try:
            url = hf_hub_url(weights.repo_id, name, endpoint=endpoint or ENDPOINT)
            size = get_hf_file_metadata(url, timeout=HUB_CHECK_SECONDS).size
        except EntryNotFoundError:
            continue
        except Exception as e:  # the size only decorates a sentence: never fail for it
            log.info("cannot learn the size of %s: %s", weights.repo_id, e)
            return None
        return int(size) if size is not None else None
    return None


def download(
    weights: HubWeights,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    cache_dir: Path | None = None,
    endpoint: str | None = None,
) -> Path:
    """Download the weights into the Hugging Face cache; returns the file. Raises
    DownloadCancelled soon after cancel is set (at the next chunk, huggingface_hub's
    DOWNLOAD_CHUNK_SIZE), and ModelUnavailable with a readable reason when the download
    fails."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    endpoint = endpoint or ENDPOINT
    if not hub_reachable(endpoint):
        # Fail now: huggingface_hub would retry each file name for half a minute first.
        raise ModelUnavailable(
            f"cannot download the weights of {weights.spec}: the Hugging Face Hub cannot be "
            "reached (no internet connection?)"
        )
    cancel = cancel or threading.Event()
    bar = _progress_class(on_progress or (lambda done, total: None), cancel)
    with _plain_http():
        for name in weights.filenames:
            if cancel.is_set():
                raise DownloadCancelled("download cancelled")
            try:
                path = hf_hub_download(
                    weights.repo_id, name, cache_dir=cache_dir, endpoint=endpoint, tqdm_class=bar
                )
            except EntryNotFoundError:
                continue  # the next name open_clip would try
            except DownloadCancelled:
                raise
            except Exception as e:
                raise ModelUnavailable(
                    f"cannot download the weights of {weights.spec}: {describe(e)}"
                ) from e
            log.info("downloaded %s/%s", weights.repo_id, name)
            return Path(str(path))
    raise ModelUnavailable(
        f"the Hub has none of {', '.join(weights.filenames)} in {weights.repo_id}"
    )


@contextmanager
def _plain_http() -> Iterator[None]:
    """Downloads over plain HTTP rather than Xet while this runs. A cancel raised from the
    progress callback then stops the transfer at once; Xet's transfers run in its own threads,
    which call back into Python but do not stop when the callback raises."""
    from huggingface_hub import constants

    before = constants.HF_HUB_DISABLE_XET
    constants.HF_HUB_DISABLE_XET = True
    try:
        yield
    finally:
        constants.HF_HUB_DISABLE_XET = before


def _progress_class(on_progress: ProgressCallback, cancel: threading.Event) -> type:
    """A stand-in for tqdm that huggingface_hub drives while it writes the file: it reports
    each chunk, and raises DownloadCancelled at the next chunk once cancel is set."""

    class Progress:
        def __init__(self, *args: Any, total: int | None = None, initial: int = 0, **_: Any):
            self.total = total
            self.n = initial
            on_progress(self.n, self.total)

        def update(self, n: int = 1) -> None:
            if cancel.is_set():
                raise DownloadCancelled("download cancelled")
            self.n += n
            on_progress(self.n, self.total)

        def close(self) -> None:
            pass

        def __enter__(self) -> Progress:
            return self

        def __exit__(self, *exc: object) -> None:
            self.close()

    return Progress
