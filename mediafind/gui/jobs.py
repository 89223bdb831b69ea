"""Background jobs: work off the GUI thread, its outcome delivered on it as signals, in the shape
of superqt's thread workers (``superqt.utils.thread_worker``).

A job runs one function on a pool thread. Its signals arrive on the thread that made the job
(make jobs on the GUI thread), in this order: ``started``; ``yielded(value)`` for each value a
generator yields (or the work reports, below); then one of ``returned(result)``,
``errored(exception)`` with ``failed(message)`` (the exception as one sentence, from
``errors.describe``), or ``aborted``; and ``finished``, always last. The job keeps itself alive
until then: ``Job(fn).start()`` and forget it.

The work is given in one of the core's two shapes of long work (STYLE 7):

- a function, ``Job(lambda: store.counts())``, or a generator, ``Job(lambda: scan(folder))``:
  each value it yields is delivered as ``yielded``, and what it returns as ``returned``;
- a core function that reports through a callback and stops on a ``threading.Event``, like
  ``weights.download``: ``Job.reporting(work)`` calls ``work(report, stop)``; each
  ``report(value)`` is delivered as ``yielded``, and ``stop`` is set by ``quit()``.

``quit()`` asks the job to stop, cooperatively: a generator is closed at its next yield (its
``finally`` blocks run), a reporting function sees its ``stop`` event set, a plain function runs
to its end. From the moment ``quit()`` returns, nothing the job yields, returns or raises is
delivered, not even a result already on its way to the GUI thread: only ``aborted`` and
``finished`` follow. The check is made on the GUI thread, where ``quit()`` is called, so there is
no window in which a stale result slips through.

That is what a runner whose newer request supersedes the older one needs (the search runner:
a newer query makes the running search's results worthless). It keeps the job it started last,
quits it when a new one comes, and runs its jobs on a pool of its own with one thread, so that a
superseded job still waiting in the queue ends at once when its turn comes, without running::

    class Runner(QObject):
        found = Signal(object)

        def __init__(self, parent: QObject | None = None) -> None:
            super().__init__(parent)
            self._pool = QThreadPool(self)
            self._pool.setMaxThreadCount(1)
            self._job: Job | None = None

        def submit(self, query: Query) -> None:
            self.cancel()
            # A generator: yield word matches while the model loads, return the final results.
            self._job = Job(lambda: search(query))
            self._job.yielded.connect(self.found)
            self._job.returned.connect(self.found)
            self._job.start(self._pool)

        def cancel(self) -> None:
            if self._job is not None:
                self._job.quit()  # nothing of it is delivered from here on

        def shutdown(self) -> None:
            self.cancel()
            self._pool.waitForDone(5000)

Where the runner must also tell its callers which request an answer belongs to, it numbers its
requests itself and binds each job's slots to that number; a superseded job's signals never
fire, so whatever arrives belongs to the current request::

    self._number += 1
    job.returned.connect(lambda results, n=self._number: self.finished.emit(n, results))

Do not ``clear()`` a pool jobs run on: a job dropped from the queue never delivers ``finished``
and is kept alive for good. Quit it instead.

Thumbnails do not use jobs: they are a stream of many small requests feeding one batched
signal (gui/thumbnails.py), not pieces of work each with an outcome for its caller.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable, Generator
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QThreadPool, Signal

from mediafind.errors import MediafindError, describe

log = logging.getLogger(__name__)

T = TypeVar("T")

# What a reporting function is handed to report with.
Report = Callable[[object], None]

# What the working thread sends to the GUI thread, in order.
_STARTED, _YIELDED, _RETURNED, _ERRORED, _ABORTED = range(5)

# Jobs wait here until their finished signal: a job must outlive the thread that runs it, and
# nobody else need keep it.
_alive: set[Job] = set()


class Job(QObject):
    """One function run off the GUI thread; see the module's docstring."""

    started = Signal()
    yielded = Signal(object)
    returned = Signal(object)
    errored = Signal(object)  # the exception
    failed = Signal(str)  # the same, told as one sentence for the user
    aborted = Signal()  # it ended after quit(); nothing it made was delivered
    finished = Signal()  # last, whatever the outcome

    # From the working thread to this object, which lives on the GUI thread: a queued hop.
    _sent = Signal(int, object)

    def __init__(self, work: Callable[[], Any], name: str = "") -> None:
        super().__init__()
        self._work = work
        self.name = name or getattr(work, "__qualname__", "job")
        self._stop = threading.Event()
        self._over = threading.Event()
        self._running = False
        self._sent.connect(self._deliver)

    @classmethod
    def reporting(cls, work: Callable[[Report, threading.Event], Any], name: str = "") -> Job:
        """A job for a core function that reports through a callback and stops on an event:
        work(report, stop); each report(value) is delivered as yielded, quit() sets stop."""
        job: Job

        def run() -> Any:
            return work(job.report, job._stop)

        job = cls(run, name or getattr(work, "__qualname__", "job"))
        return job

    # -- the GUI thread's side -------------------------------------------------------------

    def start(self, pool: QThreadPool | None = None) -> Job:
        """Run on pool (Qt's global one by default); returns the job."""
        self._begin()
        (pool or QThreadPool.globalInstance()).start(self._run)
        return self

    def start_detached(self) -> Job:
        """Run on a daemon thread of its own: for work that may last minutes or wait on the
        network. Qt waits for its pools' threads when the application exits, and a download
        still running then would hold the exit until it ended."""
        self._begin()
        threading.Thread(target=self._run, name=f"mediafind-{self.name}", daemon=True).start()
        return self

    def quit(self) -> None:
        """Ask the job to stop; from now on only aborted and finished are delivered."""
        self._stop.set()

    @property
    def abort_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def running(self) -> bool:
        """Started, and its finished signal not delivered yet."""
        return self._running

    def wait(self, msecs: int = 10_000) -> bool:
        """Wait until the work itself is over (tests and shutdown); its signals may still be on
        their way. False when it is not over in time."""
        return self._over.wait(msecs / 1000)

    def _begin(self) -> None:
        if self._running or self._over.is_set():
            raise RuntimeError(f"the job {self.name} was started already")
        self._running = True
        _alive.add(self)

    def _deliver(self, kind: int, value: object) -> None:
        quit_asked = self._stop.is_set()
        if kind == _STARTED:
            if not quit_asked:
                self.started.emit()
            return
        if kind == _YIELDED:
            if not quit_asked:
                self.yielded.emit(value)
            return
        try:
            if quit_asked or kind == _ABORTED:
                self.aborted.emit()
            elif kind == _RETURNED:
                self.returned.emit(value)
            else:
                assert isinstance(value, BaseException)
                self.errored.emit(value)
                self.failed.emit(describe(value))
        finally:
            self._running = False
            _alive.discard(self)
            self.finished.emit()

    # -- the working thread's side ---------------------------------------------------------

    def report(self, value: object) -> None:
        """Deliver value as yielded (from the work, on its thread)."""
        self._sent.emit(_YIELDED, value)

    def _run(self) -> None:
        try:
            if self._stop.is_set():
                outcome: tuple[int, object] = (_ABORTED, None)  # quit before its turn came
            else:
                self._sent.emit(_STARTED, None)
                result = self._work()
                if inspect.isgenerator(result):
                    result = self._drain(result)
                outcome = (_ABORTED, None) if self._stop.is_set() else (_RETURNED, result)
        except Exception as e:
            if not isinstance(e, MediafindError):
                log.exception("the background job %s failed", self.name)
            outcome = (_ERRORED, e)
        self._sent.emit(*outcome)
        self._over.set()

    def _drain(self, steps: Generator[object, Any, object]) -> object:
        """Run a generator to its end, delivering what it yields; closes it at quit()."""
        while True:
            if self._stop.is_set():
                steps.close()
                return None
            try:
                value = next(steps)
            except StopIteration as end:
                return end.value
            self._sent.emit(_YIELDED, value)


def in_background(
    fn: Callable[[], T],
    done: Callable[[T], None],
    failed: Callable[[str], None] | None = None,
) -> Job:
    """Run fn on Qt's global thread pool; done(result) or failed(message) then runs on the GUI
    thread. Pass bound methods of widgets: Qt drops the call if the widget is gone by then."""
    job = Job(fn)
    job.returned.connect(done)
    if failed is not None:
        job.failed.connect(failed)
    else:
        job.failed.connect(lambda message: log.warning("background task: %s", message))
    return job.start()
