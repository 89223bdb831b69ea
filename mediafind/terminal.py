"""What the command line writes for a person: an index run's summary line, the lines for
unreadable files and hidden photos, a search result's match bar and marked snippet, and the
progress line rewritten in place on a terminal."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from mediafind import units
from mediafind.errors import nothing_to_read

if TYPE_CHECKING:
    from mediafind.report import Indexed, Progress


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
    line = f"Indexed {plural(seen, 'file')} in {units.duration(done.seconds)}"
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
        tails.append(f"{plural(len(done.walk_errors), 'folder')} could not be opened")
    if done.offline:
        tails.append(f"{plural(len(done.offline), 'folder')} offline, kept as it was")
    return "; ".join(tails)


def unreadable_line(path: Path, reason: str) -> str:
    """A file an index run could not use: "could not read PATH: why", or, for a file that
    holds nothing to index (empty, a scan without text), "nothing to index in PATH: why"."""
    said = "nothing to index in" if nothing_to_read(reason) else "could not read"
    return f"{said} {path}: {reason}"


def waiting(n: int) -> str:
    """How many files wait for the model, as a phrase (1 file waits, 12 files wait)."""
    return f"{n:,} {'file waits' if n == 1 else 'files wait'} for the model"


def plural(n: int, what: str) -> str:
    """A count and its noun, plural when it is not one (1 file, 1,204 files)."""
    return f"{n:,} {what}" + ("" if n == 1 else "s")


def hidden_line(hidden: int) -> str:
    """What a search says of the photos the library's calibrated relevance cutoff hid."""
    return f"{plural(hidden, 'more photo')} below your library's relevance cutoff; --all shows them"


# Dots in a search result's match bar: enough to tell a sure match from a loose one, without
# numbers that would suggest a precision the scores (shares of the best evidence) do not have.
BAR_DOTS = 5


def match_bar(score: float) -> str:
    """A result's score (0..1) as filled dots, ●●●○○; blank for a listing without a query."""
    if score <= 0:
        return " " * BAR_DOTS
    filled = max(1, min(BAR_DOTS, round(score * BAR_DOTS)))
    return "●" * filled + "○" * (BAR_DOTS - filled)


def where_in(location: dict[str, object]) -> str:
    """Where in its file a result was found (its page, its heading), or nothing."""
    parts = []
    if location.get("page"):
        parts.append(f"page {location['page']}")
    if location.get("heading"):
        parts.append(f"under “{location['heading']}”")
    return f"  ({', '.join(parts)})" if parts else ""


def marked(snippet: str, spans: Sequence[tuple[int, int]], bold: bool, width: int = 160) -> str:
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
        parts = [f"{p.done:,} of {plural(p.total, 'file')}"]
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
