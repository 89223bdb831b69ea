"""The desktop around the app: opening files in their own app, showing them in the file manager,
the clipboard, and starting at login."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
from collections.abc import Sequence
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
