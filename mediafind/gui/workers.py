"""The search runner: searches off the GUI thread, where a newer query supersedes an older one.
(One-off background work is a job: gui/jobs.py.)"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from mediafind.errors import MediafindError
from mediafind.query import Query
from mediafind.session import Results, Session

log = logging.getLogger(__name__)


# -- searching ----------------------------------------------------------------------------


class SearchRunner(QObject):
    """Runs one search at a time on a thread of its own. Each query gets a generation number;
    a newer query drops the older ones still waiting, and the results of a superseded search
    that was already running are never delivered."""

    finished = Signal(int, object)  # generation, mediafind.session.Results
    failed = Signal(int, str)  # generation, message for the user

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._pool = QThreadPool(self)
        # One thread: searches are short, and the model serialises its own calls anyway.
        self._pool.setMaxThreadCount(1)
        self._generation = 0

    @property
    def generation(self) -> int:
        return self._generation

    def submit(self, query: Query, limit: int) -> int:
        self._generation += 1
        self._pool.clear()
        self._pool.start(_SearchJob(self, query, limit, self._generation))
        return self._generation

    def cancel(self) -> None:
        """Forget the current search: its results will not be delivered."""
        self._generation += 1
        self._pool.clear()

    def is_current(self, generation: int) -> bool:
        return generation == self._generation

    def shutdown(self) -> None:
        self.cancel()
        self._pool.waitForDone(5000)


class _SearchJob(QRunnable):
    def __init__(self, runner: SearchRunner, query: Query, limit: int, generation: int) -> None:
        super().__init__()
        self.runner = runner
        self.query = query
        self.limit = limit
        self.generation = generation

    def run(self) -> None:
        runner, generation = self.runner, self.generation
        if not runner.is_current(generation):
            return

        def deliver(results: Results) -> None:
            if runner.is_current(generation):
                runner.finished.emit(generation, results)

        try:
            results = runner.session.search(
                self.query,
                self.limit,
                interim=deliver,
                current=lambda: runner.is_current(generation),
            )
        except MediafindError as e:
            runner.failed.emit(generation, str(e))
        except Exception as e:
            log.exception("search failed")
            runner.failed.emit(generation, f"The search failed ({type(e).__name__}: {e}).")
        else:
            if results is not None:
                deliver(results)
