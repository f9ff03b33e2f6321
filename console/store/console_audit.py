"""The local audit of the console's own actions on a deployment (function runs): who, what, where, outcome.

Local only (a deployment never sees this table); the product's own audit log is `auditLogs`. Qt-free.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class ActionRow:
    pk: int
    at: float
    deployment: str
    actor: str
    action: str
    target: str
    args: str
    outcome: str
    detail: str


def record(conn: Connection, *, deployment: str, actor: str, action: str, target: str, args: Any,
           outcome: str, detail: str = "", at: float | None = None, reason: str = "") -> int:
    """One action of the console. A `reason` is kept beside the arguments: {"args": ..., "reason": ...}."""
    if reason:
        args = {"args": args, "reason": reason}
    result = conn.execute(text(
        "INSERT INTO console_actions (at, deployment, actor, action, target, args, outcome, detail) "
        "VALUES (:at, :d, :actor, :action, :target, :args, :outcome, :detail)"),
        {"at": at if at is not None else time.time(), "d": deployment, "actor": actor, "action": action,
         "target": target, "args": json.dumps(args, ensure_ascii=False, default=str), "outcome": outcome,
         "detail": detail[:4000]})
    return int(result.lastrowid or 0)


def reason_of(row: "ActionRow") -> str:
    """The reason an action was taken, when it was given (function runs, bulk replays)."""
    try:
        value = json.loads(row.args or "{}")
    except ValueError:
        return ""
    return str(value.get("reason") or "") if isinstance(value, dict) else ""


def recent(conn: Connection, limit: int = 100) -> list[ActionRow]:
    rows = conn.execute(text("SELECT pk, at, deployment, actor, action, target, args, outcome, detail "
                             "FROM console_actions ORDER BY pk DESC LIMIT :n"), {"n": limit}).all()
    return [ActionRow(*r) for r in rows]
