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
        return self.rows[0].pk if self.rows else 0

    def prepend(self, rows: list[H.LogRow]) -> None:
        """Entries newer than everything shown, newest first."""
        rows = [r for r in rows if r.pk > self.newest_pk()]
        if not rows:
            return
        self.beginInsertRows(QModelIndex(), 0, len(rows) - 1)
        self.rows[0:0] = rows
        self.endInsertRows()

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
