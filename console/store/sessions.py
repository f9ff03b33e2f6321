"""Ending sessions in the demo, on the local replica (Qt-free): the rules of the contract's
`console:endSession` / `console:endUserSessions` (console/domain/sessions.py, roles.py), the same refusals,
one audit entry on the user per call."""

from __future__ import annotations

import json
import time

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from console.changes import ChangeSet
from console.convex.ids import IdMinter
from console.store.numbers import TABLE_NUMBERS
from console.domain import roles as R
from console.domain import sessions as S
from console.store.ingest import upsert_documents
from console.store.jobstore import Refused, immediate
from console.store.mapping import BY_SOURCE

SESSIONS = BY_SOURCE[("", "sessions")]
AUDIT = BY_SOURCE[("", "auditLogs")]


class LocalSessionStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._ids = IdMinter()
        self.changes = ChangeSet()  # what the last operation wrote: the sessions ended and its audit entry

    @staticmethod
    def _docs(conn: Connection, sql: str, params: dict) -> list[tuple[dict, int]]:
        return [(json.loads(r[0]), int(r[1] or 0)) for r in conn.execute(text(sql), params)]

    def _actor(self, conn: Connection, actor_id: str | None) -> dict:
        found = self._docs(conn, "SELECT doc, ts FROM users WHERE id = :id", {"id": actor_id}) if actor_id else []
        if not found:
            raise Refused("No operator identity: choose who is operating in Settings.")
        actor = found[0][0]
        if not actor.get("isActive", True):
            raise Refused("The operator's own account is deactivated.")
        refusal = R.check_permission(actor, S.PERMISSION, S.WHAT)
        if refusal:
            raise Refused(refusal)
        return actor

    def _write(self, conn: Connection, actor: dict, sessions: list[tuple[dict, int]], now_ms: int, action: str,
               user_id: str, changes: dict, reason: str) -> None:
        upsert_documents(conn, SESSIONS, [{**S.end(doc, now_ms), "_ts": max(time.time_ns(), ts + 1)}
                                          for doc, ts in sessions])
        audit_id = self._ids.new(TABLE_NUMBERS["auditLogs"])
        self.changes = ChangeSet({SESSIONS.sql_table: [doc["_id"] for doc, _ts in sessions],
                                  AUDIT.sql_table: [audit_id]})
        upsert_documents(conn, AUDIT, [{
            "_id": audit_id, "_creationTime": now_ms + 0.5, "_ts": time.time_ns(),
            "actorUserId": actor["_id"], "action": action, "resource": "users", "resourceId": user_id,
            "timestamp": now_ms, "changes": changes, "reason": reason}])

    def end_session(self, session_id: str, actor_id: str | None, reason: str) -> dict:
        now = int(time.time() * 1000)
        with immediate(self.engine) as conn:
            actor = self._actor(conn, actor_id)
            found = self._docs(conn, "SELECT doc, ts FROM sessions WHERE id = :id", {"id": session_id})
            if not found:
                raise Refused(f"No session with id {session_id}.")
            for refusal in (R.check_reason(reason), S.check_end_session(found[0][0], now)):
                if refusal:
                    raise Refused(refusal)
            user_id = found[0][0].get("userId") or ""
            self._write(conn, actor, found, now, "session.end", user_id,
                        {"sessions": [session_id], "isActive": {"before": True, "after": False}}, reason)
            return {"sessionId": session_id, "userId": user_id, "ended": 1}

    def end_user_sessions(self, user_id: str, actor_id: str | None, reason: str) -> dict:
        now = int(time.time() * 1000)
        with immediate(self.engine) as conn:
            actor = self._actor(conn, actor_id)
            if conn.execute(text("SELECT 1 FROM users WHERE id = :id"), {"id": user_id}).first() is None:
                raise Refused(f"No user with id {user_id}.")
            # by_user_active narrows to the sessions still marked active; expiry is checked on each.
            live = sorted((d for d in self._docs(conn, "SELECT doc, ts FROM sessions WHERE user_id = :u AND active",
                                                 {"u": user_id}) if S.is_live(d[0], now)), key=lambda d: d[0]["_id"])
            for refusal in (R.check_reason(reason), S.check_end_user_sessions(len(live))):
                if refusal:
                    raise Refused(refusal)
            ids = [d["_id"] for d, _ts in live]
            self._write(conn, actor, live, now, "user.end_sessions", user_id, {"sessions": ids, "ended": len(ids)},
                        reason)
            return {"userId": user_id, "ended": len(ids), "sessionIds": ids}
