"""One fresh GUI process: open the main window on a replica, let it settle, then open one panel for the first time
and time it on the GUI thread. Prints one JSON line. Run by test_bench_first_open.py (one process per panel, so
each panel pays its own imports and first queries, as it does in the app):

    python -m tests.benchmarks.first_open_probe REPLICA PANEL_KEY
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

from tests.benchmarks.heartbeat import Heartbeat

SETTLE_S = 1.5  # after the window opens (its first queries, the demo worker's first tick)
AFTER_S = 1.5  # after the panel opens: the results of its first queries land on the GUI thread in this time


def _print_profile(profile) -> None:
    if profile is not None and profile.getstats():
        import pstats

        profile.disable()
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumtime").print_stats(45)
        profile.clear()


def main(replica: Path, key: str) -> dict:
    from console.secrets import SecretStore
    from console.settings import Settings
    from console.store.db import open_replica
    from console.ui.app import make_app
    from console.ui.context import AppContext
    from console.ui.eventloop import GuiEventLoop
    from console.ui.main_window import MainWindow
    from console.ui.panels import panel_specs
    from console.ui.theme import Theme

    app = make_app([])
    loop = GuiEventLoop(app, already_running=False)
    asyncio.set_event_loop(loop)
    started = time.perf_counter()
    settings = Settings.load()
    ctx = AppContext(open_replica(replica), replica, settings, SecretStore(), Theme(app, settings.theme))
    # The window builds its first panel (Users) itself: to time that one's first open too, it goes last.
    specs = panel_specs()
    specs.sort(key=lambda spec: spec.key == key)
    window = MainWindow(ctx, specs)
    window.resize(1400, 860)
    window.show()
    window_ms = (time.perf_counter() - started) * 1000
    loop.run_until_complete(asyncio.sleep(SETTLE_S))
    # Whether the background preload (console/ui/preload.py) had loaded the panel's module by now.
    preloaded = f"console.ui.panels.{key}.panel" in sys.modules
    beat = Heartbeat()
    beat.start()
    # FIRST_OPEN_PROFILE=1: what show_panel spends its time on; =all: and the 1.5 s after (the GUI thread only).
    profiling = os.environ.get("FIRST_OPEN_PROFILE")
    profile = None
    if profiling:
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    t = time.perf_counter()
    window.show_panel(key)
    open_ms = (time.perf_counter() - t) * 1000
    if profiling != "all":
        _print_profile(profile)
    loop.run_until_complete(asyncio.sleep(AFTER_S))
    _print_profile(profile)
    worst = beat.worst()
    window.close()
    closing = getattr(window, "_closing", None)
    if closing is not None:
        loop.run_until_complete(closing)
    ctx.tasks.wait(10)
    ctx.tasks.shutdown()
    return {"panel": key, "open_ms": round(open_ms, 1), "worst_gap_ms": round(worst, 1),
            "window_ms": round(window_ms, 1), "preloaded": preloaded}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), sys.argv[2])), flush=True)
