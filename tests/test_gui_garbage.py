"""Python's reference cycles are collected on the GUI thread only while Qt runs (see
mediafind.gui.garbage): a collection set off by a worker thread's allocations would destroy Qt
objects on that thread."""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from mediafind.gui.garbage import collect_on_gui_thread


class Holder(QObject):
    """A Qt object caught in a reference cycle, saying which thread its Python side died on."""

    def __init__(self, died_on: list[str]) -> None:
        super().__init__()
        self.me = self
        self.died_on = died_on

    def __del__(self) -> None:
        self.died_on.append(threading.current_thread().name)


def churn() -> None:
    """What a thumbnail worker or the indexer does: make and drop many cycles."""
    for _ in range(50_000):
        cycle: list[object] = []
        cycle.append(cycle)


def test_a_cycle_of_qt_objects_dies_on_the_gui_thread_however_busy_the_workers(
    qtbot: QtBot, qapp: QApplication
) -> None:
    collector = collect_on_gui_thread(qapp)
    assert not gc.isenabled()
    died_on: list[str] = []
    Holder(died_on)  # garbage at once, but only a collection can find it
    worker = threading.Thread(target=churn, name="worker")
    worker.start()
    worker.join()
    assert died_on == []  # the worker's allocations did not collect it there
    qtbot.waitUntil(lambda: bool(died_on), timeout=5000)
    assert died_on == [threading.current_thread().name]
    collector.stop()
    assert gc.isenabled()


def test_with_python_collecting_as_usual_the_worker_would_have_collected_it() -> None:
    """The case the collector exists for, shown without it (no QApplication in this test)."""
    assert gc.isenabled()
    died_on: list[str] = []
    Holder(died_on)
    worker = threading.Thread(target=churn, name="worker")
    worker.start()
    worker.join()
    assert died_on == ["worker"]
