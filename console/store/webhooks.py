"""Webhook delivery queries, verdicts and replay attempts (Qt-free)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from console.changes import ChangeSet
from console.store import console_audit


@dataclass(frozen=True)
class DeliveryQuery:
    provider: str | None = None
    verdict: str | None = None  # "valid" | "invalid" | a reason code
    received_from: int | None = None
    received_to: int | None = None
    text: str = ""
    user_id: str | None = None  # the deliveries about one user (see user_links)


# How far back a user filter reads delivery bodies for the user's identifiers (the job link is indexed).
USER_BODY_SCAN = 50_000


def user_links(conn: Connection, user_id: str) -> list[str]:
    """What in a delivery body names this user: their Stripe customer id (Stripe events), phone number as
    Twilio posts it (`From=%2B1...`), email and external id (Clerk/Svix events). Short values are left out."""
    import urllib.parse

    row = conn.execute(text("SELECT email, phone, external_id FROM users WHERE id = :u"), {"u": user_id}).first()
    if row is None:
        return []
    found = [row[0], row[2]]
    if row[1]:
        found += [row[1], urllib.parse.quote_plus(row[1])]
    found += [r[0] for r in conn.execute(text("SELECT stripe_customer_id FROM billing_accounts WHERE user_id = :u"),
                                         {"u": user_id})]
    return sorted({v for v in found if isinstance(v, str) and len(v) >= 6})


def _user_filter(conn: Connection, user_id: str, p: dict[str, Any]) -> str:
    """Deliveries whose job is about the user (jobs.user_id, indexed), or, among the newest USER_BODY_SCAN,
    whose body names one of the user's identifiers."""
    p["user_id"] = user_id
    cand = ("SELECT d2.pk FROM jobs j CROSS JOIN webhook_deliveries d2 ON d2.id = j.delivery_id "
            "WHERE j.user_id = :user_id")
    needles = user_links(conn, user_id)
    if needles:
        tests = " OR ".join(f"instr(CAST(body AS TEXT), :n{i})" for i in range(len(needles)))
        p.update({f"n{i}": n for i, n in enumerate(needles)})
        p["body_scan"] = USER_BODY_SCAN
        cand += (f" UNION SELECT pk FROM (SELECT pk, body FROM webhook_deliveries ORDER BY received_at DESC "
                 f"LIMIT :body_scan) WHERE {tests}")
    return f"d.pk IN ({cand})"


@dataclass(frozen=True)
class DeliveryRow:
    pk: int
    id: str
    provider: str
    event_type: str
    provider_event_id: str
    received_at: int
    endpoint: str
    valid: bool | None
    reason: str
    summary: str
    replays: int
    job_id: str | None
    sort_value: Any


@dataclass
class DeliveryPage:
    rows: list[DeliveryRow]
    has_more: bool

    @property
    def cursor(self) -> tuple[Any, int] | None:
        return (self.rows[-1].sort_value, self.rows[-1].pk) if self.rows else None


def _where(conn: Connection, q: DeliveryQuery) -> tuple[list[str], dict[str, Any]]:
    where: list[str] = []
    p: dict[str, Any] = {}
    if q.provider:
        where.append("d.provider = :provider")
        p["provider"] = q.provider
    if q.verdict == "valid":
        where.append("v.valid = 1")
    elif q.verdict == "invalid":
        where.append("v.valid = 0")
    elif q.verdict:
        where.append("v.reason = :reason")
        p["reason"] = q.verdict
    if q.received_from is not None:
        where.append("d.received_at >= :rfrom")
        p["rfrom"] = q.received_from
    if q.received_to is not None:
        where.append("d.received_at < :rto")
        p["rto"] = q.received_to
    if q.text.strip():
        where.append("(instr(lower(coalesce(d.event_type,'')), :t) OR instr(lower(coalesce(d.provider_event_id,'')), :t)"
                     " OR instr(lower(coalesce(d.endpoint,'')), :t) OR instr(lower(CAST(d.body AS TEXT)), :t))")
        p["t"] = q.text.strip().lower()
    if q.user_id:
        where.append(_user_filter(conn, q.user_id, p))
    return where, p


def count(conn: Connection, q: DeliveryQuery) -> int:
    """Exactly how many deliveries match (bulk replay shows this before anything is sent)."""
    where, p = _where(conn, q)
    return int(conn.execute(text(
        "SELECT count(*) FROM webhook_deliveries d LEFT JOIN delivery_verdicts v ON v.delivery_id = d.id"
        + (" WHERE " + " AND ".join(where) if where else "")), p).scalar() or 0)


def matching_ids(conn: Connection, q: DeliveryQuery, limit: int) -> list[str]:
    """The first `limit` matching deliveries, oldest first: a bulk replay sends them in the order they arrived."""
    where, p = _where(conn, q)
    return list(conn.execute(text(
        "SELECT d.id FROM webhook_deliveries d LEFT JOIN delivery_verdicts v ON v.delivery_id = d.id"
        + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY d.received_at, d.pk LIMIT :n"),
        {**p, "n": max(0, int(limit))}).scalars())


def search(conn: Connection, q: DeliveryQuery, *, after: tuple[Any, int] | None = None,
           limit: int = 200) -> DeliveryPage:
    where, p = _where(conn, q)
    p["limit"] = limit + 1
    if after is not None:
        where.append("(d.received_at, d.pk) < (:av, :apk)")
        p.update(av=after[0], apk=after[1])
    sql = ("SELECT d.pk, d.id, d.provider, d.event_type, d.provider_event_id, d.received_at, d.endpoint, v.valid, "
           "v.reason, v.summary, (SELECT count(*) FROM replay_attempts r WHERE r.delivery_id = d.id), d.job_id, "
           "d.received_at FROM webhook_deliveries d LEFT JOIN delivery_verdicts v ON v.delivery_id = d.id"
           + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY d.received_at DESC, d.pk DESC LIMIT :limit")
    raw = conn.execute(text(sql), p).fetchall()
    rows = [DeliveryRow(pk=r[0], id=r[1], provider=r[2] or "", event_type=r[3] or "", provider_event_id=r[4] or "",
                        received_at=r[5] or 0, endpoint=r[6] or "", valid=None if r[7] is None else bool(r[7]),
                        reason=r[8] or "", summary=r[9] or "", replays=r[10] or 0, job_id=r[11], sort_value=r[12])
            for r in raw[:limit]]
    return DeliveryPage(rows, len(raw) > limit)


@dataclass
class DeliveryDetail:
    row: dict[str, Any]
    headers: dict[str, str]
    body: bytes
    verdict: dict[str, Any] | None
    job: dict[str, Any] | None
    replays: list[dict[str, Any]]
    same_event: list[dict[str, Any]]  # other deliveries of the same provider event (retries, replays)


def detail(conn: Connection, delivery_id: str) -> DeliveryDetail | None:
    row = conn.execute(text("SELECT * FROM webhook_deliveries WHERE id = :id"), {"id": delivery_id}).mappings().first()
    if row is None:
        return None
    r = dict(row)
    try:
        headers = json.loads(r["headers"] or "{}")
    except ValueError:
        headers = {}
    verdict = conn.execute(text("SELECT * FROM delivery_verdicts WHERE delivery_id = :id"),
                           {"id": delivery_id}).mappings().first()
    job = None
    if r["job_id"]:
        j = conn.execute(text("SELECT id, type, status, key, attempts, max_attempts FROM jobs WHERE id = :id"),
                         {"id": r["job_id"]}).mappings().first()
        job = dict(j) if j else {"id": r["job_id"]}
    replays = [dict(x) for x in conn.execute(text(
        "SELECT * FROM replay_attempts WHERE delivery_id = :id ORDER BY at DESC LIMIT 50"), {"id": delivery_id}).mappings()]
    same = []
    if r["provider_event_id"]:
        same = [dict(x) for x in conn.execute(text(
            "SELECT id, received_at, endpoint, job_id FROM webhook_deliveries WHERE provider = :p "
            "AND provider_event_id = :e AND id != :id ORDER BY received_at LIMIT 20"),
            {"p": r["provider"], "e": r["provider_event_id"], "id": delivery_id}).mappings()]
    return DeliveryDetail(r, {str(k): str(v) for k, v in headers.items()}, bytes(r["body"] or b""),
                          dict(verdict) if verdict else None, job, replays, same)


def to_verify(conn: Connection, only: list[str] | None = None) -> list[tuple]:
    """(id, provider, endpoint, headers, body, received_at) of every delivery, or of `only`."""
    sql = "SELECT id, provider, endpoint, headers, body, received_at FROM webhook_deliveries"
    params: dict[str, Any] = {}
    if only is not None:
        if not only:
            return []
        sql += " WHERE id IN (" + ", ".join(f":i{n}" for n in range(len(only))) + ")"
        params = {f"i{n}": v for n, v in enumerate(only)}
    return [tuple(r) for r in conn.execute(text(sql), params).fetchall()]


def save_verdicts(conn: Connection, verdicts: list[tuple]) -> ChangeSet:
    """Store (delivery_id, valid, reason, summary, secret_label, checked_at) rows."""
    if verdicts:
        conn.exec_driver_sql(
            "INSERT INTO delivery_verdicts (delivery_id, valid, reason, summary, secret_label, checked_at) "
            "VALUES (?,?,?,?,?,?) ON CONFLICT(delivery_id) DO UPDATE SET valid=excluded.valid, "
            "reason=excluded.reason, summary=excluded.summary, secret_label=excluded.secret_label, "
            "checked_at=excluded.checked_at", verdicts)
    return ChangeSet({"delivery_verdicts": [v[0] for v in verdicts]}) if verdicts else ChangeSet()


def unverified(conn: Connection) -> list[str]:
    return list(conn.execute(text("SELECT d.id FROM webhook_deliveries d LEFT JOIN delivery_verdicts v "
                             "ON v.delivery_id = d.id WHERE v.delivery_id IS NULL")).scalars().all())


def record_replay(engine: Engine, delivery_id: str, target: str, mode: str, status: int | None,
                  latency_ms: float | None, excerpt: str, error: str, *, actor: str = "", deployment: str = "",
                  reason: str = "", batch: str = "") -> ChangeSet:
    """The attempt, and the audit entry of the console's own actions (who replayed what, where, why, outcome),
    in one transaction: a replay is never sent unaudited-and-recorded or recorded-and-unaudited. Returns what
    it wrote (the delivery's row shows the count, so it changed too)."""
    now = time.time()
    with engine.begin() as conn:
        cursor = conn.execute(text("INSERT INTO replay_attempts (delivery_id, at, target, mode, status, latency_ms, "
                          "response_excerpt, error) VALUES (:d, :at, :t, :m, :s, :l, :x, :e)"),
                     {"d": delivery_id, "at": now, "t": target, "m": mode, "s": status, "l": latency_ms,
                      "x": excerpt[:500], "e": error[:500]})
        args = {"mode": mode, "url": target, "reason": reason}
        if batch:
            args["batch"] = batch
        console_audit.record(conn, deployment=deployment, actor=actor, action="webhooks:replay", target=delivery_id,
                             args=args, outcome=f"HTTP {status}" if status is not None else "not sent",
                             detail=error or excerpt[:200], at=now)
    return ChangeSet({"replay_attempts": [str(cursor.lastrowid)], "webhook_deliveries": [delivery_id]})


def verdict_counts(conn: Connection) -> dict[str, int]:
    return {str(r[0]): r[1] for r in conn.execute(text(
        "SELECT CASE WHEN v.valid THEN 'valid' WHEN v.valid = 0 THEN v.reason ELSE 'unchecked' END, count(*) "
        "FROM webhook_deliveries d LEFT JOIN delivery_verdicts v ON v.delivery_id = d.id GROUP BY 1"))}
