"""The command line: one function per command; each docstring is the command's help."""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from mediafind import __version__, config, units
from mediafind.errors import (
    UNAVAILABLE,
    LibraryBusy,
    LibraryDamaged,
    MediafindError,
    ModelUnavailable,
    NoLibrary,
    describe,
    nothing_to_read,
)

if TYPE_CHECKING:
    from mediafind.instance import Library, Remote
    from mediafind.keeper import Status
    from mediafind.query import Query
    from mediafind.report import Indexed, Progress
    from mediafind.session import Session

log = logging.getLogger("mediafind")


def _folders_add(library: Library, args: argparse.Namespace) -> int:
    """Add folders to the library: their photos and notes are indexed by `index` (or at once by
    a running mediafind) and followed by `watch`.

    Network shares and removable drives are polled (their changes are not announced);
    --polling always|never overrides that guess for these folders.
    example: mediafind folders add ~/Pictures ~/Documents/notes"""
    polling = {"auto": None, "always": True, "never": False}[args.polling]
    folders = [_existing_folder(raw) for raw in args.paths]  # all checked before any is added
    known = [f.path for f in library.overview(listed=0).folders]
    added, watching = 0, False
    for folder in folders:
        if folder in known:
            print(f"{folder} is already in the library")
            continue
        answer = library.add_folder(folder, polling)
        _say_created(args)
        if answer.where != folder:
            print(f"{folder} is already in the library, inside {answer.where}")
            continue
        added += 1
        watching = answer.indexing
        chosen = f" (polling: {args.polling})" if polling is not None else ""
        said = f"watching {folder}{chosen}" if watching else f"added {folder}{chosen}"
        # A folder above folders of the library takes them in, with their files (Store.add_root).
        inner = [k for k in known if k.is_relative_to(folder)]
        if inner:
            taken = f"{len(inner)} folders" if len(inner) > 1 else "a folder"
            said += f"; it takes in {taken} already in the library: {', '.join(map(str, inner))}"
        print(said)
        known = [folder] + [k for k in known if k not in inner]
    if added and watching:
        print(f"mediafind (pid {library.served_by}) is indexing now: `mediafind status` shows "
              "how far it is")  # fmt: skip
    elif added:
        them = "them" if added > 1 else "it"
        print(f"`mediafind index` indexes {them} now; `mediafind watch` keeps {them} indexed "
              "as files change")  # fmt: skip
    return 0


def _folders_remove(library: Library, args: argparse.Namespace) -> int:
    """Take folders out of the library and forget what was indexed from them (the files stay
    on disk).

    example: mediafind folders remove ~/Downloads"""
    status = 0
    for raw in args.paths:
        folder = Path(raw).expanduser().absolute()
        if library.remove_folder(folder):
            print(f"removed {folder} from the library (its files stay on disk)")
            continue
        status = 2
        known = [f.path for f in library.overview(listed=0).folders]
        above = next((k for k in known if folder.is_relative_to(k)), None)
        why = (
            f"it is inside {above}, which is: only a whole folder of the library can be removed"
            if above is not None
            else "`mediafind folders list` shows what is"
        )
        print(f"mediafind: {folder} is not in the library; {why}", file=sys.stderr)
    return status


def _folders_list(library: Library, args: argparse.Namespace) -> int:
    """List the library's folders with their state, file and error counts.

    example: mediafind folders list"""
    folders = library.overview(listed=0).folders
    if not folders:
        print("no folders in the library yet: mediafind folders add FOLDER")
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
    progress = TerminalProgress() if sys.stderr.isatty() else None
    try:
        outcome = library.index(folders, on_progress=progress)
    except LibraryDamaged as e:
        print(f"mediafind: {e}", file=sys.stderr)
        return 1  # nothing was written; the doctor says what and repairs it
    finally:
        if progress:
            progress.finish()
    _say_created(args)
    for path, reason in outcome.walk_errors:
        print(f"skipped folder {path}: {reason}", file=sys.stderr)
    for path in outcome.offline:
        print(f"offline, kept as it was: {path}", file=sys.stderr)
    for path, reason in outcome.errors:
        print(unreadable_line(path, reason), file=sys.stderr)
    # Files found unreadable before, and unchanged since, are not read again: still unreadable.
    counts = library.overview(listed=0).counts
    line = summary(outcome, counts.get("error", 0))
    if outcome.waiting_for_model:
        words = outcome.words_only
        line += f"; {_waiting(counts.get('pending', 0))}"
        if words:
            line += f" ({_count(words, 'file')} searchable by {'its' if words == 1 else 'their'}"
            line += " words meanwhile)"
    print(line)
    if outcome.waiting_for_model:
        print(
            f"mediafind: pictures and meaning wait for the model (their words are searchable "
            f"meanwhile): {outcome.waiting_for_model}",
            file=sys.stderr,
        )
        return 2
    if outcome.errors and outcome.indexed + outcome.reused == 0:
        return 1
    return 0


def summary(done: Indexed, unreadable: int = 0) -> str:
    """What an index run did, on one line: the files it looked at, the parts of them that are
    not zero, and how many cannot be read: those it tried (listed above it, with their reasons)
    and, of the library's unreadable files (unreadable), those unchanged since an earlier run."""
    empty = sum(1 for _, reason in done.errors if nothing_to_read(reason))
    tried = len(done.errors) - empty
    earlier = max(0, min(unreadable - tried, done.unchanged))
    unread = tried + earlier
    seen = done.indexed + done.reused + done.moved + done.unchanged + tried + empty
    parts = [
        f"{count:,} {what}"
        for count, what in (
            (done.indexed + done.reused, "new or changed"),
            (done.moved, "moved"),
            (done.unchanged - earlier, "unchanged"),
            (done.removed, "removed"),
        )
        if count
    ]
    line = f"Indexed {_count(seen, 'file')} in {units.duration(done.seconds)}"
    if parts:
        line += f" ({', '.join(parts)})"
    if done.model_reset:
        line += ", all embedded again for the new model"
    tails = [line]
    if unread:
        where = "`mediafind status` lists them"
        if tried:
            where = f"{tried:,} listed above; {where} all" if earlier else f"listed above; {where}"
        tails.append(f"{unread:,} could not be read ({where})")
    if empty:
        holds = "holds" if empty == 1 else "hold"
        tails.append(f"{empty:,} {holds} nothing to index (listed above)")
    if done.walk_errors:
        tails.append(f"{_count(len(done.walk_errors), 'folder')} could not be opened")
    if done.offline:
        tails.append(f"{_count(len(done.offline), 'folder')} offline, kept as it was")
    return "; ".join(tails)


def unreadable_line(path: Path, reason: str) -> str:
    """A file an index run could not use: "could not read PATH: why", or, for a file that
    holds nothing to index (empty, a scan without text), "nothing to index in PATH: why"."""
    said = "nothing to index in" if nothing_to_read(reason) else "could not read"
    return f"{said} {path}: {reason}"


def _waiting(n: int) -> str:
    return f"{n:,} {'file waits' if n == 1 else 'files wait'} for the model"


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}" + ("" if n == 1 else "s")


def _say_created(args: argparse.Namespace) -> None:
    """Once, when this command made the library: "created a new library at DIR"."""
    new: Path | None = getattr(args, "new_library", None)
    if new is not None and (new / config.LIBRARY_FILE).exists():
        print(f"created a new library at {new}")
        args.new_library = None


def _watch(session: Session, args: argparse.Namespace) -> int:
    """Keep the library in step with the watched folders until interrupted (Ctrl-C).

    Indexes whatever is pending or changed first, then follows new, changed, moved and
    deleted files as they happen. Only one process can do this for a library at a time.
    example: mediafind watch"""
    from mediafind.instance import Server

    session.model_identity()  # a model that cannot be had is said now, not in a status line
    if not session.overview(listed=0).folders:
        raise MediafindError(
            "no folders in the library: add one with `mediafind folders add FOLDER`"
        )
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
        service = session.index
        if service is None:
            raise session.index_error or MediafindError(
                session.index_problem or "indexing could not start"
            )
        server.start()
        print(f"watching the folders of {session.library_dir} (Ctrl-C stops)", flush=True)
        while not stop.wait(0.2):
            if session.status().state == "stopped":
                if isinstance(service.failure, MediafindError):
                    raise service.failure  # a library error, said as the command's own
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
        self._progress = TerminalProgress() if sys.stderr.isatty() else None
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
                    print(unreadable_line(path, reason), file=sys.stderr)
                self._errors_shown = len(outcome.errors)
                print(self._idle_line(outcome.indexed, outcome.removed, len(outcome.errors),
                                      status.message), flush=True)  # fmt: skip
            elif status.state != "indexing":
                print(f"{status.state}: {status.message}", flush=True)

    def _idle_line(self, indexed: int, removed: int, unread: int, message: str) -> str:
        """Up to date, or (the model missing) how many files wait for it and why."""
        from mediafind.session import MODEL_MISSING

        so_far = f"{indexed:,} indexed, {removed:,} removed, {unread:,} could not be read so far"
        if self._session.model_state == MODEL_MISSING:
            pending = self._session.overview(listed=0).counts.get("pending", 0)
            problem = self._session.model_problem or message
            return (f"{_waiting(pending)} ({so_far}; their words are "
                    f"searchable meanwhile): {problem}")  # fmt: skip
        tail = f": {message}" if message else ""
        return f"up to date ({so_far}){tail}"

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
              mediafind search kind:photo after:2024-06 before:2024-09
              mediafind search --all a red bicycle  # below the relevance cutoff too"""
    query = _query(args)
    found = library.search(query, args.n, cutoff=not args.all)
    if found.words_only:
        print(f"mediafind: word matches only: {found.note}", file=sys.stderr)
    hits = found.hits
    if args.json:
        print(json.dumps(list(hits), indent=2))
        if found.hidden:
            # Beside the array, as the words-only note: a script's `jq '.[]'` stays as it was.
            print(f"mediafind: {hidden_line(found.hidden)}", file=sys.stderr)
        return 0
    text = " ".join(args.text).strip()
    if not hits:
        print("no good match" + (f" for {text!r}" if text else ""))
    bold = sys.stdout.isatty()
    for hit in hits:
        why = f"  [{', '.join(hit['why'])}]" if hit["why"] else ""
        where = _where(hit.get("location", {}))
        print(f"{match_bar(float(hit['score']))}  {hit['kind']:5}  {hit['path']}{where}{why}")
        if hit.get("snippet"):
            print(f"{'':14}{_marked(hit['snippet'], hit['highlights'], bold)}")
    if found.hidden:
        print(hidden_line(found.hidden))
    return 0


def hidden_line(hidden: int) -> str:
    """What a search says of the photos the library's calibrated relevance cutoff hid."""
    return f"{_count(hidden, 'more photo')} below your library's relevance cutoff; --all shows them"


# Dots in a search result's match bar: enough to tell a sure match from a loose one, without
# numbers that would suggest a precision the scores (shares of the best evidence) do not have.
BAR_DOTS = 5


def match_bar(score: float) -> str:
    """A result's score (0..1) as filled dots, ●●●○○; blank for a listing without a query."""
    if score <= 0:
        return " " * BAR_DOTS
    filled = max(1, min(BAR_DOTS, round(score * BAR_DOTS)))
    return "●" * filled + "○" * (BAR_DOTS - filled)


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
    """Show the library: model, counts per kind, watched folders, the files that could not be
    read (and those that hold nothing to index: empty, or scans without text).

    example: mediafind status --json"""
    view = library.overview(listed=None if args.json else 10)
    counts = {"photo": 0, "note": 0, "pending": 0, "error": 0, "empty": 0, **view.counts}
    if args.json:
        from mediafind.report import json_path

        report = {
            "library": str(view.library),
            "size_bytes": view.size_bytes,
            "model": view.model,
            "writer_pid": view.writer_pid,
            "counts": counts,
            "folders": [f.to_json() for f in view.folders],
            "errors": [{**json_path(p), "reason": r} for p, r in view.errors],
            "empty": [{**json_path(p), "reason": r} for p, r in view.empty],
            "notes": [{**json_path(p), "note": n} for p, n in view.notes],
            "photos_with_people": view.named.get("with_people", 0),
            "photos_with_place": view.named.get("with_place", 0),
        }
        print(json.dumps(report, indent=2))
        return 0
    pid = view.writer_pid
    print(f"library   {view.library} ({units.size(view.size_bytes)})")
    print(f"model     {view.model or 'none yet'}")
    print(
        f"indexed   {counts['photo']} photos, {counts['note']} notes; "
        f"{counts['pending']} pending, {counts['error']} could not be read"
        + (f", {counts['empty']} hold nothing to index" if counts["empty"] else "")
    )
    people, placed = view.named.get("with_people", 0), view.named.get("with_place", 0)
    if people or placed:
        print(f"people    {people} photos name people, {placed} have a place")
    print(f"watching  {f'process {pid}' if pid else 'no (run `mediafind watch`)'}")
    for f in view.folders:
        print(f"folder    {f.path}  ({f.describe()})")
    for path, reason in view.errors:
        print(f"error     {path}: {reason}")
    for path, reason in view.empty:
        print(f"empty     {path}: {reason}")
    for path, note in view.notes:
        print(f"note      {path}: {note}")
    return 0


def _duplicates(session: Session, args: argparse.Namespace) -> int:
    """List groups of duplicate photos: exact copies and near-copies (resized, recompressed,
    lightly cropped or edited, burst shots, one shot in two formats), each with the photo to
    keep and why (the largest picture, then the oldest, then one with its camera's date).
    Nothing is moved or deleted; the window's Find Duplicates moves the others to the Trash.

    example: mediafind duplicates ~/Pictures/2024 --json"""
    from mediafind import dupes

    folders = [_existing_folder(raw) for raw in args.folders]
    store = session.open_reader()
    if store is None:
        raise NoLibrary(f"no library at {session.library_file}")
    with store:
        groups = dupes.find(store, folders)
    if args.json:
        print(json.dumps({"groups": [g.to_json() for g in groups]}, indent=2))
        return 0
    if not groups:
        print("No duplicate photos found.")
        return 0
    extra = sum(len(g.others) for g in groups)
    spare = units.size(sum(g.spare_bytes for g in groups))
    print(f"{_count(len(groups), 'group')} of duplicates: {_count(extra, 'photo')} besides "
          f"the ones to keep, {spare} to free")  # fmt: skip
    for g in groups:
        print(f"\n{g.kind}, {units.size(g.spare_bytes)} to free; keep the first: {g.why}")
        for p in g.photos:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(dupes.date_of(p)))
            print(f"  {'keep ' if p is g.keeper else 'extra'}  {p.path}  {p.width}×{p.height}  "
                  f"{units.size(p.size)}  {when}")  # fmt: skip
    return 0


def _doctor(session: Session, args: argparse.Namespace) -> int:
    """Check the library for damage; with --repair, repair it, keeping what is sound.

    The quick check takes seconds; --full also reads every page and every vector. The repair
    rebuilds a damaged keyword index, removes what belongs to nothing, sends files with bad
    vectors back to be embedded, and moves a library beyond repair aside (never deleting it)
    for a new one with the same folders. It needs the library to itself: close the window or
    `watch` first. Exits 0 when the library is sound or was repaired, 1 when damage remains.
    example: mediafind doctor --repair"""
    from mediafind.doctor import DAMAGED, OK

    report = session.check_library_health(full=args.full)
    repaired = None
    if args.repair and (report.damaged or report.repairable):
        try:
            repaired = session.repair_library(full=args.full)
        except LibraryBusy as e:
            raise LibraryBusy(
                f"{e}. The repair needs the library to itself: close the window or `watch` "
                "(or use Help → Check Library in the window)"
            ) from e
        before, report = report, session.check_library_health(full=args.full)
    healthy = report.healthy
    if args.json:
        out: dict[str, object] = report.to_json()
        if repaired is not None:
            out["before"], out["repaired"] = before.to_json(), repaired.to_json()
        print(json.dumps(out, indent=2))
        return 0 if healthy else 1
    if repaired is not None:
        for line in before.findings:
            if line.verdict != OK:
                print(f"{line.verdict.upper():8} {line.check}: {line.said}")
        for done in repaired.done:
            print(f"repaired {done}")
        print()
    for line in report.findings:
        label = line.verdict.upper() if line.verdict == DAMAGED else line.verdict
        print(f"{label:8} {line.check}" + (f": {line.said}" if line.said else ""))
    what = "full check" if report.full else "quick check"
    took = units.duration(report.seconds)
    if not healthy:
        count = len(report.damaged)
        print(f"{_count(count, 'problem')} found ({what}, {took}).")
        steps = [f.repair for f in report.damaged if f.repair]
        if repaired is not None:
            print("The repair did not fix everything; the lines above say what remains.")
        elif steps:
            print(f"Next: `mediafind doctor --repair` will {'; '.join(steps)}.")
        return 1
    print(f"The library is sound ({what}, {took}).")
    if repaired is not None:
        if repaired.moved_to is not None:
            if repaired.folders_lost:
                print("The damaged library's folders could not be read: add them again with "
                      "`mediafind folders add FOLDER`, then run `mediafind index`.")  # fmt: skip
            else:
                folders = _count(len(repaired.folders), "folder")
                print(f"Next: `mediafind index` indexes the {folders} again.")
        elif repaired.reindex:
            print("Next: `mediafind index` embeds the files that were sent back (a running "
                  "window or `watch` does it by itself).")  # fmt: skip
    elif report.repairable:
        print("Next: `mediafind doctor --repair` tidies what the warnings above say.")
    elif not report.full:
        print("`mediafind doctor --full` also reads every page and every vector.")
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
    if not session.library_file.is_file():
        made_by = f"no library at {session.library_dir} yet"
    print(f"\nmodel in use: {session.model_text}")
    print(f"library's vectors made by: {made_by}")
    print(f"downloaded weights are kept in: {weights_cache_dir()}")
    return 0


def _eval(session: Session, args: argparse.Namespace) -> int:
    """Measure how well search works: text -> photo and photo -> text Recall@1/5/10, MRR and
    mAP (with 95 % intervals) on captioned photos, for each --model side by side with its speed.

    SET: the library's captioned photos (default), a folder of photos with sidecar captions or
    a captions.json, or a Karpathy JSON (dataset_flickr30k.json) with its photos under
    --images. Also measures the similarity above which a caption finds its own photo with
    --precision; --apply keeps it in the library for search (the only write eval makes).
    example: mediafind eval dataset_flickr30k.json --images flickr30k-images --model fast"""
    from mediafind import evaluate_run, evaluate_sets

    source = Path(args.set).expanduser() if args.set else None
    images = Path(args.images).expanduser() if args.images else None
    found = evaluate_run.the_set(session, source, images, args.split)
    for line in evaluate_sets.missing_lines(found):
        print(f"mediafind: {line}", file=sys.stderr)
    shown = sys.stderr.isatty()

    def said(step: evaluate_run.Step) -> None:
        line = f"{step.what} ({100 * step.done // max(1, step.total)} % of the run)"
        sys.stderr.write("\r" + line[:LINE_WIDTH].ljust(LINE_WIDTH))

    try:
        report = evaluate_run.run(
            session, found, args.eval_models or (), args.precision, said if shown else None
        )
    finally:
        if shown:
            sys.stderr.write("\n")
    for measured in report.models:
        for path, reason in measured.unreadable:
            print(unreadable_line(path, reason), file=sys.stderr)
    applied = []
    if args.apply:
        for measured in report.models:
            if measured.cutoff is not None:
                evaluate_run.apply(session, measured)
                applied.append(measured)
    if args.json:
        out = report.to_json()
        out["applied"] = [m.spec for m in applied]
        print(json.dumps(out, indent=2))
        return 0
    print(f"{report.set_name}: {report.photos:,} photos, {report.pairs:,} captions")
    print(report.table())
    print(f"Suggested model: {report.suggested.spec}")
    for measured in applied:
        assert measured.cutoff is not None
        print(f"Applied the cutoff {measured.cutoff.similarity:.3f} for {measured.spec}: its "
              "searches now show photos above it.")  # fmt: skip
    if args.apply and not applied:
        print(f"No similarity reaches precision {args.precision:g}: no cutoff was applied.")
    return 0


def _precision(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError("must be above 0 and at most 1, e.g. 0.9")
    return value


def _gui(args: argparse.Namespace) -> int:
    """Open the window: search as you type, drop a picture, folders that index themselves.
    This is what `mediafind` does without a command.

    example: mediafind --library ~/work-library gui"""
    try:
        from mediafind.gui.app import run
    except ImportError as e:
        print(f"mediafind: cannot open the window ({e}); the commands still work: "
              "mediafind --help", file=sys.stderr)  # fmt: skip
        return 1
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


# The time left is a guess from the rate so far, shown once it means something: the first
# seconds are slow (the model loads, the first batch fills), and a rate over a handful of files
# swings wildly. After ETA_SECONDS, and once ETA_FILES files or ETA_SHARE of the work are done.
ETA_SECONDS = 5.0
ETA_FILES = 20
ETA_SHARE = 0.05
# The line is rewritten at most this often: faster is flicker, and costs a terminal real time.
REDRAW_SECONDS = 0.2
LINE_WIDTH = 100


class TerminalProgress:
    """One line on stderr, rewritten in place: files done of all, files that could not be read,
    the rate and time left (once they mean something), the current file."""

    def __init__(
        self, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._stream = stream
        self._clock = clock
        self._started: float | None = None
        self._last = -REDRAW_SECONDS
        self._shown = False

    def line(self, p: Progress) -> str:
        """The line for this much progress (and the time since the first report)."""
        now = self._clock()
        if self._started is None:
            self._started = now
        parts = [f"{p.done:,} of {_count(p.total, 'file')}"]
        if p.errors:
            parts.append(f"{p.errors:,} could not be read")
        settled = now - self._started >= ETA_SECONDS and (
            p.done >= ETA_FILES or p.done >= ETA_SHARE * p.total
        )
        if settled and p.eta is not None and p.done < p.total:
            parts.append(f"{p.rate:.1f} files/s, about {units.duration(p.eta)} left")
        name = p.current.name if p.current else ""
        return f"{', '.join(parts)}  {name}".rstrip()

    def __call__(self, p: Progress) -> None:
        now = self._clock()
        if now - self._last < REDRAW_SECONDS and p.done < p.total:
            return
        self._last = now
        stream = self._stream or sys.stderr
        stream.write("\r" + self.line(p)[:LINE_WIDTH].ljust(LINE_WIDTH))
        stream.flush()
        self._shown = True

    def finish(self) -> None:
        if self._shown:
            (self._stream or sys.stderr).write("\n")
            self._shown = False


# A command works on this process's session, or (served) on a Library: the running instance's
# when one answers, else this process's own.
Command = (
    Callable[["Session", argparse.Namespace], int] | Callable[["Library", argparse.Namespace], int]
)


class _Parser(argparse.ArgumentParser):
    """argparse, with a suggestion for a mistyped command."""

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if isinstance(action, argparse._SubParsersAction) and choices and value not in choices:
            names = list(choices)
            near = difflib.get_close_matches(str(value), names, n=1)
            hint = (
                f"; did you mean {near[0]!r}?" if near else f" (the commands: {', '.join(names)})"
            )
            raise argparse.ArgumentError(None, f"unknown command {value!r}{hint}")
        super()._check_value(action, value)


def _global_options(
    parser: argparse.ArgumentParser, after_command: bool, model: bool = True
) -> None:
    """The options of every command, allowed before it and after it. After it (after_command),
    one not given must not replace the value given before: its default is to be absent.
    model: False for a command with a --model of its own (eval's, repeatable)."""
    absent: dict[str, Any] = {"default": argparse.SUPPRESS} if after_command else {}
    group = parser.add_argument_group("options of every command (before or after it)")
    group.add_argument(
        "--library",
        metavar="DIR",
        help=f"library folder (default: ${config.ENV_LIBRARY} or the user data folder)",
        **absent,
    )
    if model:
        group.add_argument(
            "--model",
            metavar="SPEC",
            help="a preset (fast, balanced, best, multilingual), NAME:PRETRAINED, "
            "hf-hub:ORG/REPO or local-dir:PATH",
            **absent,
        )
    group.add_argument("--device", choices=config.DEVICES, help="where the model runs", **absent)
    group.add_argument("-v", "--verbose", action="store_true", help="log what happens", **absent)
    group.add_argument(
        "--alone",
        action="store_true",
        help="do the work in this process even when a running mediafind (the window, watch) "
        f"could answer (also: {config.ENV_NO_INSTANCE}=1)",
        **absent,
    )


def _add_command(
    subparsers: argparse._SubParsersAction[_Parser], name: str, func: Command, model: bool = True
) -> argparse.ArgumentParser:
    doc = (func.__doc__ or "").strip()
    parser = subparsers.add_parser(
        name,
        help=doc.splitlines()[0],
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_options(parser, after_command=True, model=model)
    parser.set_defaults(func=func)
    return parser


EXIT_CODES = """\
exit codes, the same for every command:
  0    done (files that could not be read are listed, and do not fail the run)
  1    nothing could be done: no file could be read, the library is busy (another
       mediafind writes it), damaged (`mediafind doctor`), on a full or read-only
       disk, the running mediafind went away, the window cannot open
  2    a usage or user error: a mistyped command or option, an unknown model, no
       library at --library or not a library there, a folder that does not exist or
       is not in the library, a picture in the query that is not there, the model is
       missing (the message says how to get it)
  130  interrupted (Ctrl-C); 143 stopped (TERM)"""


def build_parser() -> argparse.ArgumentParser:
    from mediafind.query import SORTS  # light: the standard library and the kinds

    parser = _Parser(
        prog="mediafind",
        description="Search your own photos and notes: type words to find photos, "
        "give a picture to find the notes about it. Without a command, opens the window.",
        epilog="example: mediafind folders add ~/Pictures && mediafind index && "
        f"mediafind search 'red bicycle'\n\n{EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mediafind {__version__}")
    _global_options(parser, after_command=False)
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="index generated pictures and notes in a temporary library, search them and exit "
        "0 if the right results come first (uses --model, else the bundled test model)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    folders = commands.add_parser("folders", help="add, remove or list the library's folders")
    _global_options(folders, after_command=True)
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
    index.add_argument("paths", nargs="*", metavar="PATH", help="folders to add and index")

    _add_command(commands, "watch", _watch)

    search = _add_command(commands, "search", _search)
    search.add_argument("text", nargs="*", metavar="TEXT", help="words, filters, pictures")
    search.add_argument("--image", metavar="FILE", help="search with a picture (too)")
    search.add_argument("-n", type=_positive, default=20, metavar="N", help="results (20)")
    search.add_argument("--kind", choices=("photo", "note", "all"), help="default: all")
    search.add_argument("--sort", choices=SORTS, help="default: relevance")
    search.add_argument("--folder", metavar="DIR", help="only results inside this folder")
    search.add_argument("--json", action="store_true", help="print a JSON array, best first")
    search.add_argument("--all", action="store_true",
                        help="also the photos below the library's relevance cutoff")  # fmt: skip

    status = _add_command(commands, "status", _status)
    status.add_argument("--json", action="store_true", help="print a JSON object")

    duplicates = _add_command(commands, "duplicates", _duplicates)
    duplicates.add_argument("folders", nargs="*", metavar="FOLDER", help="only photos in these")
    duplicates.add_argument("--json", action="store_true", help="print a JSON object")

    _add_command(commands, "models", _models)
    doctor = _add_command(commands, "doctor", _doctor)
    doctor.add_argument("--repair", action="store_true", help="repair what is found")
    doctor.add_argument("--full", action="store_true", help="read every page and every vector")
    doctor.add_argument("--json", action="store_true", help="print a JSON object")
    # Several models side by side: eval's own --model, repeatable, in place of the global one.
    evaluation = _add_command(commands, "eval", _eval, model=False)
    evaluation.add_argument("set", nargs="?", metavar="SET", help="default: the library's")
    evaluation.add_argument(
        "--model", action="append", dest="eval_models", metavar="SPEC",
        help="a model to measure (again for each; default: the library's own)",
    )  # fmt: skip
    evaluation.add_argument("--json", action="store_true", help="print a JSON object")
    evaluation.add_argument("--apply", action="store_true", help="keep the cutoff for search")
    evaluation.add_argument("--precision", type=_precision, default=0.9, metavar="P",
                            help="the cutoff's precision (0.9)")  # fmt: skip
    evaluation.add_argument("--split", default="test", help="of a Karpathy JSON (test)")
    evaluation.add_argument("--images", metavar="DIR", help="where a Karpathy JSON's photos are")
    doc = (_gui.__doc__ or "").strip()
    gui = commands.add_parser(
        "gui",
        help="open the window (the default without a command)",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_options(gui, after_command=True)
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
    # Python warnings of other libraries (Pillow's on odd pictures, watchdog's) are log records
    # (py.warnings), shown with --verbose, rather than lines on stderr.
    logging.captureWarnings(True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    if os.name == "posix":
        # File names that are not valid UTF-8 print as the bytes they are.
        for stream in (sys.stdout, sys.stderr):
            if hasattr(stream, "reconfigure"):
                stream.reconfigure(errors="surrogateescape")
    try:
        _check_model(args)
    except MediafindError as e:
        print(f"mediafind: {e}", file=sys.stderr)
        return 2
    if args.self_test:
        return _self_test(args)
    if args.command in (None, "gui"):
        return _gui(args)
    try:
        code = _run(args)
    except BrokenPipeError:
        # Output piped into `head` or a closed pager: not an error. Silence the final flush.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if getattr(args, "interrupted", False) and argv is None:
        # The program itself (not a caller of main): leave now. Python's exit would wait for a
        # decode thread still busy with a large file (it joins pool threads); the library is
        # consistent already, each batch being written in one transaction or not at all.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _check_model(args: argparse.Namespace) -> None:
    """A model named on the command line (or in MEDIAFIND_MODEL) that no model can be: refused
    before any work, before a running mediafind is asked. Whether its weights can be had is
    learnt when it is loaded."""
    from mediafind.presets import PRESETS, parse_spec

    named_by = "--model" if args.model else config.ENV_MODEL
    text = args.model or os.environ.get(config.ENV_MODEL)
    if not text:
        return
    try:
        parse_spec(text)
    except ModelUnavailable as e:
        if ":" in text:
            raise  # local-dir: without a folder: its own message says what it needs
        names = [p.name for p in PRESETS]
        near = difflib.get_close_matches(text.strip(), names, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else "."
        raise ModelUnavailable(
            f"unknown model {text!r} ({named_by}){hint} The presets: {', '.join(names)}; any "
            "OpenCLIP model works as NAME:PRETRAINED (e.g. ViT-B-32:laion2b_s34b_b79k), "
            "hf-hub:ORG/REPO or local-dir:PATH; `mediafind models` describes the presets"
        ) from e


class _Terminated(KeyboardInterrupt):
    """TERM (from `kill` or a service manager), which stops a command as Ctrl-C does."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated


def _run(args: argparse.Namespace) -> int:
    from mediafind.instance import InstanceError

    # Nothing could be done now, and nothing was wrong with what was asked: exit 1.
    not_now: tuple[type[Exception], ...] = (*UNAVAILABLE, InstanceError)
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if on_main_thread else None
    try:
        served = args.func in _SERVED
        if served and (running := _running_instance(args)) is not None:
            answered: int = args.func(running, args)
            return answered
        from mediafind.instance import Local
        from mediafind.session import OpenClipSource, Options, Session

        options = Options(library=args.library, model=args.model, device=args.device)
        # `watch` runs for hours: its model lives in a process of its own (modelhost.py).
        # The doctor examines a library that may not open: a session that notes it and goes on.
        tolerant = args.func is _doctor
        session = Session(options, OpenClipSource(hosted=args.func is _watch), tolerant=tolerant)
        # eval of a set of its own reads no library (unless it is to keep a cutoff there).
        apart = args.func is _eval and args.set and not args.apply
        if args.func is not _models and not apart:
            # `index` without folders has nothing to put in a new library: it makes none.
            creates = args.func is _folders_add or (args.func is _index and args.paths)
            existed = session.check_library(create=creates)
            args.new_library = None if existed else session.library_dir
        result: int = args.func(Local(session) if served else session, args)
        return result
    except NoLibrary as e:
        library = f"--library {args.library} " if args.library else ""
        print(f"mediafind: {e}; add a folder with `mediafind {library}folders add FOLDER` to "
              "create one", file=sys.stderr)  # fmt: skip
        return 2
    except not_now as e:
        # Busy, damaged, full, read-only, or the running mediafind went away.
        print(f"mediafind: {e}", file=sys.stderr)
        return 1
    except MediafindError as e:
        print(f"mediafind: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        # The disk said no (permissions, a full disk): one line, not a traceback.
        print(f"mediafind: {describe(e)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        print("mediafind: interrupted", file=sys.stderr)
        args.interrupted = True
        return 128 + (signal.SIGTERM if isinstance(e, _Terminated) else signal.SIGINT)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


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
        raise LibraryBusy(
            f"mediafind (pid {running.pid}) is running on this library with the model "
            f"{running.model}; close it to index with {wanted}"
        )
    print(
        f"mediafind: the running mediafind (pid {running.pid}) uses the model {running.model}; "
        f"searching here with {wanted}",
        file=sys.stderr,
    )
    return None
