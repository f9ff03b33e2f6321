"""The users-by-roles matrix, with pending changes shown over what the replica says."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from sqlalchemy.engine import Connection

from console.store.roles import RoleQuery, RoleRow, search
from console.ui.context import AppContext
from console.ui.paging import PagedTableModel
from console.ui.user_actions import UserActions

FIXED = ["Name", "Email", "Status"]


class RolesModel(PagedTableModel):
    def __init__(self, ctx: AppContext, actions: UserActions) -> None:
        super().__init__(ctx, RoleQuery())
        self.actions = actions
        self.role_columns: list[str] = ["admin", "support"]
        self._italic = QFont()
        self._italic.setItalic(True)

    def set_role_columns(self, roles: list[str]) -> None:
        self.beginResetModel()
        self.role_columns = roles
        self.endResetModel()

    @property
    def COLUMNS(self) -> list[str]:  # type: ignore[override]
        org = ["Org role"] if self.query.organization_id else []
        return FIXED + self.role_columns + org

    @COLUMNS.setter
    def COLUMNS(self, _value: list[str]) -> None:
        pass

    def fetch(self, conn: Connection, query: RoleQuery, after: Any, limit: int) -> Any:
        return search(conn, query, after=after, limit=limit)

    def shown_roles(self, r: RoleRow) -> tuple[list[str], str | None]:
        return self.actions.optimistic.shown(("roles", r.id), sorted(r.roles))

    def shown_active(self, r: RoleRow) -> tuple[bool, str | None]:
        return self.actions.optimistic.shown(("active", r.id), r.is_active)

    def shown_member(self, r: RoleRow) -> tuple[str | None, str | None]:
        if not r.member_id:
            return None, None
        return self.actions.optimistic.shown(("member", r.member_id), r.member_role)

    def display(self, r: RoleRow, col: int, role: int) -> Any:
        roles, roles_state = self.shown_roles(r)
        active, active_state = self.shown_active(r)
        member, member_state = self.shown_member(r)
        n_fixed, n_roles = len(FIXED), len(self.role_columns)
        state = roles_state if n_fixed <= col < n_fixed + n_roles else active_state if col == 2 else \
            member_state if col == n_fixed + n_roles else None
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return r.name
            if col == 1:
                return r.email
            if col == 2:
                return "active" if active else "DEACTIVATED"
            if n_fixed <= col < n_fixed + n_roles:
                return "✓" if self.role_columns[col - n_fixed] in roles else ""
            if col == n_fixed + n_roles:
                return member or ""
        elif role == Qt.ItemDataRole.TextAlignmentRole and n_fixed <= col < n_fixed + n_roles:
            return int(Qt.AlignmentFlag.AlignCenter)
        elif role == Qt.ItemDataRole.FontRole and state:
            return self._italic
        elif role == Qt.ItemDataRole.ForegroundRole:
            if state:
                return self.ctx.theme.color("warning")
            if col == 2 and not active:
                return self.ctx.theme.color("danger")
        elif role == Qt.ItemDataRole.ToolTipRole and state:
            return "Pending: sent, waiting for the deployment" if state == "pending" else \
                "Accepted: waiting for the replica to catch up"
        return None
