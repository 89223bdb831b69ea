"""The commands of the command line: one function per command, each given the session (or,
for the commands a running mediafind answers, a Library) and the parsed arguments; each
docstring is the command's help. They print for a person (mediafind.terminal) or JSON."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from mediafind import config, units
from mediafind.errors import LibraryBusy, LibraryDamaged, MediafindError, NoLibrary
from mediafind.terminal import (
    LINE_WIDTH,
    TerminalProgress,
    hidden_line,
    marked,
    match_bar,
    plural,
    summary,
    unreadable_line,
    waiting,
    where_in,
)

if TYPE_CHECKING:
    from mediafind.instance import Library
    from mediafind.keeper import Status
    from mediafind.query import Query
    from mediafind.session import Session


def folders_add(library: Library, args: argparse.Namespace) -> int:
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


def folders_remove(library: Library, args: argparse.Namespace) -> int:
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


def folders_list(library: Library, args: argparse.Namespace) -> int:
    """List the library's folders with their state, file and error counts.

    example: mediafind folders list"""
    folders = library.overview(listed=0).folders
    if not folders:
        print("no folders in the library yet: mediafind folders add FOLDER")
    for f in folders:
        print(f"{f.path}  ({f.describe()})")
    return 0


def index(library: Library, args: argparse.Namespace) -> int:
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
        line += f"; {waiting(counts.get('pending', 0))}"
        if words:
            line += f" ({plural(words, 'file')} searchable by {'its' if words == 1 else 'their'}"
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


def _say_created(args: argparse.Namespace) -> None:
    """Once, when this command made the library: "created a new library at DIR"."""
    new: Path | None = getattr(args, "new_library", None)
    if new is not None and (new / config.LIBRARY_FILE).exists():
        print(f"created a new library at {new}")
        args.new_library = None


def watch(session: Session, args: argparse.Namespace) -> int:
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
            return (f"{waiting(pending)} ({so_far}; their words are "
                    f"searchable meanwhile): {problem}")  # fmt: skip
        tail = f": {message}" if message else ""
        return f"up to date ({so_far}){tail}"

    def finish(self) -> None:
        if self._progress is not None:
            self._progress.finish()


def search(library: Library, args: argparse.Namespace) -> int:
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
        for sentence in found.unknown:
            print(f"mediafind: {sentence}", file=sys.stderr)
        return 0
    text = " ".join(args.text).strip()
    if not hits:
        print("no good match" + (f" for {text!r}" if text else ""))
        for sentence in found.unknown:
            print(f"  {sentence}.")
    bold = sys.stdout.isatty()
    for hit in hits:
        why = f"  [{', '.join(hit['why'])}]" if hit["why"] else ""
        where = where_in(hit.get("location", {}))
        print(f"{match_bar(float(hit['score']))}  {hit['kind']:5}  {hit['path']}{where}{why}")
        if hit.get("snippet"):
            print(f"{'':14}{marked(hit['snippet'], hit['highlights'], bold)}")
    if found.hidden:
        print(hidden_line(found.hidden))
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


def status(library: Library, args: argparse.Namespace) -> int:
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


def duplicates(session: Session, args: argparse.Namespace) -> int:
    """List groups of duplicate photos, each with the photo to keep and why; nothing is moved.

    Exact copies and near-copies: resized, recompressed, lightly cropped or edited, burst
    shots, one shot in two formats (a RAW file and its JPEG). The photo to keep: a camera RAW
    file, else the largest picture, then the oldest, then one with its camera's date, then one
    not named or kept as a copy ("IMG_1 (1).jpg", a backup folder). The window's Edit > Find
    Duplicates moves the others to the Trash.

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
    print(f"{plural(len(groups), 'group')} of duplicates: {plural(extra, 'photo')} besides "
          f"the ones to keep, {spare} to free")  # fmt: skip
    for g in groups:
        print(f"\n{g.kind}, {units.size(g.spare_bytes)} to free; keep the first: {g.why}")
        for p in g.photos:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(dupes.date_of(p)))
            print(f"  {'keep ' if p is g.keeper else 'extra'}  {p.path}  {p.width}×{p.height}  "
                  f"{units.size(p.size)}  {when}")  # fmt: skip
    return 0


def doctor(session: Session, args: argparse.Namespace) -> int:
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
        print(f"{plural(count, 'problem')} found ({what}, {took}).")
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
                folders = plural(len(repaired.folders), "folder")
                print(f"Next: `mediafind index` indexes the {folders} again.")
        elif repaired.reindex:
            print("Next: `mediafind index` embeds the files that were sent back (a running "
                  "window or `watch` does it by itself).")  # fmt: skip
    elif report.repairable:
        print("Next: `mediafind doctor --repair` tidies what the warnings above say.")
    elif not report.full:
        print("`mediafind doctor --full` also reads every page and every vector.")
    return 0


def models(session: Session, args: argparse.Namespace) -> int:
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


def evaluate(session: Session, args: argparse.Namespace) -> int:
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


def _existing_folder(raw: str) -> Path:
    folder = Path(raw).expanduser().absolute()
    if not folder.exists():
        raise MediafindError(f"{folder} does not exist")
    if not folder.is_dir():
        raise MediafindError(f"{folder} is not a folder")
    return Path(os.path.realpath(folder)) if folder.is_symlink() else folder
