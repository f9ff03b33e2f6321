"""Issue 15: what may not be done is disabled up front, with the reason as its tooltip (each of these was
enabled and refused afterwards before)."""

from PySide6.QtCore import QItemSelectionModel, Qt
from sqlalchemy import text

from console.store.roles import LocalRoleStore
from tests.ui.conftest import wait_idle


def roles_editor_for(qtbot, window, ctx, user_id):
    window.show_panel("roles")
    panel = window.panels["roles"]
    panel.load_actor()
    panel.role.setCurrentIndex(panel.role.findData("admin"))
    wait_idle(qtbot, ctx)
    while panel.model.row_of(user_id) < 0 and panel.model.canFetchMore():
        panel.model.fetchMore()
        wait_idle(qtbot, ctx)
    panel.table.selectionModel().select(panel.model.index(panel.model.row_of(user_id), 0),
                                        QItemSelectionModel.SelectionFlag.ClearAndSelect |
                                        QItemSelectionModel.SelectionFlag.Rows)
    qtbot.waitUntil(lambda: panel.editor.row is not None and panel.editor.row.id == user_id, timeout=20_000)
    wait_idle(qtbot, ctx)
    return panel.editor


def test_the_last_admins_role_cannot_be_removed_nor_they_deactivated(qtbot, window, ctx):
    me = ctx.operator_id()
    store = LocalRoleStore(ctx.engine)
    with ctx.engine.connect() as c:
        others = c.execute(text("SELECT u.id, u.ts FROM user_roles r JOIN users u ON u.pk = r.user_pk "
                                "WHERE r.role='admin' AND u.is_active AND u.id != :me"), {"me": me}).all()
    for o in others:
        store.set_user_roles(o.id, {"support"}, me, "consolidating", o.ts)
    editor = roles_editor_for(qtbot, window, ctx, me)
    assert not editor.boxes["admin"].isEnabled()
    assert "last admin" in editor.boxes["admin"].toolTip()
    assert editor.boxes["support"].isEnabled()  # what may be done stays enabled
    assert not editor.active_button.isEnabled()


def test_you_cannot_deactivate_yourself(qtbot, window, ctx):
    me = ctx.operator_id()
    editor = roles_editor_for(qtbot, window, ctx, me)
    assert not editor.active_button.isEnabled() and "yourself" in editor.active_button.toolTip()
    window.navigate("users", me)
    users = window.panels["users"]
    qtbot.waitUntil(lambda: users.detail.detail is not None and users.detail.detail.user["id"] == me)
    wait_idle(qtbot, ctx)
    assert not users.detail.active_button.isEnabled()
    assert "yourself" in users.detail.active_button.toolTip()


def jobs_in(qtbot, window, ctx, state):
    window.show_panel("jobs")
    panel = window.panels["jobs"]
    panel.findChild(type(panel.state_buttons.button(0)), f"state-{state or 'all'}").click()
    wait_idle(qtbot, ctx)
    return panel


def test_a_succeeded_job_cannot_be_retried_nor_a_finished_one_canceled(qtbot, window, ctx):
    panel = jobs_in(qtbot, window, ctx, "succeeded")
    assert not panel.retry_button.isEnabled() and not panel.cancel_button.isEnabled()  # nothing selected
    panel.table.selectRow(0)
    assert not panel.retry_button.isEnabled()
    assert "succeeded" in panel.retry_button.toolTip()
    assert not panel.cancel_button.isEnabled() and "already succeeded" in panel.cancel_button.toolTip()
    panel = jobs_in(qtbot, window, ctx, "dead")
    panel.table.selectRow(0)
    assert panel.retry_button.isEnabled()
    assert not panel.cancel_button.isEnabled() and "already dead" in panel.cancel_button.toolTip()


def test_a_mixed_selection_acts_only_on_what_it_may(qtbot, window, ctx):
    panel = jobs_in(qtbot, window, ctx, None)
    rows = panel.model.rows
    done = next(i for i, r in enumerate(rows) if r.status == "succeeded")
    dead = next(i for i, r in enumerate(rows) if r.status == "dead")
    sel = panel.table.selectionModel()
    from PySide6.QtCore import QItemSelectionModel

    for i in (done, dead):
        sel.select(panel.model.index(i, 0), QItemSelectionModel.SelectionFlag.Select |
                   QItemSelectionModel.SelectionFlag.Rows)
    ids, skipped = panel.actionable("retry")
    assert ids == [rows[dead].id] and "1 of the selection are skipped" in skipped
    assert panel.retry_button.isEnabled() and "skipped" in panel.retry_button.toolTip()


def test_nobody_read_only_is_really_read_only(qtbot, window, ctx):
    from console.ui.settings_dialog import SettingsDialog

    assert ctx.operator_id()  # the demo's admin until someone is chosen
    dialog = SettingsDialog(ctx, window)
    wait_idle(qtbot, ctx)
    assert dialog.operator.currentIndex() == 1 and dialog.operator.currentData()[0] == ctx.operator_id()
    dialog.operator.setCurrentIndex(0)  # (nobody: read-only)
    dialog.save()
    assert ctx.operator_id() is None
    panel = jobs_in(qtbot, window, ctx, "dead")
    panel.load_actor()
    wait_idle(qtbot, ctx)
    panel.table.selectRow(0)
    assert not panel.retry_button.isEnabled() and "No operator identity" in panel.retry_button.toolTip()
    assert not panel.retry_all_button.isEnabled()
    with ctx.engine.connect() as c:
        uid = c.execute(text("SELECT u.id FROM user_roles r JOIN users u ON u.pk = r.user_pk "
                             "WHERE r.role='admin' LIMIT 1")).scalar()
    editor = roles_editor_for(qtbot, window, ctx, uid)
    assert not any(b.isEnabled() for b in editor.boxes.values())
    assert not editor.active_button.isEnabled() and not editor.save_button.isEnabled()
    assert not any(b.isEnabled() for b in editor.member_edits.values())
