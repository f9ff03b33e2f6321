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

COLUMNS = ["ID", "Type", "Key", "Status", "Attempts", "Next run", "Claimed by", "Claimed", "Last error", "Created",
           "Updated"]
SORTABLE = {9: "created", 10: "updated", 5: "next_run"}


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
            return {9: "Sort: newest first", 10: "Sort: most recently changed first",
                    5: "Sort: next to run first (waiting jobs)"}.get(section, "Not sortable (no index)")
        return super().headerData(section, orientation, role)

    def display(self, j: JobRow, col: int, role: int) -> Any:
        stuck = j.stuck(self.now_ms)
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return j.id[-10:]
            if col == 1:
                return j.type
            if col == 2:
                return j.key
            if col == 3:
                return "running · STUCK" if stuck else j.status
            if col == 4:
                return f"{j.budget_used}/{j.max_attempts}" + (f" (+{j.retry_base})" if j.retry_base else "")
            if col == 5:
                return age(j.next_run_at, self.now_ms / 1000) if j.next_run_at else ""
            if col == 6:
                return j.claimed_by or ""
            if col == 7:
                return age(j.claimed_at, self.now_ms / 1000) if j.claimed_at else ""
            if col == 8:
                return j.last_error
            if col == 9:
                return local_time(j.created_at, seconds=True)
            if col == 10:
                return age(j.updated_at, self.now_ms / 1000)
        elif role == Qt.ItemDataRole.ToolTipRole:
            if col == 0:
                return tip(j.id)
            if col == 4 and j.retry_base:
                return f"{j.attempts} attempts in all; {j.retry_base} before the last manual retry"
            if col == 8 and j.last_error:
                return tip(j.last_error)
            if col in (5, 7, 10):
                value = {5: j.next_run_at, 7: j.claimed_at, 10: j.updated_at}[col]
                return local_time(value, seconds=True) if value else None
            if stuck:
                return "Claimed past its lease: the worker died or hung. Retry it, or let the worker reclaim it."
        elif role == Qt.ItemDataRole.ForegroundRole and col == 3:
            return self.ctx.theme.color("danger" if stuck else STATUS_COLOUR.get(j.status, "muted"))
        return None
