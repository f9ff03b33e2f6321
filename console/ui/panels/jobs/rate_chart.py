"""Succeeded and failed jobs per minute over the last hour, painted directly. A pyqtgraph plot here cost 40-90 ms
to build on the Jobs panel's first open (its context menus and labels), most of the time that open froze the GUI
thread; this chart is a few lines of QPainter and builds in well under a millisecond."""

from __future__ import annotations

import time

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

MINUTE_MS = 60_000
SPAN_MS = 60 * MINUTE_MS
TICK_MINUTES = (5, 10, 15, 30)


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^k at or above `value` (a y axis that ends on a round number)."""
    step = 1.0
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


class RateChart(QWidget):
    def __init__(self, ok: QColor, bad: QColor) -> None:
        super().__init__()
        self.setObjectName("jobs-health-plot")
        self.setMinimumHeight(120)
        self.per_minute: list[tuple[int, int, int]] = []  # (minute start ms, succeeded, failed)
        self.ok, self.bad = ok, bad

    def set_colours(self, ok: QColor, bad: QColor) -> None:
        self.ok, self.bad = ok, bad
        self.update()

    def set_points(self, per_minute: list[tuple[int, int, int]]) -> None:
        self.per_minute = list(per_minute)
        self.update()

    def span(self) -> tuple[int, int]:
        """The hour shown: ending with the newest minute."""
        end = (self.per_minute[-1][0] + MINUTE_MS) if self.per_minute else int(time.time() * 1000)
        return end - SPAN_MS, end

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        fg, bg = pal.color(QPalette.ColorRole.Text), pal.color(QPalette.ColorRole.Base)
        p.fillRect(self.rect(), bg)
        fm = p.fontMetrics()
        top = fm.height() + 6  # the legend's line
        ymax = nice_ceiling(max([max(s, f) for _m, s, f in self.per_minute] + [1]))
        # Room for the widest label: the middle one ("2.5") is wider than the top one ("5"), and was cut to ".5".
        left = max(fm.horizontalAdvance(f"{v:g}") for v in (ymax, ymax / 2)) + 10
        area = QRectF(left, top, max(10, self.width() - left - 10), max(10, self.height() - top - fm.height() - 8))
        start, end = self.span()

        def x(ms: float) -> float:
            return area.left() + (ms - start) / (end - start) * area.width()

        def y(v: float) -> float:
            return area.bottom() - v / ymax * area.height()

        grid = QColor(fg)
        grid.setAlpha(45)
        p.setPen(QPen(grid, 1))
        for v in (0, ymax / 2, ymax):
            p.drawLine(QPointF(area.left(), y(v)), QPointF(area.right(), y(v)))
        p.setPen(fg)
        for v in (0, ymax / 2, ymax):
            p.drawText(QRectF(0, y(v) - fm.height() / 2, left - 6, fm.height()),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{v:g}")
        step = next((m for m in TICK_MINUTES if area.width() / (60 / m) >= fm.horizontalAdvance("00:00") * 2),
                    60) * MINUTE_MS
        tick = (start // step + 1) * step
        while tick < end:
            label = time.strftime("%H:%M", time.localtime(tick / 1000))
            w = fm.horizontalAdvance(label)
            p.drawText(QRectF(x(tick) - w, area.bottom() + 4, 2 * w, fm.height()), Qt.AlignmentFlag.AlignHCenter, label)
            tick += step
        for column, colour, alpha in ((1, self.ok, 60), (2, self.bad, 90)):
            shape = QPolygonF([QPointF(area.left(), y(0))])
            for row in self.per_minute:
                m, v = row[0], row[column]
                if m < start or not v:
                    continue
                shape += [QPointF(x(m), y(0)), QPointF(x(m), y(v)), QPointF(x(m + MINUTE_MS), y(v)),
                          QPointF(x(m + MINUTE_MS), y(0))]
            shape.append(QPointF(area.right(), y(0)))
            fill = QColor(colour)
            fill.setAlpha(alpha)
            p.setBrush(fill)
            p.setPen(QPen(colour, 1.5))
            p.drawPolygon(shape)
        p.setBrush(Qt.BrushStyle.NoBrush)
        lx = area.left() + 4
        for colour, label in ((self.ok, "succeeded / min"), (self.bad, "failed / min")):
            p.fillRect(QRectF(lx, 4 + fm.height() / 2 - 4, 10, 8), colour)
            p.setPen(fg)
            p.drawText(QPointF(lx + 14, 2 + fm.ascent()), label)
            lx += 14 + fm.horizontalAdvance(label) + 16
        if not self.per_minute:
            p.drawText(area, Qt.AlignmentFlag.AlignCenter, "No jobs finished in the last hour")
        p.end()
