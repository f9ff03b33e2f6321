"""The jobs list: keyset pages of 200 over the job store, sorted only where an index serves the sort."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt
from sqlalchemy.engine import Connection

from console.store.jobs import JobQuery, JobRow, search
from console.ui.context import AppContext
from console.ui.format import age, local_time
from console.ui.paging import PagedTableModel
from console.ui.plain import tip
from console.ui.panels.jobs.detail import STATUS_COLOUR

# Triage first: what state, what went wrong, what kind; the long idempotency key last.
COLUMNS = ["ID", "Status", "Last error", "Type", "Attempts", "Next run", "Updated", "Created", "Claimed by", "Claimed",
           "Key"]
ID, STATUS, LAST_ERROR, TYPE, ATTEMPTS, NEXT_RUN, UPDATED, CREATED, CLAIMED_BY, CLAIMED, KEY = range(len(COLUMNS))
SORTABLE = {CREATED: "created", UPDATED: "updated", NEXT_RUN: "next_run"}
WIDTHS = [90, 84, 260, 150, 70, 80, 75, 140, 95, 75, 170]


class JobsModel(PagedTableModel):
    COLUMNS = COLUMNS
    SORTABLE = SORTABLE

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx, JobQuery())
        self.now_ms = int(time.time() * 1000)

    def fetch(self, conn: Connection, query: JobQuery, after: Any, limit: int) -> Any:
        return search(conn, query, after=after, limit=limit)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return {CREATED: "Sort: newest first", UPDATED: "Sort: most recently changed first",
                    NEXT_RUN: "Sort: next to run first (waiting jobs)"}.get(section, "Not sortable (no index)")
        return super().headerData(section, orientation, role)

    def display(self, j: JobRow, col: int, role: int) -> Any:
        stuck = j.stuck(self.now_ms)
        if role == Qt.ItemDataRole.DisplayRole:
            if col == ID:
                return j.id[-10:]
            if col == TYPE:
                return j.type
            if col == KEY:
                return j.key
            if col == STATUS:
                return "STUCK" if stuck else j.status
            if col == ATTEMPTS:
                return f"{j.budget_used}/{j.max_attempts}" + (f" (+{j.retry_base})" if j.retry_base else "")
            if col == NEXT_RUN:
                return age(j.next_run_at, self.now_ms / 1000) if j.next_run_at else ""
            if col == CLAIMED_BY:
                return j.claimed_by or ""
            if col == CLAIMED:
                return age(j.claimed_at, self.now_ms / 1000) if j.claimed_at else ""
            if col == LAST_ERROR:
                return j.last_error
            if col == CREATED:
                return local_time(j.created_at, seconds=True)
            if col == UPDATED:
                return age(j.updated_at, self.now_ms / 1000)
        elif role == Qt.ItemDataRole.ToolTipRole:
            if col == ID:
                return tip(j.id)
            if col == KEY and j.key:
                return tip(j.key)
            if col == ATTEMPTS and j.retry_base:
                return f"{j.attempts} attempts in all; {j.retry_base} before the last manual retry"
            if col == LAST_ERROR and j.last_error:
                return tip(j.last_error)
            if col in (NEXT_RUN, CLAIMED, UPDATED):
                value = {NEXT_RUN: j.next_run_at, CLAIMED: j.claimed_at, UPDATED: j.updated_at}[col]
                return local_time(value, seconds=True) if value else None
            if stuck:
                return "Running, claimed past its lease: the worker died or hung. Retry it, or let the worker reclaim it."
        elif role == Qt.ItemDataRole.ForegroundRole and col == STATUS:
            return self.ctx.theme.color("danger" if stuck else STATUS_COLOUR.get(j.status, "muted"))
        return None
