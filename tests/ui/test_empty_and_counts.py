"""Issue 15: empty states say what to do; counts are exact where the app knows them."""

import pytest
from sqlalchemy import text

from console.ui.main_window import MainWindow
from tests.ui.conftest import wait_idle


@pytest.fixture
def window(qtbot, ctx):
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    w.show_panel("users")
    wait_idle(qtbot, ctx)
    yield w
    w.close()
    wait_idle(qtbot, ctx)


def test_users_count_is_exact(qtbot, ctx, window):
    panel = window.panels["users"]
    with ctx.engine.connect() as c:
        total = c.execute(text("SELECT count(*) FROM users")).scalar()
    assert total > panel.model.PAGE  # more than one page is loaded
    qtbot.waitUntil(lambda: panel.summary.text().replace("\u202f", "").replace(",", "") == f"{total} users")
    panel.search.setText("a")
    panel.apply_query()
    wait_idle(qtbot, ctx)
    assert "+" not in panel.summary.text()


def test_no_match_says_what_to_do(qtbot, ctx, window):
    panel = window.panels["users"]
    panel.search.setText("zzqqxx")
    panel.apply_query()
    wait_idle(qtbot, ctx)
    assert panel.model.rowCount() == 0 and panel.empty.isVisible()
    assert "No user matches “zzqqxx”" in panel.empty.text() and "last four digits" in panel.empty.text()
    panel.search.setText("")
    panel.apply_query()
    wait_idle(qtbot, ctx)
    assert not panel.empty.isVisible()


def test_message_search_says_when_it_stops_at_100(qtbot, ctx, window):
    from console.ui.panels.chats.panel import SEARCH_LIMIT

    window.show_panel("chats")
    wait_idle(qtbot, ctx)
    panel = window.panels["chats"]
    with ctx.engine.connect() as c:
        word = "the"
        many = c.execute(text("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'the'")).scalar()
    assert many > SEARCH_LIMIT
    panel.search_all.setText(word)
    panel.run_search()
    wait_idle(qtbot, ctx)
    items = [panel.results.item(i).text() for i in range(panel.results.count())]
    assert len(items) == SEARCH_LIMIT + 1 and f"best {SEARCH_LIMIT} matches; more messages match" in items[-1]
    panel.search_all.setText("zzqqxxyy")
    panel.run_search()
    wait_idle(qtbot, ctx)
    assert "No message matches “zzqqxxyy”" in panel.results.item(0).text()
