"""Live mode in the GUI: connect to a stand-in, first sync with progress, changes flow to the panels."""

import asyncio
import time

import pytest

from console.client.http import Deployment
from console.store.jobs import by_ids
from console.ui.connect import connect_live
from console.ui.main_window import MainWindow
from tests.standin_helpers import KEY, standin
from tests.ui.conftest import wait_idle


@pytest.fixture(params=["normal", "production"])
def production(request):
    """Every live test runs against a normal stand-in and one redacting errors as Cloud production does."""
    return request.param == "production"


def run_until(loop, condition, timeout=20.0):
    async def wait():
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.02)

    loop.run_until_complete(wait())


def close(window, loop, qtbot, ctx, standin_):
    window.close()
    if getattr(window, "_closing", None):
        loop.run_until_complete(window._closing)
    wait_idle(qtbot, ctx)
    standin_.stop()


def test_connect_sync_and_follow_changes(qtbot, ctx, loop, production):
    s = standin(production=production)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    try:
        states, changes = [], []
        controller = connect_live(window, Deployment(s.url, KEY))
        controller.state.connect(states.append)
        ctx.data_changed.connect(changes.append)
        dialog = window._sync_dialog
        assert dialog.isVisible()
        run_until(loop, lambda: any(st.status == "live" for st in states))
        assert not dialog.isVisible()
        assert not ctx.is_demo and not window.banner.isVisible()
        assert "Live · up to date" in window.mode_label.text()
        users = window.panels["users"]
        run_until(loop, lambda: not ctx.tasks.busy and users.model.rowCount() > 0)
        assert users.model.rowCount() == 150

        target = s.store.scan("users", limit=1)[0]
        with s.store.transaction() as tx:
            tx.patch("users", target["_id"], {"name": "Aaaa Changed Live"})
        run_until(loop, lambda: any(target["_id"] in c.get("users", ()) for c in changes))
        run_until(loop, lambda: not ctx.tasks.busy and users.model.rows
                  and users.model.rows[0].name == "Aaaa Changed Live")
        assert controller.call_log.recorded > 0
    finally:
        close(window, loop, qtbot, ctx, s)


def test_a_rejected_key_is_explained_in_the_dialog(qtbot, ctx, loop, production):
    s = standin(seed="empty", production=production)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    try:
        controller = connect_live(window, Deployment(s.url, "standin|wrong"))
        run_until(loop, lambda: controller.last_state is not None and controller.last_state.status == "error")
        assert "deploy key was rejected" in window._sync_dialog.detail.text()
        assert ctx.is_demo and "Demo" in window.mode_label.text()  # still on what was open
    finally:
        close(window, loop, qtbot, ctx, s)


def jobs_live_as_admin(window, s, ctx, loop):
    """The window live on the stand-in `s`, acting as one of its admins, on the Jobs panel."""
    admin = s.store.scan("users", where="json_extract(doc,'$.role') = 'admin'", limit=1)[0]
    ctx.settings.operator_user_id, ctx.settings.operator_email = admin["_id"], admin["email"]
    controller = connect_live(window, Deployment(s.url, KEY))
    run_until(loop, lambda: controller.last_state is not None and controller.last_state.status == "live")
    window.show_panel("jobs")
    return admin, controller, window.panels["jobs"]


def test_jobs_actions_reach_the_deployment_as_the_operator(qtbot, ctx, loop, production):
    s = standin(production=production)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    try:
        admin, controller, panel = jobs_live_as_admin(window, s, ctx, loop)
        dead_button = next(b for b in panel.state_buttons.buttons() if b.property("state") == "dead")
        dead_button.setChecked(True)
        panel.apply_query()
        run_until(loop, lambda: not ctx.tasks.busy and panel.model.rowCount() > 0 and panel.actor is not None)
        job_id = panel.model.rows[0].id
        panel.table.selectRow(0)
        assert panel.retry_button.isEnabled(), panel.retry_button.toolTip()
        assert "on the deployment" in panel.acting.text()
        panel.retry_selected()
        panel._confirm_dialog.reason.setText("customer asked")
        panel._confirm_dialog.accept()
        run_until(loop, lambda: s.store.get("jobs", job_id)["status"] == "pending")
        audit = s.store.scan("auditLogs", where="json_extract(doc,'$.resourceId') = ?", params=(job_id,))
        assert audit and audit[0]["actorUserId"] == admin["_id"] and audit[0]["reason"] == "customer asked"
        # the change comes back through the sync, and the replica (and the panel) follow
        def replica_status():
            with ctx.engine.connect() as conn:
                return [r.status for r in by_ids(conn, [job_id])]

        run_until(loop, lambda: replica_status() == ["pending"])
    finally:
        close(window, loop, qtbot, ctx, s)


def test_a_console_call_the_deployment_refuses_leads_to_its_log_entries(qtbot, ctx, loop, production, monkeypatch):
    """A job action refused by the deployment: its message box offers "Show in Logs" with the request the
    deployment named, the status bar keeps a link to it from any panel, and Logs opens on that request."""
    from PySide6.QtWidgets import QMessageBox

    s = standin(production=production)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    boxes: list[str] = []

    def click_show_in_logs(box):
        boxes.append(box.text())
        button = next(b for b in box.buttons() if b.text() == "Show in Logs")
        button.click()
        return 0

    try:
        admin, controller, panel = jobs_live_as_admin(window, s, ctx, loop)
        run_until(loop, lambda: panel.actor is not None)
        # A job the replica shows as retryable, which someone else has finished on the deployment meanwhile.
        job = s.store.scan("jobs", where="json_extract(doc,'$.status') = 'succeeded'", limit=1)[0]
        monkeypatch.setattr(QMessageBox, "exec", click_show_in_logs)
        panel.job_ops.retry([job["_id"]], "customer asked", panel._done, panel._failed)
        run_until(loop, lambda: boxes)
        link = window.failed_call
        assert link.isVisible() and link.request_id and "console:retryJob failed" in link.link.text()
        logs = window.panels.get("logs")
        assert logs is not None and window.current is logs and logs.request.text() == link.request_id
        run_until(loop, lambda: logs.model.rowCount() > 0)
        assert {r.request_id for r in logs.model.rows} == {link.request_id}
        assert logs.model.rows[0].outcome == "failure"
        # From another panel, the status bar's link opens the same entries, then goes away.
        window.show_panel("users")
        logs.request.clear()
        link.link.click()
        assert window.current is logs and logs.request.text()
        assert not link.isVisible()
    finally:
        close(window, loop, qtbot, ctx, s)


def test_choosing_another_operator_is_followed_by_the_status_bar_and_the_deployments_figures(qtbot, ctx, loop):
    """The status bar kept the first operator after Settings chose another (the whoami subscription still
    acted as the first), and Functions' "Run as" kept the first operator's id."""
    s = standin()
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    try:
        admin, support = (s.store.scan("users", where=f"json_extract(doc,'$.role') = '{role}'", limit=1)[0]
                          for role in ("admin", "support"))
        ctx.settings.operator_user_id, ctx.settings.operator_email = admin["_id"], admin["email"]
        controller = connect_live(window, Deployment(s.url, KEY))
        run_until(loop, lambda: controller.last_state is not None and controller.last_state.status == "live")
        run_until(loop, lambda: admin["name"] in window.operator_label.text())
        window.show_panel("functions")
        functions = window.panels["functions"]
        assert functions.user.text() == admin["_id"]
        ctx.settings.operator_user_id, ctx.settings.operator_email = support["_id"], support["email"]
        ctx.operator_changed.emit()  # what Settings' save does when the operator changed
        assert "checking" in window.operator_label.text()
        run_until(loop, lambda: support["name"] in window.operator_label.text())
        assert "support" in window.operator_label.text() and functions.user.text() == support["_id"]
        assert controller.figures["console:whoami"]["userId"] == support["_id"]
    finally:
        close(window, loop, qtbot, ctx, s)
