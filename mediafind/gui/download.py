"""The model on a first run: when the chosen model's weights are not on this computer yet, a
banner says so and offers to download them (with a progress bar and a Cancel button) or to choose
a model folder; without a connection it says how to get them.

open_clip would download the weights by itself when the first folder is indexed, but without a
word or a way to stop, and a packaged app on an offline machine would only fail then. This checks
first, off the GUI thread (the check imports open_clip, hence torch), a moment after the window
has painted.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import partial
from html import escape

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mediafind import units, weights
from mediafind.gui.bridge import SessionBridge
from mediafind.gui.jobs import Job, Report
from mediafind.gui.notices import INFO, WARNING
from mediafind.gui.window import MainWindow
from mediafind.session import MODEL_READY

log = logging.getLogger(__name__)

# After the window's first paint and the library's warm-up start (app.WARM_UP_DELAY_MS): the
# check imports torch, which would otherwise compete with the first paint.
CHECK_DELAY_MS = 2500
# The progress bar counts permille: QProgressBar's int range is too small for bytes.
STEPS = 1000
# Speed and time left are averaged over this many seconds, so they do not flicker.
RATE_WINDOW_S = 5.0


@dataclass(frozen=True, slots=True)
class Missing:
    """The chosen model's weights are not here; what the banner needs to say so."""

    weights: weights.HubWeights
    online: bool
    size: int | None  # bytes, when the Hub said


def find_missing(bridge: SessionBridge) -> Missing | None:
    """Whether the chosen model must be downloaded (any thread but the GUI's: imports torch).

    The window's one use of the network without a click: only when the chosen model's weights
    are not on this computer (nothing works without them), it asks the Hugging Face Hub whether
    it answers and how big the file is, so that the banner can offer the download with its size
    or say how to get the model offline. A model folder (local-dir:) or downloaded weights never
    reach the network here."""
    spec = bridge.session.spec
    if spec is None:
        return None
    where = weights.hub_weights(spec)
    if where is None or weights.cached(where) is not None:
        return None
    online = weights.hub_reachable()
    return Missing(where, online, weights.remote_size(where) if online else None)


def _size(size: int | None) -> str:
    return units.size(size) if size else "several hundred MB"


class ModelOffer(QObject):
    """Shows the banner when the weights are missing, and runs the download dialog from it."""

    def __init__(self, window: MainWindow, bridge: SessionBridge) -> None:
        super().__init__(window)
        self.window = window
        self.bridge = bridge
        self.missing: Missing | None = None
        self._checking = False
        # After the window's own handler (connected first): a load that failed for want of the
        # weights gets the Download button here too.
        bridge.model_changed.connect(self._on_model_changed)

    def check(self) -> None:
        if self._checking:
            return
        self._checking = True
        bridge = self.bridge
        job = Job(lambda: find_missing(bridge), "model-check")
        job.returned.connect(self._on_found)
        job.failed.connect(self._on_check_failed)
        # Detached: the check may wait on the network, and must not hold the app's exit.
        job.start_detached()

    def _on_check_failed(self, message: str) -> None:
        # A broken install shows up when the model loads, said plainly there.
        log.warning("cannot tell whether the model needs downloading: %s", message)
        self._on_found(None)

    def _on_found(self, missing: Missing | None) -> None:
        self._checking = False
        self.missing = missing
        if missing is not None:
            where = "the Hub answers" if missing.online else "offline"
            log.info("the weights of %s are not on this computer (%s)", missing.weights.spec, where)
            self.show_banner()

    def _on_model_changed(self) -> None:
        missing, bridge = self.missing, self.bridge
        if missing is None:
            return
        if bridge.session.spec is None or bridge.session.spec.text != missing.weights.spec:
            self.missing = None  # another model was chosen: look again
            self.check()
        elif bridge.session.model_state == MODEL_READY:
            self.missing = None  # open_clip fetched the weights itself meanwhile
        elif bridge.session.model_problem:
            self.show_banner()

    def show_banner(self) -> None:
        missing = self.missing
        if missing is None:
            return
        name = escape(missing.weights.label)
        if missing.online:
            text = (
                "<b>One more step: the model.</b> To understand pictures and words, mediafind "
                f"needs its model ({name}, {_size(missing.size)}), downloaded once. "
                "Searching by words works meanwhile."
            )
        else:
            text = (
                "<b>The model is not on this computer, and there is no internet connection.</b> "
                f"Connect and download it ({name}, {_size(missing.size)}), or copy a model "
                "folder (open_clip_config.json and open_clip_model.safetensors) here and choose "
                "it. Searching by words works meanwhile."
            )
        actions = [
            ("Download Model…", self.download),
            ("Choose a Model Folder…", self.window.choose_model_folder),
        ]
        self.window.model_banner.show_message(
            text, actions, kind=INFO if missing.online else WARNING
        )

    def download(self) -> None:
        missing = self.missing
        if missing is None:
            return
        dialog = DownloadDialog(missing.weights, missing.size, self.window)
        finished = dialog.exec() == QDialog.DialogCode.Accepted
        dialog.deleteLater()
        if not finished:
            self.check()  # still missing: the banner again, with the connection as it is now
            return
        self.missing = None
        self.window.model_banner.hide()
        # Read the settings afresh (clears the model problem, restarts indexing that waited for
        # the model) and load the model now, so that the first search is quick.
        self.bridge.session.restart()
        self.bridge.session.warm_up()


class DownloadDialog(QDialog):
    """The download, with its progress, speed and time left; Cancel stops it."""

    def __init__(
        self, where: weights.HubWeights, size: int | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.where = where
        self.setWindowTitle("Download the Model")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        self._heading = (
            f"Downloading the model <b>{escape(where.label)}</b> ({_size(size)}) from "
            "the Hugging Face Hub. It is kept for next time."
        )
        self.title = QLabel(self._heading, self)
        self.title.setWordWrap(True)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, STEPS)
        self.bar.setValue(0)
        self.detail = QLabel("Connecting…", self)
        self.buttons = QDialogButtonBox(self)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.retry_button = QPushButton("Try Again", self)
        self.retry_button.hide()
        self.buttons.addButton(self.retry_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button.clicked.connect(self.cancel)
        self.retry_button.clicked.connect(self.start)
        layout.addWidget(self.title)
        layout.addWidget(self.bar)
        layout.addWidget(self.detail)
        layout.addWidget(self.buttons)
        self._samples: list[tuple[float, int]] = []
        self._job: Job | None = None
        QTimer.singleShot(0, self.start)

    def start(self) -> None:
        if self._job is not None and self._job.running:
            return
        self.setWindowTitle("Download the Model")
        self.title.setText(self._heading)
        self._samples = []
        self.retry_button.hide()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setEnabled(True)
        self.detail.setText("Connecting…")
        job = Job.reporting(partial(_download, self.where), "download")
        job.yielded.connect(self._on_progress)
        job.returned.connect(self._on_done)
        job.failed.connect(self._on_failed)
        job.aborted.connect(self._on_cancelled)
        # Detached: minutes of network, which must not hold the app's exit.
        self._job = job.start_detached()

    def cancel(self) -> None:
        """Stop the download (it ends at its next chunk), or close after a failure."""
        if self._job is None or not self._job.running:
            self.reject()
            return
        self._job.quit()
        self.cancel_button.setEnabled(False)
        self.detail.setText("Cancelling…")

    def reject(self) -> None:
        # Closing the window (Escape, the title bar) cancels too. The download stops at its next
        # chunk; the job outlives the dialog until then.
        if self._job is not None:
            self._job.quit()
        super().reject()

    def _on_done(self) -> None:
        self.accept()

    def _on_cancelled(self) -> None:
        if self.isVisible():  # not closed already (reject() quit the job)
            self.reject()

    def _on_progress(self, progress: tuple[int, int | None]) -> None:
        done, total = progress
        now = time.monotonic()
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[0][0] > RATE_WINDOW_S:
            self._samples.pop(0)
        (t0, d0) = self._samples[0]
        rate = (done - d0) / (now - t0) if now > t0 else 0.0
        if total:
            self.bar.setValue(min(STEPS, done * STEPS // total))
            text = f"{units.size(done)} of {units.size(total)}"
        else:
            self.bar.setRange(0, 0)  # busy indicator: the size is unknown
            text = units.size(done)
        if rate > 0:
            text += f", {units.rate(rate)}"
            if total and done < total:
                text += f", about {units.duration((total - done) / rate)} left"
        self.detail.setText(text)

    def _on_failed(self, message: str) -> None:
        self.setWindowTitle("Download Failed")
        self.title.setText(
            f"<b>The download of the model {escape(self.where.label)} failed.</b> Searching by "
            "words works meanwhile."
        )
        self.bar.setValue(0)
        self.detail.setText(f"The download failed: {message}")
        self.detail.setWordWrap(True)
        self.retry_button.show()
        self.cancel_button.setText("Close")
        self.cancel_button.setEnabled(True)


def _download(where: weights.HubWeights, report: Report, stop: threading.Event) -> None:
    """The download as a job: its progress reported as (bytes done, total bytes or None); it
    raises DownloadCancelled soon after stop is set."""
    weights.download(where, lambda done, total: report((done, total)), stop)


def offer_download(window: MainWindow, bridge: SessionBridge) -> ModelOffer:
    """Check for the model's weights a moment after the window shows, and offer them."""
    offer = ModelOffer(window, bridge)
    QTimer.singleShot(CHECK_DELAY_MS, offer.check)
    return offer
