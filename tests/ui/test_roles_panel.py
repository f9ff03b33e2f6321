"""The Roles panel: optimistic edits confirmed or rolled back with the reason; deactivation from Users."""

import json

import pytest
from sqlalchemy import text

from console.ui.main_window import MainWindow
from console.ui.panels.roles.model import RolesModel
from console.ui.user_actions import user_actions
from tests.ui.conftest import wait_idle


@pytest.fixture
def window(qtbot, ctx):
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    w.show_panel("roles")
    wait_idle(qtbot, ctx)
    yield w
    w.close()
    wait_idle(qtbot, ctx)


def test_model_passes_qtmodeltester(qtmodeltester, qtbot, ctx):
    from console.store.roles import RoleQuery

    model = RolesModel(ctx, user_actions(ctx))
    model.set_query(RoleQuery(role="admin"))
    wait_idle(qtbot, ctx)
    assert model.rowCount() > 0
    qtmodeltester.check(model)
    wait_idle(qtbot, ctx)


def select(qtbot, ctx, panel, user_id):
    panel.search.setText("")
    panel.apply_query()
    wait_idle(qtbot, ctx)
    while panel.model.row_of(user_id) < 0 and panel.model.canFetchMore():
        panel.model.fetchMore()
        wait_idle(qtbot, ctx)
    panel.table.selectRow(panel.model.row_of(user_id))
    qtbot.waitUntil(lambda: panel.editor.row is not None and panel.editor.row.id == user_id)


def test_grant_shows_at_once_then_is_confirmed_and_audited(qtbot, window, ctx):
    panel = window.panels["roles"]
    with ctx.engine.connect() as c:
        uid = c.execute(text("SELECT id FROM users WHERE role='user' AND is_active AND roles='[]' LIMIT 1")).scalar()
    select(qtbot, ctx, panel, uid)
    panel.editor.boxes["support"].setChecked(True)
    panel.editor.reason.setText("helping with the launch")
    panel.editor.save()
    row = panel.model.row_of(uid)
    support_col = 3 + panel.model.role_columns.index("support")
    assert panel.model.index(row, support_col).data() == "✓"  # shown at once...
    assert panel.model.shown_roles(panel.model.rows[row])[1] in ("pending", "accepted")  # ...marked pending
    qtbot.waitUntil(lambda: ("roles", uid) not in user_actions(ctx).optimistic.changes, timeout=5000)
    wait_idle(qtbot, ctx)
    with ctx.engine.connect() as c:
        assert json.loads(c.execute(text("SELECT roles FROM users WHERE id=:u"), {"u": uid}).scalar()) == ["support"]
        entry = c.execute(text("SELECT reason, actor_user_id FROM audit_logs WHERE resource_id=:u "
                               "AND action='user.set_roles'"), {"u": uid}).one()
    assert entry.reason == "helping with the launch" and entry.actor_user_id == ctx.operator_id()


def test_a_refused_change_rolls_back_with_the_reason(qtbot, window, ctx):
    panel = window.panels["roles"]
    with ctx.engine.connect() as c:
        uid = c.execute(text("SELECT id FROM users WHERE NOT is_active AND roles='[]' LIMIT 1")).scalar()
    select(qtbot, ctx, panel, uid)
    panel.editor.boxes["admin"].setChecked(True)
    panel.editor.reason.setText("testing the rule")
    panel.editor.save()
    row = panel.model.row_of(uid)
    admin_col = 3 + panel.model.role_columns.index("admin")
    assert panel.model.index(row, admin_col).data() == "✓"  # optimistic
    qtbot.waitUntil(lambda: "Refused and rolled back" in panel.editor.message.text(), timeout=5000)
    assert "deactivated user cannot be granted" in panel.editor.message.text()
    assert panel.model.index(row, admin_col).data() == ""  # rolled back
    assert not panel.editor.boxes["admin"].isChecked()


def test_support_staff_cannot_edit_app_roles(qtbot, window, ctx):
    with ctx.engine.connect() as c:
        support = c.execute(text("SELECT id FROM users WHERE roles = '[\"support\"]' LIMIT 1")).scalar()
        uid = c.execute(text("SELECT id FROM users WHERE role='user' LIMIT 1")).scalar()
    ctx.settings.operator_user_id = support
    panel = window.panels["roles"]
    panel.load_actor()
    wait_idle(qtbot, ctx)
    assert not panel.grant.isEnabled() and "needs roles:write" in panel.grant.toolTip()
    select(qtbot, ctx, panel, uid)
    assert not panel.editor.boxes["admin"].isEnabled()
    assert "needs roles:write" in panel.editor.message.text()


def test_deactivate_from_the_users_panel(qtbot, window, ctx, monkeypatch):
    with ctx.engine.connect() as c:
        uid, name = c.execute(text("SELECT id, name FROM users WHERE role='user' AND is_active LIMIT 1")).one()
    window.navigate("users", uid)
    users = window.panels["users"]
    qtbot.waitUntil(lambda: users.detail.detail is not None and users.detail.detail.user["id"] == uid)
    wait_idle(qtbot, ctx)
    assert users.detail.active_button.isEnabled(), users.detail.active_button.toolTip()
    users.detail.active_button.click()
    dialog = users.active_dialog
    assert not dialog.ok.isEnabled()  # no reason yet: an empty one used to close the dialog and do nothing
    dialog.reason.setText("asked to close the account")
    assert dialog.ok.isEnabled() and dialog.ok.text() == "Deactivate"
    dialog.accept()
    qtbot.waitUntil(lambda: users.detail.banner.isVisible(), timeout=5000)
    assert "Deactivated" in users.detail.banner.text() and "asked to close the account" in users.detail.banner.text()
    qtbot.waitUntil(lambda: users.detail.active_button.text() == "Reactivate…", timeout=5000)
