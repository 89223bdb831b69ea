"""The command line: one function per command; each docstring is the command's help."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mediafind import __version__, config, units
from mediafind.errors import MediafindError

if TYPE_CHECKING:
    from mediafind.instance import Library, Remote
    from mediafind.keeper import Status
    from mediafind.query import Query
    from mediafind.report import Progress
    from mediafind.session import Session

log = logging.getLogger("mediafind")


def _folders_add(library: Library, args: argparse.Namespace) -> int:
    """Watch folders: their photos and notes are indexed by `index` and followed by `watch`.

    Network shares and removable drives are polled (their changes are not announced);
    --polling always|never overrides that guess for these folders.
    example: mediafind folders add ~/Pictures ~/Documents/notes"""
    polling = {"auto": None, "always": True, "never": False}[args.polling]
    indexing = False
    for raw in args.paths:
        folder = _existing_folder(raw)
        added = library.add_folder(folder, polling)
        indexing |= added.indexing
        if added.where == folder:
            chosen = f" (polling: {args.polling})" if polling is not None else ""
            print(f"watching {folder}{chosen}")
        else:
            print(f"{folder} is already watched, inside {added.where}")
    if indexing:
        print(f"mediafind (pid {library.served_by}) is indexing them: `mediafind status` shows it")
    else:
        print("run `mediafind index` to index them, or `mediafind watch` to keep them indexed")
    return 0


def _folders_remove(library: Library, args: argparse.Namespace) -> int:
    """Stop watching folders and forget what was indexed from them (the files stay on disk).

    example: mediafind folders remove ~/Downloads"""
    status = 0
    for raw in args.paths:
        folder = Path(raw).expanduser().absolute()
        if library.remove_folder(folder):
            print(f"no longer watching {folder}")
        else:
            print(f"mediafind: {folder} is not a watched folder", file=sys.stderr)
            status = 1
    return status


def _folders_list(library: Library, args: argparse.Namespace) -> int:
    """List the watched folders with their file and error counts.

    example: mediafind folders list"""
    folders = library.overview(listed=0).folders
    if not folders:
        print("no watched folders yet: mediafind folders add PATH")
    for f in folders:
        print(f"{f.path}  ({f.describe()})")
    return 0


def _index(library: Library, args: argparse.Namespace) -> int:
    """Scan the watched folders (after adding PATHs to them) and embed what is new or changed.

    Unreadable files are listed with their reason and skipped. Exits non-zero only when
    nothing at all could be indexed, or when the model is missing: then the files' words are
    searchable, and pictures and meaning wait for the model. When mediafind runs (the window,
    `watch`), it does the work with its model, and this shows how far it is.
    example: mediafind index ~/Pictures"""
    folders = [_existing_folder(raw) for raw in args.paths]
    progress = _TerminalProgress() if sys.stderr.isatty() else None
    try:
        outcome = library.index(folders, on_progress=progress)
    finally:
        if progress:
            progress.finish()
    for path, reason in outcome.walk_errors:
        print(f"skipped folder {path}: {reason}", file=sys.stderr)
    for path in outcome.offline:
        print(f"offline, kept as it was: {path}", file=sys.stderr)
    for path, reason in outcome.errors:
        print(f"error: {path}: {reason}", file=sys.stderr)
    parts = [f"{outcome.indexed} indexed", f"{outcome.reused} reused"]
    parts += [f"{outcome.moved} moved", f"{outcome.removed} removed"]
    parts += [f"{outcome.unchanged} unchanged", f"{len(outcome.errors)} errors"]
    reset = " (new model: everything re-embedded)" if outcome.model_reset else ""
    print(f"{', '.join(parts)} in {outcome.seconds:.1f} s{reset}")
    if outcome.waiting_for_model:
        print(
            f"mediafind: {outcome.words_only} files are searchable by their words; pictures and "
            f"meaning wait for the model: {outcome.waiting_for_model}",
            file=sys.stderr,
        )
        return 2
    if outcome.errors and outcome.indexed + outcome.reused == 0:
        return 1
    return 0


def _watch(session: Session, args: argparse.Namespace) -> int:
    """Keep the library in step with the watched folders until interrupted (Ctrl-C).

    Indexes whatever is pending or changed first, then follows new, changed, moved and
    deleted files as they happen. Only one process can do this for a library at a time.
    example: mediafind watch"""
    from mediafind.instance import Server

    session.model_identity()  # a model that cannot be had is said now, not in a status line
    if not session.overview(listed=0).folders:
        raise MediafindError("no watched folders: mediafind folders add PATH")
    reporter = _WatchReporter(session)
    session.on_status(reporter)
    stop = threading.Event()
    # Ctrl-C, and the TERM a service manager or `kill` sends, both stop cleanly.
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in _STOP_SIGNALS}
    # Commands in other terminals ask this process rather than load the model themselves.
    server = Server(session)
    try:
        session.start()
        session.wait_started()
        if session.index is None:
            raise MediafindError(session.index_problem or "indexing could not start")
        server.start()
        print(f"watching {session.library_file} (Ctrl-C stops)", flush=True)
        while not stop.wait(0.2):
            if session.status().state == "stopped":
                break
        print("stopping…", file=sys.stderr, flush=True)
    finally:
        server.stop()
        session.stop()
        reporter.finish()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


_STOP_SIGNALS = [signal.SIGINT, signal.SIGTERM]


class _WatchReporter:
    """Prints what the service does: progress on one line on a terminal, a line per change of
    state otherwise, and each unreadable file once."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._progress = _TerminalProgress() if sys.stderr.isatty() else None
        self._last_state = ""
        self._errors_shown = 0

    def __call__(self, status: Status) -> None:
        from mediafind.report import Progress

        if status.state == "indexing" and status.total and self._progress is not None:
            self._progress(
                Progress(status.done, status.total, status.current, status.errors, status.rate,
                         status.eta)
            )  # fmt: skip
        if status.state != self._last_state:
            if self._progress is not None:
                self._progress.finish()
            self._last_state = status.state
            service = self._session.index
            if status.state == "idle" and service is not None:
                outcome = service.outcome
                for path, reason in outcome.errors[self._errors_shown :]:
                    print(f"error: {path}: {reason}", file=sys.stderr)
                self._errors_shown = len(outcome.errors)
                tail = f": {status.message}" if status.message else ""
                print(
                    f"up to date ({outcome.indexed} indexed, {outcome.removed} removed, "
                    f"{len(outcome.errors)} errors so far){tail}",
                    flush=True,
                )
            elif status.state != "indexing":
                print(f"{status.state}: {status.message}", flush=True)

    def finish(self) -> None:
        if self._progress is not None:
            self._progress.finish()


def _search(library: Library, args: argparse.Namespace) -> int:
    """Search photos and notes by words, by a picture (--image), or both; with filters alone
    (or nothing), list what passes them, newest first.

    The query language: "exact phrase", -word or -"phrase" to push away, + to combine words
    and pictures (2*beach + 0.5*photo.jpg weighs them), and the filters kind:photo|note,
    in:FOLDER, after:2024-01-01, before:2024-03, type:pdf and sort:date.
    examples: mediafind search dog on a beach --kind photo
              mediafind search '"blue door" -snow after:2023'
              mediafind search beach + holiday.jpg
              mediafind search --image holiday.jpg --kind note --json
              mediafind search kind:photo after:2024-06 before:2024-09"""
    query = _query(args)
    found = library.search(query, args.n)
    if found.words_only:
        print(f"mediafind: word matches only: {found.note}", file=sys.stderr)
    hits = found.hits
    if args.json:
        print(json.dumps(list(hits), indent=2))
        return 0
    text = " ".join(args.text).strip()
    if not hits:
        print("no good match" + (f" for {text!r}" if text else ""))
    bold = sys.stdout.isatty()
    for hit in hits:
        why = f"  [{', '.join(hit['why'])}]" if hit["why"] else ""
        where = _where(hit.get("location", {}))
        print(f"{hit['score']:7.4f}  {hit['kind']:5}  {hit['path']}{where}{why}")
        if hit.get("snippet"):
            print(f"{'':15}{_marked(hit['snippet'], hit['highlights'], bold)}")
    return 0


def _query(args: argparse.Namespace) -> Query:
    """The search's query, read from its words and flags; its pictures must exist."""
    from mediafind.query import parse

    query = parse(" ".join(args.text))
    if args.image is not None:
        query = query.with_image(Path(args.image).expanduser())
    folder = Path(args.folder).expanduser().absolute() if args.folder else None
    query = query.narrowed(args.kind, folder, args.sort)
    for part in query.images:
        if part.image is not None and not part.image.is_file():
            raise MediafindError(f"{part.image} is not a file")
    return query


def _where(location: dict[str, object]) -> str:
    parts = []
    if location.get("page"):
        parts.append(f"page {location['page']}")
    if location.get("heading"):
        parts.append(f"under “{location['heading']}”")
    return f"  ({', '.join(parts)})" if parts else ""


def _marked(snippet: str, spans: Sequence[tuple[int, int]], bold: bool, width: int = 160) -> str:
    """The snippet on one line with the matching words marked (bold on a terminal, else
    [brackets]), cut around the first match to about width characters."""
    first = spans[0][0] if spans else 0
    start = max(0, min(first - width // 4, len(snippet) - width))
    end = min(len(snippet), start + width)
    out, at = [], start
    for s, e in spans:
        if s < start or e > end:
            continue
        out += [snippet[at:s], "\033[1m" if bold else "[", snippet[s:e], "\033[0m" if bold else "]"]
        at = e
    out.append(snippet[at:end])
    text = " ".join("".join(out).split())
    return ("…" if start > 0 else "") + text + ("…" if end < len(snippet) else "")


def _status(library: Library, args: argparse.Namespace) -> int:
    """Show the library: model, counts per kind, watched folders, recent errors.

    example: mediafind status --json"""
    view = library.overview(listed=None if args.json else 10)
    counts = view.counts or {"photo": 0, "note": 0, "pending": 0, "error": 0}
    if args.json:
        report = {
            "library": str(view.library),
            "size_bytes": view.size_bytes,
            "model": view.model,
            "writer_pid": view.writer_pid,
            "counts": counts,
            "folders": [f.to_json() for f in view.folders],
            "errors": [{"path": str(p), "reason": r} for p, r in view.errors],
            "notes": [{"path": str(p), "note": n} for p, n in view.notes],
        }
        print(json.dumps(report, indent=2))
        return 0
    pid = view.writer_pid
    print(f"library   {view.library} ({units.size(view.size_bytes)})")
    print(f"model     {view.model or 'none yet'}")
    print(
        f"indexed   {counts['photo']} photos, {counts['note']} notes; "
        f"{counts['pending']} pending, {counts['error']} errors"
    )
    print(f"watching  {f'process {pid}' if pid else 'no (run `mediafind watch`)'}")
    for f in view.folders:
        print(f"folder    {f.path}  ({f.describe()})")
    for path, reason in view.errors:
        print(f"error     {path}: {reason}")
    for path, note in view.notes:
        print(f"note      {path}: {note}")
    return 0


def _models(session: Session, args: argparse.Namespace) -> int:
    """List the model presets, the model this library uses, and where weights are kept.

    Any OpenCLIP model works as NAME:PRETRAINED, or a model folder as local-dir:PATH.
    example: mediafind --model fast index"""
    from mediafind.embed import DEFAULT_PRESET, PRESETS, weights_cache_dir

    for p in PRESETS:
        marks = " (default)" if p.name == DEFAULT_PRESET else ""
        print(f"{p.name}{marks}: {p.spec}")
        print(f"    {p.summary}")
        print(f"    licence of the weights: {p.license}")
    made_by = session.library_model.spec if session.library_model else "nothing indexed yet"
    print(f"\nmodel in use: {session.model_text}")
    print(f"library's vectors made by: {made_by}")
    print(f"downloaded weights are kept in: {weights_cache_dir()}")
    return 0


def _gui(args: argparse.Namespace) -> int:
    """Open the window: search as you type, drop a picture, folders that index themselves.
    This is what `mediafind` does without a command.

    example: mediafind --library ~/work-library gui"""
    try:
        from mediafind.gui.app import run
    except ImportError as e:
        print(f"mediafind: cannot open the window ({e}); the commands still work: "
              "mediafind --help", file=sys.stderr)  # fmt: skip
        return 2
    picture = Path(args.picture).expanduser() if getattr(args, "picture", None) else None
    if picture is not None and not picture.is_file():
        print(f"mediafind: {picture} is not a file", file=sys.stderr)
        return 2
    return run(library=args.library, model=args.model, device=args.device, verbose=args.verbose,
               picture=picture)  # fmt: skip


def _self_test(args: argparse.Namespace) -> int:
    """Check this installation end to end on generated files; never touches the library.

    example: mediafind --self-test --model local-dir:mediafind/assets/tiny-clip"""
    from mediafind import selftest

    print(f"mediafind {__version__} self-test", flush=True)

    def show(step: selftest.Step) -> None:
        print(selftest.format_step(step), flush=True)

    try:
        report = selftest.run(args.model, args.device or "auto", on_step=show)
    except MediafindError as e:
        print(f"mediafind: self-test cannot run: {e}", file=sys.stderr)
        return 2
    print(f"model {report.model} on {report.device}")
    print(f"self-test {'passed' if report.passed else 'FAILED'} in {report.seconds:.1f} s")
    return 0 if report.passed else 1


def _existing_folder(raw: str) -> Path:
    folder = Path(raw).expanduser().absolute()
    if not folder.exists():
        raise MediafindError(f"{folder} does not exist")
    if not folder.is_dir():
        raise MediafindError(f"{folder} is not a folder")
    return Path(os.path.realpath(folder)) if folder.is_symlink() else folder


class _TerminalProgress:
    """One line on stderr, rewritten in place: counts, rate, time left, current file."""

    def __init__(self) -> None:
        self._last = 0.0
        self._shown = False

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if now - self._last < 0.2 and p.done < p.total:
            return
        self._last = now
        eta = f", {units.duration(p.eta)} left" if p.eta is not None and p.done < p.total else ""
        name = p.current.name if p.current else ""
        line = f"{p.done}/{p.total} files, {p.rate:.1f}/s{eta}, {p.errors} errors  {name}"
        width = 100
        sys.stderr.write("\r" + line[:width].ljust(width))
        sys.stderr.flush()
        self._shown = True

    def finish(self) -> None:
        if self._shown:
            sys.stderr.write("\n")
            self._shown = False


# A command works on this process's session, or (served) on a Library: the running instance's
# when one answers, else this process's own.
Command = (
    Callable[["Session", argparse.Namespace], int] | Callable[["Library", argparse.Namespace], int]
)


def _add_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], name: str, func: Command
) -> argparse.ArgumentParser:
    doc = (func.__doc__ or "").strip()
    parser = subparsers.add_parser(
        name,
        help=doc.splitlines()[0],
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=func)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mediafind",
        description="Search your own photos and notes: type words to find photos, "
        "give a picture to find the notes about it. Without a command, opens the window.",
        epilog="example: mediafind index ~/Pictures && mediafind search 'red bicycle'",
    )
    parser.add_argument("--version", action="version", version=f"mediafind {__version__}")
    parser.add_argument(
        "--library",
        metavar="DIR",
        help=f"library folder (default: ${config.ENV_LIBRARY} or the user data folder)",
    )
    parser.add_argument(
        "--model",
        metavar="SPEC",
        help="a preset (fast, balanced, best, multilingual), NAME:PRETRAINED or local-dir:PATH",
    )
    parser.add_argument("--device", choices=config.DEVICES, help="where the model runs")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    parser.add_argument(
        "--alone",
        action="store_true",
        help="do the work in this process even when a running mediafind (the window, watch) "
        f"could answer (also: {config.ENV_NO_INSTANCE}=1)",
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="index generated pictures and notes in a temporary library, search them and exit "
        "0 if the right results come first (uses --model, else the bundled test model)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    folders = commands.add_parser("folders", help="add, remove or list watched folders")
    actions = folders.add_subparsers(dest="folders_command", metavar="ACTION", required=True)
    for name, func in (("add", _folders_add), ("remove", _folders_remove)):
        _add_command(actions, name, func).add_argument("paths", nargs="+", metavar="PATH")
    actions.choices["add"].add_argument(
        "--polling",
        choices=("auto", "always", "never"),
        default="auto",
        help="look for changes by polling (auto: only on network and removable drives)",
    )
    _add_command(actions, "list", _folders_list)

    index = _add_command(commands, "index", _index)
    index.add_argument("paths", nargs="*", metavar="PATH", help="folders to watch and index")

    _add_command(commands, "watch", _watch)

    search = _add_command(commands, "search", _search)
    search.add_argument("text", nargs="*", metavar="TEXT", help="words, filters, pictures")
    search.add_argument("--image", metavar="FILE", help="search with a picture (too)")
    search.add_argument("-n", type=_positive, default=20, metavar="N", help="results (20)")
    search.add_argument("--kind", choices=("photo", "note", "all"), help="default: all")
    search.add_argument("--sort", choices=("relevance", "date"), help="default: relevance")
    search.add_argument("--folder", metavar="DIR", help="only results inside this folder")
    search.add_argument("--json", action="store_true", help="print a JSON array, best first")

    status = _add_command(commands, "status", _status)
    status.add_argument("--json", action="store_true", help="print a JSON object")

    _add_command(commands, "models", _models)
    doc = (_gui.__doc__ or "").strip()
    gui = commands.add_parser(
        "gui",
        help="open the window (the default without a command)",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # The desktop entry's "Open With" (Exec=mediafind gui %f) hands a picture over this way.
    gui.add_argument("picture", nargs="?", metavar="PICTURE", help="start a search by it")
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _configure_logging(verbose: bool) -> None:
    """mediafind's own warnings always; other libraries' chatter (download retries, open_clip's
    messages, which our errors already sum up) only with --verbose."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "mediafind", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler()
    handler.mediafind = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    if not verbose:
        handler.addFilter(lambda record: record.name.startswith("mediafind"))
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    if not verbose:
        logging.getLogger("huggingface_hub").setLevel(logging.ERROR)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    if os.name == "posix":
        # File names that are not valid UTF-8 print as the bytes they are.
        for stream in (sys.stdout, sys.stderr):
            if hasattr(stream, "reconfigure"):
                stream.reconfigure(errors="surrogateescape")
    if args.self_test:
        return _self_test(args)
    if args.command in (None, "gui"):
        return _gui(args)
    try:
        return _run(args)
    except BrokenPipeError:
        # Output piped into `head` or a closed pager: not an error. Silence the final flush.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _run(args: argparse.Namespace) -> int:
    try:
        served = args.func in _SERVED
        if served and (running := _running_instance(args)) is not None:
            answered: int = args.func(running, args)
            return answered
        from mediafind.instance import Local
        from mediafind.session import OpenClipSource, Options, Session

        options = Options(library=args.library, model=args.model, device=args.device)
        # `watch` runs for hours: its model lives in a process of its own (modelhost.py).
        session = Session(options, OpenClipSource(hosted=args.func is _watch))
        result: int = args.func(Local(session) if served else session, args)
        return result
    except MediafindError as e:
        print(f"mediafind: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mediafind: interrupted", file=sys.stderr)
        return 130


# What a running instance answers; the commands that need the model among them.
_SERVED = (_folders_add, _folders_remove, _folders_list, _index, _search, _status)
_USES_MODEL = (_index, _search)


def _running_instance(args: argparse.Namespace) -> Remote | None:
    """The running instance of the library (the window, `watch`) when it can answer this
    command as this process would; None to do the work here. A model asked for (--model,
    MEDIAFIND_MODEL) that is not the instance's: a search runs here with it, an index is
    refused (the instance holds the library)."""
    from mediafind import instance

    if args.alone or instance.disabled():
        return None
    try:
        settings = config.load_settings()
    except MediafindError:
        return None  # said by the command, run here
    wanted = args.model or os.environ.get(config.ENV_MODEL)
    running = instance.connect(config.library_dir(args.library, settings), wanted)
    if running is None or running.same_model or args.func not in _USES_MODEL:
        return running
    if args.func is _index:
        raise MediafindError(
            f"mediafind (pid {running.pid}) is running on this library with the model "
            f"{running.model}; close it to index with {wanted}"
        )
    print(
        f"mediafind: the running mediafind (pid {running.pid}) uses the model {running.model}; "
        f"searching here with {wanted}",
        file=sys.stderr,
    )
    return None
