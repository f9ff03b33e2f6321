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
