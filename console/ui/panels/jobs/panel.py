"""Jobs panel: monitor the outbox, inspect failures, retry (one, selected, all matching) and cancel."""

from __future__ import annotations

from dataclasses import replace

import threading
import time
from typing import Any

from PySide6.QtCore import QDateTime, QItemSelection, QItemSelectionModel, QSettings, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDateTimeEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
)

from console.domain import jobs as J
from console.store.errorgroups import error_groups
from console.changes import ChangeSet
from console.store.jobs import STUCK, JobQuery, by_ids, count_by_status, count_matching, counts, detail, health, job_types, search
from console.store.jobtypes import type_table
from console.ui.context import AppContext
from console.ui.elide import elide_cells, fit_placeholder
from console.ui.failures import warn
from console.ui.empty import EmptyState, no_match, quoted
from console.ui.keys import search_leads_to
from console.ui.format import count
from console.ui.panel import Panel
from console.ui.plain import esc, tip
from console.ui.panels.jobs.actions import JobActions, Progress
from console.ui.panels.jobs.bulk import VERBS, BulkRetryDialog
from console.ui.panels.jobs.confirm import ConfirmDialog
from console.ui.production import production_name
from console.ui.panels.jobs.detail import JobDetailView
from console.ui.panels.jobs.groups import GroupChip, GroupsView
from console.ui.panels.jobs.types import TypesView
from console.ui.panels.jobs.health import HealthView
from console.ui.panels.jobs.model import CREATED as CREATED_COLUMN, NEXT_RUN, SORTABLE, WIDTHS, JobsModel

STATES = [("All", None), ("Pending", J.PENDING), ("Running", J.RUNNING), ("Stuck", STUCK), ("Retrying", J.RETRYING),
          ("Dead", J.DEAD), ("Succeeded", J.SUCCEEDED), ("Canceled", J.CANCELED)]
REFRESH = [("Auto-refresh off", 0), ("every 2 s", 2), ("every 5 s", 5), ("every 10 s", 10), ("every 30 s", 30),
           ("every 60 s", 60)]
CREATED = [("Created: any time", None), ("last hour", 3600), ("last 24 h", 86400), ("last 7 days", 7 * 86400),
           ("custom range…", -1)]
MANUAL_RETRY_RULE = ("Manual retry runs the job now and gives it a fresh automatic retry budget; the attempts so far "
                     "stay in its history.")


CAP = 100_000  # jobs counted exactly at most


class JobsPanel(Panel):
    key = "jobs"
    title = "Jobs"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.job_ops = JobActions(ctx)
        self.actor: dict | None = None
        self._detail = ctx.latest()  # only the newest selection's detail is shown
        self._count = ctx.latest()  # only the newest query's count is shown
        self._tick_task = None
        self._pending_select: str | None = None
        self._keep_selected: list[str] | None = None  # ids to select again once a refresh has loaded
        self.last_tick_gui_ms = 0.0

        # states with live counts
        self.state_buttons = QButtonGroup(self)
        self.state_buttons.setExclusive(True)
        states = QHBoxLayout()
        for i, (label, value) in enumerate(STATES):
            b = QToolButton(text=label)
            b.setCheckable(True)
            b.setProperty("state", value)
            b.setObjectName(f"state-{value or 'all'}")
            self.state_buttons.addButton(b, i)
            states.addWidget(b)
        self.state_buttons.button(0).setChecked(True)
        self.state_buttons.idClicked.connect(lambda _i: self.apply_query())
        states.addStretch(1)
        self.refresh_choice = QComboBox()
        for label, seconds in REFRESH:
            self.refresh_choice.addItem(label, seconds)
        self.refresh_choice.setCurrentIndex(2)  # 5 s, as Sidekiq and Bull Board
        self.refresh_choice.currentIndexChanged.connect(lambda _i: self._schedule())
        self.refresh_now = QPushButton("Refresh")
        self.refresh_now.clicked.connect(self.tick)

        # filters
        self.type = QComboBox()
        self.type.addItem("All types", None)
        # Its width is set at the first show ("All types": the filter row fits 1024 px); the list that drops down
        # is as wide as the longest type, and the chosen type's whole name is the tooltip.
        self.type.currentIndexChanged.connect(self._type_tip)
        self.created = QComboBox()
        for label, value in CREATED:
            self.created.addItem(label, value)
        self.created_from = QDateTimeEdit(QDateTime.currentDateTime().addDays(-1))
        self.created_to = QDateTimeEdit(QDateTime.currentDateTime())
        for w in (self.created_from, self.created_to):
            w.setCalendarPopup(True)
            w.setDisplayFormat("yyyy-MM-dd HH:mm")
            w.hide()
            w.dateTimeChanged.connect(lambda _d: self.debounce.start())
        self.key_edit = QLineEdit(placeholderText="exact key")
        self.id_edit = QLineEdit(placeholderText="exact id")
        # The jobs about one user (a users _id): the user detail's "open their jobs" fills it in.
        self.user_edit = QLineEdit(placeholderText="user _id")
        self.user_edit.setObjectName("jobs-user-filter")
        self.text_edit = QLineEdit(placeholderText="error, payload…")
        self.text_edit.setToolTip("Full-text search over the last error, the attempt errors and the payload: every "
                                  "word must appear (the last one as a prefix).")
        for w in (self.key_edit, self.id_edit, self.user_edit, self.text_edit):
            w.setClearButtonEnabled(True)
            fit_placeholder(w)  # a squeezed filter row cut "error or payload contains…" to nothing
        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(300)
        self.debounce.timeout.connect(self.apply_query)
        for w in (self.key_edit, self.id_edit, self.user_edit, self.text_edit):
            w.textChanged.connect(lambda _t: self.debounce.start())
        self.type.currentIndexChanged.connect(lambda _i: (self.apply_query(), self.tick()))  # counts follow the type
        self.created.currentIndexChanged.connect(self._created_changed)
        filters = QHBoxLayout()
        for w in (self.type, self.created, self.created_from, self.created_to, self.key_edit, self.id_edit,
                  self.user_edit):
            filters.addWidget(w)
        filters.addWidget(self.text_edit, 2)
        # Where there is room (1440 px) the type filter grows with the search box and shows whole type names;
        # at 1024 px it keeps its first-show width.
        self.type.setSizePolicy(QSizePolicy.Policy.Expanding, self.type.sizePolicy().verticalPolicy())
        filters.setStretchFactor(self.type, 1)
        self.error_group: tuple[str, str] | None = None  # (fingerprint, title) the table is filtered to
        self.group_chip = GroupChip()
        self.group_chip.cleared.connect(lambda: self.set_error_group(None))
        # Refresh sits with the filters: the state row with its counts alone nearly fills 1024 px.
        filters.addWidget(self.refresh_choice)
        filters.addWidget(self.refresh_now)

        # actions
        self.retry_button = QPushButton("Retry selected")
        self.retry_all_button = QPushButton("Retry all matching…")
        self.cancel_button = QPushButton("Cancel selected")
        self.cancel_all_button = QPushButton("Cancel all matching…")
        self.purge_button = QPushButton("Purge finished matching…")
        self.retry_button.clicked.connect(self.retry_selected)
        self.retry_all_button.clicked.connect(self.retry_all_matching)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.cancel_all_button.clicked.connect(lambda: self.bulk_matching("cancel"))
        self.purge_button.clicked.connect(lambda: self.bulk_matching("purge"))
        self.acting = QLabel()
        self.acting.setTextFormat(Qt.TextFormat.RichText)  # our markup, the data escaped
        self.acting.setWordWrap(True)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        actions = QHBoxLayout()
        for w in (self.retry_button, self.retry_all_button, self.cancel_button, self.cancel_all_button,
                  self.purge_button):
            actions.addWidget(w)
        actions.addStretch(1)
        # Who acts and what is listed, on a row of their own (wrapping): beside five buttons they passed 1024 px.
        self.summary.setWordWrap(True)
        info = QHBoxLayout()
        info.addWidget(self.acting, 1)
        info.addWidget(self.group_chip, 1)  # here, not among the filters: that row already fills 1024 px
        info.addWidget(self.summary, 1)

        # table and detail
        self.model = JobsModel(ctx)
        self.model.page_loaded.connect(self._on_page)
        self.model.failed.connect(lambda m: self.ctx.status_message.emit(m))
        self.table = QTableView()
        self.table.setObjectName("jobs-table")
        self.table.setModel(self.model)
        search_leads_to(self.text_edit, self.table)  # Down reaches the results; Tab leaves the table
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setSortingEnabled(True)
        self.table.setWordWrap(False)
        elide_cells(self.table)  # a cut cell without a tooltip of its own shows its full text
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSortIndicator(CREATED_COLUMN, Qt.SortOrder.DescendingOrder)
        header.sortIndicatorChanged.connect(self._on_sort_indicator)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in enumerate(WIDTHS):
            self.table.setColumnWidth(col, width)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._on_selection())
        self.empty = EmptyState(self.table, self._why_empty, lambda: self.model.loading, ctx=self.ctx)
        self.detail = JobDetailView(ctx)
        self.health = HealthView(ctx)
        self.types = TypesView(ctx)
        self.types.picked.connect(self.pick_type)
        self.groups = GroupsView(ctx)
        self.groups.picked.connect(lambda fp, title: self.set_error_group((fp, title)))
        self.groups.act.connect(lambda verb, fp, title: self.bulk_matching(verb, self._group_query(fp)))
        self.bottom = QTabWidget()
        self.bottom.setObjectName("jobs-bottom-tabs")
        self.bottom.addTab(self.health, "Health")
        self.bottom.addTab(self.types, "By type")
        self.bottom.addTab(self.groups, "Error groups")
        self.bottom.setMaximumHeight(320)
        self.bottom.currentChanged.connect(lambda _i: self.tick())

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail)
        self.splitter.setSizes([640, 360])
        self.detail.setMinimumWidth(400)  # ids, keys and URLs (elided to 40 characters) fit without a break
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 3)  # a wider window widens the table more than the detail
        self.splitter.setStretchFactor(1, 2)
        # The charts and tables below give way to the jobs when the window is short (drag to change).
        self.rows_split = QSplitter(Qt.Orientation.Vertical)
        self.rows_split.setObjectName("jobs-rows-split")
        self.rows_split.addWidget(self.splitter)
        self.rows_split.addWidget(self.bottom)
        self.rows_split.setChildrenCollapsible(False)
        self.rows_split.setStretchFactor(0, 3)  # of any change in height, the table takes three parts, the charts one
        self.rows_split.setStretchFactor(1, 1)
        self.rows_split.setSizes([560, 240])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(states)
        layout.addLayout(filters)
        layout.addLayout(actions)
        layout.addLayout(info)
        layout.addWidget(self.rows_split, 1)

        self.timer = QTimer(self)
        self.timer.timeout.connect(self.tick)
        ctx.data_changed.connect(self.on_data_changed)
        # Built after live mode started: begin from the latest counts the subscription has.
        self._live_counts: dict | None = ctx.live.figures.get("console:jobStats") if ctx.live is not None else None
        ctx.live_figures.connect(self.on_live_figure)
        ctx.replica_replaced.connect(self.reload)
        self.retry_button.setToolTip(MANUAL_RETRY_RULE)
        self._load_types()
        self.load_actor()
        self.apply_query()
        self.tick()

    # -- querying ---------------------------------------------------------------------------------------
    def current_query(self) -> JobQuery:
        state = self.state_buttons.checkedButton().property("state") if self.state_buttons.checkedButton() else None
        created_from = created_to = None
        choice = self.created.currentData()
        now_ms = int(time.time() * 1000)
        if choice == -1:
            created_from = self.created_from.dateTime().toMSecsSinceEpoch()
            created_to = self.created_to.dateTime().toMSecsSinceEpoch()
        elif choice:
            created_from = now_ms - choice * 1000
        sort = self.model.query.sort
        if sort == "next_run" and state not in (None, J.PENDING, J.RETRYING):
            sort = "created"  # only waiting jobs have a next run
        return JobQuery(status=state, type=self.type.currentData(), created_from=created_from, created_to=created_to,
                        key=self.key_edit.text().strip() or None, id=self.id_edit.text().strip() or None,
                        text=self.text_edit.text(), sort=sort,
                        error_group=self.error_group[0] if self.error_group else None,
                        user_id=self.user_edit.text().strip() or None)

    def _why_empty(self) -> str:
        q = self.model.query
        return no_match("job", [
            f"state {q.status}" if q.status else "", f"type {q.type}" if q.type else "",
            "the created range" if q.created_from or q.created_to else "", f"key {quoted(q.key)}" if q.key else "",
            f"id {quoted(q.id)}" if q.id else "", f"text {quoted(q.text.strip())}" if q.text.strip() else "",
            "the error group" if q.error_group else "", f"user {quoted(q.user_id)}" if q.user_id else ""],
            "Pick “All” states, clear a filter, or try fewer words.",
            "No jobs in the replica yet: they appear as the deployment's jobs sync.")

    def pick_type(self, jtype: str, state: str | None) -> None:
        """A cell of the type table: that type (and state) in the jobs table."""
        self.type.blockSignals(True)
        index = self.type.findData(jtype)
        if index < 0:
            self.type.addItem(jtype, jtype)
            index = self.type.count() - 1
        self.type.setCurrentIndex(index)
        self.type.blockSignals(False)
        button = next(b for b in self.state_buttons.buttons() if b.property("state") == state)
        button.setChecked(True)
        self.apply_query()
        self.tick()  # the state counts follow the type

    def set_error_group(self, group: tuple[str, str] | None) -> None:
        if group is not None and self.error_group is not None and group[0] == self.error_group[0]:
            return  # the group shown already: the operator's state filter and selection stay
        self.error_group = group
        if group is None:
            self.groups.forget_choice()
        self.group_chip.show_group(group[1] if group else None)
        if group:
            for b in self.state_buttons.buttons():
                b.setChecked(b.property("state") is None)
        self.apply_query()

    def _group_query(self, fingerprint: str) -> JobQuery:
        return JobQuery(error_group=fingerprint)

    def apply_query(self) -> None:
        self.debounce.stop()
        query = self.current_query()
        self.summary.setText("loading…")
        self.model.set_query(query)
        self._sync_sort_indicator()
        self.detail.clear()
        self._update_actions()

    def _created_changed(self) -> None:
        custom = self.created.currentData() == -1
        self.created_from.setVisible(custom)
        self.created_to.setVisible(custom)
        self.apply_query()

    def _on_sort_indicator(self, column: int, _order: Qt.SortOrder) -> None:
        if column not in SORTABLE:
            self._sync_sort_indicator()

    def _sync_sort_indicator(self) -> None:
        column = next(c for c, k in SORTABLE.items() if k == self.model.query.sort)
        header = self.table.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(column, Qt.SortOrder.AscendingOrder if column == NEXT_RUN else Qt.SortOrder.DescendingOrder)
        header.blockSignals(False)

    def _on_page(self, rows: int, ms: float) -> None:
        page = self.model.last_page
        query = self.model.query
        full_text = " · full-text match" if query.text.strip() and page is not None else ""
        if self.model.has_more:
            # Not every page is loaded: count the matches exactly (bounded, off the GUI thread), not "200+".
            self.summary.setText(f"{count(rows)} shown · counting…{full_text}")

            def counted(n: int) -> None:
                if query == self.model.query:
                    self.summary.setText((f"more than {count(CAP)}" if n > CAP else count(n)) + f" jobs{full_text}")

            self._count.read(lambda conn: count_matching(conn, query, cap=CAP), counted)
        else:
            self.summary.setText(f"{count(rows)} job{'' if rows == 1 else 's'}{full_text}")
        self.summary.setToolTip(f"last page in {ms:.0f} ms")
        self._update_actions()
        if self._pending_select:
            row = self.model.row_of(self._pending_select)
            if row >= 0:
                self._pending_select = None
                self.table.selectRow(row)
        if self._keep_selected is not None:
            self._reselect()

    def _reselect(self) -> None:
        """After a refresh, select again the jobs that were selected (by id); those gone from the list
        are dropped, and with them the detail when nothing is left."""
        keep, self._keep_selected = self._keep_selected or [], None
        rows = [self.model.row_of(i) for i in keep]
        sel = self.table.selectionModel()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        selection = QItemSelection()
        for row in rows:
            if row >= 0:
                selection.select(self.model.index(row, 0), self.model.index(row, 0))
        sel.blockSignals(True)
        sel.select(selection, flags)
        sel.blockSignals(False)
        self.table.viewport().update()
        found = self.selected_ids()
        if not found:
            self.detail.clear()
        elif len(found) == 1 and (self.detail.detail is None or self.detail.detail.job["id"] != found[0]):
            self.show_job(found[0])
        self._update_actions()

    def _type_tip(self) -> None:
        jtype = self.type.currentData()
        self.type.setToolTip(tip(f"Type: {jtype}") if jtype else "Only the jobs of one type")

    def _load_types(self) -> None:
        def done(types: list[str]) -> None:
            current = self.type.currentData()
            self.type.blockSignals(True)
            self.type.clear()
            self.type.addItem("All types", None)
            for t in types:
                self.type.addItem(t, t)
            self.type.setCurrentIndex(max(0, self.type.findData(current)))
            self.type.blockSignals(False)
            metrics = self.type.view().fontMetrics()
            widest = max((metrics.horizontalAdvance(t) for t in types), default=0)
            self.type.view().setMinimumWidth(widest + 40)  # room for the scroll bar and the item's margins
            self._type_tip()

        self.ctx.read(job_types, done)

    # -- selection and detail ---------------------------------------------------------------------------------
    def selected_ids(self) -> list[str]:
        rows = self.table.selectionModel().selectedRows()
        return [self.model.rows[i.row()].id for i in rows if 0 <= i.row() < len(self.model.rows)]

    def _on_selection(self) -> None:
        ids = self.selected_ids()
        self._update_actions()
        if len(ids) == 1:
            self.show_job(ids[0])
        elif not ids and self._pending_select is None and self._keep_selected is None:
            self.detail.clear()  # nothing selected: nothing shown, nothing enabled

    def show_job(self, job_id: str) -> None:
        def done(d: Any) -> None:
            if d is None:
                self.detail.clear("Job not found in the replica")
            else:
                self.detail.show_detail(d, int(time.time() * 1000))

        self._detail.read(lambda conn: detail(conn, job_id), done)

    # -- permissions ---------------------------------------------------------------------------------------------
    def load_actor(self) -> None:
        def done(actor: dict | None) -> None:
            self.actor = actor
            self._update_actions()

        self.ctx.load_operator(done)

    def selected_rows(self) -> list:
        rows = self.table.selectionModel().selectedRows()
        return [self.model.rows[i.row()] for i in rows if 0 <= i.row() < len(self.model.rows)]

    def actionable(self, verb: str) -> tuple[list[str], str | None]:
        """The selected jobs this action applies to, and why the others (or all) are left out."""
        now = self.model.now_ms
        rows = self.selected_rows()
        if not rows:
            return [], "Select jobs first."
        rule = (lambda r: J.retry_refusal(r.status, r.stuck(now))) if verb == "retry" else \
            (lambda r: J.cancel_refusal(r.status))
        refusals = [(r, rule(r)) for r in rows]
        ok = [r.id for r, no in refusals if no is None]
        reasons = [no for _r, no in refusals if no]
        if not ok:
            done = {"retry": "retried", "cancel": "canceled"}[verb]
            return [], (f"Cannot be {done}: {reasons[0]}." if len(rows) == 1 else
                        f"None of the {len(rows)} selected jobs can be {done} ({reasons[0]}).")
        skipped = f" {len(rows) - len(ok)} of the selection are skipped ({reasons[0]})." if reasons else ""
        return ok, skipped or None

    def _update_actions(self) -> None:
        retry_no = self.job_ops.refusal(self.actor, "jobs:retry", "retry jobs")
        cancel_no = self.job_ops.refusal(self.actor, "jobs:cancel", "cancel jobs")
        retry_ids, retry_why = self.actionable("retry")
        cancel_ids, cancel_why = self.actionable("cancel")
        self.retry_button.setEnabled(bool(retry_ids) and retry_no is None)
        empty = not self.model.rows and not self.model.has_more and not self.model.loading
        self.retry_all_button.setEnabled(retry_no is None and not empty)
        self.cancel_button.setEnabled(bool(cancel_ids) and cancel_no is None)
        self.retry_button.setToolTip(tip(retry_no or (retry_why if not retry_ids else None)) or
                                     (MANUAL_RETRY_RULE + (" " + retry_why if retry_why else "")))
        self.retry_all_button.setToolTip(tip(retry_no) or ("No job matches the filters." if empty else
                                         "Preview how many match, give a reason, confirm, then retry them in the "
                                         "background with progress. " + MANUAL_RETRY_RULE))
        self.cancel_button.setToolTip(tip(cancel_no or (cancel_why if not cancel_ids else None)) or
                                      ("Cancel the selected jobs: asks for a reason and confirms."
                                       + (" " + cancel_why if cancel_why else "")))
        purge_no = self.job_ops.refusal(self.actor, "jobs:purge", "purge jobs")
        self.cancel_all_button.setEnabled(cancel_no is None and not empty)
        self.purge_button.setEnabled(purge_no is None and not empty)
        self.cancel_all_button.setToolTip(tip(cancel_no) or "Preview how many match, give a reason, then cancel them "
                                                            "in the background with progress (finished jobs are skipped)")
        self.purge_button.setToolTip(tip(purge_no) or "Delete the matching finished jobs (succeeded, canceled, dead): "
                                                      "preview, reason, progress, Stop; one audit entry")
        self.groups.set_allowed(retry_no is None, cancel_no is None, retry_no or "", cancel_no or "")
        who = self.actor.get("email") if self.actor else None
        if self.actor and not self.ctx.settings.operator_user_id:
            who = f"{who} (the demo's admin until you choose an operator in Settings)"
        where = "on the deployment, acting as" if self.job_ops.live else "on the local demo store as"
        if retry_no or cancel_no:
            self.acting.setText(f"<span style='color:{self.ctx.theme.color('warning').name()}'>"
                                f"{esc(retry_no or cancel_no)}</span>")
        else:
            self.acting.setText(esc(f"Actions run {where} {who}."))

    # -- actions -------------------------------------------------------------------------------------------------
    def _done(self, message: str) -> None:
        self.ctx.status_message.emit(message)
        self.tick()

    def _failed(self, message: str) -> None:
        self.ctx.status_message.emit(message)
        warn(self, self.ctx, "Jobs", message)  # with "Show in Logs" when the deployment named the request

    def retry_selected(self) -> None:
        self._confirm("retry")

    def cancel_selected(self) -> None:
        self._confirm("cancel")

    def _confirm(self, verb: str) -> None:
        """Retry or cancel what the selection allows, after a reason and a confirmation."""
        ids, skipped = self.actionable(verb)
        if not ids:
            return
        rows = {r.id: r for r in self.selected_rows()}
        listed = "\n".join(f"  {i[-10:]}  {rows[i].type}  ({rows[i].status})" for i in ids[:10])
        more = f"\n  … and {len(ids) - 10} more" if len(ids) > 10 else ""
        n = f"{count(len(ids))} job" + ("s" if len(ids) > 1 else "")
        if verb == "retry":
            what = f"Retry {n} now?\n{listed}{more}\n\n{MANUAL_RETRY_RULE}"
        else:
            what = f"Cancel {n}? A canceled job does not run again unless retried by hand.\n{listed}{more}"
        if (prod := production_name(self.ctx)) is not None:
            what = f"PRODUCTION deployment {prod}: this changes real jobs.\n\n{what}"
        dialog = ConfirmDialog(f"{verb.capitalize()} jobs" + (" on PRODUCTION" if prod else ""),
                               what + (f"\n\n{skipped}" if skipped else ""),
                               f"{verb.capitalize()} {n}", self, destructive=verb == "cancel")
        act = self.job_ops.retry if verb == "retry" else self.job_ops.cancel
        dialog.accepted.connect(lambda: act(ids, dialog.reason_text(), self._done, self._failed))
        self._confirm_dialog = dialog
        dialog.open()

    def retry_all_matching(self) -> None:
        self.bulk_matching("retry")

    def bulk_matching(self, verb: str, query: JobQuery | None = None) -> None:
        """Count what matches, confirm (cap, reason), then retry / cancel / purge it with progress and Stop."""
        query = query or self.current_query()

        def preview(by_status: dict[str, int]) -> None:
            n = sum(v for st, v in by_status.items() if J.bulk_eligible(verb, st))
            skipped = {st: v for st, v in by_status.items() if not J.bulk_eligible(verb, st)}
            if n == 0:
                self.ctx.status_message.emit(
                    "No job matches the filters: nothing to do." if not skipped else
                    f"None of the {count(sum(skipped.values()))} matching jobs can be "
                    f"{VERBS[verb][1]} ({', '.join(f'{count(v)} {st}' for st, v in sorted(skipped.items()))}).")
                self._update_actions()
                return
            title = self.error_group[1] if self.error_group and self.error_group[0] == query.error_group else None
            dialog = BulkRetryDialog(query, n, self, verb=verb, production=production_name(self.ctx),
                                     skipped=skipped, group_title=title)
            dialog.accepted.connect(lambda: self.start_bulk(verb, query, dialog.cap.value(), dialog.reason.text()))
            dialog.open()
            self._bulk_dialog = dialog

        self.ctx.read(lambda conn: count_by_status(conn, query, cap=100_000), preview)

    def start_bulk_retry(self, query: JobQuery, cap: int, reason: str) -> None:
        self.start_bulk("retry", query, cap, reason)

    def start_bulk(self, verb: str, query: JobQuery, cap: int, reason: str) -> None:
        progress = Progress()
        cancel = threading.Event()
        word = {"retry": "Retrying", "cancel": "Canceling", "purge": "Deleting finished"}[verb]
        dialog = QProgressDialog(f"{word} matching jobs…", "Stop", 0, cap, self)
        dialog.setWindowTitle(f"{verb.capitalize()} all matching")
        dialog.setMinimumDuration(0)
        dialog.canceled.connect(cancel.set)
        if self.job_ops.live:
            dialog.setRange(0, 0)  # one call to the deployment: no steps to show
        progress.changed.connect(lambda done, total: (dialog.setMaximum(max(1, total)), dialog.setValue(done)))

        def finished(message: str) -> None:
            dialog.reset()
            dialog.close()
            self._done(message)

        def failed(message: str) -> None:
            dialog.reset()
            dialog.close()
            self._failed(message)

        self._bulk = (progress, cancel, dialog)  # keep them alive while the work runs
        dialog.show()
        self.job_ops.bulk_matching(verb, query, cap, reason, progress, cancel, finished, failed)

    # -- refresh -----------------------------------------------------------------------------------------------
    def _schedule(self) -> None:
        seconds = self.refresh_choice.currentData()
        if seconds and self.isVisible():
            self.timer.start(seconds * 1000)
        else:
            self.timer.stop()

    def tick(self) -> None:
        """Counts, health and the rows on screen, read in the background with indexed queries only."""
        if self._tick_task is not None and not self._tick_task.cancelled:
            return  # the previous tick is still running: skip rather than pile up
        loaded = [r.id for r in self.model.rows[:400]]
        query = self.model.query
        at_top = self.table.verticalScrollBar().value() == 0
        tab = self.bottom.currentWidget()

        def work(conn) -> dict:
            now = int(time.time() * 1000)
            out: dict[str, Any] = {"counts": counts(conn, now, type=query.type,
                                                      error_group=query.error_group), "now": now}
            if tab is self.health:
                out["health"] = health(conn, now)
            elif tab is self.types:
                out["types"] = type_table(conn, now)
            else:
                out["groups"] = error_groups(conn, now)
            if at_top:
                out["first"] = search(conn, query, limit=min(200, max(50, len(loaded))), now_ms=now).rows
            elif loaded:
                out["fresh"] = {r.id: r for r in by_ids(conn, loaded)}
            return out

        def done(result: dict) -> None:
            self._tick_task = None
            started = time.perf_counter()
            self.apply_tick(result)
            self.last_tick_gui_ms = (time.perf_counter() - started) * 1000

        def error(exc: BaseException) -> None:
            self._tick_task = None
            self.ctx.status_message.emit(f"Refresh failed: {exc}")

        self._tick_task = self.ctx.read(work, done, error)

    def apply_tick(self, result: dict) -> None:
        self._replica_counts = result["counts"]
        self._show_counts()
        if "health" in result:
            self.health.show_health(result["health"])
        if "types" in result:
            self.types.show_rows(result["types"])
        if "groups" in result:
            self.groups.show_groups(result["groups"], result["now"])
        self.model.now_ms = result["now"]
        first = result.get("first")
        if first is not None:
            current = [r.id for r in self.model.rows[: len(first)]]
            if [r.id for r in first] != current and not self.model.loading:
                self._keep_selected = self.selected_ids()  # kept by id across the refresh
                self.model.refresh()  # new or reordered jobs at the top
            else:
                self.model.replace_rows({r.id: r for r in first})
        elif result.get("fresh"):
            self.model.replace_rows(result["fresh"])
        if self.model.rows:
            self.model.dataChanged.emit(self.model.index(0, 0), self.model.index(len(self.model.rows) - 1,
                                                                                 len(self.model.COLUMNS) - 1))
        self._update_actions()  # a selected job may have finished meanwhile
        if self.detail.detail is not None:  # "updated 3 s ago", the lease and STUCK move on with the clock
            self.detail.show_detail(self.detail.detail, result["now"], keep_position=True)

    def _show_counts(self) -> None:
        """The state buttons: the replica's counts, overridden in live mode by the deployment's own
        (console:jobStats, subscribed: they change as jobs commit, before the replica has the rows)."""
        c = dict(getattr(self, "_replica_counts", None) or {})
        # The deployment's counts are of every job: with a type or an error group chosen, the replica's counts.
        query = self.model.query
        live = self._live_counts if self.ctx.live is not None and not query.type and not query.error_group else None
        capped = set()
        if live:
            # A count the deployment capped ("1 000+": one query reads at most so many) says less than the
            # replica's exact one once that is past the cap: All said 2 800+ over a list of 18 192.
            over = set(live.get("capped") or ())
            for k, v in (live.get("counts") or {}).items():
                if k in over and c.get(k, 0) > int(v):
                    continue
                c[k] = int(v)
                if k in over:
                    capped.add(k)
        for button in self.state_buttons.buttons():
            state = button.property("state")
            label = next(lbl for lbl, v in STATES if v == state)
            if state is None:  # what the list shows with no state chosen (a group: its retrying and dead jobs)
                n = sum(v for k, v in c.items() if k != STUCK and (not query.error_group or k in J.FAILED_STATES))
            else:
                n = c.get(state, 0)
            more = "+" if (state in capped or (state is None and capped)) else ""
            button.setText(f"{label} {count(n)}{more}")

    def on_live_figure(self, path: str, value: Any) -> None:
        if path == "console:jobStats" and isinstance(value, dict):
            self._live_counts = value
            self._show_counts()

    def on_data_changed(self, changes: ChangeSet) -> None:
        """Counts and rows when jobs changed (hidden: at the next show, which ticks anyway); the detail
        only when the job it shows was written."""
        if changes.touches("jobs"):
            self.when_seen("list", self.tick)
        shown = self.detail.detail.job["id"] if self.detail.detail else None
        if shown and changes.touches("jobs", [shown]):
            self.when_seen("detail", lambda: self.show_job(shown))

    # -- Panel -----------------------------------------------------------------------------------------------------
    def on_shown(self) -> None:
        self.tick()
        self._schedule()
        self.load_actor()

    def on_hidden(self) -> None:
        self.timer.stop()

    def focus_search(self) -> None:
        self.text_edit.setFocus()
        self.text_edit.selectAll()

    def navigate(self, target: Any) -> None:
        if isinstance(target, dict) and target.get("user"):
            self.show_user_jobs(str(target["user"]))
            return
        if isinstance(target, dict):  # a filter (an alert's "open matching"): {"status": ..., "type": ...}
            # Exactly what the alert counted: the operator's other filters (a type, a key, text) would hide it.
            self._reset_filters()
            status = target.get("status")
            for button in self.state_buttons.buttons():
                if button.property("state") == status:
                    button.setChecked(True)
            if target.get("type"):
                self.type.setCurrentIndex(max(0, self.type.findData(target["type"])))
            if target.get("sort") in SORTABLE.values():  # "dead in the last 15 min": newest deaths first
                self.model.query = replace(self.model.query, sort=target["sort"])
            self.apply_query()
            return
        if isinstance(target, str):
            self.state_buttons.button(0).setChecked(True)
            self.error_group = None
            self.group_chip.show_group(None)
            self.id_edit.setText(target)
            self.apply_query()
            self._pending_select = target
            self.show_job(target)

    def show_user_jobs(self, user_id: str) -> None:
        """Every job about one user, whatever their state (from the user detail)."""
        self._reset_filters()
        self.user_edit.setText(user_id)
        self.apply_query()

    def _reset_filters(self) -> None:
        """Every filter back to everything, for a caller that then applies one query. The line edits are not
        blocked (a blocked one keeps its clear button); their debounce is stopped by apply_query."""
        self.state_buttons.button(0).setChecked(True)
        for w in (self.key_edit, self.id_edit, self.text_edit, self.user_edit):
            w.clear()
        for combo in (self.type, self.created):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.created_from.setVisible(False)
        self.created_to.setVisible(False)
        if self.error_group is not None:
            self.error_group = None
            self.group_chip.show_group(None)
            self.groups.forget_choice()

    def reload(self) -> None:
        self.detail.clear()
        self._load_types()
        self.load_actor()
        self.apply_query()
        self.tick()

    def save_state(self, state: QSettings) -> None:
        state.setValue("jobs/splitter", self.splitter.saveState())
        state.setValue("jobs/rows_split", self.rows_split.saveState())
        state.setValue("jobs/columns", self.table.horizontalHeader().saveState())
        state.setValue("jobs/refresh", self.refresh_choice.currentIndex())
        state.setValue("jobs/bottom", self.bottom.currentIndex())

    def restore_state(self, state: QSettings) -> None:
        if (value := state.value("jobs/splitter")) is not None:
            self.splitter.restoreState(value)
        if (value := state.value("jobs/rows_split")) is not None:
            self.rows_split.restoreState(value)
        if (value := state.value("jobs/columns")) is not None:  # "jobs/header" held the old column order
            self.table.horizontalHeader().restoreState(value)
            self._sync_sort_indicator()
        if (value := state.value("jobs/refresh")) is not None:
            self.refresh_choice.setCurrentIndex(int(value))
        if (value := state.value("jobs/bottom")) is not None:
            self.bottom.setCurrentIndex(int(value))

