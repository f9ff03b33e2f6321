"""Support: everything about one person, in one place (finding by ids, filtered lists, timeline, ending sessions)."""

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import text

from console.ui.main_window import MainWindow
from tests.ui.conftest import wait_idle


@pytest.fixture
def window(qtbot, ctx):
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    wait_idle(qtbot, ctx)
    yield w
    w.close()
    wait_idle(qtbot, ctx)


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
