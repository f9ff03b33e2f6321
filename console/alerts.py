"""Alert rules evaluated on the replica (Qt-free): the conditions operators page on in Sidekiq, Oban Web,
Hookdeck and Grafana, read from indexes so an evaluation costs a few small queries.

`evaluate` reads the current value of every rule; `AlertBook` turns readings into alerts: a rule that
crosses its threshold fires once (an `Alert`), stays firing while above it, and resolves when it drops back.
An acknowledged alert does not notify again until it has resolved and fired anew.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from console.store.jobs import DEFAULT_LEASE_MS, MIN_LEASE_MS, STUCK_WHERE

WORKER_CRON_S = 30  # the product's worker cron runs every 30 s: two minutes without a claim is four misses


@dataclass(frozen=True)
class Rule:
    key: str
    title: str
    panel: str  # where the matching items are listed
    unit: str
    default: float
    help: str


RULES: tuple[Rule, ...] = (
    Rule("stuck", "Stuck jobs", "jobs", "jobs", 0, "Running jobs past their lease: the worker died or hung."),
    Rule("dead_15m", "Dead jobs in the last 15 min", "jobs", "jobs", 3,
         "Jobs that used up their attempts in the last 15 minutes."),
    Rule("type_failure_15m", "Failure rate of a job type (15 min)", "jobs", "%", 40,
         "The share of a type's attempts that failed in the last 15 minutes (at least 5 finished)."),
    Rule("oldest_waiting", "Oldest waiting job", "jobs", "min", 2, "How long the longest-due job has waited."),
    Rule("signature_failures_1h", "Signature failures in the last hour", "webhooks", "deliveries", 5,
         "Deliveries received in the last hour that fail verification with the configured secrets."),
    Rule("worker_down", "Worker down", "jobs", "min", 2,
         "Jobs are due but no job was claimed or finished for this many minutes (the worker cron runs every 30 s)."),
)
BY_KEY = {r.key: r for r in RULES}
MIN_FINISHED = 5  # a type's failure rate counts once this many of its jobs finished an attempt in the window


@dataclass(frozen=True)
class Reading:
    rule: str
    value: float
    firing: bool
    detail: str  # what the value is made of, plain text
    target: dict = field(default_factory=dict)  # what the link opens: {"status": "dead"}, {"type": ...}, ...


def thresholds(overrides: dict[str, Any] | None = None) -> dict[str, float]:
    out = {r.key: float(r.default) for r in RULES}
    for k, v in (overrides or {}).items():
        try:
            if k in out:
                out[k] = float(v)
        except (TypeError, ValueError):
            pass  # a hand-edited setting that is not a number keeps the default
    return out


def evaluate(conn: Connection, now_ms: int | None = None, limits: dict[str, float] | None = None,
             watching_since_ms: int | None = None) -> list[Reading]:
    now = int(time.time() * 1000) if now_ms is None else int(now_ms)
    lim = thresholds(limits)
    out: list[Reading] = []

    stuck = conn.execute(text(f"SELECT count(*) FROM jobs WHERE {STUCK_WHERE}"),  # as the Jobs panel counts them
                         {"now": now, "min_lease": MIN_LEASE_MS, "lease": DEFAULT_LEASE_MS}).scalar() or 0
    out.append(Reading("stuck", stuck, stuck > lim["stuck"], f"{stuck} running past their lease",
                       {"status": "stuck"}))

    since = now - 15 * 60_000
    dead = conn.execute(text("SELECT count(*) FROM jobs WHERE status = 'dead' AND updated_at >= :s"),
                        {"s": since}).scalar() or 0
    out.append(Reading("dead_15m", dead, dead > lim["dead_15m"], f"{dead} jobs died since "
                       f"{time.strftime('%H:%M', time.localtime(since / 1000))}",
                       {"status": "dead", "sort": "updated"}))

    worst, worst_type, worst_n = 0.0, "", 0
    # Attempts, not jobs: job_events counts every attempt's outcome per minute (a trigger), as By type does.
    # Counting jobs by their current state hid a bad deploy: 58% of attempts failing read as 31%.
    for jtype, failed, finished in conn.execute(text(
            "SELECT type, sum(CASE WHEN status IN ('retrying', 'dead') THEN n ELSE 0 END), sum(n) FROM job_events "
            "WHERE minute >= :m GROUP BY type"), {"m": since // 60_000}):
        if finished >= MIN_FINISHED:
            rate = 100.0 * (failed or 0) / finished
            if rate > worst:
                worst, worst_type, worst_n = rate, jtype or "", finished
    out.append(Reading("type_failure_15m", round(worst, 1), worst > lim["type_failure_15m"],
                       f"{worst_type}: {worst:.0f}% of {worst_n} finished attempts failed" if worst_type else
                       "no type finished enough jobs", {"type": worst_type} if worst_type else {}))

    due = conn.execute(text("SELECT min(next_run_at) FROM jobs WHERE status IN ('pending', 'retrying') "
                            "AND next_run_at <= :now"), {"now": now}).scalar()
    waited = max(0.0, (now - int(due)) / 60_000) if due is not None else 0.0
    out.append(Reading("oldest_waiting", round(waited, 1), waited > lim["oldest_waiting"],
                       f"due for {waited:.1f} min" if due is not None else "nothing is due",
                       {"status": "pending"}))

    hour = now - 3_600_000
    bad = conn.execute(text(
        "SELECT count(*) FROM webhook_deliveries d JOIN delivery_verdicts v ON v.delivery_id = d.id "
        "WHERE d.received_at >= :s AND NOT v.valid AND v.reason != 'missing_secret'"), {"s": hour}).scalar() or 0
    out.append(Reading("signature_failures_1h", bad, bad > lim["signature_failures_1h"],
                       f"{bad} deliveries fail verification", {"verdict": "invalid", "received_s": 3600}))

    # Worker health: is anything overdue, and when did a worker last touch a job (claims set updatedAt;
    # success, failure and death do too; an operator's retry or cancel leaves pending/canceled, not these).
    overdue = conn.execute(text("SELECT count(*) FROM jobs WHERE status IN ('pending', 'retrying') "
                                "AND next_run_at <= :t"), {"t": now - WORKER_CRON_S * 1000}).scalar() or 0
    last = conn.execute(text("SELECT updated_at FROM jobs WHERE status IN ('running', 'succeeded', 'retrying', "
                             "'dead') ORDER BY updated_at DESC LIMIT 1")).scalar()
    idle = (now - int(last)) / 60_000 if last is not None else float("inf")
    # A replica opened after a pause looks idle for as long as it was closed: the worker is judged only on
    # what has been watched since (`watching_since_ms`), so it is "down" after that long without activity.
    watched = (now - watching_since_ms) / 60_000 if watching_since_ms is not None else float("inf")
    down = overdue > 0 and min(idle, watched) > lim["worker_down"]
    shown = round(idle, 1) if last is not None else 0.0
    out.append(Reading("worker_down", shown if overdue else 0.0, down,
                       (f"{overdue} jobs overdue; last worker activity {idle:.1f} min ago" if last is not None
                        else f"{overdue} jobs overdue; no worker activity recorded") if overdue else
                       "nothing overdue", {"status": "pending"}))
    return out


@dataclass
class Alert:
    rule: str
    fired_at: float  # unix seconds
    value: float
    detail: str
    target: dict
    resolved_at: float | None = None
    acknowledged: bool = False

    @property
    def title(self) -> str:
        return BY_KEY[self.rule].title

    @property
    def active(self) -> bool:
        return self.resolved_at is None


class AlertBook:
    """Alerts over time: one per firing episode of a rule, newest first, bounded."""

    def __init__(self, keep: int = 200) -> None:
        self.alerts: list[Alert] = []
        self.keep = keep

    def current(self, rule: str) -> Alert | None:
        return next((a for a in self.alerts if a.rule == rule and a.active), None)

    def update(self, readings: list[Reading], now: float | None = None) -> list[Alert]:
        """Apply a round of readings; returns the alerts that fired in this round (to notify about)."""
        now = time.time() if now is None else now
        fired: list[Alert] = []
        for r in readings:
            alert = self.current(r.rule)
            if r.firing and alert is None:
                alert = Alert(r.rule, now, r.value, r.detail, dict(r.target))
                self.alerts.insert(0, alert)
                fired.append(alert)
            elif r.firing and alert is not None:
                alert.value, alert.detail, alert.target = r.value, r.detail, dict(r.target)
            elif not r.firing and alert is not None:
                alert.resolved_at = now
        del self.alerts[self.keep:]
        return fired

    def acknowledge(self, alert: Alert) -> None:
        alert.acknowledged = True

    def firing(self, panel: str | None = None) -> list[Alert]:
        return [a for a in self.alerts if a.active and (panel is None or BY_KEY[a.rule].panel == panel)]

    def unacknowledged(self, panel: str | None = None) -> list[Alert]:
        return [a for a in self.firing(panel) if not a.acknowledged]
