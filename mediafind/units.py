"""Sizes and durations as people read them, the same in the window and on the command line.

Sizes count in powers of 1000 (kB, MB, GB), as the file managers of Linux (GNOME, KDE) and macOS
do: a size here matches the one the user's own file manager shows for the same file. Windows
Explorer counts in 1024s under the same names; one convention had to win, and it is the one of
the SI and of most of the platforms mediafind runs on.
"""

from __future__ import annotations

_UNITS = ("kB", "MB", "GB", "TB")


def size(n_bytes: float) -> str:
    """1 byte, 999 bytes, 1.0 kB, 12.3 MB, 4.7 GB."""
    if abs(n_bytes) < 1000:
        n = round(n_bytes)
        return f"{n} byte" if n == 1 else f"{n} bytes"
    value = float(n_bytes)
    for unit in _UNITS:
        value /= 1000
        # Rounding may reach 1000.0: that is the next unit's 1.0.
        if abs(value) < 999.95 or unit == _UNITS[-1]:
            return f"{value:,.1f} {unit}"
    raise AssertionError("unreachable")


def rate(bytes_per_second: float) -> str:
    """A transfer speed: 2.5 MB/s."""
    return f"{size(bytes_per_second)}/s"


def duration(seconds: float) -> str:
    """A length of time the way people say it: 45 s, 12 min, 1 h 05 min."""
    if seconds < 59.5:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02} min"
