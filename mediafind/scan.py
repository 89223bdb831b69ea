"""Walking watched folders and comparing them with the library: what is new, changed, moved or gone.

A scan is the truth about a folder; it reads only what it must: size and modification time for
every file, the content hash only for a new file that may be a moved one.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mediafind import media
from mediafind.store import FileRow, Root, Store, decode_path, encode_path

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


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def hash_file(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Entry:
    """A file found on disk that mediafind indexes."""

    path: Path
    kind: str
    size: int
    mtime_ns: int
    caption_sig: str | None = None


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

    def skips(self, name: str, relative: str, attributes: int = 0) -> bool:
        if attributes & _HIDDEN_ATTRIBUTE:
            return True
        if any(fnmatch.fnmatchcase(name, p) for p in self.names):
            return True
        return any(fnmatch.fnmatchcase(relative, p) for p in self.paths)


def walk(root: Path, excluder: Excluder, errors: list[tuple[Path, str]]) -> Iterator[Entry]:
    """Every indexable file under root. Follows symbolic links to folders, but enters each real
    folder once, so link loops end. Unreadable folders are reported in errors and skipped."""
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            info = folder.stat()
        except OSError as e:
            errors.append((folder, _why(e)))
            continue
        if (info.st_dev, info.st_ino) in seen:
            continue
        seen.add((info.st_dev, info.st_ino))
        try:
            with os.scandir(folder) as it:
                items = list(it)
        except OSError as e:
            errors.append((folder, _why(e)))
            continue
        names = {item.name for item in items}
        subfolders: list[Path] = []
        for item in items:
            path = Path(item.path)
            relative = path.relative_to(root).as_posix()
            try:
                st = item.stat()  # follows links
            except OSError as e:
                if not item.is_symlink():
                    errors.append((path, _why(e)))
                continue  # a dangling link is not an error worth showing
            if excluder.skips(item.name, relative, getattr(st, "st_file_attributes", 0)):
                continue
            if stat.S_ISDIR(st.st_mode):
                subfolders.append(path)
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            kind = media.kind_of(path)
            if kind is None:
                continue
            if kind == "note" and media.caption_owner(path, names):
                continue  # a photo's sidecar caption, indexed with its photo
            caption = _caption_sig(path, names) if kind == "photo" else None
            yield Entry(path, kind, st.st_size, st.st_mtime_ns, caption)
        stack.extend(sorted(subfolders, reverse=True))


def _caption_sig(photo: Path, names: set[str]) -> str | None:
    for candidate in media.caption_candidates(photo):
        if candidate.name in names:
            try:
                st = candidate.stat()
            except OSError:
                continue
            return media.caption_signature(st.st_size, st.st_mtime_ns)
    return None


def _why(error: OSError) -> str:
    return error.strerror or str(error)


def plan(store: Store, root: Root, extra_excludes: Sequence[str] = ()) -> Plan:
    """Compare one watched folder on disk with what the library holds for it. Writes nothing."""
    result = Plan(root)
    folder = decode_path(root.path)
    if not folder.is_dir():
        # An unplugged drive or unmounted share: keep its entries rather than forget them.
        result.online = False
        return result
    known = store.files_under(root.id)
    excluder = Excluder((*root.excludes, *extra_excludes))
    found: set[bytes] = set()
    for entry in walk(folder, excluder, result.walk_errors):
        raw = encode_path(entry.path)
        found.add(raw)
        row = known.get(raw)
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
    result.vanished = [row for raw, row in known.items() if raw not in found]
    _find_moves(result)
    return result


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
                digest = hash_file(entry.path)
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


def apply(store: Store, plans: Sequence[Plan]) -> None:
    """Write what scans found into the library, in one transaction: moves, new and changed files
    as pending, vanished files removed."""
    with store.atomic():
        for p in plans:
            for row, entry in p.moved:
                store.move_file(row.id, encode_path(entry.path), entry.mtime_ns)
                if entry.caption_sig != row.caption_sig:
                    _mark(store, p.root, entry)
            for entry in (*p.added, *p.changed):
                _mark(store, p.root, entry)
            store.delete_files(row.id for row in p.vanished)


def _mark(store: Store, root: Root, entry: Entry) -> None:
    store.mark_pending(
        root.id, encode_path(entry.path), entry.kind, entry.size, entry.mtime_ns, entry.caption_sig
    )
