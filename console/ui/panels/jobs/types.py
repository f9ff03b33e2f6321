"""Queue by job type: one row per type (counts per state, oldest waiting, rates, permanent failures, stuck).

Clicking a state cell filters the jobs table to that type and state; any other cell to the type, every state.
The rows come from console.store.jobtypes.type_table, read in the background by the panel's refresh tick.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QVBoxLayout, QWidget

from console.domain import jobs as J
from console.store.jobs import STUCK
from console.store.jobtypes import TypeRow
from console.ui.context import AppContext
from console.ui.empty import EmptyState
from console.ui.rows_model import RowsModel
from console.ui.format import count
from console.ui.panels.jobs.health import _duration

# (header, state the cell filters to, tooltip)
COLUMNS: list[tuple[str, str | None, str]] = [
    ("Type", None, "Click: this type, every state"),
    ("Pending", J.PENDING, ""), ("Running", J.RUNNING, ""),
    ("Stuck", STUCK, "Running past the lease: the worker died or hung"),
    ("Retrying", J.RETRYING, ""), ("Dead", J.DEAD, ""), ("Succeeded", J.SUCCEEDED, ""), ("Canceled", J.CANCELED, ""),
    ("Oldest waiting", J.PENDING, "How long the oldest due job of this type has waited to run"),
    ("Succeeded / min", J.SUCCEEDED, "Average over the last hour"),
    ("Failed / min", J.RETRYING, "Failed attempts (to retrying or dead), average over the last hour"),
    ("Perm. failures 24 h", J.DEAD, "Dead / (dead + succeeded) among jobs of this type that finished in the last 24 h"),
]
STATE_COLUMNS = range(1, 8)


class TypesModel(RowsModel):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__([c[0] for c in COLUMNS])
        self.ctx = ctx
        self.rows: list[TypeRow] = []

    def set_rows(self, rows: list[TypeRow]) -> None:
        self.replace(rows)

    def key(self, row: Any) -> Any:
        return row.type

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section][2] or f"Click a cell: this type, {COLUMNS[section][0].lower()} jobs"
        return super().headerData(section, orientation, role)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        r, col = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(r, col)
        if role == Qt.ItemDataRole.TextAlignmentRole and col > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == 3 and r.counts.get(STUCK):
                return self.ctx.theme.color("danger")
            if col == 5 and r.counts.get(J.DEAD):
                return self.ctx.theme.color("danger")
            if col == 11 and (rate := r.permanent_failure_rate) is not None:
                return self.ctx.theme.color("danger" if rate >= 0.05 else "warning" if rate >= 0.01 else "ok")
        return None

    @staticmethod
    def text(r: TypeRow, col: int) -> str:
        if col == 0:
            return r.type or "(no type)"
        if col in STATE_COLUMNS:
            return count(r.counts.get(COLUMNS[col][1] or "", 0))
        if col == 8:
            return "" if r.oldest_waiting_ms is None else _duration(r.oldest_waiting_ms)
        if col == 9:
            return f"{r.succeeded_per_min:.1f}"
        if col == 10:
            return f"{r.failed_per_min:.1f}"
        rate = r.permanent_failure_rate
        return "" if rate is None else f"{rate * 100:.1f}% of {count(r.succeeded_24h + r.dead_24h)}"


class TypesView(QWidget):
    """The table; `picked(type, state)` when a cell is clicked (state None: every state)."""

    picked = Signal(str, object)

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.model = TypesModel(ctx)
        self.table = QTableView()
        self.table.setObjectName("jobs-types-table")
        self.table.setModel(self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.clicked.connect(self._clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        self.loaded = False
        self.empty = EmptyState(self.table, lambda: "No job types yet: each type of job appears here, with its "
                                "counts by state, once jobs sync.", lambda: not self.loaded, ctx=ctx)

    def show_rows(self, rows: list[TypeRow]) -> None:
        self.loaded = True
        self.model.set_rows(rows)
        self.empty.refresh()

    def _clicked(self, index: QModelIndex) -> None:
        if 0 <= index.row() < len(self.model.rows):
            self.picked.emit(self.model.rows[index.row()].type, COLUMNS[index.column()][1])
