"""The one table `make bench` prints: each benchmark reports its figures through figure(),
bench/all.py collects them from every script's output."""

from __future__ import annotations

import json

MARK = "FIGURE "


def figure(measure: str, value: str, goal: str = "", met: bool | None = None) -> None:
    """Report one figure (a same-run ratio where there is one) with its goal and whether it
    was met (None: no goal)."""
    row = {"measure": measure, "value": value, "goal": goal, "met": met}
    print(MARK + json.dumps(row), flush=True)
