"""The search runner: searches off the GUI thread, where a newer query supersedes an older one.
(One-off background work is a job: gui/jobs.py.)"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from mediafind import query as language
from mediafind.errors import MediafindError, ModelMismatch, ModelUnavailable
from mediafind.gui.services import Services
from mediafind.search import Hit, Searcher, keyword_search
from mediafind.store import Store

log = logging.getLogger(__name__)

# Results asked for at first. Enough to fill a big screen of thumbnails twice; more are fetched
# when the user scrolls near the end (each fetch re-runs the query, which costs milliseconds).
FIRST_LIMIT = 200
# sqlite-vec answers at most 4096 neighbours per query.
MAX_LIMIT = 4000


# -- searching ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Query:
    """What the window asks: the words typed (in the query language of mediafind.query), the
    picture of the chip, and the kind chosen with the filter buttons."""

    text: str = ""
    image: Path | None = None
    kind: str = "all"  # "photo", "note" or "all"
    limit: int = FIRST_LIMIT

    @property
    def empty(self) -> bool:
        return self.image is None and not self.text.strip()

    def parsed(self) -> language.Query:
        """The core's query: the words with their phrases, -words and filters, the picture as
        one more part, and the buttons' kind unless the words say kind:. Raises QueryError."""
        try:
            parsed = language.parse(self.text)
        except language.QueryError:
            if self.text.count('"') % 2 == 0:
                raise
            parsed = language.parse(self.text + '"')  # a phrase still being typed
        if self.image is not None:
            parsed.parts.insert(0, language.Part(image=self.image))
        if parsed.kind == "all":
            parsed.kind = self.kind
        return parsed

    def same_question(self, other: Query) -> bool:
        """Whether other asks the same thing, perhaps for more results."""
        return (self.text.strip(), self.image, self.kind) == (
            other.text.strip(),
            other.image,
            other.kind,
        )


@dataclass(frozen=True, slots=True)
class Results:
    query: Query
    hits: tuple[Hit, ...] = ()
    words_only: bool = False  # found by their words alone: the model could not be used
    note: str = ""  # why, in words
    final: bool = True  # False: word matches shown while the model loads
    seconds: float = 0.0
    photos: tuple[Hit, ...] = field(init=False)
    notes: tuple[Hit, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "photos", tuple(h for h in self.hits if h.kind == "photo"))
        object.__setattr__(self, "notes", tuple(h for h in self.hits if h.kind != "photo"))


class SearchRunner(QObject):
    """Runs one search at a time on a thread of its own. Each query gets a generation number;
    a newer query drops the older ones still waiting, and the results of a superseded search
    that was already running are never delivered."""

    finished = Signal(int, object)  # generation, Results
    failed = Signal(int, str)  # generation, message for the user

    def __init__(self, services: Services, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self._pool = QThreadPool(self)
        # One thread: searches are short, and the model serialises its own calls anyway.
        self._pool.setMaxThreadCount(1)
        self._generation = 0
        self._store: Store | None = None  # used by jobs only, one at a time

    @property
    def generation(self) -> int:
        return self._generation

    def submit(self, query: Query) -> int:
        self._generation += 1
        self._pool.clear()
        self._pool.start(_SearchJob(self, query, self._generation))
        return self._generation

    def cancel(self) -> None:
        """Forget the current search: its results will not be delivered."""
        self._generation += 1
        self._pool.clear()

    def is_current(self, generation: int) -> bool:
        return generation == self._generation

    def reader(self) -> Store | None:
        """The jobs' own read connection to the library (opened on first use, again when the
        library moved)."""
        wanted = self.services.library_file
        if self._store is not None and self._store.path != wanted:
            self._store.close()
            self._store = None
        if self._store is None:
            self._store = self.services.open_reader()
        return self._store

    def shutdown(self) -> None:
        self.cancel()
        self._pool.waitForDone(5000)
        if self._store is not None:
            self._store.close()
            self._store = None


class _SearchJob(QRunnable):
    def __init__(self, runner: SearchRunner, query: Query, generation: int) -> None:
        super().__init__()
        self.runner = runner
        self.query = query
        self.generation = generation
        self.started = 0.0

    def run(self) -> None:
        if not self.runner.is_current(self.generation):
            return
        self.started = time.perf_counter()
        try:
            results = self._search()
        except MediafindError as e:
            self.runner.failed.emit(self.generation, str(e))
        except Exception as e:
            log.exception("search failed")
            self.runner.failed.emit(
                self.generation, f"The search failed ({type(e).__name__}: {e})."
            )
        else:
            if results is not None and self.runner.is_current(self.generation):
                self.runner.finished.emit(self.generation, results)

    def _search(self) -> Results | None:
        query = self.query
        store = self.runner.reader()
        parsed = query.parsed()
        if store is None or parsed.empty:
            return Results(query)
        services = self.runner.services
        shared = services.encoder
        if shared is None:
            return self._by_words(store, services.model_problem or "the model is not available")
        if not shared.loaded and query.image is None:
            # Loading takes seconds: word matches first, meanwhile.
            interim = self._by_words(store, "Loading the model…", final=False)
            self.runner.finished.emit(self.generation, interim)
        try:
            encoder = services.load_encoder()
        except ModelUnavailable as e:
            return self._by_words(store, str(e))
        if not self.runner.is_current(self.generation):
            return None
        try:
            searcher = Searcher(store, encoder)
        except ModelMismatch:
            return self._by_words(
                store, "The library is being re-read with the new model; until then, "
                "results are word matches."
            )  # fmt: skip
        hits = searcher.search(parsed, query.limit)
        return Results(query, tuple(hits), seconds=self._elapsed())

    def _by_words(self, store: Store, why: str, final: bool = True) -> Results:
        query = self.query
        if query.image is not None:
            why = f"Searching by picture needs the model. {why}"
            if not query.text.strip():
                return Results(query, words_only=True, note=why)
        closed = query.text + '"' if query.text.count('"') % 2 else query.text
        hits = keyword_search(store, closed, query.kind, query.limit)
        return Results(query, tuple(hits), True, why, final, self._elapsed())

    def _elapsed(self) -> float:
        return time.perf_counter() - self.started
