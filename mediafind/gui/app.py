"""Starting the desktop app: the application object with its name and icon, the theme, one
instance per library, a log file, and a last resort for unexpected errors (logged with their
traceback, shown once as a readable sentence)."""

from __future__ import annotations

import faulthandler
import getpass
import hashlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QDir, QEvent, QLockFile, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFileOpenEvent, QGuiApplication, QPalette
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from mediafind import __version__, config, privacy
from mediafind.errors import ConfigError, describe
from mediafind.gui.bridge import SessionBridge
from mediafind.gui.download import offer_download
from mediafind.gui.garbage import collect_on_gui_thread
from mediafind.gui.icons import app_icon
from mediafind.gui.window import MainWindow
from mediafind.instance import Server
from mediafind.session import OpenClipSource, Options, Session

log = logging.getLogger(__name__)

APP_NAME = "mediafind"
# The reverse-DNS id of packaging/linux/io.github.mediafind.Mediafind.desktop and its metainfo.
DESKTOP_ID = "io.github.mediafind.Mediafind"
# Load the model this long after the window shows, when the library has been indexed before:
# the first search is then quick, and the window has painted long before torch starts loading.
WARM_UP_DELAY_MS = 2000
# The log file is rotated at this size; three old ones are kept.
LOG_BYTES = 1_000_000
ENV_THEME = "MEDIAFIND_THEME"  # "light" or "dark": overrides the system's choice
# Seconds after which the window closes itself: the packaging check (make package-check) starts
# the packaged app offscreen and needs it to paint and then shut down cleanly on its own.
ENV_QUIT_AFTER = "MEDIAFIND_QUIT_AFTER"
PICTURE_MESSAGE = b"picture "  # + the path, from a later start with a picture to open


def log_file() -> Path:
    return config.log_dir() / f"{APP_NAME}.log"


def setup_logging(verbose: bool = False) -> Path | None:
    """mediafind's messages (and others' warnings) go to a rotating log file as well."""
    path = log_file()
    root = logging.getLogger()
    try:
        privacy.private_folder(path.parent)
        handler = privacy.PrivateLogHandler(
            path, maxBytes=LOG_BYTES, backupCount=3, encoding="utf-8"
        )
    except OSError as e:
        log.warning("cannot write the log file %s: %s", path, e)
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(lambda r: r.name.startswith("mediafind") or r.levelno >= logging.WARNING)
    root.addHandler(handler)
    logging.captureWarnings(True)  # Pillow's and watchdog's warnings: to the log file
    if not verbose:
        # The terminal keeps getting warnings only; the file gets what happened.
        for other in root.handlers:
            if other is not handler:
                other.setLevel(max(other.level, logging.WARNING))
    root.setLevel(logging.INFO)
    # A crash in Qt or another native library prints the Python stack of every thread on
    # stderr (a file the log handler may rotate away is no place for it).
    if sys.stderr is not None:
        faulthandler.enable(all_threads=True)
    return path


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, named, with its icon, following the system's light or dark theme."""
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    QApplication.setApplicationName(APP_NAME)
    QApplication.setApplicationDisplayName(APP_NAME)
    QApplication.setOrganizationName(APP_NAME)
    QApplication.setApplicationVersion(__version__)
    # The Wayland app id and the name of the .desktop file the packages install.
    QGuiApplication.setDesktopFileName(DESKTOP_ID)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv or [APP_NAME])
    app.setWindowIcon(app_icon())
    follow_theme(app)
    collect_on_gui_thread(app)
    return app


def follow_theme(app: QApplication) -> None:
    """Light or dark as the system says, also when it changes; MEDIAFIND_THEME overrides.

    Windows, macOS and the desktop style plugins of Linux switch palettes themselves. Where
    the platform reports a dark scheme but leaves the palette light (Qt's plain X11 and
    Wayland themes), Fusion with a dark palette stands in."""
    wanted = {"dark": Qt.ColorScheme.Dark, "light": Qt.ColorScheme.Light}.get(
        os.environ.get(ENV_THEME, "").lower()
    )
    hints = app.styleHints()
    if wanted is not None:
        hints.setColorScheme(wanted)

    def apply(scheme: Qt.ColorScheme) -> None:
        scheme = wanted or scheme
        light = app.palette().color(QPalette.ColorRole.Window).lightness() > 127
        if scheme == Qt.ColorScheme.Dark and light:
            app.setStyle("Fusion")
            app.setPalette(dark_palette())
        elif scheme == Qt.ColorScheme.Light and not light:
            app.setPalette(app.style().standardPalette())

    apply(hints.colorScheme())
    hints.colorSchemeChanged.connect(apply)


def dark_palette() -> QPalette:
    """Fusion's dark colours, with text contrast above 7:1 and a clear selection."""
    palette = QPalette()
    roles = QPalette.ColorRole
    colours = {
        roles.Window: "#2b2b2b",
        roles.WindowText: "#ececec",
        roles.Base: "#1f1f1f",
        roles.AlternateBase: "#2f2f2f",
        roles.ToolTipBase: "#3a3a3a",
        roles.ToolTipText: "#ececec",
        roles.PlaceholderText: "#a3a3a3",
        roles.Text: "#ececec",
        roles.Button: "#363636",
        roles.ButtonText: "#ececec",
        roles.BrightText: "#ff6b6b",
        roles.Light: "#4a4a4a",
        roles.Midlight: "#3e3e3e",
        roles.Mid: "#2e2e2e",
        roles.Dark: "#1a1a1a",
        roles.Shadow: "#000000",
        roles.Highlight: "#3d7bd9",
        roles.HighlightedText: "#ffffff",
        roles.Link: "#7fb0ff",
        roles.LinkVisited: "#b79cff",
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        palette.setColor(disabled, role, QColor("#7a7a7a"))
    palette.setColor(disabled, roles.Highlight, QColor("#4a4a4a"))
    return palette


def instance_name(library: Path) -> str:
    """One instance per user and library: a second window on the same library would only
    compete for the writer lock."""
    digest = hashlib.blake2b(os.fsencode(library), digest_size=6).hexdigest()
    user = "".join(c for c in getpass.getuser() if c.isalnum()) or "user"
    return f"{APP_NAME}-{user}-{digest}"


class SingleInstance(QObject):
    """The first process listens on a local socket; later ones ask it to raise its window and
    leave. A lock file keeps two starts at the same moment from both becoming first."""

    activated = Signal()
    # A picture opened with the app ("Open With", the desktop entry's %f) in a later process:
    # the first one searches by it.
    picture_received = Signal(str)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._lock = QLockFile(QDir.temp().filePath(f"{name}.lock"))
        self._server: QLocalServer | None = None

    def claim(self, picture: Path | None = None) -> bool:
        """True when this process is the first; False after asking the first to show itself
        (and to search by the picture, if one is given)."""
        locked = self._lock.tryLock(3000)
        try:
            socket = QLocalSocket()
            socket.connectToServer(self.name)
            if socket.waitForConnected(500):
                socket.write(b"raise\n")
                if picture is not None:
                    socket.write(PICTURE_MESSAGE + os.fsencode(picture.absolute()) + b"\n")
                socket.waitForBytesWritten(500)
                socket.disconnectFromServer()
                return False
            QLocalServer.removeServer(self.name)  # left behind by a crash
            server = QLocalServer(self)
            server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
            if server.listen(self.name):
                server.newConnection.connect(self._connected)
                self._server = server
            else:
                log.warning("cannot listen as %s: %s", self.name, server.errorString())
            return True
        finally:
            if locked:
                self._lock.unlock()

    def _connected(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.readyRead.connect(lambda s=socket: self._read(s))
            # No deleteLater on disconnect: the sockets stay the server's children (one per
            # later start, a few bytes each). Deleting them here raced PySide's cleanup of the
            # Python side of the socket and crashed the process.
            self.activated.emit()

    def _read(self, socket: QLocalSocket) -> None:
        while socket.canReadLine():
            line = bytes(socket.readLine().data()).rstrip(b"\n")
            if line.startswith(PICTURE_MESSAGE):
                self.picture_received.emit(os.fsdecode(line[len(PICTURE_MESSAGE) :]))

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None


class FileOpenFilter(QObject):
    """macOS hands a picture opened with the app (Finder's Open With, a drop on the Dock icon)
    over as a FileOpen event, not on the command line as Linux and Windows do."""

    opened = Signal(str)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            if event.file():
                self.opened.emit(event.file())
            return True
        return super().eventFilter(watched, event)


def raise_window(window: QWidget) -> None:
    if window.isMinimized():
        window.showNormal()
    window.show()
    window.raise_()
    window.activateWindow()


class ErrorReporter(QObject):
    """sys.excepthook and threading.excepthook: logs the traceback, and shows the first
    unexpected error as a message (never a traceback); later ones only in the status bar."""

    _report = Signal(str)

    def __init__(self, window: MainWindow, log_path: Path | None) -> None:
        super().__init__(window)
        self.window = window
        self.log_path = log_path
        self.shown = False
        self._report.connect(self._show)

    def install(self) -> None:
        sys.excepthook = self.excepthook
        threading.excepthook = self.thread_excepthook

    def excepthook(
        self,
        kind: type[BaseException],
        error: BaseException,
        trace: TracebackType | None,
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        log.critical("unexpected error", exc_info=(kind, error, trace))
        self._report.emit(describe(error))

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        self.excepthook(args.exc_type, args.exc_value, args.exc_traceback)

    def _show(self, message: str) -> None:
        if self.shown:
            self.window.show_message(f"Unexpected problem: {message} (details in the log)")
            return
        self.shown = True
        where = f"\n\nThe details are in the log file:\n{self.log_path}" if self.log_path else ""
        QMessageBox.warning(
            self.window,
            "Something Went Wrong",
            f"mediafind ran into a problem it did not expect, and carries on.\n\n{message}{where}",
        )


def stop_on_signals(app: QApplication) -> None:
    """Ctrl-C in the terminal, or the TERM of a logout or `kill`, closes the window cleanly
    (the indexing service stops within a batch, the window keeps its layout)."""

    def close(*_: object) -> None:
        for widget in app.topLevelWidgets():
            if isinstance(widget, MainWindow):
                widget.close()
        app.quit()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, close)
    # Python runs signal handlers only between bytecodes; Qt's loop runs none while idle.
    # A tick a quarter of a second lets a signal in, at no measurable cost.
    ticker = QTimer(app)
    ticker.setInterval(250)
    ticker.timeout.connect(lambda: None)
    ticker.start()


def run(
    library: str | None = None,
    model: str | None = None,
    device: str | None = None,
    verbose: bool = False,
    picture: Path | None = None,
) -> int:
    """Open the window (searching by picture, if given); returns the exit status."""
    log_path = setup_logging(verbose)
    app = make_application(sys.argv[:1])
    opener = FileOpenFilter(app)
    app.installEventFilter(opener)
    try:
        settings = config.load_settings()
    except ConfigError:
        settings = config.Settings()  # the session reports it in the window
    instance = SingleInstance(instance_name(config.library_dir(library, settings)))
    if not instance.claim(picture):
        log.info("mediafind is already running on this library: raised its window")
        return 0
    options = Options(library=library, model=model, device=device)
    # The model in a process of its own: the window never imports torch, its memory goes back
    # to the system when the model is let go, and quitting does not wait for torch.
    session = Session(options, OpenClipSource(hosted=True), tolerant=True)
    bridge = SessionBridge(session)
    window = MainWindow(bridge)
    instance.activated.connect(lambda: raise_window(window))
    instance.picture_received.connect(lambda path: window.search_by_image(Path(path)))
    opener.opened.connect(lambda path: window.search_by_image(Path(path)))
    ErrorReporter(window, log_path).install()
    stop_on_signals(app)
    window.show()
    if picture is not None:
        window.search_by_image(picture.absolute())
    session.start()
    # The command line in other terminals asks this window (mediafind.instance) instead of
    # loading the model again or being refused the library; Qt-free, on threads of its own.
    server = Server(session)
    server.start()
    session.on_indexing_changed(server.follow)  # a new library in the settings
    if session.library_model is not None:
        QTimer.singleShot(WARM_UP_DELAY_MS, session.warm_up)
    # A first run without the model's weights: the banner offers the download (gui/download.py).
    offer_download(window, bridge)
    log.info("mediafind %s started on %s", __version__, session.library_file)
    quit_after = os.environ.get(ENV_QUIT_AFTER)
    if quit_after:
        QTimer.singleShot(round(float(quit_after) * 1000), window.close)
    code = app.exec()
    server.stop()
    session.stop()
    instance.release()
    log.info("mediafind closed")
    return code
