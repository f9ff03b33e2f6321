"""The charts' view box and latency axis.

ZoomViewBox: a left drag draws a band across the whole height and zooms the time axis to it (as Grafana does);
the y axis keeps fitting what is visible. LatencyAxis: a log axis labelled in ms and s, with only as many ticks
(1-2-5, 1-3, decades, every other decade) as fit the chart's height, so labels never overlap."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QApplication

from console.ui.panels.callrates import fmt


class ZoomViewBox(pg.ViewBox):
    zoomed = Signal()  # the user chose a time span (a drag or the wheel)

    def __init__(self) -> None:
        super().__init__(enableMenu=False)  # no context menu (the panel has the actions): its build cost 2-3 ms
        self.setMouseMode(pg.ViewBox.RectMode)
        self.setMouseEnabled(x=True, y=False)
        self.enableAutoRange(x=False, y=True)
        self.setAutoVisible(y=True)  # y fits the visible time span
        self.sigRangeChangedManually.connect(lambda _m: self.zoomed.emit())

    def updateScaleBox(self, p1: QPointF, p2: QPointF) -> None:
        # a band over the full height: only the time axis is chosen
        top, bottom = self.boundingRect().top(), self.boundingRect().bottom()
        super().updateScaleBox(QPointF(p1.x(), top), QPointF(p2.x(), bottom))

    def showAxRect(self, ax: QRectF, **kwargs) -> None:
        ax = ax.normalized()
        if ax.width() <= 0:
            return
        self.setXRange(ax.left(), ax.right(), padding=0)
        self.enableAutoRange(y=True)
        self.zoomed.emit()


# Steps within a decade, densest first: 1-2-5, 1-3, decades.
STEPS = ((1, 2, 5), (1, 3), (1,))


def log_ticks(lo: float, hi: float, pixels: float, label_px: float) -> list[float]:
    """Tick positions (log10 of ms) between lo and hi whose labels, label_px tall, don't touch."""
    lo, hi = sorted((lo, hi))
    if hi - lo <= 0 or pixels <= 0:
        return []
    per_unit = pixels / (hi - lo)

    def fits(vals: list[float]) -> bool:
        return all((b - a) * per_unit >= label_px for a, b in zip(vals, vals[1:]))

    for mult in STEPS:
        vals = [d + math.log10(m) for d in range(math.floor(lo), math.ceil(hi) + 1) for m in mult]
        vals = [v for v in vals if lo <= v <= hi]
        if len(vals) >= 2 and fits(vals):
            return vals
    decades = [float(d) for d in range(math.ceil(lo), math.floor(hi) + 1)]
    k = 1
    while len(decades) > 1 and not fits(decades[::k]):
        k += 1
    return decades[::k] or [round((lo + hi) / 2, 2)]


class LatencyAxis(pg.AxisItem):
    def __init__(self) -> None:
        super().__init__("left")
        self.setWidth(60)

    def label_px(self) -> float:
        font = self.style.get("tickFont") or QApplication.font()
        return QFontMetricsF(font).height() * 1.05  # pyqtgraph draws a label 0.8 of it tall

    def tickValues(self, minVal: float, maxVal: float, size: float):
        if not self.logMode:
            return super().tickValues(minVal, maxVal, size)
        return [(None, log_ticks(minVal, maxVal, size, self.label_px()))]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if not self.logMode:
            return super().tickStrings(values, scale, spacing)
        return [fmt.ms(10 ** v) for v in values]
