"""Queue health: backlog age, stuck jobs, permanent failure rate, and succeeded/failed per minute."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from console.store.jobs import Health
from console.ui.context import AppContext
from console.ui.format import count
from console.ui.panels.jobs.rate_chart import RateChart


def _duration(ms: int | None) -> str:
    if ms is None:
        return "none waiting"
    s = ms / 1000
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            return f"{s / size:.1f} {unit}"
    return f"{s:.0f} s"


class HealthView(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.backlog = QLabel()
        self.stuck = QLabel()
        self.failure = QLabel()
        for label, tip in ((self.backlog, "How long the oldest due job has been waiting to run"),
                           (self.stuck, "Claimed by a worker and past its lease: the worker died or hung"),
                           (self.failure, "Dead / (dead + succeeded) among jobs that finished in the last 24 h")):
            label.setToolTip(tip)
        numbers = QVBoxLayout()
        for w in (QLabel("<b>Queue health</b>"), self.backlog, self.stuck, self.failure):
            numbers.addWidget(w)
        numbers.addStretch(1)

        self.plot = RateChart(ctx.theme.color("ok"), ctx.theme.color("danger"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(numbers)
        layout.addWidget(self.plot, 1)
        ctx.theme.changed.connect(self.restyle)

    def restyle(self, _dark: bool = False) -> None:
        self.plot.set_colours(self.ctx.theme.color("ok"), self.ctx.theme.color("danger"))

    def show_health(self, h: Health) -> None:
        t = self.ctx.theme
        self.backlog.setText("Backlog: none waiting" if h.oldest_pending_ms is None else
                             f"Backlog: oldest waiting {_duration(h.oldest_pending_ms)}")
        colour = t.color("danger" if h.stuck else "ok").name()
        self.stuck.setText(f"<span style='color:{colour}'>Stuck: {count(h.stuck)}</span>")
        if h.permanent_failure_rate is None:
            self.failure.setText("Permanent failures (24 h): no jobs finished")
        else:
            rate = h.permanent_failure_rate * 100
            colour = t.color("danger" if rate >= 5 else "warning" if rate >= 1 else "ok").name()
            self.failure.setText(f"Permanent failures (24 h): <span style='color:{colour}'>{rate:.1f}%</span> "
                                 f"of {count(h.finished_24h)}")
        self.plot.set_points(h.per_minute)
