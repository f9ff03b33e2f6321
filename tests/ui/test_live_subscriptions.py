"""Live mode's subscriptions in the GUI: the operator's identity, the job counts and the open on-demand chat
follow the deployment as it commits, through the stand-in's sync protocol."""

import time

from console.client.http import Deployment
from console.ui.connect import connect_live
from console.ui.main_window import MainWindow
from tests.standin_helpers import KEY, standin
from tests.ui.test_live import close, run_until


def _operator(s):
    return s.store.scan("users", where="json_extract(doc,'$.role') = 'admin' AND "
                                       "json_extract(doc,'$.isActive') IS NOT 0", limit=1)[0]


def test_operator_job_counts_and_the_open_on_demand_chat_follow_commits(qtbot, ctx, loop):
    s = standin()
    operator = _operator(s)
    ctx.settings.operator_user_id, ctx.settings.operator_email = operator["_id"], operator.get("email") or ""
    ctx.settings.on_demand_tables = ["/messages"]
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    try:
        controller = connect_live(window, Deployment(s.url, KEY), show_dialog=False)
        run_until(loop, lambda: controller.last_state is not None and controller.last_state.status == "live")
        run_until(loop, lambda: controller.subscriptions.mode == "live")
        # The operator, from console:whoami.
        run_until(loop, lambda: (operator.get("name") or "") in window.operator_label.text()
                  and window.operator_label.text().startswith("Operator: "))
        assert "admin" in window.operator_label.text()

        # Job counts, from console:jobStats: a job dies on the deployment, the Dead button follows.
        jobs = window.panel("jobs")
        dead_button = next(b for b in jobs.state_buttons.buttons() if b.property("state") == "dead")
        run_until(loop, lambda: controller.figures.get("console:jobStats") is not None)
        before = int(controller.figures["console:jobStats"]["counts"]["dead"])
        victim = s.store.scan("jobs", where="json_extract(doc,'$.status') = 'pending'", limit=1)[0]
        with s.store.transaction() as tx:
            tx.patch("jobs", victim["_id"], {"status": "dead"})
        run_until(loop, lambda: int(controller.figures["console:jobStats"]["counts"]["dead"]) == before + 1,
                  timeout=3)
        assert dead_button.text().endswith(f" {before + 1}")

        # The open chat, on demand (messages are not replicated): a new message appears as it commits.
        chats = window.panel("chats")
        chat = s.store.scan("chats", limit=1)[0]["_id"]
        chats.open(chat)
        run_until(loop, lambda: chats.messages.messages and chats._live_sub is not None
                  and chats._live_sub.updates > 0)
        committed = time.monotonic()
        with s.store.transaction() as tx:
            tx.insert("messages", {"chatId": chat, "role": "user", "body": "typed just now",
                                   "createdAt": time.time() * 1000, "clientMessageId": "live-sub-1"})
        run_until(loop, lambda: any(m.body == "typed just now" for m in chats.messages.messages), timeout=3)
        assert time.monotonic() - committed < 2.0
        chats.open(chat)  # re-opening replaces the subscription rather than adding one
        assert sum(1 for sub in controller.subscriptions.subs.values() if sub.path == "console:listMessages") == 1

        # The call log has the subscriptions and their updates as their own kind (the call-rate panel's "by kind").
        controller.flush_call_log()
        run_until(loop, lambda: not ctx.tasks.busy and controller.call_log.pending() == 0)
        with ctx.engine.connect() as conn:
            rows = dict(conn.exec_driver_sql(
                "SELECT function || '/' || outcome, count(*) FROM call_log WHERE kind = 'subscription' "
                "GROUP BY 1").all())
        assert rows.get("console:jobStats/subscribed") == 1 and rows.get("console:jobStats/success", 0) >= 2
        assert rows.get("console:listMessages/success", 0) >= 2 and rows.get("sync/connect/success") == 1
    finally:
        close(window, loop, qtbot, ctx, s)
