"""Walking watched folders and comparing them with the library: what is new, changed, moved or gone.

A scan is the truth about a folder; it reads only what it must: size and modification time for
every file, the content hash only for a new file that may be a moved one.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from mediafind import captions, media, roots_rows
from mediafind.errors import describe
from mediafind.store import FileRow, Root, Store

log = logging.getLogger(__name__)

# Never worth indexing: hidden files and folders, Synology thumbnails, macOS resource forks,
# version control, dependencies, Windows system folders.
DEFAULT_EXCLUDES = (
    ".*",
    "@eaDir",
    "._*",
    ".git",
    "node_modules",
    "System Volume Information",
    "$RECYCLE.BIN",
)

_HIDDEN_ATTRIBUTE = getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0)
_WINDOWS = sys.platform == "win32"
# The state of a watched folder that cannot be reached (watch.py names the others).
OFFLINE = "offline"


class Entry(NamedTuple):
    """A file found on disk that mediafind indexes (a tuple: a rescan makes one per file, and
    a frozen dataclass's __init__ costs several times more)."""

    text: str  # its path as text, as the library compares it (FileRow.path_str)
    kind: str
    size: int
    mtime_ns: int
    caption_sig: str | None = None

    @property
    def path(self) -> Path:
        return Path(self.text)


@dataclass
class Plan:
    """How one watched folder differs from the library."""

    root: Root
    online: bool = True
    added: list[Entry] = field(default_factory=list)
    changed: list[Entry] = field(default_factory=list)
    moved: list[tuple[FileRow, Entry]] = field(default_factory=list)
    vanished: list[FileRow] = field(default_factory=list)
    unchanged: int = 0
    walk_errors: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def has_work(self) -> bool:
        return bool(self.added or self.changed or self.moved or self.vanished)


class Excluder:
    """Decides which names a walk skips: the defaults plus the user's glob patterns.

    A pattern without a slash matches a file or folder name anywhere; one with a slash matches
    the path relative to the watched folder."""

    def __init__(self, patterns: Sequence[str] = ()) -> None:
        self.names = [p for p in (*DEFAULT_EXCLUDES, *patterns) if "/" not in p]
        self.paths = [p.strip("/") for p in patterns if "/" in p]
        # One regular expression per kind, as fnmatchcase would build per pattern: a scan asks
        # for every file, and seven fnmatch calls a name were a tenth of a rescan's time.
        self._names = _any_of(self.names)
        self._paths = _any_of(self.paths)

    def skips(self, name: str, relative: str, attributes: int = 0) -> bool:
        if attributes & _HIDDEN_ATTRIBUTE:
            return True
        return self.skips_name(name) or self.skips_path(relative)

    def skips_name(self, name: str) -> bool:
        return self._names is not None and self._names.match(name) is not None

    def skips_path(self, relative: str) -> bool:
        return self._paths is not None and self._paths.match(relative) is not None

    @staticmethod
    def hidden(item: os.DirEntry[str]) -> bool:
        """Hidden by the file system's attribute (Windows, where the listing has it at no cost)."""
        if not _WINDOWS:
            return False
        return bool(getattr(item.stat(), "st_file_attributes", 0) & _HIDDEN_ATTRIBUTE)


def _any_of(patterns: Sequence[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def walk(
    root: Path,
    excluder: Excluder,
    errors: list[tuple[Path, str]],
    start: Path | None = None,
    links: list[Path] | None = None,
) -> Iterator[Entry]:
    """Every indexable file under start (default: root), excludes matched relative to root.
    Follows symbolic links to folders, but enters each real folder once, so link loops end;
    given a links list, collects such links there instead of following them. Unreadable
    folders are reported in errors and skipped."""
    # On path text, not Path objects: making two Paths a file cost more than its stat.
    seen: set[tuple[int, int]] = set()
    # How much of a path comes before its part relative to root.
    prefix = len(os.path.join(os.fspath(root), ""))  # noqa: PTH118
    stack = [os.fspath(start or root)]
    while stack:
        folder = stack.pop()
        try:
            info = os.stat(folder)  # noqa: PTH116
        except OSError as e:
            errors.append((Path(folder), describe(e, with_file=False)))
            continue
        if (info.st_dev, info.st_ino) in seen:
            continue
        seen.add((info.st_dev, info.st_ino))
        try:
            with os.scandir(folder) as it:
                items = list(it)
        except OSError as e:
            errors.append((Path(folder), describe(e, with_file=False)))
            continue
        names = {item.name for item in items}
        sidecars = captions.sidecars_among(names)
        subfolders: list[str] = []
        for item in items:
            name, path = item.name, item.path
            if excluder.skips_name(name):
                continue
            if excluder.paths and excluder.skips_path(path[prefix:].replace(os.sep, "/")):
                continue
            try:
                if item.is_dir():  # follows links; from the listing itself where it can
                    if not excluder.hidden(item):
                        if links is not None and item.is_symlink():
                            links.append(Path(path))
                        else:
                            subfolders.append(path)
                    continue
                # The name decides before a stat is spent: most files that are not indexed
                # (videos, sidecars, app files) cost no system call.
                kind = media.kind_of_name(name)
                if kind is None or (kind == "note" and name in sidecars):
                    continue
                st = item.stat()  # follows links
            except OSError as e:
                if not item.is_symlink():
                    errors.append((Path(path), describe(e, with_file=False)))
                continue  # a dangling link is not an error worth showing
            if not stat.S_ISREG(st.st_mode) or excluder.hidden(item):
                continue
            caption = captions.signature_in(folder, name, names) if kind == "photo" else None
            yield Entry(path, kind, st.st_size, st.st_mtime_ns, caption)
        stack.extend(sorted(subfolders, reverse=True))


def plan(store: Store, root: Root, extra_excludes: Sequence[str] = ()) -> Plan:
    """Compare one watched folder on disk with what the library holds for it. Writes nothing."""
    result, folder, excluder = _begin(root, extra_excludes)
    if not result.online:
        return result
    entries = walk(folder, excluder, result.walk_errors)
    _compare(result, store.files_under(root.id), entries)
    return result


def plan_paths(
    store: Store, root: Root, paths: Iterable[Path], extra_excludes: Sequence[str] = ()
) -> Plan:
    """Like plan, for only these paths inside the folder (files or folders, present or gone),
    as a watcher names them. Writes nothing."""
    result, folder, excluder = _begin(root, extra_excludes)
    if not result.online:
        return result
    known: dict[str, FileRow] = {}
    entries: dict[Path, Entry] = {}
    by_parent: dict[Path, list[Path]] = {}
    linked: dict[Path, bool] = {}
    for path in paths:
        try:
            relative = path.relative_to(folder)
        except ValueError:
            continue
        if not relative.parts or _excluded(excluder, relative):
            continue
        if _through_link(folder, path.parent, linked):
            # Which of several paths to one real folder is indexed depends on the whole tree
            # (a walk enters each real folder once): let a full walk decide. Same below.
            return plan(store, root, extra_excludes)
        known.update((row.path_str, row) for row in store.files_at(path))
        if path.is_dir() and not path.is_symlink():
            links: list[Path] = []
            for entry in walk(folder, excluder, result.walk_errors, start=path, links=links):
                entries[entry.path] = entry
            if links:
                return plan(store, root, extra_excludes)
        else:
            by_parent.setdefault(path.parent, []).append(path)
    for parent, names in by_parent.items():
        for entry in _entries_in(folder, parent, names, excluder):
            entries[entry.path] = entry
            known.update((row.path_str, row) for row in store.files_at(entry.path))
    _compare(result, known, entries.values())
    return result


def _begin(root: Root, extra_excludes: Sequence[str]) -> tuple[Plan, Path, Excluder]:
    """An empty plan for root, its folder and excluder; the plan is offline when the folder is
    missing (an unplugged drive or unmounted share: its entries are kept, not forgotten)."""
    folder = root.path
    return (
        Plan(root, online=folder.is_dir()),
        folder,
        Excluder((*root.excludes, *extra_excludes)),
    )


def _through_link(root: Path, folder: Path, cache: dict[Path, bool]) -> bool:
    """Whether folder (inside root) is reached through a symbolic link."""
    if folder == root or root not in folder.parents:
        return False
    if folder not in cache:
        cache[folder] = folder.is_symlink() or _through_link(root, folder.parent, cache)
    return cache[folder]


def _excluded(excluder: Excluder, relative: Path) -> bool:
    parts = relative.parts
    return any(excluder.skips(name, "/".join(parts[: i + 1])) for i, name in enumerate(parts))


def _entries_in(root: Path, parent: Path, paths: list[Path], excluder: Excluder) -> Iterator[Entry]:
    """Entries for named files of one folder; a named caption stands for its photo."""
    try:
        names = {child.name for child in parent.iterdir()}
    except OSError:
        return
    wanted: set[Path] = set()
    for path in paths:
        owner = captions.sidecar_owner(path.name, names)
        wanted.add(parent / owner if owner else path)
    for path in wanted:
        if path.name not in names:
            continue
        try:
            st = path.stat()
        except OSError:
            continue
        kind = media.kind_of(path)
        if kind is None or not stat.S_ISREG(st.st_mode):
            continue
        if kind == "note" and captions.sidecar_owner(path.name, names):
            continue
        if excluder.skips(path.name, path.relative_to(root).as_posix()):
            continue
        caption = captions.signature(path, names) if kind == "photo" else None
        yield Entry(str(path), kind, st.st_size, st.st_mtime_ns, caption)


def _compare(result: Plan, known: dict[str, FileRow], entries: Iterable[Entry]) -> None:
    found: set[str] = set()
    for entry in entries:
        text = entry.text
        found.add(text)
        row = known.get(text)
        if row is None:
            result.added.append(entry)
        elif (row.size, row.mtime_ns, row.caption_sig) != (
            entry.size,
            entry.mtime_ns,
            entry.caption_sig,
        ) or (row.kind != entry.kind):
            result.changed.append(entry)
        elif row.status == "pending":
            result.changed.append(entry)  # left over from an interrupted run
        else:
            result.unchanged += 1
    result.vanished = [row for text, row in known.items() if text not in found]
    _find_moves(result)


def _find_moves(result: Plan) -> None:
    """Pair new files with vanished ones of the same size and content: a move or rename keeps
    its row and vectors instead of being embedded again."""
    by_size: dict[tuple[int, str], list[FileRow]] = {}
    for row in result.vanished:
        if row.hash is not None and row.status == "indexed":
            by_size.setdefault((row.size, row.kind), []).append(row)
    if not by_size:
        return
    still_added: list[Entry] = []
    for entry in result.added:
        candidates = by_size.get((entry.size, entry.kind))
        match = None
        if candidates:
            try:
                digest = media.hash_file(entry.path)
            except OSError:
                digest = None
            match = next((row for row in candidates if row.hash == digest), None)
        if match is None:
            still_added.append(entry)
            continue
        candidates.remove(match)  # type: ignore[union-attr]
        result.moved.append((match, entry))
    moved_ids = {row.id for row, _ in result.moved}
    result.added = still_added
    result.vanished = [row for row in result.vanished if row.id not in moved_ids]


@dataclass
class Reconciled:
    """What bringing the library in step with the disk found and wrote."""

    unchanged: int = 0
    moved: int = 0
    removed: int = 0
    marked: int = 0  # new and changed files, now pending
    walk_errors: list[tuple[Path, str]] = field(default_factory=list)
    offline: list[Path] = field(default_factory=list)

    @property
    def wrote(self) -> bool:
        return bool(self.moved or self.removed or self.marked)


def reconcile(
    store: Store,
    roots: Sequence[Root] | None = None,
    excludes: Sequence[str] = (),
    *,
    hints: Mapping[Path, Iterable[Path]] | None = None,
    priority: int = 0,
) -> Reconciled:
    """Bring the library in step with the disk, in one transaction: moves kept with their
    vectors, new and changed files pending (with this priority), vanished files removed, and
    folders that cannot be reached recorded as offline (their files kept).

    roots: the watched folders to look at (all by default). hints: for some of them, only
    these paths (files or folders, present or gone), as a watcher names them."""
    plans = []
    for root in roots_rows.roots(store) if roots is None else roots:
        hinted = hints.get(root.path) if hints is not None else None
        if hinted is None:
            plans.append(plan(store, root, excludes))
        else:
            plans.append(plan_paths(store, root, hinted, excludes))
    result = Reconciled()
    for p in plans:
        result.walk_errors += p.walk_errors
        result.unchanged += p.unchanged
        result.moved += len(p.moved)
        result.removed += len(p.vanished)
        result.marked += len(p.added) + len(p.changed)
        if not p.online:
            result.offline.append(p.root.path)
    offline = [p.root for p in plans if not p.online]
    if not result.wrote and not offline:
        return result
    with store.atomic():
        for p in plans:
            for row, entry in p.moved:
                store.move_file(row.id, entry.path, entry.mtime_ns)
                if entry.caption_sig != row.caption_sig:
                    _mark(store, p.root, entry, priority)
            for entry in (*p.added, *p.changed):
                _mark(store, p.root, entry, priority)
            store.delete_files(row.id for row in p.vanished)
        for root in offline:
            roots_rows.set_root_state(store, root.id, OFFLINE, "folder not found")
    return result


def _mark(store: Store, root: Root, entry: Entry, priority: int) -> None:
    store.mark_pending(
        root.id,
        entry.path,
        entry.kind,
        entry.size,
        entry.mtime_ns,
        entry.caption_sig,
        priority,
    )
