"""Users panel: find any user as you type, see everything about them."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QItemSelection, QSettings, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.changes import ChangeSet
from console.domain import roles as R
from console.domain import sessions as S
from console.store.roles import active_admins
from console.store.users import DETAIL_OWNER, UserQuery, count_matching, detail, detail_touched
from console.ui.context import AppContext
from console.ui.elide import elide_cells
from console.ui.empty import EmptyState
from console.ui.keys import search_leads_to
from console.ui.format import count
from console.ui.panel import Panel
from console.ui.plain import literal, tip
from console.ui.panels.users.detail import UserDetailView, live_session
from console.ui.panels.users.model import SORTABLE, UsersModel
from console.ui.panels.users.sessions import EndSessionsDialog, ReasonDialog, SessionActions
from console.ui.production import production_name
from console.ui.user_actions import user_actions

ROLE_CHOICES = [("All roles", None), ("Admins", "admin"), ("Support", "support"), ("Customers", "user")]
STATUS_CHOICES = [("Everyone", None), ("Active", True), ("Deactivated", False)]


class UsersPanel(Panel):
    key = "users"
    title = "Users"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self._pending_select: str | None = None
        self._detail = ctx.latest()  # only the newest selection's detail is shown
        self._count = ctx.latest()  # only the newest query's count is shown

        self.search = QLineEdit()
        self.search.setObjectName("users-search")
        self.search.setPlaceholderText("email, name, phone, _id, Clerk or Stripe id, session token  (Ctrl+F)")
        self.search.setToolTip("Search by email, name, phone (any digits, the last four too), users _id, Clerk id, "
                               "Stripe customer id, session token or its hint.")
        self.search.setClearButtonEnabled(True)
        self.role = QComboBox()
        for label, value in ROLE_CHOICES:
            self.role.addItem(label, value)
        self.status = QComboBox()
        for label, value in STATUS_CHOICES:
            self.status.addItem(label, value)
        self.summary = QLabel()
        self.summary.setMinimumWidth(140)

        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(ctx.settings.search_debounce_ms)
        self.debounce.timeout.connect(self.apply_query)
        self.search.textChanged.connect(lambda _t: self.debounce.start())
        self.search.returnPressed.connect(self.apply_query)
        self.role.currentIndexChanged.connect(lambda _i: self.apply_query())
        self.status.currentIndexChanged.connect(lambda _i: self.apply_query())

        self.model = UsersModel(ctx)
        self.model.page_loaded.connect(self._on_page)
        self.model.loading_changed.connect(self._on_loading)
        self.model.failed.connect(self._on_failed)

        self.table = QTableView()
        self.table.setObjectName("users-table")
        self.table.setModel(self.model)
        search_leads_to(self.search, self.table)  # Down reaches the results; Tab leaves the table
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setSortingEnabled(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setWordWrap(False)
        elide_cells(self.table, middle=(1,))  # a cut cell shows its full text; an email keeps its domain
        header = self.table.horizontalHeader()
        header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        header.sortIndicatorChanged.connect(self._on_sort_indicator)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in enumerate([160, 220, 120, 90, 95, 120, 90]):
            self.table.setColumnWidth(col, width)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)

        self.detail = UserDetailView(ctx)
        self.user_ops = user_actions(ctx)
        self.actor: dict | None = None
        self.active_admins = 2
        self.detail.active_button.clicked.connect(self.toggle_active)
        self.user_ops.refused.connect(self._on_refused)
        self.sessions = SessionActions(ctx)
        self.sessions.finished.connect(lambda m: self.ctx.status_message.emit(m))
        self.sessions.refused.connect(lambda m: self.ctx.status_message.emit(f"Refused: {m}"))
        self.detail.end_sessions_button.clicked.connect(self.end_all_sessions)
        self.detail.end_session_requested.connect(self.end_session)

        # The search on a row of its own: beside the filters it was 80 px wide at 1024 and its hint unreadable.
        filters = QHBoxLayout()
        filters.addWidget(self.role)
        filters.addWidget(self.status)
        filters.addWidget(self.summary, 1)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.search)
        left_layout.addLayout(filters)
        left_layout.addWidget(self.table, 1)
        # What to do when nothing matches, over the list as every panel has it (and the first sync's note).
        self.empty = EmptyState(self.table, lambda: self._why_empty(self.model.query), lambda: self.model.loading,
                                ctx=ctx)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("users-splitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([600, 400])  # proportions; the splitter scales them to its width

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.splitter)
        ctx.data_changed.connect(self.on_data_changed)
        self.load_actor()
        self.apply_query()

    # -- querying -------------------------------------------------------------------------------
    def current_query(self) -> UserQuery:
        return UserQuery(
            text=self.search.text(),
            role=self.role.currentData(),
            active=self.status.currentData(),
            sort=self.model.query.sort,
        )

    def apply_query(self) -> None:
        self.debounce.stop()
        query = self.current_query()
        if query != self.model.query or not self.model.rows:
            self.model.set_query(query)

    def _on_sort_indicator(self, column: int, _order: Qt.SortOrder) -> None:
        if column not in SORTABLE:
            # Only indexed columns sort; put the indicator back where the data really is sorted.
            current = next(c for c, k in SORTABLE.items() if k == self.model.query.sort)
            self.table.horizontalHeader().blockSignals(True)
            self.table.horizontalHeader().setSortIndicator(current, Qt.SortOrder.AscendingOrder)
            self.table.horizontalHeader().blockSignals(False)

    def _on_page(self, rows: int, ms: float) -> None:
        self.summary.setToolTip(f"last page in {ms:.0f} ms")
        query = self.model.query
        if rows == 0:
            self.summary.setText("no users")
        else:
            if not self.model.has_more:
                self.summary.setText(f"{count(rows)} user" + ("" if rows == 1 else "s"))
            else:
                # The pages shown are not all: count the matches (bounded, off the GUI thread).
                self.summary.setText(f"{count(rows)} shown · counting…")
                self._count.read(lambda conn: count_matching(conn, query),
                                 lambda n: self._show_count(query, n))
        if self._pending_select:
            row = self.model.row_of(self._pending_select)
            if row >= 0:
                self._pending_select = None
                self.table.selectRow(row)
                self.table.scrollTo(self.model.index(row, 0))

    def _why_empty(self, query: UserQuery) -> str:
        typed = query.text.strip()
        filters = query.role is not None or query.active is not None
        if not typed and not filters:
            why = "No users in this replica."
        else:
            why = ((f"No user matches “{typed}”" if typed else "No user matches these filters")
                   + (" with these filters" if typed and filters else "") + ". Search by name, email, phone "
                   "(the last four digits work) or id" + ("; or set the filters back to everyone." if filters else "."))
        return why

    def _show_count(self, query: UserQuery, n: int) -> None:
        if query == self.model.query:
            self.summary.setText(f"more than {count(100_000)} users" if n > 100_000 else f"{count(n)} users")

    def _on_loading(self, loading: bool) -> None:
        if loading and not self.model.rows:
            self.summary.setText("searching…")

    def _on_failed(self, message: str) -> None:
        self.summary.setText("search failed")
        self.ctx.status_message.emit(message)

    # -- detail ---------------------------------------------------------------------------------
    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = self.table.selectionModel().selectedRows()
        user = self.model.row_at(rows[0].row()) if rows else None
        if user is None:
            return
        # The user shown already (the list reloaded and selected their row again): redraw only what changed,
        # keeping the reader's place. A fresh draw put a detail scrolled half-way back at the top.
        shown = self.detail.detail
        self.show_user(user.id, quiet=shown is not None and shown.user["id"] == user.id)

    def show_user(self, user_id: str, quiet: bool = False) -> None:
        """Read and show a user's detail. `quiet` (a change, not a new selection): redraw only if what is
        shown differs, keeping scroll position, selection and focus."""
        def done(result: Any) -> None:
            if result is None:
                self.detail.clear("User not found in the replica")
                return
            # What the replica says now confirms an accepted (de)activation that matches it.
            self.user_ops.optimistic.observed(("active", result.user["id"]), bool(result.user["is_active"]))
            if quiet and self.detail.detail is not None and self.detail.detail.user["id"] == user_id:
                if result != self.detail.detail:
                    self.detail.show_detail(result, keep_position=True)
            else:
                self.detail.show_detail(result)
            self._update_active_button()
            self._update_sessions_button()

        def work(conn) -> tuple:
            return detail(conn, user_id), active_admins(conn)  # with the detail, for the up-front rules

        def shown(result: tuple) -> None:
            self.active_admins = result[1]
            done(result[0])

        self._detail.read(work, shown,
                          lambda exc: self.detail.clear(f"Could not load user: {exc}"))

    # -- deactivate / reactivate (admins only, with a reason) ---------------------------------------------
    def load_actor(self) -> None:
        def done(actor: dict | None) -> None:
            self.actor = actor
            self._update_active_button()
            self._update_sessions_button()

        self.ctx.load_operator(done)

    def _update_active_button(self) -> None:
        d = self.detail.detail
        button = self.detail.active_button
        if d is None:
            button.setEnabled(False)
            return
        active, state = self.user_ops.optimistic.shown(("active", d.user["id"]), bool(d.user["is_active"]))
        button.setText(("Reactivate…" if not active else "Deactivate…") + (" (pending)" if state else ""))
        target = {"_id": d.user["id"], "roles": list(d.roles), "isActive": active}
        refusal = R.check_set_active(self.actor, target, not active, self.active_admins)
        button.setEnabled(refusal is None and state is None)
        button.setToolTip(tip(refusal) or "Soft delete: the product refuses the user's sessions from then on. "
                                     "Needs a reason; audited.")

    # -- ending sessions (sessions:revoke: admins and support, with a reason) ------------------------------
    def _update_sessions_button(self) -> None:
        d = self.detail.detail
        button = self.detail.end_sessions_button
        allowed = self.actor is not None and S.PERMISSION in R.permissions(self.actor)
        live = bool(d) and any(live_session(s, int(time.time() * 1000)) for s in d.sessions)
        button.setEnabled(allowed and live)
        button.setToolTip(tip(
            "Needs sessions:revoke (admins and support; choose the operator in Settings)." if not allowed else
            "No active session." if not live else
            "End every active session: the product refuses them from then on. Needs a reason; audited."))

    def end_all_sessions(self) -> None:
        d = self.detail.detail
        if d is None:
            return
        user_id, email = d.user["id"], d.user["email"]
        n = sum(1 for x in d.sessions if live_session(x, int(time.time() * 1000)))
        self._ask(f"End all sessions of {d.user['name'] or email}",
                  f"End {'the active session' if n == 1 else f'all {n} active sessions'} of {email}?",
                  lambda reason: self.sessions.end_user_sessions(user_id, reason), sessions=n)

    def end_session(self, session_id: str) -> None:
        d = self.detail.detail
        if d is None:
            return
        s = next((x for x in d.sessions if x["id"] == session_id), None)
        where = f" ({s['token_hint'] or '…'}, {s['ip'] or 'unknown IP'})" if s else ""
        self._ask("End session", f"End this session of {d.user['email']}{where}?",
                  lambda reason: self.sessions.end_session(session_id, reason))

    def _ask(self, title: str, what: str, then, sessions: int = 1) -> None:
        dialog = EndSessionsDialog(title, what, self, sessions=sessions, production=production_name(self.ctx))
        dialog.accepted.connect(lambda: then(dialog.reason.text().strip()))
        self.end_dialog = dialog  # kept for tests and so it lives while open
        dialog.open()

    def toggle_active(self) -> None:
        d = self.detail.detail
        if d is None:
            return
        active = bool(d.user["is_active"])
        verb = "Deactivate" if active else "Reactivate"
        user_id, email, ts = d.user["id"], d.user["email"], int(d.user["ts"])
        dialog = ReasonDialog(
            f"{verb} {d.user['name'] or email}", f"{verb} {email}?",
            "They can no longer sign in; their data stays." if active else "They can sign in again.",
            verb, "e.g. asked to close the account" if active else "e.g. reinstated after review", self,
            production=production_name(self.ctx))

        def send() -> None:
            self.user_ops.set_active(user_id, active, not active, dialog.reason.text().strip(), ts)
            self._update_active_button()
            self.ctx.status_message.emit(f"{verb} {email}: sent")

        dialog.accepted.connect(send)
        self.active_dialog = dialog  # kept for tests and so it lives while open
        dialog.open()

    def _on_refused(self, key: tuple[str, str], reason: str) -> None:
        if key[0] == "active" and self.detail.detail and self.detail.detail.user["id"] == key[1]:
            self._update_active_button()
            self.ctx.status_message.emit(f"Refused: {reason}")

    # -- live changes ---------------------------------------------------------------------------------
    DETAIL_TABLES = (*DETAIL_OWNER, "organizations")

    def on_data_changed(self, changes: ChangeSet) -> None:
        """The list when users it shows (or might now match) changed; the detail only when what it shows did."""
        shown = self.detail.detail
        selected = shown.user["id"] if shown else None
        if changes.touches("users"):
            loaded = {r.id for r in self.model.rows}
            # A changed user on screen, or a search that new or renamed users might now match.
            if changes.touches("users", loaded) or self.model.query.text or len(loaded) < 200:
                self.when_seen("list", self._refresh_list)
        if selected and changes.touches_any(self.DETAIL_TABLES):
            # Only when one of the written documents is theirs (a read by id: an unrelated job or session
            # leaves the detail alone).
            def theirs(touched: bool) -> None:
                shown_now = self.detail.detail
                if touched and shown_now and shown_now.user["id"] == selected:
                    self.when_seen("detail", lambda: self.show_user(selected, quiet=True))

            self.ctx.read(lambda conn: detail_touched(conn, selected, changes, changes.whole), theirs)

    def _refresh_list(self) -> None:
        self._pending_select = self.detail.detail.user["id"] if self.detail.detail else None
        self.model.refresh()

    # -- Panel ----------------------------------------------------------------------------------
    def on_shown(self) -> None:
        self.load_actor()

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def navigate(self, target: Any) -> None:
        if not isinstance(target, str):
            return
        self.show_user(target)
        row = self.model.row_of(target)
        if row >= 0:
            self.table.selectRow(row)
        else:
            # Not in the rows loaded yet: no other user stays highlighted beside this one's detail; the row is
            # selected when a page that holds it arrives.
            self.table.clearSelection()
            self._pending_select = target

    def reload(self) -> None:
        self.detail.clear()
        self.model.refresh()

    def save_state(self, state: QSettings) -> None:
        state.setValue("users/splitter", self.splitter.saveState())
        state.setValue("users/header", self.table.horizontalHeader().saveState())

    def restore_state(self, state: QSettings) -> None:
        if (value := state.value("users/splitter")) is not None:
            self.splitter.restoreState(value)
        if (value := state.value("users/header")) is not None:
            self.table.horizontalHeader().restoreState(value)
