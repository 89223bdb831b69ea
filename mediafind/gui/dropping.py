"""Drops and pastes: a picture file, a folder, raw picture data from a browser or the clipboard,
or a picture's web address. Pictures become the query; folders are added to the library."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QByteArray, QMimeData, QObject, QRectF, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QImageWriter,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest
from PySide6.QtWidgets import QWidget

from mediafind import privacy
from mediafind.errors import describe
from mediafind.media import PHOTO_EXTENSIONS

log = logging.getLogger(__name__)

# Pictures dropped as data or fetched from the web are kept for the search; the newest few stay
# (to search by them again), older ones are deleted.
KEEP_QUERY_PICTURES = 20
# A dropped web picture larger than this is refused: it would not be a photo but a mistake.
MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024
DOWNLOAD_TIMEOUT_MS = 20_000
_IMG_SRC = re.compile(r"""<img[^>]+src\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


@dataclass
class Dropped:
    """What a drop held, as far as the window is concerned."""

    folders: list[Path] = field(default_factory=list)
    accepted: bool = False
    message: str = ""


def is_picture(path: Path) -> bool:
    return path.suffix.lower() in PHOTO_EXTENSIONS and path.is_file()


def holds_picture(data: QMimeData) -> bool:
    """Whether pasted data is a picture: pixels, or picture files (Ctrl+V in a file manager)."""
    return data.hasImage() or any(
        u.isLocalFile() and is_picture(Path(u.toLocalFile())) for u in data.urls()
    )


def _remote_url(data: QMimeData) -> QUrl | None:
    """The web address of a picture dragged from a browser: the link itself, or the <img> of
    the HTML fragment browsers add."""
    for url in data.urls():
        if url.scheme() in ("http", "https"):
            return url
    if data.hasHtml():
        found = _IMG_SRC.search(data.html())
        if found and found.group(1).startswith(("http://", "https://")):
            return QUrl(found.group(1))
    return None


class DropReader(QObject):
    """Turns dropped or pasted data into a picture file to search by (image_ready) or folders."""

    image_ready = Signal(object, str)  # the picture's Path, the name to show
    failed = Signal(str)

    def __init__(self, folder: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = folder  # where pictures without a file of their own are kept
        privacy.tighten(folder)  # an older version left it open to others
        self._network: QNetworkAccessManager | None = None

    def accepts(self, data: QMimeData) -> bool:
        if data.hasImage() or _remote_url(data) is not None:
            return True
        return any(u.isLocalFile() for u in data.urls())

    def read(self, data: QMimeData) -> Dropped:
        local = [Path(u.toLocalFile()) for u in data.urls() if u.isLocalFile()]
        folders = [p for p in local if p.is_dir()]
        pictures = [p for p in local if is_picture(p)]
        if pictures:
            self.image_ready.emit(pictures[0], pictures[0].name)
            return Dropped(folders, True)
        if data.hasImage():
            image = QImage(data.imageData())
            if not image.isNull():
                path = self._save(image)
                if path is not None:
                    self.image_ready.emit(path, "pasted picture")
                    return Dropped(folders, True)
        remote = _remote_url(data)
        if remote is not None:
            self._download(remote)
            return Dropped(folders, True, f"Fetching the picture from {remote.host()}…")
        if folders:
            return Dropped(folders, True)
        if local:
            return Dropped(
                [], False, "Drop a picture to search by it, or a folder to add it to mediafind."
            )
        return Dropped()

    def _save(self, image: QImage) -> Path | None:
        try:
            privacy.private_folder(self.folder)
        except OSError as e:
            self.failed.emit(f"Cannot keep the picture for the search: {describe(e)}")
            return None
        raw = bytes(image.constBits())  # the pixels name the file: the same picture, one file
        digest = hashlib.blake2b(raw, digest_size=12).hexdigest()
        path = self.folder / f"picture-{digest}.png"
        if not path.exists() and not QImageWriter(str(path), QByteArray(b"png")).write(image):
            self.failed.emit("Cannot keep the picture for the search (the disk may be full).")
            return None
        privacy.tighten(path)  # Qt made it with the umask's mode
        self._prune()
        return path

    def _save_bytes(self, data: bytes, suffix: str) -> Path:
        privacy.private_folder(self.folder)
        digest = hashlib.blake2b(data, digest_size=12).hexdigest()
        path = self.folder / f"picture-{digest}{suffix}"
        if not path.exists():
            privacy.write_private(path, data)
        self._prune()
        return path

    def _prune(self) -> None:
        try:
            kept = sorted(self.folder.glob("picture-*"), key=lambda p: p.stat().st_mtime)
            for old in kept[:-KEEP_QUERY_PICTURES]:
                old.unlink(missing_ok=True)
        except OSError:
            log.info("cannot tidy %s", self.folder, exc_info=True)

    def _download(self, url: QUrl) -> None:
        if self._network is None:
            self._network = QNetworkAccessManager(self)
        request = QNetworkRequest(url)
        request.setTransferTimeout(DOWNLOAD_TIMEOUT_MS)
        reply = self._network.get(request)

        def progress(received: int, total: int) -> None:
            if max(received, total) > MAX_DOWNLOAD_BYTES:
                reply.abort()

        reply.downloadProgress.connect(progress)
        reply.finished.connect(lambda: self._downloaded(reply, url))

    def _downloaded(self, reply: QNetworkReply, url: QUrl) -> None:
        reply.deleteLater()
        name = Path(url.path()).name or url.host()
        if reply.error() != QNetworkReply.NetworkError.NoError:
            self.failed.emit(f"Cannot fetch the picture {name}: {reply.errorString()}")
            return
        data = bytes(reply.readAll().data())
        image = QImage.fromData(QByteArray(data))
        if image.isNull():
            self.failed.emit(f"{name} is not a picture mediafind can read.")
            return
        suffix = Path(url.path()).suffix.lower()
        try:
            if suffix in PHOTO_EXTENSIONS:
                path = self._save_bytes(data, suffix)
            else:
                saved = self._save(image)
                if saved is None:
                    return
                path = saved
        except OSError as e:
            self.failed.emit(f"Cannot keep the picture for the search: {describe(e)}")
            return
        self.image_ready.emit(path, name)


class DropOverlay(QWidget):
    """Covers the window while something is dragged over it, saying what a drop will do."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()

    def show_over(self) -> None:
        """Cover the parent, above everything in it."""
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        self.raise_()
        self.show()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        veil = QColor(palette.color(QPalette.ColorRole.Window))
        veil.setAlphaF(0.88)
        painter.fillRect(self.rect(), veil)
        frame = QPainterPath()
        frame.addRoundedRect(QRectF(self.rect()).adjusted(16, 16, -16, -16), 16, 16)
        pen = QPen(palette.color(QPalette.ColorRole.Highlight), 3, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawPath(frame)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        painter.setFont(font)
        painter.setPen(palette.color(QPalette.ColorRole.WindowText))
        painter.drawText(
            self.rect(),
            Qt.AlignmentFlag.AlignCenter,
            "Drop a picture to find what matches it\nor a folder to add it to your library",
        )
        painter.end()
