"""The first open of Jobs froze 390-510 ms and Call rates 540 ms, most of it importing pyqtgraph on the GUI thread.
Once the window is up, that and every panel's module are imported on a worker thread."""

import sys

import console.ui.preload as preload_mod
from console.ui.preload import HEAVY, LIVE, panel_modules, preload
from tests.ui.conftest import wait_idle

PROBE = "tests.ui.preload_probe"


def test_preload_imports_on_a_worker_thread(qtbot, ctx):
    sys.modules.pop(PROBE, None)
    task = preload(ctx.tasks, [PROBE])
    assert task is not None
    wait_idle(qtbot, ctx)
    assert sys.modules[PROBE].IMPORTED_ON_MAIN_THREAD is False
    assert preload(ctx.tasks, [PROBE]) is None  # loaded already: nothing to do


def test_the_window_preloads_pyqtgraph_and_every_panel_module_once_shown(qtbot, ctx, monkeypatch):
    from console.ui.main_window import MainWindow

    asked = []
    monkeypatch.setattr(preload_mod, "preload", lambda tasks, names, on_done=None: asked.append(tuple(names)))
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    assert asked == []  # not while building: the window and its first panel come first
    window.show()
    qtbot.waitUntil(lambda: bool(asked), timeout=3000)
    (names,) = asked
    assert names[:len(HEAVY)] == HEAVY == ("numpy", "pyqtgraph")
    assert "console.ui.panels.jobs.panel" in names and "console.ui.panels.callrates.panel" in names
    assert set(panel_modules(window.specs)) <= set(names)
    assert set(LIVE) <= set(names)  # connecting to a deployment imports nothing on the GUI thread
    window.hide()
    window.show()
    qtbot.wait(400)
    assert len(asked) == 1  # once per window
    window.close()
    wait_idle(qtbot, ctx)


def test_the_tls_context_is_built_on_a_worker_once_the_window_is_up_not_while_it_is_built(qtbot, ctx, monkeypatch):
    """Built at start (in AppContext), its CA bundle load and imports took the GIL from building the window: the
    Users panel's first rows on the large replica came 30 ms later."""
    import threading

    import console.client.tls as tls
    from console.ui.main_window import MainWindow

    monkeypatch.setattr(tls, "_context", None)
    built_on = []
    real = tls.httpx.create_ssl_context
    monkeypatch.setattr(tls.httpx, "create_ssl_context", lambda *a, **k: built_on.append(threading.current_thread())
                        or real(*a, **k))
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    assert tls._context is None
    window.show()
    qtbot.waitUntil(lambda: tls._context is not None, timeout=5000)
    assert built_on and built_on[0] is not threading.main_thread()
    window.close()
    wait_idle(qtbot, ctx)


def test_alerts_and_the_log_tail_start_a_moment_after_the_window_not_during_its_first_page(qtbot, ctx):
    """Their queries and the demo's log batch ran beside the Users panel's first page and doubled its read time on
    the 1M-job replica (24-32 ms against 11-13 ms alone)."""
    from console.ui.main_window import MainWindow

    window = MainWindow(ctx)
    qtbot.addWidget(window)
    assert not window.alerts.timer.isActive() and not window.log_tail.timer.isActive()
    window.show()
    qtbot.waitUntil(lambda: window.alerts.last_checked is not None, timeout=5000)
    assert window.log_tail.timer.isActive()
    window.close()
    wait_idle(qtbot, ctx)
    closed_early = MainWindow(ctx)  # closed before watching began: nothing starts after the close
    qtbot.addWidget(closed_early)
    closed_early.close()
    qtbot.wait(400)
    assert not closed_early.alerts.timer.isActive() and not closed_early.log_tail.timer.isActive()
    wait_idle(qtbot, ctx)


def test_once_start_up_has_imported_everything_its_objects_leave_the_collector(qtbot, window, ctx):
    """Left in the collector's generations, start-up's objects (70,000 and more) were walked by a collection on
    the GUI thread during a deployment's first sync: a 20 to 60 ms freeze (tests/benchmarks/test_bench_gui_gap.py)."""
    import gc

    qtbot.waitUntil(lambda: gc.get_freeze_count() > 20_000, timeout=10_000)
