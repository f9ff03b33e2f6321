"""How far demo generation is: rows written of about how many, then the indexes and search tables built at the end,
and the time left. The generating thread writes plain numbers here; the GUI thread reads them on a timer (no
signal crosses threads). Only ints and floats are assigned, so a read never sees a torn value.
"""

from __future__ import annotations

import time
from typing import Callable

# Building the indexes, full-text tables and rollups after the rows takes about half as long as writing the rows
# (measured on the default demo: 1.1 s against 2.1 s); the bar gives that phase this share of the rows' work.
FINISH_SHARE = 0.5
# A call-log row (a flat tuple) costs about a quarter of a document (built, mapped, encoded): 2.7 µs against 11.
CHEAP_ROW = 0.25
MIN_ELAPSED_S = 0.4  # before this, a rate is noise: no time left is shown


class GenerationProgress:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.rows_expected = 0  # unknown until `expect` (the generator module is still loading)
        self.work_expected = 1.0
        self.rows = 0
        self.work = 0.0  # rows weighted by their cost
        self.finish_steps = 0  # statements of the finishing phase, once it starts
        self.finish_done = 0
        self.clock = clock
        self.started = clock()

    # -- the generating thread ---------------------------------------------------------------------------------
    def expect(self, rows: int, cheap: int = 0) -> None:
        """About `rows` rows in all, `cheap` of them cheap ones (call-log rows); the clock starts now."""
        self.work_expected = max(1.0, rows - cheap * (1 - CHEAP_ROW))
        self.started = self.clock()
        self.rows_expected = max(1, rows)

    def add_rows(self, n: int, cheap: bool = False) -> None:
        self.work += n * CHEAP_ROW if cheap else n
        self.rows += n

    def start_finishing(self, steps: int) -> None:
        self.rows_expected = self.rows  # every row is written: the estimates give way to the counts
        self.work_expected = max(1.0, self.work)
        self.finish_steps = max(1, steps)

    def step(self) -> None:
        self.finish_done += 1

    # -- the GUI thread --------------------------------------------------------------------------------------
    @property
    def started_rows(self) -> bool:
        return self.rows_expected > 0

    @property
    def finishing(self) -> bool:
        return self.finish_steps > 0

    @property
    def rows_total(self) -> int:
        """The expected rows, or the rows written if there are more (the estimate is an estimate)."""
        return max(self.rows_expected, self.rows)

    def fraction(self) -> float:
        if not self.started_rows:
            return 0.0
        expected = max(self.work_expected, self.work)
        done = self.work
        if self.finishing:
            done += expected * FINISH_SHARE * min(1.0, self.finish_done / self.finish_steps)
        return min(1.0, done / (expected * (1 + FINISH_SHARE)))

    def seconds_left(self) -> float | None:
        """From the pace so far; None while too little has happened to tell."""
        elapsed = self.clock() - self.started
        f = self.fraction()
        if elapsed < MIN_ELAPSED_S or f <= 0.01:
            return None
        return max(0.0, elapsed * (1 - f) / f)

    def text(self) -> str:
        if not self.started_rows:
            return "Starting…"
        left = self.seconds_left()
        eta = ("estimating the time left" if left is None else "almost done" if left < 0.5
               else f"about {_duration(left)} left")
        if self.finishing:
            return (f"{self.rows:,} rows written; building indexes and search "
                    f"({self.finish_done} of {self.finish_steps}) · {eta}")
        return f"{self.rows:,} of about {self.rows_total:,} rows · {eta}"


def _duration(seconds: float) -> str:
    if seconds < 1.5:
        return "1 s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"
