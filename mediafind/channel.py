"""The local channel between the command line and a running mediafind: where its socket lives,
who may use it, and messages as lines of bytes.

POSIX: an AF_UNIX socket named after the library, in a folder only the user can enter (0700;
the socket itself 0600) under the platform's runtime folder (XDG_RUNTIME_DIR on Linux), or in a
folder of the user's own in the temp folder when that path would be too long for a socket. The
other end's user is checked as well, on both ends (SO_PEERCRED on Linux, LOCAL_PEERCRED on macOS
and FreeBSD). A lock file beside the socket is held for as long as a server listens: a socket
file without a live lock was left by a crashed process and is replaced; one with it is never
taken over.

Windows: a named pipe (multiprocessing.connection) that only its first server may create, which
other users cannot open for writing, with a key that only this user can read, checked both ways.

Imported by every command that may talk to a running instance: nothing heavy here.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import stat
import struct
import sys
import threading
import warnings
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

import platformdirs

from mediafind.config import APP_NAME
from mediafind.privacy import open_private

if TYPE_CHECKING:
    from multiprocessing.connection import Connection as PipeConnection
    from multiprocessing.connection import Listener as PipeListener

# The longest socket path used: AF_UNIX paths hold 108 bytes on Linux, 104 on macOS, with the
# final NUL; a little less leaves room for both.
MAX_SOCKET_PATH = 100
# The most bytes one message may hold: a search's answer with its passages is a few hundred
# KB at most; a peer sending more is broken or hostile, and is cut off.
MAX_MESSAGE = 16 * 1024 * 1024
# Connections a listener keeps waiting to be accepted.
BACKLOG = 16
_READ_SIZE = 65536


class Connection(Protocol):
    """One conversation: lines of bytes each way."""

    def send(self, line: bytes, timeout: float | None = None) -> None:
        """Send one line (without its newline); raises OSError when the other end is gone,
        TimeoutError when it does not read for timeout seconds."""
        ...

    def receive(self, timeout: float | None = None) -> bytes | None:
        """The next line (without its newline), or None when the other end closed. Raises
        TimeoutError after timeout seconds, ValueError past MAX_MESSAGE bytes."""
        ...

    def close(self) -> None: ...


def library_key(library_dir: Path) -> str:
    """What names a library's socket: the same library reached by two spellings of its path
    (relative, through a link) has one name, two libraries have two."""
    resolved = os.fsencode(Path(library_dir).expanduser().resolve())
    return hashlib.blake2b(resolved, digest_size=8).hexdigest()


# -- POSIX ------------------------------------------------------------------------------------


def socket_dirs() -> list[Path]:
    """Where sockets may live, best first: the runtime folder, then one of this user's own in
    the temp folder (when the runtime folder is missing, or its paths too long). A client
    looks in each: two processes may not judge the runtime folder alike (platformdirs passes
    over an XDG_RUNTIME_DIR that is not private)."""
    dirs = []
    with warnings.catch_warnings():
        # platformdirs warns (and may raise) when XDG_RUNTIME_DIR is not set or not private;
        # the folders below stand in.
        warnings.simplefilter("ignore")
        with contextlib.suppress(OSError):
            dirs.append(Path(platformdirs.user_runtime_dir(APP_NAME)))
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        dirs.append(Path(xdg) / APP_NAME)
    dirs.append(Path(os.environ.get("TMPDIR") or "/tmp") / f"{APP_NAME}-{os.getuid()}")
    return list(dict.fromkeys(dirs))


def private_dir(path: Path, create: bool) -> bool:
    """Whether path is a folder of this user's that nobody else may enter (0700); with create,
    made so if it is missing (not its parents) or too open. Another user's folder is never
    used."""
    if create:
        try:
            path.mkdir(mode=0o700, exist_ok=True)
        except OSError:
            return False
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        return False
    if st.st_mode & 0o077:
        if not create:
            return False
        try:
            path.chmod(0o700)
        except OSError:
            return False
    return True


def socket_paths(library_dir: Path) -> list[Path]:
    """The paths a library's socket may have, best first (those short enough)."""
    name = library_key(library_dir)
    paths = [folder / f"{name}.sock" for folder in socket_dirs()]
    return [p for p in paths if len(os.fsencode(p)) <= MAX_SOCKET_PATH]


def peer_uid(sock: socket.socket) -> int | None:
    """The user id of the process at the other end of a Unix socket; None where the system
    cannot tell (the folder's permissions still keep other users out)."""
    if sys.platform.startswith("linux") and hasattr(socket, "SO_PEERCRED"):
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", raw)
        return int(uid)
    if sys.platform == "darwin" or sys.platform.startswith("freebsd"):
        # getsockopt(fd, SOL_LOCAL = 0, LOCAL_PEERCRED = 1) gives a struct xucred: a version,
        # then the user id.
        raw = sock.getsockopt(0, getattr(socket, "LOCAL_PEERCRED", 1), 76)
        _version, uid = struct.unpack_from("=II", raw)
        return int(uid)
    return None


def same_user(peer: int | None, own: int) -> bool:
    """Whether the other end may talk to us: the same user, or one the system cannot name."""
    return peer is None or peer == own


class SocketConnection:
    """Lines over a connected Unix socket."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(True)  # macOS passes a listener's non-blocking mode on; each call sets
        self.sock = sock  # its own timeout
        self._buffer = bytearray()

    def send(self, line: bytes, timeout: float | None = None) -> None:
        self.sock.settimeout(timeout)
        self.sock.sendall(line + b"\n")

    def receive(self, timeout: float | None = None) -> bytes | None:
        self.sock.settimeout(timeout)
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                return line
            if len(self._buffer) > MAX_MESSAGE:
                raise ValueError(f"a message longer than {MAX_MESSAGE} bytes")
            chunk = self.sock.recv(_READ_SIZE)
            if not chunk:
                return None
            self._buffer += chunk

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


class UnixListener:
    """Listens on a library's socket, for as long as it holds the lock beside it."""

    def __init__(self, library_dir: Path) -> None:
        self.library_dir = library_dir
        self.path: Path | None = None
        self._lock: IO[bytes] | None = None
        self._sock: socket.socket | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._closed = threading.Event()

    def open(self) -> bool:
        """Listen; False when another process listens for this library already (or no folder
        can hold the socket: the reason is logged by the caller)."""
        import fcntl

        paths = socket_paths(self.library_dir)
        live = connect_unix(self.library_dir, 1.0, paths)
        if live is not None:
            live.close()
            return False  # a live server has this library, maybe in another of the folders
        for path in paths:
            if not private_dir(path.parent, create=True):
                continue
            lock = open_private(path.with_suffix(".lock"), "ab")  # held while listening
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                lock.close()
                return False  # a live server has this library
            # The lock is ours: a socket file here was left by a process that died.
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.bind(os.fspath(path))
                path.chmod(0o600)
                sock.listen(BACKLOG)
                sock.setblocking(False)  # accept() never waits: poll() said who is there
            except OSError:
                sock.close()
                lock.close()
                continue
            self.path, self._lock, self._sock = path, lock, sock
            return True
        raise OSError("no private folder can hold the instance's socket")

    def accept(self) -> tuple[SocketConnection, int | None] | None:
        """The next connection and its user id; None once closed."""
        import select

        sock = self._sock
        if sock is None:
            return None
        # poll, not select: a process with many files open (a big watch) has descriptors past
        # select's limit.
        try:
            waiting = select.poll()
            waiting.register(sock, select.POLLIN)
            waiting.register(self._wake_r, select.POLLIN)
            wake = self._wake_r.fileno()
        except (OSError, ValueError):  # released already
            return None
        while not self._closed.is_set():
            try:
                ready = waiting.poll()
            except OSError:
                return None
            if self._closed.is_set() or any(fd == wake for fd, _ in ready):
                return None
            try:
                conn, _ = sock.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                continue  # the client gave up before we took it
            except (OSError, ValueError):
                return None
            try:
                uid = peer_uid(conn)
            except OSError:
                conn.close()
                continue
            return SocketConnection(conn), uid
        return None

    def close(self) -> None:
        """Stop taking connections and remove the socket file, at once: accept() returns None
        (from any thread)."""
        if self._closed.is_set():
            return
        self._closed.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        # The file goes before the lock: a server that starts next must not find ours.
        if self._sock is not None and self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
        if self._lock is not None:
            self._lock.close()

    def release(self) -> None:
        """Close the sockets (once the accepting thread has ended: they are its own)."""
        if self._sock is not None:
            self._sock.close()
        self._wake_r.close()
        self._wake_w.close()


def connect_unix(
    library_dir: Path, timeout: float, paths: list[Path] | None = None
) -> SocketConnection | None:
    """A connection to the library's running instance, or None when none listens (no socket,
    or a socket file left by a crashed one: connecting is refused)."""
    own = os.getuid()
    for path in socket_paths(library_dir) if paths is None else paths:
        # A socket in a folder someone else could write to might be theirs: never used.
        if not private_dir(path.parent, create=False):
            continue
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(os.fspath(path))
            if not same_user(peer_uid(sock), own):
                raise PermissionError(f"{path} belongs to another user")
        except OSError:
            sock.close()
            continue
        return SocketConnection(sock)
    return None


# -- Windows ----------------------------------------------------------------------------------


def pipe_name(library_dir: Path) -> str:
    user = "".join(c for c in os.environ.get("USERNAME", "") if c.isalnum()) or "user"
    return rf"\\.\pipe\{APP_NAME}-{user}-{library_key(library_dir)}"


def _pipe_key() -> bytes:
    """A secret of this user's (in the user's own runtime folder, which other users cannot
    read) that both ends of a pipe prove they know."""
    folder = Path(platformdirs.user_runtime_dir(APP_NAME))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "instance.key"
    with contextlib.suppress(FileExistsError), open(path, "xb") as f:
        f.write(os.urandom(32))
    return path.read_bytes()


class PipeConnectionLines:
    """Lines over a multiprocessing connection (one message per line)."""

    def __init__(self, conn: PipeConnection) -> None:
        self.conn = conn

    def send(self, line: bytes, timeout: float | None = None) -> None:
        self.conn.send_bytes(line)  # a pipe buffers what its reader has not read yet

    def receive(self, timeout: float | None = None) -> bytes | None:
        if timeout is not None and not self.conn.poll(timeout):
            raise TimeoutError("no message in time")
        try:
            return self.conn.recv_bytes(MAX_MESSAGE)
        except EOFError:
            return None
        except OSError as e:  # longer than MAX_MESSAGE: the connection is unusable after it
            raise ValueError(str(e)) from e

    def close(self) -> None:
        self.conn.close()


class PipeServer:
    """Listens on a library's named pipe; the first process to create it keeps it."""

    def __init__(self, library_dir: Path) -> None:
        self.address = pipe_name(library_dir)
        self.path = Path(self.address)
        self._listener: PipeListener | None = None
        self._closed = threading.Event()

    def open(self) -> bool:
        from multiprocessing.connection import Listener

        try:
            self._listener = Listener(self.address, family="AF_PIPE", authkey=_pipe_key())
        except PermissionError:
            return False  # the pipe exists: another process serves this library
        return True

    def accept(self) -> tuple[PipeConnectionLines, int | None] | None:
        from multiprocessing import AuthenticationError

        while self._listener is not None and not self._closed.is_set():
            try:
                conn = self._listener.accept()
            except (OSError, AuthenticationError, EOFError):
                continue
            if self._closed.is_set():
                conn.close()
                return None
            return PipeConnectionLines(conn), None
        return None

    def close(self) -> None:
        if self._closed.is_set() or self._listener is None:
            return
        self._closed.set()
        # accept() waits in the system and close() does not wake it: a last client does.
        with contextlib.suppress(Exception):
            last = connect_pipe(self.address)
            if last is not None:
                last.close()
        self._listener.close()

    def release(self) -> None:
        pass


def connect_pipe(address: str) -> PipeConnectionLines | None:
    from multiprocessing import AuthenticationError
    from multiprocessing.connection import Client

    try:
        conn = Client(address, family="AF_PIPE", authkey=_pipe_key())
    except (OSError, AuthenticationError, EOFError):
        return None
    return PipeConnectionLines(conn)


# -- either -----------------------------------------------------------------------------------


def listener(library_dir: Path) -> UnixListener | PipeServer:
    return PipeServer(library_dir) if os.name == "nt" else UnixListener(library_dir)


def connect(library_dir: Path, timeout: float = 2.0) -> Connection | None:
    """A connection to the library's running instance, or None when none runs."""
    if os.name == "nt":
        return connect_pipe(pipe_name(library_dir))
    return connect_unix(library_dir, timeout)
