"""One running mediafind answers the command line: real sockets, a real session on a real library
(with the fake model source), the real command line in this process and a real `watch` process."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TINY_SPEC, SharedFakeSource, save_shape, small_folder

from mediafind import channel, instance
from mediafind.cli import main
from mediafind.errors import MediafindError
from mediafind.instance import InstanceError, Server
from mediafind.query import Query, QueryError, parse
from mediafind.session import Options, Session

FakeSource = SharedFakeSource


@pytest.fixture(autouse=True)
def _short_runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Sockets in a runtime folder of the test's own (tmp_path is too long for a socket)."""
    runtime = Path(tempfile.mkdtemp(prefix="mf-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("MEDIAFIND_MODEL", "fast")
    monkeypatch.setattr("mediafind.session.OpenClipSource", FakeSource)
    monkeypatch.delenv("MEDIAFIND_NO_INSTANCE", raising=False)
    yield runtime
    shutil.rmtree(runtime, ignore_errors=True)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


class Running:
    """A library with its session and server running, as the window or `watch` has them."""

    def __init__(self, library: Path) -> None:
        self.library = library
        self.session = Session(Options(library=str(library), watch=False))
        self.session.start()
        assert self.session.wait_started(10) and self.session.index is not None
        self.server = Server(self.session)
        assert self.server.start()

    def stop(self) -> None:
        self.server.stop()
        self.session.stop()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return small_folder(tmp_path / "Pictures")


@pytest.fixture
def running(tmp_path: Path, root: Path) -> Iterator[Running]:
    library = tmp_path / "library"
    assert main(["--alone", "--library", str(library), "index", str(root)]) == 0
    served = Running(library)
    yield served
    served.stop()


def both(
    capsys: pytest.CaptureFixture[str], served: Running, *args: str
) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    """The command answered by the running instance, then by this process alone."""
    before = served.server.answered
    by_instance = cli(capsys, "--library", str(served.library), *args)
    assert served.server.answered > before, "the instance did not answer"
    alone = cli(capsys, "--alone", "--library", str(served.library), *args)
    return by_instance, alone


@pytest.mark.parametrize(
    "args",
    [
        ["search", "red circle"],
        ["search", "red circle", "--json"],
        ["search", "pond", "-n", "1"],
        ["search", "kind:photo", "--json"],
        ["search", "nothing like it at all"],
        ["status"],
        ["status", "--json"],
        ["folders", "list"],
    ],
)
def test_the_running_instance_answers_as_the_command_line_alone_does(
    running: Running, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    by_instance, alone = both(capsys, running, *args)
    assert by_instance == alone
    assert by_instance[0] == 0 and by_instance[1]


def test_a_search_answered_by_the_instance_loads_neither_numpy_nor_the_store(
    running: Running,
) -> None:
    code = (
        "import sys\n"
        "from mediafind.cli import main\n"
        "assert main(['--library', sys.argv[1], 'search', 'red circle', '--json']) == 0\n"
        "heavy = ('numpy', 'apsw', 'PIL', 'torch', 'open_clip', 'mediafind.session',\n"
        "         'mediafind.rows')\n"
        "print('HEAVY', [m for m in heavy if m in sys.modules])\n"
    )
    before = running.server.answered
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", code, str(running.library)],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    assert running.server.answered == before + 2  # hello, then the search
    assert "HEAVY []" in out.stdout, out.stderr


def test_a_picture_search_sends_the_pictures_full_path(
    running: Running,
    root: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(root / "holiday")  # the instance's working folder is another
    by_instance, alone = both(capsys, running, "search", "--image", "red circle.png", "--json")
    assert by_instance == alone
    assert Path(json.loads(by_instance[1])[0]["path"]).is_absolute()


def test_folders_are_added_by_the_running_instance_while_alone_they_are_refused(
    running: Running, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    more = small_folder(tmp_path / "More")
    library = str(running.library)
    code, _, err = cli(capsys, "--alone", "--library", library, "folders", "add", str(more))
    assert code == 1 and "being written by another mediafind process" in err
    code, out, _ = cli(capsys, "--library", library, "folders", "add", str(more), "--polling",
                       "never")  # fmt: skip
    assert code == 0
    assert out.splitlines() == [
        f"watching {more} (polling: never)",
        f"mediafind (pid {os.getpid()}) is indexing now: `mediafind status` shows how far it is",
    ]
    code, out, _ = cli(capsys, "--library", library, "folders", "add", str(more / "notes"))
    assert out.splitlines()[0] == f"{more / 'notes'} is already in the library, inside {more}"
    assert running.session.index is not None and running.session.index.wait_idle(10)
    by_instance, alone = both(capsys, running, "folders", "list")
    assert by_instance == alone and f"{more}  (unwatched, 3 files)" in alone[1]
    code, out, err = cli(capsys, "--library", library, "folders", "remove", str(more), "/nowhere")
    assert (code, out, err) == (
        2,
        f"removed {more} from the library (its files stay on disk)\n",
        "mediafind: /nowhere is not in the library; `mediafind folders list` shows what is\n",
    )


def test_index_by_the_running_instance_reports_what_index_alone_reports(
    running: Running, root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    twin = tmp_path / "twin library"  # the same folder in a library nobody runs
    assert cli(capsys, "--library", str(twin), "index", str(root))[0] == 0
    (root / "notes" / "pond.md").write_text("Frogs by the pond, a blue square of tiles.\n")
    (root / "holiday" / "broken.png").write_bytes(b"not a picture")
    before = running.server.answered
    by_instance = cli(capsys, "--library", str(running.library), "index")
    assert running.server.answered > before
    alone = cli(capsys, "--library", str(twin), "index")

    def timeless(result: tuple[int, str, str]) -> tuple[int, str, str]:
        code, out, err = result
        return code, re.sub(r" in \d+ s", " in _ s", out), err

    assert timeless(by_instance) == timeless(alone)
    assert by_instance[1].startswith("Indexed 5 files in ")
    assert "(1 new or changed, 3 unchanged); 1 could not be read" in by_instance[1]
    assert "broken.png" in by_instance[2]


def test_another_model_searches_alone_and_cannot_index_while_the_instance_runs(
    running: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    library = str(running.library)
    before = running.server.answered
    code, _, err = cli(capsys, "--library", library, "--model", "best", "search", "red")
    assert code == 0
    assert "uses the model" in err and "searching here with best" in err
    code, _, err = cli(capsys, "--library", library, "--model", "best", "index")
    assert code == 1 and "close it to index with best" in err
    assert running.server.answered == before + 2  # each asked only whether the model is its own
    code, _, _ = cli(capsys, "--library", library, "--model", "fast", "search", "red")
    assert running.server.answered == before + 4


def test_without_a_running_instance_or_told_not_to_ask_the_command_works_alone(
    running: Running,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = running.server.answered
    monkeypatch.setenv("MEDIAFIND_NO_INSTANCE", "1")
    assert cli(capsys, "--library", str(running.library), "status")[0] == 0
    assert running.server.answered == before
    monkeypatch.delenv("MEDIAFIND_NO_INSTANCE")
    assert instance.ask(tmp_path / "another library", {"command": "hello"}) is None


def raw_ask(address: Path, line: bytes) -> dict[str, object]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(str(address))
        sock.sendall(line)
        answer = sock.makefile("rb").readline()
    message = json.loads(answer)
    assert isinstance(message, dict)
    return message


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (b"not json at all\n", "malformed request: not JSON"),
        (b"\xff\xfe\n", "malformed request: not JSON"),
        (b"[1, 2]\n", "malformed request: not a JSON object"),
        (b'{"protocol": 1, "command": "format the disk"}\n', "unknown command"),
        (b'{"protocol": 1, "command": "search", "query": {}, "limit": 5}\n', "not a query"),
        (b'{"protocol": 1, "command": "search", "query": "red", "limit": -1}\n', "positive"),
        (b'{"protocol": 1, "command": "add_folder", "folder": "relative"}\n', "absolute"),
        (b'{"protocol": 1, "command": "overview", "listed": "all"}\n', "listed"),
        (b'{"protocol": 7, "version": "9.0", "command": "hello"}\n', "asked in protocol 7"),
    ],
)
def test_a_malformed_request_gets_an_error_answer_and_the_server_goes_on(
    running: Running, line: bytes, error: str
) -> None:
    assert running.server.address is not None
    answer = raw_ask(running.server.address, line)
    assert answer["protocol"] == instance.PROTOCOL
    assert error in str(answer["error"])
    assert instance.ask(running.library, {"command": "hello"}) is not None


def test_a_client_that_sends_nothing_or_too_much_holds_up_nobody(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(instance, "REQUEST_SECONDS", 0.3)
    assert running.server.address is not None
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.connect(str(running.server.address))
    monkeypatch.setattr(channel, "MAX_MESSAGE", 1000)
    answer = raw_ask(running.server.address, b"x" * 5000)
    assert "longer than 1000 bytes" in str(answer["error"])
    assert instance.ask(running.library, {"command": "hello"}) is not None
    silent.settimeout(5)
    assert silent.recv(100) == b""  # dropped after REQUEST_SECONDS, unanswered
    silent.close()


def test_an_instance_of_another_protocol_is_refused_plainly(tmp_path: Path) -> None:
    library = tmp_path / "library"
    [path, *_] = channel.socket_paths(library)
    assert channel.private_dir(path.parent, create=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)

    def answer_in_protocol_2() -> None:
        conn, _ = listener.accept()
        conn.makefile("rb").readline()
        conn.sendall(b'{"protocol": 2, "version": "2.0", "error": "who are you"}\n')
        conn.close()

    threading.Thread(target=answer_in_protocol_2, daemon=True).start()
    with pytest.raises(InstanceError, match=r"mediafind 2\.0 speaks protocol 2.*--alone"):
        instance.ask(library, {"command": "hello"})
    listener.close()


def test_other_users_are_refused(running: Running) -> None:
    own = os.getuid()
    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        assert channel.peer_uid(a) == own
    assert channel.same_user(own, own)
    assert not channel.same_user(own + 1, own)
    running.server.uid = own + 1  # as if another user had started it
    with pytest.raises(MediafindError, match="answers its own user only"):
        instance.ask(running.library, {"command": "hello"})


def test_the_socket_is_the_users_alone(running: Running) -> None:
    address = running.server.address
    assert address is not None
    assert stat.S_ISSOCK(address.stat().st_mode)
    assert stat.S_IMODE(address.stat().st_mode) == 0o600
    assert stat.S_IMODE(address.parent.stat().st_mode) == 0o700
    assert address.parent.stat().st_uid == os.getuid()


def test_a_folder_others_can_enter_is_never_used(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    assert not channel.private_dir(shared, create=False)
    assert channel.private_dir(shared, create=True)  # ours: made private
    assert stat.S_IMODE(shared.stat().st_mode) == 0o700


def test_a_runtime_folder_too_long_for_a_socket_gives_way_to_the_temp_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / ("x" * 120)))
    [path] = channel.socket_paths(tmp_path / "library")
    assert path.parent.name == f"mediafind-{os.getuid()}"
    assert len(os.fsencode(path)) <= channel.MAX_SOCKET_PATH


def test_the_instance_is_found_when_the_runtime_folder_is_judged_otherwise_later(
    running: Running, _short_runtime_dir: Path
) -> None:
    """A runtime folder that turned public (platformdirs then passes over it) still holds the
    socket of the instance started before: the client looks there too."""
    _short_runtime_dir.chmod(0o755)
    try:
        assert instance.ask(running.library, {"command": "hello"}) is not None
    finally:
        _short_runtime_dir.chmod(0o700)


def test_a_socket_left_by_a_crashed_instance_means_none_and_is_replaced(
    tmp_path: Path, root: Path
) -> None:
    library = tmp_path / "library"
    assert main(["--alone", "--library", str(library), "index", str(root)]) == 0
    [path, *_] = channel.socket_paths(library)
    assert channel.private_dir(path.parent, create=True)
    left = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    left.bind(str(path))  # bound, then its process "died": the file stays, nobody listens
    left.close()
    assert path.exists()
    assert instance.ask(library, {"command": "hello"}) is None
    served = Running(library)
    try:
        assert served.server.address == path
        answer = instance.ask(library, {"command": "hello"})
        assert answer is not None and answer["pid"] == os.getpid()
    finally:
        served.stop()


def test_a_second_server_for_a_library_leaves_the_first_ones_socket(running: Running) -> None:
    address = running.server.address
    assert address is not None
    inode = address.stat().st_ino
    second = Server(running.session)
    assert second.start() is False
    second.stop()
    assert address.stat().st_ino == inode
    assert instance.ask(running.library, {"command": "hello"}) is not None


def test_the_server_stops_at_once_with_clients_connected(running: Running) -> None:
    address = running.server.address
    assert address is not None
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.connect(str(address))
    time.sleep(0.05)  # its thread waits for a request
    started = time.perf_counter()
    running.server.stop()
    assert time.perf_counter() - started < 0.5
    assert not address.exists()
    silent.settimeout(5)
    assert silent.recv(100) == b""
    silent.close()
    assert instance.ask(running.library, {"command": "hello"}) is None
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline:
        names = {t.name for t in threading.enumerate()}
        if not names & {"mediafind-instance", "mediafind-answer"}:
            break
        time.sleep(0.01)
    assert not names & {"mediafind-instance", "mediafind-answer"}


def test_a_query_travels_as_a_dict_and_comes_back_the_same(tmp_path: Path) -> None:
    picture = save_shape(tmp_path / "holiday.jpg", "red", "circle")
    query = parse(f'2*"blue door" -snow + 0.5*{picture} kind:photo after:2024-01 type:jpg,png')
    query = query.narrowed(folder=tmp_path, sort="date")
    assert Query.from_dict(json.loads(json.dumps(query.to_dict()))) == query
    with pytest.raises(QueryError):
        Query.from_dict({"parts": [{"text": 3}]})


def wait_for_instance(
    library: Path, process: subprocess.Popen[str], log: Path
) -> dict[str, object]:
    """The hello of the instance that process runs, once it answers."""
    deadline = time.monotonic() + 60
    while (hello := instance.ask(library, {"command": "hello"})) is None:
        running = process.poll() is None and time.monotonic() < deadline
        assert running, f"no instance answered; exit {process.poll()}: {log.read_text()[-2000:]}"
        time.sleep(0.05)
    return hello


def test_watch_answers_the_command_line_and_a_killed_one_is_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real `mediafind watch` process (nothing to embed: the model is never loaded)."""
    empty, library, log = tmp_path / "Empty", tmp_path / "library", tmp_path / "watch.log"
    empty.mkdir()
    assert main(["--library", str(library), "folders", "add", str(empty)]) == 0
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-m", "mediafind", "--library", str(library), "watch"]
    with open(log, "w") as err, subprocess.Popen(command, env=env, stdout=err, stderr=err) as watch:
        try:
            assert wait_for_instance(library, watch, log)["pid"] == watch.pid
            capsys.readouterr()
            code, out, _ = cli(capsys, "--library", str(library), "status", "--json")
            assert code == 0 and json.loads(out)["writer_pid"] == watch.pid
            watch.send_signal(signal.SIGKILL)
            watch.wait(10)
            assert instance.ask(library, {"command": "hello"}) is None  # its socket file is left
            served = Running(library)
            try:
                hello = instance.ask(library, {"command": "hello"})
                assert hello is not None and hello["pid"] == os.getpid()
            finally:
                served.stop()
        finally:
            watch.kill()


def test_the_window_answers_the_command_line_and_leaves_no_socket_when_closed(
    tmp_path: Path,
) -> None:
    library = tmp_path / "library"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_STATE_HOME": str(tmp_path / "state"),  # its log file
        "MEDIAFIND_MODEL": TINY_SPEC,
        "MEDIAFIND_QUIT_AFTER": "60",  # whatever happens here
    }
    command = [sys.executable, "-m", "mediafind", "--library", str(library), "gui"]
    log = tmp_path / "window.log"
    with open(log, "w") as err, subprocess.Popen(command, env=env, stderr=err) as window:
        try:
            assert wait_for_instance(library, window, log)["pid"] == window.pid
            [path] = [p for p in channel.socket_paths(library) if p.exists()]
            window.send_signal(signal.SIGTERM)
            assert window.wait(30) == 0, log.read_text()
            assert not path.exists()
        finally:
            window.kill()
