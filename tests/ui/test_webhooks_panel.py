"""The Webhooks panel: verdicts with explanations, then replay to a stand-in (idempotent job)."""


from sqlalchemy import text

from console.standin.app import start_standin
from console.ui.main_window import MainWindow
from console.ui.panels.webhooks.model import DeliveriesModel
from tests.ui.conftest import wait_idle
from tests.ui.test_live import run_until


def test_model_passes_qtmodeltester(qtmodeltester, qtbot, ctx):
    model = DeliveriesModel(ctx)
    model.refresh()
    wait_idle(qtbot, ctx)
    assert model.rowCount() > 0
    qtmodeltester.check(model)
    wait_idle(qtbot, ctx)


def test_verify_then_replay_to_the_standin(qtbot, ctx, loop, no_modal_dialogs):
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    window.standin = start_standin(seed="empty", worker=False)
    try:
        window.show_panel("webhooks")
        panel = window.panels["webhooks"]
        run_until(loop, lambda: not ctx.tasks.busy and panel.model.rowCount() > 0
                  and all(r.valid is not None for r in panel.model.rows))
        assert "valid" in panel.counts.text() and "mismatch" in panel.counts.text()
        invalid = next(r for r in panel.model.rows if r.valid is False)
        assert invalid.summary  # every failure carries its explanation

        panel.verdict.setCurrentIndex(panel.verdict.findData("valid"))
        panel.provider.setCurrentIndex(panel.provider.findData("twilio"))
        run_until(loop, lambda: not ctx.tasks.busy and panel.model.rowCount() > 0)
        panel.table.selectRow(0)
        run_until(loop, lambda: panel.detail.detail is not None)
        delivery_id = panel.detail.detail.row["id"]
        assert "MessageSid" in panel.detail.body.toPlainText()

        panel.open_replay()
        dialog = panel._replay_dialog
        assert dialog.target.currentText().startswith(window.standin.url)
        assert dialog.mode == "resigned" and dialog.send_button.isEnabled()
        replies = []
        for _ in range(2):
            dialog.send()
            run_until(loop, lambda: "HTTP" in dialog.outcome.text() and dialog.send_button.isEnabled()
                      and len(dialog.outcome.text()) > 10)
            replies.append(dialog.outcome.text())
            dialog.outcome.setText("")
        assert all("HTTP 200" in r for r in replies)
        jobs = window.standin.store.scan("jobs")
        assert len(jobs) == 1  # the same MessageSid twice: one job
        with ctx.engine.connect() as c:
            attempts = c.execute(text("SELECT mode, status, target FROM replay_attempts WHERE delivery_id = :d"),
                                 {"d": delivery_id}).all()
        assert [(a.mode, a.status) for a in attempts] == [("resigned", 200), ("resigned", 200)]
        run_until(loop, lambda: not ctx.tasks.busy and panel.detail.detail is not None
                  and len(panel.detail.detail.replays) == 2)
        assert panel.detail.tabs.tabText(2) == "Replays (2)"

        dialog.modes.button(0).setChecked(True)  # verbatim to another URL: Twilio's signature covers the URL
        dialog.update_notes()
        assert "signs the URL" in dialog.notes.text()
        # To another machine: a confirmation that needs a reason; declined (the test conftest declines), nothing
        # is sent or recorded.
        dialog.target.setEditText("https://hooks.example.com/twilio")
        dialog.send()
        asked = no_modal_dialogs.pop()
        assert asked.startswith("Replay to another machine") and "Reason (for the console's audit)" in asked
        assert dialog.outcome.text() == "" and dialog.send_button.isEnabled()
        wait_idle(qtbot, ctx)
        with ctx.engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM replay_attempts WHERE delivery_id = :d"),
                             {"d": delivery_id}).scalar() == 2
        dialog.reject()
    finally:
        window.close()
        if panel.client is not None:
            loop.run_until_complete(panel.client.aclose())
        wait_idle(qtbot, ctx)
