"""Text read in pictures as the library keeps it: where it is read (the setting), the lines of
a picture as one text whose chunks know the boxes of their lines, and lines as stored JSON.

The reader itself (mediafind.ocr's engine, or a test's) is handed in by a factory: making it
loads its models, so it is made on first need, and an install without it indexes without it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mediafind.pictext import Box, TextLine, TextReader

log = logging.getLogger(__name__)

# What makes the reader (None: none can be had here, and pictures are not read).
ReaderFactory = Callable[[], TextReader | None]

# Lines are joined by this into a picture's text; chunk offsets count in it.
LINE_SEPARATOR = "\n"


@dataclass(frozen=True)
class Reading:
    """Reading text in pictures is on: what reads it, and in which folders."""

    reader: ReaderFactory
    folders: tuple[Path, ...] = ()  # empty: in every watched folder

    def covers(self, path: Path) -> bool:
        """Whether the file at path has the text in its pictures read."""
        return not self.folders or any(path.is_relative_to(f) for f in self.folders)


def joined(lines: Sequence[TextLine]) -> str:
    """The lines' text as one (chunk offsets count in it); blank lines are left out by
    kept_lines first."""
    return LINE_SEPARATOR.join(line.text for line in lines)


def kept_lines(lines: Sequence[TextLine]) -> list[TextLine]:
    """The lines worth keeping: their text without surrounding or inner runs of blanks, and no
    empty ones (a recogniser returns some)."""
    out = []
    for line in lines:
        text = " ".join(line.text.split())
        if text:
            out.append(TextLine(text, _clamped(line.box), float(line.score)))
    return out


def boxes_between(lines: Sequence[TextLine], start: int, end: int) -> tuple[Box, ...]:
    """The boxes of the lines that the span [start, end) of joined(lines) touches."""
    boxes = []
    offset = 0
    for line in lines:
        line_end = offset + len(line.text)
        if offset < end and start < line_end:
            boxes.append(line.box)
        offset = line_end + len(LINE_SEPARATOR)
    return tuple(boxes)


def union(boxes: Sequence[Box]) -> Box:
    """The smallest box holding them all."""
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def boxes_json(boxes: Sequence[Box]) -> str | None:
    """Boxes as a chunk stores them: a JSON list of [left, top, right, bottom]; None for none."""
    return json.dumps([[round(v, 5) for v in box] for box in boxes]) if boxes else None


def boxes_from_json(raw: str | None) -> tuple[Box, ...]:
    """A chunk's stored boxes; what cannot be read is no boxes (the text still counts)."""
    if not raw:
        return ()
    try:
        return tuple(_box(b) for b in json.loads(raw))
    except (ValueError, TypeError, IndexError):
        log.warning("stored text boxes cannot be read: %.80s", raw)
        return ()


def lines_json(lines: Sequence[TextLine]) -> str:
    """Lines as stored for a content (an empty list: the picture holds no text)."""
    return json.dumps(
        [[line.text, [round(v, 5) for v in line.box], round(line.score, 4)] for line in lines],
        ensure_ascii=False,
    )


def lines_from_json(raw: str) -> list[TextLine] | None:
    """Stored lines; None when they cannot be read (the picture is then read again)."""
    try:
        return [
            TextLine(str(text), _box(box), float(score)) for text, box, score in json.loads(raw)
        ]
    except (ValueError, TypeError, IndexError):
        log.warning("stored lines of text cannot be read: %.80s", raw)
        return None


def _box(values: Sequence[float]) -> Box:
    left, top, right, bottom = (float(v) for v in values)
    return left, top, right, bottom


def _clamped(box: Box) -> Box:
    left, top, right, bottom = (min(max(float(v), 0.0), 1.0) for v in box)
    return min(left, right), min(top, bottom), max(left, right), max(top, bottom)
