"""One running mediafind serves the command line: while the window or `mediafind watch` runs on a
library, `search`, `status`, `folders` and `index` in another terminal ask it, over a local socket
(mediafind.channel), instead of loading the model again or being refused the library's write lock.

The command line sees a library through `Library`: `Local` is this process's own session,
`Remote` the running instance's; both answer with the plain values of mediafind.report, so that
every command prints the same thing either way. `Server` answers on top of a running session:
each connection on a thread of its own, a request and its answer as JSON lines, each carrying
PROTOCOL so that an older and a newer mediafind refuse each other plainly.

The client side imports only the standard library and mediafind's light modules: a search
served by a running instance starts about as fast as `mediafind --help`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from mediafind import __version__, channel, config
from mediafind.errors import MediafindError, describe
from mediafind.query import Query, QueryError
from mediafind.report import Added, Found, Indexed, Json, Overview, Progress

if TYPE_CHECKING:
    from mediafind.session import Session

log = logging.getLogger(__name__)

# Bumped whenever a request or an answer changes shape; both sides send theirs and refuse a
# peer that speaks another.
PROTOCOL = 1
# How long connecting may take; a live instance accepts at once.
CONNECT_SECONDS = 2.0
# A client has this long to send its request, and to take each line of the answer: one that
# stalls ties up only its own thread, and not for long.
REQUEST_SECONDS = 10.0
# Connections served at once; past this, a client is told the instance is busy. Each holds a
# thread, and a command line waits for its one answer.
MAX_CONNECTIONS = 32

ProgressCallback = Callable[[Progress], None]
T = TypeVar("T")


class InstanceError(MediafindError):
    """The running instance could not be asked: another protocol, or it went away."""


def disabled() -> bool:
    """Whether the environment says never to ask a running instance."""
    return os.environ.get(config.ENV_NO_INSTANCE, "") not in ("", "0")


class Library(Protocol):
    """A library as the command line uses it, through this process or the running instance."""

    @property
    def served_by(self) -> int | None:
        """The pid of the running instance that answers; None when this process does."""
        ...

    def overview(self, listed: int | None) -> Overview: ...

    def add_folder(self, folder: Path, polling: bool | None) -> Added: ...

    def remove_folder(self, folder: Path) -> bool: ...

    def search(self, query: Query, limit: int, cutoff: bool = True) -> Found:
        """cutoff: False shows the photos the library's relevance cutoff would hide."""
        ...

    def index(self, folders: Sequence[Path], on_progress: ProgressCallback | None) -> Indexed: ...


class Local:
    """The library through a session of this process: the command line alone, and what a
    server does for each request."""

    served_by = None

    def __init__(self, session: Session) -> None:
        self.session = session

    def overview(self, listed: int | None) -> Overview:
        return self.session.overview(listed)

    def add_folder(self, folder: Path, polling: bool | None) -> Added:
        where = self.session.add_folder(folder, polling, wait=True)
        assert where is not None
        return Added(where, indexing=self.session.index is not None)

    def remove_folder(self, folder: Path) -> bool:
        return self.session.remove_folder(folder, wait=True)

    def search(self, query: Query, limit: int, cutoff: bool = True) -> Found:
        if not self.session.library_file.exists():
            raise MediafindError("nothing is indexed yet: mediafind index PATH")
        results = self.session.search(query, limit, cutoff=cutoff)
        assert results is not None  # only a search that asks whether it is current is dropped
        return results.found()

    def index(self, folders: Sequence[Path], on_progress: ProgressCallback | None) -> Indexed:
        return self.session.index_now(folders, on_progress).report()


# -- the client -------------------------------------------------------------------------------


def ask(
    library_dir: Path, request: Json, on_progress: ProgressCallback | None = None
) -> Json | None:
    """The running instance's answer to a request ({"command": ..., ...}), or None when no
    instance runs for this library. The instance's own errors (the library is busy, a folder is
    not watched) are raised as MediafindError with its message; InstanceError when it speaks
    another protocol or goes away before answering."""
    conn = channel.connect(library_dir, CONNECT_SECONDS)
    if conn is None:
        return None
    try:
        # Refused before it read us? Its answer, still to be read, says why.
        with contextlib.suppress(OSError):
            conn.send(_encode({"protocol": PROTOCOL, "version": __version__, **request}))
        while True:
            line = conn.receive()
            if line is None:
                raise InstanceError("the running mediafind closed the connection unanswered")
            message = _decode(line)
            if message.get("protocol") != PROTOCOL:
                raise InstanceError(_mismatch(message.get("protocol"), message.get("version")))
            if "progress" in message:
                if on_progress is not None:
                    on_progress(Progress.from_dict(message["progress"]))
                continue
            if "error" in message:
                raise MediafindError(str(message["error"]))
            answer = message["answer"]
            if not isinstance(answer, dict):
                raise InstanceError("the running mediafind answered something unreadable")
            return answer
    except (KeyError, TypeError, ValueError) as e:
        raise InstanceError(f"the running mediafind answered something unreadable: {e}") from e
    except OSError as e:
        raise InstanceError(f"lost the running mediafind: {describe(e)}") from e
    finally:
        conn.close()


def connect(library_dir: Path, model: str | None = None) -> Remote | None:
    """The running instance of this library, or None when none runs. model: the model the
    caller was told to use (--model, MEDIAFIND_MODEL), if any; Remote.same_model says whether
    the instance uses it."""
    if model and model.startswith(_LOCAL_DIR):
        # The instance's working folder is not ours: a model folder travels as a full path.
        model = _LOCAL_DIR + str(Path(model[len(_LOCAL_DIR) :]).expanduser().absolute())
    hello = ask(library_dir, {"command": "hello", "model": model})
    return None if hello is None else Remote(library_dir, hello)


_LOCAL_DIR = "local-dir:"  # as mediafind.embed names a model folder


class Remote:
    """The library through its running instance."""

    def __init__(self, library_dir: Path, hello: Json) -> None:
        self.library_dir = library_dir
        try:
            self.pid = int(hello["pid"])
            self.model = str(hello["model"])
            self.same_model = bool(hello["same_model"])
        except (KeyError, TypeError, ValueError) as e:
            raise InstanceError(f"the running mediafind answered something unreadable: {e}") from e

    @property
    def served_by(self) -> int | None:
        return self.pid

    def overview(self, listed: int | None) -> Overview:
        return _read(Overview.from_dict, self._ask({"command": "overview", "listed": listed}))

    def add_folder(self, folder: Path, polling: bool | None) -> Added:
        request = {"command": "add_folder", "folder": str(folder), "polling": polling}
        return _read(Added.from_dict, self._ask(request))

    def remove_folder(self, folder: Path) -> bool:
        answer = self._ask({"command": "remove_folder", "folder": str(folder)})
        return bool(answer.get("removed"))

    def search(self, query: Query, limit: int, cutoff: bool = True) -> Found:
        request = {"command": "search", "query": query.to_dict(), "limit": limit, "cutoff": cutoff}
        return _read(Found.from_dict, self._ask(request))

    def index(self, folders: Sequence[Path], on_progress: ProgressCallback | None) -> Indexed:
        request = {"command": "index", "folders": [str(f) for f in folders]}
        return _read(Indexed.from_dict, self._ask(request, on_progress))

    def _ask(self, request: Json, on_progress: ProgressCallback | None = None) -> Json:
        answer = ask(self.library_dir, request, on_progress)
        if answer is None:
            raise InstanceError(f"the running mediafind (pid {self.pid}) has stopped; try again")
        return answer


def _read(reader: Callable[[Json], T], answer: Json) -> T:
    try:
        return reader(answer)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise InstanceError(f"the running mediafind answered something unreadable: {e}") from e


# -- the server -------------------------------------------------------------------------------


class Malformed(ValueError):
    """A request that is not one: answered with an error, never a crash."""


class _Gone(Exception):
    """The client went away while its request was being answered."""


class Server:
    """Answers the command line for a running session (the window, `mediafind watch`)."""

    def __init__(self, session: Session, *, uid: int | None = None) -> None:
        """uid: the only user served (default: ours)."""
        self.session = session
        self.local = Local(session)
        own = getattr(os, "getuid", lambda: None)()
        self.uid: int | None = own if uid is None else uid
        self.answered = 0  # requests answered, errors included (for tests)
        self.address: Path | None = None  # the socket (or pipe) while serving
        self._listener: channel.UnixListener | channel.PipeServer | None = None
        self._thread: threading.Thread | None = None
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._open: set[channel.Connection] = set()
        self._open_lock = threading.Lock()
        self._key = ""

    def start(self) -> bool:
        """Listen for this session's library; False when another process serves it already or
        no socket can be made (logged)."""
        library_dir = self.session.library_dir
        listener = channel.listener(library_dir)
        try:
            opened = listener.open()
        except OSError as e:
            log.warning("cannot answer the command line: %s", describe(e))
            opened = False
        if not opened:
            listener.release()
            log.info("another mediafind answers the command line for %s", library_dir)
            return False
        self._listener, self.address = listener, listener.path
        self._key = channel.library_key(library_dir)
        self._thread = threading.Thread(
            target=self._accept, args=(listener,), name="mediafind-instance", daemon=True
        )
        self._thread.start()
        log.info("answering the command line on %s", self.address)
        return True

    def stop(self) -> None:
        """Stop at once: no new connection is taken, open ones are closed (a command under way
        in the session finishes there), the socket is removed."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        listener.close()
        with self._open_lock:
            conns, self._open = list(self._open), set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.close()
        if self._thread is not None:
            self._thread.join(1.0)
            self._thread = None
        listener.release()
        self.address = None

    def follow(self) -> None:
        """After the session's settings changed: serve its library, if it is another one."""
        if (
            self._listener is not None
            and channel.library_key(self.session.library_dir) != self._key
        ):
            self.stop()
            self.start()

    def _accept(self, listener: channel.UnixListener | channel.PipeServer) -> None:
        try:
            self._take(listener)
        finally:
            # Ended by stop(), or by an error: either way no client may wait on it.
            listener.close()

    def _take(self, listener: channel.UnixListener | channel.PipeServer) -> None:
        while (accepted := listener.accept()) is not None:
            conn, uid = accepted
            if not self._slots.acquire(blocking=False):
                self._refuse(conn, "the running mediafind is busy; try again")
                continue
            with self._open_lock:
                self._open.add(conn)
            threading.Thread(
                target=self._serve, args=(conn, uid), name="mediafind-answer", daemon=True
            ).start()

    def _refuse(self, conn: channel.Connection, why: str) -> None:
        with contextlib.suppress(OSError):
            conn.send(_encode(_error(why)), timeout=REQUEST_SECONDS)
        conn.close()

    def _serve(self, conn: channel.Connection, uid: int | None) -> None:
        try:
            if self.uid is not None and not channel.same_user(uid, self.uid):
                log.warning("refused a connection from user %s", uid)
                self._send(conn, _error("refused: this mediafind answers its own user only"))
                return
            try:
                line = conn.receive(REQUEST_SECONDS)
            except TimeoutError:
                return
            except ValueError as e:
                self._send(conn, _error(f"malformed request: {e}"))
                return
            if line is None:
                return

            def progress(p: Progress) -> None:
                try:
                    self._send(conn, {"protocol": PROTOCOL, "progress": p.to_dict()})
                except OSError as e:  # TimeoutError included
                    raise _Gone from e

            self._send(conn, self._answer(line, progress))
        except (OSError, _Gone):
            pass  # the client went away: the work it asked for goes on, unreported
        finally:
            with self._open_lock:
                self._open.discard(conn)
            conn.close()
            self._slots.release()

    def _send(self, conn: channel.Connection, message: Json) -> None:
        conn.send(_encode(message), timeout=REQUEST_SECONDS)

    def _answer(self, line: bytes, progress: ProgressCallback) -> Json:
        """The message that answers a request line: the answer, or an error in words."""
        self.answered += 1
        try:
            request = _decode(line)
            if request.get("protocol") != PROTOCOL:
                return _error(_mismatch(request.get("protocol"), request.get("version"), True))
            answer = self._do(request, progress)
            return {"protocol": PROTOCOL, "version": __version__, "answer": answer}
        except (Malformed, QueryError) as e:
            return _error(f"malformed request: {e}")
        except MediafindError as e:
            return _error(str(e))
        except _Gone:
            raise
        except Exception as e:
            log.exception("a request from the command line failed")
            return _error(f"the running mediafind failed: {describe(e)}")

    def _do(self, request: Json, progress: ProgressCallback) -> Json:
        command = request.get("command")
        local = self.local
        if command == "hello":
            same = self._same_model(_text(request, "model", optional=True))
            return {"pid": os.getpid(), "model": self.session.model_text, "same_model": same}
        if command == "overview":
            listed = request.get("listed")
            if listed is not None and (not isinstance(listed, int) or listed < 0):
                raise Malformed("listed must be a count or null")
            return local.overview(listed).to_dict()
        if command == "add_folder":
            polling = request.get("polling")
            if polling not in (None, True, False):
                raise Malformed("polling must be true, false or null")
            return local.add_folder(_folder(request), polling).to_dict()
        if command == "remove_folder":
            return {"removed": local.remove_folder(_folder(request))}
        if command == "search":
            limit = request.get("limit")
            query = request.get("query")
            if not isinstance(limit, int) or limit <= 0 or not isinstance(query, dict):
                raise Malformed("search needs a query and a positive limit")
            cutoff = request.get("cutoff", True)
            if not isinstance(cutoff, bool):
                raise Malformed("cutoff must be true or false")
            return local.search(Query.from_dict(query), limit, cutoff).to_dict()
        if command == "index":
            folders = request.get("folders")
            if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
                raise Malformed("folders must be a list of paths")
            paths = [_absolute(f) for f in folders]
            return local.index(paths, progress).to_dict()
        raise Malformed(f"unknown command {command!r}")

    def _same_model(self, wanted: str | None) -> bool:
        """Whether the model a client was told to use is this session's."""
        if not wanted:
            return True
        from mediafind.embed import parse_spec

        current = self.session.spec
        try:
            spec = parse_spec(wanted)
        except MediafindError:
            return False
        return spec.text == current.text if current else wanted == self.session.model_text


def _folder(request: Json) -> Path:
    return _absolute(_text(request, "folder"))


def _absolute(text: str) -> Path:
    path = Path(text)
    if not path.is_absolute():
        raise Malformed(f"{text!r} is not an absolute path")
    return path


def _text(request: Json, key: str, optional: bool = False) -> Any:
    value = request.get(key)
    if isinstance(value, str) or (optional and value is None):
        return value
    raise Malformed(f"{key} must be a string")


def _error(message: str) -> Json:
    return {"protocol": PROTOCOL, "version": __version__, "error": message}


def _mismatch(theirs: object, version: object, asked: bool = False) -> str:
    them = f"mediafind {version}" if isinstance(version, str) else "a mediafind"
    if asked:
        return (
            f"this running mediafind {__version__} speaks protocol {PROTOCOL}; {them} asked in "
            f"protocol {theirs}: run that one alone (--alone), or restart this one"
        )
    return (
        f"the running {them} speaks protocol {theirs}, this mediafind {__version__} speaks "
        f"{PROTOCOL}: close it and start it again, or run alone (--alone)"
    )


def _encode(message: Json) -> bytes:
    # ASCII JSON: file names that are not valid UTF-8 travel as their escaped surrogates.
    return json.dumps(message, separators=(",", ":")).encode("ascii")


def _decode(line: bytes) -> Json:
    try:
        message = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise Malformed(f"not JSON: {e}") from e
    if not isinstance(message, dict):
        raise Malformed("not a JSON object")
    return message
