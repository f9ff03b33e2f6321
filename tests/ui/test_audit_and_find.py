"""Issue 15, search and navigation: the audit log reads for people, says when it is cut, finds targets by
name and opens them; quick find knows the 10-character job id the table shows."""

import json

from sqlalchemy import text

from console.store.roles import LocalRoleStore
from console.ui.panels.roles.audit import LIMIT, describe_change
from tests.ui.conftest import wait_idle


def test_changes_read_like_sentences():
    assert describe_change(json.dumps({"isActive": {"before": True, "after": False}})) == "deactivated"
    assert describe_change(json.dumps({"roles": {"before": ["support"], "after": ["admin", "support"]}})) == \
        "granted admin (now admin, support)"
    assert describe_change(json.dumps({"roles": {"before": ["admin"], "after": []}})) == "removed admin (now none)"
    assert describe_change(json.dumps({"role": {"before": "member", "after": "admin"}, "organizationId": "x"})) == \
        "organization role member → admin"
    assert "True" not in describe_change(json.dumps({"isActive": {"before": False, "after": True}}))


def audit_view(qtbot, window, ctx):
    window.show_panel("roles")
    panel = window.panels["roles"]
    panel.tabs.setCurrentIndex(1)
    wait_idle(qtbot, ctx)
    return panel.audit


def test_the_audit_log_says_when_it_is_cut(qtbot, window, ctx):
    me = ctx.operator_id()
    store = LocalRoleStore(ctx.engine)
    with ctx.engine.connect() as c:
        total = c.execute(text("SELECT count(*) FROM audit_logs")).scalar()
        uid, ts = c.execute(text("SELECT id, ts FROM users WHERE role='user' AND is_active LIMIT 1")).one()
    for i in range(max(0, LIMIT + 1 - total)):  # more entries than one screenful
        row = store.set_user_roles(uid, {"support"} if i % 2 == 0 else set(), me, f"toggle {i}", ts)
        with ctx.engine.connect() as c:
            ts = c.execute(text("SELECT ts FROM users WHERE id=:u"), {"u": uid}).scalar()
        assert row
    view = audit_view(qtbot, window, ctx)
    view.reload()
    wait_idle(qtbot, ctx)
    assert view.table.rowCount() == LIMIT and f"newest {LIMIT}" in view.note.text()


def test_the_audit_target_is_found_by_name_and_opens(qtbot, window, ctx):
    me = ctx.operator_id()
    with ctx.engine.connect() as c:
        uid, name, ts = c.execute(text("SELECT id, name, ts FROM users WHERE role='user' AND is_active "
                                       "LIMIT 1")).one()
    LocalRoleStore(ctx.engine).set_user_active(uid, False, me, "asked to close", ts)
    view = audit_view(qtbot, window, ctx)
    view.target.setText(name.split()[0].lower())
    view.reload()
    wait_idle(qtbot, ctx)
    rows = [i for i in range(view.table.rowCount()) if view.table.item(i, 3).text() == name]
    assert rows, "found by part of the name"
    assert view.table.item(rows[0], 4).text() == "deactivated"
    view._open(rows[0], 3)  # double-click / Enter on the target
    users = window.panels["users"]
    qtbot.waitUntil(lambda: users is not None and users.detail.detail is not None
                    and users.detail.detail.user["id"] == uid)
    wait_idle(qtbot, ctx)


def test_quick_find_a_job_by_the_id_the_table_shows(qtbot, window, ctx):
    with ctx.engine.connect() as c:
        job_id = c.execute(text("SELECT id FROM jobs WHERE status='dead' LIMIT 1")).scalar()
    window.open_quick_find()
    window.quick_find.box.setText(job_id[-10:])
    window.quick_find.timer.stop()  # search now rather than after the typing pause
    window.quick_find.search()
    qtbot.waitUntil(lambda: bool(window.quick_find.hits))
    assert window.quick_find.hits[0].target == job_id
    window.quick_find.hide()
