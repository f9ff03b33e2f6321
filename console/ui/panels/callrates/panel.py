"""Call-rate panel. First the deployment's functions: calls and errors per second by function and a table of
every function (calls, errors, execution-time percentiles, cache hits), from the deployment's own metrics
routes in live mode and from the local function-log history in the demo (or when those routes are missing).
Then the console's own calls by function, kind or outcome; network vs cache vs coalesced; errors; latency
percentiles. Aggregated in SQL, drawn with pyqtgraph, exported as PNG and CSV."""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QDateTime, QSettings, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QComboBox,
    QDateTimeEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.client.metrics import deployment_functions
from console.domain.fnmetrics import FunctionMetrics
from console.store.fnmetrics import from_history
from console.store.callrates import Chart, Series, percentiles, rates, summary, to_csv
from console.ui.context import AppContext
from console.ui.panels.callrates.functions import FunctionsTable
from console.ui.panel import Panel
from console.ui.plain import esc

RANGES = [("Live (5 min)", 300, 150), ("1 h", 3600, 120), ("24 h", 86400, 288), ("7 d", 7 * 86400, 336)]
PALETTE = ["#4f7cff", "#e0572e", "#2e9e5b", "#b04ad6", "#d6a21e", "#1fa9b8", "#d14a7d", "#6d8a2b", "#8a6d3b",
           "#5b6b8a", "#c2410c", "#0f766e", "#7c3aed", "#be123c", "#4d7c0f", "#1d4ed8", "#a16207", "#9f1239",
           "#155e75", "#6b7280"]


class CallRatesPanel(Panel):
    key = "callrates"
    title = "Call rates"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.charts: dict[str, Chart] = {}
        self.curves: dict[str, dict[str, pg.PlotDataItem]] = {"functions": {}, "rates": {}, "sources": {},
                                                             "latency": {}}
        self.functions_metrics: FunctionMetrics | None = None
        self._task = None
        self._fn_task: asyncio.Future | None = None
        self._fn_busy = False
        self.last_redraw_ms = 0.0
        self.range_buttons = QButtonGroup(self)
        top = QHBoxLayout()
        for i, (label, seconds, _buckets) in enumerate(RANGES):
            b = QToolButton(text=label)
            b.setCheckable(True)
            b.setProperty("seconds", seconds)
            self.range_buttons.addButton(b, i)
            top.addWidget(b)
        custom = QToolButton(text="Custom")
        custom.setCheckable(True)
        custom.setProperty("seconds", -1)
        self.range_buttons.addButton(custom, len(RANGES))
        top.addWidget(custom)
        self.range_buttons.button(2).setChecked(True)
        self.range_buttons.idClicked.connect(lambda _i: self.range_changed())
        self.custom_from = QDateTimeEdit(QDateTime.currentDateTime().addDays(-2))
        self.custom_to = QDateTimeEdit(QDateTime.currentDateTime())
        for w in (self.custom_from, self.custom_to):
            w.setCalendarPopup(True)
            w.setDisplayFormat("yyyy-MM-dd HH:mm")
            w.hide()
            w.dateTimeChanged.connect(lambda _d: self.refresh())
            top.addWidget(w)
        self.group = QComboBox()
        for label, value in (("by function", "function"), ("by kind", "kind"), ("by outcome", "outcome")):
            self.group.addItem(label, value)
        self.group.currentIndexChanged.connect(lambda _i: self.refresh())
        self.top_n = QSpinBox()
        self.top_n.setRange(1, 19)
        self.top_n.setValue(8)
        self.top_n.setPrefix("top ")
        self.top_n.valueChanged.connect(lambda _v: self.refresh())
        self.png = QPushButton("Export PNG…")
        self.csv = QPushButton("Export CSV…")
        self.png.clicked.connect(lambda: self.export_png())
        self.csv.clicked.connect(lambda: self.export_csv())
        top.addStretch(1)
        for w in (self.group, self.top_n, self.png, self.csv):
            top.addWidget(w)

        self.summary = QLabel()
        self.note = QLabel()
        self.note.setTextFormat(Qt.TextFormat.PlainText)  # carries server error messages
        self.note.setWordWrap(True)
        self.crosshair_label = QLabel(" ")
        self.crosshair_label.setTextFormat(Qt.TextFormat.RichText)  # our markup, the data escaped
        self.crosshair_label.setObjectName("crosshair-values")
        self.crosshair_label.setWordWrap(True)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setObjectName("callrate-charts")
        self.plots = {}
        for row, (name, title) in enumerate((("functions", "Deployment: function calls per second (errors in red)"),
                                             ("rates", "The console's own calls per second"),
                                             ("sources", "The console's client: network, cache hits, coalesced, errors"),
                                             ("latency", "Latency of network calls (ms)"))):
            plot = self.graphics.addPlot(row=row, col=0, axisItems={"bottom": pg.DateAxisItem()}, title=title)
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.addLegend(offset=(-10, 5))
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            if name not in ("functions", "rates"):
                plot.setXLink(self.plots["rates"])
            if name == "rates":  # the console's own calls always have data: the other charts follow its range
                self.plots["functions"].setXLink(plot)
            if name == "latency":
                plot.setLogMode(y=True)  # p50 of a cached read and p99 of an AI action differ by 10,000x
            self.plots[name] = plot
        self.vlines = {n: pg.InfiniteLine(angle=90, movable=False) for n in self.plots}
        for n, line in self.vlines.items():
            self.plots[n].addItem(line, ignoreBounds=True)
        self.proxy = pg.SignalProxy(self.graphics.scene().sigMouseMoved, rateLimit=30, slot=self._mouse)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.note)
        self.functions = FunctionsTable()
        sort_row = QHBoxLayout()
        self.fn_label = QLabel("Deployment functions")
        self.fn_by_calls = QToolButton(text="Top by calls")
        self.fn_by_errors = QToolButton(text="Top by errors")
        self.fn_by_calls.clicked.connect(self.functions.by_calls)
        self.fn_by_errors.clicked.connect(self.functions.by_errors)
        for w in (self.fn_label, self.fn_by_calls, self.fn_by_errors):
            sort_row.addWidget(w)
        sort_row.addStretch(1)
        table_box = QWidget()
        box = QVBoxLayout(table_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(sort_row)
        box.addWidget(self.functions)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.graphics)
        self.splitter.addWidget(table_box)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.crosshair_label)
        self.timer = QTimer(self)
        self.timer.setInterval(2000)
        self.timer.timeout.connect(self.refresh)
        ctx.theme.changed.connect(self.restyle)
        self.restyle()
        self.refresh()

    # -- range -------------------------------------------------------------------------------------------------
    def time_window(self) -> tuple[float, float, int]:
        seconds = self.range_buttons.checkedButton().property("seconds")
        now = time.time()
        if seconds == -1:
            start = self.custom_from.dateTime().toSecsSinceEpoch()
            end = max(start + 60, self.custom_to.dateTime().toSecsSinceEpoch())
            return float(start), float(end), 300
        buckets = next(b for _l, s, b in RANGES if s == seconds)
        return now - seconds, now, buckets

    def range_changed(self) -> None:
        custom = self.range_buttons.checkedButton().property("seconds") == -1
        self.custom_from.setVisible(custom)
        self.custom_to.setVisible(custom)
        self._schedule()
        self.refresh()

    def _schedule(self) -> None:
        live = self.range_buttons.checkedButton().property("seconds") == RANGES[0][1]
        if live and self.isVisible():
            self.timer.start()
        else:
            self.timer.stop()

    # -- data -----------------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        if self._task is not None and not self._task.cancelled:
            return  # the previous query is still running
        start, end, buckets = self.time_window()
        group, top_n = self.group.currentData(), self.top_n.value()

        def work(conn) -> dict[str, Any]:
            sources = rates(conn, start, end, buckets, group="source", top_n=3)
            errors = rates(conn, start, end, buckets, group="outcome", top_n=2)
            sources.series += [Series("errors", s.values) for s in errors.series if s.name == "error"]
            return {"rates": rates(conn, start, end, buckets, group=group, top_n=top_n), "sources": sources,
                    "latency": percentiles(conn, start, end, buckets), "summary": summary(conn, start, end)}

        def done(result: dict[str, Any]) -> None:
            self._task = None
            self.show_result(result)

        def failed(exc: BaseException) -> None:
            self._task = None
            self.ctx.status_message.emit(f"Call rates: {exc}")

        self._task = self.ctx.read(work, done, failed)
        self._refresh_functions(start, end, buckets, top_n)

    def show_result(self, result: dict[str, Any]) -> None:
        started = time.perf_counter()
        for name in ("rates", "sources", "latency"):
            self._draw(name, result[name])
        s = result["summary"]
        if s.calls:
            self.summary.setText(
                f"{s.calls:,} calls · errors {s.error_rate * 100:.2f}% · network {s.network:,}, cache hits "
                f"{s.cache:,}, coalesced {s.coalesced:,} · <b>calls saved {s.saved * 100:.1f}%</b> "
                f"(went to the cache or shared a request)")
        else:
            self.summary.setText("No calls in this range.")
        self.last_redraw_ms = (time.perf_counter() - started) * 1000

    def _draw(self, name: str, chart: Chart) -> None:
        self.charts[name] = chart
        plot = self.plots[name]
        xs = [t + chart.width / 2 for t in chart.times()]
        curves = self.curves[name]
        wanted = [s.name for s in chart.series]
        for gone in [n for n in curves if n not in wanted]:
            plot.removeItem(curves.pop(gone))
            plot.legend.removeItem(esc(gone))  # legend labels are HTML: names go in escaped
        for i, s in enumerate(chart.series):
            curve = curves.get(s.name)
            if curve is None:  # new series: a curve once, then only setData
                curve = plot.plot([], [], name=esc(s.name), pen=pg.mkPen(self._colour(name, s.name, i), width=1.6))
                curves[s.name] = curve
                self._style_legend(plot)
            curve.setData(xs, [v if not math.isnan(v) else float("nan") for v in s.values], connect="finite")

    def _colour(self, chart: str, series: str, i: int) -> QColor:
        fixed = {"errors (all functions)": "#d32f2f", "network": "#4f7cff", "cache": "#2e9e5b", "coalesced": "#b04ad6", "errors": "#d32f2f",
                 "error": "#d32f2f", "success": "#2e9e5b", "p50": "#2e9e5b", "p95": "#d6a21e", "p99": "#d32f2f"}
        return QColor(fixed.get(series, PALETTE[i % len(PALETTE)]))

    # -- the deployment's functions ----------------------------------------------------------------------------
    def _refresh_functions(self, start: float, end: float, buckets: int, top_n: int) -> None:
        if self._fn_busy:
            return  # the previous read is still running
        self._fn_busy = True
        live = self.ctx.live

        def from_replica(notes: list[str]) -> None:
            def done(metrics: FunctionMetrics) -> None:
                self._fn_busy = False
                self.show_functions(metrics, notes)

            def failed(exc: BaseException) -> None:
                self._fn_busy = False
                self.ctx.status_message.emit(f"Call rates: {exc}")

            self.ctx.read(lambda conn: from_history(conn, start, end, buckets, top_n), done, failed)

        if live is None:
            from_replica([])
            return

        async def read() -> None:
            # The real app_metrics routes with their required parameters; absence is a note, not an error.
            try:
                metrics = await deployment_functions(live.client.http, start, end, buckets, top_n)
            except Exception as exc:  # e.g. the client closed under us: still only a note
                from_replica([f"{type(exc).__name__}: {str(exc)[:120]}"])
                return
            if not metrics.rows and metrics.notes:  # the routes are missing: fall back on the log history
                from_replica(metrics.notes)
                return
            self._fn_busy = False
            self.show_functions(metrics, metrics.notes)

        self._fn_task = self.ctx.tasks.spawn(read())

    def show_functions(self, metrics: FunctionMetrics, notes: list[str] | None = None) -> None:
        self.functions_metrics = metrics
        self.functions.set_metrics(metrics)
        chart = Chart(metrics.start, metrics.end, metrics.buckets,
                      [Series(name, values) for name, values in metrics.calls.items()])
        errors = [sum(v[i] for v in metrics.errors.values()) for i in range(metrics.buckets)]
        if any(errors):
            chart.series.append(Series("errors (all functions)", errors))
        self._draw("functions", chart)
        where = ("the deployment's own metrics" if metrics.source == "deployment" else
                 "the demo's generated function logs" if self.ctx.is_demo else "the local function-log history")
        self.fn_label.setText(f"Deployment functions: {len(metrics.rows)} · {metrics.total_calls:,.0f} calls · "
                              f"{metrics.total_errors:,.0f} errors (from {where})")
        text = f"Deployment functions from {where}; the console's own calls from its call log."
        if notes:
            text += " The deployment's metrics routes are internal to Convex and answered: " + "; ".join(notes)[:400]
        self.note.setText(text)

    # -- crosshair --------------------------------------------------------------------------------------------------
    def _mouse(self, event: Any) -> None:
        pos = event[0]
        plot = self.plots["rates"]
        if not plot.sceneBoundingRect().contains(pos) or "rates" not in self.charts:
            return
        x = plot.vb.mapSceneToView(pos).x()
        for line in self.vlines.values():
            line.setPos(x)
        chart = self.charts["rates"]
        i = int((x - chart.start) // chart.width)
        if not 0 <= i < chart.buckets:
            return
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(chart.start + i * chart.width))
        values = ", ".join(f"{s.name} {s.values[i]:.3g}/s" for s in chart.series if s.values[i])
        lat = self.charts.get("latency")
        lat_text = ""
        if lat and 0 <= i < lat.buckets:
            lat_text = " · latency " + ", ".join(f"{s.name} {s.values[i]:.0f} ms" for s in lat.series
                                                 if not math.isnan(s.values[i]))
        self.crosshair_label.setText(f"<b>{esc(stamp)}</b> · {esc(values or 'no calls')}{esc(lat_text)}")

    # -- export -----------------------------------------------------------------------------------------------------
    def export_png(self, path: Path | None = None) -> None:
        if path is None:
            name, _ = QFileDialog.getSaveFileName(self, "Export chart", "call-rates.png", "PNG (*.png)")
            if not name:
                return
            path = Path(name)
        self.graphics.grab().save(str(path))
        self.ctx.status_message.emit(f"Saved the charts to {path}")

    def export_csv(self, path: Path | None = None) -> None:
        if path is None:
            name, _ = QFileDialog.getSaveFileName(self, "Export data", "call-rates.csv", "CSV (*.csv)")
            if not name:
                return
            path = Path(name)
        named = [(p, self.charts[n]) for p, n in (("function calls/s", "functions"), ("calls/s", "rates"),
                                                   ("client calls/s", "sources"), ("latency ms", "latency"))
                 if n in self.charts and self.charts[n].buckets == self.charts.get("rates", self.charts[n]).buckets]
        if not named:
            return
        charts = [c for _p, c in named]
        merged = Chart(charts[0].start, charts[0].end, charts[0].buckets)
        for prefix, chart in named:
            merged.series += [Series(f"{prefix}: {s.name}", s.values) for s in chart.series]
        path.write_text(to_csv(merged), encoding="utf-8")
        self.ctx.status_message.emit(f"Saved the chart data to {path}")

    # -- theme and panel --------------------------------------------------------------------------------------------
    def restyle(self, _dark: bool = False) -> None:
        pal = QApplication.palette()
        bg, fg = pal.color(pal.ColorRole.Base), pal.color(pal.ColorRole.Text)
        self.graphics.setBackground(bg)
        for plot in self.plots.values():
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setPen(fg)
                plot.getAxis(axis).setTextPen(fg)
            plot.titleLabel.setText(plot.titleLabel.text, color=fg)
            self._style_legend(plot)
        for line in self.vlines.values():
            line.setPen(pg.mkPen(fg, width=1, style=pg.QtCore.Qt.PenStyle.DashLine))

    @staticmethod
    def _style_legend(plot) -> None:
        pal = QApplication.palette()
        plot.legend.setBrush(pg.mkBrush(pal.color(pal.ColorRole.Base).red(), pal.color(pal.ColorRole.Base).green(),
                                        pal.color(pal.ColorRole.Base).blue(), 210))
        for _sample, label in plot.legend.items:
            label.setText(label.text, color=pal.color(pal.ColorRole.Text))

    def on_shown(self) -> None:
        self._schedule()
        self.refresh()

    def on_hidden(self) -> None:
        self.timer.stop()

    def reload(self) -> None:
        self.refresh()

    def save_state(self, state: QSettings) -> None:
        state.setValue("callrates/range", self.range_buttons.checkedId())

    def restore_state(self, state: QSettings) -> None:
        value = state.value("callrates/range")
        if value is not None and self.range_buttons.button(int(value)):
            self.range_buttons.button(int(value)).setChecked(True)
            self.range_changed()
