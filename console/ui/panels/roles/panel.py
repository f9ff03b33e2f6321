"""Roles panel: app roles and organization roles, edited safely, optimistic with rollback, audited."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.domain import roles as R
from console.changes import ANY
from console.store.roles import (
    RoleQuery,
    active_admins,
    app_roles_in_use,
    editor_memberships,
    organizations,
    rows_by_id,
)
from console.store.users import UserQuery, search as search_users
from console.ui.context import AppContext
from console.ui.elide import elide_cells
from console.ui.empty import EmptyState, no_match, quoted
from console.ui.keys import search_leads_to
from console.ui.panel import Panel
from console.ui.plain import information, literal, tip
from console.ui.panels.roles.audit import AuditView
from console.ui.panels.roles.editor import RoleEditor
from console.ui.panels.roles.model import RolesModel
from console.ui.user_actions import user_actions


class RolesPanel(Panel):
    key = "roles"
    title = "Roles"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.user_ops = user_actions(ctx)
        self.actor: dict | None = None
        self._pending_select: str | None = None
        self._editor_read = ctx.latest()  # only the newest selection's editor state is shown
        self.search = QLineEdit(placeholderText="name or email…")
        self.search.setClearButtonEnabled(True)
        self.org = QComboBox()
        self.org.addItem("All organizations", None)
        self.role = QComboBox()
        self.role.addItem("Any role", None)
        self.status = QComboBox()
        for label, value in (("Everyone", None), ("Active", True), ("Deactivated", False)):
            self.status.addItem(label, value)
        self.grant = QPushButton("Grant role to selection…")
        self.revoke = QPushButton("Revoke role from selection…")
        self.grant.clicked.connect(lambda: self.bulk(True))
        self.revoke.clicked.connect(lambda: self.bulk(False))
        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(250)
        self.debounce.timeout.connect(self.apply_query)
        self.search.textChanged.connect(lambda _t: self.debounce.start())
        for combo in (self.org, self.role, self.status):
            combo.currentIndexChanged.connect(lambda _i: self.apply_query())
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        for w in (self.org, self.role, self.status, self.grant, self.revoke):
            top.addWidget(w)

        self.model = RolesModel(ctx, self.user_ops)
        self.model.page_loaded.connect(self._on_page)
        self.table = QTableView()
        self.table.setObjectName("roles-table")
        self.table.setModel(self.model)
        search_leads_to(self.search, self.table)  # Down reaches the results; Tab leaves the table
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        elide_cells(self.table, middle=(1,))  # a cut name or email shows its full text
        self.empty = EmptyState(self.table, self._why_empty, lambda: self.model.loading, ctx=self.ctx)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 170)
        self.table.setColumnWidth(1, 230)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._on_selection())
        self.editor = RoleEditor(ctx, self.user_ops)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.editor)
        split.setSizes([640, 360])
        self.splitter = split
        matrix = QWidget()
        matrix_layout = QVBoxLayout(matrix)
        matrix_layout.setContentsMargins(0, 0, 0, 0)
        matrix_layout.addLayout(top)
        matrix_layout.addWidget(split, 1)
        self.audit = AuditView(ctx)
        self.tabs = QTabWidget()
        self.tabs.addTab(matrix, "Users by role")
        self.tabs.addTab(self.audit, "Audit log")
        self.tabs.currentChanged.connect(lambda i: self.audit.reload() if i == 1 else None)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.tabs)

        self.user_ops.changed.connect(self._on_optimistic)
        self.user_ops.refused.connect(self._on_refused)
        self._fresh_rows: dict = {}  # rows read after a change, waiting for the panel to be seen
        ctx.data_changed.connect(self.on_data_changed)
        self._load_choices()
        self.load_actor()
        self.apply_query()

    # -- data ---------------------------------------------------------------------------------------------
    def _load_choices(self) -> None:
        def work(conn) -> tuple:
            staff = search_users(conn, UserQuery(role="admin"), limit=100).rows + \
                search_users(conn, UserQuery(role="support"), limit=100).rows
            return organizations(conn), app_roles_in_use(conn), [(u.id, u.name) for u in staff]

        def done(result: tuple) -> None:
            orgs, roles, staff = result
            for org_id, name in orgs:
                self.org.addItem(name, org_id)
            for role in roles + ["user"]:
                self.role.addItem("customers" if role == "user" else role, role)
            self.model.set_role_columns(roles)
            self.editor.set_role_columns(roles)
            self.audit.set_actors(staff)

        self.ctx.read(work, done)

    def load_actor(self) -> None:
        def done(actor: dict | None) -> None:
            self.actor = actor
            refusal = R.check_permission(actor, "roles:write", "change roles")
            for b in (self.grant, self.revoke):
                b.setEnabled(refusal is None)
                b.setToolTip(tip(refusal) or "Preview who changes, give a reason, then apply")

        self.ctx.load_operator(done)

    def current_query(self) -> RoleQuery:
        return RoleQuery(text=self.search.text(), role=self.role.currentData(), active=self.status.currentData(),
                         organization_id=self.org.currentData())

    def _why_empty(self) -> str:
        q = self.model.query
        return no_match("user", [
            f"{quoted(q.text.strip())}" if q.text.strip() else "", f"role {q.role}" if q.role else "",
            ("active" if q.active else "deactivated") if q.active is not None else "",
            f"organization {self.org.currentText()}" if q.organization_id else ""],
            "Try part of a name or an email, or pick “All roles”.", "No users in the replica yet.")

    def apply_query(self) -> None:
        self.debounce.stop()
        if self.editor.row is not None:
            # The editor shows only a user the new filter lists: hidden now, shown again once found.
            self._pending_select = self.editor.row.id
            self.editor.clear()
        self.model.set_query(self.current_query())

    def _on_page(self, _rows: int, _ms: float) -> None:
        if self._pending_select:
            row = self.model.row_of(self._pending_select)
            if row >= 0:
                self._pending_select = None
                self.table.selectRow(row)
            elif not self.model.has_more:
                self._pending_select = None

    def selected_rows(self) -> list:
        return [self.model.rows[i.row()] for i in self.table.selectionModel().selectedRows()
                if 0 <= i.row() < len(self.model.rows)]

    def _on_selection(self) -> None:
        rows = self.selected_rows()
        if len(rows) == 1:
            self.edit(rows[0].id)
        elif not rows and self.editor.row is not None and self._pending_select is None:
            self.editor.clear()

    def edit(self, user_id: str) -> None:
        """Show the user as the replica has them now (by id, not the filtered row it was picked from)."""
        actor = self.actor
        actor_id = actor.get("_id") if actor else None
        org = self.model.query.organization_id

        def work(conn) -> tuple:
            row = rows_by_id(conn, [user_id], org).get(user_id)
            return row, editor_memberships(conn, user_id, actor_id), active_admins(conn)

        def done(result: tuple) -> None:
            row, ms, admins = result
            selected = self.selected_rows()
            if row is None or not (len(selected) == 1 and selected[0].id == user_id):
                return  # gone, or another user was selected meanwhile
            self.editor.show_user(row, ms, actor, admins)

        self._editor_read.read(work, done)

    # -- optimistic changes ----------------------------------------------------------------------------------
    def _on_optimistic(self, key: tuple[str, str]) -> None:
        for i, r in enumerate(self.model.rows):
            if key[1] in (r.id, r.member_id):
                self.model.dataChanged.emit(self.model.index(i, 0), self.model.index(i, self.model.columnCount() - 1))
        if self.editor.row is not None and key[1] in (self.editor.row.id, *[m["id"] for m in self.editor.memberships]):
            self.editor.show_user(self.editor.row, self.editor.memberships, self.actor, self.editor.active_admins)

    def _on_refused(self, key: tuple[str, str], reason: str) -> None:
        self.editor.say(f"Refused and rolled back: {reason}", "danger")
        self.ctx.status_message.emit(f"Refused: {reason}")

    def on_data_changed(self, tables: dict) -> None:
        if ANY in getattr(tables, "whole", ()):  # another process wrote: read everything shown again
            self.when_seen("rows", self.apply_query)
            return
        changed = set(tables.get("users", ())) | set(tables.get("members", ()))
        if not changed:
            return
        pending = {k[1] for k in self.user_ops.optimistic.changes}
        editing = self.editor.row.id if self.editor.row is not None else None
        member_ids = {m["id"] for m in self.editor.memberships}
        ids = [r.id for r in self.model.rows if r.id in changed or r.member_id in changed]
        # Documents are followed by id: a changed user leaving the filter still confirms its pending change.
        by_member = {r.member_id: r.id for r in self.model.rows if r.member_id}
        extra = [i for i in changed if i in pending and i not in by_member and i not in member_ids]
        if editing and (editing in changed or member_ids & changed):
            extra.append(editing)
        ids = list(dict.fromkeys(ids + extra))
        if not ids and not (member_ids & changed or pending & changed):
            return
        org = self.model.query.organization_id
        changed_members = [m for m in changed if m in pending]

        def work(conn) -> tuple:
            from console.store.roles import member_rows

            return rows_by_id(conn, ids, org), member_rows(conn, changed_members)

        def done(result: tuple) -> None:
            fresh, members = result
            for r in fresh.values():
                self.user_ops.optimistic.observed(("roles", r.id), sorted(r.roles))
                self.user_ops.optimistic.observed(("active", r.id), r.is_active)
            for member_id, role in members.items():
                self.user_ops.optimistic.observed(("member", member_id), role)
            # The rows redraw when seen; changes that pile up while hidden are all kept.
            self._fresh_rows.update(fresh)
            self.when_seen("rows", self._redraw_rows)
            if editing and self.editor.row is not None and self.editor.row.id == editing:
                self.when_seen("editor", lambda: self.editor.row is not None and self.editor.row.id == editing
                               and self.edit(editing))

        self.ctx.read(work, done)

    def _redraw_rows(self) -> None:
        fresh, self._fresh_rows = self._fresh_rows, {}
        self.model.replace_rows(fresh)

    # -- bulk ----------------------------------------------------------------------------------------------------
    def bulk(self, grant: bool) -> None:
        rows = self.selected_rows()
        if not rows:
            self.ctx.status_message.emit("Select the users first.")
            return
        roles = self.model.role_columns
        role, ok = QInputDialog.getItem(self, "Grant role" if grant else "Revoke role", "Role:", roles, 0, True)
        if not ok or not role:
            return
        changing = [r for r in rows if (role in self.model.shown_roles(r)[0]) != grant]
        if not changing:
            information(self, "Roles", f"Nobody in the selection would change: all already "
                                                   f"{'have' if grant else 'lack'} {role}.")
            return
        names = "\n".join(f"  {r.name} <{r.email}>" for r in changing[:15])
        more = f"\n  … and {len(changing) - 15} more" if len(changing) > 15 else ""
        reason, ok = QInputDialog.getText(
            self, "Confirm", literal(f"{'Grant' if grant else 'Revoke'} {role} {'to' if grant else 'from'} "
                                     f"{len(changing)} users:\n{names}{more}\n\nReason (for the audit log):"))
        if ok and reason.strip():
            self.apply_bulk(changing, role, grant, reason.strip())

    def apply_bulk(self, rows: list, role: str, grant: bool, reason: str) -> None:
        for r in rows:
            current = self.model.shown_roles(r)[0]
            new = sorted(set(current) | {role}) if grant else sorted(set(current) - {role})
            self.user_ops.set_roles(r.id, current, new, reason, r.ts)

    # -- Panel ----------------------------------------------------------------------------------------------------
    def on_shown(self) -> None:
        self.load_actor()

    def focus_search(self) -> None:
        self.search.setFocus()

    def navigate(self, target: Any) -> None:
        if isinstance(target, str):
            self.tabs.setCurrentIndex(1)
            self.audit.show_for(target)

    def reload(self) -> None:
        self.load_actor()
        self.apply_query()

    def save_state(self, state: QSettings) -> None:
        state.setValue("roles/splitter", self.splitter.saveState())

    def restore_state(self, state: QSettings) -> None:
        if (value := state.value("roles/splitter")) is not None:
            self.splitter.restoreState(value)
