"""The real command line (`python -m mediafind`) with conftest's FakeEncoder as its model, for
tests that run it in a subprocess: `python tests/fakecli.py --library DIR index FOLDER`.

Everything but the model is the real thing: argument parsing, the session, the write lock,
the instance socket of `watch`, the scan, the indexer and the store. MEDIAFIND_FAKE_SLOW
(seconds per picture and per call with texts, default 0) makes the encoder slow, so that a
process is surely mid-way through its batches when a test kills it."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence

from conftest import FakeEncoder, SharedFakeSource
from PIL import Image

from mediafind.embed import Vectors

SLOW_ENV = "MEDIAFIND_FAKE_SLOW"


class SlowFakeEncoder(FakeEncoder):
    """FakeEncoder taking MEDIAFIND_FAKE_SLOW seconds per item (read when it is made)."""

    # The model a library names must be one the command line can parse (a run after a kill
    # reads it from the library): the fake passes for the preset "fast".
    spec = "fast"

    def __init__(self) -> None:
        super().__init__()
        self.delay = float(os.environ.get(SLOW_ENV, "0"))

    def encode_images(self, images: Sequence[Image.Image]) -> Vectors:
        time.sleep(self.delay * len(images))
        return super().encode_images(images)

    def encode_texts(self, texts: Sequence[str]) -> Vectors:
        time.sleep(self.delay)  # a call of up to indexer.TEXT_BATCH texts costs one picture
        return super().encode_texts(texts)


class FakeSource(SharedFakeSource):
    encoder = SlowFakeEncoder()


def main() -> int:
    import mediafind.session
    from mediafind.cli import main as cli_main

    mediafind.session.OpenClipSource = FakeSource  # type: ignore[misc,assignment]
    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
