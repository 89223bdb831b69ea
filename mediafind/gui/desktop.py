"""The desktop around the app: opening files in their own app, showing them in the file manager,
the clipboard, and starting at login."""

from __future__ import annotations

import atexit
import configparser
import logging
import os
import re
import shlex
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QMimeData, QProcess, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication, QImage, QImageReader

from mediafind.errors import UnreadableFile

log = logging.getLogger(__name__)

APP_ID = "mediafind"


def open_file(path: Path) -> bool:
    """Open path in the app the system uses for it."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def show_in_folder(path: Path) -> bool:
    """Show the file selected in the system's file manager (or at least its folder)."""
    if sys.platform == "darwin":
        return QProcess.startDetached("open", ["-R", str(path)])[0]
    if os.name == "nt":
        return QProcess.startDetached("explorer.exe", ["/select,", str(path)])[0]
    if _show_items_over_dbus(path):
        return True
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))


def _show_items_over_dbus(path: Path) -> bool:
    """The freedesktop FileManager1 interface selects the file (GNOME Files, Dolphin, Nemo,
    Thunar...)."""
    try:
        from PySide6.QtDBus import QDBusConnection, QDBusInterface, QDBusMessage
    except ImportError:
        return False
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        return False
    manager = QDBusInterface(
        "org.freedesktop.FileManager1",
        "/org/freedesktop/FileManager1",
        "org.freedesktop.FileManager1",
        bus,
    )
    if not manager.isValid():
        return False
    reply = manager.call("ShowItems", [QUrl.fromLocalFile(str(path)).toString()], "")
    return reply.type() != QDBusMessage.MessageType.ErrorMessage


def copy_paths(paths: Sequence[Path]) -> None:
    """Put the files on the clipboard: as files for file managers, as text for editors."""
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    data.setText("\n".join(str(p) for p in paths))
    _to_clipboard(data)


# What this process put on the clipboard, made in Python. Qt deletes the clipboard's contents
# when it shuts down, after Python has finished; deleting an object made in Python then
# crashes the process. So before that, it is swapped for copies Qt makes itself.
_ours: list[QMimeData] = []


def _to_clipboard(data: QMimeData) -> None:
    if not _ours:
        atexit.register(hand_over_clipboard)
    _ours[:] = [data]
    QGuiApplication.clipboard().setMimeData(data)


def hand_over_clipboard() -> None:
    """Swap what was copied for Qt's own copies: the picture, or the paths as text (at exit)."""
    if not _ours or QGuiApplication.instance() is None:
        return
    data = _ours.pop()
    clipboard = QGuiApplication.clipboard()
    if clipboard.mimeData() is not data:
        return  # another app owns the clipboard now; ours is gone already
    image = data.imageData() if data.hasImage() else None
    text = data.text()
    clipboard.clear()
    if isinstance(image, QImage) and not image.isNull():
        clipboard.setImage(image)
    elif text:
        clipboard.setText(text)


def read_image(path: Path) -> QImage:
    """The whole picture, upright. Raises UnreadableFile. Any thread."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    image = reader.read()
    if image.isNull():
        raise UnreadableFile(f"cannot read the picture {path.name}: {reader.errorString()}")
    return image


def copy_image(path: Path, image: QImage) -> None:
    """Put a picture on the clipboard, with its file for apps that prefer files."""
    data = QMimeData()
    data.setImageData(image)
    data.setUrls([QUrl.fromLocalFile(str(path))])
    _to_clipboard(data)


# -- start at login -----------------------------------------------------------------------

# What people do elsewhere: these systems keep the list of login items themselves.
AUTOSTART_ELSEWHERE = {
    "darwin": "On macOS, add mediafind in System Settings › General › Login Items.",
    "win32": "On Windows, put a shortcut to mediafind in the Startup folder "
    "(press Win+R and type shell:startup).",
}


def autostart_supported() -> bool:
    """Linux and the BSDs start apps at login from XDG autostart files."""
    return os.name == "posix" and sys.platform != "darwin"


def autostart_hint() -> str:
    if autostart_supported():
        return "mediafind opens when you log in, so new photos and notes are indexed as they come."
    return AUTOSTART_ELSEWHERE.get(sys.platform, "Your system's own settings start apps at login.")


def autostart_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart" / f"{APP_ID}.desktop"


def autostart_enabled() -> bool:
    path = autostart_file()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return False
    return "Hidden=true" not in text and "X-GNOME-Autostart-enabled=false" not in text


def set_autostart(enabled: bool) -> None:
    """Write or remove the XDG autostart entry (raises OSError)."""
    path = autostart_file()
    if not enabled:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            "Name=mediafind",
            "Comment=Search your own photos and notes",
            f"Exec={_exec_line(launch_command())}",
            f"Icon={APP_ID}",
            "Terminal=false",
            "X-GNOME-Autostart-enabled=true",
            "",
        ]
    )
    tmp = path.with_suffix(".tmp")
    tmp.write_text(entry, encoding="utf-8")
    tmp.replace(path)


def launch_command() -> list[str]:
    """How to start this mediafind again: its own script when installed, else the module."""
    script = shutil.which(APP_ID)
    beside = Path(sys.executable).with_name(APP_ID)
    if beside.is_file():
        return [str(beside)]
    if script:
        return [script]
    return [sys.executable, "-m", APP_ID]


def _exec_line(argv: Sequence[str]) -> str:
    """Quote arguments as the Desktop Entry specification asks."""
    out = []
    for arg in argv:
        if any(c in arg for c in " \t\"'\\><~|&;$*?#()`"):
            escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
            out.append(f'"{escaped}"')
        else:
            out.append(arg)
    return " ".join(out).replace("%", "%%")


# -- opening a document at a page ---------------------------------------------------------

# How the PDF viewers people set as their default are told a page (1-based), by the name of
# their program or of their desktop entry: the arguments that stand where the entry's Exec line
# takes the file. A viewer not here opens the document at its start.
PAGE_ARGUMENTS: dict[str, Callable[[Path, int], list[str]]] = {
    # GNOME's viewer and its MATE and Cinnamon forks
    "evince": lambda path, page: [f"--page-index={page}", str(path)],
    "atril": lambda path, page: [f"--page-index={page}", str(path)],
    "xreader": lambda path, page: [f"--page-index={page}", str(path)],
    "okular": lambda path, page: ["-p", str(page), str(path)],
    "zathura": lambda path, page: ["-P", str(page), str(path)],
    "qpdfview": lambda path, page: [f"{path}#{page}"],
    "mupdf": lambda path, page: [str(path), str(page)],
    # Browsers read PDF.js's (and Chromium's) page fragment.
    "firefox": lambda path, page: [f"{path.as_uri()}#page={page}"],
    "chromium": lambda path, page: [f"{path.as_uri()}#page={page}"],
    "chromium-browser": lambda path, page: [f"{path.as_uri()}#page={page}"],
    "google-chrome": lambda path, page: [f"{path.as_uri()}#page={page}"],
}
# Desktop entries (and Flatpak ids) whose program name says nothing of the viewer.
_ENTRY_NAMES = {
    "org.gnome.evince": "evince",
    "org.gnome.papers": "",  # Evince's successor: no page option yet
    "org.kde.okular": "okular",
    "org.pwmt.zathura": "zathura",
    "org.mozilla.firefox": "firefox",
    "org.chromium.chromium": "chromium",
    "com.google.chrome": "google-chrome",
}
# Exec's field codes (Desktop Entry Specification): where the file goes, and the others, dropped.
_FILE_CODES = ("%f", "%F", "%u", "%U")
_OTHER_CODES = re.compile(r"%[ickdDnNvm]")


def open_at_page(path: Path, page: int) -> bool:
    """Open a document at page (1-based) in the system's viewer for its type, where that
    viewer can be told a page (False elsewhere: the caller opens it plainly). Linux and the
    BSDs only: macOS's Preview and Windows' default apps take no page."""
    if sys.platform == "darwin" or os.name == "nt":
        return False
    command = page_command(path, page)
    if command is None:
        return False
    log.info("opening %s at page %d: %s", path, page, command)
    return QProcess.startDetached(command[0], command[1:])[0]


def open_document(path: Path, page: int | None = None) -> bool:
    """Open a document at page where its viewer can be told it, else in its app plainly."""
    if page is not None and open_at_page(path, page):
        return True
    return open_file(path)


def page_command(path: Path, page: int) -> list[str] | None:
    """The command that opens path at page in the default app for its type, when that app is
    a viewer PAGE_ARGUMENTS knows (None otherwise)."""
    mime = _DOCUMENT_TYPES.get(path.suffix.lower())
    entry = default_app(mime) if mime else None
    if entry is None:
        return None
    exec_line = _desktop_entry_exec(entry)
    if exec_line is None:
        return None
    try:
        words = shlex.split(exec_line)
    except ValueError:
        return None  # unbalanced quotes: not an entry to trust
    viewer = _viewer_name(entry, words)
    arguments = PAGE_ARGUMENTS.get(viewer) if viewer else None
    if arguments is None or not words:
        return None
    command: list[str] = []
    placed = False
    for word in words:
        if word in _FILE_CODES and not placed:
            command += arguments(path, page)
            placed = True
        elif not _OTHER_CODES.fullmatch(word) and word not in _FILE_CODES:
            command.append(word.replace("%%", "%"))
    if not placed:
        command += arguments(path, page)
    return command


# The document types whose viewers can be told a page.
_DOCUMENT_TYPES = {".pdf": "application/pdf"}


def default_app(mime: str) -> Path | None:
    """The desktop entry of the default app for a MIME type, as the freedesktop MIME
    applications specification finds it (what `xdg-mime query default` answers)."""
    for entry_id in _associations(mime):
        for folder in _data_dirs():
            # An id's dashes may stand for subfolders: kde-okular.desktop is kde/okular.desktop.
            for candidate in {entry_id, entry_id.replace("-", "/")}:
                path = folder / "applications" / candidate
                if path.is_file():
                    return path
    return None


def _associations(mime: str) -> list[str]:
    """Desktop entry ids for mime: every list's defaults, then every list's added ones."""
    parsers = []
    for lists in _mimeapps_lists():
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
        try:
            parser.read(lists, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue  # a broken list says nothing
        parsers.append(parser)
    found: list[str] = []
    for section in ("Default Applications", "Added Associations"):
        for parser in parsers:
            if parser.has_option(section, mime):
                found += [i.strip() for i in parser.get(section, mime).split(";") if i.strip()]
    return found


def _mimeapps_lists() -> list[Path]:
    home = Path.home()
    config = [Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")]
    config += [Path(d) for d in (os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":") if d]
    desktops = [d.lower() for d in os.environ.get("XDG_CURRENT_DESKTOP", "").split(":") if d]
    names = [f"{d}-mimeapps.list" for d in desktops] + ["mimeapps.list"]
    lists = [folder / name for folder in config for name in names]
    lists += [folder / "applications" / name for folder in _data_dirs() for name in names]
    return [p for p in lists if p.is_file()]


def _data_dirs() -> list[Path]:
    home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    system = os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share"
    return [home, *(Path(d) for d in system.split(":") if d)]


def _desktop_entry_exec(entry: Path) -> str | None:
    """The Exec line of a desktop entry's main group."""
    try:
        lines = entry.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    group = None
    for line in lines:
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1]
        elif group == "Desktop Entry" and line.startswith("Exec") and "=" in line:
            key, value = line.split("=", 1)
            if key.strip() == "Exec":
                return value.strip()
    return None


def _viewer_name(entry: Path, words: Sequence[str]) -> str | None:
    """Which viewer an entry starts: by its id, or by its program's name (past `env VAR=…`
    and `flatpak run …`)."""
    entry_id = entry.name.removesuffix(".desktop").lower()
    if entry_id in _ENTRY_NAMES:
        return _ENTRY_NAMES[entry_id] or None
    for word in words:
        name = Path(word).name.lower()
        if name in PAGE_ARGUMENTS:
            return name
        if name in _ENTRY_NAMES:  # flatpak run org.gnome.Evince
            return _ENTRY_NAMES[name] or None
    return None
