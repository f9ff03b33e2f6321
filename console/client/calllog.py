"""The call log: every client call (network, cache hit, coalesced) as one row, written in batches.

`record` only appends to an in-memory buffer (cheap enough for every call); `flush` writes the buffer in
one transaction and is meant to run off the event loop's thread. Retention is bounded by age and rows.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from sqlalchemy import Engine, text

from console.client.http import CallRecord

INSERT = ("INSERT INTO call_log (at, function, kind, source, outcome, status, latency_ms, bytes) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")


class CallLog:
    def __init__(self, engine: Engine | None, *, keep_days: float = 14, max_rows: int = 2_000_000,
                 max_buffer: int = 100_000) -> None:
        self.engine = engine
        self.keep_days = keep_days
        self.max_rows = max_rows
        self._buffer: deque[CallRecord] = deque(maxlen=max_buffer)  # a stalled writer cannot eat memory
        self._lock = threading.Lock()
        self.recorded = 0
        self.written = 0

    def record(self, rec: CallRecord) -> None:
        self._buffer.append(rec)
        self.recorded += 1

    def pending(self) -> int:
        return len(self._buffer)

    def flush(self) -> int:
        """Write what is buffered; returns the number of rows written."""
        if self.engine is None:
            self._buffer.clear()
            return 0
        with self._lock:
            rows = []
            while self._buffer:
                r = self._buffer.popleft()
                rows.append((r.at, r.function, r.kind, r.source, r.outcome, r.status, r.latency_ms, r.nbytes))
            if not rows:
                return 0
            with self.engine.begin() as conn:
                conn.exec_driver_sql(INSERT, rows)
            self.written += len(rows)
            return len(rows)

    def prune(self, now: float | None = None) -> int:
        if self.engine is None:
            return 0
        cutoff = (now or time.time()) - self.keep_days * 86400
        with self.engine.begin() as conn:
            n = conn.execute(text("DELETE FROM call_log WHERE at < :c"), {"c": cutoff}).rowcount
            excess = (conn.execute(text("SELECT count(*) FROM call_log")).scalar() or 0) - self.max_rows
            if excess > 0:
                n += conn.execute(text(
                    "DELETE FROM call_log WHERE pk IN (SELECT pk FROM call_log ORDER BY at LIMIT :n)"), {"n": excess}
                ).rowcount
        return n
