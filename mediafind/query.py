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
person:Anna                    photos of a person, as face tags and keywords name them
place:Lisbon  place:"New York" photos taken there (GPS): a city, region or country
sort:date                      newest first instead of best match first
sort:name                      by file name, A to Z
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from mediafind.errors import MediafindError, describe
from mediafind.kinds import NOTE, PHOTO

# What a search may be narrowed to: one of the two kinds of file the library holds, or both.
ALL = "all"
KINDS = (PHOTO, NOTE, ALL)
# The orders a query may ask for (sort:). Not said, a query with words or pictures is in
# relevance order and one without (browsing) newest first: see Query.order.
RELEVANCE, DATE, NAME = "relevance", "date", "name"
SORTS = (RELEVANCE, DATE, NAME)
FILTER_KEYS = ("kind", "in", "after", "before", "type", "sort", "person", "place")

_WEIGHT = re.compile(r"^(\d+(?:\.\d+)?)\*(.+)$", re.S)


class QueryError(MediafindError):
    """The query cannot be understood; the message says which part and why."""


@dataclass(frozen=True, slots=True)
class Part:
    """One query to combine: words or a picture, with its weight."""

    text: str | None = None
    image: Path | None = None
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: read once at the edge (the command line, the search field) and handed
    down as it is. Equal queries ask the same question."""

    parts: tuple[Part, ...] = ()  # what to look for
    phrases: tuple[str, ...] = ()  # quoted, must appear as they are
    words: tuple[str, ...] = ()  # unquoted words of the text parts
    negatives: tuple[str, ...] = ()  # words and phrases to push away
    kind: str = ALL
    folder: Path | None = None
    after: float | None = None  # timestamps, inclusive
    before: float | None = None  # exclusive
    types: frozenset[str] = frozenset()  # extensions without the dot, lower case
    sort: str | None = None  # as the words (or an option beside them) said; see order
    people: tuple[str, ...] = ()  # person: names, as typed: photos with each of them
    places: tuple[str, ...] = ()  # place: names, as typed: photos taken at each
    # Typed in the search field: the last word may be unfinished (a prefix, for word search).
    typing: bool = False

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

    @property
    def order(self) -> str:
        """The order the results come in: as sort: said, else best match first, or newest
        first when there is nothing to match (a list by relevance to nothing means nothing)."""
        if self.empty and self.sort in (None, RELEVANCE):
            return DATE
        return self.sort or RELEVANCE

    @property
    def words_only(self) -> bool:
        """Whether every part is words (no picture)."""
        return all(p.text for p in self.parts)

    def with_image(self, image: Path, first: bool = False) -> Query:
        """The same query with a picture added (first: before the words)."""
        part = Part(image=image)
        return replace(self, parts=(part, *self.parts) if first else (*self.parts, part))

    def narrowed(
        self, kind: str | None = None, folder: Path | None = None, sort: str | None = None
    ) -> Query:
        """The query with options given beside it (flags, filter buttons, the sort menu). The
        kind and the sort apply only where the words did not say kind: or sort: themselves."""
        changes: dict[str, object] = {}
        if kind is not None and kind != ALL and self.kind == ALL:
            changes["kind"] = kind
        if folder is not None:
            changes["folder"] = folder
        if sort is not None and self.sort is None:
            changes["sort"] = sort
        return replace(self, **changes) if changes else self  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        """The query in JSON types, for a running instance to answer it. Paths travel absolute:
        the instance's working folder is not the caller's."""
        return {
            "parts": [
                {
                    "text": p.text,
                    "image": None if p.image is None else str(p.image.absolute()),
                    "weight": p.weight,
                }
                for p in self.parts
            ],
            "phrases": list(self.phrases),
            "words": list(self.words),
            "negatives": list(self.negatives),
            "kind": self.kind,
            "folder": None if self.folder is None else str(self.folder.absolute()),
            "after": self.after,
            "before": self.before,
            "types": sorted(self.types),
            "sort": self.sort,
            "typing": self.typing,
            "people": list(self.people),
            "places": list(self.places),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Query:
        """The query to_dict wrote; QueryError when data is not one."""
        try:
            parts = tuple(
                Part(
                    text=None if p["text"] is None else str(p["text"]),
                    image=None if p["image"] is None else Path(p["image"]),
                    weight=float(p["weight"]),
                )
                for p in data["parts"]
            )
            query = cls(
                parts=parts,
                phrases=_strings(data["phrases"]),
                words=_strings(data["words"]),
                negatives=_strings(data["negatives"]),
                kind=str(data["kind"]),
                folder=None if data["folder"] is None else Path(data["folder"]),
                after=None if data["after"] is None else float(data["after"]),
                before=None if data["before"] is None else float(data["before"]),
                types=frozenset(_strings(data["types"])),
                sort=None if data["sort"] is None else str(data["sort"]),
                typing=bool(data["typing"]),
                people=_strings(data.get("people", [])),
                places=_strings(data.get("places", [])),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise QueryError(f"not a query: {describe(e)}") from e
        if query.kind not in KINDS or query.sort not in (None, *SORTS):
            raise QueryError(f"not a query: kind {query.kind!r}, sort {query.sort!r}")
        return query


def _strings(items: list[Any]) -> tuple[str, ...]:
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise TypeError("expected a list of strings")
    return tuple(items)


@dataclass
class _Reading:
    """A query while it is being read."""

    lenient: bool
    parts: list[Part] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    negatives: list[str] = field(default_factory=list)
    filters: dict[str, object] = field(default_factory=dict)
    types: set[str] = field(default_factory=set)
    people: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)


def parse(text: str, *, images_allowed: bool = True, lenient: bool = False) -> Query:
    """Read a query. A part that names an existing picture file is a picture query.

    lenient: the query is still being typed — an unclosed quote is closed, and a filter or
    weight that is not (yet) valid, like `after:20` or `kind:pho`, is left out instead of
    raising QueryError."""
    if lenient and text.count('"') % 2:
        text += '"'
    reading = _Reading(lenient)
    parts = _split_parts(text)
    for raw_part in parts:
        weight, part_text = _weight(raw_part, lenient)
        words_before = len(reading.words)
        kept = _read_terms(part_text, reading)
        if images_allowed and len(reading.words) == words_before + 1 and kept == reading.words[-1]:
            candidate = Path(kept).expanduser()
            if _looks_like_image(candidate):
                reading.words.pop()
                reading.parts.append(Part(image=candidate, weight=weight))
                continue
            # A picture meant as a part (`red + beach.jpg`, `~/trip/beach.jpg`) that is not
            # there: said, not searched as words. A lone name is a file's name to look for.
            if not lenient and _names_a_picture(kept) and (len(parts) > 1 or _is_a_path(kept)):
                raise QueryError(f"no picture at {candidate}")
        if kept:
            reading.parts.append(Part(text=kept, weight=weight))
    return Query(
        parts=tuple(reading.parts),
        phrases=tuple(reading.phrases),
        words=tuple(reading.words),
        negatives=tuple(reading.negatives),
        types=frozenset(reading.types),
        people=tuple(reading.people),
        places=tuple(reading.places),
        typing=lenient,
        **reading.filters,  # type: ignore[arg-type]
    )


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


def _weight(part: str, lenient: bool) -> tuple[float, str]:
    match = _WEIGHT.match(part.strip())
    if match is None:
        return 1.0, part
    weight = float(match.group(1))
    if weight <= 0:
        if lenient:
            return 1.0, match.group(2)
        raise QueryError(f"weight {match.group(1)} must be above zero")
    return weight, match.group(2)


def _looks_like_image(path: Path) -> bool:
    return _names_a_picture(str(path)) and path.is_file()


def _names_a_picture(text: str) -> bool:
    from mediafind.media import PHOTO_EXTENSIONS

    return Path(text).suffix.lower() in PHOTO_EXTENSIONS


def _is_a_path(text: str) -> bool:
    return "/" in text or "\\" in text or text.startswith("~")


def _read_terms(text: str, reading: _Reading) -> str:
    """Take filters, phrases and negatives out of text; return the words and phrases to
    embed, in their order."""
    try:
        tokens = shlex.split(_protect_apostrophes(text), posix=True)
    except ValueError as e:  # an unclosed quote, or a backslash at the end
        if not reading.lenient:
            raise QueryError(f"cannot read the query: {e}") from e
        tokens = _protect_apostrophes(text).split()
    quoted = set(re.findall(r'"([^"]+)"', text))
    kept: list[str] = []
    for token in tokens:
        token = token.replace("\x00", "'")
        if not token:
            continue
        if token.startswith("-") and len(token) > 1:
            reading.negatives.append(token[1:])
            continue
        key, sep, value = token.partition(":")
        if (
            sep
            and key.lower() in FILTER_KEYS
            and not value
            and reading.lenient
            and token not in quoted
        ):
            continue  # `kind:` half typed: a filter on its way, not a word to look for
        if sep and key.lower() in FILTER_KEYS and value and token not in quoted:
            try:
                _apply_filter(reading, key.lower(), value)
            except QueryError:
                if not reading.lenient:
                    raise
            continue
        if token in quoted:
            reading.phrases.append(token)
        else:
            reading.words.append(token)
        kept.append(token)
    return " ".join(kept)


def _protect_apostrophes(text: str) -> str:
    """shlex would read the apostrophe in "Anna's" as an opening quote."""
    return re.sub(r"(?<=\w)'(?=\w)", "\x00", text)


def _apply_filter(reading: _Reading, key: str, value: str) -> None:
    filters = reading.filters
    if key == "kind":
        kind = value.lower().rstrip("s")  # kind:photos reads as kind:photo
        if kind not in KINDS:
            raise QueryError(f"kind:{value} — use kind:photo, kind:note or kind:all")
        filters["kind"] = kind
    elif key == "in":
        filters["folder"] = Path(value).expanduser().absolute()
    elif key == "after":
        filters["after"] = parse_date(value, key)
    elif key == "before":
        filters["before"] = parse_date(value, key)
    elif key == "type":
        reading.types.update(t.lower().lstrip(".") for t in value.split(",") if t)
    elif key == "sort":
        if value.lower() not in SORTS:
            raise QueryError(f"sort:{value} — use sort:relevance, sort:date or sort:name")
        filters["sort"] = value.lower()
    elif key == "person":
        reading.people.append(" ".join(value.split()))
    elif key == "place":
        reading.places.append(" ".join(value.split()))


def parse_date(value: str, key: str = "date") -> float:
    """YYYY, YYYY-MM or YYYY-MM-DD (local time) as a timestamp."""
    for pattern in ("%Y-%m-%d", "%Y-%m", "%Y"):
        try:
            return datetime.strptime(value, pattern).timestamp()
        except ValueError:
            continue
    raise QueryError(f"{key}:{value} — write dates as YYYY-MM-DD, YYYY-MM or YYYY")


@dataclass(frozen=True, slots=True)
class Operator:
    """One thing the query language understands, as the help shows it."""

    syntax: str  # how it is written
    meaning: str  # what it does, in one line
    example: str  # a query that uses it (parse() reads it once its picture exists)
    key: str = ""  # the filter it is (one of FILTER_KEYS); "" for words, phrases, pictures


# How each order of sort: reads in the help; an order missing here is shown by its name alone.
SORT_MEANINGS = {
    "relevance": "best match first (the usual order)",
    "date": "newest first",
    "name": "by file name, A to Z",
}

# The query language, one line each: what the window's search tips list and the parser reads.
# Tests hold the two together: every filter key has a line, and every example parses.
OPERATORS = (
    Operator("words", "photos that show them, notes that say them", "dog on a beach"),
    Operator('"exact phrase"', "these words together, as they are written", '"blue door"'),
    Operator("-word", "push it away from photos, leave it out of notes", "beach -snow"),
    Operator("kind:photo", "only photos", "kind:photo", "kind"),
    Operator("kind:note", "only notes: documents, text files, PDFs", "kind:note", "kind"),
    Operator("type:pdf", "only files of a type (several: type:jpg,png)", "type:pdf", "type"),
    Operator("in:folder", "only inside a folder (quote a name with spaces)", "in:~/Pictures", "in"),
    Operator("after:date", "from a date on: YYYY, YYYY-MM or YYYY-MM-DD", "after:2024-06", "after"),
    Operator(
        "before:date",
        "before a date (a photo's own date, else the file's)",
        "before:2025",
        "before",
    ),
    *(Operator(f"sort:{s}", SORT_MEANINGS.get(s, s), f"sort:{s}", "sort") for s in SORTS),
    Operator(
        "person:name",
        "photos of a person, as face tags and keywords name them",
        "person:Anna",
        "person",
    ),
    Operator(
        "place:name",
        'photos taken in a city, region or country (GPS); quote two words: place:"New York"',
        "place:Lisbon",
        "place",
    ),
    Operator(
        "name words",
        "a person or place your photos name narrows; the other words rank",
        "Anna beach",
    ),
    Operator("words + picture", "a picture file and words together", "beach + ~/holiday.jpg"),
    Operator(
        "2*words + 0.5*picture", "weigh the parts against each other", "2*beach + 0.5*~/holiday.jpg"
    ),
)


def help_text() -> str:
    """The operators as a plain-text table, one a line."""
    width = max(len(o.syntax) for o in OPERATORS) + 2
    return "\n".join(f"{o.syntax:<{width}}{o.meaning}" for o in OPERATORS)


def folder_problem(folder: Path, watched: Sequence[Path]) -> str | None:
    """Why in:folder can find nothing in a library watching `watched`: the folder does not
    exist, or it is outside every watched folder. None when it may find something."""
    listed = ", ".join(sorted((home_relative(f) for f in watched), key=str.lower)) or "none yet"
    if not folder.is_dir():
        return f"There is no folder {home_relative(folder)} — watched folders: {listed}."
    if not any(folder.is_relative_to(f) or f.is_relative_to(folder) for f in watched):
        return (
            f"{home_relative(folder)} is not in the library: it is not inside a watched folder "
            f"(watched folders: {listed})."
        )
    return None


def home_relative(folder: Path) -> str:
    """A folder as people write it: the home folder as ~."""
    try:
        return str(Path("~") / folder.relative_to(Path.home()))
    except ValueError:
        return str(folder)
