"""Bulk webhook recovery: the exact count first, a cap, progress, every replay audited; replays need the
webhooks:replay permission (single and bulk), refused up front with the reason."""

from sqlalchemy import text

from console.standin.app import start_standin
from console.ui.main_window import MainWindow
from tests.ui.conftest import wait_idle
from tests.ui.test_live import run_until


def _support_user(ctx):
    with ctx.engine.connect() as c:
        return c.execute(text("SELECT id FROM users WHERE role = 'support' AND is_active LIMIT 1")).scalar()


def test_replay_all_matching_counts_caps_runs_and_audits(qtbot, ctx, loop):
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    standin = window.standin = start_standin(seed="empty", worker=False)
    panel = None
    try:
        window.show_panel("webhooks")
        panel = window.panels["webhooks"]
        run_until(loop, lambda: not ctx.tasks.busy and panel.model.rowCount() > 0 and panel.actor is not None
                  and all(r.valid is not None for r in panel.model.rows))
        assert panel.replay_all_button.isEnabled()  # the demo's admin may replay
        panel.provider.setCurrentIndex(panel.provider.findData("twilio"))
        panel.verdict.setCurrentIndex(panel.verdict.findData("valid"))
        run_until(loop, lambda: not ctx.tasks.busy)
        with ctx.engine.connect() as c:
            valid_twilio = c.execute(text(
                "SELECT count(*) FROM webhook_deliveries d JOIN delivery_verdicts v ON v.delivery_id = d.id "
                "WHERE d.provider = 'twilio' AND v.valid = 1")).scalar()
        panel.open_bulk_replay()
        run_until(loop, lambda: getattr(panel, "_bulk_dialog", None) is not None)
        dialog = panel._bulk_dialog
        assert dialog.matching == valid_twilio > 3
        assert not dialog.start.isEnabled() and "reason is required" in dialog.will.text()
        dialog.cap.setValue(3)
        dialog.rate.setValue(20)
        dialog.reason.setText("recover after the handler fix")
        assert dialog.start.isEnabled() and dialog.start.text() == "Replay 3 deliveries"
        assert f"{valid_twilio - 3:,} more match beyond the cap" in dialog.will.text()
        dialog.run()  # to the local stand-in: no question asked
        run_until(loop, lambda: dialog.progress is not None and dialog.close_button.isEnabled())
        p = dialog.progress
        assert (p.done, p.ok, p.failed, p.skipped, p.stopped) == (3, 3, 0, 0, False), dialog.status.text()
        assert "Done." in dialog.status.text()
        # Finished: Close is what is left (Start stayed there, disabled, as if it might run again).
        assert not dialog.start.isVisibleTo(dialog) and not dialog.stop_button.isVisibleTo(dialog)
        assert dialog.close_button.isDefault() and dialog.close_button.isEnabled()
        assert len(window.standin.store.scan("jobs")) == 3  # each replayed SMS enqueued its job
        with ctx.engine.connect() as c:
            audit = c.execute(text("SELECT action, actor, args, outcome FROM console_actions "
                                   "WHERE action = 'webhooks:replay'")).all()
            attempts = c.execute(text("SELECT count(*) FROM replay_attempts")).scalar()
        assert len(audit) == 3 == attempts
        assert all(a.outcome == "HTTP 200" and "recover after the handler fix" in a.args for a in audit)
        assert all('"batch"' in a.args for a in audit) and len({a.args.split('"batch": ')[1] for a in audit}) == 1
        dialog.reject()
    finally:
        window.close()
        if panel is not None and panel.client is not None:
            loop.run_until_complete(panel.client.aclose())
        standin.stop()
        wait_idle(qtbot, ctx)


def test_replays_need_the_permission(qtbot, ctx, loop):
    ctx.settings.operator_user_id = _support_user(ctx)  # support may retry jobs, not replay webhooks
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    try:
        window.show_panel("webhooks")
        panel = window.panels["webhooks"]
        run_until(loop, lambda: not ctx.tasks.busy and panel.actor is not None and panel.model.rowCount() > 0)
        assert not panel.replay_all_button.isEnabled()
        assert "webhooks:replay" in panel.replay_all_button.toolTip() or "replay" in panel.replay_all_button.toolTip()
        panel.table.selectRow(0)
        run_until(loop, lambda: panel.detail.detail is not None and not ctx.tasks.busy)
        assert not panel.detail.replay_button.isEnabled()
        panel.open_replay()
        assert getattr(panel, "_replay_dialog", None) is None
    finally:
        ctx.settings.operator_user_id = ""
        window.close()
        wait_idle(qtbot, ctx)
