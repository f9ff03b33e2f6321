"""From a job's failed attempt, a call-rate chart's moment and a function's row to the deployment's log entries
of then (issue 17: "jump from a job's attempt error, a call-rate spike ... to the log entries around it")."""

import json
import time

from PySide6.QtCore import QPointF, QUrl
from sqlalchemy import text

from console.functionlogs import parse_entry
from console.store import loghistory as H
from tests.test_fnmetrics import entry
from tests.ui.conftest import wait_idle


def test_a_failed_attempt_links_to_the_log_entries_of_its_moment(qtbot, window, ctx):
    with ctx.engine.connect() as c:
        job_id, doc = c.execute(text("SELECT id, doc FROM jobs WHERE status = 'dead' LIMIT 1")).one()
    errors = json.loads(doc)["errors"]
    at = errors[-1]["at"]
    window.navigate("jobs", job_id)
    jobs = window.panels["jobs"]
    qtbot.waitUntil(lambda: jobs.detail.detail is not None and jobs.detail.detail.job["id"] == job_id, timeout=5000)
    href = f"logs-at:{int(at)}"
    assert href in jobs.detail.body.toHtml()
    jobs.detail.body.anchorClicked.emit(QUrl(href))
    logs = window.panels["logs"]
    qtbot.waitUntil(lambda: window.stack.currentWidget() is logs, timeout=5000)
    assert logs.until == at / 1000 + 60 and logs.model.query.until == logs.until
    wait_idle(qtbot, ctx)
    assert all(r.at <= logs.until for r in logs.model.rows)


def test_call_rates_open_the_log_entries_of_a_moment_and_of_a_function(qtbot, window, ctx):
    now = time.time()
    with ctx.engine.begin() as conn:
        H.add(conn, [parse_entry(entry(now - 100 + i, "ai:generateReply", ok=i % 3 > 0, ms=800.0, kind="Action"))
                     for i in range(30)])
    window.show_panel("callrates")
    panel = window.panels["callrates"]
    panel.range_buttons.button(0).click()  # live five minutes
    qtbot.waitUntil(lambda: panel.functions_metrics is not None and
                    "ai:generateReply" in panel.functions.names(), timeout=10_000)
    row = panel.functions.names().index("ai:generateReply")
    panel.functions.doubleClicked.emit(panel.functions.proxy.index(row, 0))
    logs = window.panels["logs"]
    qtbot.waitUntil(lambda: window.stack.currentWidget() is logs, timeout=5000)
    wait_idle(qtbot, ctx)
    assert logs.function.currentData() == "ai:generateReply"
    assert logs.model.rows and {r.identifier for r in logs.model.rows} == {"ai:generateReply"}

    window.show_panel("callrates")
    chart = panel.rows["functions"]
    assert "Double-click" in (chart.tip_text(now - 50) or "")
    picked = []
    chart.picked.connect(picked.append)
    scene_pos = chart.plot.vb.mapViewToScene(QPointF(now - 50, 1.0))

    class DoubleClick:  # what pyqtgraph's scene hands to sigMouseClicked
        def double(self):
            return True

        def scenePos(self):
            return scene_pos

    chart._clicked(DoubleClick())
    bucket = chart.bucket(now - 50)
    assert picked == [chart.chart.start + (bucket + 1) * chart.chart.width]
    qtbot.waitUntil(lambda: window.stack.currentWidget() is logs, timeout=5000)
    assert logs.until == picked[0] + 60 and logs.function.currentData() == ""
