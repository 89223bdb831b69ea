"""The answer to a query, as both faces show it (Results), and the answer by word matches that a
session gives when the model cannot be used: missing, still loading, or another model's
vectors being replaced."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from mediafind.embed import IMAGE, TEXT
from mediafind.query import Query
from mediafind.report import Found
from mediafind.rows import NOTE, PHOTO
from mediafind.search import Hit, Searcher
from mediafind.store import Store

WORDS_WHILE_LOADING = "Loading the model…"
WORDS_WHILE_REEMBEDDING = (
    "The library is being re-read with the new model; until then, results are word matches."
)


@dataclass(frozen=True, slots=True)
class Results:
    """The answer to a query: its hits, best first, and how they were found."""

    query: Query
    limit: int
    hits: tuple[Hit, ...] = ()
    words_only: bool = False  # found by their words alone: the model could not be used
    note: str = ""  # why, in words
    final: bool = True  # False: word matches given while the model loads
    seconds: float = 0.0
    # Files of each kind found, the page's and those past it (see search.Answer); a kind not
    # in it: as many as the hits hold.
    totals: Mapping[str, int] = field(default_factory=dict)
    # Photos the library's calibrated relevance cutoff hid (search again with cutoff=False).
    hidden: int = 0
    # Nothing found: the person: and place: names no photo has, as sentences (see Answer).
    unknown: tuple[str, ...] = ()
    photos: tuple[Hit, ...] = field(init=False)
    notes: tuple[Hit, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "photos", tuple(h for h in self.hits if h.kind == PHOTO))
        object.__setattr__(self, "notes", tuple(h for h in self.hits if h.kind == NOTE))

    @property
    def may_have_more(self) -> bool:
        return len(self.hits) >= self.limit

    def total(self, kind: str) -> int:
        """How many files of a kind the query found, on this page and past it."""
        shown = len(self.photos if kind == PHOTO else self.notes)
        return max(shown, self.totals.get(kind, shown))

    def found(self) -> Found:
        """The answer as the command line prints it (and a running instance sends it)."""
        hits = tuple(h.to_json() for h in self.hits)
        return Found(hits, self.words_only, self.note, self.hidden, self.unknown)


def towers_for(query: Query) -> tuple[str, ...]:
    """The towers a query's vectors come from: words need the text tower, pictures the image
    tower (a search by words alone never reads the image tower's weights)."""
    words = bool(query.text or query.negatives)
    return (TEXT,) * words + (IMAGE,) * bool(query.images)


def by_words(
    store: Store, query: Query, limit: int, why: str, started: float, final: bool = True
) -> Results:
    """Word matches, for when the model cannot answer; why says so."""
    if query.images:
        why = f"Searching by picture needs the model. {why}"
        if not query.words and not query.phrases:
            return Results(query, limit, words_only=True, note=why)
    answer = Searcher(store, None).answer(query, limit)
    seconds = time.perf_counter() - started
    return Results(
        query,
        limit,
        tuple(answer.hits),
        True,
        why,
        final,
        seconds,
        answer.totals,
        unknown=answer.unknown,
    )
