"""The model in a process of its own, for the long-running faces (the window, `watch`).

Once torch is imported, a process keeps most of a gigabyte even after the model is let go
(measured with ViT-B-32: 1.5 GB loaded, 0.93 GB after release and malloc_trim), its interpreter
takes seconds to shut down, and its Python-side work competes with the window's thread for the
GIL. Hosted in a child process, the model's memory goes back to the system whole when the child
ends, quitting ends it at once, and the window never imports torch.

The child is started with multiprocessing's "spawn" (fork is unsafe beside Qt's and the
keeper's threads) and serves one request at a time over a pipe. Pictures travel already
decoded and reduced to the model's size by the indexer, a few hundred kilobytes each.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from mediafind.embed import TOWERS, ModelSpec, Vectors
from mediafind.errors import ModelUnavailable, describe

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

# How long close() lets the child end by itself before it is killed: it only has to leave
# its receive loop, while a kill needs no cooperation.
CLOSE_GRACE_SECONDS = 0.2


@dataclass(frozen=True, slots=True)
class _Ready:
    identity: str
    dimension: int
    image_size: int
    max_text_tokens: int


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


def _serve(connection: Connection, spec: ModelSpec, device: str) -> None:
    """The child's life: load the model, then answer requests until told to stop or the
    parent goes away."""
    from mediafind.embed import OpenClipEncoder

    try:
        encoder = OpenClipEncoder(spec, device)
    except Exception as e:  # sent to the parent, which raises it where the model was asked for
        connection.send(_Failed(e if isinstance(e, ModelUnavailable) else _portable(e)))
        return
    connection.send(
        _Ready(encoder.identity, encoder.dimension, encoder.image_size, encoder.max_text_tokens)
    )
    calls: dict[str, Callable[[Any], object]] = {
        "texts": encoder.encode_texts,
        "images": encoder.encode_images,
        "tokens": encoder.count_tokens,
        "load": encoder.load,
    }
    while True:
        try:
            request, argument = connection.recv()
        except (EOFError, OSError):
            return  # the parent ended
        if request == "stop":
            return
        try:
            answer: object = calls[request](argument)
        except Exception as e:
            answer = _Failed(_portable(e))
        connection.send(answer)


def _portable(error: Exception) -> BaseException:
    """error itself if it survives pickling, else a RuntimeError with its description."""
    import pickle

    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(describe(error))
    return error


class HostedEncoder:
    """An Encoder whose model runs in a child process; started (and loaded) on construction,
    which raises ModelUnavailable like an in-process load. Thread-safe: calls take turns."""

    def __init__(
        self,
        spec: ModelSpec,
        device: str = "auto",
        on_start: Callable[[HostedEncoder], None] | None = None,
    ) -> None:
        """on_start is called before the process starts: whoever holds the encoder then can
        close() it while it starts and loads (quitting, say)."""
        self.spec = spec.text
        context = multiprocessing.get_context("spawn")
        self._connection, child_end = context.Pipe()
        self._process: Any = context.Process(
            target=_serve, args=(child_end, spec, device), name="mediafind-model", daemon=True
        )
        self._lock = threading.Lock()  # one call at a time over the pipe
        self._life = threading.Lock()  # starting and closing exclude each other
        self._closed = False
        if on_start is not None:
            on_start(self)
        with self._life:
            if self._closed:
                raise ModelUnavailable("the model was let go before its process started")
            self._process.start()
        child_end.close()
        try:
            ready = self._receive()
        except BaseException:
            self.close()
            raise
        if not isinstance(ready, _Ready):
            self.close()
            raise ModelUnavailable(f"the model's process answered {ready!r}")
        self.identity = ready.identity
        self.dimension = ready.dimension
        self.image_size = ready.image_size
        self.max_text_tokens = ready.max_text_tokens
        log.info("model %s runs in process %d", self.spec, self._process.pid)

    @property
    def pid(self) -> int:
        return int(self._process.pid)

    @property
    def alive(self) -> bool:
        return bool(self._process.is_alive())

    def encode_texts(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._ask("texts", list(texts)), dtype=np.float32)

    def encode_images(self, images: Sequence[Image.Image]) -> Vectors:
        if not images:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._ask("images", list(images)), dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return cast(int, self._ask("tokens", text))

    def load(self, towers: Collection[str] = TOWERS) -> None:
        """Have the model's process read these towers' weights now (TEXT, IMAGE)."""
        self._ask("load", tuple(towers))

    def close(self) -> None:
        """End the child now (its memory goes back to the system); later calls raise
        ModelUnavailable."""
        with self._life:
            self._closed = True
            if self._process.pid is None:
                return  # never started, and now never will
        if self._lock.acquire(blocking=False):  # else a call is under way: the kill ends it
            try:
                self._connection.send(("stop", None))
            except (OSError, ValueError):
                pass  # already gone
            finally:
                self._lock.release()
        self._process.join(CLOSE_GRACE_SECONDS)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()

    def _ask(self, request: str, argument: object) -> object:
        with self._lock:
            try:
                self._connection.send((request, argument))
            except (OSError, ValueError) as e:
                raise self._gone() from e
            return self._receive()

    def _receive(self) -> object:
        try:
            answer = self._connection.recv()
        except (EOFError, OSError) as e:
            raise self._gone() from e
        if isinstance(answer, _Failed):
            raise answer.error
        return answer

    def _gone(self) -> ModelUnavailable:
        self._process.join(1.0)
        code = self._process.exitcode
        how = "was closed" if code is None or code == 0 else f"ended (exit status {code})"
        return ModelUnavailable(f"the model's process {how}; it is started again when needed")
