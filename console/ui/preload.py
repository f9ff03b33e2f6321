"""Import the heavy libraries some panels need (pyqtgraph and numpy: about 0.45 s) and the panels' own modules on
a worker thread once the window is up, so that the first open of a panel (Jobs and Call rates above all) does not
freeze the GUI thread while they load: it only builds widgets.

Importing defines classes and builds value types (QColor, QPainterPath); it creates no QObject and touches no
event loop, which is what a worker thread must not do. If a panel is opened while the import is still running,
Python's import lock makes the GUI thread wait for the rest of it: never longer than without the preload.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Callable, Sequence

from console.ui.panel import PanelSpec
from console.ui.tasks import Task, TaskRunner

HEAVY = ("numpy", "pyqtgraph")
# What building the main window imports (its services and its first panel come from panel_modules).
WINDOW = ("console.ui.main_window", "console.ui.demo_worker", "console.ui.alert_monitor", "console.ui.logtail")


def panel_modules(specs: Sequence[PanelSpec]) -> tuple[str, ...]:
    """Each panel's widget module (`<its folder>.panel`, what its factory imports), in the panel list's order."""
    names = (f"{spec.factory.__module__}.panel" for spec in specs)
    return tuple(n for n in names if importlib.util.find_spec(n) is not None)


def import_all(names: Sequence[str]) -> None:
    for name in names:
        importlib.import_module(name)


# What connecting to a deployment imports (on the GUI thread otherwise, in the first sync's first moments).
LIVE = ("console.ui.connect", "console.ui.live")


def preload(tasks: TaskRunner, names: Sequence[str] = HEAVY,
            on_done: Callable[[object], None] | None = None) -> Task | None:
    """Start importing `names` in the background, in order; None when they are all loaded already."""
    missing = tuple(n for n in names if n not in sys.modules)
    if not missing:
        return None
    return tasks.run(lambda: import_all(missing), on_done)
