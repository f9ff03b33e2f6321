"""Alerts in the window: a rule that fires shows a badge on its panel and in the Alerts list; opening it
filters the matching jobs; acknowledging quiets the badge; a notification when the window is not focused."""

import time

from sqlalchemy import text

from console.ui.main_window import MainWindow
from tests.ui.conftest import wait_idle


def _stuck_jobs(ctx, n):
    now = int(time.time() * 1000)
    with ctx.engine.begin() as conn:
        ids = list(conn.execute(text("SELECT id FROM jobs WHERE status = 'pending' LIMIT :n"), {"n": n}).scalars())
        conn.execute(text(f"UPDATE jobs SET status = 'running', claimed_at = :c, lease_ms = 60000 "
                          f"WHERE id IN ({', '.join(repr(i) for i in ids)})"), {"c": now - 10 * 60_000})
    return ids


def test_a_firing_rule_badges_its_panel_opens_its_jobs_and_acknowledge_quiets_it(qtbot, ctx):
    ctx.settings.alert_thresholds = {"stuck": 1000, "dead_15m": 1000, "type_failure_15m": 100, "oldest_waiting": 1e6,
                                     "signature_failures_1h": 1e6, "worker_down": 1e6}
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    try:
        qtbot.waitUntil(lambda: w.alerts.last_checked is not None, timeout=10_000)
        assert not w.alerts.book.firing(), [a.detail for a in w.alerts.book.firing()]
        with ctx.engine.connect() as conn:
            before = conn.execute(text("SELECT count(*) FROM jobs WHERE status = 'running' AND claimed_at < :t"),
                                  {"t": int(time.time() * 1000) - 70_000}).scalar()
        _stuck_jobs(ctx, 3)
        ctx.settings.alert_thresholds = dict(ctx.settings.alert_thresholds, stuck=before + 2)
        w.alerts.check()
        qtbot.waitUntil(lambda: bool(w.alerts.book.firing("jobs")), timeout=10_000)
        jobs_row = next(i for i, s in enumerate(w.specs) if s.key == "jobs")
        assert w.nav.item(jobs_row).text() == "Jobs  ● 1"
        assert w.nav.item(len(w.specs) - 1).text() == "Alerts  ● 1"
        # The badge's red follows a theme switch (it kept the old theme's red on the new background).
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QColor

        for preference in ("dark", "light"):
            ctx.theme.set_preference(preference)
            badge = w.nav.item(jobs_row).data(Qt.ItemDataRole.ForegroundRole)
            assert badge is not None and QColor(badge) == ctx.theme.color("danger"), preference
            assert w.nav.item(0).data(Qt.ItemDataRole.ForegroundRole) is None  # no badge: the palette's text
        w.show_panel("alerts")
        panel = w.panels["alerts"]
        assert panel.table.rowCount() == 1 and panel.table.item(0, 1).text() == "Stuck jobs"
        assert panel.table.item(0, 4).text() == "firing"
        panel.table.selectRow(0)
        assert panel.ack.isEnabled() and panel.open.isEnabled()
        panel.open_selected()  # the Jobs panel, filtered to stuck jobs
        jobs = w.panels["jobs"]
        qtbot.waitUntil(lambda: w.current is jobs and jobs.state_buttons.checkedButton().property("state") == "stuck",
                        timeout=5_000)
        wait_idle(qtbot, ctx)
        assert jobs.model.rowCount() >= 3
        panel.table.selectRow(0)
        panel.acknowledge_selected()
        assert w.nav.item(jobs_row).text() == "Jobs" and panel.table.item(0, 4).text() == "firing, acknowledged"
        assert not panel.ack.isEnabled()
        w.alerts.check()  # still stuck, acknowledged: no new alert, no badge
        qtbot.waitUntil(lambda: not w.alerts._busy, timeout=5_000)
        assert len(w.alerts.book.alerts) == 1 and w.nav.item(jobs_row).text() == "Jobs"
    finally:
        w.close()
        wait_idle(qtbot, ctx)


def test_thresholds_are_saved_to_settings_and_a_notification_when_not_focused(qtbot, ctx, monkeypatch):
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    try:
        w.show_panel("alerts")
        panel = w.panels["alerts"]
        panel.spins["dead_15m"].setValue(7)
        panel.save_thresholds()
        assert ctx.settings.alert_thresholds["dead_15m"] == 7
        from console.settings import Settings
        assert Settings.load().alert_thresholds["dead_15m"] == 7
        monkeypatch.setattr(w, "isActiveWindow", lambda: False)
        from console.alerts import Alert
        w.notify([Alert("worker_down", time.time(), 3.0, "<b>12</b> jobs overdue", {})])
        assert w.notified == ["Worker down: <b>12</b> jobs overdue"]
    finally:
        w.close()
        wait_idle(qtbot, ctx)


def test_open_matching_shows_what_the_alert_counted_whatever_the_operator_filtered(qtbot, window, ctx):
    """The operator had a type and a key in the Jobs filters (and a provider and text in Webhooks): "Open matching"
    kept them and showed "0 jobs" for an alert about 57 stuck jobs."""
    jobs = window.panels["jobs"] if "jobs" in window.panels else window.panel("jobs")
    window.show_panel("jobs")
    wait_idle(qtbot, ctx)
    jobs.key_edit.setText("no-such-key")
    jobs.text_edit.setText("nothing")
    jobs.apply_query()
    wait_idle(qtbot, ctx)
    window.ctx.navigate("jobs", {"status": "dead", "sort": "updated"})  # "dead jobs in the last 15 min"
    wait_idle(qtbot, ctx)
    q = jobs.model.query
    assert (q.status, q.key, q.text, q.type, q.sort) == ("dead", None, "", None, "updated")
    with ctx.engine.connect() as conn:
        newest = conn.execute(text("SELECT id FROM jobs WHERE status = 'dead' ORDER BY updated_at DESC, pk DESC "
                                   "LIMIT 1")).scalar()
    qtbot.waitUntil(lambda: jobs.model.rowCount() > 0, timeout=5000)
    assert jobs.model.row_at(0).id == newest  # the newest deaths first

    hooks = window.panel("webhooks")
    window.show_panel("webhooks")
    wait_idle(qtbot, ctx)
    hooks.provider.setCurrentIndex(hooks.provider.findData("clerk"))
    hooks.text.setText("nothing-like-this")
    hooks.apply_query()
    wait_idle(qtbot, ctx)
    window.ctx.navigate("webhooks", {"verdict": "invalid", "received_s": 3600})
    wait_idle(qtbot, ctx)
    q = hooks.model.query
    assert q.provider is None and q.text == "" and q.verdict == "invalid"
