"""A long demo chat (several pages) opens on its newest page; scrolling up loads the older pages one at a time,
keeping what is being read in place, until the first message."""

from sqlalchemy import text

from console.chats.loader import PAGE
from tests.ui.conftest import wait_idle
from tests.ui.test_chats_panel import panel  # noqa: F401  (the fixture)


def test_scrolling_up_loads_older_pages(qtbot, panel, ctx):  # noqa: F811
    with ctx.engine.connect() as c:
        chat_id, n = c.execute(text("SELECT chat_id, count(*) AS n FROM messages GROUP BY chat_id "
                                    "ORDER BY n DESC LIMIT 1")).one()
    assert n > 3 * PAGE  # the demo has chats long enough to page
    qtbot.waitUntil(lambda: panel.chats.row_of(chat_id) >= 0, timeout=5000)
    panel.list.selectRow(panel.chats.row_of(chat_id))
    qtbot.waitUntil(lambda: panel.messages.rowCount() == PAGE, timeout=5000)
    assert panel.messages.has_older
    bar = panel.view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), timeout=3000)  # at the newest
    loaded = [PAGE]
    while panel.messages.has_older:
        reading = panel.messages.messages[0].id
        bar.setValue(0)  # the reader reaches the top
        qtbot.waitUntil(lambda: panel.messages.rowCount() > loaded[-1], timeout=5000)
        loaded.append(panel.messages.rowCount())
        # the message read before is where it was: the older page went above it
        assert bar.value() > 0 and panel.messages.messages[loaded[-1] - loaded[-2]].id == reading
    assert loaded == [min(n, PAGE * k) for k in range(1, len(loaded) + 1)] and loaded[-1] == n
    times = [m.created_at for m in panel.messages.messages]
    assert times == sorted(times) and len({m.id for m in panel.messages.messages}) == n
    wait_idle(qtbot, ctx)
