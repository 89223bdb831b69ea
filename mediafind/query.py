"""The query language shared by the command line and the window.

dog on a beach                 words: photos that show it, notes that say it
"blue door"                    an exact phrase
-snow  -"parking lot"          push away (photos) and leave out (notes)
beach + ~/holiday.jpg          several queries combined: words and pictures
2*beach + 0.5*~/holiday.jpg    ... with weights
kind:photo  kind:note          only photos, or only notes
in:~/Pictures/2024             only inside a folder
after:2024-01-01 before:2024-03-01
                               by date: the photo's EXIF date, else the file's time
type:pdf  type:jpg             by file type
sort:date                      newest first instead of best match first
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from mediafind.errors import MediafindError

KINDS = ("photo", "note", "all")
SORTS = ("relevance", "date")
FILTER_KEYS = ("kind", "in", "after", "before", "type", "sort")

_WEIGHT = re.compile(r"^(\d+(?:\.\d+)?)\*(.+)$", re.S)


class QueryError(MediafindError):
    """The query cannot be understood; the message says which part and why."""


@dataclass(frozen=True, slots=True)
class Part:
    """One query to combine: words or a picture, with its weight."""

    text: str | None = None
    image: Path | None = None
    weight: float = 1.0


@dataclass
class Query:
    parts: list[Part] = field(default_factory=list)  # what to look for
    phrases: list[str] = field(default_factory=list)  # quoted, must appear as they are
    words: list[str] = field(default_factory=list)  # unquoted words of the text parts
    negatives: list[str] = field(default_factory=list)  # words and phrases to push away
    kind: str = "all"
    folder: Path | None = None
    after: float | None = None  # timestamps, inclusive
    before: float | None = None  # exclusive
    types: set[str] = field(default_factory=set)  # extensions without the dot, lower case
    sort: str = "relevance"

    @property
    def text(self) -> str:
        """The words and phrases of all text parts, as one text to embed."""
        return " ".join(p.text for p in self.parts if p.text)

    @property
    def images(self) -> list[Part]:
        return [p for p in self.parts if p.image is not None]

    @property
    def empty(self) -> bool:
        return not self.parts


def parse(text: str, *, images_allowed: bool = True) -> Query:
    """Read a query. A part that names an existing picture file is a picture query."""
    query = Query()
    for raw_part in _split_parts(text):
        weight, part_text = _weight(raw_part)
        words_before = len(query.words)
        kept = _read_terms(part_text, query)
        if images_allowed and len(query.words) == words_before + 1 and kept == query.words[-1]:
            candidate = Path(kept).expanduser()
            if _looks_like_image(candidate):
                query.words.pop()
                query.parts.append(Part(image=candidate, weight=weight))
                continue
        if kept:
            query.parts.append(Part(text=kept, weight=weight))
    return query


def _split_parts(text: str) -> list[str]:
    """Split on ' + ' outside quotes."""
    parts, current, quoted = [], [], False
    tokens = re.split(r"(\s\+\s|\")", f" {text} ")
    for token in tokens:
        if token == '"':
            quoted = not quoted
            current.append(token)
        elif re.fullmatch(r"\s\+\s", token) and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(token)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _weight(part: str) -> tuple[float, str]:
    match = _WEIGHT.match(part.strip())
    if match is None:
        return 1.0, part
    weight = float(match.group(1))
    if weight <= 0:
        raise QueryError(f"weight {match.group(1)} must be above zero")
    return weight, match.group(2)


def _looks_like_image(path: Path) -> bool:
    from mediafind.media import PHOTO_EXTENSIONS

    return path.suffix.lower() in PHOTO_EXTENSIONS and path.is_file()


def _read_terms(text: str, query: Query) -> str:
    """Take filters, phrases and negatives out of text; return the words and phrases to
    embed, in their order."""
    try:
        tokens = shlex.split(_protect_apostrophes(text), posix=True)
    except ValueError as e:  # an unclosed quote
        raise QueryError(f"cannot read the query: {e}") from e
    quoted = set(re.findall(r'"([^"]+)"', text))
    kept: list[str] = []
    for token in tokens:
        token = token.replace("\x00", "'")
        if not token:
            continue
        if token.startswith("-") and len(token) > 1:
            query.negatives.append(token[1:])
            continue
        key, sep, value = token.partition(":")
        if sep and key.lower() in FILTER_KEYS and value and token not in quoted:
            _apply_filter(query, key.lower(), value)
            continue
        if token in quoted:
            query.phrases.append(token)
        else:
            query.words.append(token)
        kept.append(token)
    return " ".join(kept)


def _protect_apostrophes(text: str) -> str:
    """shlex would read the apostrophe in "Anna's" as an opening quote."""
    return re.sub(r"(?<=\w)'(?=\w)", "\x00", text)


def _apply_filter(query: Query, key: str, value: str) -> None:
    if key == "kind":
        kind = value.lower().rstrip("s")  # kind:photos reads as kind:photo
        if kind not in KINDS:
            raise QueryError(f"kind:{value} — use kind:photo, kind:note or kind:all")
        query.kind = kind
    elif key == "in":
        query.folder = Path(value).expanduser().absolute()
    elif key == "after":
        query.after = parse_date(value, key)
    elif key == "before":
        query.before = parse_date(value, key)
    elif key == "type":
        query.types.update(t.lower().lstrip(".") for t in value.split(",") if t)
    elif key == "sort":
        if value.lower() not in SORTS:
            raise QueryError(f"sort:{value} — use sort:relevance or sort:date")
        query.sort = value.lower()


def parse_date(value: str, key: str = "date") -> float:
    """YYYY, YYYY-MM or YYYY-MM-DD (local time) as a timestamp."""
    for pattern in ("%Y-%m-%d", "%Y-%m", "%Y"):
        try:
            return datetime.strptime(value, pattern).timestamp()
        except ValueError:
            continue
    raise QueryError(f"{key}:{value} — write dates as YYYY-MM-DD, YYYY-MM or YYYY")
