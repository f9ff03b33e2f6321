"""Issue 15, Roles: the editor never misstates who holds a role (each test failed before the fix)."""

import json

import pytest
from PySide6.QtCore import QItemSelectionModel
from sqlalchemy import text

from console.ui.main_window import MainWindow
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


def filter_role(qtbot, ctx, panel, role):
    panel.role.setCurrentIndex(panel.role.findData(role))
    wait_idle(qtbot, ctx)


def select(qtbot, ctx, panel, user_id):
    while panel.model.row_of(user_id) < 0 and panel.model.canFetchMore():
        panel.model.fetchMore()
        wait_idle(qtbot, ctx)
    row = panel.model.row_of(user_id)
    assert row >= 0, "the user is listed"
    # Select exactly this row (selectRow extends an extended selection when a modifier seems held).
    panel.table.selectionModel().select(panel.model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                                        | QItemSelectionModel.SelectionFlag.Rows)
    qtbot.waitUntil(lambda: panel.editor.row is not None and panel.editor.row.id == user_id, timeout=20_000)
    wait_idle(qtbot, ctx)


def roles_in_replica(ctx, uid):
    with ctx.engine.connect() as c:
        return json.loads(c.execute(text("SELECT roles FROM users WHERE id=:u"), {"u": uid}).scalar())


def second_admin(ctx):
    with ctx.engine.connect() as c:
        return c.execute(text("SELECT id FROM users WHERE roles = '[\"admin\",\"support\"]' AND is_active "
                              "AND id != :me ORDER BY pk LIMIT 1"), {"me": ctx.operator_id()}).scalar()


def test_editor_follows_the_document_not_the_filtered_row(qtbot, window, ctx):
    """Filtered to admins, remove admin, then edit again: accepted (not "someone else edited first"),
    the pending mark clears, and nothing rolls back to admin."""
    panel = window.panels["roles"]
    uid = second_admin(ctx)
    filter_role(qtbot, ctx, panel, "admin")
    select(qtbot, ctx, panel, uid)
    panel.editor.boxes["admin"].setChecked(False)
    panel.editor.reason.setText("moves to support")
    panel.editor.save()
    qtbot.waitUntil(lambda: ("roles", uid) not in user_actions(ctx).optimistic.changes, timeout=5000)
    wait_idle(qtbot, ctx)
    assert roles_in_replica(ctx, uid) == ["support"]
    assert "waiting for the replica" not in panel.editor.title.text()
    assert not panel.editor.boxes["admin"].isChecked()
    panel.editor.boxes["support"].setChecked(False)
    panel.editor.reason.setText("leaves the team")
    panel.editor.save()
    qtbot.waitUntil(lambda: ("roles", uid) not in user_actions(ctx).optimistic.changes, timeout=5000)
    wait_idle(qtbot, ctx)
    assert "Refused" not in panel.editor.message.text(), panel.editor.message.text()
    assert roles_in_replica(ctx, uid) == []
    assert not any(b.isChecked() for b in panel.editor.boxes.values())
    assert "waiting" not in panel.editor.title.text()


def test_the_reason_belongs_to_the_user_it_was_typed_for(qtbot, window, ctx):
    panel = window.panels["roles"]
    with ctx.engine.connect() as c:
        a, b = c.execute(text("SELECT id FROM users WHERE role='user' ORDER BY pk LIMIT 2")).scalars().all()
    panel.apply_query()
    wait_idle(qtbot, ctx)
    select(qtbot, ctx, panel, a)
    panel.editor.reason.setText("asked by their manager")
    select(qtbot, ctx, panel, b)
    assert panel.editor.reason.text() == ""


def test_the_editor_hides_a_user_the_filter_no_longer_lists(qtbot, window, ctx):
    panel = window.panels["roles"]
    uid = second_admin(ctx)
    filter_role(qtbot, ctx, panel, "admin")
    select(qtbot, ctx, panel, uid)
    filter_role(qtbot, ctx, panel, "user")  # customers: the admin is not among them
    while panel.model.canFetchMore():
        panel.model.fetchMore()
        wait_idle(qtbot, ctx)
    assert panel.model.row_of(uid) < 0
    assert panel.editor.row is None and not panel.editor.save_button.isEnabled()
    assert panel.editor.title.text() == "<b>No user selected</b>"
    filter_role(qtbot, ctx, panel, "admin")  # a narrowing that still lists the user keeps them selected
    select(qtbot, ctx, panel, uid)
    panel.search.setText(panel.editor.row.name)
    panel.apply_query()
    qtbot.waitUntil(lambda: panel.editor.row is not None and panel.editor.row.id == uid)


def test_member_roles_are_offered_from_the_organizations_roles_and_org_admins_may_act(qtbot, window, ctx):
    """The demo operator (an app admin) is an admin of organizations: the member choice offers that
    organization's roles and the change is accepted; in an organization they are not in, it is disabled."""
    panel = window.panels["roles"]
    me = ctx.operator_id()
    with ctx.engine.connect() as c:
        org = c.execute(text("SELECT organization_id FROM members WHERE user_id=:me AND role LIKE '%admin%' "
                             "LIMIT 1"), {"me": me}).scalar()
        assert org, "the demo's staff must belong to organizations"
        member_id, uid = c.execute(text("SELECT id, user_id FROM members WHERE organization_id=:o AND role='member' "
                                        "LIMIT 1"), {"o": org}).one()
        other = c.execute(text("SELECT m.user_id FROM members m WHERE m.role='member' AND m.organization_id NOT IN "
                               "(SELECT organization_id FROM members WHERE user_id=:me) AND m.user_id NOT IN "
                               "(SELECT user_id FROM members WHERE organization_id IN "
                               "(SELECT organization_id FROM members WHERE user_id=:me)) LIMIT 1"), {"me": me}).scalar()
    panel.org.setCurrentIndex(panel.org.findData(org))
    wait_idle(qtbot, ctx)
    select(qtbot, ctx, panel, uid)
    box = panel.editor.member_edits[member_id]
    offered = [box.itemData(i) for i in range(box.count())]
    assert box.isEnabled() and "admin" in offered and "member" in offered
    assert "owner" not in offered  # an admin cannot make owners: not offered
    box.setCurrentIndex(offered.index("admin"))
    panel.editor.reason.setText("runs billing now")
    panel.editor.save()
    qtbot.waitUntil(lambda: ("member", member_id) not in user_actions(ctx).optimistic.changes, timeout=5000)
    wait_idle(qtbot, ctx)
    assert "Refused" not in panel.editor.message.text(), panel.editor.message.text()
    with ctx.engine.connect() as c:
        assert c.execute(text("SELECT role FROM members WHERE id=:m"), {"m": member_id}).scalar() == "admin"
    panel.org.setCurrentIndex(0)
    wait_idle(qtbot, ctx)
    select(qtbot, ctx, panel, other)
    boxes = list(panel.editor.member_edits.values())
    assert boxes and not any(b.isEnabled() for b in boxes), [(m["name"], m["actor_role"], m["role"]) for m in panel.editor.memberships]
    assert "not a member of this organization" in boxes[0].toolTip()


def test_settings_offers_every_user_who_may_act(qtbot, ctx):
    from console.ui.settings_dialog import SettingsDialog

    with ctx.engine.connect() as c:
        org_admin = c.execute(text("SELECT u.id FROM members m JOIN users u ON u.id = m.user_id WHERE m.role='owner' "
                                   "AND u.role='user' AND u.is_active LIMIT 1")).scalar()
        staff = c.execute(text("SELECT id FROM users WHERE roles != '[]' AND is_active")).scalars().all()
    dialog = SettingsDialog(ctx)
    qtbot.addWidget(dialog)
    wait_idle(qtbot, ctx)
    offered = {dialog.operator.itemData(i)[0] for i in range(dialog.operator.count())}
    assert org_admin in offered and set(staff) <= offered
