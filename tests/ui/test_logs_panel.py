"""Logs panel: the demo's generated traffic, filters, pause, request-id links, history kept across a restart;
live against a deployment speaking the real stream shape and against the stand-in."""

import asyncio
import types

import httpx
from PySide6.QtCore import Qt

from console.client.http import ConvexHttp, Deployment
from console.store import loghistory as H
from console.ui.live import LiveController
from console.ui.panels.logs import find_request
from console.ui.panels.logs.model import REQUEST_COLUMN
from console.ui.panels.logs.panel import LogsPanel
from tests.standin_helpers import KEY, standin
from tests.test_functionlogs import COMPLETION_FAIL, COMPLETION_OK, HTTP_OK, PROGRESS_ENTRY
from tests.ui.conftest import wait_idle
from tests.ui.test_live import run_until


def make(qtbot, ctx, start=True):
    panel = LogsPanel(ctx)
    panel.tail.rng.seed(4)
    qtbot.addWidget(panel)
    panel.resize(1300, 760)
    panel.show()
    if start:
        panel.on_shown()
    wait_idle(qtbot, ctx)
    return panel


def stop(qtbot, ctx, panel):
    panel.shutdown()
    wait_idle(qtbot, ctx)


def test_demo_traffic_filters_pause_and_request_links(qtbot, ctx, qtmodeltester):
    panel = make(qtbot, ctx)
    try:
        qtbot.waitUntil(lambda: panel.model.rowCount() > 50, timeout=10_000)
        qtmodeltester.check(panel.model)
        assert "Offline demo" in panel.stream_status.text()
        # new traffic goes in at the top
        first = panel.model.newest_pk()
        panel.tail.tick()
        qtbot.waitUntil(lambda: panel.model.newest_pk() > first, timeout=10_000)
        # paused: the view holds still while entries keep being stored
        panel.pause_button.setChecked(True)
        held = panel.model.rowCount()
        for _ in range(6):
            panel.tail.tick()
            wait_idle(qtbot, ctx)
        assert panel.model.rowCount() == held and "paused" in panel.summary.text()
        panel.pause_button.setChecked(False)
        if panel.pending:
            qtbot.waitUntil(lambda: panel.model.rowCount() > held, timeout=10_000)
        # failures only
        panel.outcome.setCurrentIndex(panel.outcome.findData("failure"))
        wait_idle(qtbot, ctx)
        assert panel.model.rowCount() > 0 and {r.outcome for r in panel.model.rows} == {"failure"}
        panel.table.selectRow(0)
        assert "Error:" in panel.detail.toPlainText()
        # a request id is a link: clicking it shows that request's entries only
        rid = panel.model.rows[0].request_id
        panel.outcome.setCurrentIndex(0)
        wait_idle(qtbot, ctx)
        row = next(i for i, r in enumerate(panel.model.rows) if r.request_id == rid)
        panel._on_click(panel.model.index(row, REQUEST_COLUMN))
        wait_idle(qtbot, ctx)
        assert panel.request.text() == rid and {r.request_id for r in panel.model.rows} == {rid}
        with ctx.engine.connect() as c:
            assert find_request(c, rid)[0].target == rid
        panel.clear_filters()
        panel.function.setCurrentIndex(panel.function.findData("messages:list"))
        wait_idle(qtbot, ctx)
        assert {r.identifier for r in panel.model.rows} == {"messages:list"}
        panel.clear_filters()
        panel.text.setText("timed out")
        panel.apply_query()
        wait_idle(qtbot, ctx)
        assert all("timed out" in (r.error + " ".join(r.lines)).lower() for r in panel.model.rows)
    finally:
        stop(qtbot, ctx, panel)
    with ctx.engine.connect() as c:
        stored = H.count(c)
    assert stored > 50
    # the history survives: a new panel (as after a restart) shows what was stored, before any new traffic
    again = make(qtbot, ctx, start=False)
    try:
        assert again.model.rowCount() == min(again.model.PAGE, stored)
    finally:
        stop(qtbot, ctx, again)


class FakeStream:
    """A deployment's /api/stream_function_logs in the real shape: one page of entries, then long polls."""

    def __init__(self):
        self.cursors = []

    def handler(self, request):
        cursor = float(request.url.params["cursor"])
        self.cursors.append(cursor)
        if len(self.cursors) == 1:
            return httpx.Response(200, json={"entries": [COMPLETION_OK, PROGRESS_ENTRY, COMPLETION_FAIL, HTTP_OK,
                                                         "garbage"], "newCursor": cursor + 500})
        return httpx.Response(200, json={"entries": [], "newCursor": cursor})


def test_live_real_stream_shape_is_tailed_stored_and_resumed(qtbot, ctx, loop):
    fake = FakeStream()
    deployment = Deployment("http://deployment.test", "dev:x|k")
    http = ConvexHttp(deployment, transport=httpx.MockTransport(fake.handler))
    ctx.live = types.SimpleNamespace(client=types.SimpleNamespace(http=http), deployment=deployment)
    panel = make(qtbot, ctx)
    try:
        run_until(loop, lambda: panel.model.rowCount() == 4 and len(fake.cursors) >= 2)
        assert {r.request_id for r in panel.model.rows} >= {"a1b2c3d4e5f60718", "ffff000011112222"}
        assert fake.cursors[1] == fake.cursors[0] + 500  # the next poll asks from the stream's cursor
        assert {r.outcome for r in panel.model.rows} == {"success", "failure", "progress"}
        with ctx.engine.connect() as c:
            assert H.cursor(c) == fake.cursors[0] + 500
    finally:
        panel.shutdown()
        ctx.live = None
        loop.run_until_complete(asyncio.sleep(0.05))
        loop.run_until_complete(http.aclose())
        wait_idle(qtbot, ctx)
    # a restart resumes from the stored cursor (nothing asked twice, nothing skipped)
    fake2 = FakeStream()
    http2 = ConvexHttp(deployment, transport=httpx.MockTransport(fake2.handler))
    ctx.live = types.SimpleNamespace(client=types.SimpleNamespace(http=http2), deployment=deployment)
    again = make(qtbot, ctx)
    try:
        run_until(loop, lambda: len(fake2.cursors) >= 2 and not ctx.tasks.busy)
        assert fake2.cursors[0] == fake.cursors[0] + 500
        assert again.model.rowCount() == 4  # the same entries sent again are not stored twice
    finally:
        again.shutdown()
        ctx.live = None
        loop.run_until_complete(asyncio.sleep(0.05))
        loop.run_until_complete(http2.aclose())
        wait_idle(qtbot, ctx)


def test_live_against_the_stand_in(qtbot, ctx, loop):
    s = standin(log_poll_s=1.0)
    controller = LiveController(ctx, Deployment(s.url, KEY))
    ctx.live = controller
    panel = make(qtbot, ctx)
    try:
        job = s.store.scan("jobs", limit=1)[0]
        loop.run_until_complete(controller.client.query("jobs:get", {"jobId": job["_id"]}, cache=False))
        run_until(loop, lambda: any(r.identifier == "jobs:get" for r in panel.model.rows), timeout=30)
        row = next(r for r in panel.model.rows if r.identifier == "jobs:get")
        assert row.outcome == "success" and row.request_id
    finally:
        panel.shutdown()
        ctx.live = None
        loop.run_until_complete(asyncio.sleep(0.05))
        loop.run_until_complete(controller.aclose())
        wait_idle(qtbot, ctx)
        s.stop()


def test_markup_in_log_entries_stays_plain_text(qtbot, ctx):
    from PySide6.QtCore import Qt

    from console.functionlogs import parse_entry

    evil = {**COMPLETION_FAIL, "error": '<img src="/dev/zero"><b>x</b>', "executionId": "evil",
            "logLines": ["<a href='x'>link</a>"], "identifier": "<i>fn</i>"}
    with ctx.engine.begin() as c:
        H.add(c, [parse_entry(evil)])
    panel = make(qtbot, ctx, start=False)
    try:
        row = next(i for i, r in enumerate(panel.model.rows) if r.execution_id == "evil")
        panel.table.selectRow(row)
        assert '<img src="/dev/zero"><b>x</b>' in panel.detail.toPlainText()
        assert panel.model.data(panel.model.index(row, 2)) == "<i>fn</i>"
        assert all(label.textFormat() == Qt.TextFormat.PlainText for label in (panel.summary, panel.stream_status))
    finally:
        stop(qtbot, ctx, panel)


def test_navigate_to_a_moment_shows_the_entries_around_it(qtbot, ctx):
    from console.demo import logtraffic
    from console.functionlogs import parse_entry

    entries = [parse_entry(e) for e in logtraffic.history(1790000000.0, hours=2, seed=8)]
    with ctx.engine.begin() as c:
        H.add(c, entries)
    moment = 1790000000.0 - 3600
    panel = make(qtbot, ctx, start=False)
    try:
        panel.navigate({"at": moment, "function": "messages:list"})
        wait_idle(qtbot, ctx)
        rows = panel.model.rows
        assert rows and all(r.at <= moment + 60 and r.identifier == "messages:list" for r in rows)
        assert rows[0].at > moment - 600  # the newest shown is close to the moment, not the end of the log
        assert "up to" in panel.summary.text()
        panel.navigate("ffff000011112222")  # a request id: the moment is forgotten
        wait_idle(qtbot, ctx)
        assert panel.until is None and panel.request.text() == "ffff000011112222"
        panel.navigate({"at": moment})
        panel.clear_filters()
        wait_idle(qtbot, ctx)
        assert panel.until is None and panel.model.rows[0].at == max(e.at for e in entries)
    finally:
        stop(qtbot, ctx, panel)


def test_a_reader_scrolled_down_keeps_the_same_entries_in_view_while_new_ones_arrive(qtbot, ctx):
    """New entries go in above: the view moved about 22 rows per arriving row (the scroll bar counted rows and was
    moved by pixels), and the entry being read ran off the screen."""
    from PySide6.QtCore import QPoint

    panel = make(qtbot, ctx)
    try:
        qtbot.waitUntil(lambda: panel.model.rowCount() > 120, timeout=10_000)
        wait_idle(qtbot, ctx)

        def scrolled_down():  # the view lays out lazily: ask again until the scroll has taken
            panel.table.scrollTo(panel.model.index(60, 0), panel.table.ScrollHint.PositionAtTop)
            return panel.table.verticalScrollBar().value() > 0

        qtbot.waitUntil(scrolled_down, timeout=5000)
        top = lambda: panel.model.row_at(panel.table.indexAt(QPoint(5, 5)).row()).pk  # noqa: E731
        reading = top()
        panel.table.selectRow(panel.table.indexAt(QPoint(5, 40)).row())
        selected = panel._selected().pk
        before = panel.model.rowCount()
        for _ in range(4):
            panel.tail.tick()
            wait_idle(qtbot, ctx)
        qtbot.waitUntil(lambda: panel.model.rowCount() > before, timeout=10_000)
        assert top() == reading
        assert panel._selected().pk == selected
        assert panel.table.viewport().rect().contains(
            panel.table.visualRect(panel.model.index(next(i for i, r in enumerate(panel.model.rows) if r.pk == selected), 0)).center())
    finally:
        stop(qtbot, ctx, panel)


def test_a_request_id_opened_from_elsewhere_shows_its_entries_whatever_was_filtered(qtbot, ctx):
    panel = make(qtbot, ctx)
    try:
        qtbot.waitUntil(lambda: panel.model.rowCount() > 50, timeout=10_000)
        target = next(r for r in panel.model.rows if r.request_id)
        other = next(r.identifier for r in panel.model.rows if r.identifier != target.identifier)
        panel.function.setCurrentIndex(panel.function.findData(other))
        panel.text.setText("zzz")
        wait_idle(qtbot, ctx)
        panel.navigate(target.request_id)
        wait_idle(qtbot, ctx)
        qtbot.waitUntil(lambda: not panel.model.loading, timeout=5000)
        assert panel.model.rows and {r.request_id for r in panel.model.rows} == {target.request_id}
        assert panel.function.currentData() == "" and panel.text.text() == ""
        panel.table.selectRow(0)
        assert panel.only_request.text().startswith("Only request")
        panel.clear_filters()
        wait_idle(qtbot, ctx)
        assert panel.request.text() == "" and panel.only_request.text() == "Only this request"
    finally:
        stop(qtbot, ctx, panel)


def test_the_request_link_is_on_screen_in_a_1024_px_window(qtbot, ctx):
    """At 1024x700, beside the detail pane, the Request column was behind the horizontal scroll bar."""
    from console.ui.main_window import MainWindow
    from console.ui.panels.logs.model import REQUEST_COLUMN

    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.resize(1024, 700)
    window.show()
    window.show_panel("logs")
    panel = window.panels["logs"]
    qtbot.waitUntil(lambda: panel.model.rowCount() > 0, timeout=10_000)
    header = panel.table.horizontalHeader()
    right = header.sectionViewportPosition(REQUEST_COLUMN) + header.sectionSize(REQUEST_COLUMN)
    assert 0 <= header.sectionViewportPosition(REQUEST_COLUMN) and right <= panel.table.viewport().width()
    shown = [panel.model.headerData(header.logicalIndex(v), Qt.Orientation.Horizontal) for v in range(header.count())]
    assert shown == ["Time", "Function", "Outcome", "Request", "Type", "Duration", "Message"]
    delegate = panel.table.itemDelegate()  # the time and the request id are whole (they were cut)
    row = next(i for i in range(panel.model.rowCount()) if panel.model.rows[i].request_id)
    for col in (0, REQUEST_COLUMN):
        assert not delegate.is_elided(panel.table, panel.model.index(row, col)), col
    panel.shutdown()
    window.close()
    wait_idle(qtbot, ctx)


def test_an_entry_arriving_late_is_placed_at_its_time_and_the_reader_keeps_their_place(qtbot, ctx):
    """The tail put every arrival on top, in arrival order: a long action that started a minute ago stood above
    calls that started after it. Each arrival goes where its time puts it; rows above the reader are counted so
    the view can keep the entries being read in place."""
    from console.ui.panels.logs.model import LogsModel

    def row(pk, at):
        return H.LogRow(pk, at, "Completion", "Query", f"f:{pk}", "", f"r{pk}", f"e{pk}", "success", "", (), 1.0,
                        False)

    model = LogsModel(ctx)
    model.beginResetModel()
    model.rows = [row(10, 110.0), row(9, 100.0), row(8, 90.0), row(7, 80.0)]
    model.endResetModel()
    model.has_more = False
    above = model.insert_in_time([row(11, 120.0), row(12, 95.0), row(13, 50.0), row(9, 100.0)], first_visible=2)
    assert [r.pk for r in model.rows] == [11, 10, 9, 12, 8, 7, 13]  # time order; a known entry not twice
    assert above == 2  # 11 and 12 went above the first row the reader saw (8, now at 4)
    assert model.newest_pk() == 13


def test_a_first_start_at_a_quiet_hour_has_log_traffic_in_every_minute_of_the_live_window(qtbot, ctx, monkeypatch):
    """The first start's history is sampled per minute: in an evening, minutes of the live five were empty, and
    Call rates' Live (5 min) opened with holes (test_a_remembered_live_range_opens_on_traffic_in_the_demo failed
    at 19:00 UTC and passed in the afternoon). The live window is filled second by second."""
    import console.ui.logtail as T
    from console.ui.logtail import LogTail

    night = 1796000400.0 - 1796000400.0 % 86400 + 3 * 3600  # 03:00 UTC: the demo's quietest hours
    monkeypatch.setattr(T.time, "time", lambda: night)
    with ctx.engine.begin() as c:
        c.exec_driver_sql("DELETE FROM function_logs")
    tail = LogTail(ctx, seed=4)
    tail._demo_batch()
    wait_idle(qtbot, ctx)
    with ctx.engine.connect() as c:
        ats = [a for (a,) in c.exec_driver_sql("SELECT at FROM function_logs WHERE at >= ?", (night - 300,))]
    assert {int((night - a) // 60) for a in ats} >= {0, 1, 2, 3, 4}, sorted(ats)[:5]
