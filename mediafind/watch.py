"""Watching folders: watchdog observers whose events are coalesced into change sets.

Events are hints, never the truth: a change set only names paths that may have changed; the
indexing service compares them with the disk. Bursts are debounced per path, and a full rescan is
asked for whenever events may have been lost (queue overflow, an observer that died, a watch
limit reached).
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from mediafind.errors import describe
from mediafind.scan import OFFLINE

log = logging.getLogger(__name__)

# A path is handed over once no event has touched it for this long: long enough for a copy or
# an editor's save sequence to finish, short enough that a new photo shows up promptly.
QUIET_SECONDS = 1.5
# ... but never later than this after its first event, so a file written for minutes (or a
# folder receiving a steady stream) is still indexed as it goes.
MAX_DELAY_SECONDS = 10.0
# How often polling observers walk their folders. Polling a network share costs I/O on the
# server; a minute keeps that small while new files still appear the same hour they land.
POLL_SECONDS = 60.0

# File systems where native change notification is absent or unreliable: network shares, FUSE
# mounts, and the FAT family used by removable media.
REMOTE_FILESYSTEMS = frozenset(
    {
        "nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "afs", "9p", "ncpfs", "davfs",
        "fuse.sshfs", "sshfs", "fuse.rclone", "fuse.gvfsd-fuse", "fuseblk", "exfat", "vfat",
        "msdos", "afpfs", "webdav", "osxfuse", "macfuse",
    }
)  # fmt: skip

# A watched folder's state, as the watcher sees it (offline: scan.OFFLINE).
LIVE = "live"
POLLING = "polling"


@dataclass
class ChangeSet:
    """Paths that may have changed, per watched folder; rescan: folders to walk in full."""

    paths: dict[Path, set[Path]] = field(default_factory=dict)
    rescan: set[Path] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.paths or self.rescan)


def filesystem_type(path: Path) -> str | None:
    """The type of the file system holding path ('ext4', 'nfs4', 'smbfs', ...), if known."""
    platform: str = sys.platform  # a plain str, so that type checkers keep every branch
    try:
        if platform.startswith("linux"):
            return _linux_fstype(path)
        if platform == "darwin":
            return _mac_fstype(path)
    except OSError:
        return None
    return None


def _linux_fstype(path: Path) -> str | None:
    best, best_type = "", None
    target = str(path.resolve())
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            mount_point = left.split()[4].encode().decode("unicode_escape")
            inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
            if inside and len(mount_point) >= len(best):
                best, best_type = mount_point, right.split()[0]
    return best_type


def _mac_fstype(path: Path) -> str | None:
    out = subprocess.run(["/bin/df", "-T", "", str(path)], capture_output=True, text=True)
    mounts = subprocess.run(["/sbin/mount"], capture_output=True, text=True).stdout
    device = out.stdout.splitlines()[-1].split()[0] if out.stdout else ""
    for line in mounts.splitlines():
        if line.startswith(device + " on "):
            return line.rsplit("(", 1)[-1].split(",")[0].strip()
    return None


def _windows_remote(path: Path) -> bool:
    import ctypes

    drive = path.absolute().anchor
    kind = ctypes.windll.kernel32.GetDriveTypeW(drive)  # type: ignore[attr-defined]
    return bool(kind in (2, 4))  # DRIVE_REMOVABLE, DRIVE_REMOTE


def needs_polling(path: Path) -> bool:
    """Whether native notifications cannot be trusted for this folder."""
    if os.name == "nt":
        try:
            return _windows_remote(path)
        except (OSError, AttributeError):
            return False
    fstype = filesystem_type(path)
    return fstype is not None and (fstype in REMOTE_FILESYSTEMS or fstype.startswith("fuse."))


class _Debouncer(FileSystemEventHandler):
    """Collects event paths for one watched folder."""

    def __init__(self, root: Path, owner: Watcher) -> None:
        self.root = root
        self.owner = owner

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return  # reads change nothing
        paths = [event.src_path, getattr(event, "dest_path", "")]
        self.owner.hint(self.root, (Path(os.fsdecode(p)) for p in paths if p))


class _OverflowSpy(logging.Handler):
    """watchdog rebuilds its inotify watches after a kernel queue overflow but reports the lost
    events only in its log; this turns that log line into a fallback for the folder it names
    (or for every live folder when it names none)."""

    def __init__(self, on_overflow: Callable[[Path | None], None]) -> None:
        super().__init__(logging.WARNING)
        self.on_overflow = on_overflow

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" not in record.getMessage().lower():
            return
        args = record.args if isinstance(record.args, tuple) else ()
        named = [Path(os.fsdecode(a)) for a in args if isinstance(a, str | bytes)]
        self.on_overflow(named[0] if named else None)


@dataclass
class _Watched:
    root: Path
    forced: bool | None = None  # the user's polling choice; None: decided from the drive
    observer: BaseObserver | None = None
    watch: ObservedWatch | None = None
    state: str = OFFLINE
    note: str = ""


class Watcher:
    """Watches folders and calls on_changes from its own thread with debounced change sets."""

    def __init__(
        self,
        on_changes: Callable[[ChangeSet], None],
        *,
        quiet: float = QUIET_SECONDS,
        max_delay: float = MAX_DELAY_SECONDS,
        poll_interval: float = POLL_SECONDS,
    ) -> None:
        self._on_changes = on_changes
        self._quiet = quiet
        self._max_delay = max_delay
        self._poll_interval = poll_interval
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._pending: dict[Path, tuple[Path, float, float]] = {}  # path -> root, first, last
        self._rescan: set[Path] = set()
        self._lost: set[Path] = set()  # live folders whose events overflowed
        self._watched: dict[Path, _Watched] = {}
        self._last_health = time.monotonic()
        self._spy = _OverflowSpy(self._overflowed)
        self._thread = threading.Thread(target=self._run, name="mediafind-watch", daemon=True)

    # -- folders --------------------------------------------------------------------------

    def start(self) -> None:
        logging.getLogger("watchdog").addHandler(self._spy)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        logging.getLogger("watchdog").removeHandler(self._spy)
        with self._lock:
            watched = list(self._watched.values())
            self._watched.clear()
        observers = [w.observer for w in watched if w.observer is not None]
        for observer in observers:
            observer.stop()
        for observer in observers:
            if observer.is_alive():
                observer.join(timeout=2)
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def watch(self, root: Path, polling: bool | None = None, why: str = "") -> str:
        """Start watching root (polling forced on or off, or None to decide from the drive;
        why: the reason to show for forcing it). Returns its state: live, polling or offline."""
        with self._lock:
            old = self._watched.get(root)
        if old is not None:
            self._release(old)  # its entry stays listed until the new one replaces it
        entry = _Watched(root, forced=polling)
        if not root.is_dir():
            entry.note = "folder not found"
            with self._lock:
                self._watched[root] = entry
            return OFFLINE
        use_polling = needs_polling(root) if polling is None else polling
        if use_polling:
            entry.note = (
                "network or removable drive" if polling is None else why or "polling chosen"
            )
        else:
            try:
                # An observer per folder: a problem with one (overflow, unmount, error) is
                # handled for that folder alone.
                native = Observer()
                entry.watch = native.schedule(_Debouncer(root, self), str(root), recursive=True)
                native.start()
                entry.observer, entry.state = native, LIVE
            except OSError as e:
                # inotify's per-user watch limit, most often: poll this folder instead.
                limit = e.errno == errno.ENOSPC
                entry.note = (
                    "system limit on watched folders reached (raise fs.inotify.max_user_watches)"
                    if limit
                    else f"cannot watch natively: {describe(e)}"
                )
                log.warning("%s: %s; polling it instead", root, entry.note)
                use_polling = True
                self.request_rescan(root)
        if use_polling:
            observer = PollingObserver(timeout=self._poll_interval)
            entry.watch = observer.schedule(_Debouncer(root, self), str(root), recursive=True)
            observer.start()
            entry.observer, entry.state = observer, POLLING
        with self._lock:
            self._watched[root] = entry
        return entry.state

    def unwatch(self, root: Path) -> None:
        with self._lock:
            entry = self._watched.pop(root, None)
        if entry is not None:
            self._release(entry)

    def _release(self, entry: _Watched) -> None:
        if entry.observer is None or entry.watch is None:
            return
        try:
            entry.observer.stop()
        except (KeyError, OSError, RuntimeError) as e:
            log.debug("releasing the watch on %s: %s", entry.root, e)

    def states(self) -> dict[Path, tuple[str, str]]:
        """Each watched folder's state and a note saying why (empty when all is well)."""
        with self._lock:
            return {root: (w.state, w.note) for root, w in self._watched.items()}

    # -- events ---------------------------------------------------------------------------

    def hint(self, root: Path, paths: Iterable[Path]) -> None:
        now = time.monotonic()
        with self._lock:
            for path in paths:
                _, first, _ = self._pending.get(path, (root, now, now))
                self._pending[path] = (root, first, now)
        self._wake.set()

    def request_rescan(self, root: Path) -> None:
        with self._lock:
            self._rescan.add(root)
        self._wake.set()

    def _overflowed(self, named: Path | None) -> None:
        """From watchdog's thread: leave the switch to the watch thread."""
        with self._lock:
            live = [root for root, w in self._watched.items() if w.state == LIVE]
            hit = [r for r in live if named is not None and (r == named or r in named.parents)]
            self._lost.update(hit or live)
        self._wake.set()

    def _run(self) -> None:
        while not self._stopping.is_set():
            wait = self._flush()
            self._wake.wait(timeout=wait)
            self._wake.clear()

    def _flush(self) -> float | None:
        """Hand over the paths that are quiet (or waited long enough). Returns how long to
        sleep before the next path is due, None when nothing waits."""
        with self._lock:
            lost, self._lost = self._lost, set()
        for root in lost:
            log.warning("%s: change events were lost; polling it and rescanning", root)
            self.watch(root, polling=True, why="change events were lost (queue overflow)")
            self.request_rescan(root)
        now = time.monotonic()
        if now - self._last_health >= HEALTH_CHECK_SECONDS:
            self._last_health = now
            self._check_health()
        changes = ChangeSet()
        next_due: float | None = None
        with self._lock:
            for path, (root, first, last) in list(self._pending.items()):
                due = min(last + self._quiet, first + self._max_delay)
                if due <= now:
                    changes.paths.setdefault(root, set()).add(path)
                    del self._pending[path]
                else:
                    next_due = due if next_due is None else min(next_due, due)
            changes.rescan, self._rescan = self._rescan, set()
            if changes.rescan:
                for root in changes.rescan:
                    changes.paths.pop(root, None)
        if changes:
            try:
                self._on_changes(changes)
            except Exception:
                log.exception("handling file changes failed")
        if next_due is None:
            return HEALTH_CHECK_SECONDS
        return max(0.05, min(next_due - now, HEALTH_CHECK_SECONDS))

    def _check_health(self) -> None:
        """Folders come and go (drives unplugged, shares unmounted) and observer threads can
        die; each costs one stat per folder to notice. A folder that went away is marked
        offline (its entries stay); one that came back, or whose observer died, is watched
        again and rescanned, since events were missed meanwhile."""
        with self._lock:
            entries = list(self._watched.values())
        for entry in entries:
            if self._stopping.is_set():
                return
            present = entry.root.is_dir()
            if entry.state == OFFLINE:
                if present:
                    log.info("%s is back; watching it again", entry.root)
                    self.watch(entry.root, entry.forced)
                    self.request_rescan(entry.root)
                continue
            if not present:
                log.info("%s went away; its entries are kept", entry.root)
                self._release(entry)
                with self._lock:
                    self._watched[entry.root] = _Watched(
                        entry.root, forced=entry.forced, note="folder not found"
                    )
                continue
            if entry.observer is not None and not entry.observer.is_alive():
                log.warning("watching %s stopped; polling and rescanning it", entry.root)
                self.watch(entry.root, polling=True, why="native watching stopped")
                self.request_rescan(entry.root)


# How often the watch thread checks its observers when no event is due. Cheap (no I/O).
HEALTH_CHECK_SECONDS = 5.0
