"""Hostile text in every field that reaches a widget: shown literally, never as rich text (issue 14, critical)."""

from __future__ import annotations

import html
import json
import random
import sqlite3

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel, QMessageBox

from console.store.jobs import JobDetail
from console.store.webhooks import DeliveryDetail
from console.ui import plain
from console.ui.main_window import MainWindow
from console.ui.panels.jobs.detail import JobDetailView
from console.ui.panels.webhooks.detail import DeliveryDetailView
from tests.ui.conftest import wait_idle
from tests.ui.hostile_text import HOSTILE, LONG, MARK, RAW_MARKUP, widget_problems
from tests.ui.test_live import run_until


def poison(path) -> dict[str, str]:
    """Hostile text in one user and everything about them, one of their jobs, one delivery and its replay."""
    h, long_ = HOSTILE, LONG
    c = sqlite3.connect(path)
    uid = c.execute("""SELECT u.id FROM users u WHERE
        EXISTS (SELECT 1 FROM chats WHERE user_id = u.id) AND EXISTS (SELECT 1 FROM jobs WHERE user_id = u.id)
        AND EXISTS (SELECT 1 FROM members WHERE user_id = u.id)
        AND EXISTS (SELECT 1 FROM audit_logs WHERE resource_id = u.id) ORDER BY u.id LIMIT 1""").fetchone()[0]
    c.execute("UPDATE users SET name = ?, email = ?, phone = ?, image = ?, role = ?, external_id = ? WHERE id = ?",
              (h, f"{h}@example.com", h, h, h, long_, uid))
    c.execute("UPDATE chats SET title = ? WHERE user_id = ?", (h, uid))
    chat = c.execute("SELECT id FROM chats WHERE user_id = ? ORDER BY id LIMIT 1", (uid,)).fetchone()[0]
    c.execute("UPDATE messages SET body = ? WHERE chat_id = ?", (h + " " + long_, chat))
    c.execute("UPDATE organizations SET name = ?, slug = ? WHERE id IN "
              "(SELECT organization_id FROM members WHERE user_id = ?)", (h, h, uid))
    c.execute("UPDATE members SET role = ? WHERE user_id = ?", (h, uid))
    c.execute("UPDATE sessions SET ip = ?, user_agent = ?, token_hint = ? WHERE user_id = ?", (h, h, h, uid))
    c.execute("UPDATE security_events SET type = ?, details = ?, ip = ? WHERE user_id = ?",
              (h, json.dumps({"x": h}), h, uid))
    c.execute("UPDATE audit_logs SET reason = ?, action = ?, changes = ? WHERE resource_id = ?",
              (h, h, json.dumps({"before": h, "after": h}), uid))
    job = c.execute("SELECT id FROM jobs WHERE user_id = ? ORDER BY id LIMIT 1", (uid,)).fetchone()[0]
    c.execute("UPDATE jobs SET type = ?, key = ?, last_error = ?, claimed_by = ?, errors = ? WHERE id = ?",
              (h, long_, h, h, json.dumps([{"attempt": 1, "at": 1, "error": h}]), job))
    delivery, job_of_delivery = c.execute(
        "SELECT id, job_id FROM webhook_deliveries WHERE job_id IS NOT NULL ORDER BY id LIMIT 1").fetchone()
    c.execute("UPDATE webhook_deliveries SET event_type = ?, provider_event_id = ?, endpoint = ?, headers = ? "
              "WHERE id = ?", (h, h, h, json.dumps({"X-Hostile": h}), delivery))
    c.execute("UPDATE jobs SET type = ?, status = 'dead' WHERE id = ?", (h, job_of_delivery))
    c.execute("INSERT INTO replay_attempts (delivery_id, at, target, mode, status, latency_ms, response_excerpt,"
              " error) VALUES (?, 1, ?, ?, 500, 3, ?, ?)", (delivery, h, h, h, h))
    c.commit()
    c.close()
    return {"user": uid, "chat": chat, "job": job, "delivery": delivery}


def assert_clean(seen_at_least: int = 1) -> None:
    problems, seen = widget_problems()
    assert not problems, "\n".join(problems)
    assert seen >= seen_at_least, f"the hostile text reached only {seen} widgets"


def test_every_panel_shows_hostile_data_literally(qtbot, ctx, loop, demo_db):
    ids = poison(demo_db)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    try:
        users = window.show_panel("users") or window.panel("users")
        users.navigate(ids["user"])
        run_until(loop, lambda: users.detail.detail is not None and MARK in users.detail.title.text())
        assert users.detail.title.text() == HOSTILE  # literally, markup and all
        assert users.detail.title.textFormat() == Qt.TextFormat.PlainText
        assert HOSTILE in users.detail.body.toPlainText()  # the escaped body shows the markup as text
        assert_clean(3)

        window.navigate("chats", {"user": ids["user"]})
        chats = window.panels["chats"]
        run_until(loop, lambda: MARK in chats.user_label.text() and not ctx.tasks.busy)
        chats.open(ids["chat"])
        run_until(loop, lambda: MARK in chats.header.text() and "loading" not in chats.header.text()
                  and not ctx.tasks.busy)
        doc = QTextDocument()
        doc.setHtml(chats.header.text())
        assert HOSTILE in doc.toPlainText()
        assert_clean(2)

        window.navigate("jobs", ids["job"])
        jobs = window.panels["jobs"]
        run_until(loop, lambda: jobs.detail.detail is not None and MARK in jobs.detail.title.text()
                  and not ctx.tasks.busy)
        assert jobs.detail.title.text().startswith(HOSTILE)
        assert HOSTILE in jobs.detail.body.toPlainText()
        assert_clean(2)

        window.navigate("webhooks", ids["delivery"])
        hooks = window.panels["webhooks"]
        run_until(loop, lambda: hooks.detail.detail is not None and MARK in hooks.detail.title.text()
                  and not ctx.tasks.busy)
        assert HOSTILE in hooks.detail.title.text()
        # The replays page elides long tokens (full text in their tooltips): what shows is still literal markup.
        shown = hooks.detail.replays.toPlainText()
        assert '<img src="/nonexist' in shown and "<b>HX7</b>" in shown and "&lt;HX7&gt; <i>x</i>" in shown
        assert_clean(2)

        roles = window.show_panel("roles") or window.panel("roles")
        roles.audit.period.setCurrentIndex(roles.audit.period.findData(None))
        window.navigate("roles", ids["user"])
        run_until(loop, lambda: roles.audit.table.rowCount() > 0 and not ctx.tasks.busy)
        roles.search.setText(MARK)
        run_until(loop, lambda: not ctx.tasks.busy and roles.model.rowCount() > 0, timeout=10)
        roles.table.selectRow(0)
        run_until(loop, lambda: MARK in roles.editor.title.text() and not ctx.tasks.busy)
        assert_clean(2)

        window.quick_find.box.setText(MARK)
        window.quick_find.timer.stop()
        window.quick_find.search()
        run_until(loop, lambda: window.quick_find.results.count() > 0)
        assert_clean(1)
    finally:
        window.close()
        for _ in range(3):  # debounce timers started by typing fire once more
            qtbot.wait(200)
            wait_idle(qtbot, ctx)


def test_message_boxes_with_data_are_plain(qtbot, monkeypatch):
    shown: list[tuple[str, Qt.TextFormat]] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append((box.text(), box.textFormat())) or 0x400)
    plain.warning(None, "t", HOSTILE)
    plain.critical(None, "t", HOSTILE)
    plain.information(None, "t", HOSTILE)
    plain.question(None, "t", HOSTILE)
    assert shown == [(HOSTILE, Qt.TextFormat.PlainText)] * 4


def _rendered(rich: str) -> str:
    doc = QTextDocument()
    doc.setHtml(rich)
    return doc.toPlainText()


PIECES = ['<img src="/nonexistent/x.png">', "<b>", "</b>", "<a href='x'>", "</a>", "&lt;", "&amp;", "&#60;",
          "<!--", "-->", "<!DOCTYPE html>", "<qt>", "<p>", "<br>", "<table>", "<style>", "'", '"', "&", "<", ">",
          "é", "\u202e", "\U0001f600", MARK, "x" * 300, " ", "\t"]


def test_fuzz_labels_and_tooltips_show_text_literally(qtbot):
    """Random markup through the helpers and the detail views' fields: every label keeps the text literal."""
    rng = random.Random(14)
    label = plain.plain(QLabel())
    for _ in range(300):
        s = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 8)))
        label.setText(s)
        assert label.text() == s and label.textFormat() == Qt.TextFormat.PlainText
        assert _rendered(plain.literal(s)).split() == s.split(), s  # whitespace may be reflowed
        assert _rendered(f"<b>{plain.esc(s)}</b>") == _rendered(f"<b>{html.escape(s)}</b>")
        assert not any(m in f"<b>{plain.esc(s)}</b>"[3:-4] for m in RAW_MARKUP), s


class _Theme:
    def color(self, _name):
        from PySide6.QtGui import QColor

        return QColor("#123456")


class _Ctx:
    theme = _Theme()

    def navigate(self, *_a):
        pass


@pytest.mark.parametrize("seed", range(3))
def test_fuzz_detail_views(qtbot, seed):
    rng = random.Random(seed)
    hooks = DeliveryDetailView(_Ctx())
    jobs = JobDetailView(_Ctx())
    qtbot.addWidget(hooks)
    qtbot.addWidget(jobs)
    for _ in range(40):
        def s() -> str:
            return MARK + "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 6)))

        row = {"id": s(), "provider": s(), "event_type": s(), "provider_event_id": s(), "received_at": 1,
               "method": s(), "endpoint": s(), "job_id": None}
        verdict = rng.choice([None, {"valid": True, "secret_label": s()},
                              {"valid": False, "reason": s(), "summary": s()}])
        d = DeliveryDetail(row, {s(): s()}, s().encode(), verdict, {"id": s(), "type": s(), "status": s()},
                           [{"at": 1, "mode": s(), "target": s(), "status": None, "error": s(), "latency_ms": 1,
                             "response_excerpt": s()}], [])
        hooks.show_detail(d)
        assert hooks.title.text() == f"{row['provider']} · {row['event_type']}"
        job = {"id": s(), "type": s(), "status": s(), "key": s(), "max_attempts": 3, "attempts": 1,
               "next_run_at": None, "created_at": 1, "updated_at": 1, "claimed_at": None, "claimed_by": s(),
               "lease_ms": None}
        jobs.show_detail(JobDetail(job, {}, {s(): s()}, [{"attempt": 1, "at": 1, "error": s()}],
                                   {"id": s(), "name": s()}, {"id": s(), "provider": s()}), 1000)
        problems, seen = widget_problems(hooks)
        more, seen2 = widget_problems(jobs)
        assert not problems + more, problems + more
        assert seen and seen2


def test_capture_post_with_img_dev_zero_then_selecting_it_is_harmless(qtbot, ctx, loop):
    """The issue's reproduction: one unauthenticated POST to the capture server, then select the delivery."""
    import resource

    import httpx

    from console.webhooks.ingest import start_capture

    server = start_capture(ctx.engine)
    try:
        r = httpx.post(server.url + "/stripe", json={"type": '<img src="/dev/zero">', "id": '<img src="/dev/zero">'},
                       headers={"Stripe-Signature": '<img src="/dev/zero">'})
        assert r.status_code == 200
        delivery = r.json()["captured"]
    finally:
        server.stop()
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        window.navigate("webhooks", delivery)
        hooks = window.panels["webhooks"]
        run_until(loop, lambda: hooks.detail.detail is not None and not ctx.tasks.busy)
        hooks.text.setText("dev/zero")
        hooks.apply_query()
        run_until(loop, lambda: not ctx.tasks.busy and hooks.model.rowCount() > 0)
        hooks.table.selectRow(0)
        run_until(loop, lambda: hooks.detail.detail is not None and not ctx.tasks.busy)
        qtbot.wait(100)  # paint
        assert hooks.detail.title.text() == 'unknown · <img src="/dev/zero">' or \
            hooks.detail.title.text().endswith('<img src="/dev/zero">')
        assert hooks.detail.title.textFormat() == Qt.TextFormat.PlainText
        assert '<img src="/dev/zero">' in hooks.detail.summary.toPlainText()
        assert "<img" not in hooks.detail.summary.toHtml()
        assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 200_000  # KiB
    finally:
        window.close()
        for _ in range(3):
            qtbot.wait(200)
            wait_idle(qtbot, ctx)


def test_call_rate_legend_shows_function_names_literally(qtbot, ctx, demo_db):
    """pyqtgraph legend labels are HTML: a function name in the call log must not become markup."""
    import time as time_

    from PySide6.QtCore import QDateTime

    now = time_.time()
    c = sqlite3.connect(demo_db)
    c.executemany("INSERT INTO call_log (at, function, kind, source, outcome, status, latency_ms, bytes) "
                  "VALUES (?, ?, 'query', 'network', 'success', 200, 5, 10)",
                  [(now - 60 - i, HOSTILE) for i in range(500)])
    c.commit()
    c.close()
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    try:
        window.show_panel("callrates")
        wait_idle(qtbot, ctx)
        panel = window.panels["callrates"]
        panel.range_buttons.button(4).click()  # custom: the last hour
        panel.custom_from.setDateTime(QDateTime.fromSecsSinceEpoch(int(now - 3600)))
        panel.custom_to.setDateTime(QDateTime.fromSecsSinceEpoch(int(now + 60)))
        wait_idle(qtbot, ctx)
        panel.refresh()
        wait_idle(qtbot, ctx)
        legend = panel.rows["rates"].legend.model()  # a table: DisplayRole strings are never rich text
        names = [legend.index(r, 0).data() for r in range(legend.rowCount())]
        assert HOSTILE in names, names
    finally:
        window.close()
        wait_idle(qtbot, ctx)


def test_first_sync_dialog_shows_urls_tables_and_server_messages_literally(qtbot):
    """The first-sync dialog is rich text (its own bold) with the data escaped: a deployment URL, a table name
    from the deployment and a server's error message render as the characters they are."""
    from types import SimpleNamespace

    from PySide6.QtCore import QObject, Signal

    from console.sync.engine import Progress
    from console.sync.loop import LoopState
    from console.ui.connect import SyncDialog

    class FakeController(QObject):
        progress = Signal(object)
        state = Signal(object)
        running = True

        def cancel(self):
            self.running = False

    def _words(text):  # rich text collapses runs of white space; everything else must come through as is
        return " ".join(text.split())

    controller = FakeController()
    controller.deployment = SimpleNamespace(base="https://x.convex.cloud/" + HOSTILE)
    dialog = SyncDialog(controller)
    qtbot.addWidget(dialog)
    assert _words(HOSTILE) in _words(_rendered(dialog.title.text()))
    rng = random.Random(1214)
    for _ in range(60):
        s = MARK + "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 6)))
        controller.progress.emit(Progress("snapshot", table=s, tables_done=1, tables_total=3, documents=10))
        assert _words(s) in _words(_rendered(dialog.detail.text())), s
        for status in ("error", "stopped", "offline", "resync"):
            controller.state.emit(LoopState(status, message=s))
            assert _words(s) in _words(_rendered(dialog.detail.text())), (status, s)
