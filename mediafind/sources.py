"""Where a session's models come from: the CLIP model (OpenCLIP, in this process or in a
process of its own; a fake in tests) and the reader of text in pictures that ships with
mediafind."""

from __future__ import annotations

import logging
import weakref
from typing import TYPE_CHECKING, Protocol

from mediafind import ocr
from mediafind.embed import Encoder, ModelSpec, spec_identity
from mediafind.errors import ModelUnavailable
from mediafind.pictext import TextReader

if TYPE_CHECKING:
    from mediafind.modelhost import HostedEncoder

log = logging.getLogger(__name__)


class ModelSource(Protocol):
    """Where models come from: OpenCLIP for real, a fake in tests."""

    def identity(self, spec: ModelSpec) -> str:
        """What identifies the vectors this model makes (may hash a local model's weights)."""
        ...

    def load(self, spec: ModelSpec, device: str) -> Encoder:
        """The model, ready to encode; raises ModelUnavailable with how to fix it."""
        ...

    def close(self) -> None:
        """Let go of every model this source gave out, loaded or loading (at exit)."""
        ...


class OpenClipSource:
    """hosted: the model runs in a process of its own (modelhost.py), for the faces that run
    for hours: its memory goes back to the system when it is let go, and quitting is quick."""

    def __init__(self, hosted: bool = False) -> None:
        self.hosted = hosted
        self._hosted: weakref.WeakSet[HostedEncoder] = weakref.WeakSet()

    def identity(self, spec: ModelSpec) -> str:
        return spec_identity(spec)

    def load(self, spec: ModelSpec, device: str) -> Encoder:
        if self.hosted:
            from mediafind.modelhost import HostedEncoder

            return HostedEncoder(spec, device, on_start=self._hosted.add)
        from mediafind.embed import OpenClipEncoder

        return OpenClipEncoder(spec, device)

    def close(self) -> None:
        # An in-process model goes with the process; a hosted one is ended here, even while
        # it loads, so that quitting never waits for a model.
        for encoder in list(self._hosted):
            encoder.close()


def default_reader() -> TextReader | None:
    """The reader of text in pictures that ships with mediafind (mediafind.ocr: RapidOCR through
    ONNX Runtime, loaded on first use); None where its package is not installed (the pictures
    are then indexed without their text, and the log says why)."""
    try:
        ocr.models_folder()
    except ModelUnavailable as e:
        log.info("text in pictures is not read: %s", e)
        return None
    return ocr.OcrEngine()
