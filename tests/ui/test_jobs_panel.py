"""The Jobs panel as an operator uses it, on the demo replica."""

import json

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import text

from console.ui.demo_worker import DemoWorker
from console.ui.main_window import MainWindow
from console.ui.panels.jobs.model import JobsModel
from tests.ui.conftest import bulk_dialog, wait_idle


@pytest.fixture
def window(qtbot, ctx):
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    w.show_panel("jobs")
    wait_idle(qtbot, ctx)
    yield w
    w.close()
    wait_idle(qtbot, ctx)


def jobs_panel(window):
    return window.panels["jobs"]


def click_state(qtbot, panel, state):
    button = panel.findChild(type(panel.state_buttons.button(0)), f"state-{state}")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def confirm(qtbot, panel, reason):
    """Give the reason the confirmation asks for, then confirm."""
    qtbot.waitUntil(lambda: getattr(panel, "_confirm_dialog", None) is not None and panel._confirm_dialog.isVisible())
    dialog = panel._confirm_dialog
    assert not dialog.ok.isEnabled()  # no reason, no action
    dialog.reason.setText(reason)
    assert dialog.ok.isEnabled()
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)


def test_model_passes_qtmodeltester(qtmodeltester, qtbot, ctx):
    from console.store.jobs import JobQuery

    model = JobsModel(ctx)
    model.set_query(JobQuery(status="retrying"))
    wait_idle(qtbot, ctx)
    assert 0 < model.rowCount() <= 200
    qtmodeltester.check(model)  # the C++ tester re-checks every row on each insert: keep it to one page
    wait_idle(qtbot, ctx)


def test_states_show_live_counts_and_filter(qtbot, window, ctx):
    panel = jobs_panel(window)
    with ctx.engine.connect() as c:
        dead = c.execute(text("SELECT count(*) FROM jobs WHERE status='dead'")).scalar()
    assert panel.state_buttons.button(5).text().replace("\u202f", "") == f"Dead {dead}"
    click_state(qtbot, panel, "dead")
    wait_idle(qtbot, ctx)
    assert panel.model.rows and all(r.status == "dead" for r in panel.model.rows)
    panel.text_edit.setText("twilio")
    panel.apply_query()
    wait_idle(qtbot, ctx)
    assert all("twilio" in (r.last_error.lower() + r.type) or r.status == "dead" for r in panel.model.rows)
    assert "full-text match" in panel.summary.text()


def test_retry_a_failed_demo_job_and_see_it_run(qtbot, window, ctx):
    panel = jobs_panel(window)
    click_state(qtbot, panel, "dead")
    wait_idle(qtbot, ctx)
    panel.table.selectRow(0)
    job = panel.model.rows[0]
    qtbot.waitUntil(lambda: panel.detail.detail is not None and panel.detail.detail.job["id"] == job.id)
    assert "Attempt errors" in panel.detail.body.toHtml()
    assert json.loads(panel.detail.payload.toPlainText()) == panel.detail.detail.payload
    assert panel.retry_button.isEnabled(), panel.retry_button.toolTip()
    qtbot.mouseClick(panel.retry_button, Qt.MouseButton.LeftButton)
    confirm(qtbot, panel, "customer asked")
    wait_idle(qtbot, ctx)

    def status():
        with ctx.engine.connect() as c:
            return c.execute(text("SELECT status FROM jobs WHERE id=:j"), {"j": job.id}).scalar()

    assert status() == "pending"
    worker = DemoWorker(ctx, failure_rate=0.0)
    for _ in range(50):
        worker.tick()
        wait_idle(qtbot, ctx)
        if status() == "succeeded":
            break
    assert status() == "succeeded"
    qtbot.waitUntil(lambda: panel.detail.detail is None)  # no longer dead: left the list, and the detail with it
    window.navigate("jobs", job.id)
    qtbot.waitUntil(lambda: panel.detail.detail is not None and panel.detail.detail.job["status"] == "succeeded")


def test_retry_all_matching_previews_confirms_and_runs(qtbot, window, ctx):
    panel = jobs_panel(window)
    click_state(qtbot, panel, "retrying")
    wait_idle(qtbot, ctx)
    qtbot.mouseClick(panel.retry_all_button, Qt.MouseButton.LeftButton)
    dialog = bulk_dialog(qtbot, panel)
    with ctx.engine.connect() as c:
        retrying = c.execute(text("SELECT count(*) FROM jobs WHERE status='retrying'")).scalar()
    assert dialog.matching == retrying
    dialog.cap.setValue(7)
    dialog.reason.setText("provider outage over")
    assert dialog.ok.text() == "Retry 7 jobs"
    dialog.accept()
    qtbot.waitUntil(lambda: "Retried 7 of 7" in window.statusBar().currentMessage(), timeout=10_000)
    with ctx.engine.connect() as c:
        entry = c.execute(text("SELECT reason, changes FROM audit_logs WHERE action='job.retry_many'")).one()
        assert c.execute(text("SELECT count(*) FROM jobs WHERE status='retrying'")).scalar() == retrying - 7
    assert entry.reason == "provider outage over" and json.loads(entry.changes)["retried"] == 7


def test_actions_the_operator_may_not_take_are_disabled_with_the_reason(qtbot, window, ctx):
    with ctx.engine.connect() as c:
        support = c.execute(text("SELECT id, email FROM users WHERE roles = '[\"support\"]' LIMIT 1")).one()
    ctx.settings.operator_user_id = support.id
    panel = jobs_panel(window)
    panel.load_actor()
    wait_idle(qtbot, ctx)
    click_state(qtbot, panel, "dead")
    wait_idle(qtbot, ctx)
    panel.table.selectRow(0)
    assert panel.retry_button.isEnabled()
    assert not panel.cancel_button.isEnabled()
    assert "needs jobs:cancel" in panel.cancel_button.toolTip()


def test_auto_refresh_pauses_while_hidden(qtbot, window, ctx):
    panel = jobs_panel(window)
    assert panel.timer.isActive() and panel.timer.interval() == 5000
    window.show_panel("users")
    assert not panel.timer.isActive()
    window.show_panel("jobs")
    assert panel.timer.isActive()
    panel.refresh_choice.setCurrentIndex(0)
    assert not panel.timer.isActive()


def test_quick_find_a_job_by_key(qtbot, window, ctx):
    with ctx.engine.connect() as c:
        key, job_id = c.execute(text("SELECT key, id FROM jobs WHERE key LIKE 'SM%' LIMIT 1")).one()
    window.open_quick_find()
    window.quick_find.box.setText(key)
    window.quick_find.search()
    qtbot.waitUntil(lambda: bool(window.quick_find.hits))
    assert window.quick_find.hits[0].target == job_id
    window.quick_find.accept_current()
    panel = jobs_panel(window)
    qtbot.waitUntil(lambda: panel.detail.detail is not None and panel.detail.detail.job["id"] == job_id)


def test_the_type_filter_shows_whole_type_names_and_keeps_its_width(qtbot, window, ctx):
    """A long type was cut in the closed box and its list: the list is as wide as the longest type, the
    chosen type is the tooltip, and loading the types does not widen the filter row."""
    panel = jobs_panel(window)
    width = panel.type.sizeHint().width()
    qtbot.waitUntil(lambda: panel.type.count() > 1, timeout=5000)
    types = [panel.type.itemText(i) for i in range(1, panel.type.count())]
    longest = max(types, key=len)
    assert panel.type.view().minimumWidth() >= panel.type.view().fontMetrics().horizontalAdvance(longest)
    assert panel.type.sizeHint().width() == width
    panel.type.setCurrentIndex(panel.type.findData(longest))
    assert longest in panel.type.toolTip()


def test_a_capped_deployment_count_gives_way_to_the_replicas_exact_one(qtbot, window, ctx, monkeypatch):
    """console:jobStats caps each count (one query reads at most so many): "Succeeded 1 000+" and "All 2 800+"
    stood over a list of 18 192. Past the cap the replica's exact count is shown; under it, the deployment's."""
    from console.ui.format import count

    panel = jobs_panel(window)
    wait_idle(qtbot, ctx)
    replica = dict(panel._replica_counts)
    assert replica["succeeded"] > 1000
    monkeypatch.setattr(ctx, "live", object())  # as when live: the deployment's figures apply
    panel._live_counts = {"counts": {"succeeded": 1000, "dead": 3, "pending": 1000}, "capped": ["succeeded", "pending"]}
    panel._show_counts()
    labels = {b.property("state"): b.text() for b in panel.state_buttons.buttons()}
    assert labels["succeeded"].endswith(f" {count(replica['succeeded'])}")  # exact, not "1 000+"
    assert labels["dead"].endswith(" 3")  # the deployment's own, newer than the replica
    pending = replica.get("pending", 0)
    assert labels["pending"].endswith(f" {count(pending)}" if pending > 1000 else " 1\u202f000+")
    monkeypatch.setattr(ctx, "live", None)


def test_the_type_filter_shows_more_of_a_type_where_there_is_room(qtbot, window, ctx):
    """At 1440 px the closed type filter cut every type to about ten characters ("billing.sy")."""
    panel = jobs_panel(window)
    window.resize(1024, 700)
    wait_idle(qtbot, ctx)
    narrow = panel.type.width()
    window.resize(1440, 900)
    qtbot.waitUntil(lambda: panel.type.width() > narrow + 60, timeout=3000)
