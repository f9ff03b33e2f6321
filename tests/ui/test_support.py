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
