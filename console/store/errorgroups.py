"""Error groups (Sidekiq's Undertaker, Hookdeck's Issues): failed and dead jobs grouped by the fingerprint of
their last error (console/domain/fingerprint.py, stored in jobs.error_fp by every write).

Counts per group, type and state come from error_group_counts and the sparkline from error_events (failures
per hour), both kept by triggers; first and last seen (the oldest and newest last change among the group's
jobs) and a sample error are index probes of by_status_fp, for the groups shown only.
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
    hourly: list[int] = field(default_factory=lambda: [0] * HOURS)  # failures per hour, oldest first
    sample: str = ""  # the newest job's last error, first line

    @property
    def title(self) -> str:
        return normalise(self.sample)


def error_groups(conn: Connection, now_ms: int | None = None, limit: int = 200) -> list[ErrorGroup]:
    """Groups, most jobs first (at most `limit`)."""
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    groups: dict[str, ErrorGroup] = {}
    for fp, jtype, status, n in conn.execute(text("SELECT fp, type, status, n FROM error_group_counts WHERE n > 0")):
        g = groups.get(fp)
        if g is None:
            g = groups[fp] = ErrorGroup(fp)
        g.count += n
        if status == "dead":
            g.dead += n
        g.types[jtype] = g.types.get(jtype, 0) + n
    shown = sorted(groups.values(), key=lambda g: (-g.count, g.fingerprint))[:limit]
    by_fp = {g.fingerprint: g for g in shown}
    hour_now = now_ms // 3_600_000
    for hour, fp, n in conn.execute(text("SELECT hour, fp, n FROM error_events WHERE hour > :h"),
                                    {"h": hour_now - HOURS}):
        g = by_fp.get(fp)
        if g is not None and 0 <= hour_now - hour < HOURS:
            g.hourly[HOURS - 1 - (hour_now - hour)] += n
    for g in shown:
        firsts, lasts = [], []
        newest: tuple[int, str] | None = None
        for status in FAILED:
            p = {"s": status, "fp": g.fingerprint}
            first = conn.execute(text("SELECT min(updated_at) FROM jobs WHERE status = :s AND error_fp = :fp"), p).scalar()
            last = conn.execute(text("SELECT updated_at, last_error FROM jobs WHERE status = :s AND error_fp = :fp "
                                     "ORDER BY updated_at DESC LIMIT 1"), p).first()
            if first is not None:
                firsts.append(first)
            if last is not None:
                lasts.append(last[0] or 0)
                if newest is None or (last[0] or 0) > newest[0]:
                    newest = (last[0] or 0, last[1] or "")
        g.first_seen = min(firsts, default=0)
        g.last_seen = max(lasts, default=0)
        g.sample = (newest[1] if newest else "").split("\n", 1)[0]
    return shown
