"""One user's history in time order (Qt-free): sessions, security events, audit entries about them or by them,
jobs, webhook deliveries, chat messages and organization invitations to their email.

Each source is read through its own index, newest first, at most `limit` rows before `before`; the merge keeps
the newest `limit`. So a long history costs a page, not the whole history, and the next page starts before the
oldest event shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from console.store.webhooks import DeliveryQuery, search as search_deliveries

KINDS = ("session", "security", "audit", "job", "delivery", "message", "invitation")
LABELS = {"session": "Sessions", "security": "Security", "audit": "Audit", "job": "Jobs",
          "delivery": "Webhooks", "message": "Messages", "invitation": "Invitations"}
_FAR = 2**62


@dataclass(frozen=True)
class Event:
    at: int  # ms
    kind: str
    title: str
    detail: str = ""
    panel: str | None = None  # where the event opens (ctx.navigate), if anywhere
    target: Any = None


def _rows(conn: Connection, sql: str, **params: Any) -> list[Any]:
    return list(conn.execute(text(sql), params).mappings().all())


def _short(value: Any, n: int = 160) -> str:
    s = "" if value is None else str(value)
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


def _doc(value: str | None) -> dict:
    try:
        out = json.loads(value or "{}")
    except ValueError:
        return {}
    return out if isinstance(out, dict) else {}


def _sessions(conn: Connection, uid: str, before: int, limit: int) -> list[Event]:
    out = []
    for r in _rows(conn, "SELECT id, token_hint, ip, user_agent, created_at, active, doc FROM sessions "
                         "WHERE user_id = :u AND coalesce(created_at, 0) < :b ORDER BY created_at DESC LIMIT :l",
                   u=uid, b=before, l=limit):
        where = " · ".join(x for x in (r["ip"], _short(r["user_agent"], 60)) if x)
        out.append(Event(r["created_at"] or 0, "session", f"Session started ({r['token_hint'] or '…'})", where))
        ended = _doc(r["doc"]).get("endedAt")
        if isinstance(ended, (int, float)) and not isinstance(ended, bool) and ended < before:
            out.append(Event(int(ended), "session", f"Session ended ({r['token_hint'] or '…'})", where))
    return out


def _security(conn: Connection, uid: str, before: int, limit: int) -> list[Event]:
    return [Event(r["occurred_at"] or 0, "security", f"{r['type'] or 'event'} ({r['severity'] or '?'})",
                  " · ".join(x for x in (r["ip"], _short(r["details"], 100)) if x))
            for r in _rows(conn, "SELECT type, severity, ip, occurred_at, details FROM security_events "
                                 "WHERE user_id = :u AND occurred_at < :b ORDER BY occurred_at DESC LIMIT :l",
                           u=uid, b=before, l=limit)]


def _audit(conn: Connection, uid: str, before: int, limit: int) -> list[Event]:
    about = _rows(conn, "SELECT a.id, a.action, a.at, a.changes, a.reason, a.actor_user_id, actor.name AS who "
                        "FROM audit_logs a LEFT JOIN users actor ON actor.id = a.actor_user_id "
                        "WHERE a.resource = 'users' AND a.resource_id = :u AND a.at < :b ORDER BY a.at DESC LIMIT :l",
                  u=uid, b=before, l=limit)
    by = _rows(conn, "SELECT id, action, at, changes, reason, resource, resource_id FROM audit_logs "
                     "WHERE actor_user_id = :u AND at < :b ORDER BY at DESC LIMIT :l", u=uid, b=before, l=limit)
    out = [Event(r["at"] or 0, "audit", f"{r['action']} by {r['who'] or r['actor_user_id']}",
                 _short(f"{r['changes']} · reason: {r['reason'] or ''}")) for r in about]
    seen = {r["id"] for r in about}
    out += [Event(r["at"] or 0, "audit", f"Did {r['action']} on {r['resource']} {r['resource_id']}",
                  _short(f"{r['changes']} · reason: {r['reason'] or ''}")) for r in by if r["id"] not in seen]
    return out


def _jobs(conn: Connection, uid: str, before: int, limit: int) -> list[Event]:
    return [Event(r["created_at"] or 0, "job", f"Job {r['type']} — {r['status']}",
                  _short(r["last_error"]) or f"{r['attempts']} attempt(s)", "jobs", r["id"])
            for r in _rows(conn, "SELECT id, type, status, attempts, last_error, created_at FROM jobs "
                                 "WHERE user_id = :u AND created_at < :b ORDER BY created_at DESC LIMIT :l",
                           u=uid, b=before, l=limit)]


def _deliveries(conn: Connection, uid: str, before: int, limit: int) -> list[Event]:
    page = search_deliveries(conn, DeliveryQuery(user_id=uid, received_to=before), limit=limit)
    return [Event(r.received_at, "delivery", f"Webhook {r.provider} {r.event_type}".strip(),
                  (r.summary or r.provider_event_id) + ("" if r.valid is None else " · valid" if r.valid
                                                        else f" · {r.reason or 'invalid'}"),
                  "webhooks", r.id) for r in page.rows]


def _messages(conn: Connection, uid: str, before: int, limit: int) -> list[Event]:
    return [Event(r["created_at"] or 0, "message", f"{r['role'] or 'message'} in “{_short(r['title'], 40)}”",
                  _short(r["body"]), "chats", r["chat_id"])
            for r in _rows(conn, "SELECT m.chat_id, m.role, m.body, m.created_at, c.title FROM chats c "
                                 "CROSS JOIN messages m ON m.chat_id = c.id WHERE c.user_id = :u AND m.created_at < :b "
                                 "ORDER BY m.created_at DESC LIMIT :l", u=uid, b=before, l=limit)]


def _invitations(conn: Connection, uid: str, before: int, limit: int) -> list[Event]:
    email = conn.execute(text("SELECT email FROM users WHERE id = :u"), {"u": uid}).scalar()
    if not email:
        return []
    return [Event(int(r["creation_time"] or 0), "invitation",
                  f"Invited to {r['org'] or r['organization_id']} as {r['role'] or '?'} ({r['status'] or '?'})",
                  f"by {r['inviter'] or r['inviter_id'] or '?'}")
            for r in _rows(conn, "SELECT i.creation_time, i.role, i.status, i.organization_id, i.inviter_id, "
                                 "o.name AS org, inviter.name AS inviter FROM invitations i "
                                 "LEFT JOIN organizations o ON o.id = i.organization_id "
                                 "LEFT JOIN users inviter ON inviter.id = i.inviter_id "
                                 "WHERE i.email = :e AND i.creation_time < :b ORDER BY i.creation_time DESC LIMIT :l",
                           e=email, b=before, l=limit)]


SOURCES = {"session": _sessions, "security": _security, "audit": _audit, "job": _jobs, "delivery": _deliveries,
           "message": _messages, "invitation": _invitations}


def timeline(conn: Connection, user_id: str, kinds: set[str] | None = None, *, before: int | None = None,
             limit: int = 300) -> list[Event]:
    """The newest `limit` events of the user before `before` (ms), newest first, of the chosen kinds."""
    b = _FAR if before is None else before
    events: list[Event] = []
    for kind, source in SOURCES.items():
        if kinds is None or kind in kinds:
            events += source(conn, user_id, b, limit)
    events.sort(key=lambda e: (e.at, KINDS.index(e.kind)), reverse=True)
    return events[:limit]
