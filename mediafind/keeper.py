"""The keeper: one thread that owns the write connection and keeps the library in step with the
watched folders — a reconcile scan at start, after sleep and hourly, the watcher's hints as they
come, and the embedding of whatever is pending. The session starts it for the `watch` command and
for the window. It only orchestrates: scan.reconcile writes what the disk says, the Indexer
embeds what is pending.

Everything it is asked to do goes through a queue and happens on its thread; it reports through
listener callbacks (called on its thread: a GUI turns them into signals).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from mediafind import doctor, roots_rows, scan, status_rows
from mediafind.config import DEFAULT_MODEL_IDLE_SECONDS
from mediafind.errors import MediafindError, ModelUnavailable, describe
from mediafind.indexer import EncoderFactory, Indexer, Outcome
from mediafind.picturetext import Reading
from mediafind.report import Progress
from mediafind.store import Root, Store
from mediafind.watch import ChangeSet, Watcher

log = logging.getLogger(__name__)

T = TypeVar("T")

IDLE = "idle"
SCANNING = "scanning"
INDEXING = "indexing"
PAUSED = "paused"
STOPPED = "stopped"

# A full reconcile scan this often catches what watching missed (the watcher gives hints; the
# scan is the truth). Hourly costs a few seconds of disk reads per 100,000 files.
RESCAN_SECONDS = 3600.0
# A wall-clock jump this much larger than the monotonic clock's means the machine slept.
SLEEP_JUMP_SECONDS = 30.0
# How often the idle loop wakes to check timers. Nothing is read from disk on a wake.
TICK_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Status:
    state: str  # idle, scanning, indexing, paused, stopped
    done: int = 0  # files embedded in the current stretch of work
    total: int = 0  # done plus still pending
    current: Path | None = None
    rate: float = 0.0  # files per second
    eta: float | None = None  # seconds
    errors: int = 0  # files that could not be read, in this run
    message: str = ""  # what is going on, or what went wrong, in words
    # The work is re-reading the library for a new model. The session sets it (it knows the
    # model changed), in the status itself, so that a face shows the two together.
    reembedding: bool = False


Listener = Callable[[Status], None]


def notify(listeners: Sequence[Callable[..., object]], *args: object) -> None:
    """Call each listener with args; one that fails is logged and does not stop the others."""
    for listener in listeners:
        try:
            listener(*args)
        except Exception:
            log.exception("a listener failed")


def sync(
    indexer: Indexer,
    excludes: Sequence[str] = (),
    roots: Sequence[Root] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Outcome:
    """Bring the library in step with its watched folders (or these) and embed what is new or
    changed, here and now, once: the `index` command (in its own process, or in the keeper of a
    running instance) and the self-test. When the model cannot be had, the files are still
    recorded and made searchable by their words, and the embedding waits for it
    (outcome.waiting_for_model says why). should_stop: asked between batches."""
    started = time.monotonic()
    if roots is None and not roots_rows.roots(indexer.store):
        raise MediafindError("no watched folders: mediafind index PATH, or folders add PATH")
    outcome = Outcome()
    indexer.queue_text_reading()
    found = scan.reconcile(indexer.store, roots, excludes)
    outcome.add_scan(found)
    if found.wrote or indexer.needs_model():
        try:
            indexer.embed_pending(outcome, should_stop)
        except ModelUnavailable as e:
            indexer.save_words(outcome, should_stop)
            outcome.waiting_for_model = str(e)
    indexer.read_people(should_stop)
    outcome.seconds = time.monotonic() - started
    return outcome


class Keeper:
    """Keeps one library in step with its watched folders, on a thread of its own."""

    def __init__(
        self,
        library: Path,
        encoder_factory: EncoderFactory,
        model_identity: str,
        *,
        excludes: Sequence[str] = (),
        watch: bool = True,
        idle_release: float = DEFAULT_MODEL_IDLE_SECONDS,
        rescan_every: float = RESCAN_SECONDS,
        quiet: float | None = None,
        reading: Reading | None = None,
    ) -> None:
        """reading: where and with what the text in pictures is read (None: nowhere)."""
        self.library = library
        self._reading = reading
        self._factory = encoder_factory
        self._identity = model_identity
        self._excludes = tuple(excludes)
        self._idle_release = idle_release
        self._rescan_every = rescan_every
        self._commands: queue.Queue[Callable[[], None]] = queue.Queue()
        self._changes: list[ChangeSet] = []
        self._changes_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._cancel = threading.Event()
        self._listeners: list[Listener] = []
        self._status = Status(IDLE)
        self._status_lock = threading.Lock()
        self._idle = threading.Event()
        self._started = threading.Event()
        self._failure: BaseException | None = None
        self._errors_seen = 0
        # Files embedded by the earlier runs of this stretch of work (changes that arrive while
        # indexing start another run): added to each run's progress, so that the count and the
        # bar go on from where they were instead of starting again at 0.
        self._stretch_done = 0
        self._run_done = 0  # files embedded by the run in hand
        # Answers promised to callers (add_folder, remove_folder, index_now) and not yet given;
        # once the thread ends, each is failed instead of left waiting forever.
        self._promised: set[Future[Any]] = set()
        self._promised_lock = threading.Lock()
        self._ended = False
        watch_options = {} if quiet is None else {"quiet": quiet}
        self._watcher = Watcher(self._on_changes, **watch_options) if watch else None
        self._store: Store | None = None
        self._indexer: Indexer | None = None
        self._thread = threading.Thread(target=self._run, name="mediafind-index", daemon=True)
        self.outcome = Outcome()

    # -- control (any thread) -------------------------------------------------------------

    def start(self) -> None:
        """Open the library for writing and start; raises LibraryBusy and other library errors
        here, in the caller's thread."""
        self._thread.start()
        self._started.wait()
        if self._failure is not None:
            raise self._failure

    @property
    def failure(self) -> BaseException | None:
        """Why the service could not start, or stopped by itself (None: it did not)."""
        return self._failure

    def stop(self, timeout: float = 5.0) -> None:
        """Stop within one encoder call; what was committed stays, the rest stays pending."""
        self.ask_to_stop()
        self._thread.join(timeout)

    def ask_to_stop(self) -> None:
        """Stop at the next chance, without waiting for it."""
        self._stop.set()
        self._wake.set()

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def status(self) -> Status:
        with self._status_lock:
            return self._status

    def pause(self) -> None:
        self._paused.set()
        self._wake.set()

    def resume(self) -> None:
        self._paused.clear()
        self._wake.set()

    def cancel(self) -> None:
        """Drop the work in hand; files stay pending until the next change or rescan."""
        self._cancel.set()
        self._wake.set()

    def rescan(self) -> None:
        self._do(self._rescan_all)

    def add_folder(self, path: Path, polling: bool | None = None) -> Future[Path]:
        """Watch a folder (polling: as `folders add --polling` says) and index it. The answer is
        the watched folder that holds it (itself, or one above it already watched); it comes
        before the folder is read."""
        answer = self._ask(lambda: self._add_folder(path, polling))
        self._do(self._rescan_all)
        return answer

    def remove_folder(self, path: Path) -> Future[bool]:
        """Stop watching a folder and forget its files; the answer: whether it was watched."""
        return self._ask(lambda: self._remove_folder(path))

    def retry(self, paths: Collection[Path]) -> Future[int]:
        """Read files that could not be read once more, before the backlog; the answer: how
        many were waiting to be tried again."""
        return self._ask(lambda: self._retry(paths))

    def index_now(self, folders: Sequence[Path] = ()) -> Future[Outcome]:
        """Watch these folders too, then do what `mediafind index` does, on this thread and with
        this model: compare every watched folder with the library and embed all that is new or
        changed. The answer is what this run did."""
        return self._ask(lambda: self._index_now(folders))

    def repair(self, full: bool = False) -> Future[doctor.Repaired]:
        """Check the library and repair it in place, on this thread, between two batches: this
        thread holds the write connection and the writer lock, so nothing else writes meanwhile,
        and the files sent back to be embedded are taken up at once. A file beyond repair in
        place fails the answer with LibraryDamaged (stop the keeper, then doctor.repair)."""
        return self._ask(
            lambda: doctor.repair(
                self.library, full=full, model_identity=self._identity, store=self._store
            )
        )

    def write(self, work: Callable[[Store], T]) -> Future[T]:
        """Do a small write (work, given the write connection) on this thread, between two
        batches: the thread holds the writer lock, so nothing else may write meanwhile."""

        def with_store() -> T:
            assert self._store is not None
            return work(self._store)

        return self._ask(with_store)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until nothing is left to do (for tests and one-shot runs)."""
        self._wake.set()
        return self._idle.wait(timeout)

    def _do(self, command: Callable[[], None]) -> None:
        self._idle.clear()
        self._commands.put(command)
        self._wake.set()

    def _ask(self, work: Callable[[], T]) -> Future[T]:
        """Do work on the service thread; its result (or error) comes in the future."""
        answer: Future[T] = Future()

        def command() -> None:
            if not answer.set_running_or_notify_cancel():
                return
            try:
                answer.set_result(work())
            except Exception as e:
                answer.set_exception(e)

        with self._promised_lock:
            if self._ended:
                answer.set_exception(MediafindError("indexing has stopped"))
                return answer
            self._promised.add(answer)
        answer.add_done_callback(self._kept)
        self._do(command)
        return answer

    def _kept(self, answer: Future[T]) -> None:
        with self._promised_lock:
            self._promised.discard(answer)

    def _break_promises(self) -> None:
        with self._promised_lock:
            self._ended = True
            promised, self._promised = self._promised, set()
        for answer in promised:
            if answer.set_running_or_notify_cancel():
                answer.set_exception(MediafindError("indexing stopped before it was done"))

    def _on_changes(self, changes: ChangeSet) -> None:
        """From the watcher's thread."""
        self._idle.clear()
        with self._changes_lock:
            self._changes.append(changes)
        self._wake.set()

    # -- the service thread ---------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._store = Store.open(self.library, writer=True)
        except BaseException as e:
            self._failure = e
            self._started.set()
            return
        self._started.set()
        store = self._store
        self._indexer = Indexer(
            store,
            self._factory,
            self._identity,
            on_progress=self._progress,
            cancel=self._cancel,
            reading=self._reading,
        )
        try:
            if self._watcher is not None:
                self._watcher.start()
                for root in roots_rows.roots(store):
                    self._watch(root)
            self._rescan_all()
            self._loop()
        except MediafindError as e:
            # A library error (damaged, a full disk) says itself in one sentence: the faces
            # show it, and `watch` ends with it.
            log.info("the indexing service stopped: %s", e)
            self._failure = e
            self._set(Status(STOPPED, message=str(e)))
        except Exception:
            log.exception("the indexing service failed")
            self._set(Status(STOPPED, message="indexing stopped after an unexpected error"))
        finally:
            if self._watcher is not None:
                self._watcher.stop()
            store.close()
            self._break_promises()
            self._set(replace(self.status(), state=STOPPED))
            self._idle.set()

    def _loop(self) -> None:
        last_work = time.monotonic()
        last_rescan = time.monotonic()
        wall, mono = time.time(), time.monotonic()
        while not self._stop.is_set():
            self._run_commands()
            self._record_root_states()
            if self._paused.is_set():
                self._set(replace(self.status(), state=PAUSED, message="paused"))
                self._wait(None)
                continue
            if self._cancel.is_set():
                self._cancel.clear()
                with self._changes_lock:
                    self._changes.clear()
                self._set(Status(IDLE, message="cancelled; the rest stays pending"))
                self._idle.set()
                self._wait(TICK_SECONDS)
                continue
            now_wall, now_mono = time.time(), time.monotonic()
            slept = (now_wall - wall) - (now_mono - mono) > SLEEP_JUMP_SECONDS
            wall, mono = now_wall, now_mono
            if slept or now_mono - last_rescan > self._rescan_every:
                log.info("reconciling with the disk (%s)", "after sleep" if slept else "periodic")
                self._rescan_all()
                last_rescan = now_mono
            if self._apply_changes() or self._indexer_has_work():
                self._embed()
                last_work = time.monotonic()
                continue
            self._stretch_done = self._run_done = 0
            self._set(Status(IDLE, errors=self._errors_seen, message=self.status().message))
            self._idle.set()
            assert self._indexer is not None
            if self._indexer.encoder_loaded and time.monotonic() - last_work > self._idle_release:
                log.info("releasing the model after %.0f s idle", self._idle_release)
                self._indexer.release_encoder()
            self._wait(TICK_SECONDS)

    def _wait(self, timeout: float | None) -> None:
        self._wake.wait(timeout)
        self._wake.clear()

    def _run_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            command()

    def _indexer_has_work(self) -> bool:
        assert self._indexer is not None
        return self._indexer.needs_model()

    def _apply_changes(self) -> bool:
        """Turn waiting change sets into pending files (first in line). True if any."""
        with self._changes_lock:
            waiting, self._changes = self._changes, []
        if not waiting:
            return False
        assert self._store is not None
        rescan: set[Path] = set()
        hints: dict[Path, set[Path]] = {}
        for changes in waiting:
            rescan |= changes.rescan
            for root, hinted in changes.paths.items():
                hints.setdefault(root, set()).update(hinted)
        for folder in rescan:
            hints.pop(folder, None)  # walked in full
        roots = [r for r in roots_rows.roots(self._store) if r.path in rescan | hints.keys()]
        self._set(Status(SCANNING, message="looking at changed files"))
        # Files someone just added or changed go before the backlog.
        found = scan.reconcile(self._store, roots, self._excludes, hints=hints, priority=1)
        self._merge_scan(found)
        return True

    def _retry(self, paths: Collection[Path]) -> int:
        assert self._store is not None
        with self._store.atomic():
            return status_rows.retry(self._store, paths)

    def _rescan_all(self) -> None:
        assert self._store is not None
        self._set(Status(SCANNING, message="comparing folders with the library"))
        assert self._indexer is not None
        self._indexer.queue_text_reading()  # reading turned on or off: those files again
        self._merge_scan(scan.reconcile(self._store, excludes=self._excludes))
        self._indexer.read_people(self._should_yield)  # photos indexed before people were read

    def _merge_scan(self, found: scan.Reconciled) -> None:
        outcome = Outcome()
        outcome.add_scan(found)
        self._merge(outcome)

    def _embed(self) -> None:
        assert self._indexer is not None
        outcome = Outcome()
        self._stretch_done += self._run_done  # a new run goes on from where the last one ended
        self._run_done = 0
        self._set(replace(self.status(), state=INDEXING, message="indexing"))
        try:
            self._indexer.embed_pending(outcome, should_stop=self._should_yield)
        except Exception as e:
            # Most often the model cannot be loaded (offline, missing folder): say so, make the
            # files searchable by their words meanwhile, keep them pending, and try again when
            # something changes.
            message = str(e) if isinstance(e, MediafindError) else f"indexing failed: {describe(e)}"
            if isinstance(e, ModelUnavailable):
                self._indexer.save_words(outcome, should_stop=self._should_yield)
                self._merge(outcome)
            elif not isinstance(e, MediafindError):
                log.exception("indexing failed")
            self._set(Status(IDLE, errors=self._errors_seen, message=message))
            self._idle.set()
            self._wait(None)
            return
        self._merge(outcome)

    def _should_yield(self) -> bool:
        """Stop the backlog for: a stop, a pause, a cancel, a command, or fresh changes."""
        if self._stop.is_set() or self._paused.is_set() or self._cancel.is_set():
            return True
        if not self._commands.empty():
            return True
        with self._changes_lock:
            return bool(self._changes)

    def _merge(self, outcome: Outcome) -> None:
        self._errors_seen += len(outcome.errors)
        previous = self.outcome
        self.outcome = Outcome(
            indexed=previous.indexed + outcome.indexed,
            reused=previous.reused + outcome.reused,
            moved=previous.moved + outcome.moved,
            removed=previous.removed + outcome.removed,
            unchanged=outcome.unchanged or previous.unchanged,
            errors=previous.errors + outcome.errors,
            walk_errors=outcome.walk_errors or previous.walk_errors,
            offline=outcome.offline or previous.offline,
            model_reset=previous.model_reset or outcome.model_reset,
        )

    def _progress(self, p: Progress) -> None:
        self._run_done = p.done
        self._set(
            Status(
                INDEXING,
                done=self._stretch_done + p.done,
                total=self._stretch_done + p.total,
                current=p.current,
                rate=p.rate,
                eta=p.eta,
                errors=self._errors_seen + p.errors,
                message="indexing",
            )
        )

    def _set(self, status: Status) -> None:
        with self._status_lock:
            if status == self._status:
                return
            self._status = status
        notify(self._listeners, status)

    # -- folders --------------------------------------------------------------------------

    def _watch(self, root: Root) -> None:
        if self._watcher is None or self._store is None:
            return
        folder = root.path
        state = self._watcher.watch(folder, root.polling)
        note = self._watcher.states().get(folder, (state, ""))[1]
        roots_rows.set_root_state(self._store, root.id, state, note)

    def _add_folder(self, path: Path, polling: bool | None = None) -> Path:
        assert self._store is not None
        root = roots_rows.add_root(self._store, path)
        if root.path == path:
            roots_rows.set_root_polling(self._store, root.id, polling)
            root = replace(root, polling=polling)
        self._watch(root)
        return root.path

    def _remove_folder(self, path: Path) -> bool:
        assert self._store is not None
        if self._watcher is not None:
            self._watcher.unwatch(path)
        return roots_rows.remove_root(self._store, path)

    def _index_now(self, folders: Sequence[Path]) -> Outcome:
        assert self._indexer is not None
        for folder in folders:
            self._add_folder(folder)
        self._set(Status(SCANNING, message="comparing folders with the library"))
        outcome = sync(self._indexer, self._excludes, should_stop=self._stop.is_set)
        self._merge(outcome)
        return outcome

    def _record_root_states(self) -> None:
        """Write the watcher's view of each folder into the library, for `status` and for
        other processes."""
        if self._watcher is None or self._store is None:
            return
        states = self._watcher.states()
        stored = roots_rows.root_states(self._store)
        for root in roots_rows.roots(self._store):
            seen = states.get(root.path)
            if seen is not None and stored.get(root.id) != seen:
                roots_rows.set_root_state(self._store, root.id, *seen)

    def root_states(self) -> dict[Path, tuple[str, str]]:
        """Live, polling or offline per watched folder, with the reason."""
        if self._watcher is None:
            return {}
        return self._watcher.states()
