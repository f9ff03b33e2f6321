"""The Chats panel: hover-prefetch then open with no backend call, streaming without duplicates, search."""

import json

import pytest
from sqlalchemy import text

from console.store.chats import Message, MessagePage
from console.ui.main_window import MainWindow
from console.ui.panels.chats.models import MessagesModel
from tests.ui.conftest import wait_idle


@pytest.fixture
def panel(qtbot, ctx):
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    w.show_panel("chats")
    wait_idle(qtbot, ctx)
    p = w.panels["chats"]
    yield p
    w.close()
    wait_idle(qtbot, ctx)


def test_messages_model_passes_qtmodeltester(qtmodeltester):
    model = MessagesModel()
    model.show_page("c", MessagePage([Message(f"m{i}", "c", "user", f"hi {i}", i, f"cm{i}") for i in range(5)], True))
    qtmodeltester.check(model)


def test_chats_model_passes_qtmodeltester(qtmodeltester, qtbot, panel, ctx):
    qtmodeltester.check(panel.chats)
    wait_idle(qtbot, ctx)


def test_hover_prefetches_and_opening_makes_no_backend_call(qtbot, panel, ctx):
    panel.simulate_box.setChecked(True)  # on-demand source with latency, as a deployment would be
    panel.loader.source.latency = 0.03
    index = panel.chats.index(3, 0)
    panel._hovered(index)
    qtbot.waitUntil(lambda: panel.cache.stats.prefetches == 1, timeout=3000)
    calls = panel.loader.source.calls
    assert "User:" in panel.chats.index(3, 0).data(3)  # the hover preview comes from the cache
    panel.list.selectRow(3)
    assert panel.messages.rowCount() > 0  # painted at once, from the cache
    assert panel.loader.source.calls == calls and panel.cache.stats.hits == 1
    assert "saved 1" in panel.stats.text()
    panel.list.selectRow(5)  # never hovered: a miss, read from the source
    assert panel.messages.rowCount() == 0
    qtbot.waitUntil(lambda: panel.messages.rowCount() > 0, timeout=3000)
    assert panel.loader.source.calls == calls + 1


def test_streamed_messages_update_in_place_without_duplicates(qtbot, panel, ctx):
    panel.list.selectRow(0)
    qtbot.waitUntil(lambda: panel.messages.rowCount() > 0, timeout=3000)
    last = panel.messages.messages[-1]
    n = panel.messages.rowCount()
    draft = Message("tmp-1", last.chat_id, "user", "typing…", last.created_at + 1000, "cm-stream-1")
    panel._merge_keep_position([draft])
    final = Message("real-1", last.chat_id, "user", "typing done", last.created_at + 1000, "cm-stream-1")
    panel._merge_keep_position([final, final])
    assert panel.messages.rowCount() == n + 1
    assert panel.messages.messages[-1].body == "typing done"
    bar = panel.view.verticalScrollBar()
    bar.setValue(0)
    value = bar.value()
    panel._merge_keep_position([Message("real-2", last.chat_id, "assistant", "reply", last.created_at + 2000, None)])
    assert bar.value() == value  # reading older messages: no jump


def test_search_every_message_then_jump(qtbot, panel, ctx):
    panel.search_all.setText("boundary")
    panel.run_search()
    qtbot.waitUntil(lambda: panel.results.count() > 0 and panel.results.isVisible())
    item = panel.results.item(0)
    hit = item.data(256)
    panel._open_result(item)
    qtbot.waitUntil(lambda: panel.messages.row_of(hit.message_id) >= 0, timeout=3000)
    assert panel.view.currentIndex().row() == panel.messages.row_of(hit.message_id)


def test_export_json_and_markdown(qtbot, panel, ctx, tmp_path):
    panel.list.selectRow(0)
    qtbot.waitUntil(lambda: panel.messages.rowCount() > 0, timeout=3000)
    panel.export("json", tmp_path / "c.json")
    panel.export("md", tmp_path / "c.md")
    wait_idle(qtbot, ctx)
    data = json.loads((tmp_path / "c.json").read_text())
    assert data["chat"]["id"] == panel.open_chat and data["messages"]
    assert (tmp_path / "c.md").read_text().startswith("# ")


def test_opened_from_the_users_panel_for_one_user(qtbot, panel, ctx):
    with ctx.engine.connect() as c:
        user = c.execute(text("SELECT user_id FROM chats GROUP BY 1 HAVING count(*) >= 2 LIMIT 1")).scalar()
    panel.navigate({"user": user})
    wait_idle(qtbot, ctx)
    assert panel.chats.rows and all(r.user_id == user for r in panel.chats.rows)


def test_pick_a_user_here(qtbot, panel, ctx):
    with ctx.engine.connect() as c:
        user, email = c.execute(text("SELECT c.user_id, u.email FROM chats c JOIN users u ON u.id = c.user_id "
                                     "LIMIT 1")).one()
    panel.user_pick.setText(email)
    panel.pick_user()
    wait_idle(qtbot, ctx)
    assert panel.user_filter == user
    assert panel.chats.rows and all(r.user_id == user for r in panel.chats.rows)


def test_hover_preview_cuts_at_a_word_boundary(qtbot, panel, ctx):
    from PySide6.QtGui import QTextDocument

    chat = panel.chats.rows[0]
    body = ("I tried the breathing exercise before the meeting and it helped more than I expected, although "
            "the afternoon slump still hits hard around three o'clock every single weekday")
    panel.cache.put(chat.id, MessagePage([Message("m1", chat.id, "user", body, 1, None)], False), len(body))
    doc = QTextDocument()
    doc.setHtml(panel.chats.index(0, 0).data(3))
    preview = doc.toPlainText().split("User: ", 1)[1]
    assert preview.endswith("…") and body.startswith(preview[:-1]) and body[len(preview) - 1] == " "
    wait_idle(qtbot, ctx)
