"""Text in pictures, as the OCR engine (mediafind.ocr) gives it and the indexing keeps it: lines
of text with where they stand in the picture. A module of its own, types only, so that the
indexer, the store and the faces agree on them without importing the engine (ONNX Runtime)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PIL import Image

# Where a line stands: left, top, right, bottom, as fractions (0..1) of the picture's width and
# height as it is shown (EXIF orientation applied), so that any size of it can draw the box.
Box = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class TextLine:
    """One line of text read in a picture."""

    text: str
    box: Box
    score: float  # the recogniser's confidence, 0..1


class TextReader(Protocol):
    """What reads text in pictures (mediafind.ocr.OcrEngine; tests hand in their own)."""

    @property
    def identity(self) -> str:
        """The models and settings the results depend on: results stored for a content hash
        are used again only under the same identity."""
        ...

    def cheap_side(self, picture: Image.Image) -> int:
        """How large the cheap pass wants to see this picture (its long side, in pixels): the
        indexer hands it the copy decoded for the model when that is as large, and decodes a
        larger one only for pictures that ask more (screens and scans, whose text is small)."""
        ...

    def has_text(self, picture: Image.Image) -> bool:
        """The cheap pass: whether the picture may hold text (a few milliseconds for a photo)."""
        ...

    def read(self, picture: Image.Image) -> list[TextLine]:
        """The lines of text in the picture, in reading order (none: an empty list)."""
        ...
