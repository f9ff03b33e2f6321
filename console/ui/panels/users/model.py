"""The users list: a paging model over user search results (keyset pages of 200)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from sqlalchemy.engine import Connection

from console.store.users import UserQuery, UserRow, search
from console.ui.context import AppContext
from console.ui.format import age, local_time
from console.ui.paging import PagedTableModel

COLUMNS = ["Name", "Email", "Phone", "Roles", "Status", "Created", "Last login"]
SORTABLE = {0: "name", 1: "email", 5: "created"}
PAGE = 200


class UsersModel(PagedTableModel):
    COLUMNS = COLUMNS
    SORTABLE = SORTABLE
    PAGE = PAGE

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx, UserQuery())
        self._strike = QFont()
        self._strike.setStrikeOut(True)

    def fetch(self, conn: Connection, query: UserQuery, after: Any, limit: int) -> Any:
        return search(conn, query, after=after, limit=limit)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return "Click to sort" if section in SORTABLE else "Not sortable (no index)"
        return super().headerData(section, orientation, role)

    def display(self, u: UserRow, col: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return u.name or "(no name)"
            if col == 1:
                return u.email
            if col == 2:
                return u.phone or ""
            if col == 3:
                return ", ".join(u.roles)
            if col == 4:
                return "Active" if u.is_active else "DEACTIVATED"
            if col == 5:
                return local_time(u.created_at)
            if col == 6:
                return age(u.last_login) if u.last_login else "never"
        elif role == Qt.ItemDataRole.ToolTipRole:
            if col == 6 and u.last_login:
                return local_time(u.last_login, seconds=True)
            if not u.is_active:
                return "This user is deactivated (soft-deleted): their sessions are refused."
        elif role == Qt.ItemDataRole.ForegroundRole:
            if not u.is_active:
                return self.ctx.theme.color("danger" if col == 4 else "muted")
        elif role == Qt.ItemDataRole.FontRole:
            if not u.is_active and col == 0:
                return self._strike
        return None
