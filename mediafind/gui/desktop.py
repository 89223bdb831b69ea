"""The desktop around the app: opening files in their own app (or one the user chooses),
showing them in the file manager, the trash, the clipboard, and starting at login."""

from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QMimeData, QMimeDatabase, QProcess, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication, QImage, QImageReader

from mediafind import media
from mediafind.errors import UnreadableFile, describe
from mediafind.gui.thumbnails import to_qimage

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


# -- open with ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class App:
    """An application that says it opens a kind of file (a freedesktop desktop entry)."""

    name: str
    command: tuple[str, ...]  # Exec, split into arguments, field codes (%f, %U...) kept
    entry: Path  # the .desktop file
    icon: str = ""


def apps_for(path: Path) -> list[App]:
    """The applications whose desktop entries declare the file's type (or one it is a kind
    of), the user's default first, as the freedesktop specifications arrange them (Linux and
    the BSDs; elsewhere the system's own Open With is used)."""
    types = _mime_types(path)
    entries = _desktop_entries()
    default, added, removed = _associations(types)
    chosen: dict[str, App] = {}
    for entry_id in default + added:
        app = entries.get(entry_id)
        if app is not None and entry_id not in chosen:
            chosen[entry_id] = app[0]
    declared = [
        app
        for entry_id, (app, handled) in entries.items()
        if entry_id not in chosen and entry_id not in removed and _declares(handled, types)
    ]
    declared.sort(key=lambda app: app.name.casefold())
    return [*chosen.values(), *declared]


def open_with(path: Path, app: App) -> bool:
    """Start app on path, as its desktop entry's Exec line says."""
    argv = exec_arguments(app, path)
    return bool(argv) and QProcess.startDetached(argv[0], argv[1:])[0]


def open_with_program(path: Path, program: Path) -> bool:
    """Start a program the user picked, with the file as its argument (on macOS, an .app)."""
    if sys.platform == "darwin":
        return QProcess.startDetached("open", ["-a", str(program), str(path)])[0]
    return QProcess.startDetached(str(program), [str(path)])[0]


def system_open_with(path: Path) -> bool:
    """Windows' own Open With dialog (False elsewhere: there, apps_for lists the apps)."""
    if os.name == "nt":
        return QProcess.startDetached("rundll32.exe", ["shell32.dll,OpenAs_RunDLL", str(path)])[0]
    return False


def exec_arguments(app: App, path: Path) -> list[str]:
    """The command line for opening path: the Exec field codes filled in (%f and %F the file,
    %u and %U its URL, %c the name, %i the icon, %k the entry); a command that takes no file
    gets it at the end."""
    url = QUrl.fromLocalFile(str(path)).toString()
    argv: list[str] = []
    took_file = False
    for arg in app.command:
        codes = re.findall(r"%(.)", arg)
        took_file = took_file or any(c in "fFuU" for c in codes)
        if arg == "%i":
            argv.extend(["--icon", app.icon] if app.icon else [])
            continue
        filled = re.sub(r"%(.)", lambda m: _field(m.group(1), app, path, url), arg)
        if filled or not codes:  # a field code with nothing to say is dropped, not left empty
            argv.append(filled)
    if not took_file:
        argv.append(str(path))
    return argv


def _field(code: str, app: App, path: Path, url: str) -> str:
    fields = {"%": "%", "c": app.name, "k": str(app.entry)}
    fields.update({"f": str(path), "F": str(path), "u": url, "U": url})
    return fields.get(code, "")  # %d, %n, %m... are deprecated: removed


def _mime_types(path: Path) -> list[str]:
    """The file's MIME type, its aliases and the types it is a kind of (image/png: image/*...)."""
    kind = QMimeDatabase().mimeTypeForFile(str(path))
    return [kind.name(), *kind.aliases(), *kind.allAncestors()]


def _declares(handled: frozenset[str], types: Sequence[str]) -> bool:
    if any(t in handled for t in types):
        return True
    groups = {t.split("/", 1)[0] + "/*" for t in types[:1]}
    return bool(groups & handled)


def _data_dirs() -> list[Path]:
    home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    rest = os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share"
    return [Path(home), *(Path(d) for d in rest.split(":") if d)]


def _config_dirs() -> list[Path]:
    home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    rest = os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    return [Path(home), *(Path(d) for d in rest.split(":") if d)]


def _desktop_entries() -> dict[str, tuple[App, frozenset[str]]]:
    """Every application's desktop entry by its id, with the MIME types it declares. An id
    found in an earlier data folder hides the same id in later ones (the user's own first)."""
    entries: dict[str, tuple[App, frozenset[str]]] = {}
    hidden: set[str] = set()
    for folder in (d / "applications" for d in _data_dirs()):
        for file in sorted(folder.rglob("*.desktop")) if folder.is_dir() else []:
            entry_id = str(file.relative_to(folder)).replace(os.sep, "-")
            if entry_id in entries or entry_id in hidden:
                continue
            keys = _read_entry(file)
            app = _app(file, keys)
            if app is None:
                hidden.add(entry_id)
                continue
            handled = frozenset(t for t in keys.get("MimeType", "").split(";") if t)
            entries[entry_id] = (app, handled)
    return entries


def _app(file: Path, keys: dict[str, str]) -> App | None:
    """The application an entry describes; None for one that is hidden, not an application, or
    whose program is not installed."""
    if keys.get("Type") != "Application" or keys.get("Hidden") == "true":
        return None
    command = _split_exec(keys.get("Exec", ""))
    try_exec = keys.get("TryExec")
    if not command or (try_exec and shutil.which(try_exec) is None):
        return None
    name = keys.get("Name") or file.stem
    return App(name, tuple(command), file, keys.get("Icon", ""))


def _read_entry(file: Path) -> dict[str, str]:
    """The keys of a desktop entry's [Desktop Entry] group (unlocalised), escapes undone."""
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        log.info("cannot read %s: %s", file, e)
        return {}
    keys: dict[str, str] = {}
    group = ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1]
        elif group == "Desktop Entry" and "=" in line and not line.startswith("#"):
            key, value = (part.strip() for part in line.split("=", 1))
            keys.setdefault(key, _unescape(value))
    return keys


def _unescape(value: str) -> str:
    codes = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: codes.get(m.group(1), "\\" + m.group(1)), value)


def _split_exec(value: str) -> list[str]:
    """Exec's arguments: separated by spaces, quoted in double quotes, in which \\ escapes
    ", `, $ and \\ (the Desktop Entry specification's rules)."""
    argv: list[str] = []
    current: list[str] = []
    quoted = started = False
    chars = iter(value)
    for c in chars:
        if quoted:
            if c == "\\":
                current.append(next(chars, ""))
            elif c == '"':
                quoted = False
            else:
                current.append(c)
        elif c == '"':
            quoted = started = True
        elif c in " \t":
            if started or current:
                argv.append("".join(current))
            current, started = [], False
        else:
            current.append(c)
    if started or current:
        argv.append("".join(current))
    return argv


def _associations(types: Sequence[str]) -> tuple[list[str], list[str], set[str]]:
    """(default, added, removed) desktop entry ids for these types, from the mimeapps.list
    files: the user's before the system's."""
    desktops = [d.lower() for d in os.environ.get("XDG_CURRENT_DESKTOP", "").split(":") if d]
    names = [f"{d}-mimeapps.list" for d in desktops] + ["mimeapps.list"]
    lists = [d / name for d in _config_dirs() for name in names]
    lists += [d / "applications" / name for d in _data_dirs() for name in names]
    default: list[str] = []
    added: list[str] = []
    removed: set[str] = set()
    for file in lists:
        groups = _read_groups(file)
        for kind in types:
            default += groups.get("Default Applications", {}).get(kind, [])
            added += groups.get("Added Associations", {}).get(kind, [])
            removed |= set(groups.get("Removed Associations", {}).get(kind, []))
    return [i for i in default if i not in removed], [i for i in added if i not in removed], removed


def _read_groups(file: Path) -> dict[str, dict[str, list[str]]]:
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    groups: dict[str, dict[str, list[str]]] = {}
    group: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            group = groups.setdefault(line[1:-1], {})
        elif "=" in line and not line.startswith("#"):
            key, value = (part.strip() for part in line.split("=", 1))
            group.setdefault(key, []).extend(i for i in value.split(";") if i)
    return groups


# -- trash --------------------------------------------------------------------------------


def move_to_trash(paths: Sequence[Path]) -> tuple[list[Path], str]:
    """Move files to the system's trash, one by one, stopping at the first that cannot go:
    (those moved, why the next could not: "" when all went). Deletes nothing itself."""
    from send2trash import send2trash  # loaded on first use: most sessions trash nothing

    moved: list[Path] = []
    for path in paths:
        try:
            send2trash(path)
        except Exception as e:  # send2trash raises OSError and its own errors, by platform
            log.info("cannot move %s to the trash: %s", path, e)
            return moved, describe(e)
        moved.append(path)
    return moved, ""


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


# A camera RAW file is shown this large on its short side (a 4K screen's height): its embedded
# preview when that is as large, else its sensor data developed, which takes seconds.
RAW_VIEW_SIDE = 2160


def read_image(path: Path) -> QImage:
    """The whole picture, upright (a camera RAW file: RAW_VIEW_SIDE on its short side at
    most). Raises UnreadableFile. Any thread."""
    if media.is_raw(path):  # Qt would show a DNG, NEF or CR2 as its tiny first thumbnail
        try:
            media.check_picture_size(path.stat().st_size)
            picture = media.open_image(path.read_bytes(), RAW_VIEW_SIDE, raw=True)
        except OSError as e:
            raise UnreadableFile(f"cannot read the picture {path.name}: {describe(e)}") from e
        except UnreadableFile as e:
            raise UnreadableFile(f"cannot read the picture {path.name}: {e}") from e
        return to_qimage(picture.image)
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
    if path.suffix.lower() not in PAGED_TYPES:
        return None
    app = default_app(path)
    viewer = _viewer_name(app) if app is not None else None
    arguments = PAGE_ARGUMENTS.get(viewer) if viewer else None
    if app is None or arguments is None:
        return None
    command: list[str] = []
    placed = False
    for word in app.command:
        if word in _FILE_CODES and not placed:
            command += arguments(path, page)
            placed = True
        elif not _OTHER_CODES.fullmatch(word) and word not in _FILE_CODES:
            command.append(word.replace("%%", "%"))
    if not placed:
        command += arguments(path, page)
    return command


# The document types whose viewers can be told a page.
PAGED_TYPES = (".pdf",)


def default_app(path: Path) -> App | None:
    """The default app for the file's type, as the freedesktop MIME applications specification
    finds it (what `xdg-mime query default` answers)."""
    types = _mime_types(path)
    default, added, _ = _associations(types)
    entries = _desktop_entries()
    return next((entries[i][0] for i in default + added if i in entries), None)


def _viewer_name(app: App) -> str | None:
    """Which viewer an app is: by its entry's id, or by its program's name (past `env VAR=…`
    and `flatpak run …`)."""
    entry_id = app.entry.name.removesuffix(".desktop").lower()
    if entry_id in _ENTRY_NAMES:
        return _ENTRY_NAMES[entry_id] or None
    for word in app.command:
        name = Path(word).name.lower()
        if name in PAGE_ARGUMENTS:
            return name
        if name in _ENTRY_NAMES:  # flatpak run org.gnome.Evince
            return _ENTRY_NAMES[name] or None
    return None
