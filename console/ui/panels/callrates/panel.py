"""Call-rate panel. First the deployment's functions: calls and errors per second by function and a table of
every function (calls, errors, execution-time percentiles, cache hits), from the deployment's own metrics
routes in live mode and from the local function-log history in the demo (or when those routes are missing).
Then the console's own calls by function, kind or outcome; network vs cache vs coalesced; errors; latency
percentiles. Aggregated in SQL, drawn with pyqtgraph, exported as PNG and CSV.

Each chart has its legend as a table beside it (chart.py, legend.py); a drag on any chart zooms every time axis
(they are linked) until "Reset zoom" or another range; a plain-text tooltip at the cursor reads the chart out.
The time axis is always set to the chosen range, not left to the data: an empty range shows its own times."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime, QEvent, QObject, QPoint, QSettings, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QComboBox,
    QDateTimeEdit,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
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
from console.ui.panels.callrates import fmt
from console.ui.panels.callrates.chart import ChartRow
from console.ui.panels.callrates.functions import FunctionsTable
from console.ui.panel import Panel

CHARTS = (("functions", "Deployment: function calls per second (errors in red)"),
          ("rates", "The console's own calls per second"),
          ("sources", "The console's client: network, cache hits, coalesced, errors"),
          ("latency", "Latency of the console's network calls"))
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
        self.functions_metrics: FunctionMetrics | None = None
        self._task = None
        self._fn_task: asyncio.Future | None = None
        self._fn_busy = False
        self.last_redraw_ms = 0.0  # the console's charts, last refresh
        self.last_fn_redraw_ms = 0.0  # the deployment's chart and table, last refresh
        self.generation = 0  # bumped by a range change: results of an older range are dropped
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
        self.custom_box = QWidget()  # its own row: the top row fits 1024 px with it shown
        custom_row = QHBoxLayout(self.custom_box)
        custom_row.setContentsMargins(0, 0, 0, 0)
        custom_row.addWidget(QLabel("From"))
        for w in (self.custom_from, self.custom_to):
            w.setCalendarPopup(True)
            w.setDisplayFormat("yyyy-MM-dd HH:mm")
            w.dateTimeChanged.connect(lambda _d: self.range_changed())
            custom_row.addWidget(w)
            if w is self.custom_from:
                custom_row.addWidget(QLabel("to"))
        custom_row.addStretch(1)
        self.custom_box.hide()
        self.group = QComboBox()
        for label, value in (("by function", "function"), ("by kind", "kind"), ("by outcome", "outcome")):
            self.group.addItem(label, value)
        self.group.currentIndexChanged.connect(lambda _i: self.refresh())
        self.top_n = QSpinBox()
        self.top_n.setRange(1, 19)
        self.top_n.setValue(8)
        self.top_n.setPrefix("top ")
        self.top_n.valueChanged.connect(lambda _v: self.refresh())
        self.reset_zoom = QPushButton("Reset zoom")
        self.reset_zoom.setToolTip("Back to the chosen range (drag across a chart to zoom into a span)")
        self.reset_zoom.setEnabled(False)
        self.reset_zoom.clicked.connect(self.unzoom)
        self.export = QToolButton(text="Export")
        self.export.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export)
        menu.addAction("Charts as PNG…", lambda: self.export_png())
        menu.addAction("Data as CSV…", lambda: self.export_csv())
        self.export.setMenu(menu)
        top.addStretch(1)
        for w in (self.group, self.top_n, self.reset_zoom, self.export):
            top.addWidget(w)
        self.zoomed = False
        self._first_shown = False

        self.summary = QLabel()
        self.summary.setWordWrap(True)  # a long range's figures must not widen the window
        self.summary.setToolTip("Calls saved: the share of calls that went to the cache or shared a request")
        self.note = QLabel()
        self.note.setTextFormat(Qt.TextFormat.PlainText)  # carries server error messages
        self.note.setWordWrap(True)

        self.graphics = QWidget()  # the four charts, exported together as PNG
        self.graphics.setObjectName("callrate-charts")
        charts = QVBoxLayout(self.graphics)
        charts.setContentsMargins(0, 0, 0, 0)
        charts.setSpacing(2)
        self.rows: dict[str, ChartRow] = {}
        for name, title in CHARTS:
            row = ChartRow(name, title, lambda series, i, n=name: self._colour(n, series, i), latency=name == "latency")
            if self.rows:
                row.plot.setXLink(self.rows["functions"].plot)  # one time axis for all
            row.hovered.connect(lambda x, pos, r=row: self._hover(r, x, pos))
            row.picked.connect(lambda at: self.ctx.navigate("logs", {"at": at}))
            row.zoomed.connect(self._zoomed)
            row.widget.installEventFilter(self)
            charts.addWidget(row, 1)
            self.rows[name] = row
        self.plots = {n: r.plot for n, r in self.rows.items()}
        self.curves = {n: r.curves for n, r in self.rows.items()}
        self.tip = QLabel(self.graphics)  # the tooltip at the cursor: ours, so it stays plain text
        self.tip.setObjectName("chart-tooltip")
        self.tip.setTextFormat(Qt.TextFormat.PlainText)
        self.tip.setFrameShape(QFrame.Shape.Box)
        self.tip.setMargin(4)
        self.tip.setAutoFillBackground(True)
        self.tip.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.tip.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.custom_box)
        layout.addWidget(self.summary)
        layout.addWidget(self.note)
        self.functions = FunctionsTable()
        self.functions.setToolTip("Double-click a function for its log entries in this range")
        self.functions.doubleClicked.connect(self._function_logs)
        sort_row = QHBoxLayout()
        self.fn_label = QLabel("Deployment functions")
        self.fn_label.setWordWrap(True)
        self.fn_by_calls = QToolButton(text="Top by calls")
        self.fn_by_errors = QToolButton(text="Top by errors")
        self.fn_by_calls.clicked.connect(self.functions.by_calls)
        self.fn_by_errors.clicked.connect(self.functions.by_errors)
        for w in (self.fn_by_calls, self.fn_by_errors):
            sort_row.addWidget(w)
        sort_row.addWidget(self.fn_label, 1)
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
        self.table_box = table_box  # its minimum follows the panel's height (resizeEvent)
        layout.addWidget(self.splitter, 1)
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

    def _function_logs(self, index) -> None:
        name = self.functions.proxy.index(index.row(), 0).data()
        if name:
            _start, end, _b = self.time_window()
            self.ctx.navigate("logs", {"at": min(end, time.time()), "function": name})

    def range_changed(self) -> None:
        custom = self.range_buttons.checkedButton().property("seconds") == -1
        self.custom_box.setVisible(custom)
        self.generation += 1  # what is in flight for the previous range is not shown
        self.zoomed = False
        self.reset_zoom.setEnabled(False)
        start, end, _buckets = self.time_window()
        self.rows["functions"].set_x(start, end)  # the new range's axis now, data or not
        self._schedule()
        self.refresh()

    def _zoomed(self) -> None:
        self.zoomed = True
        self.reset_zoom.setEnabled(True)

    def unzoom(self) -> None:
        """Back to the chosen range (the live window as it is now)."""
        self.zoomed = False
        self.reset_zoom.setEnabled(False)
        start, end, _buckets = self.time_window()
        for row in self.rows.values():
            row.set_x(start, end)

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
        generation = self.generation

        def work(conn) -> dict[str, Any]:
            sources = rates(conn, start, end, buckets, group="source", top_n=3)
            errors = rates(conn, start, end, buckets, group="outcome", top_n=2)
            sources.series += [Series("errors", s.values) for s in errors.series if s.name == "error"]
            return {"rates": rates(conn, start, end, buckets, group=group, top_n=top_n), "sources": sources,
                    "latency": percentiles(conn, start, end, buckets), "summary": summary(conn, start, end)}

        def done(result: dict[str, Any]) -> None:
            self._task = None
            if generation != self.generation:  # the range changed while this ran
                self.refresh()
                return
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
        if not self.zoomed:  # the chosen range, whatever the data covers
            self.rows["rates"].set_x(result["rates"].start, result["rates"].end)
        s = result["summary"]
        if s.calls:
            self.summary.setText(
                f"{fmt.count(s.calls)} calls · errors {s.error_rate * 100:.2f}% · network {fmt.count(s.network)}, cache hits "
                f"{fmt.count(s.cache)}, coalesced {fmt.count(s.coalesced)} · <b>calls saved {s.saved * 100:.1f}%</b>")
        else:
            self.summary.setText("No calls in this range.")
        self.last_redraw_ms = (time.perf_counter() - started) * 1000

    def _draw(self, name: str, chart: Chart) -> None:
        self.charts[name] = chart
        self.rows[name].draw(chart)

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
        generation = self.generation

        def deliver(metrics: FunctionMetrics, notes: list[str]) -> None:
            self._fn_busy = False
            if generation != self.generation:  # the range changed while this ran: read the new one
                start2, end2, buckets2 = self.time_window()
                self._refresh_functions(start2, end2, buckets2, self.top_n.value())
                return
            self.show_functions(metrics, notes)

        def from_replica(notes: list[str]) -> None:
            def failed(exc: BaseException) -> None:
                self._fn_busy = False
                self.ctx.status_message.emit(f"Call rates: {exc}")

            self.ctx.read(lambda conn: from_history(conn, start, end, buckets, top_n),
                          lambda metrics: deliver(metrics, notes), failed)

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
            deliver(metrics, metrics.notes)

        self._fn_task = self.ctx.tasks.spawn(read())

    def show_functions(self, metrics: FunctionMetrics, notes: list[str] | None = None) -> None:
        started = time.perf_counter()
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
        self.fn_label.setText(f"Deployment functions: {len(metrics.rows)} · {fmt.count(metrics.total_calls)} calls · "
                              f"{fmt.count(metrics.total_errors)} errors (from {where})")
        text = f"Deployment functions from {where}; the console's own calls from its call log."
        if notes:
            text += " The deployment's metrics routes are internal to Convex and answered: " + "; ".join(notes)[:400]
        self.note.setText(text)
        self.last_fn_redraw_ms = (time.perf_counter() - started) * 1000

    # -- the cursor: a line on every chart, a tooltip on the one under it ----------------------------------------------
    def _hover(self, row: ChartRow, x: float, scene_pos: Any) -> None:
        for r in self.rows.values():
            r.vline.setPos(x)
            r.vline.show()
        text = row.tip_text(x)
        if text is None:
            self.tip.hide()
            return
        self.tip.setText(text)
        self.tip.adjustSize()
        at = row.widget.mapTo(self.graphics, row.widget.mapFromScene(scene_pos))
        box = self.graphics.rect()
        right = row.widget.mapTo(self.graphics, QPoint(row.widget.width(), 0)).x()  # not over the legend
        x0 = at.x() + 16 if at.x() + 16 + self.tip.width() <= right else at.x() - 16 - self.tip.width()
        y0 = min(max(0, at.y() + 16), max(0, box.bottom() - self.tip.height()))
        self.tip.move(QPoint(max(0, x0), y0))
        self.tip.show()
        self.tip.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave:
            self.tip.hide()
            for r in self.rows.values():
                r.vline.hide()
        return super().eventFilter(watched, event)

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
            if chart.samples is not None:  # what the percentiles rest on
                merged.series.append(Series(f"{prefix}: n", [float(n) for n in chart.samples]))
        path.write_text(to_csv(merged), encoding="utf-8")
        self.ctx.status_message.emit(f"Saved the chart data to {path}")

    # -- theme and panel --------------------------------------------------------------------------------------------
    def restyle(self, _dark: bool = False) -> None:
        pal = QApplication.palette()
        bg, fg = pal.color(pal.ColorRole.Base), pal.color(pal.ColorRole.Text)
        for row in self.rows.values():
            row.restyle(fg, bg)
        tip_pal = self.tip.palette()
        tip_pal.setColor(tip_pal.ColorRole.Window, pal.color(pal.ColorRole.ToolTipBase))
        tip_pal.setColor(tip_pal.ColorRole.WindowText, pal.color(pal.ColorRole.ToolTipText))
        self.tip.setPalette(tip_pal)

    def showEvent(self, event) -> None:
        # The first paint of four charts (axes, grid, text) takes 40-50 ms, after the 50-70 ms of building them:
        # in one turn, the GUI froze 110-150 ms on the first open. The charts paint one turn after the rest
        # of the panel, so input and timers are served in between.
        if not self._first_shown:
            self._first_shown = True
            self.graphics.setUpdatesEnabled(False)
            QTimer.singleShot(0, self, lambda: self.graphics.setUpdatesEnabled(True))
        super().showEvent(event)

    def on_shown(self) -> None:
        self._schedule()
        self.refresh()

    def on_hidden(self) -> None:
        self.timer.stop()

    def reload(self) -> None:
        self.refresh()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        # Top by calls / by errors needs rows to read (it showed one and a half): about six where the panel is
        # tall enough; at 1024x700 the four charts need the height for their axis labels (drag the splitter).
        rows = self.functions.verticalHeader().defaultSectionSize() * 7 + 30
        self.table_box.setMinimumHeight(rows if self.height() >= 760 else 0)

    def save_state(self, state: QSettings) -> None:
        state.setValue("callrates/range", self.range_buttons.checkedId())
        state.setValue("callrates/split", self.splitter.saveState())

    def restore_state(self, state: QSettings) -> None:
        if (split := state.value("callrates/split")) is not None:
            self.splitter.restoreState(split)
        value = state.value("callrates/range")
        if value is not None and self.range_buttons.button(int(value)):
            self.range_buttons.button(int(value)).setChecked(True)
            self.range_changed()
