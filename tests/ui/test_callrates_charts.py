"""Issue 15, "Call rates as engineers expect": legends as tables beside the plots, drag-to-zoom with a visible
reset, a plain-text tooltip at the cursor on every chart, sample counts beside percentiles, CSV times with their
offset, latency labels that don't overlap at 1024x700, and a Live range that shows the live window."""

import csv
import re
import time
from datetime import datetime

import pytest
from PySide6.QtCore import QDateTime, QPoint, QSettings, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTableView, QWidget

from console.store.db import get_meta
from console.ui.main_window import MainWindow
from console.ui.panels.callrates import fmt
from console.ui.panels.callrates.legend import stats
from tests.ui.conftest import wait_idle

MOMENT = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC[+-]\d\d:\d\d")


def open_panel(qtbot, ctx, size=(1400, 860)):
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.resize(*size)
    w.show()
    w.show_panel("callrates")
    wait_idle(qtbot, ctx)
    return w, w.panels["callrates"]


def demo_week(qtbot, ctx, panel):
    """The test replica's traffic is generated around its own fixed moment: look at its last week."""
    with ctx.engine.connect() as c:
        now = int(get_meta(c, "demo_now_ms")) / 1000
    panel.range_buttons.button(4).click()  # custom
    panel.custom_from.setDateTime(QDateTime.fromSecsSinceEpoch(int(now - 7 * 86400)))
    panel.custom_to.setDateTime(QDateTime.fromSecsSinceEpoch(int(now)))
    wait_idle(qtbot, ctx)
    panel._task = None
    panel.refresh()
    wait_idle(qtbot, ctx)
    return now - 7 * 86400, now


@pytest.fixture
def week(qtbot, ctx):
    w, panel = open_panel(qtbot, ctx)
    span = demo_week(qtbot, ctx, panel)
    yield panel, span
    w.close()
    wait_idle(qtbot, ctx)


def click_cell(view: QTableView, row: int, col: int) -> None:
    rect = view.visualRect(view.model().index(row, col))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())


def test_each_chart_has_its_legend_as_a_table_beside_it_and_a_click_toggles_or_highlights(qtbot, ctx, week):
    panel, _span = week
    for name, plot in panel.plots.items():
        assert plot.legend is None, name  # no legend drawn over the curves
        legend = panel.findChild(QTableView, f"legend-{name}")
        assert legend is not None and legend.isVisible(), name
        plot_widget = panel.findChild(QWidget, f"chart-{name}")  # the chart's PlotWidget
        right_of_plot = plot_widget.mapTo(panel, QPoint(plot_widget.width(), 0)).x()
        assert legend.mapTo(panel, QPoint(0, 0)).x() >= right_of_plot, name  # beside, not over
    legend = panel.findChild(QTableView, "legend-rates")
    model = legend.model()
    chart = panel.charts["rates"]
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Series", "last", "avg", "max"]
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == [s.name for s in chart.series]
    row = next(r for r in range(model.rowCount()) if model.index(r, 0).data() == "auth:getSession")
    values = next(s.values for s in chart.series if s.name == "auth:getSession")
    last, avg, peak = stats(values)
    assert [model.index(row, c).data() for c in (1, 2, 3)] == [fmt.number(last), fmt.number(avg), fmt.number(peak)]

    curve = panel.curves["rates"]["auth:getSession"]
    other = next(c for n, c in panel.curves["rates"].items() if n != "auth:getSession")
    click_cell(legend, row, 0)  # the name: hide
    assert not curve.isVisible() and model.index(row, 0).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    click_cell(legend, row, 0)  # again: show
    assert curve.isVisible()
    click_cell(legend, row, 3)  # a figure: highlight
    assert curve.opts["pen"].widthF() > 2 and other.opts["pen"].color().alpha() < 255
    click_cell(legend, row, 3)  # again: back to normal
    assert curve.opts["pen"].widthF() < 2 and other.opts["pen"].color().alpha() == 255


def test_a_drag_zooms_every_time_axis_and_reset_zoom_returns_to_the_range(qtbot, ctx, week):
    panel, (start, end) = week
    row = panel.rows["rates"]
    view = row.widget.viewport()
    rect = row.widget.mapFromScene(row.plot.vb.sceneBoundingRect()).boundingRect()
    y = rect.center().y()
    a, b = QPoint(rect.left() + rect.width() * 3 // 10, y), QPoint(rect.left() + rect.width() * 6 // 10, y)
    x_a, x_b = (row.plot.vb.mapSceneToView(row.widget.mapToScene(p)).x() for p in (a, b))
    assert panel.reset_zoom.isVisible() and not panel.reset_zoom.isEnabled()
    QTest.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for i in range(1, 11):
        QTest.mouseMove(view, a + (b - a) * i / 10)
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)
    for name, plot in panel.plots.items():  # the axes stay linked
        x0, x1 = plot.vb.viewRange()[0]
        assert x0 == pytest.approx(x_a, abs=(end - start) * 0.02), name
        assert x1 == pytest.approx(x_b, abs=(end - start) * 0.02), name
    assert panel.reset_zoom.isEnabled()
    panel._task = None
    panel.refresh()  # a refresh keeps the zoom
    wait_idle(qtbot, ctx)
    assert panel.plots["latency"].vb.viewRange()[0][0] == pytest.approx(x_a, abs=(end - start) * 0.02)
    panel.reset_zoom.click()
    for name, plot in panel.plots.items():
        x0, x1 = plot.vb.viewRange()[0]
        assert (x0, x1) == (pytest.approx(start, abs=60), pytest.approx(end, abs=60)), name
    assert not panel.reset_zoom.isEnabled()


def test_a_plain_text_tooltip_at_the_cursor_on_every_chart(qtbot, ctx, week):
    panel, _span = week
    for name, row in panel.rows.items():
        centre = row.widget.mapFromScene(row.plot.vb.sceneBoundingRect().center())
        QTest.mouseMove(row.widget.viewport(), centre)
        qtbot.waitUntil(lambda: panel.tip.isVisible(), timeout=2000)
        tip = panel.tip
        assert tip.textFormat() == Qt.TextFormat.PlainText
        lines = tip.text().splitlines()
        assert MOMENT.match(lines[0]), (name, lines[0])
        chart = panel.charts[name]
        for s in chart.series:
            assert any(line.startswith(f"{s.name}: ") for line in lines[1:]), (name, s.name, lines)
        if name == "latency":  # percentiles with the calls they rest on
            assert all(re.search(r" ms \(n=[\d,]+\)$| s \(n=[\d,]+\)$|: –$", line) for line in lines[1:-1]), lines
        assert lines[-1] == "Double-click: the log entries of this moment"
        cursor = row.widget.mapTo(panel.graphics, centre)
        assert (tip.geometry().topLeft() - cursor).manhattanLength() < 60  # at the cursor, not in a corner
        i = row.bucket(row.plot.vb.mapSceneToView(row.widget.mapToScene(centre)).x())
        assert lines[0].startswith(fmt.moment(chart.start + i * chart.width))


def test_percentiles_show_their_sample_counts(qtbot, ctx, week):
    panel, _span = week
    legend = panel.findChild(QTableView, "legend-latency").model()
    assert legend.headerData(4, Qt.Orientation.Horizontal) == "n"
    total = sum(panel.charts["latency"].samples)
    assert total > 0
    grouped = f"{total:,}".replace(",", "\u202f")  # thousands set apart as everywhere in the app
    assert {legend.index(r, 4).data() for r in range(legend.rowCount())} == {grouped}


def test_csv_times_carry_their_offset_and_read_back(qtbot, ctx, week, tmp_path):
    panel, _span = week
    panel.export_csv(tmp_path / "rates.csv")
    rows = list(csv.reader((tmp_path / "rates.csv").open(encoding="utf-8")))
    chart = panel.charts["rates"]
    header, body = rows[0], rows[1:]
    assert len(body) == chart.buckets and "latency ms: n" in header
    for i, line in enumerate(body):
        moment = datetime.fromisoformat(line[0])
        assert moment.utcoffset() is not None, line[0]  # e.g. 2026-12-02T18:40:00+00:00
        assert moment.timestamp() == pytest.approx(chart.start + i * chart.width, abs=1)
    first = header.index("calls/s: " + chart.series[0].name)
    assert [float(r[first]) for r in body] == pytest.approx(chart.series[0].values, rel=1e-5, abs=1e-9)


def test_latency_axis_labels_have_units_and_do_not_overlap_at_1024x700(qtbot, ctx):
    w, panel = open_panel(qtbot, ctx, size=(1024, 700))
    try:
        demo_week(qtbot, ctx, panel)
        qtbot.wait(50)
        axis = panel.plots["latency"].getAxis("left")
        image = QImage(200, 400, QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        try:
            _axis, _ticks, texts = axis.generateDrawSpecs(painter)
        finally:
            painter.end()
        labels = [(rect, text) for rect, _flags, text in texts]
        assert len(labels) >= 2, labels
        assert all(re.fullmatch(r"[\d.]+ (ms|s)", text) for _r, text in labels), labels
        rects = sorted((r for r, _t in labels), key=lambda r: r.top())
        for upper, lower in zip(rects, rects[1:]):
            assert upper.bottom() <= lower.top(), [t for _r, t in labels]
        assert all(r.left() >= 0 for r in rects)  # not cut on the left
    finally:
        w.close()
        wait_idle(qtbot, ctx)


def test_live_after_a_long_range_shows_the_live_window(qtbot, ctx):
    w, panel = open_panel(qtbot, ctx)
    try:
        panel.range_buttons.button(3).click()  # 7 d
        wait_idle(qtbot, ctx)
        panel.range_buttons.button(0).click()  # Live (5 min)
        wait_idle(qtbot, ctx)
        now = time.time()
        for name, plot in panel.plots.items():
            x0, x1 = plot.vb.viewRange()[0]
            assert x0 == pytest.approx(now - 300, abs=15) and x1 == pytest.approx(now, abs=15), name
    finally:
        w.close()
        wait_idle(qtbot, ctx)


def test_a_remembered_live_range_opens_on_traffic_in_the_demo(qtbot, ctx, tmp_path):
    """The app was closed a while (the test replica's traffic ends months ago): Live opens on the last five
    minutes' traffic, not on a blank chart that fills from the right."""
    state = QSettings(str(tmp_path / "state.ini"), QSettings.Format.IniFormat)
    state.setValue("callrates/range", 0)
    w, panel = open_panel(qtbot, ctx)
    try:
        panel.restore_state(state)

        def older_half_has_traffic() -> bool:
            panel._task = None
            panel.refresh()
            wait_idle(qtbot, ctx)
            rates, fns = panel.charts.get("rates"), panel.charts.get("functions")
            if not rates or not rates.series or not fns or not fns.series:
                return False
            return rates.end - rates.start == pytest.approx(300) and all(
                sum(sum(s.values[: c.buckets // 2]) for s in c.series) > 0 for c in (rates, fns))

        # The demo's first log batch fills the live window on the writer thread: 3-4 s alone, once over 10 s in the
        # loaded suite.
        qtbot.waitUntil(older_half_has_traffic, timeout=20_000)
        assert panel.timer.isActive()
    finally:
        w.close()
        wait_idle(qtbot, ctx)


def test_legend_figures_fit_their_column_whatever_the_rate():
    """A rare function's 0.000984 calls/s was cut to "0.0…984" in the legend."""
    from console.ui.panels.callrates import fmt

    cases = {0.000984: "0.001", 0.0001: "<0.001", 0.0123: "0.012", 0.5: "0.500", 1.234: "1.23", 42.0: "42",
             1234.0: "1\u202f234", 0.0: "0"}
    assert {v: fmt.number(v) for v in cases} == cases
    assert all(len(fmt.number(v)) <= len("0.000") + 1 for v in (1e-9, 0.00049, 0.0099, 0.999, 99.9))
