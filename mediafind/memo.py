"""Vectors of texts a model has encoded, remembered on disk for searches.

A cold `mediafind search` spends seconds importing torch and open_clip and reading the text
tower, for an encoding of 50 ms. The same words asked again, and the relevance floor's generic
descriptions (the same for every query), need none of it when their vectors are remembered: one
small file per text, named by a hash of the text, in a folder per model identity under the user
cache folder. Only texts searched for are kept, not the library's notes.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mediafind import privacy
from mediafind.embed import IMAGE, TEXT, Encoder, Vectors

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

# Texts remembered per model: a few megabytes. As words are typed in the window, each pause
# searches; the least recently used are forgotten first.
KEPT = 2000
SUFFIX = ".f32"


def _name(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class TextMemo:
    """One model's remembered text vectors (float32, little-endian, one file each)."""

    def __init__(self, folder: Path, identity: str, dimension: int) -> None:
        self.folder = folder / _name(identity)
        privacy.tighten(folder)  # an older version left it open to others
        self.dimension = dimension

    def get(self, text: str) -> Vectors | None:
        path = self.folder / (_name(text) + SUFFIX)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if len(data) != 4 * self.dimension:
            return None  # cut short by a full disk, say: encoded again
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used
        return np.frombuffer(data, dtype="<f4").astype(np.float32)

    def put(self, text: str, vector: Vectors) -> None:
        path = self.folder / (_name(text) + SUFFIX)
        data = np.ascontiguousarray(vector, dtype="<f4").tobytes()
        try:
            privacy.private_folder(self.folder)
            partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
            privacy.write_private(partial, data)
            partial.replace(path)
            self._forget_oldest()
        except OSError as e:
            log.info("cannot remember a query's vector in %s: %s", self.folder, e)

    def _forget_oldest(self) -> None:
        entries = list(os.scandir(self.folder))
        if len(entries) <= KEPT:
            return
        entries.sort(key=lambda e: e.stat().st_mtime_ns)
        for entry in entries[: len(entries) - KEPT]:
            Path(entry.path).unlink(missing_ok=True)


class RememberingEncoder:
    """The encoder a search uses: texts come from the memo when they can, and the model is
    opened (by open, with the towers it needs) only for the others and for pictures. Raises
    ModelUnavailable from encode_* when the model cannot be opened."""

    def __init__(
        self,
        spec: str,
        identity: str,
        dimension: int,
        memo: TextMemo,
        open: Callable[[Collection[str]], Encoder],
    ) -> None:
        self.spec = spec
        self.identity = identity
        self.dimension = dimension
        self._memo = memo
        self._open = open

    @property
    def image_size(self) -> int:
        return self._open((IMAGE,)).image_size

    @property
    def max_text_tokens(self) -> int:
        return self._open(()).max_text_tokens

    def encode_images(self, images: Sequence[Image.Image]) -> Vectors:
        return self._open((IMAGE,)).encode_images(images)

    def encode_texts(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            vector = self._memo.get(text)
            if vector is None:
                missing.setdefault(text, []).append(i)
            else:
                out[i] = vector
        if missing:
            encoded = self._open((TEXT,)).encode_texts(list(missing))
            for (text, places), vector in zip(missing.items(), encoded, strict=True):
                out[places] = vector
                self._memo.put(text, vector)
        return out

    def count_tokens(self, text: str) -> int:
        return self._open(()).count_tokens(text)

    def load(self, towers: Collection[str] = (TEXT, IMAGE)) -> None:
        self._open(towers)
