"""Python's garbage collector, run on the GUI thread only.

Left automatic, the collector runs in whichever thread happens to allocate, so a worker thread can
destroy a collected Qt object; the destructor takes a Qt signal-slot mutex and then waits for the GIL
while the GUI thread holds the GIL and waits for that mutex: a deadlock (seen in this project's tests).
The usual remedy for Python Qt apps: disable automatic collection and collect from a GUI-thread timer.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = 500) -> None:
        super().__init__(parent)
        gc.disable()
        self.threshold = gc.get_threshold()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        counts = gc.get_count()
        if counts[0] > self.threshold[0]:
            gen = 2 if counts[2] > self.threshold[2] else 1 if counts[1] > self.threshold[1] else 0
            gc.collect(gen)


_frozen = False


def freeze_survivors() -> None:
    """Once start-up has imported what the app needs (once per process): those objects (modules, classes,
    functions: 70,000 and more) live as long as the app, so they leave the collector's generations (gc.freeze).
    Otherwise a later collection walks them all on the GUI thread, 20 to 60 ms, as it did during the first
    sync of a deployment in the GUI-gap benchmark. No collection first: a full one is itself such a pause (the
    first open of Call rates saw 148 ms), and what start-up left as cyclic garbage is small and made once."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


def install(app: QObject) -> GuiThreadCollector:
    existing = getattr(app, "_gc_guard", None)
    if existing is None:
        existing = GuiThreadCollector(app)
        app._gc_guard = existing  # type: ignore[attr-defined]
    return existing
