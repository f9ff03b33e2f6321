"""Logs: the deployment's function log stream, tailed into a bounded local history, filtered and paused."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from console.ui.panel import Hit, PanelSpec


def find_request(conn: Connection, typed: str) -> list[Hit]:
    """Ctrl+K: a request id shows its log entries."""
    typed = typed.strip()
    if len(typed) < 8 or " " in typed:
        return []
    n = conn.execute(text("SELECT count(*) FROM function_logs WHERE request_id = :r"), {"r": typed}).scalar()
    if not n:
        return []
    return [Hit(title=f"Request {typed}", subtitle=f"{n} log entr{'y' if n == 1 else 'ies'}", panel="logs", target=typed, kind="Request")]


def _make(ctx):
    from console.ui.panels.logs.panel import LogsPanel

    return LogsPanel(ctx)


SPEC = PanelSpec(key="logs", title="Logs", icon="logs", factory=_make, finder=find_request)
