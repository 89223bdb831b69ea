"""Python's cyclic garbage collection, on the GUI thread only.

CPython collects reference cycles in whichever thread crosses its allocation threshold: here a
thumbnail worker, a background job or the indexing service. A cycle that holds Qt objects (a
finished job and its closure, a closed dialog's slots, the pixmaps of a cache let go) is then
destroyed on that thread while the GUI thread may be painting them or delivering their events.
Qt objects must die on their own thread; otherwise the process crashes, now and then (a test
run of the viewer died so, with PySide 6.11). As calibre, pyqtgraph and novelWriter do, the
window turns automatic collection off and a timer on the GUI thread collects instead, one
generation at a time, when Python's own counts say a collection is due. Plain reference
counting, which frees almost everything, is untouched."""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

# How often the counts are looked at: often enough that garbage never piles up (a young
# collection takes well under a millisecond), seldom enough to cost nothing while idle.
INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    """Collects Python's reference cycles on the thread it was made on (the GUI thread)."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.setObjectName("mediafind-gc")
        self._thresholds = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect)
        self.start()

    def start(self) -> None:
        """Turn Python's automatic collection off and collect on the timer instead."""
        gc.disable()
        self._timer.start()

    def collect(self) -> None:
        """Collect the oldest generation that is due (and the younger ones with it), as Python
        would have: the young one when enough objects were made, each older one when enough
        collections of the one before it were made."""
        counts = gc.get_count()
        due = -1
        for generation in range(3):
            if counts[generation] <= self._thresholds[generation]:
                break
            due = generation
        if due >= 0:
            gc.collect(due)

    def stop(self) -> None:
        """Collect everything now, on this thread, and give collection back to Python."""
        self._timer.stop()
        gc.collect()
        gc.enable()


def collect_on_gui_thread(app: QCoreApplication) -> GuiThreadCollector:
    """From now on, Python's cycles are collected on app's thread only (once per app)."""
    found = app.findChild(GuiThreadCollector, "mediafind-gc")
    if isinstance(found, GuiThreadCollector):
        found.start()
        return found
    return GuiThreadCollector(app)
