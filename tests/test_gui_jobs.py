"""Background jobs: what they yield, return or raise arrives on the GUI thread, in order; a job
that was quit delivers nothing more, not even a result already on its way."""

from __future__ import annotations

import gc
import logging
import os
import threading
from collections.abc import Generator, Iterator

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from mediafind.errors import UnreadableFile
from mediafind.gui.jobs import Job, in_background

WAIT_MS = 10_000


def record(job: Job) -> list[tuple[str, object]]:
    """Every signal the job delivers, in order, with the thread it arrived on."""
    seen: list[tuple[str, object]] = []
    gui = threading.get_ident()

    def note(name: str, value: object = None) -> None:
        assert threading.get_ident() == gui, f"{name} arrived off the GUI thread"
        seen.append((name, value))

    job.started.connect(lambda: note("started"))
    job.yielded.connect(lambda value: note("yielded", value))
    job.returned.connect(lambda value: note("returned", value))
    job.failed.connect(lambda message: note("failed", message))
    job.aborted.connect(lambda: note("aborted"))
    job.finished.connect(lambda: note("finished"))
    return seen


def test_a_function_job_returns_its_result_on_the_gui_thread(qtbot: QtBot) -> None:
    job = Job(lambda: threading.get_ident())
    seen = record(job)
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS):
        job.start()
    assert [name for name, _ in seen] == ["started", "returned", "finished"]
    assert seen[1][1] != threading.get_ident()  # the work itself ran elsewhere
    assert not job.running


def test_a_generator_job_delivers_each_value_then_what_it_returns(qtbot: QtBot) -> None:
    def count() -> Generator[int, None, str]:
        yield 1
        yield 2
        return "done"

    job = Job(count)
    seen = record(job)
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS):
        job.start()
    assert seen == [
        ("started", None),
        ("yielded", 1),
        ("yielded", 2),
        ("returned", "done"),
        ("finished", None),
    ]


def test_a_failing_job_says_why_in_one_sentence_and_logs_the_unexpected(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise ValueError("bad value\nand a second line")

    job = Job(broken)
    errors: list[object] = []
    job.errored.connect(errors.append)
    seen = record(job)
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS):
        job.start()
    assert isinstance(errors[0], ValueError)
    assert seen[-2:] == [("failed", "ValueError: bad value"), ("finished", None)]
    assert "failed" in caplog.text and "Traceback" in caplog.text


def test_our_own_errors_are_told_by_their_message_and_not_logged_as_bugs(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    def unreadable() -> None:
        raise UnreadableFile("empty file")

    job = Job(unreadable)
    seen = record(job)
    with caplog.at_level(logging.ERROR), qtbot.waitSignal(job.finished, timeout=WAIT_MS):
        job.start()
    assert ("failed", "empty file") in seen
    assert not caplog.records


def test_quit_closes_a_generator_at_its_next_yield(qtbot: QtBot) -> None:
    going = threading.Event()
    closed = threading.Event()

    def forever() -> Iterator[int]:
        try:
            n = 0
            while True:
                n += 1
                yield n
                going.set()
                threading.Event().wait(0.01)
        finally:
            closed.set()

    job = Job(forever)
    seen = record(job)
    job.start()
    assert going.wait(WAIT_MS / 1000)
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS):
        job.quit()
    assert closed.is_set()
    names = [name for name, _ in seen]
    assert names[-2:] == ["aborted", "finished"] and "returned" not in names


def test_a_result_already_on_its_way_is_not_delivered_after_quit(qtbot: QtBot) -> None:
    job = Job(lambda: "stale")
    seen = record(job)
    job.start()
    # The work ends and sends its result while the GUI thread is busy; then the user moves on.
    assert job.wait(WAIT_MS)
    job.quit()
    qtbot.waitUntil(lambda: not job.running, timeout=WAIT_MS)
    assert seen == [("aborted", None), ("finished", None)]


def test_a_superseded_job_still_queued_never_runs(qtbot: QtBot) -> None:
    pool = QThreadPool()
    pool.setMaxThreadCount(1)
    release = threading.Event()
    ran: list[str] = []
    first = Job(lambda: release.wait(WAIT_MS / 1000))
    second = Job(lambda: ran.append("second"))
    third = Job(lambda: ran.append("third") or "answer")
    seen = record(second)
    answers: list[object] = []
    third.returned.connect(answers.append)
    for job in (first, second, third):
        job.start(pool)
    second.quit()
    release.set()
    qtbot.waitUntil(lambda: answers == ["answer"], timeout=WAIT_MS)
    assert ran == ["third"]
    assert seen == [("aborted", None), ("finished", None)]
    pool.waitForDone(WAIT_MS)


def test_a_reporting_job_reports_through_its_callback_and_stops_on_its_event(
    qtbot: QtBot,
) -> None:
    reported = threading.Event()

    def download(report: object, stop: threading.Event) -> str:
        assert callable(report)
        report((1, 3))
        reported.set()
        stop.wait(WAIT_MS / 1000)
        return "stopped" if stop.is_set() else "timed out"

    job = Job.reporting(download)
    progress: list[object] = []
    job.yielded.connect(progress.append)
    job.start_detached()
    qtbot.waitUntil(lambda: progress == [(1, 3)], timeout=WAIT_MS)
    assert reported.is_set()
    with qtbot.waitSignal(job.aborted, timeout=WAIT_MS):
        job.quit()
    assert job.wait(WAIT_MS)


def test_a_detached_job_runs_on_a_daemon_thread_of_its_own(qtbot: QtBot) -> None:
    job = Job(lambda: (threading.current_thread().name, threading.current_thread().daemon), "t")
    result: list[object] = []
    job.returned.connect(result.append)
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS):
        job.start_detached()
    assert result == [("mediafind-t", True)]


def test_a_started_job_keeps_itself_alive_until_it_has_finished(qtbot: QtBot) -> None:
    arrived: list[object] = []
    release = threading.Event()
    job = Job(lambda: release.wait(WAIT_MS / 1000) and "kept")
    job.returned.connect(arrived.append)
    job.start()
    del job
    gc.collect()
    release.set()
    qtbot.waitUntil(lambda: arrived == ["kept"], timeout=WAIT_MS)


def test_a_job_runs_once() -> None:
    job = Job(lambda: None).start()
    with pytest.raises(RuntimeError, match="started already"):
        job.start()
    assert job.wait(WAIT_MS)


def test_in_background_calls_done_or_failed_with_a_message(qtbot: QtBot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    done = in_background(lambda: "fine", label.setText)
    qtbot.waitUntil(lambda: label.text() == "fine", timeout=WAIT_MS)
    assert not done.running

    def missing() -> bytes:
        return open("/nonexistent/mediafind-test", "rb").read()

    in_background(missing, label.setText, label.setToolTip)
    qtbot.waitUntil(lambda: "/nonexistent/mediafind-test" in label.toolTip(), timeout=WAIT_MS)
    assert label.text() == "fine"


def test_in_background_drops_the_call_when_its_widget_is_gone(qtbot: QtBot) -> None:
    label = QLabel()
    release = threading.Event()
    job = in_background(lambda: release.wait(WAIT_MS / 1000) and "late", label.setText)
    gone: list[bool] = []
    label.destroyed.connect(lambda: gone.append(True))
    label.deleteLater()
    qtbot.waitUntil(lambda: gone == [True], timeout=WAIT_MS)
    release.set()
    # setText on the deleted label would raise, and pytest-qt fails a test on an exception in a
    # slot: a finished job without one proves the call was dropped.
    qtbot.waitUntil(lambda: not job.running, timeout=WAIT_MS)
