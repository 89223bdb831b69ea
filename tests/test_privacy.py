"""Privacy, proven: index, search (words and a picture), watch and the window, each a real process
in a network namespace of its own (only a loopback, down) and under an audit hook that writes down
every attempt to reach the network; nothing tries. And everything they leave on disk is readable
by the user only, whatever the umask."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from mediafind import config, privacy
from tests.conftest import TINY_SPEC, save_shape, small_folder

pytestmark = pytest.mark.skipif(os.name == "nt", reason="network namespaces and modes are POSIX")

# Loaded by every Python process started with it on PYTHONPATH (the model's own process too):
# each attempt to reach another machine, one line in the file MEDIAFIND_TEST_NET_LOG names.
# Unix sockets are mediafind's own local talk (a running instance), and are not written down.
RECORDER = """
import os, socket, sys

_LOG = os.environ["MEDIAFIND_TEST_NET_LOG"]
_WATCHED = {
    "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
    "socket.gethostbyaddr", "urllib.Request", "http.client.connect",
}


def _record(event, args):
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        if getattr(args[0], "family", None) == socket.AF_UNIX:
            return
    elif event not in _WATCHED:
        return
    with open(_LOG, "a", encoding="utf-8") as f:
        f.write(f"{os.getpid()} {event} {args[1:]!r}\\n")


sys.addaudithook(_record)
"""


def _namespace_prefix() -> list[str] | None:
    """The command that runs a process without a network: unshare -n as root, else in a user
    namespace of its own (unshare -rn); None where neither is allowed here."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    for prefix in ([unshare, "-n"], [unshare, "-rn"]):
        if subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
            return prefix
    return None


NAMESPACE = _namespace_prefix()
needs_namespace = pytest.mark.skipif(
    NAMESPACE is None,
    reason="cannot cut the network here: `unshare -n` (root) and `unshare -rn` (user "
    "namespaces) are both refused",
)


@dataclass
class Runs:
    """What the commands left: the attempts written down, the folders they wrote, outputs."""

    attempts: list[str]
    folders: list[Path]
    outputs: dict[str, str]
    while_watching: dict[str, int]  # the library's files and their modes, as watch ran


def _env(base: Path) -> dict[str, str]:
    recorder = base / "recorder"
    recorder.mkdir()
    (recorder / "sitecustomize.py").write_text(RECORDER, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "MEDIAFIND_"))}
    env.update(
        PYTHONPATH=os.pathsep.join([str(recorder), *sys.path]),
        QT_QPA_PLATFORM="offscreen",
        MEDIAFIND_TEST_NET_LOG=str(base / "attempts.log"),
        MEDIAFIND_CONFIG_DIR=str(base / "home" / "config"),
        MEDIAFIND_DATA_DIR=str(base / "home" / "data"),
        MEDIAFIND_CACHE_DIR=str(base / "home" / "cache"),
        XDG_STATE_HOME=str(base / "home" / "state"),  # the window's log
        MEDIAFIND_MODEL=TINY_SPEC,
        # huggingface_hub's own cache, empty: nothing of the user's, and nothing to find there.
        HF_HOME=str(base / "hf"),
    )
    # Not HF_HUB_OFFLINE: what is proven is that mediafind itself does not call out.
    return env


def _run(env: dict[str, str], *args: str, timeout: float = 240) -> str:
    assert NAMESPACE is not None
    done = subprocess.run(
        [*NAMESPACE, sys.executable, "-m", "mediafind", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        umask=0o022,
    )
    assert done.returncode == 0, f"mediafind {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _watch(env: dict[str, str], folder: Path, log: Path) -> tuple[str, dict[str, int]]:
    """`mediafind watch` for as long as it takes to index a new photo, then Ctrl-C; with the
    modes of the library's files while it ran (its journal files are gone once it stops)."""
    assert NAMESPACE is not None
    command = [*NAMESPACE, sys.executable, "-m", "mediafind", "watch"]
    with (
        open(log, "w") as out,
        subprocess.Popen(command, env=env, stdout=out, stderr=out, umask=0o022) as watch,
    ):
        try:
            time.sleep(3)
            save_shape(folder / "holiday" / "green triangle.png", "green", "triangle", seed=3)
            deadline = time.monotonic() + 60
            while "green triangle" not in _run(env, "search", "--kind", "photo", "green"):
                assert watch.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(1)
            library = Path(env["MEDIAFIND_DATA_DIR"]) / "library"
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in library.iterdir()}
            watch.send_signal(signal.SIGINT)
            watch.wait(30)
        finally:
            watch.kill()
    return log.read_text(), modes


def _window(env: dict[str, str], log: Path) -> str:
    """The window, offscreen, for long enough to load the model and paint the photos."""
    assert NAMESPACE is not None
    command = [*NAMESPACE, sys.executable, "-m", "mediafind", "-v", "gui"]
    with open(log, "w") as out:
        done = subprocess.run(
            command,
            env={**env, "MEDIAFIND_QUIT_AFTER": "8"},
            stdout=out,
            stderr=out,
            timeout=120,
            umask=0o022,
        )
    assert done.returncode == 0, log.read_text()
    return log.read_text()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    base = tmp_path_factory.mktemp("privacy")
    env = _env(base)
    photos = small_folder(base / "photos")
    outputs = {
        "index": _run(env, "index", str(photos)),
        "search": _run(env, "search", "red circle"),
        "search --image": _run(env, "search", "--image", str(photos / "holiday/red circle.png")),
    }
    outputs["watch"], while_watching = _watch(env, photos, base / "watch.log")
    outputs["window"] = _window(env, base / "window.log")
    attempts = base / "attempts.log"
    lines = attempts.read_text().splitlines() if attempts.exists() else []
    home = base / "home"
    folders = [home / d for d in ("config", "data", "cache", "state")]
    return Runs(lines, folders, outputs, while_watching)


@needs_namespace
def test_the_recorder_and_the_namespace_catch_a_connection(tmp_path: Path) -> None:
    """The proof's own check: a connection attempt is written down, and cannot succeed."""
    assert NAMESPACE is not None
    env = _env(tmp_path)
    code = (
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', 9), timeout=2)\n"
        "except OSError as e:\n"
        "    print(type(e).__name__, e.errno)\n"
    )
    done = subprocess.run(
        [*NAMESPACE, sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["OSError", str(errno.ENETUNREACH)], done.stdout
    written = (tmp_path / "attempts.log").read_text()
    assert "socket.getaddrinfo" in written and "socket.connect" in written


@needs_namespace
def test_index_search_watch_and_the_window_never_reach_for_the_network(runs: Runs) -> None:
    assert "red circle" in runs.outputs["search"]
    assert "red circle" in runs.outputs["search --image"]
    assert "started" in runs.outputs["window"]  # it ran, model and all, and closed itself
    assert runs.attempts == []


@needs_namespace
def test_everything_left_on_disk_is_readable_by_the_user_only(runs: Runs) -> None:
    seen: list[str] = []
    wide: list[str] = []
    for top in runs.folders:
        for folder, folders, files in os.walk(top):
            for name in [*folders, *files]:
                path = Path(folder) / name
                mode = stat.S_IMODE(path.lstat().st_mode)
                expected = privacy.FOLDER_MODE if path.is_dir() else privacy.FILE_MODE
                seen.append(str(path.relative_to(top.parent)))
                if mode != expected:
                    wide.append(f"{path} {oct(mode)}")
    for top in runs.folders:
        assert stat.S_IMODE(top.stat().st_mode) == privacy.FOLDER_MODE, top
    # The ones the brief is about are all among them.
    names = "\n".join(seen)
    for part in (
        "library.sqlite3",
        "library.sqlite3.lock",
        ".vectors",
        "cache/thumbnails/",
        "cache/model-identities.json",
        "mediafind.log",
    ):
        assert part in names, f"{part} not made by the runs: {names}"
    assert wide == []
    assert {"library.sqlite3-wal", "library.sqlite3-shm"} <= set(runs.while_watching)
    assert set(runs.while_watching.values()) == {privacy.FILE_MODE}, runs.while_watching


def test_the_settings_file_is_readable_by_the_user_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        config.save_settings(config.Settings(model=TINY_SPEC), tmp_path / "new" / "settings.toml")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "new" / "settings.toml").stat().st_mode) == 0o600
    assert config.load_settings(tmp_path / "new" / "settings.toml").model == TINY_SPEC


def test_files_and_folders_are_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o000)
    try:
        folder = privacy.private_folder(tmp_path / "a" / "b")
        privacy.write_private(folder / "file", b"x")
        with privacy.open_private(folder / "text", "a+", encoding="utf-8") as f:
            f.write("y")
    finally:
        os.umask(old)
    for path, mode in (
        (tmp_path / "a", 0o700),
        (folder, 0o700),
        (folder / "file", 0o600),
        (folder / "text", 0o600),
    ):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path


def test_a_library_left_readable_by_others_is_tightened_when_opened(tmp_path: Path) -> None:
    from mediafind.store import Store

    library = tmp_path / "lib" / "library.sqlite3"
    with Store.open(library, writer=True):
        pass
    for path in library.parent.iterdir():
        path.chmod(0o644)
    library.parent.chmod(0o755)
    with Store.open(library, writer=True):
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in library.parent.iterdir()}
    assert modes and set(modes.values()) == {0o600}, modes
    assert stat.S_IMODE(library.parent.stat().st_mode) == 0o700


def test_a_pasted_picture_is_kept_readable_by_the_user_only(tmp_path: Path, qapp: object) -> None:
    from PySide6.QtCore import QMimeData
    from PySide6.QtGui import QColor, QImage

    from mediafind.gui.dropping import DropReader

    image = QImage(16, 16, QImage.Format.Format_RGB32)
    image.fill(QColor("red"))
    data = QMimeData()
    data.setImageData(image)
    reader = DropReader(tmp_path / "cache" / "queries")
    kept: list[Path] = []
    reader.image_ready.connect(lambda path, name: kept.append(path))
    old = os.umask(0o022)
    try:
        assert reader.read(data).accepted
    finally:
        os.umask(old)
    [path] = kept
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
