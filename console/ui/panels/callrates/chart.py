"""One chart of the Call rates panel: a plot (time axis in local time, drag-to-zoom on time) with its legend
table beside it. Curves are made once per series and then only get setData; the legend's figures are updated
in place. `tip_text(x)` says what the chart shows at a moment, for the panel's tooltip."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem, QHBoxLayout, QWidget

from console.store.callrates import Chart
from console.ui.panels.callrates import fmt
from console.ui.panels.callrates.axes import LatencyAxis, ZoomViewBox
from console.ui.panels.callrates.legend import LegendModel, LegendTable, Row, stats

AXIS_WIDTH = 60  # every chart's left axis as wide, so the linked time axes line up


class ChartRow(QWidget):
    hovered = Signal(float, object)  # x in view coordinates, the scene position
    picked = Signal(float)  # a double-click: the end of the bucket under the cursor (unix seconds)
    zoomed = Signal()

    def __init__(self, name: str, title: str, colour: Callable[[str, int], QColor], latency: bool = False) -> None:
        super().__init__()
        self.name = name
        self.latency = latency
        self.colour = colour
        self.value_text = fmt.ms if latency else fmt.rate
        self.chart: Chart | None = None
        self.curves: dict[str, pg.PlotDataItem | pg.PlotCurveItem] = {}
        self.colours: dict[str, QColor] = {}
        self.vb = ZoomViewBox()
        axes = {"bottom": pg.DateAxisItem()}
        if latency:
            axes["left"] = LatencyAxis()
        self.widget = pg.PlotWidget(viewBox=self.vb, axisItems=axes)
        self.widget.getPlotItem().setTitle(title, size="9pt")
        self.widget.setObjectName(f"chart-{name}")
        self.plot = self.widget.getPlotItem()
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        # No clip-to-view or downsampling: a chart has at most a few hundred buckets (Live 150, 7 d 336), and
        # both cost more per live tick than they save.
        self.plot.hideButtons()  # the panel's "Reset zoom" does what the "A" button would, to the chosen range
        self.plot.getAxis("left").setWidth(AXIS_WIDTH)
        self.plot.setMenuEnabled(False)
        # The axes' text is the costly part of a paint (4-7 ms a chart): cached as pixmaps, they are drawn again
        # only when their ticks change, not each time a curve under them moves (a live tick, the cursor line).
        for side in ("left", "bottom"):
            self.plot.getAxis(side).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        if latency:
            self.plot.setLogMode(y=True)  # p50 of a cached read and p99 of an AI action differ by 10,000x
        self.vline = pg.InfiniteLine(angle=90, movable=False)
        self.plot.addItem(self.vline, ignoreBounds=True)
        self.vline.hide()
        self.legend_model = LegendModel(fmt.ms if latency else fmt.number, with_samples=latency)
        self.legend = LegendTable(self.legend_model)
        self.legend.setObjectName(f"legend-{name}")
        self.legend.toggled.connect(self._toggled)
        self.legend.highlighted.connect(lambda _n: self._restyle_curves())
        self.vb.zoomed.connect(self.zoomed)
        self.widget.scene().sigMouseMoved.connect(self._moved)
        self.widget.scene().sigMouseClicked.connect(self._clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.widget, 1)
        layout.addWidget(self.legend)

    # -- data --------------------------------------------------------------------------------------------------
    def draw(self, chart: Chart) -> None:
        self.chart = chart
        xs = np.array(chart.times()) + chart.width / 2
        wanted = {s.name for s in chart.series}
        for gone in [n for n in self.curves if n not in wanted]:
            self.plot.removeItem(self.curves.pop(gone))
            self.colours.pop(gone, None)
        rows = []
        total = sum(chart.samples) if chart.samples is not None else None
        for i, s in enumerate(chart.series):
            curve = self.curves.get(s.name)
            if curve is None:  # new series: a curve once, then only setData
                self.colours[s.name] = self.colour(s.name, i)
                # A bare curve item is about four times cheaper to update than a PlotDataItem; the latency
                # chart needs the latter, which maps its values onto the log axis.
                curve = (self.plot.plot([], [], symbol="o", symbolSize=3, symbolPen=None,  # a lone bucket: a dot
                                        symbolBrush=self.colours[s.name])
                         if self.latency else pg.PlotCurveItem())
                if not self.latency:
                    self.plot.addItem(curve)
                self.curves[s.name] = curve
                self._style(s.name)
                curve.setVisible(s.name not in self.legend_model.hidden)
            ys = np.asarray(s.values, dtype=float)
            if self.latency and np.isnan(ys).all():  # nothing to dot (and the scatter item warns on it)
                curve.setData([], [])
            else:
                curve.setData(xs, ys, connect="finite")
            rows.append(Row(s.name, self.colours[s.name], *stats(s.values), samples=total))
        self.legend_model.set_rows(rows)

    def set_x(self, start: float, end: float) -> None:
        self.vb.setXRange(start, end, padding=0)
        self.vb.enableAutoRange(y=True)

    # -- legend -----------------------------------------------------------------------------------------------
    def _toggled(self, name: str) -> None:
        curve = self.curves.get(name)
        if curve is not None:
            curve.setVisible(name not in self.legend_model.hidden)

    def _style(self, name: str) -> None:
        colour = QColor(self.colours[name])
        width = 1.6
        lit = self.legend_model.highlighted
        if lit is not None and lit != name:
            colour.setAlpha(60)
        elif lit == name:
            width = 3.0
        self.curves[name].setPen(pg.mkPen(colour, width=width))
        self.curves[name].setZValue(1 if lit == name else 0)

    def _restyle_curves(self) -> None:
        for name, curve in self.curves.items():
            self._style(name)
            curve.setVisible(name not in self.legend_model.hidden)

    # -- cursor -----------------------------------------------------------------------------------------------
    def _moved(self, pos) -> None:
        if self.chart is None or not self.plot.vb.sceneBoundingRect().contains(pos):
            return
        self.hovered.emit(self.plot.vb.mapSceneToView(pos).x(), pos)

    def _clicked(self, event) -> None:
        if not event.double() or self.chart is None:
            return
        i = self.bucket(self.plot.vb.mapSceneToView(event.scenePos()).x())
        if i is not None:
            self.picked.emit(self.chart.start + (i + 1) * self.chart.width)

    def bucket(self, x: float) -> int | None:
        chart = self.chart
        if chart is None or not chart.buckets:
            return None
        i = int((x - chart.start) // chart.width)
        return i if 0 <= i < chart.buckets else None

    def tip_text(self, x: float) -> str | None:
        """The moment (its bucket's start, with date and UTC offset) and each series' value then."""
        i = self.bucket(x)
        if i is None or self.chart is None:
            return None
        chart = self.chart
        width = chart.width
        span = f"{width:.0f} s" if width < 120 else f"{width / 60:.0f} min" if width < 7200 else f"{width / 3600:.0f} h"
        lines = [f"{fmt.moment(chart.start + i * width)} (per {span})"]
        n = f" (n={fmt.count(chart.samples[i])})" if chart.samples is not None else ""
        for s in chart.series:
            if s.name in self.legend_model.hidden:
                continue
            v = s.values[i]
            lines.append(f"{s.name}: {self.value_text(v)}{n if not math.isnan(v) else ''}")
        if len(lines) == 1:
            lines.append("no data")
        lines.append("Double-click: the log entries of this moment")
        return "\n".join(lines)

    # -- theme ------------------------------------------------------------------------------------------------
    def restyle(self, fg: QColor, bg: QColor) -> None:
        self.widget.setBackground(bg)
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setPen(fg)
            self.plot.getAxis(axis).setTextPen(fg)
        self.plot.titleLabel.setText(self.plot.titleLabel.text, color=fg)
        self.vline.setPen(pg.mkPen(fg, width=1, style=Qt.PenStyle.DashLine))
