"""Thumbnails: made on a thread pool, kept on disk (keyed by path, size, modification time and
pixel size) and in memory (least recently used first out). Views ask; a placeholder shows until
the picture is ready and `ready` says which files to repaint."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QByteArray, QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QImageReader, QImageWriter, QPainter, QPixmap

from mediafind import media, privacy
from mediafind.errors import UnreadableFile, describe

log = logging.getLogger(__name__)

# Decoding threads. Two keep a screenful coming quickly without starving the indexer of the
# two cores a small laptop has.
THREADS = 2
# Pixels kept in memory, all thumbnails together: 64 MB of 32-bit pixels is about 650 thumbnails
# of 160 px on a 2x display, several screenfuls to scroll back through without a reload.
MEMORY_BYTES = 64 * 1024 * 1024
# Thumbnail files are saved as JPEG at this quality: small, and indistinguishable at this size.
JPEG_QUALITY = 85
# Thumbnails that arrive within this time are announced together: one repaint for a screenful
# instead of one per picture, which would keep the GUI thread busy while a grid fills.
BATCH_MS = 40


def cache_key(path: Path, size: int, mtime_ns: int, pixels: int) -> str:
    """A file name for one thumbnail: a changed or replaced file gets a new one."""
    raw = f"{os.fsencode(path).hex()}\0{size}\0{mtime_ns}\0{pixels}".encode()
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def decode(path: Path, pixels: int) -> QImage:
    """The picture at path scaled to fit pixels × pixels, upright (EXIF orientation applied).
    Raises UnreadableFile.

    Qt's reader first: it decodes JPEG at a reduced scale and lets go of Python's lock while it
    works (measured: a third of Pillow's time per thumbnail). Formats it cannot read (HEIC,
    some TIFFs) go through the decoder the indexer uses, and so do camera RAW files, which Qt
    would show as their tiny first thumbnail, or not at all."""
    raw = media.is_raw(path)
    image = QImage() if raw else _read_with_qt(path, pixels)
    if image.isNull():
        try:
            data = path.read_bytes()
        except OSError as e:
            raise UnreadableFile(describe(e)) from e
        picture = media.open_image(data, pixels, raw=raw).image
        picture.thumbnail((pixels, pixels), Image.Resampling.BICUBIC)
        image = to_qimage(picture)
    if image.width() > pixels or image.height() > pixels:
        image = image.scaled(
            pixels,
            pixels,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    return image


def _read_with_qt(path: Path, pixels: int) -> QImage:
    """The picture at path through Qt's reader, at least pixels on its long side where JPEG
    can decode it smaller; a null image when Qt cannot read it."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and (size.width() > pixels or size.height() > pixels):
        # JPEG decodes at 1/2, 1/4 or 1/8 scale far faster than at full size. The scaled size
        # is in the file's own orientation, before EXIF turns it.
        reader.setScaledSize(size.scaled(pixels, pixels, Qt.AspectRatioMode.KeepAspectRatio))
    return reader.read()


def _flatten(image: QImage) -> QImage:
    """JPEG has no transparency: transparent parts go white, as viewers show them."""
    flat = QImage(image.size(), QImage.Format.Format_RGB32)
    flat.fill(QColor("white"))
    painter = QPainter(flat)
    painter.drawImage(0, 0, image)
    painter.end()
    return flat


def to_qimage(picture: Image.Image) -> QImage:
    rgb = picture if picture.mode == "RGB" else picture.convert("RGB")
    raw = rgb.tobytes()
    image = QImage(raw, rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888)
    return image.copy()  # own the pixels: raw goes away with this frame


# Thumbnails are not gui/jobs.py jobs, on purpose. A screenful asks for hundreds at once, and
# they all feed one signals object and one batched `ready` (BATCH_MS); a job each would add a
# QObject and its own hop to the GUI thread per picture, where the batching exists to save GUI
# time. And forget_queue() drops the requests not started yet with QThreadPool.clear(), which
# jobs cannot survive (a job dropped from the queue never finishes); quitting hundreds of queued
# jobs one by one instead would still wake a thread for each.


class _Signals(QObject):
    loaded = Signal(object, int, object)  # path, pixels, QImage or None when unreadable


class _Request(QRunnable):
    def __init__(self, path: Path, pixels: int, folder: Path | None, signals: _Signals) -> None:
        super().__init__()
        self.path = path
        self.pixels = pixels
        self.folder = folder
        self.signals = signals

    def run(self) -> None:
        try:
            image = self._make()
        except (OSError, UnreadableFile) as e:
            log.info("no thumbnail for %s: %s", self.path, e)
            image = None
        except Exception:
            log.warning("no thumbnail for %s", self.path, exc_info=True)
            image = None
        self.signals.loaded.emit(self.path, self.pixels, image)

    def _make(self) -> QImage:
        if self.folder is None:
            return decode(self.path, self.pixels)
        st = self.path.stat()
        key = cache_key(self.path, st.st_size, st.st_mtime_ns, self.pixels)
        cached = self.folder / key[:2] / f"{key}.jpg"
        if cached.is_file():
            image = QImage(str(cached))
            if not image.isNull():
                return image
        image = decode(self.path, self.pixels)
        if image.hasAlphaChannel():
            image = _flatten(image)
        privacy.private_folder(cached.parent)
        tmp = cached.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        writer = QImageWriter(str(tmp), QByteArray(b"jpeg"))
        writer.setQuality(JPEG_QUALITY)
        if writer.write(image):
            privacy.tighten(tmp)  # Qt made it with the umask's mode
            tmp.replace(cached)
        else:
            log.info("cannot keep the thumbnail of %s: %s", self.path, writer.errorString())
            tmp.unlink(missing_ok=True)
        return image


class ThumbnailCache(QObject):
    """Thumbnails of one size for the views. Use from the GUI thread only."""

    ready = Signal(object)  # frozenset of the Paths whose thumbnails arrived (or are broken)

    def __init__(
        self,
        folder: Path | None,
        pixels: int,
        memory_bytes: int = MEMORY_BYTES,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.folder = folder  # None: no disk cache (the big preview pictures)
        if folder is not None:
            privacy.tighten(folder)  # an older version left it open to others
        self._pixels = pixels
        self._memory: OrderedDict[Path, QPixmap] = OrderedDict()
        self._bytes = 0
        self._limit = memory_bytes
        self._asked: set[Path] = set()
        self._broken: set[Path] = set()
        self._ratio = 1.0
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(THREADS)
        self._signals = _Signals(self)
        self._signals.loaded.connect(self._loaded)
        self._arrived: set[Path] = set()
        self._announce = QTimer(self)
        self._announce.setSingleShot(True)
        self._announce.setInterval(BATCH_MS)
        self._announce.timeout.connect(self._announce_arrivals)

    def get(self, path: Path) -> QPixmap | None:
        """The thumbnail, or None while it is being made (or when the file is unreadable:
        see broken). Asking starts making it."""
        pixmap = self._memory.get(path)
        if pixmap is not None:
            self._memory.move_to_end(path)
            return pixmap
        if path not in self._asked and path not in self._broken:
            self._asked.add(path)
            self._pool.start(_Request(path, self._device_pixels(), self.folder, self._signals))
        return None

    def broken(self, path: Path) -> bool:
        return path in self._broken

    def forget_queue(self) -> None:
        """Drop requests not started yet (the results they were for are gone)."""
        self._pool.clear()
        self._asked.clear()

    def wait(self, msecs: int = 10_000) -> bool:
        """Wait for the work in hand (tests and shutdown)."""
        return self._pool.waitForDone(msecs)

    @property
    def pixels(self) -> int:
        """The side thumbnails are made at, in logical pixels."""
        return self._pixels

    @pixels.setter
    def pixels(self, pixels: int) -> None:
        """Thumbnails of another size (the grid's thumbnails grew): those made are let go."""
        if pixels != self._pixels:
            self._pixels = pixels
            self._memory.clear()
            self._bytes = 0
            self.forget_queue()

    @property
    def device_pixel_ratio(self) -> float:
        return self._ratio

    @device_pixel_ratio.setter
    def device_pixel_ratio(self, ratio: float) -> None:
        """The screen's pixels per logical pixel: thumbnails are made at that resolution, so
        that they are sharp on high-DPI screens."""
        if ratio != self._ratio:
            self._ratio = ratio
            self._memory.clear()
            self._bytes = 0
            self.forget_queue()

    def _device_pixels(self) -> int:
        return round(self.pixels * self._ratio)

    def _loaded(self, path: Path, pixels: int, image: QImage | None) -> None:
        self._asked.discard(path)
        if pixels != self._device_pixels():
            return  # made for another screen
        if image is None:
            self._broken.add(path)
        else:
            pixmap = QPixmap.fromImage(image)
            pixmap.setDevicePixelRatio(self._ratio)
            self._store(path, pixmap)
        self._arrived.add(path)
        if not self._announce.isActive():
            self._announce.start()

    def _announce_arrivals(self) -> None:
        arrived, self._arrived = frozenset(self._arrived), set()
        if arrived:
            self.ready.emit(arrived)

    def _store(self, path: Path, pixmap: QPixmap) -> None:
        old = self._memory.pop(path, None)
        if old is not None:
            self._bytes -= _cost(old)
        self._memory[path] = pixmap
        self._bytes += _cost(pixmap)
        while self._bytes > self._limit and len(self._memory) > 1:
            _, evicted = self._memory.popitem(last=False)
            self._bytes -= _cost(evicted)


def _cost(pixmap: QPixmap) -> int:
    return pixmap.width() * pixmap.height() * 4
