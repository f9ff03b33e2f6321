"""The Webhooks panel's "Missing events" tab: Stripe events the product's billing records or later events point
at that no captured delivery brought (console/webhooks/missing.py). Plain text; a double click or "Open user"
opens the customer in the Users panel."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.ui.context import AppContext
from console.ui.format import count, local_time
from console.ui.plain import plain, tip
from console.ui.rows_model import RowsModel
from console.webhooks.missing import MissingEvent, MissingReport, Reference, missing_stripe_events

COLUMNS = ["Event id", "Expected type", "Referenced by", "First referenced", "Customer", "User"]
NO_ID = "(not named)"


def reference_text(ref: Reference, user: str | None) -> str:
    if ref.kind == "billing":
        return f"billing record of {user or 'a user'}"
    return f"event {ref.source_id} ({ref.event_type or 'unknown type'})"


class MissingModel(RowsModel):
    def __init__(self) -> None:
        super().__init__(COLUMNS)
        self.rows: list[MissingEvent] = []

    def key(self, row: Any) -> Any:
        return row.key

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        m, col = self.rows[index.row()], index.column()
        user = m.user_email or m.user_id
        if role == Qt.ItemDataRole.DisplayRole:
            refs = m.references
            by = reference_text(refs[0], user) + (f" and {len(refs) - 1} more" if len(refs) > 1 else "")
            return [m.event_id or NO_ID, m.expected_type or "unknown", by,
                    local_time(m.first_referenced_at, seconds=True), m.customer or "", user or ""][col]
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 0 and not m.event_id:
                return tip("Stripe events never name each other: this one is implied by later events about "
                           f"{m.object_id}, its id is unknown.")
            if col == 2:
                return tip("\n".join(reference_text(r, user) + " · " + local_time(r.at, seconds=True)
                                     for r in m.references))
            if col == 5 and m.user_id:
                return tip(f"Double-click to open {user} in Users")
            if col == 1 and m.object_id:
                return tip(f"About {m.object_id}")
        return None


class MissingEventsView(QWidget):
    """Reads the check off the GUI thread on show and when deliveries or billing records change."""

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self._read = ctx.latest()
        self.report: MissingReport | None = None
        self.summary = plain(QLabel("Checking…"))
        self.summary.setObjectName("missing-summary")
        self.summary.setWordWrap(True)
        self.open_user = QPushButton("Open user")
        self.open_user.setObjectName("missing-open-user")
        self.open_user.setEnabled(False)
        self.open_user.clicked.connect(self.open_selected_user)
        self.model = MissingModel()
        self.table = QTableView()
        self.table.setObjectName("missing-events-table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        for col, width in enumerate([220, 230, 390, 150, 150]):
            self.table.setColumnWidth(col, width)
        self.table.doubleClicked.connect(lambda _i: self.open_selected_user())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._on_selection())
        head = QHBoxLayout()
        head.addWidget(self.summary, 1)
        head.addWidget(self.open_user)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.table, 1)

    def refresh(self) -> None:
        self._read.read(missing_stripe_events, self._show)

    def _show(self, report: MissingReport) -> None:
        self.report = report
        self.model.replace(report.missing)
        self.summary.setText(summary_text(report))
        self._on_selection()

    def selected(self) -> MissingEvent | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.rows[rows[0].row()] if rows and rows[0].row() < len(self.model.rows) else None

    def _on_selection(self) -> None:
        m = self.selected()
        self.open_user.setEnabled(bool(m and m.user_id))
        self.open_user.setToolTip("Open this customer in Users" if m and m.user_id else
                                  "Select a missing event whose customer is a known user")

    def open_selected_user(self) -> None:
        m = self.selected()
        if m and m.user_id:
            self.ctx.navigate("users", m.user_id)


def summary_text(r: MissingReport) -> str:
    if r.window_start is None or not r.deliveries_checked:
        return ("No Stripe delivery has been captured yet, so nothing can be checked: once deliveries arrive, "
                "the events their later events and the billing records name are checked here.")
    since = local_time(r.window_start, seconds=True)
    checked = (f"Checked {count(r.deliveries_checked)} Stripe deliveries and {count(r.billing_checked)} billing "
               f"records changed since capture began ({since})")
    if not r.missing:
        return checked + ": every event they reference arrived."
    return (f"{count(len(r.missing))} Stripe events never arrived. " + checked +
            ". Events from before capture began are not counted.")
