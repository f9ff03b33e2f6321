"""Error groups (Sidekiq's Undertaker, Hookdeck's Issues): failed and dead jobs grouped by the fingerprint of
their last error (console/domain/fingerprint.py, stored in jobs.error_fp by every write).

One scan of the covering index by_status_fp (status, error_fp, type, updated_at) over the failed and dead
jobs gives every group's count, types, first and last seen and hourly counts; a sample error per shown group
is one index probe.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection

from console.domain.fingerprint import normalise
from console.store.jobs import FAILED

HOURS = 24  # the sparkline's span


@dataclass
class ErrorGroup:
    fingerprint: str
    count: int = 0
    dead: int = 0
    types: dict[str, int] = field(default_factory=dict)
    first_seen: int = 0  # ms, the oldest last change among the group's failed jobs
    last_seen: int = 0
    hourly: list[int] = field(default_factory=lambda: [0] * HOURS)  # last change per hour, oldest first
    sample: str = ""  # the newest job's last error, first line

    @property
    def title(self) -> str:
        return normalise(self.sample)


def error_groups(conn: Connection, now_ms: int | None = None, limit: int = 200) -> list[ErrorGroup]:
    """Groups, most jobs first (at most `limit`)."""
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    hour_now = now_ms // 3_600_000
    groups: dict[str, ErrorGroup] = {}
    marks = ", ".join(f"'{s}'" for s in FAILED)
    for fp, status, jtype, hour, n, first, last in conn.execute(text(
            f"SELECT error_fp, status, type, updated_at / 3600000, count(*), min(updated_at), max(updated_at) "
            f"FROM jobs WHERE status IN ({marks}) AND error_fp IS NOT NULL GROUP BY 1, 2, 3, 4")):
        g = groups.get(fp)
        if g is None:
            g = groups[fp] = ErrorGroup(fp, first_seen=first or 0, last_seen=last or 0)
        g.count += n
        if status == "dead":
            g.dead += n
        g.types[jtype or ""] = g.types.get(jtype or "", 0) + n
        g.first_seen = min(g.first_seen, first or 0)
        g.last_seen = max(g.last_seen, last or 0)
        age = hour_now - (hour or 0)
        if 0 <= age < HOURS:
            g.hourly[HOURS - 1 - age] += n
    shown = sorted(groups.values(), key=lambda g: (-g.count, g.fingerprint))[:limit]
    for g in shown:
        g.sample = (conn.execute(text(
            f"SELECT last_error FROM jobs WHERE status IN ({marks}) AND error_fp = :fp ORDER BY updated_at DESC "
            f"LIMIT 1"), {"fp": g.fingerprint}).scalar() or "").split("\n", 1)[0]
    return shown
