"""Row counts for the status bar, read from `table_counts` (kept by triggers, see derived.py)."""

from __future__ import annotations

from sqlalchemy import Engine, text

from console.store.derived import COUNTED_TABLES


def row_counts(engine: Engine) -> dict[str, int]:
    """users, chats, messages, jobs and webhook_deliveries -> rows; one read of a five-row table."""
    with engine.connect() as conn:
        found: dict[str, int] = dict(conn.execute(text("SELECT name, n FROM table_counts")).all())
    return {t: int(found.get(t) or 0) for t in COUNTED_TABLES}
