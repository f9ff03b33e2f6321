"""Support: everything about one person, in one place (finding by ids, filtered lists, timeline, ending sessions)."""

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import text

from console.ui.main_window import MainWindow
from tests.ui.conftest import wait_idle


def one(ctx, sql, **params):
    with ctx.engine.connect() as c:
        return c.execute(text(sql), params).one()


@pytest.mark.parametrize("what", ["_id", "external_id", "stripe", "token_hint"])
def test_quick_find_by_support_ids(qtbot, window, ctx, what):
    sql = {
        "_id": "SELECT id, id FROM users ORDER BY pk LIMIT 1 OFFSET 33",
        "external_id": "SELECT id, external_id FROM users WHERE external_id IS NOT NULL ORDER BY pk LIMIT 1 OFFSET 3",
        "stripe": "SELECT user_id, stripe_customer_id FROM billing_accounts ORDER BY pk LIMIT 1 OFFSET 2",
        "token_hint": "SELECT user_id, token_hint FROM sessions ORDER BY pk LIMIT 1 OFFSET 4",
    }[what]
    uid, typed = one(ctx, sql)
    name = one(ctx, "SELECT name FROM users WHERE id = :u", u=uid)[0]
    window.open_quick_find()
    window.quick_find.box.setText(typed)  # keyClicks cannot type the hint's ellipsis
    qtbot.waitUntil(lambda: bool(window.quick_find.hits), timeout=5000)
    assert window.quick_find.hits[0].target == uid
    qtbot.keyClick(window.quick_find.box, Qt.Key.Key_Return)
    users = window.panels["users"]
    qtbot.waitUntil(lambda: users.detail.title.text() == name, timeout=5000)


def busiest(ctx):
    return one(ctx, "SELECT j.user_id FROM jobs j JOIN webhook_deliveries d ON d.id = j.delivery_id "
                    "WHERE j.user_id IS NOT NULL GROUP BY j.user_id ORDER BY count(*) DESC, j.user_id LIMIT 1")[0]


def click_link(users, href):
    from PySide6.QtCore import QUrl

    assert href in users.detail.body.toHtml()
    users.detail.body.anchorClicked.emit(QUrl(href))


def test_user_detail_opens_their_jobs_and_deliveries(qtbot, window, ctx):
    uid = busiest(ctx)
    users = window.panels["users"]
    window.ctx.navigate("users", uid)
    qtbot.waitUntil(lambda: users.detail.detail is not None and users.detail.detail.user["id"] == uid, timeout=5000)
    # Someone left filters on the Jobs panel: opening a user's jobs replaces them.
    jobs = window.panel("jobs")
    wait_idle(qtbot, ctx)
    jobs.key_edit.setText("some-key")
    click_link(users, f"jobs-user:{uid}")
    qtbot.waitUntil(lambda: window.stack.currentWidget() is jobs, timeout=5000)
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: jobs.model.query.user_id == uid and not ctx.tasks.busy, timeout=5000)
    with ctx.engine.connect() as c:
        expected = set(c.execute(text("SELECT id FROM jobs WHERE user_id = :u"), {"u": uid}).scalars())
    qtbot.waitUntil(lambda: {r.id for r in jobs.model.rows} == expected, timeout=5000)
    assert jobs.key_edit.text() == "" and jobs.user_edit.text() == uid

    window.ctx.navigate("users", uid)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is users, timeout=5000)
    click_link(users, f"deliveries-user:{uid}")
    hooks = window.panel("webhooks")
    qtbot.waitUntil(lambda: hooks.model.query.user_id == uid, timeout=5000)
    wait_idle(qtbot, ctx)
    with ctx.engine.connect() as c:
        linked = set(c.execute(text("SELECT delivery_id FROM jobs WHERE user_id = :u AND delivery_id IS NOT NULL"),
                               {"u": uid}).scalars())
    qtbot.waitUntil(lambda: linked <= {r.id for r in hooks.model.rows}, timeout=5000)
    # Clearing the filter shows every delivery again.
    hooks.user_edit.clear()
    hooks.apply_query()
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: hooks.model.query.user_id is None, timeout=5000)


# -- ending sessions --------------------------------------------------------------------------------

from tests.test_support_store import live_sessions  # noqa: E402


def open_user(qtbot, window, uid):
    users = window.panels["users"]
    window.ctx.navigate("users", uid)
    qtbot.waitUntil(lambda: users.detail.detail is not None and users.detail.detail.user["id"] == uid, timeout=5000)
    wait_idle(qtbot, window.ctx)
    return users


def live_count(ctx, uid):
    import time

    with ctx.engine.connect() as c:
        return c.execute(text("SELECT count(*) FROM sessions WHERE user_id = :u AND active AND expires_at > :n"),
                         {"u": uid, "n": int(time.time() * 1000)}).scalar()


def test_demo_end_all_sessions_with_confirmation_and_reason(qtbot, window, ctx):
    uid = live_sessions(ctx.engine, 3)
    users = open_user(qtbot, window, uid)
    button = users.detail.end_sessions_button
    qtbot.waitUntil(button.isEnabled, timeout=5000)  # the demo operator is an admin: sessions:revoke
    assert "end-session:" in users.detail.body.toHtml()
    messages = []
    ctx.status_message.connect(messages.append)
    button.click()
    dialog = users.end_dialog
    assert dialog.isVisible() and not dialog.ok.isEnabled()  # no reason, no ending
    assert dialog.text.textFormat() == Qt.TextFormat.PlainText
    dialog.reject()
    assert live_count(ctx, uid) == 3
    button.click()
    users.end_dialog.reason.setText("account takeover reported")
    assert users.end_dialog.ok.isEnabled()
    users.end_dialog.ok.click()
    qtbot.waitUntil(lambda: live_count(ctx, uid) == 0, timeout=5000)
    qtbot.waitUntil(lambda: "Ended 3 sessions." in messages, timeout=5000)
    # The detail refreshes: the audit entry shows, and there is nothing left to end.
    qtbot.waitUntil(lambda: any(a["action"] == "user.end_sessions" for a in users.detail.detail.audit), timeout=5000)
    wait_idle(qtbot, ctx)
    assert not button.isEnabled() and "end-session:" not in users.detail.body.toHtml()


def test_demo_end_one_session_from_its_link(qtbot, window, ctx):
    from PySide6.QtCore import QUrl

    uid = live_sessions(ctx.engine, 2)
    users = open_user(qtbot, window, uid)
    sid = next(s["id"] for s in users.detail.detail.sessions if s["ip"] == "203.0.113.7")
    users.detail.body.anchorClicked.emit(QUrl(f"end-session:{sid}"))
    users.end_dialog.reason.setText("stolen laptop")
    users.end_dialog.ok.click()
    qtbot.waitUntil(lambda: live_count(ctx, uid) == 1, timeout=5000)
    wait_idle(qtbot, ctx)
    with ctx.engine.connect() as c:
        assert not c.execute(text("SELECT active FROM sessions WHERE id = :s"), {"s": sid}).scalar()


def test_a_customer_operator_cannot_end_sessions(qtbot, window, ctx):
    uid = live_sessions(ctx.engine, 1)
    customer = one(ctx, "SELECT id FROM users WHERE role = 'user' AND permissions = '[]' AND id != :u LIMIT 1", u=uid)[0]
    ctx.settings.operator_user_id = customer
    users = window.panels["users"]
    users.load_actor()
    users = open_user(qtbot, window, uid)
    assert not users.detail.end_sessions_button.isEnabled()
    assert "sessions:revoke" in users.detail.end_sessions_button.toolTip()
    # The store refuses too, should the button be reached some other way.
    refused = []
    users.sessions.refused.connect(refused.append)
    users.sessions.end_user_sessions(uid, "r")
    qtbot.waitUntil(lambda: bool(refused), timeout=5000)
    assert "needs sessions:revoke" in refused[0] and live_count(ctx, uid) == 1


def test_live_end_sessions_through_the_contract(qtbot, ctx, loop):
    """Against the stand-in: the console's calls pass the contract's validators and rules, the replica follows."""
    import time

    from console.client.http import Deployment
    from console.ui.connect import connect_live
    from console.ui.panels.users.sessions import SessionActions
    from tests.standin_helpers import KEY, standin
    from tests.ui.test_live import close, run_until

    s = standin()
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    try:
        support = s.store.scan("users", where="json_extract(doc,'$.role') = 'support' AND "
                               "json_extract(doc,'$.isActive') = 1", limit=1)[0]
        target = s.store.scan("users", where="json_extract(doc,'$.role') = 'user'", limit=1)[0]
        customer = s.store.scan("users", where="json_extract(doc,'$.role') = 'user' AND id != ? "
                                "AND coalesce(json_extract(doc,'$.permissions'), '[]') = '[]'", params=(target["_id"],), limit=1)
        now = int(time.time() * 1000)
        with s.store.transaction() as tx:
            ids = [tx.insert("sessions", {"userId": target["_id"], "token": f"sess_live_{i:030d}", "isActive": True,
                                          "createdAt": now, "expiresAt": now + 86_400_000}) for i in range(2)]
        ctx.settings.operator_user_id, ctx.settings.operator_email = support["_id"], support["email"]
        controller = connect_live(window, Deployment(s.url, KEY))
        run_until(loop, lambda: controller.last_state is not None and controller.last_state.status == "live", timeout=60)
        actions = SessionActions(ctx)
        done, refused = [], []
        actions.finished.connect(done.append)
        actions.refused.connect(refused.append)

        actions.end_session(ids[0], "suspicious login")
        run_until(loop, lambda: done or refused, timeout=60)
        assert done == ["Ended 1 session."], refused
        assert s.store.get("sessions", ids[0])["isActive"] is False
        actions.end_session(ids[0], "again")
        run_until(loop, lambda: refused, timeout=60)
        assert refused[-1] == "The session has already ended."

        actions.end_user_sessions(target["_id"], "account takeover")
        run_until(loop, lambda: len(done) > 1 or len(refused) > 1, timeout=60)
        assert done[-1].startswith("Ended ") and all(
            not x.get("isActive", True) or x.get("expiresAt", now + 1) <= int(time.time() * 1000)
            for x in s.store.scan("sessions", where="json_extract(doc,'$.userId') = ?", params=(target["_id"],)))
        entries = s.store.scan("auditLogs", where="json_extract(doc,'$.resourceId') = ?", params=(target["_id"],))
        assert {e["action"] for e in entries} >= {"session.end", "user.end_sessions"}
        assert all(e["actorUserId"] == support["_id"] for e in entries if e["action"].startswith(("session", "user.end")))
        # The replica follows the deployment: the ended session arrives through sync.
        def replica_active():
            with ctx.engine.connect() as c:
                return c.execute(text("SELECT active FROM sessions WHERE id = :s"), {"s": ids[1]}).scalar()
        run_until(loop, lambda: replica_active() == 0, timeout=60)

        assert customer
        ctx.settings.operator_user_id, ctx.settings.operator_email = customer[0]["_id"], customer[0]["email"]
        actions.end_user_sessions(target["_id"], "r")
        run_until(loop, lambda: len(refused) > 1, timeout=60)
        assert "needs sessions:revoke" in refused[-1]
    finally:
        close(window, loop, qtbot, ctx, s)


# -- the timeline -----------------------------------------------------------------------------------

def test_timeline_tab_lists_filters_and_opens_events(qtbot, window, ctx):
    uid = busiest(ctx)
    users = open_user(qtbot, window, uid)
    view = users.detail.timeline
    assert view.table.rowCount() == 0  # not read until shown
    users.detail.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.table.rowCount() > 0, timeout=5000)
    kinds = {e.kind for e in view.events}
    assert {"job", "delivery"} <= kinds
    ats = [e.at for e in view.shown()]
    assert ats == sorted(ats, reverse=True)
    # Only jobs: every other kind toggled off.
    for kind, b in view.kind_buttons.items():
        b.setChecked(kind == "job")
    assert view.table.rowCount() == sum(e.kind == "job" for e in view.events)
    assert all(view.table.item(r, 1).text() == "Jobs" for r in range(view.table.rowCount()))
    target = view.shown()[0].target
    view.table.cellDoubleClicked.emit(0, 2)
    jobs = window.panel("jobs")
    qtbot.waitUntil(lambda: window.stack.currentWidget() is jobs, timeout=5000)
    wait_idle(qtbot, ctx)
    assert jobs.id_edit.text() == target


def test_timeline_shows_hostile_text_literally(qtbot, window, ctx):
    """A message body that looks like markup is shown as typed (plain text), never rendered."""
    import time

    from console.store.ingest import upsert_documents
    from console.store.mapping import BY_SOURCE

    chat, uid = one(ctx, "SELECT id, user_id FROM chats ORDER BY pk LIMIT 1")
    hostile = "<img src='file:///etc/passwd'><b>bold</b> &amp;"
    with ctx.engine.begin() as c:
        upsert_documents(c, BY_SOURCE[("", "messages")], [{
            "_id": "m" * 31 + "h", "_creationTime": 1.0, "_ts": time.time_ns(), "chatId": chat, "role": "user",
            "body": hostile, "createdAt": int(time.time() * 1000) + 60_000}])
    users = open_user(qtbot, window, uid)
    view = users.detail.timeline
    users.detail.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.table.rowCount() > 0, timeout=5000)
    assert view.table.item(0, 3).text() == hostile
    assert "&lt;img" in view.table.item(0, 3).toolTip()


def test_retry_all_matching_keeps_the_user_filter_for_the_contract():
    """"Retry all matching" on a user's jobs retries only theirs on the deployment too (retryJobs filter.userId)."""
    from console.contract.install import arg_spec
    from console.store.jobs import JobQuery
    from console.ui.panels.jobs.actions import contract_filter

    assert contract_filter(JobQuery(status="dead", user_id="u1")) == {"status": "dead", "userId": "u1"}
    assert "userId" in arg_spec()["console:retryJobs"]["value"]["filter"]["fieldType"]["value"]


def test_a_user_opened_from_elsewhere_beyond_the_loaded_rows_leaves_no_other_user_highlighted(qtbot, window, ctx):
    users = window.panels["users"]
    window.show_panel("users")
    qtbot.waitUntil(lambda: users.model.rowCount() > 0, timeout=5000)
    wait_idle(qtbot, ctx)
    users.table.selectRow(0)
    first = users.model.row_at(0).id
    qtbot.waitUntil(lambda: users.detail.detail is not None and users.detail.detail.user["id"] == first, timeout=5000)
    loaded = {r.id for r in users.model.rows}
    with ctx.engine.connect() as c:
        far = next(u for u in c.execute(text("SELECT id FROM users ORDER BY pk DESC")).scalars() if u not in loaded)
    window.ctx.navigate("users", far)
    qtbot.waitUntil(lambda: users.detail.detail is not None and users.detail.detail.user["id"] == far, timeout=5000)
    assert users.table.selectionModel().selectedRows() == []  # the first user no longer looks selected
    while users.model.row_of(far) < 0 and users.model.canFetchMore():  # scrolling down reaches them: selected
        users.model.fetchMore()
        wait_idle(qtbot, ctx)
    rows = users.table.selectionModel().selectedRows()
    assert [users.model.row_at(r.row()).id for r in rows] == [far]


def test_another_users_timeline_opens_at_their_newest_events(qtbot, window, ctx):
    """The timeline kept the previous user's scroll position: the next user's newest events were out of view."""
    window.resize(1024, 700)
    first = busiest(ctx)
    users = open_user(qtbot, window, first)
    view = users.detail.timeline
    users.detail.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.table.rowCount() > 0 and not view.loading, timeout=5000)
    wait_idle(qtbot, ctx)
    bar = view.table.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=5000)  # laid out: more events than fit
    bar.setValue(bar.maximum())
    assert bar.value() > 0
    second = one(ctx, "SELECT j.user_id FROM jobs j WHERE j.user_id IS NOT NULL AND j.user_id != :u "
                      "GROUP BY j.user_id ORDER BY count(*) DESC LIMIT 1", u=first)[0]
    open_user(qtbot, window, second)
    qtbot.waitUntil(lambda: view.user_id == second and view.table.rowCount() > 0 and not view.loading, timeout=5000)
    wait_idle(qtbot, ctx)
    assert bar.value() == 0


def test_with_no_user_shown_nothing_acts_and_the_timeline_says_to_select_one(qtbot, window, ctx):
    """After the list reloaded (a replica swap, a fresh sync) Deactivate… stayed enabled with no user shown and
    the Timeline said "Nothing has happened to this user yet"."""
    users = open_user(qtbot, window, busiest(ctx))
    users.load_actor()
    wait_idle(qtbot, ctx)
    assert users.detail.active_button.isEnabled()
    users.reload()
    wait_idle(qtbot, ctx)
    assert users.detail.detail is None and not users.detail.active_button.isEnabled()
    assert not users.detail.end_sessions_button.isEnabled()
    assert "Select a user" in users.detail.timeline._why_empty()
