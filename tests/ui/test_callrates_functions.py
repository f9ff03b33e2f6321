"""The Call rates panel's first charts and table are the deployment's functions: from the demo's function-log
history offline, from the deployment's own metrics routes when live (the stand-in serves them)."""

import time

import httpx

from console.functionlogs import parse_entry
from console.store import loghistory as H
from console.ui.main_window import MainWindow
from tests.standin_helpers import KEY, standin
from tests.test_fnmetrics import entry
from tests.ui.conftest import wait_idle
from tests.ui.test_live import close, run_until


def test_demo_functions_table_and_chart_from_the_log_history(qtbot, ctx):
    now = time.time()
    raw = [entry(now - 200 + i, "users:get", ms=5.0) for i in range(60)]
    raw += [entry(now - 100 + i, "ai:<b>reply</b>", ok=i % 2 == 0, ms=800.0, kind="Action") for i in range(20)]
    with ctx.engine.begin() as conn:
        H.add(conn, [parse_entry(r) for r in raw])
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    try:
        w.show_panel("callrates")
        panel = w.panels["callrates"]
        panel.range_buttons.button(0).click()  # live five minutes: the raw history
        qtbot.waitUntil(lambda: panel.functions_metrics is not None and
                        any(r.name == "ai:<b>reply</b>" for r in panel.functions_metrics.rows), timeout=10_000)
        rows = {r.name: r for r in panel.functions_metrics.rows}
        assert rows["users:get"].calls >= 60 and rows["ai:<b>reply</b>"].errors >= 10
        # the percentiles with the executions they rest on, beside them in the table
        from console.ui.panels.callrates.functions import COLUMNS

        assert COLUMNS.index("n") == COLUMNS.index("p99 ms") + 1
        proxy = panel.functions.proxy
        line = next(r for r in range(proxy.rowCount()) if proxy.index(r, 0).data() == "users:get")
        assert rows["users:get"].samples >= 60
        assert proxy.index(line, COLUMNS.index("n")).data() == f"{rows['users:get'].samples:,}"
        assert "users:get" in panel.curves["functions"]
        assert "errors (all functions)" in panel.curves["functions"]
        panel.functions.by_errors()
        assert panel.functions.names()[0] == "ai:<b>reply</b>"  # shown as written: a view never renders markup
        assert "demo's generated function logs" in panel.fn_label.text()
    finally:
        w.close()
        wait_idle(qtbot, ctx)


def test_live_functions_come_from_the_deployments_metrics(qtbot, ctx, loop):
    s = standin()
    for _ in range(9):
        httpx.post(s.url + "/api/query", json={"path": "jobs:stats", "args": {}},
                   headers={"Authorization": f"Convex {KEY}"})
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    try:
        from console.client.http import Deployment
        from console.ui.connect import connect_live

        controller = connect_live(window, Deployment(s.url, KEY))
        run_until(loop, lambda: controller.last_state is not None and controller.last_state.status == "live")
        window.show_panel("callrates")
        panel = window.panels["callrates"]
        panel.range_buttons.button(0).click()
        run_until(loop, lambda: panel.functions_metrics is not None and panel.functions_metrics.source == "deployment"
                  and any(r.name == "jobs:stats" for r in panel.functions_metrics.rows))
        stats = next(r for r in panel.functions_metrics.rows if r.name == "jobs:stats")
        assert stats.calls >= 9 and stats.p50_ms is not None
        assert "jobs:stats" in panel.functions.names()
        assert "the deployment's own metrics" in panel.fn_label.text()
    finally:
        close(window, loop, qtbot, ctx, s)


def test_the_demo_keeps_the_consoles_call_traffic_flowing(qtbot, ctx):
    from sqlalchemy import text

    from console.ui.logtail import LogTail

    def recent():
        with ctx.engine.connect() as c:
            return c.execute(text("SELECT count(*) FROM call_log WHERE at >= :t"), {"t": time.time() - 120}).scalar()

    before = recent()
    tail = LogTail(ctx, demo_interval_ms=50, seed=3)
    tail._calls_until = time.time() - 90  # as if the app had run for a minute and a half
    tail.start()
    try:
        qtbot.waitUntil(lambda: recent() > before, timeout=10_000)
    finally:
        tail.stop()
        wait_idle(qtbot, ctx)


def test_the_function_table_sorts_again_when_a_tick_changes_the_order(qtbot):
    """The table is not re-sorted on every live tick (a dynamic re-sort costs a layout); when the figures
    reorder the rows, it is."""
    from console.domain.fnmetrics import FunctionMetrics, FunctionRow
    from console.ui.panels.callrates.functions import FunctionsTable

    table = FunctionsTable()
    qtbot.addWidget(table)

    def metrics(a, b):
        return FunctionMetrics(0, 300, 150, "log history", rows=[FunctionRow("a:f", a), FunctionRow("b:f", b)])

    table.set_metrics(metrics(10, 5))
    assert table.names() == ["a:f", "b:f"]
    table.set_metrics(metrics(1, 5))  # the same rows, the other order
    assert table.names() == ["b:f", "a:f"]
    assert table.proxy.index(0, 1).data() == "5"
    table.by_errors()
    table.set_metrics(metrics(1, 5))
    assert len(table.names()) == 2


def test_the_functions_table_shows_rows_to_read_at_1440x900(qtbot, window, ctx):
    """Top by calls / by errors showed one and a half rows under the four charts."""
    window.resize(1440, 900)
    window.show_panel("callrates")
    panel = window.panels["callrates"]
    qtbot.wait(100)
    table = panel.functions
    assert table.viewport().height() >= 5 * table.verticalHeader().defaultSectionSize()
