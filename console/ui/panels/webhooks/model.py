"""The deliveries list: keyset pages, newest first, with each delivery's verdict."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from sqlalchemy.engine import Connection

from console.store.webhooks import DeliveryQuery, DeliveryRow, search
from console.ui.context import AppContext
from console.ui.format import local_time
from console.ui.paging import PagedTableModel
from console.ui.plain import tip

COLUMNS = ["Provider", "Event", "Provider id", "Received", "Verdict", "Replays", "Endpoint"]


class DeliveriesModel(PagedTableModel):
    COLUMNS = COLUMNS

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx, DeliveryQuery())

    def fetch(self, conn: Connection, query: DeliveryQuery, after: Any, limit: int) -> Any:
        return search(conn, query, after=after, limit=limit)

    def display(self, d: DeliveryRow, col: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return d.provider
            if col == 1:
                return d.event_type
            if col == 2:
                return d.provider_event_id
            if col == 3:
                return local_time(d.received_at, seconds=True)
            if col == 4:
                return "checking…" if d.valid is None else ("valid" if d.valid else d.reason.replace("_", " "))
            if col == 5:
                return str(d.replays) if d.replays else ""
            if col == 6:
                return d.endpoint
        elif role == Qt.ItemDataRole.ToolTipRole and col == 4 and d.summary:
            return tip(d.summary)
        elif role == Qt.ItemDataRole.ForegroundRole and col == 4 and d.valid is not None:
            return self.ctx.theme.color("ok" if d.valid else "danger")
        return None
