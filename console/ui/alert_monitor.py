"""Evaluates the alert rules on the replica every few seconds (off the GUI thread) and keeps the alert book.
`changed` fires on the GUI thread after each round; `fired` with the alerts that are new in it."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal

from console.alerts import AlertBook, Reading, evaluate
from console.ui.context import AppContext

INTERVAL_MS = 10_000


class AlertMonitor(QObject):
    changed = Signal()
    fired = Signal(object)  # list[Alert]

    def __init__(self, ctx: AppContext, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__()
        self.ctx = ctx
        self.book = AlertBook()
        self.readings: dict[str, Reading] = {}
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self._busy = False
        self.last_checked: float | None = None
        self.watching_since_ms: int | None = None  # worker down: judged only on what the console has watched

    def start(self) -> None:
        if self.watching_since_ms is None:
            self.watching_since_ms = int(time.time() * 1000)
        self.timer.start()
        self.check()

    def stop(self) -> None:
        self.timer.stop()

    def check(self) -> None:
        if self._busy:
            return
        self._busy = True
        limits = dict(self.ctx.settings.alert_thresholds or {})

        def done(readings: list[Reading]) -> None:
            self._busy = False
            self.last_checked = time.time()
            self.readings = {r.rule: r for r in readings}
            new = self.book.update(readings)
            self.changed.emit()
            if new:
                self.fired.emit(new)

        def failed(exc: BaseException) -> None:
            self._busy = False
            self.ctx.status_message.emit(f"Alerts: could not read the replica ({exc})")

        since = self.watching_since_ms
        self.ctx.read(lambda conn: evaluate(conn, limits=limits, watching_since_ms=since), done, failed)

    def acknowledge(self, alert) -> None:
        self.book.acknowledge(alert)
        self.changed.emit()
