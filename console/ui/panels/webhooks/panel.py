"""Webhooks panel: captured deliveries, signature verdicts that explain failures, and replay."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTableView,
    QVBoxLayout,
)

from console.changes import ANY, ChangeSet
from console.domain.roles import check_permission
from console.store.webhooks import DeliveryQuery, detail, unverified, verdict_counts
from console.store.webhooks import count as count_deliveries
from console.webhooks.reverify import reverify_changes
from console.ui.context import AppContext
from console.ui.keys import search_leads_to
from console.ui.elide import elide_cells, fit_column, fit_placeholder
from console.ui.empty import EmptyState, no_match, quoted
from console.ui.format import count
from console.ui.panel import Panel
from console.ui.plain import plain, tip, warning
from console.ui.panels.webhooks.detail import DeliveryDetailView
from console.ui.panels.webhooks.missing_view import MissingEventsView
from console.ui.panels.webhooks.model import DeliveriesModel
from console.ui.panels.webhooks.bulk_replay import BulkReplayDialog
from console.ui.panels.webhooks.replay_dialog import ReplayDialog
from console.ui.panels.webhooks.secrets_dialog import SecretsDialog
from console.webhooks.ingest import ImportError_, export, parse_file, store_changes
from console.webhooks.secrets import WebhookSecrets

VERDICTS = [("Any verdict", None), ("Valid", "valid"), ("Invalid", "invalid"), ("Mismatch", "mismatch"),
            ("Timestamp too old", "timestamp_too_old"), ("Timestamp too new", "timestamp_too_new"),
            ("Missing header", "missing_header"), ("Malformed header", "malformed_header"),
            ("Body hash mismatch", "body_hash_mismatch"), ("No secret", "missing_secret")]
VERDICT_TEXTS = ["checking…"] + [value.replace("_", " ") for _label, value in VERDICTS if value]
RECEIVED = [("Received: any time", None), ("last hour", 3600), ("last 24 h", 86400), ("last 7 days", 7 * 86400)]


class WebhooksPanel(Panel):
    key = "webhooks"
    title = "Webhooks"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.secrets = WebhookSecrets(ctx.secrets, demo=True)
        self.client: httpx.AsyncClient | None = None  # one long-lived client for replays, made on first use
        self._detail = ctx.latest()  # only the newest selection's detail is shown
        self._pending_select: str | None = None

        self.provider = QComboBox()
        for label, value in (("All providers", None), ("Stripe", "stripe"), ("Twilio", "twilio"), ("Clerk", "clerk")):
            self.provider.addItem(label, value)
        self.verdict = QComboBox()
        for label, value in VERDICTS:
            self.verdict.addItem(label, value)
        self.received = QComboBox()
        for label, value in RECEIVED:
            self.received.addItem(label, value)
        self.text = QLineEdit(placeholderText="event, provider id, endpoint, body…")
        self.text.setClearButtonEnabled(True)
        # The deliveries about one user (a users _id): by their jobs, and their ids named in the body.
        self.user_edit = QLineEdit(placeholderText="user _id")
        self.user_edit.setObjectName("deliveries-user-filter")
        self.user_edit.setClearButtonEnabled(True)
        fit_placeholder(self.text)
        fit_placeholder(self.user_edit)
        self.user_edit.setToolTip("Deliveries whose job is about this user, or whose body names their Stripe "
                                  "customer id, phone, email or external id (newest 50,000 bodies).")
        self.user_edit.textChanged.connect(lambda _t: self.debounce.start())
        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(300)
        self.debounce.timeout.connect(self.apply_query)
        self.text.textChanged.connect(lambda _t: self.debounce.start())
        for combo in (self.provider, self.verdict, self.received):
            combo.currentIndexChanged.connect(lambda _i: self.apply_query())
        self.secrets_button = QPushButton("Secrets…")
        self.secrets_button.clicked.connect(self.edit_secrets)
        self.import_button = QPushButton("Import…")
        self.import_button.clicked.connect(self.import_file)
        self.export_button = QPushButton("Export…")
        self.export_button.clicked.connect(self.export_file)
        self.replay_all_button = QPushButton("Replay matching…")
        self.replay_all_button.setObjectName("replay-all")
        self.replay_all_button.clicked.connect(self.open_bulk_replay)
        self.actor: dict | None = None
        self.counts = plain(QLabel())
        top = QHBoxLayout()
        for w in (self.provider, self.verdict, self.received):
            top.addWidget(w)
        top.addWidget(self.user_edit)
        top.addWidget(self.text, 1)
        # The actions sit with the counts, on a row of their own: one row of filters and buttons passed 1024 px.
        actions = QHBoxLayout()
        actions.addWidget(self.counts, 1)
        for w in (self.replay_all_button, self.secrets_button, self.import_button, self.export_button):
            actions.addWidget(w)

        self.model = DeliveriesModel(ctx)
        self.model.page_loaded.connect(self._on_page)
        self.table = QTableView()
        self.table.setObjectName("deliveries-table")
        self.table.setModel(self.model)
        search_leads_to(self.text, self.table)  # Down reaches the results; Tab leaves the table
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        for col, width in enumerate([65, 190, 150, 140, 130, 60, 260]):
            self.table.setColumnWidth(col, width)
        # The verdict, what triage reads first, right after the event (then when): at 1024 px it was off-screen.
        header = self.table.horizontalHeader()
        header.moveSection(header.visualIndex(4), 2)
        header.moveSection(header.visualIndex(3), 3)
        # Provider ids and endpoints keep both ends; any cut cell shows its full text as a tooltip. The verdict
        # column is as wide as its longest verdict, the received column as a time: neither is ever cut.
        elide_cells(self.table, middle=(2, 6))
        fit_column(self.table, 4, VERDICT_TEXTS)
        fit_column(self.table, 3, ["2026-12-31 23:59:59"])
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._on_selection())
        self.empty = EmptyState(self.table, self._why_empty, lambda: self.model.loading, ctx=self.ctx)
        self.detail = DeliveryDetailView(ctx)
        self.detail.replay_button.clicked.connect(self.open_replay)
        self.detail.replay_button.setObjectName("replay-one")
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail)
        self.splitter.setSizes([560, 440])
        # Deliveries that came, and Stripe events that the product's data or later events name but never came.
        self.missing = MissingEventsView(ctx)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("webhooks-tabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.splitter, "Deliveries")
        self.tabs.addTab(self.missing, "Missing events")
        self.tabs.currentChanged.connect(lambda _i: self._refresh_missing())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addLayout(actions)
        layout.addWidget(self.tabs, 1)
        ctx.data_changed.connect(self.on_data_changed)
        self.apply_query()
        self.verify(only_new=True)
        self.load_actor()

    # -- verdicts -----------------------------------------------------------------------------------------
    def verify(self, only_new: bool = False, then_redraw: bool = False) -> None:
        """Verify deliveries off the GUI thread (new ones, or all after the secrets changed)."""
        engine, secrets = self.ctx.engine, self.secrets

        def work() -> ChangeSet:
            if only_new:
                with engine.connect() as conn:
                    ids = unverified(conn)
                return reverify_changes(engine, secrets, only=ids)
            return reverify_changes(engine, secrets)

        def done(changes: ChangeSet) -> None:
            n = len(changes.get_ids("delivery_verdicts"))
            if n:
                self.ctx.status_message.emit(f"Verified {count(n)} deliveries")
                self.ctx.announce(changes)  # the list redraws when it hears of it (once)
            elif then_redraw:
                self.when_seen("list", self._redraw)
            else:
                self.update_counts()

        def failed(exc: BaseException) -> None:  # say so, rather than leave every delivery at "checking…"
            self.ctx.status_message.emit(f"Verifying deliveries failed: {type(exc).__name__}: {exc}")
            self.update_counts()

        self.ctx.tasks.write(work, done, failed)

    def update_counts(self) -> None:
        def done(c: dict[str, int]) -> None:
            total = sum(c.values())
            bad = {k: v for k, v in c.items() if k not in ("valid", "unchecked")}
            text_ = f"{count(total)} deliveries · {count(c.get('valid', 0))} valid"
            if bad:
                text_ += " · " + ", ".join(f"{count(v)} {k.replace('_', ' ')}" for k, v in sorted(bad.items()))
            self.counts.setText(text_)

        self.ctx.read(verdict_counts, done)

    # -- querying -------------------------------------------------------------------------------------------
    def current_query(self) -> DeliveryQuery:
        seconds = self.received.currentData()
        return DeliveryQuery(provider=self.provider.currentData(), verdict=self.verdict.currentData(),
                             received_from=int((time.time() - seconds) * 1000) if seconds else None,
                             text=self.text.text(), user_id=self.user_edit.text().strip() or None)

    def _why_empty(self) -> str:
        q = self.model.query
        return no_match("delivery", [
            f"provider {q.provider}" if q.provider else "",
            f"verdict {q.verdict.replace('_', ' ')}" if q.verdict else "", "the received time" if q.received_from else "",
            f"user {quoted(q.user_id)}" if q.user_id else "", f"text {quoted(q.text.strip())}" if q.text.strip() else ""],
            ("Clear a filter, or pick “Received: any time”." if q.received_from else "Clear a filter.") +
            (" Deliveries are matched to a user by the ids in their body (the newest 50,000)." if q.user_id else ""),
            "No webhook deliveries yet: they are captured as providers call the deployment. Import a HAR or an "
            "export with Import… to look at some.")

    def apply_query(self) -> None:
        self.debounce.stop()
        self.model.set_query(self.current_query())
        self.detail.clear()

    def refresh(self, keep_selection: bool = False) -> None:
        if keep_selection and self.detail.detail:
            self._pending_select = self.detail.detail.row["id"]
        self.model.refresh()

    def _on_page(self, rows: int, _ms: float) -> None:
        if self._pending_select:
            row = self.model.row_of(self._pending_select)
            if row >= 0:
                target, self._pending_select = self._pending_select, None
                self.table.selectRow(row)
                self.show_delivery(target)

    def _on_selection(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if len(rows) == 1:
            row = self.model.row_at(rows[0].row())
            if row is not None:
                self.show_delivery(row.id)

    def show_delivery(self, delivery_id: str) -> None:
        def done(d: Any) -> None:
            if d is None:
                self.detail.clear("Delivery not found in the replica")
            else:
                self.detail.show_detail(d)
                self._update_replay_buttons()

        self._detail.read(lambda conn: detail(conn, delivery_id), done)

    # -- replay: the webhooks:replay permission, single and bulk ---------------------------------------------------
    def load_actor(self) -> None:
        def done(actor: dict | None) -> None:
            self.actor = actor
            self._update_replay_buttons()

        self.ctx.load_operator(done)

    def replay_refusal(self) -> str | None:
        return check_permission(self.actor, "webhooks:replay", "replay webhook deliveries")

    def _update_replay_buttons(self) -> None:
        no = self.replay_refusal()
        self.replay_all_button.setEnabled(no is None)
        self.replay_all_button.setToolTip(tip(no) or "Count the deliveries matching the filter, then replay them "
                                                     "with a cap, a rate limit, progress and Stop.")
        if no is not None:
            self.detail.replay_button.setEnabled(False)
        self.detail.replay_button.setToolTip(tip(no) or "Replay this delivery: verbatim, re-signed or edited.")

    def open_bulk_replay(self) -> None:
        if self.replay_refusal() is not None:
            return
        query = self.current_query()

        def done(matching: int) -> None:
            if matching == 0:
                self.ctx.status_message.emit("No delivery matches the filter: nothing to replay.")
                return
            if self.client is None:
                self.client = httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=5.0))
            standin = getattr(self.window(), "standin", None)
            dialog = BulkReplayDialog(self.ctx, query, matching, self.secrets, self.client,
                                      standin.url if standin is not None else None, self.actor or {}, self)
            dialog.finished_run.connect(lambda _p: self.refresh(keep_selection=True))
            dialog.open()
            self._bulk_dialog = dialog

        self.ctx.read(lambda conn: count_deliveries(conn, query), done)

    def open_replay(self) -> None:
        if not self.detail.detail or self.replay_refusal() is not None:
            return
        if self.client is None:
            self.client = httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=5.0))
        window = self.window()
        standin = getattr(window, "standin", None)
        dialog = ReplayDialog(self.ctx, self.detail.detail, self.secrets, self.client,
                              standin.url if standin is not None else None, self)
        dialog.actor = self.actor  # who replays: in the audit of the console's actions
        dialog.open()
        self._replay_dialog = dialog

    def edit_secrets(self) -> None:
        dialog = SecretsDialog(self.secrets, self)
        dialog.accepted.connect(lambda: self.verify(only_new=False))
        dialog.open()
        self._secrets_dialog = dialog

    def import_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import deliveries", "", "HAR or console export (*.har *.json)")
        if path:
            self.import_path(Path(path))

    def import_path(self, path: Path) -> None:
        engine = self.ctx.engine

        def done(changes: ChangeSet) -> None:
            self.ctx.status_message.emit(f"Imported {changes.count()} deliveries from {path.name}")
            self.ctx.announce(changes)

        def failed(exc: BaseException) -> None:
            warning(self, "Import", str(exc) if isinstance(exc, ImportError_) else f"{exc}")

        self.ctx.tasks.write(lambda: store_changes(engine, parse_file(path)), done, failed)

    def export_file(self) -> None:
        ids = [self.model.rows[i.row()].id for i in self.table.selectionModel().selectedRows()] or \
              [r.id for r in self.model.rows]
        path, _ = QFileDialog.getSaveFileName(self, "Export deliveries", "deliveries.json", "JSON (*.json)")
        if path:
            self.export_to(Path(path), ids)

    def export_to(self, path: Path, ids: list[str]) -> None:
        def work(conn) -> int:
            rows = []
            for delivery_id in ids:
                d = detail(conn, delivery_id)
                if d:
                    rows.append({**d.row, "headers": d.headers, "body": d.body})
            path.write_text(json.dumps(export(rows), indent=1), encoding="utf-8")
            return len(rows)

        self.ctx.read(work, lambda n: self.ctx.status_message.emit(f"Exported {n} deliveries to {path}"))

    # -- Panel ----------------------------------------------------------------------------------------------------
    def _refresh_missing(self) -> None:
        if self.tabs.currentWidget() is self.missing:
            self.when_seen("missing", self.missing.refresh)

    def on_data_changed(self, changes: ChangeSet) -> None:
        """New deliveries are verified first and the list redraws once, when their verdicts are in. A job
        change redraws the detail that shows that job."""
        if changes.touches_any(("webhook_deliveries", "billing_accounts")):
            self._refresh_missing()
        if changes.touches("webhook_deliveries") and (ANY in changes.whole or not changes.touches("delivery_verdicts")):
            self.verify(only_new=True, then_redraw=True)
        elif changes.touches_any(("delivery_verdicts", "replay_attempts")):
            self.when_seen("list", self._redraw)
        elif self.detail.detail and self.detail.detail.job and \
                changes.touches("jobs", [self.detail.detail.job["id"]]):
            delivery = self.detail.detail.row["id"]
            self.when_seen("detail", lambda: self.show_delivery(delivery))

    def _redraw(self) -> None:
        self.refresh(keep_selection=True)
        self.update_counts()

    def focus_search(self) -> None:
        self.text.setFocus()
        self.text.selectAll()

    def navigate(self, target: Any) -> None:
        if isinstance(target, dict) and target.get("user"):
            # From the user detail: every delivery about them, whatever the other filters said.
            self._reset_filters()
            self.user_edit.setText(str(target["user"]))
            self.apply_query()
            return
        if target == "missing":
            self.tabs.setCurrentWidget(self.missing)
            return
        if isinstance(target, dict):  # a filter (an alert's "open matching"): {"verdict": ..., "received_s": ...}
            self._reset_filters()  # exactly what the alert counted, every provider and user
            self.verdict.setCurrentIndex(max(0, self.verdict.findData(target.get("verdict"))))
            self.received.setCurrentIndex(max(0, self.received.findData(target.get("received_s"))))
            self.apply_query()
            return
        if isinstance(target, str):
            self._pending_select = target
            self.show_delivery(target)
            row = self.model.row_of(target)
            if row >= 0:
                self.table.selectRow(row)

    def _reset_filters(self) -> None:
        """Every filter back to everything; the caller applies one query (line edits are cleared unblocked, so
        their clear buttons go too; apply_query stops the debounce they start)."""
        for combo in (self.provider, self.verdict, self.received):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.text.clear()
        self.user_edit.clear()

    def reload(self) -> None:
        self.apply_query()
        self.verify(only_new=True)
        self._refresh_missing()

    def on_shown(self) -> None:
        self.update_counts()
        self.load_actor()  # the operator may have changed in Settings

    def save_state(self, state: QSettings) -> None:
        state.setValue("webhooks/splitter", self.splitter.saveState())
        # A new key: the verdict moved beside the event; a header saved before would put it back off-screen.
        state.setValue("webhooks/deliveries-header", self.table.horizontalHeader().saveState())

    def restore_state(self, state: QSettings) -> None:
        if (value := state.value("webhooks/splitter")) is not None:
            self.splitter.restoreState(value)
        if (value := state.value("webhooks/deliveries-header")) is not None:
            self.table.horizontalHeader().restoreState(value)
            fit_column(self.table, 4, VERDICT_TEXTS, grow_only=True)  # a width saved before never cuts a verdict
