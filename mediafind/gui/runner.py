"""The search runner: the window's searches as jobs (gui/jobs.py), where a newer query supersedes
an older one."""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, QThreadPool, Signal

from mediafind.gui.jobs import Job, Report
from mediafind.query import Query
from mediafind.session import Results, Session

log = logging.getLogger(__name__)


class SearchRunner(QObject):
    """Runs one search at a time, as a job on a pool of its own. Each query gets a generation
    number; a newer query quits the older job, whose results are then never delivered (a
    superseded job still waiting for its turn ends without running)."""

    finished = Signal(int, object)  # generation, mediafind.session.Results
    failed = Signal(int, str)  # generation, message for the user

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._pool = QThreadPool(self)
        # One thread: searches are short, and the model serialises its own calls anyway.
        self._pool.setMaxThreadCount(1)
        self._generation = 0
        self._job: Job | None = None
        self._closed = False  # shut down: the window is closing, nothing more is searched
        # The query whose photos the library's relevance cutoff does not hide ("Show all").
        self.uncut: Query | None = None

    @property
    def generation(self) -> int:
        return self._generation

    def submit(self, query: Query, limit: int) -> int:
        self.cancel()
        generation = self._generation
        if self._closed:
            return generation  # e.g. the library's overview arrived as the window closed

        def search(report: Report, stop: threading.Event) -> Results | None:
            # Word matches while the model loads are reported; the final answer is returned.
            current = lambda: not stop.is_set()  # noqa: E731
            return self.session.search(
                query, limit, interim=report, current=current, cutoff=query != self.uncut
            )

        job = Job.reporting(search, "search")
        job.yielded.connect(lambda results: self.finished.emit(generation, results))
        job.returned.connect(lambda results: self._deliver(generation, results))
        job.failed.connect(lambda message: self.failed.emit(generation, message))
        self._job = job.start(self._pool)
        return generation

    def _deliver(self, generation: int, results: Results | None) -> None:
        if results is not None:
            self.finished.emit(generation, results)

    def cancel(self) -> None:
        """Forget the current search: its results will not be delivered."""
        self._generation += 1
        if self._job is not None:
            self._job.quit()
            self._job = None

    def is_current(self, generation: int) -> bool:
        return generation == self._generation

    def shutdown(self) -> None:
        self._closed = True
        self.cancel()
        self._pool.waitForDone(5000)
