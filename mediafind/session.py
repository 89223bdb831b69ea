"""The application layer that both faces wrap: the window (gui/bridge.py turns its callbacks into
Qt signals) and the command line (cli.py prints what it returns).

A session decides, once for both: which library and model to use (flag → environment →
settings → the library's own model → the default preset), the shared model's life (loaded on
first need, released when idle), the indexing service's life (start, restart on new settings,
stop), what a watched folder's state is, and how a search falls back to word matches when the
model is missing or still loading.

Callbacks are called on whatever thread caused them; nothing here blocks on a GUI.

A search's Results (mediafind.answers) and OpenClipSource (mediafind.sources) are named here
too: the faces and scripts take them from the session, and tests put a fake in place of
mediafind.session.OpenClipSource.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import threading
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from mediafind import config, doctor, roots_rows, status_rows
from mediafind.answers import WORDS_WHILE_LOADING, WORDS_WHILE_REEMBEDDING, by_words, towers_for
from mediafind.answers import Results as Results
from mediafind.embed import (
    TEXT,
    Encoder,
    ModelSpec,
    SharedEncoder,
    Vectors,
    check_local_dir,
    default_spec,
    parse_spec,
)
from mediafind.errors import (
    ConfigError,
    LibraryDamaged,
    LibraryError,
    MediafindError,
    ModelMismatch,
    ModelUnavailable,
    NoLibrary,
    describe,
)
from mediafind.indexer import Indexer, Outcome, ProgressCallback
from mediafind.keeper import IDLE, INDEXING, STOPPED, Keeper, Status, notify, sync
from mediafind.memo import RememberingEncoder, TextMemo
from mediafind.picturetext import ReaderFactory, Reading
from mediafind.query import Query
from mediafind.report import Overview, Progress
from mediafind.rows import NOTE, PHOTO
from mediafind.search import Searcher
from mediafind.sources import ModelSource, default_reader
from mediafind.sources import OpenClipSource as OpenClipSource
from mediafind.store import ModelInfo, Store

log = logging.getLogger(__name__)

T = TypeVar("T")

# Model states, as both faces report them.
MODEL_NOT_LOADED = "not loaded"
MODEL_LOADING = "loading"
MODEL_READY = "ready"
MODEL_MISSING = "missing"

# How long a restart waits for the old indexing service to finish its batch. A batch of big
# photos on a slow CPU takes seconds; past this, the restart reports the library as busy.
RESTART_WAIT_SECONDS = 60.0
# The longest the idle-release check sleeps: the model is let go within this much of its idle
# time running out, and a sleeping check costs nothing.
RELEASE_CHECK_SECONDS = 60.0
# How often a command handed to the indexing service reports its progress while it waits.
PROGRESS_SECONDS = 0.25
# Where searches remember their texts' vectors, in the user cache folder.
QUERY_VECTORS = "query-vectors"
# Unreadable files and notes listed by an overview; the rest are counted. `status --json`
# asks for all of them.
DETAILS_LISTED = 1000


@dataclass(frozen=True, slots=True)
class Options:
    """What the command line asked for; None means "from the settings"."""

    library: str | None = None
    model: str | None = None
    device: str | None = None
    watch: bool = True  # follow changes in the folders as they happen


StatusListener = Callable[[Status], None]
Listener = Callable[[], None]


class Session:
    """One library, its model and its indexing, for one face."""

    def __init__(
        self,
        options: Options | None = None,
        models: ModelSource | None = None,
        *,
        tolerant: bool = False,
        reader_factory: ReaderFactory = default_reader,
    ) -> None:
        """tolerant: a settings file that cannot be read means the defaults, with the problem
        in settings_problem (the window); otherwise ConfigError is raised (the command line).
        reader_factory: makes what reads the text in pictures, on first need."""
        self.options = options or Options()
        self.reader_factory = reader_factory
        self.models: ModelSource = models or OpenClipSource()
        self.tolerant = tolerant
        self._lock = threading.Lock()
        self._generation = 0  # bumped on every (re)start; stale keepers' reports are dropped
        self.index: Keeper | None = None
        self.starting = False
        self.reembedding = False
        self._complete = False  # the last progress report said every pending file was done
        self._waiting: list[Callable[[Keeper], object]] = []
        self._status_listeners: list[StatusListener] = []
        self._model_listeners: list[Listener] = []
        self._indexing_listeners: list[Listener] = []
        self._release_stop = threading.Event()
        self._release_thread: threading.Thread | None = None
        self._search_lock = threading.Lock()
        self._search_store: Store | None = None
        self._nulls: dict[str, dict[str, Vectors]] = {}  # per model: see Searcher
        self._configure()

    # -- listening ------------------------------------------------------------------------

    def on_status(self, listener: StatusListener) -> None:
        """Called with each indexing Status (from the service's thread)."""
        self._status_listeners.append(listener)

    def on_model_changed(self, listener: Listener) -> None:
        """Called when model_state or model_problem changes."""
        self._model_listeners.append(listener)

    def on_indexing_changed(self, listener: Listener) -> None:
        """Called when the indexing service started, stopped or could not start."""
        self._indexing_listeners.append(listener)

    # -- configuration --------------------------------------------------------------------

    def _configure(self) -> None:
        """Read the settings and decide library, device and model. Cheap: no hashing, no torch."""
        self.settings_problem: str | None = None
        self.index_problem: str | None = None
        # The library error behind index_problem, when there is one (the command line exits
        # by its kind).
        self.index_error: MediafindError | None = None
        try:
            self.settings = config.load_settings()
        except ConfigError as e:
            if not self.tolerant:
                raise
            self.settings = config.Settings()
            self.settings_problem = f"{e}; using the default settings"
        self.library_dir = config.library_dir(self.options.library, self.settings)
        self.library_file = self.library_dir / config.LIBRARY_FILE
        try:
            self.device = config.chosen_device(self.options.device, self.settings)
        except ConfigError as e:
            if not self.tolerant:
                raise
            self.device = "auto"
            self.settings_problem = str(e)
        self.idle_release = float(self.settings.model_idle_seconds)
        self.library_model = self._read_library_model()
        chosen = config.chosen_model(self.options.model, self.settings)
        self.model_text = chosen or (
            self.library_model.spec if self.library_model else default_spec()
        )
        self.spec: ModelSpec | None = None
        self.model_problem: str | None = None
        self.model_state = MODEL_NOT_LOADED
        try:
            spec = parse_spec(self.model_text)
            if spec.local_dir is not None:
                check_local_dir(spec)
            self.spec = spec
        except ModelUnavailable as e:
            self.model_problem = str(e)
            self.model_state = MODEL_MISSING
        self.encoder = (
            SharedEncoder(self.spec, self._loader(self.spec), self.idle_release)
            if self.spec is not None
            else None
        )

    def _loader(self, spec: ModelSpec) -> Callable[[], Encoder]:
        device = self.device
        return lambda: self.models.load(spec, device)

    def check_library(self, create: bool) -> bool:
        """Whether the library exists. Raises LibraryError when its place holds something
        else (a file), and NoLibrary when it does not exist and create is False: a command that
        only reads never makes an empty library out of a mistyped path."""
        where, file = self.library_dir, self.library_file
        if where.is_file():
            hint = (
                f"did you mean --library {where.parent}?"
                if where.name == config.LIBRARY_FILE
                else f"a library is a folder that holds {config.LIBRARY_FILE}"
            )
            raise LibraryError(f"{where} is a file, not a library folder; {hint}")
        if file.is_dir():
            raise LibraryError(f"{file} is a folder, not a library file")
        if file.exists() or create:
            return file.exists()
        raise NoLibrary(f"no library at {where}")

    def _read_library_model(self) -> ModelInfo | None:
        if not self.library_file.is_file():  # a folder in its place: check_library says so
            return None
        try:
            with Store.open(self.library_file) as store:
                return store.model()
        except MediafindError as e:
            if not self.tolerant:
                raise
            self.index_problem = str(e)
            return None

    def reading(self) -> Reading | None:
        """Where the text in pictures is read, as the settings say (None: nowhere)."""
        if not self.settings.ocr:
            return None
        folders = tuple(Path(f).expanduser().absolute() for f in self.settings.ocr_folders)
        return Reading(self.reader_factory, folders)

    @property
    def model_locked_by(self) -> str | None:
        """What fixed the model for this session, overriding the settings (or None)."""
        if self.options.model:
            return "--model"
        if os.environ.get(config.ENV_MODEL):
            return config.ENV_MODEL
        return None

    @property
    def library_locked_by(self) -> str | None:
        if self.options.library:
            return "--library"
        if os.environ.get(config.ENV_LIBRARY):
            return config.ENV_LIBRARY
        return None

    def apply_settings(self, settings: config.Settings) -> None:
        """Save new settings and restart with them."""
        config.save_settings(settings)
        self.restart()

    # -- the model ------------------------------------------------------------------------

    def load_encoder(self, towers: Collection[str] = ()) -> Encoder:
        """The model, loaded if needed (not on a GUI thread: this can take seconds), with these
        towers' weights read (TEXT, IMAGE; the others are read when first used). Raises
        ModelUnavailable with a message that says how to fix it."""
        shared = self.encoder
        if shared is None:
            raise ModelUnavailable(self.model_problem or "no model is configured")
        if not shared.loaded:
            self._set_model_state(MODEL_LOADING, None)
        try:
            encoder = shared.get(towers)
        except ModelUnavailable as e:
            self._set_model_state(MODEL_MISSING, str(e))
            raise
        except Exception as e:
            # A broken install (torch missing, a bad wheel): still one readable line.
            log.exception("cannot load the model %s", self.model_text)
            message = f"cannot load the model {self.model_text}: {describe(e)}"
            self._set_model_state(MODEL_MISSING, message)
            raise ModelUnavailable(message) from e
        self._set_model_state(MODEL_READY, None)
        return encoder

    def model_identity(self) -> str:
        """The identity of the chosen model's vectors; raises ModelUnavailable."""
        if self.spec is None:
            raise ModelUnavailable(self.model_problem or "no model is configured")
        return self.models.identity(self.spec)

    def warm_up(self) -> None:
        """Load the model in the background, so that the first search is quick and a missing
        model is reported before anyone searches."""
        if self.encoder is None or self.encoder.loaded:
            return
        threading.Thread(target=self._warm_up, name="mediafind-warm-up", daemon=True).start()

    def _warm_up(self) -> None:
        with contextlib.suppress(ModelUnavailable):  # reported through on_model_changed
            self.load_encoder((TEXT,))  # most searches are words; a picture reads its tower

    def _set_model_state(self, state: str, problem: str | None) -> None:
        with self._lock:
            if (self.model_state, self.model_problem) == (state, problem):
                return
            self.model_state, self.model_problem = state, problem
        notify(self._model_listeners)

    def release_if_idle(self) -> bool:
        """Let the model go if it has been unused for the idle time (settings'
        model_idle_seconds). Returns whether it did."""
        shared = self.encoder
        if shared is None or not shared.release_if_idle():
            return False
        self._set_model_state(MODEL_NOT_LOADED, None)
        return True

    def _release_when_idle(self) -> None:
        """The release thread: wakes now and then to let an unused model go."""
        interval = max(1.0, min(RELEASE_CHECK_SECONDS, self.idle_release / 2))
        while not self._release_stop.wait(interval):
            self.release_if_idle()

    # -- the indexing service -------------------------------------------------------------

    def start(self) -> None:
        """Start indexing in the background; on_indexing_changed says when it runs (or why
        not: index_problem)."""
        with self._lock:
            self._generation += 1
            generation = self._generation
            self.starting = True
        if self._release_thread is None:
            self._release_thread = threading.Thread(
                target=self._release_when_idle, name="mediafind-release", daemon=True
            )
            self._release_thread.start()
        threading.Thread(
            target=self._start_indexing, args=(generation,), name="mediafind-start", daemon=True
        ).start()

    def wait_started(self, timeout: float | None = None) -> bool:
        """Wait until the service runs or could not start (for the command line and tests)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.starting:
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def _start_indexing(self, generation: int) -> None:
        identity = self._identity()
        if self.library_model is not None and identity is not None:
            self.reembedding = self.library_model.identity != identity and self._has_files()
        service = Keeper(
            self.library_file,
            self.load_encoder,
            identity or f"unavailable:{self.model_text}",
            excludes=self.settings.excludes,
            watch=self.options.watch,
            idle_release=self.idle_release,
            reading=self.reading(),
        )
        service.add_listener(lambda status: self._on_status(generation, status))
        problem = None
        self.index_error = None
        try:
            service.start()
        except MediafindError as e:
            problem = str(e)
            self.index_error = e
        except Exception as e:  # a damaged library file, most often: say so, keep going
            if not isinstance(e, OSError):
                log.exception("the keeper could not start")
            problem = f"cannot open the library {self.library_file}: {describe(e, with_file=False)}"
        with self._lock:
            if generation != self._generation:  # settings changed meanwhile
                if problem is None:
                    service.stop()
                return
            self.index = service if problem is None else None
            self.index_problem = problem
            waiting, self._waiting = self._waiting, []
            self.starting = False
        if problem is not None:
            # Each face says it (the window's banner, `watch`'s line): only the log has it here.
            log.info("indexing cannot start: %s", problem)
        else:
            for command in waiting:
                command(service)
        notify(self._indexing_listeners)

    def _has_files(self) -> bool:
        try:
            store = self.open_reader()
        except MediafindError:
            return False
        if store is None:
            return False
        with store:
            counts = store.counts()
        return counts[PHOTO] + counts[NOTE] + counts["pending"] > 0

    def _identity(self) -> str | None:
        """The identity of the chosen model's vectors, or None when it cannot be had."""
        if self.spec is None:
            return self.library_model.identity if self.library_model else None
        try:
            return self.model_identity()
        except ModelUnavailable as e:
            self._set_model_state(MODEL_MISSING, str(e))
            return None

    def _on_status(self, generation: int, status: Status) -> None:
        """From the keeper's thread."""
        if generation != self._generation:
            return
        if status.state == INDEXING and status.total:
            # The last batch of the re-embedding is in once the keeper goes idle after it.
            self._complete = status.done >= status.total
        elif status.state == IDLE and self._complete:
            self.reembedding = False
        notify(self._status_listeners, replace(status, reembedding=self.reembedding))

    def status(self) -> Status:
        index = self.index
        if index is not None:
            return replace(index.status(), reembedding=self.reembedding)
        return Status(STOPPED, message=self.index_problem or "")

    @property
    def indexing(self) -> bool:
        return self.status().state == INDEXING

    def stop(self) -> None:
        """Stop indexing and let the model go (at exit). Listeners hear nothing more: ending
        the model's process fails a load under way, and that news must not reach a window that
        is being torn down (a Qt signal emitted from a thread then crashes the process)."""
        self._release_stop.set()
        for listeners in (self._status_listeners, self._model_listeners, self._indexing_listeners):
            listeners.clear()
        with self._lock:
            self._generation += 1
            index, self.index = self.index, None
        if index is not None:
            index.ask_to_stop()
        if self.encoder is not None:
            self.encoder.close()  # before the wait: an encoder call under way ends with it
        self.models.close()  # and a model still loading
        if index is not None:
            index.stop()
        with self._search_lock:
            if self._search_store is not None:
                self._search_store.close()
                self._search_store = None

    def restart(self) -> None:
        """Apply changed settings: stop the service (on a thread of its own), read the settings
        again, start anew."""
        with self._lock:
            self._generation += 1
            generation = self._generation
            old, self.index = self.index, None
            self.starting = True
        encoder = self.encoder
        self._configure()
        if encoder is not None and self.encoder is not None and encoder.spec == self.encoder.spec:
            encoder.idle_release = self.idle_release
            self.encoder = encoder  # the same model: keep it loaded
        elif encoder is not None:
            encoder.close()
        notify(self._model_listeners)
        notify(self._indexing_listeners)

        def stop_then_start() -> None:
            if old is not None:
                # All the way: its writer lock must be free before the new service opens.
                old.stop(timeout=RESTART_WAIT_SECONDS)
            self._start_indexing(generation)

        threading.Thread(target=stop_then_start, name="mediafind-restart", daemon=True).start()

    def index_now(
        self, folders: Sequence[Path] = (), on_progress: ProgressCallback | None = None
    ) -> Outcome:
        """Watch these folders too, then bring the library in step with every watched folder
        and embed what is new or changed, here and now (the `index` command). When this
        session's indexing service runs, it does the work with its model and this waits for it
        (progress is then reported a few times a second). When the model cannot be had, files
        are made searchable by their words and the outcome says why the rest waits
        (waiting_for_model)."""
        service = self._service()
        if service is not None:
            return self._wait_for(service, service.index_now(folders), on_progress)
        identity = self._identity() or f"unavailable:{self.model_text}"
        with Store.open(self.library_file, writer=True) as store:
            doctor.preflight(store)  # damage found now, before it is written over
            for folder in folders:
                roots_rows.add_root(store, folder)
            indexer = Indexer(
                store,
                self.load_encoder,
                identity,
                on_progress=on_progress,
                reading=self.reading(),
            )
            return sync(indexer, self.settings.excludes)

    # -- the library's health -------------------------------------------------------------

    def check_library_health(self, full: bool = False) -> doctor.Report:
        """What mediafind.doctor finds in the library (reads it: not for a GUI thread)."""
        return doctor.check(self.library_file, full=full, model_identity=self._identity())

    def repair_library(self, full: bool = False) -> doctor.Repaired:
        """Repair what the doctor finds. When this session's indexing service runs, it repairs
        in place on its own thread (it holds the writer lock) and embeds again what the repair
        sends back. A file beyond repair must be replaced: the service is stopped first, the
        file moved aside for a new library, and the service started again on it, which indexes
        the folders anew. Without a service, the repair takes the writer lock itself (raises
        LibraryBusy when another process writes)."""
        identity = self._identity()
        service = self._service()
        if service is not None:
            try:
                return self._wait_for(service, service.repair(full))
            except LibraryDamaged:
                log.warning("the library must be replaced: stopping indexing to do it")
        with self._lock:
            self._generation += 1
            old, self.index = self.index, None
        if old is not None:
            old.stop(timeout=RESTART_WAIT_SECONDS)  # all the way: its lock must be free
        with self._search_lock:  # its connection would follow the file moved aside
            if self._search_store is not None:
                self._search_store.close()
                self._search_store = None
        try:
            return doctor.repair(self.library_file, full=full, model_identity=identity)
        finally:
            if self._release_thread is not None:  # this session runs a service (the window)
                self.restart()

    def write_library(self, work: Callable[[Store], T]) -> T:
        """Make a small write (work, given a write connection): on this session's indexing
        service when it runs (it holds the writer lock), else here; raises LibraryBusy when
        another process writes the library."""
        service = self._service()
        if service is not None:
            return self._wait_for(service, service.write(work))
        with Store.open(self.library_file, writer=True) as store:
            return work(store)

    # -- folders --------------------------------------------------------------------------

    def add_folder(
        self, folder: Path, polling: bool | None = None, *, wait: bool = False
    ) -> Path | None:
        """Watch a folder and index it; return the watched folder that holds it (folder itself,
        or a folder above it that was already watched). When this session's indexing service
        runs (or is starting), it does the work on its thread: without wait (the window), this
        returns None at once; with wait, once the service has the folder. Otherwise the folder
        is written into the library here."""
        if wait and (service := self._service()) is not None:
            return self._wait_for(service, service.add_folder(folder, polling))
        if not wait and self._hand_over(lambda service: service.add_folder(folder, polling)):
            return None
        with Store.open(self.library_file, writer=True) as store:
            root = roots_rows.add_root(store, folder)
            where = root.path
            if where == folder:
                roots_rows.set_root_polling(store, root.id, polling)
            return where

    def remove_folder(self, folder: Path, *, wait: bool = False) -> bool:
        """Stop watching a folder and forget its files (they stay on disk). Returns whether it
        was watched (always True when the indexing service does it without wait)."""
        if wait and (service := self._service()) is not None:
            return self._wait_for(service, service.remove_folder(folder))
        if not wait and self._hand_over(lambda service: service.remove_folder(folder)):
            return True
        with Store.open(self.library_file, writer=True) as store:
            return roots_rows.remove_root(store, folder)

    def retry_files(self, paths: Collection[Path]) -> int:
        """Read files that could not be read once more (after the user fixed them, or for a
        passing fault), first in line; returns how many were waiting to be tried. Needs this
        session's indexing service: it alone may write the library."""
        service = self._service()
        if service is None:
            raise MediafindError(
                "indexing is not running here, so files cannot be tried again: "
                + (self.index_problem or "see the message above the results")
            )
        return service.retry(paths).result()

    def ignore_files(self, paths: Collection[Path]) -> list[str]:
        """Leave these files out of the library from now on: each becomes an exclude pattern
        (its path inside its watched folder) in the settings, and indexing restarts with them.
        Returns the patterns added."""
        store = self.open_reader()
        roots = []
        if store is not None:
            with store:
                roots = [r.path for r in roots_rows.roots(store)]
        patterns = []
        for path in paths:
            root = max((r for r in roots if path.is_relative_to(r)), key=lambda r: len(r.parts),
                       default=None)  # fmt: skip
            if root is None:
                continue
            pattern = glob.escape(path.relative_to(root).as_posix())
            if "/" not in pattern:
                pattern = "/" + pattern  # a path, not a name anywhere
            if pattern not in self.settings.excludes and pattern not in patterns:
                patterns.append(pattern)
        if patterns:
            excludes = (*self.settings.excludes, *patterns)
            self.apply_settings(self.settings.with_changes(excludes=excludes))
        return patterns

    def _service(self) -> Keeper | None:
        """This session's indexing service once it has started; None when none runs here."""
        if self.starting:
            self.wait_started(RESTART_WAIT_SECONDS)
        return self.index

    def _wait_for(
        self, service: Keeper, answer: Future[T], on_progress: ProgressCallback | None = None
    ) -> T:
        """The service's answer, reporting its progress meanwhile."""
        while True:
            try:
                return answer.result(timeout=PROGRESS_SECONDS)
            except TimeoutError:
                status = service.status()
                if on_progress is not None and status.state == INDEXING and status.total:
                    on_progress(Progress(status.done, status.total, status.current,
                                         status.errors, status.rate, status.eta))  # fmt: skip

    def _hand_over(self, command: Callable[[Keeper], object]) -> bool:
        """Give a command to this session's indexing service, now or once it has started.
        False when no service runs or starts here."""
        with self._lock:
            index = self.index
            if index is None and self.starting:
                self._waiting.append(command)
                return True
        if index is None:
            return False
        command(index)
        return True

    # -- reading the library --------------------------------------------------------------

    def open_reader(self) -> Store | None:
        """A read-only connection of the caller's own (not for a GUI thread), or None while
        the library does not exist yet."""
        if not self.library_file.exists():
            return None
        return Store.open(self.library_file)

    def overview(self, listed: int | None = DETAILS_LISTED) -> Overview:
        """The library as it is now (reads it: not for a GUI thread), its folders as this
        session's watcher sees them where it watches. listed: how many unreadable files and
        notes to list (None: all)."""
        store = self.open_reader()
        if store is None:
            return Overview(self.library_file)
        live = self.index.root_states() if self.index is not None else {}
        with store:
            return status_rows.overview(store, self.library_file, live, listed)

    # -- searching ------------------------------------------------------------------------

    def search(
        self,
        query: Query,
        limit: int,
        *,
        interim: Callable[[Results], None] | None = None,
        current: Callable[[], bool] = lambda: True,
        cutoff: bool = True,
    ) -> Results | None:
        """Answer a parsed query with up to limit hits. Without the model (missing, or another
        model's vectors being replaced), the answer is word matches, and says why. interim:
        given word matches at once while the model loads, if wanted. current: asked before the
        slow part; once it says no, the search is dropped and this returns None. cutoff: False
        shows the photos the library's calibrated cutoff would hide (see search.Searcher)."""
        started = time.perf_counter()
        with self._search_lock:
            store = self._reader()
            if store is None:
                return Results(query, limit)
            if query.empty:
                # Filters alone, or nothing: what passes them, newest first. No model needed.
                answer = Searcher(store, None).answer(query, limit)
                seconds = time.perf_counter() - started
                hits = tuple(answer.hits)
                totals, unknown = answer.totals, answer.unknown
                return Results(query, limit, hits, seconds=seconds, totals=totals, unknown=unknown)
            shared = self.encoder
            if shared is None:
                problem = self.model_problem or "the model is not available"
                return by_words(store, query, limit, problem, started)
            if not shared.loaded and not query.images and interim is not None:
                # Loading takes seconds: word matches first, meanwhile.
                interim(by_words(store, query, limit, WORDS_WHILE_LOADING, started, final=False))
            try:
                encoder = self._search_encoder(store, query)
                if not current():
                    return None
                nulls = self._nulls.setdefault(encoder.identity, {})
                answer = Searcher(store, encoder, nulls, cutoff).answer(query, limit)
            except ModelMismatch as e:
                # With the keeper running, it is re-reading the library with this model;
                # otherwise the message says how to search with the library's own model.
                why = WORDS_WHILE_REEMBEDDING if self.index is not None else str(e)
                return by_words(store, query, limit, why, started)
            except ModelUnavailable as e:
                return by_words(store, query, limit, str(e), started)
            seconds = time.perf_counter() - started
            hits = tuple(answer.hits)
            return Results(
                query,
                limit,
                hits,
                seconds=seconds,
                totals=answer.totals,
                hidden=answer.hidden,
                unknown=answer.unknown,
            )

    def _search_encoder(self, store: Store, query: Query) -> Encoder:
        """The encoder for a query: when the library's vectors are this model's, one that
        remembers the vectors of texts searched before (mediafind.memo), opening the model only
        when it must; otherwise the model, with the towers the query needs."""
        info = store.model()
        identity = self.model_identity()
        if self.spec is None or info is None or info.identity != identity:
            return self.load_encoder(towers_for(query))
        memo = TextMemo(config.cache_dir() / QUERY_VECTORS, identity, info.dimension)
        return RememberingEncoder(self.spec.text, identity, info.dimension, memo, self.load_encoder)

    def _reader(self) -> Store | None:
        """The searches' own read connection (opened on first use, again if the library moved)."""
        store = self._search_store
        if store is not None and store.path != self.library_file:
            store.close()
            store = self._search_store = None
        if store is None:
            store = self._search_store = self.open_reader()
        return store
