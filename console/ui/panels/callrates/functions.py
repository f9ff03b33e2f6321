"""The deployment's functions as a sortable table: calls, errors, error share, execution-time percentiles with
the number of executions they rest on (n), and cache hits over the panel's range. Names come from the deployment: plain text (views never guess rich text
from a DisplayRole string)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QHeaderView, QTableView

from console.domain.fnmetrics import FunctionMetrics, FunctionRow
from console.ui.rows_model import RowsModel
from console.ui.panels.callrates import fmt

COLUMNS = ("Function", "Calls", "Errors", "Error %", "p50 ms", "p95 ms", "p99 ms", "n", "Cache hits %")
SAMPLES = COLUMNS.index("n")
Index = QModelIndex | QPersistentModelIndex


def _value(row: FunctionRow, col: int) -> Any:
    return (row.name, row.calls, row.errors, row.error_pct, row.p50_ms, row.p95_ms, row.p99_ms, row.samples,
            row.cache_hit_pct)[col]


def _text(value: Any, col: int) -> str:
    if value is None:
        return "–"
    if col == 0:
        return str(value)
    if col in (1, 2, SAMPLES):
        return fmt.count(value)
    if col in (3, 8):
        return f"{value:.1f}"
    return fmt.count(value) if value >= 10 else f"{value:.2g}"


class FunctionsModel(RowsModel):
    def __init__(self) -> None:
        super().__init__(COLUMNS)
        self.rows: list[FunctionRow] = []

    def set_metrics(self, metrics: FunctionMetrics) -> None:
        self.replace(metrics.rows)

    def key(self, row: Any) -> Any:
        return row.name

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole and section == SAMPLES:
            return "Executions the percentiles rest on"
        return super().headerData(section, orientation, role)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _text(_value(row, col), col)
        if role == Qt.ItemDataRole.UserRole:  # the sort key
            v = _value(row, col)
            return v if v is not None else -1.0
        if role == Qt.ItemDataRole.TextAlignmentRole and col:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and col in (2, 3) and row.errors:
            from PySide6.QtGui import QColor
            return QColor("#d32f2f")
        return None


class FunctionsTable(QTableView):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("deployment-functions")
        self.source = FunctionsModel()
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.source)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)
        # Not re-sorted on every change: a live tick changes every figure, and a dynamic re-sort relays the view
        # out (2-3 ms of the tick's 16). set_metrics sorts again only when the order would change.
        self.proxy.setDynamicSortFilter(False)
        self.setModel(self.proxy)
        self.setSortingEnabled(True)
        self.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # top functions by calls
        self.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.verticalHeader().hide()
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # Widths from the header and the widest likely figure, not ResizeToContents: that re-measures every cell
        # on each live tick (20 ms of a 16 ms budget with 40 functions).
        fm = self.fontMetrics()
        for c in range(1, len(COLUMNS)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(c, max(fm.horizontalAdvance(COLUMNS[c]) + 24, fm.horizontalAdvance("0,000,000") + 12))

    def set_metrics(self, metrics: FunctionMetrics) -> None:
        shown = self.names()
        self.source.set_metrics(metrics)
        col = self.horizontalHeader().sortIndicatorSection()
        order = self.horizontalHeader().sortIndicatorOrder()
        if self._order(col, order) != shown:
            self.proxy.sort(col, order)

    def _order(self, col: int, order: Qt.SortOrder) -> list[str]:
        def key(row: FunctionRow) -> Any:
            v = _value(row, col)
            return v if v is not None else -1.0

        rows = sorted(self.source.rows, key=key, reverse=order == Qt.SortOrder.DescendingOrder)
        return [r.name for r in rows]

    def by_errors(self) -> None:
        self.sortByColumn(2, Qt.SortOrder.DescendingOrder)

    def by_calls(self) -> None:
        self.sortByColumn(1, Qt.SortOrder.DescendingOrder)

    def names(self) -> list[str]:
        return [self.proxy.index(r, 0).data() for r in range(self.proxy.rowCount())]
