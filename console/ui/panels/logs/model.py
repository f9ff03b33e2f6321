"""The log list: newest first, keyset pages of the local history; new entries go in at the top."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QApplication
from sqlalchemy.engine import Connection

from console.store import loghistory as H
from console.ui.context import AppContext
from console.ui.format import local_time
from console.ui.paging import PagedTableModel

COLUMNS = ["Time", "Type", "Function", "Outcome", "Duration", "Request", "Message"]
REQUEST_COLUMN = 5
OUTCOME_COLOUR = {"success": "ok", "failure": "danger", "progress": "muted"}


def clock(at: float) -> str:
    """Month-day and time to the millisecond: log entries a few ms apart stay told apart."""
    try:
        return datetime.fromtimestamp(at).strftime("%m-%d %H:%M:%S.%f")[:-3]
    except (OverflowError, OSError, ValueError):
        return "?"


def message(r: H.LogRow) -> str:
    first = r.error.splitlines()[0] if r.error else (r.lines[0] if r.lines else "")
    more = len(r.lines) - (0 if r.error else 1)
    return first + (f"  (+{more} lines)" if more > 0 else "")


class LogsModel(PagedTableModel):
    COLUMNS = COLUMNS
    PAGE = 300

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx, H.LogQuery())

    def fetch(self, conn: Connection, query: H.LogQuery, after: Any, limit: int) -> Any:
        return H.search(conn, query, after=after, limit=limit)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        pass  # newest first, always: a log reads in time order

    def newest_pk(self) -> int:
        """The last entry to arrive of those shown (not the top row: rows are in time order)."""
        return max((r.pk for r in self.rows), default=0)

    def insert_in_time(self, rows: list[H.LogRow], first_visible: int) -> int:
        """Entries that arrived since, each at its place in time: most go on top, a late one (a long action
        that started earlier) among the rows of its moment. Returns how many went above the row `first_visible`
        (so the view can keep the reader's rows in place)."""
        known = {r.pk for r in self.rows}
        fresh = sorted((r for r in rows if r.pk not in known), key=lambda r: (r.at, r.pk), reverse=True)
        if not fresh:
            return 0
        if not self.rows or (fresh[-1].at, fresh[-1].pk) > (self.rows[0].at, self.rows[0].pk):
            # the usual case: everything is newer than the top row, one block on top
            self.beginInsertRows(QModelIndex(), 0, len(fresh) - 1)
            self.rows[0:0] = fresh
            self.endInsertRows()
            return len(fresh)
        above = 0
        for r in reversed(fresh):  # oldest first
            # the first shown row older than this one: ours goes just before it (rows are newest first)
            i = next((k for k, s in enumerate(self.rows) if (s.at, s.pk) < (r.at, r.pk)), len(self.rows))
            if i == len(self.rows) and self.has_more:
                continue  # older than everything loaded: its page is not loaded yet, it comes with it
            self.beginInsertRows(QModelIndex(), i, i)
            self.rows.insert(i, r)
            self.endInsertRows()
            if i <= first_visible + above:
                above += 1
        return above

    def display(self, r: H.LogRow, col: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return clock(r.at)
            if col == 1:
                return r.udf_type
            if col == 2:
                return r.function
            if col == 3:
                return r.outcome + (" · cached" if r.cached else "")
            if col == 4:
                return f"{r.execution_ms:.0f} ms" if r.execution_ms is not None else ""
            if col == 5:
                return r.request_id
            if col == 6:
                return message(r)
        elif role == Qt.ItemDataRole.ToolTipRole:
            if col == REQUEST_COLUMN and r.request_id:
                return f"Click to show only request {r.request_id}"
            if col == 0:
                return local_time(r.at * 1000, seconds=True) + f" · {r.kind}"
            if col == 6 and (r.error or r.lines):
                return "\n".join(([r.error] if r.error else []) + list(r.lines))[:3000]
        elif role == Qt.ItemDataRole.ForegroundRole:
            if col == 3:
                return self.ctx.theme.color(OUTCOME_COLOUR.get(r.outcome, "muted"))
            if col == REQUEST_COLUMN:
                return QApplication.palette().color(QPalette.ColorRole.Link)
        elif role == Qt.ItemDataRole.FontRole and col == REQUEST_COLUMN:
            font = QFont()
            font.setUnderline(True)
            return font
        return None
