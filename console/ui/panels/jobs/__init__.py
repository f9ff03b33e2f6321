"""Jobs panel: operators monitor the outbox job store, inspect failures, retry and cancel."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from console.ui.panel import Hit, PanelSpec


def find_jobs(conn: Connection, typed: str) -> list[Hit]:
    """A job by exact id or idempotency key (MessageSid, Stripe event id, svix id...)."""
    typed = typed.strip()
    if len(typed) < 4:
        return []
    rows = conn.execute(text("SELECT id, key, type, status FROM jobs WHERE id = :v OR key = :v LIMIT 5"),
                        {"v": typed}).all()
    if not rows and 6 <= len(typed) < 32 and typed.isalnum():
        # The table shows an id's last 10 characters: find the job by that too (a scan, off the GUI thread).
        rows = conn.execute(text("SELECT id, key, type, status FROM jobs WHERE substr(id, -:n) = :v LIMIT 5"),
                            {"v": typed.lower(), "n": len(typed)}).all()
    return [Hit(title=f"{r.type} job · {r.status}", subtitle=f"key {r.key} · id {r.id}", panel="jobs", target=r.id,
                kind="Job") for r in rows]


def _make(ctx):
    from console.ui.panels.jobs.panel import JobsPanel

    return JobsPanel(ctx)


SPEC = PanelSpec(key="jobs", title="Jobs", icon="jobs", factory=_make, finder=find_jobs)
