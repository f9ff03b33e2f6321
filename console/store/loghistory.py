"""The local function-log history: entries of the deployment's log stream kept in the replica, bounded.

The stream itself keeps only a short window; the console keeps the newest `CAP` entries so logs survive a
restart, and remembers the stream cursor so a restart resumes where it stopped (nothing twice: a unique
index on execution, kind and time). Qt-free.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from console.functionlogs import LogEntry
from console.store.db import get_meta, set_meta

CAP = 50_000
CURSOR_KEY = "function_log_cursor"
OUTCOMES = ("success", "failure", "progress")


@dataclass(frozen=True)
class LogQuery:
    function: str = ""  # exact function identifier, or "" for all
    outcome: str = ""  # success | failure | progress | "" for all
    request_id: str = ""
    text: str = ""  # in the error or the log lines
    until: float | None = None  # only entries at or before this unix time ("around" a moment)


@dataclass(frozen=True)
class LogRow:
    pk: int
    at: float
    kind: str
    udf_type: str
    identifier: str
    component_path: str
    request_id: str
    execution_id: str
    outcome: str
    error: str
    lines: tuple[str, ...]
    execution_ms: float | None
    cached: bool

    @property
    def id(self) -> int:  # PagedTableModel keys rows by `id`
        return self.pk

    @property
    def function(self) -> str:
        return f"{self.component_path}/{self.identifier}" if self.component_path else self.identifier


@dataclass
class LogPage:
    rows: list[LogRow]
    has_more: bool
    cursor: Any


def add(conn: Connection, entries: list[LogEntry], cap: int = CAP) -> int:
    """Store entries (duplicates ignored) and drop the oldest beyond `cap`. Returns how many were new."""
    if not entries:
        return 0
    rows = [(e.at, e.kind, e.udf_type, e.identifier, e.component_path, e.request_id, e.execution_id, e.outcome,
             e.error, json.dumps(list(e.lines), ensure_ascii=False), e.execution_ms, e.cached,
             json.dumps(e.raw, ensure_ascii=False, default=str)) for e in entries]
    # New rows are those past the highest key (total_changes() would count the rollup trigger's writes too).
    before = conn.execute(text("SELECT coalesce(max(pk), 0) FROM function_logs")).scalar() or 0
    conn.exec_driver_sql(
        "INSERT OR IGNORE INTO function_logs (at, kind, udf_type, identifier, component_path, request_id, "
        "execution_id, outcome, error, lines, execution_ms, cached, raw) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    added = conn.execute(text("SELECT count(*) FROM function_logs WHERE pk > :b"), {"b": before}).scalar() or 0
    prune(conn, cap)
    return int(added)


def prune(conn: Connection, cap: int = CAP) -> None:
    edge = conn.execute(text("SELECT pk FROM function_logs ORDER BY pk DESC LIMIT 1 OFFSET :n"), {"n": cap}).scalar()
    if edge is not None:
        conn.execute(text("DELETE FROM function_logs WHERE pk <= :edge"), {"edge": edge})


def cursor(conn: Connection) -> float:
    value = get_meta(conn, CURSOR_KEY)
    try:
        return float(value) if value else 0.0
    except ValueError:
        return 0.0


def save_cursor(conn: Connection, value: float) -> None:
    set_meta(conn, CURSOR_KEY, repr(float(value)))


def _row(r: Any) -> LogRow:
    try:
        lines = tuple(str(x) for x in json.loads(r.lines or "[]"))
    except ValueError:
        lines = (r.lines,)
    return LogRow(r.pk, r.at, r.kind, r.udf_type, r.identifier, r.component_path, r.request_id, r.execution_id,
                  r.outcome, r.error, lines, r.execution_ms, bool(r.cached))


def _where(q: LogQuery) -> tuple[list[str], dict[str, Any]]:
    where: list[str] = ["1=1"]
    params: dict[str, Any] = {}
    if q.function:
        where.append("identifier = :fn")
        params["fn"] = q.function
    if q.outcome:
        where.append("outcome = :outcome")
        params["outcome"] = q.outcome
    if q.request_id.strip():
        where.append("request_id = :rid")
        params["rid"] = q.request_id.strip()
    if q.text.strip():
        where.append("(instr(lower(error), :t) > 0 OR instr(lower(lines), :t) > 0)")
        params["t"] = q.text.strip().lower()
    if q.until is not None:
        where.append("at <= :until")
        params["until"] = q.until
    return where, params


def search(conn: Connection, q: LogQuery, after: tuple[float, int] | None = None, limit: int = 200,
           newer_than: int | None = None) -> LogPage:
    """Newest first by the entry's time, then by arrival (an action that ran a minute arrives after quicker
    calls that started later: in arrival order it stood above them). Keyset `after`: the (time, pk) of the
    last row shown. `newer_than` keeps only entries that arrived after that pk (the live tail)."""
    where, params = _where(q)
    params["limit"] = limit + 1
    if after is not None:
        where.append("(at < :after_at OR (at = :after_at AND pk < :after_pk))")
        params["after_at"], params["after_pk"] = float(after[0]), int(after[1])
    if newer_than is not None:
        where.append("pk > :newer")
        params["newer"] = newer_than
    rows = conn.execute(text(
        "SELECT pk, at, kind, udf_type, identifier, component_path, request_id, execution_id, outcome, error, lines, "
        f"execution_ms, cached FROM function_logs WHERE {' AND '.join(where)} ORDER BY at DESC, pk DESC LIMIT :limit"),
        params).all()
    more = len(rows) > limit
    out = [_row(r) for r in rows[:limit]]
    return LogPage(out, more, (out[-1].at, out[-1].pk) if out else None)


def since(conn: Connection, q: LogQuery, newer_than: int, limit: int = 500) -> list[LogRow]:
    """Entries that arrived after pk `newer_than` and match, newest first by time (the live tail)."""
    return search(conn, q, limit=limit, newer_than=newer_than).rows


def functions(conn: Connection) -> list[str]:
    return list(conn.execute(text("SELECT DISTINCT identifier FROM function_logs ORDER BY identifier")).scalars())


def newest_pk(conn: Connection) -> int:
    return int(conn.execute(text("SELECT coalesce(max(pk), 0) FROM function_logs")).scalar() or 0)


def count(conn: Connection) -> int:
    return int(conn.execute(text("SELECT count(*) FROM function_logs")).scalar() or 0)


def count_matching(conn: Connection, q: LogQuery, cap: int = 100_000, up_to_pk: int | None = None) -> int:
    """How many entries match, counting at most `cap + 1` (the panel says "more than" past the cap); with
    `up_to_pk`, only those that had arrived by then (the list's newest), so the live tail is not counted twice."""
    where, params = _where(q)
    if up_to_pk is not None:
        where.append("pk <= :up_to")
        params["up_to"] = up_to_pk
    return int(conn.execute(text(
        f"SELECT count(*) FROM (SELECT 1 FROM function_logs WHERE {' AND '.join(where)} LIMIT :cap)"),
        {**params, "cap": cap + 1}).scalar() or 0)
