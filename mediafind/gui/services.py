"""The app's long-lived collaborators, built once and handed to the window: the settings, the
library, one model shared by searches and indexing, and the indexing service.

Everything slow (hashing a local model, opening the library for writing, loading the model)
happens on other threads; what they learn reaches the GUI thread through this object's signals.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QTimer, Signal

from mediafind import config
from mediafind.embed import (
    Encoder,
    ModelSpec,
    SharedEncoder,
    check_local_dir,
    default_spec,
    parse_spec,
    spec_identity,
)
from mediafind.errors import ConfigError, MediafindError, ModelUnavailable
from mediafind.service import IDLE, INDEXING, STOPPED, IndexService, Status
from mediafind.store import ModelInfo, Store, decode_path

log = logging.getLogger(__name__)

# Model states, as the window shows them.
MODEL_NOT_LOADED = "not loaded"
MODEL_LOADING = "loading"
MODEL_READY = "ready"
MODEL_MISSING = "missing"

# An unused model is let go after this long (it holds hundreds of MB); loading it again costs a
# few seconds on the next search.
IDLE_RELEASE_SECONDS = 300.0
# How long a restart waits for the old indexing service to finish its batch (off the GUI
# thread). A batch of big photos on a slow CPU takes seconds; past this, the restart reports
# the library as busy and offers to try again.
RESTART_WAIT_SECONDS = 60.0
# How often to look whether the model has been idle that long.
RELEASE_CHECK_MS = 60_000


@dataclass(frozen=True, slots=True)
class LibrarySummary:
    """What the library holds: its watched folders, and counts as Store.counts gives them."""

    folders: list[Path] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Options:
    """What the command line asked for; None means "from the settings"."""

    library: str | None = None
    model: str | None = None
    device: str | None = None
    watch: bool = True  # follow changes in the folders as they happen
    idle_release: float = IDLE_RELEASE_SECONDS


class Services(QObject):
    """Settings, library, model and indexing for one window. Its signals arrive on the GUI
    thread whatever thread caused them."""

    status_changed = Signal(object)  # a mediafind.service.Status
    model_changed = Signal()  # model_state or model_problem changed
    indexing_changed = Signal()  # the indexing service started, stopped or could not start

    def __init__(self, options: Options | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.options = options or Options()
        self.qsettings = QSettings(
            str(config.config_dir() / "window.ini"), QSettings.Format.IniFormat, self
        )
        self._lock = threading.Lock()
        self._generation = 0  # bumped on every (re)start; stale services' reports are dropped
        self.index: IndexService | None = None
        self.starting = False
        self.reembedding = False
        self._complete = False  # the last progress report said every pending file was done
        self._waiting_folders: list[Callable[[IndexService], None]] = []
        self._release_timer = QTimer(self)
        self._release_timer.setInterval(RELEASE_CHECK_MS)
        self._release_timer.timeout.connect(self._release_if_idle)
        self._release_timer.start()
        self._configure()

    # -- configuration --------------------------------------------------------------------

    def _configure(self) -> None:
        """Read the settings and decide library, device and model. Cheap: no hashing, no torch."""
        self.settings_problem: str | None = None
        self.index_problem: str | None = None
        try:
            self.settings = config.load_settings()
        except ConfigError as e:
            self.settings = config.Settings()
            self.settings_problem = f"{e}; using the default settings"
        self.library_dir = config.library_dir(self.options.library, self.settings)
        self.library_file = self.library_dir / config.LIBRARY_FILE
        try:
            self.device = config.chosen_device(self.options.device, self.settings)
        except ConfigError as e:
            self.device = "auto"
            self.settings_problem = str(e)
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
            SharedEncoder(self.spec, self.device, self.options.idle_release)
            if self.spec is not None
            else None
        )

    def _read_library_model(self) -> ModelInfo | None:
        if not self.library_file.exists():
            return None
        try:
            with Store.open(self.library_file) as store:
                return store.model()
        except MediafindError as e:
            self.index_problem = str(e)
            return None

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

    # -- the model ------------------------------------------------------------------------

    def load_encoder(self) -> Encoder:
        """The model, loaded if needed (any thread but the GUI's: this can take seconds).
        Raises ModelUnavailable with a message that says how to fix it."""
        shared = self.encoder
        if shared is None:
            raise ModelUnavailable(self.model_problem or "no model is configured")
        if not shared.loaded:
            self._set_model_state(MODEL_LOADING, None)
        try:
            encoder = shared.get()
        except ModelUnavailable as e:
            self._set_model_state(MODEL_MISSING, str(e))
            raise
        except Exception as e:
            # A broken install (torch missing, a bad wheel): still one readable line.
            log.exception("cannot load the model %s", self.model_text)
            message = f"cannot load the model {self.model_text}: {type(e).__name__}: {e}"
            self._set_model_state(MODEL_MISSING, message)
            raise ModelUnavailable(message) from e
        self._set_model_state(MODEL_READY, None)
        return encoder

    def warm_up(self) -> None:
        """Load the model in the background, so that the first search is quick and a missing
        model is reported before anyone searches."""
        if self.encoder is None or self.encoder.loaded:
            return
        threading.Thread(target=self._warm_up, name="mediafind-warm-up", daemon=True).start()

    def _warm_up(self) -> None:
        with contextlib.suppress(ModelUnavailable):  # reported through model_changed
            self.load_encoder()

    def _set_model_state(self, state: str, problem: str | None) -> None:
        with self._lock:
            if (self.model_state, self.model_problem) == (state, problem):
                return
            self.model_state, self.model_problem = state, problem
        self.model_changed.emit()

    def _release_if_idle(self) -> None:
        shared = self.encoder
        if shared is None or not shared.loaded:
            return

        def release() -> None:
            # SharedEncoder holds its lock while loading: never wait for it on the GUI thread.
            if shared.release_if_idle():
                self._set_model_state(MODEL_NOT_LOADED, None)

        threading.Thread(target=release, name="mediafind-release", daemon=True).start()

    # -- the indexing service -------------------------------------------------------------

    def start(self) -> None:
        """Start indexing in the background; indexing_changed says when it runs (or why not)."""
        with self._lock:
            self._generation += 1
            generation = self._generation
            self.starting = True
        threading.Thread(
            target=self._start_indexing, args=(generation,), name="mediafind-start", daemon=True
        ).start()

    def _start_indexing(self, generation: int) -> None:
        identity = self._identity()
        if self.library_model is not None and identity is not None:
            self.reembedding = self.library_model.identity != identity and self._has_files()
        service = IndexService(
            self.library_file,
            self.load_encoder,
            identity or f"unavailable:{self.model_text}",
            excludes=self.settings.excludes,
            watch=self.options.watch,
            idle_release=self.options.idle_release,
        )
        service.add_listener(lambda status: self._on_status(generation, status))
        problem = None
        try:
            service.start()
        except MediafindError as e:
            problem = str(e)
        except OSError as e:
            problem = f"cannot open the library {self.library_file}: {e.strerror or e}"
        except Exception as e:  # a damaged library file, most often: say so, keep the window
            log.exception("the indexing service could not start")
            problem = f"cannot open the library {self.library_file}: {e}"
        with self._lock:
            if generation != self._generation:  # settings changed meanwhile
                if problem is None:
                    service.stop()
                return
            self.starting = False
            self.index = service if problem is None else None
            self.index_problem = problem
            waiting, self._waiting_folders = self._waiting_folders, []
        if problem is not None:
            log.warning("indexing cannot start: %s", problem)
        else:
            for command in waiting:
                command(service)
        self.indexing_changed.emit()

    def _has_files(self) -> bool:
        try:
            store = self.open_reader()
        except MediafindError:
            return False
        if store is None:
            return False
        with store:
            counts = store.counts()
        return counts["photo"] + counts["note"] + counts["pending"] > 0

    def _identity(self) -> str | None:
        """The identity of the chosen model's vectors (hashes a local model's weights)."""
        if self.spec is None:
            return self.library_model.identity if self.library_model else None
        try:
            return spec_identity(self.spec)
        except ModelUnavailable as e:
            self._set_model_state(MODEL_MISSING, str(e))
            return None

    def _on_status(self, generation: int, status: Status) -> None:
        """From the service's thread."""
        if generation != self._generation:
            return
        if status.state == INDEXING and status.total:
            # The last batch of the re-embedding is in once the service goes idle after it.
            self._complete = status.done >= status.total
        elif status.state == IDLE and self._complete:
            self.reembedding = False
        self.status_changed.emit(status)

    def status(self) -> Status:
        index = self.index
        if index is not None:
            return index.status()
        return Status(STOPPED, message=self.index_problem or "")

    @property
    def indexing(self) -> bool:
        return self.status().state == INDEXING

    def stop(self) -> None:
        """Stop indexing and let the model go (at exit)."""
        self._release_timer.stop()
        with self._lock:
            self._generation += 1
            index, self.index = self.index, None
        if index is not None:
            index.stop()

    def restart(self) -> None:
        """Apply changed settings: stop the service (off the GUI thread), read the settings
        again, start anew."""
        with self._lock:
            self._generation += 1
            generation = self._generation
            old, self.index = self.index, None
            self.starting = True
        self._configure()
        self.model_changed.emit()
        self.indexing_changed.emit()

        def stop_then_start() -> None:
            if old is not None:
                # All the way: its writer lock must be free before the new service opens.
                old.stop(timeout=RESTART_WAIT_SECONDS)
            self._start_indexing(generation)

        threading.Thread(target=stop_then_start, name="mediafind-restart", daemon=True).start()

    def apply_settings(self, settings: config.Settings) -> None:
        config.save_settings(settings)
        self.restart()

    # -- folders --------------------------------------------------------------------------

    def add_folder(self, folder: Path) -> None:
        """Watch a folder and index it (raises MediafindError when the library cannot be
        changed now)."""
        self._on_service(lambda service: service.add_folder(folder))

    def remove_folder(self, folder: Path) -> None:
        self._on_service(lambda service: service.remove_folder(folder))

    def _on_service(self, command: Callable[[IndexService], None]) -> None:
        with self._lock:
            index = self.index
            if index is None and self.starting:
                self._waiting_folders.append(command)
                return
        if index is None:
            raise MediafindError(self.index_problem or "indexing is not running")
        command(index)

    def open_reader(self) -> Store | None:
        """A read-only connection of the caller's own (not for the GUI thread), or None while
        the library does not exist yet."""
        if not self.library_file.exists():
            return None
        return Store.open(self.library_file)

    def summary(self) -> LibrarySummary:
        """The watched folders and the counts (reads the library: not for the GUI thread)."""
        store = self.open_reader()
        if store is None:
            return LibrarySummary()
        with store:
            return LibrarySummary([decode_path(r.path) for r in store.roots()], store.counts())
