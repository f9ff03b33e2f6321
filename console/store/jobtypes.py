"""The queue by job type (Sidekiq's Queues, Oban's queue table): one row per type, from indexed reads only.

- counts per state: job_type_counts (kept by triggers), one tiny read;
- stuck: running past the lease, through by_status_claimed (running jobs are few);
- oldest waiting: per type and waiting state one index probe of by_type_status_next_run;
- succeeded and failed per minute (last hour), permanent-failure rate (24 h): job_events, the per-minute
  rollup of state changes (a failed attempt is a change into retrying or dead).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection

from console.domain import jobs as J
from console.store.jobs import DEFAULT_LEASE_MS, MIN_LEASE_MS, STUCK, STUCK_WHERE


@dataclass
class TypeRow:
    type: str
    counts: dict[str, int] = field(default_factory=dict)  # per state, and "stuck"
    oldest_waiting_ms: int | None = None  # age of the oldest due pending or retrying job
    succeeded_hour: int = 0  # state changes into succeeded in the last hour
    failed_hour: int = 0  # ... into retrying or dead (failed attempts)
    succeeded_24h: int = 0
    dead_24h: int = 0
    per_minute: list[tuple[int, int]] = field(default_factory=list)  # (succeeded, failed) per minute, last hour

    @property
    def total(self) -> int:
        return sum(n for s, n in self.counts.items() if s != STUCK)

    @property
    def succeeded_per_min(self) -> float:
        return self.succeeded_hour / 60

    @property
    def failed_per_min(self) -> float:
        return self.failed_hour / 60

    @property
    def permanent_failure_rate(self) -> float | None:
        """dead / (dead + succeeded) among jobs that finished in the last 24 h."""
        done = self.succeeded_24h + self.dead_24h
        return self.dead_24h / done if done else None


def type_table(conn: Connection, now_ms: int | None = None) -> list[TypeRow]:
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    rows: dict[str, TypeRow] = {}

    def row(t: str) -> TypeRow:
        if t not in rows:
            rows[t] = TypeRow(t, {s: 0 for s in (*J.STATES, STUCK)})
        return rows[t]

    for t, status, n in conn.execute(text("SELECT type, status, n FROM job_type_counts WHERE n > 0")):
        if status in J.STATES:
            row(t).counts[status] = n
    for t, n in conn.execute(text(f"SELECT coalesce(type, ''), count(*) FROM jobs WHERE {STUCK_WHERE} GROUP BY 1"),
                             {"lease": DEFAULT_LEASE_MS, "now": now_ms, "min_lease": MIN_LEASE_MS}):
        row(t).counts[STUCK] = n
    for r in list(rows.values()):
        oldest = None
        for status in J.RUNNABLE:
            if not r.counts.get(status):
                continue
            # One index probe each: the smallest next run of this (type, status); due if it is in the past.
            first = conn.execute(text("SELECT min(next_run_at) FROM jobs WHERE type = :t AND status = :s "
                                      "AND next_run_at IS NOT NULL"), {"t": r.type, "s": status}).scalar()
            if first is not None and first <= now_ms and (oldest is None or first < oldest):
                oldest = first
        r.oldest_waiting_ms = None if oldest is None else now_ms - oldest
    minute = now_ms // 60_000
    hour_from, day_from = minute - 59, minute - 24 * 60 + 1
    for t, status, n in conn.execute(text("SELECT type, status, sum(n) FROM job_events WHERE minute >= :d "
                                          "AND status IN ('succeeded', 'dead') GROUP BY 1, 2"), {"d": day_from}):
        r = row(t)
        if status == J.SUCCEEDED:
            r.succeeded_24h = n
        else:
            r.dead_24h = n
    for m, t, status, n in conn.execute(text("SELECT minute, type, status, n FROM job_events WHERE minute >= :h"),
                                        {"h": hour_from}):
        r = row(t)
        if not r.per_minute:
            r.per_minute = [(0, 0)] * 60
        ok, bad = r.per_minute[m - hour_from]
        if status == J.SUCCEEDED:
            r.succeeded_hour += n
            r.per_minute[m - hour_from] = (ok + n, bad)
        else:
            r.failed_hour += n
            r.per_minute[m - hour_from] = (ok, bad + n)
    return sorted(rows.values(), key=lambda r: r.type)
