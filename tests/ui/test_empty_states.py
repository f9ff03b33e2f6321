"""Issue 15: every panel list that can be empty says why, and what to do (an overlay on the view)."""

import pytest
from PySide6.QtWidgets import QLabel

from tests.ui.conftest import wait_idle


def empty_note(view) -> QLabel | None:
    note = view.viewport().findChild(QLabel, "empty-state")
    return note if note is not None and note.isVisible() else None


def search_for_nothing(qtbot, ctx, panel, edit, text: str = "zzqqxxyy") -> QLabel:
    """Type what matches nothing into `edit`, apply it, and return the note over the panel's table."""
    edit.setText(text)
    panel.apply_query()
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: empty_note(panel.table) is not None)
    return empty_note(panel.table)


@pytest.fixture
def controller(qtbot, ctx):
    """A live controller never started (its deployment is unreachable): its states are set by hand."""
    from console.client.http import Deployment
    from console.ui.live import LiveController

    controller = LiveController(ctx, Deployment("http://127.0.0.1:9", "standin|k"))
    yield controller
    ctx.live = None
    ctx.tasks.spawn(controller.aclose())
    wait_idle(qtbot, ctx)


def test_filtered_tables_say_what_matched_nothing_and_what_to_do(qtbot, ctx, window):
    window.show_panel("jobs")
    wait_idle(qtbot, ctx)
    jobs = window.panels["jobs"]
    assert empty_note(jobs.table) is None
    assert "No job matches text “zzqqxxyy”" in search_for_nothing(qtbot, ctx, jobs, jobs.text_edit).text()
    jobs.text_edit.setText("")
    jobs.apply_query()
    wait_idle(qtbot, ctx)
    assert empty_note(jobs.table) is None

    window.show_panel("webhooks")
    wait_idle(qtbot, ctx)
    hooks = window.panels["webhooks"]
    assert "No delivery matches text “zzqqxxyy”" in search_for_nothing(qtbot, ctx, hooks, hooks.text).text()
    assert "Clear a filter" in empty_note(hooks.table).text()

    window.show_panel("logs")
    wait_idle(qtbot, ctx)
    logs = window.panels["logs"]
    assert "No log entry matches text “zzqqxxyy”" in search_for_nothing(qtbot, ctx, logs, logs.text).text()

    window.show_panel("roles")
    wait_idle(qtbot, ctx)
    roles = window.panels["roles"]
    assert "No user matches “zzqqxxyy”" in search_for_nothing(qtbot, ctx, roles, roles.search).text()


def test_data_says_pick_a_table_then_what_the_filter_missed(qtbot, ctx, window):
    window.show_panel("data")
    wait_idle(qtbot, ctx)
    data = window.panels["data"]
    from console.store import browse as B

    data.model.set_query(B.BrowseQuery())
    wait_idle(qtbot, ctx)
    assert "Pick a table on the left" in empty_note(data.table).text()
    users = next(t.ref for t in data.tables if t.ref.name == "users")
    data.model.set_query(B.BrowseQuery(users, (B.FieldFilter("email", "equals", '"nobody@nowhere.invalid"'),)))
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: empty_note(data.table) is not None)
    assert "No document of" in empty_note(data.table).text() and "nobody@nowhere.invalid" in empty_note(data.table).text()


def test_alerts_functions_and_timeline_explain_their_empty_lists(qtbot, ctx, window):
    window.show_panel("functions")
    wait_idle(qtbot, ctx)
    functions = window.panels["functions"]
    if functions.audit.count() == 0:
        assert "No mutation or action run from here yet" in empty_note(functions.audit).text()
    window.show_panel("alerts")
    wait_idle(qtbot, ctx)
    alerts = window.panels["alerts"]
    alerts.table.setRowCount(0)
    assert "No alert has fired" in empty_note(alerts.table).text()

    window.show_panel("users")
    wait_idle(qtbot, ctx)
    users = window.panels["users"]
    timeline = users.detail.timeline
    users.show_user(users.model.rows[0].id)
    wait_idle(qtbot, ctx)
    users.detail.tabs.setCurrentWidget(timeline)
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: not timeline.loading and bool(timeline.events))
    for b in timeline.kind_buttons.values():
        b.setChecked(False)
    assert "tick more kinds" in empty_note(timeline.table).text()


def test_job_types_and_error_groups_explain_an_empty_table(qtbot, ctx, window):
    window.show_panel("jobs")
    wait_idle(qtbot, ctx)
    jobs = window.panels["jobs"]
    assert empty_note(jobs.types.table) is None or jobs.types.model.rows == []
    jobs.types.show_rows([])
    jobs.groups.show_groups([], 0)
    jobs.bottom.setCurrentWidget(jobs.types)
    assert "No job types yet" in empty_note(jobs.types.table).text()
    jobs.bottom.setCurrentWidget(jobs.groups)
    assert "No error groups" in empty_note(jobs.groups.table).text()


def test_jobs_count_is_exact_not_page_plus(qtbot, ctx, window):
    from sqlalchemy import text

    window.show_panel("jobs")
    wait_idle(qtbot, ctx)
    jobs = window.panels["jobs"]
    with ctx.engine.connect() as c:
        total = c.execute(text("SELECT count(*) FROM jobs")).scalar()
    assert total > jobs.model.PAGE and jobs.model.has_more
    qtbot.waitUntil(lambda: jobs.summary.text().replace("\u202f", "") == f"{total} jobs")


def test_logs_count_is_exact_not_page_plus(qtbot, ctx, window):
    import re

    from sqlalchemy import text

    def stored() -> int:
        with ctx.engine.connect() as c:
            return c.execute(text("SELECT count(*) FROM function_logs")).scalar()

    from console.ui.panels.logs.model import LogsModel

    # The demo's first log batch: the log tail starts a moment after the window (not to slow its first page).
    qtbot.waitUntil(lambda: stored() > LogsModel.PAGE, timeout=20_000)
    before = stored()  # read before the panel counts: entries logged meanwhile may not have reached its list yet
    window.show_panel("logs")
    wait_idle(qtbot, ctx)
    logs = window.panels["logs"]
    assert before > logs.model.PAGE and logs.model.has_more
    summary = lambda: re.match(r"(\d+) shown of (\d+) entries, newest first", logs.summary.text().replace("\u202f", ""))
    qtbot.waitUntil(lambda: summary() is not None)
    wait_idle(qtbot, ctx)
    # The console's own calls keep being logged while it runs: the count is between the two reads, exactly.
    shown_total = int(summary().group(2))
    wait_idle(qtbot, ctx)  # entries the tail counted may still be on their way to the writer
    qtbot.wait(200)
    wait_idle(qtbot, ctx)
    assert before <= shown_total <= stored() and "+" not in logs.summary.text()


def test_an_empty_list_during_a_first_sync_says_the_copy_is_still_running(qtbot, ctx, window, controller):
    """Users opened on a replica the first sync has not reached yet said "No user matches these filters"."""
    from console.sync.loop import LoopState

    window.show_panel("jobs")
    users = window.panels["users"]
    window.show_panel("users")
    wait_idle(qtbot, ctx)
    users.search.setText("zzqqxxyy")
    users.apply_query()
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: users.empty.isVisible())
    assert "still copying" not in users.empty.text()

    ctx.live = controller
    controller._state(LoopState("syncing"))  # what the sync loop says while a snapshot is copied
    assert "No user matches “zzqqxxyy”" in users.empty.text()
    assert "The first sync is still copying the deployment" in users.empty.text()
    window.show_panel("jobs")
    jobs = window.panels["jobs"]
    assert "still copying" in search_for_nothing(qtbot, ctx, jobs, jobs.text_edit).text()

    controller._state(LoopState("live"))
    assert "still copying" not in empty_note(jobs.table).text()
    assert "still copying" not in users.empty.text()
    ctx.live = None  # the controller fixture closes it; the window must not start closing it too


def test_the_live_controller_is_building_from_syncing_until_live(ctx, controller):
    from console.sync.loop import LoopState

    seen = []
    ctx.sync_state.connect(seen.append)
    assert not controller.building
    for status, building in [("syncing", True), ("offline", True), ("waiting", True), ("live", False),
                             ("offline", False), ("resync", True), ("error", False)]:
        controller._state(LoopState(status))
        assert controller.building is building, status
    assert seen == []  # not the shown replica's controller: the window hears nothing
    ctx.live = controller
    controller._state(LoopState("syncing"))
    assert [s.status for s in seen] == ["syncing"] and ctx.copying
