"""A 10 ms timer on the GUI thread: the gaps between its beats are how long the GUI thread was busy (a freeze
shows as one long gap). Used by the GUI-gap benchmark and the first-open probe."""

from __future__ import annotations

import statistics
import time


class Heartbeat:
    def __init__(self) -> None:
        from PySide6.QtCore import QTimer  # (the probe times its imports: Qt is loaded when a beat is wanted)

        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self.beat)
        self.gaps: list[float] = []
        self.last = time.perf_counter()

    def start(self) -> None:
        self.gaps.clear()
        self.last = time.perf_counter()
        self.timer.start()

    def beat(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self.last) * 1000)
        self.last = now

    def stop(self) -> dict[str, float]:
        """Stop; the worst gap, p99, median and how many beats."""
        self.timer.stop()
        g = sorted(self.gaps) or [0.0]
        return {"beats": len(g), "worst_ms": g[-1], "p99_ms": g[int(len(g) * 0.99) - 1 if len(g) > 1 else 0],
                "median_ms": statistics.median(g)}

    def worst(self) -> float:
        """Stop; the worst gap, a freeze still going on at the end included."""
        self.beat()
        return self.stop()["worst_ms"]
