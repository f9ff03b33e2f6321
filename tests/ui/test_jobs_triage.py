"""Issue 15, Jobs triage: each test failed before the fix."""

import json

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import text

from console.store.jobs import Health
from console.ui.main_window import MainWindow
from tests.ui.conftest import bulk_dialog, wait_idle


@pytest.fixture
def window(qtbot, ctx):
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.resize(1440, 900)
    w.show()
    w.show_panel("jobs")
    wait_idle(qtbot, ctx)
    yield w
    w.close()
    wait_idle(qtbot, ctx)


def state(qtbot, ctx, panel, value):
    panel.findChild(type(panel.state_buttons.button(0)), f"state-{value or 'all'}").click()
    wait_idle(qtbot, ctx)


def test_last_error_is_on_screen_at_1440_before_the_key(qtbot, window, ctx):
    panel = window.panels["jobs"]
    headers = [panel.model.headerData(i, Qt.Orientation.Horizontal) for i in range(panel.model.columnCount())]
    assert headers.index("Last error") < headers.index("Type") < headers.index("Key")
    header = panel.table.horizontalHeader()
    col = headers.index("Last error")
    assert header.sectionViewportPosition(col) + header.sectionSize(col) <= panel.table.viewport().width()


def test_cancel_asks_a_reason_and_confirms_and_the_audit_has_it(qtbot, window, ctx):
    panel = window.panels["jobs"]
    state(qtbot, ctx, panel, "retrying")
    panel.table.selectRow(0)
    job = panel.model.rows[0].id
    assert panel.cancel_button.isEnabled()
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    dialog = panel._confirm_dialog
    assert dialog.isVisible() and not dialog.ok.isEnabled()
    wait_idle(qtbot, ctx)
    with ctx.engine.connect() as c:  # one click did nothing yet
        assert c.execute(text("SELECT status FROM jobs WHERE id=:j"), {"j": job}).scalar() == "retrying"
    dialog.reason.setText("duplicate of a manual refund")
    assert dialog.ok.text() == "Cancel 1 job" and not dialog.ok.isDefault()
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, ctx)
    with ctx.engine.connect() as c:
        assert c.execute(text("SELECT status FROM jobs WHERE id=:j"), {"j": job}).scalar() == "canceled"
        reason = c.execute(text("SELECT reason FROM audit_logs WHERE resource_id=:j AND action='job.cancel'"),
                           {"j": job}).scalar()
    assert reason == "duplicate of a manual refund"


def test_single_retry_asks_a_reason(qtbot, window, ctx):
    panel = window.panels["jobs"]
    state(qtbot, ctx, panel, "dead")
    panel.table.selectRow(0)
    job = panel.model.rows[0].id
    panel.retry_selected()
    dialog = panel._confirm_dialog
    assert not dialog.ok.isEnabled()
    dialog.reason.setText("provider fixed")
    dialog.accept()
    wait_idle(qtbot, ctx)
    with ctx.engine.connect() as c:
        assert c.execute(text("SELECT reason FROM audit_logs WHERE resource_id=:j AND action='job.retry'"),
                         {"j": job}).scalar() == "provider fixed"


def test_bulk_retry_needs_a_reason_has_room_and_is_not_offered_for_nothing(qtbot, window, ctx):
    panel = window.panels["jobs"]
    state(qtbot, ctx, panel, "retrying")
    panel.retry_all_matching()
    dialog = bulk_dialog(qtbot, panel)
    assert not dialog.ok.isEnabled()  # no reason yet
    dialog.reason.setText("outage over")
    assert dialog.ok.isEnabled()
    fm = dialog.fontMetrics()
    assert dialog.width() >= fm.horizontalAdvance(dialog.windowTitle()) + 200
    assert dialog.ok.width() >= fm.horizontalAdvance(dialog.ok.text())
    dialog.reject()
    panel.id_edit.setText("no-such-job")
    panel.apply_query()
    wait_idle(qtbot, ctx)
    assert panel.model.rowCount() == 0
    assert not panel.retry_all_button.isEnabled() and "No job matches" in panel.retry_all_button.toolTip()
    panel._bulk_dialog = None
    panel.retry_all_matching()  # even when asked anyway: no dialog for 0 jobs
    wait_idle(qtbot, ctx)
    assert panel._bulk_dialog is None


def test_auto_refresh_keeps_the_selection_by_id(qtbot, window, ctx):
    panel = window.panels["jobs"]
    state(qtbot, ctx, panel, "dead")
    panel.table.selectRow(2)
    job = panel.model.rows[2].id
    qtbot.waitUntil(lambda: panel.detail.detail is not None and panel.detail.detail.job["id"] == job)
    with ctx.engine.begin() as c:  # another dead job becomes the newest: the list reorders
        c.execute(text("UPDATE jobs SET created_at = created_at + 100000000000 WHERE id = "
                       "(SELECT id FROM jobs WHERE status='dead' ORDER BY created_at LIMIT 1)"))
    panel.tick()
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: not panel.model.loading)
    wait_idle(qtbot, ctx)
    assert panel.selected_ids() == [job]
    assert panel.detail.detail.job["id"] == job and panel.retry_button.isEnabled()
    with ctx.engine.begin() as c:  # the job leaves the filter (retried elsewhere): nothing selected, nothing on
        c.execute(text("UPDATE jobs SET status='pending', created_at = created_at + 200000000000 WHERE id=:j"),
                  {"j": job})
        c.execute(text("UPDATE jobs SET created_at = created_at + 300000000000 WHERE id = "
                       "(SELECT id FROM jobs WHERE status='dead' ORDER BY created_at LIMIT 1)"))
    panel.tick()
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: not panel.model.loading)
    wait_idle(qtbot, ctx)
    assert panel.selected_ids() == []
    assert panel.detail.detail is None
    assert not panel.retry_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_a_stuck_job_is_not_shown_as_a_green_running(qtbot, window, ctx):
    panel = window.panels["jobs"]
    state(qtbot, ctx, panel, "stuck")
    assert panel.model.rows, "the demo has stuck jobs"
    panel.table.selectRow(0)
    qtbot.waitUntil(lambda: panel.detail.detail is not None)
    html = panel.detail.body.toHtml()
    ok = ctx.theme.color("ok").name()
    assert "STUCK" in html and ok not in html.split("Job id")[0]
    assert panel.model.index(0, 1).data() == "STUCK"
    assert "stuck" in panel.detail.title.text()


def test_backlog_reads_none_waiting(qtbot, window, ctx):
    panel = window.panels["jobs"]
    panel.health.show_health(Health(oldest_pending_ms=None, stuck=0, per_minute=[], permanent_failure_rate=None,
                                    finished_24h=0))
    assert panel.health.backlog.text() == "Backlog: none waiting"


def test_the_detail_ages_move_on_with_each_refresh_where_the_reader_is(qtbot, window, ctx, monkeypatch):
    """A job selected for 30 s still said "Updated 0 s ago" (and a stuck one's lease never expired on screen):
    the detail was drawn once, and only a write to that job drew it again."""
    panel = window.panels["jobs"]
    state(qtbot, ctx, panel, "dead")
    panel.table.selectRow(0)
    qtbot.waitUntil(lambda: panel.detail.detail is not None)
    d = panel.detail.detail
    drawn = []
    original = panel.detail.show_detail
    monkeypatch.setattr(panel.detail, "show_detail",
                        lambda det, now, keep_position=False: (drawn.append((det, now, keep_position)),
                                                               original(det, now, keep_position))[1])
    panel.tick()
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: bool(drawn), timeout=5000)
    assert drawn[-1][0] is d and drawn[-1][2] is True
    later = int(d.job["updated_at"]) + 3 * 3600_000
    original(d, later, keep_position=True)
    assert "3 h ago" in panel.detail.body.toPlainText()
