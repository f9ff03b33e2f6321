"""Functions panel: demo (read-only queries over the replica, writes disabled with the reason) and live against the
stand-in (admin and acting as a user, error data, confirmation, production refusal, the local audit)."""

import asyncio

from sqlalchemy import text

from console.client.http import Deployment
from console.runner import DEMO_NOTE
from console.store import console_audit
from console.ui.live import LiveController
from console.ui.panels.functions.panel import FunctionsPanel
from tests.standin_helpers import KEY, standin
from tests.ui.conftest import wait_idle
from tests.ui.test_live import run_until


def make(qtbot, ctx):
    panel = FunctionsPanel(ctx)
    qtbot.addWidget(panel, before_close_func=lambda p: p.shutdown())  # as the window does at close
    panel.resize(1200, 760)
    panel.show()
    wait_idle(qtbot, ctx)
    return panel


def test_demo_runs_queries_over_the_replica_and_explains_why_writes_are_off(qtbot, ctx):
    panel = make(qtbot, ctx)
    assert panel.mode_note.text() == DEMO_NOTE
    assert panel.function.findData("jobs:get") >= 0
    with ctx.engine.connect() as c:
        job = c.execute(text("SELECT id FROM jobs LIMIT 1")).scalar()
    panel.function.setCurrentText("jobs:get")
    panel.args.setPlainText('{"jobId": "%s"}' % job)
    panel.validate()
    assert panel.args_state.text().startswith("✓")
    panel.run()
    wait_idle(qtbot, ctx)
    assert panel.last_result.ok and panel.last_result.value["_id"] == job
    assert panel.result.toPlainText().startswith("Value:") and "answered from the local replica" in panel.result.toPlainText()
    assert "jobs:get" in panel.history()
    panel.kind.setCurrentIndex(panel.kind.findData("mutation"))
    assert not panel.run_button.isEnabled() and panel.run_button.toolTip() == DEMO_NOTE


def test_invalid_arguments_are_explained_and_nothing_runs(qtbot, ctx):
    panel = make(qtbot, ctx)
    panel.function.setCurrentText("jobs:stats")
    panel.args.setPlainText('{"limit": {"$integer": "42"}}')
    panel.run()
    wait_idle(qtbot, ctx)
    assert panel.last_result is None
    assert panel.args_state.text().startswith("✗") and "KgAAAAAAAAA=" in panel.args_state.text()
    panel.args.setPlainText("{oops")
    assert panel.validate() is None and "line 1, column 2" in panel.args_state.text()


def live_ctx(ctx, key=KEY, **kw):
    s = standin(**kw)
    controller = LiveController(ctx, Deployment(s.url, key))
    ctx.live = controller
    return s, controller


def finish(loop, ctx, qtbot, s, controller):
    ctx.live = None
    loop.run_until_complete(controller.aclose())
    wait_idle(qtbot, ctx)
    s.stop()


def test_live_admin_user_error_data_confirmation_and_audit(qtbot, ctx, loop):
    s, controller = live_ctx(ctx)
    try:
        panel = make(qtbot, ctx)
        run_until(loop, lambda: "no function list" in panel.spec_note.text() or "functions from" in panel.spec_note.text())
        assert panel.function.findData("console:retryJob") >= 0  # typed paths: the contract is offered
        admin = s.store.scan("users", where="json_extract(doc,'$.role') = 'admin'", limit=1)[0]
        # a query acting as a user (the stand-in's users are not in this demo replica: the id is the subject)
        panel.function.setCurrentText("console:whoami")
        panel.kind.setCurrentIndex(panel.kind.findData("query"))
        panel.args.setPlainText("{}")
        panel.run_as.setCurrentIndex(1)
        panel.user.setText(admin["_id"])
        panel.run()
        run_until(loop, lambda: not panel.running and panel.last_result is not None)
        assert panel.last_result.ok and panel.last_result.value["userId"] == admin["_id"], panel.last_result.error
        # a mutation asks first; declining runs nothing and audits nothing
        job = s.store.scan("jobs", where="json_extract(doc,'$.status') = 'dead'", limit=1)[0]
        asked = []
        panel.confirm = lambda kind, path, who: asked.append((kind, path, who)) or None
        panel.function.setCurrentText("console:retryJob")
        panel.args.setPlainText('{"jobId": "%s", "reason": "test"}' % job["_id"])
        assert panel.kind.currentData() == "mutation"
        panel.last_result = None
        panel.run()
        assert asked == [("mutation", "console:retryJob", admin["_id"])] and panel.last_result is None
        panel.confirm = lambda *a: "customer asked for a rerun"
        panel.run()
        run_until(loop, lambda: not panel.running and panel.last_result is not None)
        assert panel.last_result.ok, panel.last_result.error
        run_until(loop, lambda: s.store.get("jobs", job["_id"])["status"] == "pending")
        # refused by the deployment: the error and its data are shown
        panel.run_as.setCurrentIndex(0)
        panel.function.setCurrentText("console:setUserRoles")
        panel.args.setPlainText('{"userId": "%s", "roles": [], "reason": "x"}' % admin["_id"])
        panel.last_result = None
        panel.run()
        run_until(loop, lambda: not panel.running and panel.last_result is not None)
        assert not panel.last_result.ok and "Error data:" in panel.result.toPlainText()
        wait_idle(qtbot, ctx)
        with ctx.engine.connect() as c:
            rows = console_audit.recent(c)
        assert [(r.target, r.outcome) for r in rows] == [("console:setUserRoles", "error"),
                                                         ("console:retryJob", "success")]
        assert rows[1].actor == admin["_id"] and rows[1].deployment == s.url.rstrip("/")
        assert console_audit.reason_of(rows[1]) == "customer asked for a rerun"  # the run's audit has its reason
        assert panel.audit.count() == 2 and "customer asked for a rerun" in panel.audit.item(1).text()
    finally:
        finish(loop, ctx, qtbot, s, controller)


def test_production_refuses_mutations_unless_settings_allow(qtbot, ctx, loop):
    s, controller = live_ctx(ctx, key="prod:standin|whatever")
    try:
        panel = make(qtbot, ctx)
        assert "production deployment" in panel.mode_note.text()
        panel.function.setCurrentText("console:cancelJob")
        panel.kind.setCurrentIndex(panel.kind.findData("mutation"))
        assert not panel.run_button.isEnabled() and "production" in panel.run_button.toolTip()
        panel.confirm = lambda *a: (_ for _ in ()).throw(AssertionError("must not ask"))
        panel.run()  # e.g. Ctrl+Enter with the button disabled: refused and audited, nothing sent
        wait_idle(qtbot, ctx)
        assert not panel.last_result.ok and "production" in panel.last_result.error
        with ctx.engine.connect() as c:
            assert [r.outcome for r in console_audit.recent(c)] == ["refused"]
        ctx.settings.allow_production_writes = True
        panel._update_run_button()
        assert panel.run_button.isEnabled()
    finally:
        finish(loop, ctx, qtbot, s, controller)


def test_a_request_id_in_a_result_links_to_its_logs(qtbot, ctx):
    from console.runner import RunResult

    panel = make(qtbot, ctx)
    asked = []
    ctx.navigate_requested.connect(lambda key, target: asked.append((key, target)))
    panel._show(RunResult(False, error="[Request ID: 3f9a0b1c2d3e4f50] Server Error", request_id="3f9a0b1c2d3e4f50"))
    assert panel.logs_button.isVisibleTo(panel)
    panel.logs_button.click()
    assert asked == [("logs", "3f9a0b1c2d3e4f50")]
    # The head line's request id is a link too, and a hostile error text in it stays text.
    assert "href='request:3f9a0b1c2d3e4f50'" in panel.result_head.text()
    panel.result_head.linkActivated.emit("request:3f9a0b1c2d3e4f50")
    assert asked[-1] == ("logs", "3f9a0b1c2d3e4f50")
    panel._show_head("<img src='/etc/passwd'>", "danger")
    assert "<img" not in panel.result_head.text() and "&lt;img" in panel.result_head.text()
    panel._show(RunResult(True, value=1))
    assert not panel.logs_button.isVisibleTo(panel)


def test_the_new_panels_are_registered_with_the_next_shortcuts(qtbot, ctx):
    from console.ui.main_window import MainWindow

    window = MainWindow(ctx)
    qtbot.addWidget(window)
    keys = [s.key for s in window.specs]
    assert keys[-4:] == ["data", "functions", "logs", "alerts"]
    go = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Go")
    shortcuts = {a.text(): a.shortcut().toString() for a in go.actions() if a.text()}
    assert shortcuts["Data"] == "Ctrl+7" and shortcuts["Functions"] == "Ctrl+8" and shortcuts["Logs"] == "Ctrl+9"
    assert shortcuts["Alerts"] == "Ctrl+0"
    window.close()
    wait_idle(qtbot, ctx)


def test_every_label_of_the_new_panels_is_plain_text(qtbot, ctx):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel

    from console.ui.panels.data.panel import DataPanel
    from console.ui.panels.logs.panel import LogsPanel

    for cls in (DataPanel, FunctionsPanel, LogsPanel):
        panel = cls(ctx)
        qtbot.addWidget(panel, before_close_func=lambda p: p.shutdown())  # as the window does at close
        wait_idle(qtbot, ctx)
        labels = panel.findChildren(QLabel)
        # A label of our own markup says so ("escaped": every piece of data in it goes through esc, tested).
        assert labels and all(label.textFormat() == Qt.TextFormat.PlainText or label.property("escaped")
                              for label in labels), cls.__name__
        panel.shutdown()
    wait_idle(qtbot, ctx)


def test_acting_as_a_user_with_no_user_does_not_run_in_the_demo_either(qtbot, ctx):
    """The demo ran the query as admin and said Success, silently ignoring "Acting as a user"."""
    from console.ui.panels.functions.panel import AS_USER

    panel = make(qtbot, ctx)
    panel.function.setCurrentText("jobs:stats")
    panel.args.setPlainText("{}")
    panel.run_as.setCurrentIndex(panel.run_as.findData(AS_USER))
    panel.user.clear()
    panel.run()
    wait_idle(qtbot, ctx)
    assert panel.last_result is None and "needs a user" in panel.result_head.text()


def test_a_mutation_runs_only_with_a_reason(qtbot, ctx, loop, monkeypatch):
    """The confirmation asks a reason for the console's audit: OK stays disabled until one is typed."""
    from PySide6.QtWidgets import QDialogButtonBox, QInputDialog

    s, controller = live_ctx(ctx)
    try:
        panel = make(qtbot, ctx)
        seen = []

        def answer(dialog):
            ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
            seen.append(ok.isEnabled())
            dialog.setTextValue("   ")
            seen.append(ok.isEnabled())
            dialog.setTextValue("rerun after the fix")
            seen.append(ok.isEnabled())
            return 1

        monkeypatch.setattr(QInputDialog, "exec", answer)
        assert panel.confirm("mutation", "console:retryJob", "admin") == "rerun after the fix"
        assert seen == [False, False, True]
        monkeypatch.setattr(QInputDialog, "exec", lambda dialog: 0)
        assert panel.confirm("mutation", "console:retryJob", "admin") is None
    finally:
        finish(loop, ctx, qtbot, s, controller)
