"""The model download of a first run: the core against a local stand-in for the Hugging Face
Hub (real HTTP, real huggingface_hub, real cache folder), and the banner and dialog offscreen."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from gui_support import SLOW, WindowMaker, open_window
from huggingface_hub import constants
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from mediafind import weights
from mediafind.embed import parse_spec
from mediafind.errors import ModelUnavailable
from mediafind.gui.download import DownloadDialog, ModelOffer

__all__ = ["open_window"]  # a fixture, used by name

REPO = "laion/CLIP-ViT-B-32-laion2B-s34B-b79K"  # the balanced preset's weights
WEIGHTS = weights.HubWeights(
    "ViT-B-32:laion2b_s34b_b79k",
    REPO,
    ("open_clip_model.safetensors", "open_clip_pytorch_model.bin"),
)
CHUNK = 64 * 1024


class FakeHub:
    """The Hub's resolve endpoint for a few files: HEAD for the metadata, GET for the content,
    sent in chunks, each after `delay` seconds, so that a download can be watched and stopped."""

    def __init__(self, files: dict[tuple[str, str], bytes], delay: float = 0.0) -> None:
        self.files, self.delay = files, delay
        self.gets = 0
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _file(self) -> bytes | None:
                repo, _, rest = self.path.lstrip("/").partition("/resolve/")
                return hub.files.get((repo, rest.partition("/")[2]))

            def _head(self, data: bytes | None) -> None:
                if data is None:
                    self.send_response(404)
                    self.send_header("X-Error-Code", "EntryNotFound")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("X-Repo-Commit", "c" * 40)
                self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()

            def do_HEAD(self) -> None:
                self._head(self._file())

            def do_GET(self) -> None:
                data = self._file()
                self._head(data)
                if data is None:
                    return
                hub.gets += 1
                try:
                    for start in range(0, len(data), CHUNK):
                        time.sleep(hub.delay)
                        self.wfile.write(data[start : start + CHUNK])
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading: a cancelled download

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # conftest.py switches huggingface_hub offline for every test; these talk to a local hub,
    # each with a cache of its own.
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    # Small chunks: progress and cancelling show within a few hundred kilobytes.
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", CHUNK)


@pytest.fixture
def hub(online: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    data = os.urandom(2 * 1024 * 1024)
    server = FakeHub({(REPO, "open_clip_model.safetensors"): data})
    monkeypatch.setattr(weights, "ENDPOINT", server.url)
    yield server
    server.close()


def test_the_presets_weights_are_where_open_clip_fetches_them() -> None:
    assert weights.hub_weights(parse_spec("balanced")) == WEIGHTS
    assert weights.hub_weights(parse_spec("local-dir:/somewhere")) is None


def test_a_download_reports_progress_and_lands_where_open_clip_looks(
    hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, int | None]] = []
    path = weights.download(WEIGHTS, lambda done, total: seen.append((done, total)),
                            cache_dir=tmp_path)  # fmt: skip
    data = hub.files[(REPO, "open_clip_model.safetensors")]
    assert path.read_bytes() == data
    assert seen[0] == (0, len(data)) and seen[-1] == (len(data), len(data))
    assert len(seen) > 10  # chunk by chunk
    assert weights.cached(WEIGHTS, tmp_path) == path
    # open_clip, offline now, finds the file by its own lookup: no second download.
    from open_clip.pretrained import download_pretrained_from_hf

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert Path(download_pretrained_from_hf(REPO, cache_dir=str(tmp_path))) == path


def test_cancelling_stops_the_download_and_leaves_nothing_half_written(
    hub: FakeHub, tmp_path: Path
) -> None:
    hub.delay = 0.01
    cancel = threading.Event()

    def progress(done: int, total: int | None) -> None:
        if done >= 4 * CHUNK:
            cancel.set()

    started = time.monotonic()
    with pytest.raises(weights.DownloadCancelled):
        weights.download(WEIGHTS, progress, cancel, cache_dir=tmp_path)
    assert time.monotonic() - started < 2  # the whole file would take 0.3 s a chunk more
    assert weights.cached(WEIGHTS, tmp_path) is None
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.stat().st_size >= CHUNK]


def test_weights_the_hub_does_not_have_are_a_readable_error(online: None, tmp_path: Path) -> None:
    server = FakeHub({})
    try:
        with pytest.raises(ModelUnavailable, match=r"none of open_clip_model\.safetensors"):
            weights.download(WEIGHTS, cache_dir=tmp_path, endpoint=server.url)
    finally:
        server.close()


def test_an_unreachable_hub_is_told_quickly(online: None) -> None:
    started = time.monotonic()
    assert not weights.hub_reachable("http://127.0.0.1:9", timeout=2)
    assert time.monotonic() - started < 2.5


def _banner(window_maker: WindowMaker, tmp_path: Path, qtbot: QtBot) -> tuple[ModelOffer, str]:
    window = window_maker(tmp_path / "library", model="balanced")
    offer = ModelOffer(window, window.bridge)
    offer.check()
    qtbot.waitUntil(lambda: window.model_banner.isVisible(), timeout=SLOW)
    buttons = window.model_banner.buttons
    labels = [buttons.itemAt(i).widget().text() for i in range(buttons.count())]  # type: ignore[union-attr]
    assert labels == ["Download Model…", "Choose a Model Folder…"]
    return offer, window.model_banner.text.text()


def test_a_first_run_without_the_weights_offers_to_download_them(
    hub: FakeHub, open_window: WindowMaker, tmp_path: Path, qtbot: QtBot
) -> None:
    offer, text = _banner(open_window, tmp_path, qtbot)
    assert "needs its model (ViT-B-32, 2.1 MB)" in text
    assert offer.missing is not None and offer.missing.online


def test_offline_the_banner_says_how_to_get_the_model(
    online: None, open_window: WindowMaker, tmp_path: Path, qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(weights, "ENDPOINT", "http://127.0.0.1:9")
    _, text = _banner(open_window, tmp_path, qtbot)
    assert "no internet connection" in text
    assert "copy a model folder" in text


def test_the_dialog_downloads_with_a_progress_bar(hub: FakeHub, qtbot: QtBot) -> None:
    dialog = DownloadDialog(WEIGHTS, 2 * 1024 * 1024)
    qtbot.addWidget(dialog)
    values: list[int] = []
    dialog.bar.valueChanged.connect(values.append)
    with qtbot.waitSignal(dialog.accepted, timeout=SLOW):
        dialog.show()
    assert values[-1] == 1000 and len(values) > 5
    assert weights.cached(WEIGHTS) is not None


def test_cancel_in_the_dialog_stops_the_download(hub: FakeHub, qtbot: QtBot) -> None:
    hub.delay = 0.05
    dialog = DownloadDialog(WEIGHTS, 2 * 1024 * 1024)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.bar.value() > 0, timeout=SLOW)
    with qtbot.waitSignal(dialog.rejected, timeout=SLOW):
        dialog.cancel_button.click()
    job = dialog._job
    assert job is not None and job.abort_requested
    assert job.wait(10_000)  # the download itself is over, not only the dialog
    assert weights.cached(WEIGHTS) is None


def test_a_failed_download_says_why_and_can_be_tried_again(hub: FakeHub, qtbot: QtBot) -> None:
    data = hub.files.pop((REPO, "open_clip_model.safetensors"))
    dialog = DownloadDialog(WEIGHTS, len(data))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.detail.text().startswith("The download failed"), timeout=SLOW)
    assert "the Hub has none of open_clip_model.safetensors" in dialog.detail.text()
    assert dialog.retry_button.isVisible()
    assert dialog.cancel_button.text() == "Close"
    # The heading says it failed too, not "Downloading…" above the reason.
    assert dialog.windowTitle() == "Download Failed"
    assert "failed" in dialog.title.text() and "Downloading" not in dialog.title.text()
    hub.files[(REPO, "open_clip_model.safetensors")] = data
    with qtbot.waitSignal(dialog.accepted, timeout=SLOW):
        qtbot.mouseClick(dialog.retry_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.title.text().startswith("Downloading"), timeout=SLOW)
    assert weights.cached(WEIGHTS) is not None
