"""Error groups: failed and dead jobs grouped by the fingerprint of their last error, with a sparkline of the
last 24 h. Selecting a group lists its jobs; "Retry group…" / "Cancel group…" go through the bulk path
(count, cap, reason, progress, Stop, one audit entry), as "retry all matching" does."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.store.errorgroups import ErrorGroup
from console.ui.context import AppContext
from console.ui.empty import EmptyState
from console.ui.rows_model import RowsModel
from console.ui.format import age, count, local_time
from console.ui.elide import ElidedLabel
from console.ui.plain import plain, tip

COLUMNS = ["Jobs", "Dead", "Last 24 h", "Error", "Types", "First seen", "Last seen"]
SPARK = 2
HourlyRole = Qt.ItemDataRole.UserRole + 1


class GroupsModel(RowsModel):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__(COLUMNS)
        self.ctx = ctx
        self.rows: list[ErrorGroup] = []
        self.now_ms = 0

    def set_rows(self, rows: list[ErrorGroup], now_ms: int) -> None:
        self.now_ms = now_ms
        self.replace(rows)

    def key(self, row: Any) -> Any:
        return row.fingerprint

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        g, col = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return [count(g.count), count(g.dead), "", g.title, ", ".join(sorted(g.types)),
                    age(g.first_seen, self.now_ms / 1000 if self.now_ms else None),
                    age(g.last_seen, self.now_ms / 1000 if self.now_ms else None)][col]
        if role == HourlyRole and col == SPARK:
            return g.hourly
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 3:
                return tip(g.sample)  # product text: escaped
            if col == 4:
                return tip("\n".join(f"{t}: {n}" for t, n in sorted(g.types.items())))
            if col in (5, 6):
                return local_time(g.first_seen if col == 5 else g.last_seen, seconds=True)
            if col == SPARK:
                return f"Jobs of this group by hour of their last change; {count(sum(g.hourly))} in the last 24 h"
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (0, 1):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and col == 1 and g.dead:
            return self.ctx.theme.color("danger")
        return None


class SparklineDelegate(QStyledItemDelegate):
    """A small painted line of the hourly counts (no widget per cell, nothing but painting)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        super().paint(painter, option, index)
        values = index.data(HourlyRole) or []
        if not values:
            return
        r = QRectF(option.rect).adjusted(4, 4, -4, -4)
        top = max(values) or 1
        step = r.width() / max(1, len(values) - 1)
        path = QPainterPath()
        for i, v in enumerate(values):
            point = QPointF(r.left() + i * step, r.bottom() - r.height() * v / top)
            path.lineTo(point) if i else path.moveTo(point)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(self.ctx.theme.color("danger"), 1.4))
        painter.drawPath(path)
        painter.restore()


class GroupsView(QWidget):
    """`picked(fingerprint, title)` on selecting a group; `act(verb, fingerprint, title)` for its bulk buttons."""

    picked = Signal(str, str)
    act = Signal(str, str, str)

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.model = GroupsModel(ctx)
        self.table = QTableView()
        self.table.setObjectName("jobs-groups-table")
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(SPARK, SparklineDelegate(ctx, self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in enumerate([60, 50, 110, 420, 160, 80]):
            self.table.setColumnWidth(col, width)
        header.setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selected())
        self.retry = QPushButton("Retry group…")
        self.cancel = QPushButton("Cancel group…")
        self.retry.clicked.connect(lambda: self._act("retry"))
        self.cancel.clicked.connect(lambda: self._act("cancel"))
        self.summary = plain(QLabel())
        bar = QHBoxLayout()
        bar.addWidget(self.retry)
        bar.addWidget(self.cancel)
        bar.addWidget(self.summary, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table)
        self.set_allowed(True, True)
        self.loaded = False
        self._restoring = False
        self.empty = EmptyState(self.table, lambda: "No error groups: no job in the replica has failed or died. "
                                "Failed jobs are grouped here by their error.", lambda: not self.loaded, ctx=ctx)

    def set_allowed(self, retry: bool, cancel: bool, retry_tip: str = "", cancel_tip: str = "") -> None:
        self._allowed = (retry, cancel)
        chosen = self.current() is not None
        self.retry.setEnabled(retry and chosen)
        self.cancel.setEnabled(cancel and chosen)
        self.retry.setToolTip(tip(retry_tip) or "Retry the group's failed and dead jobs (count, cap, reason first)")
        self.cancel.setToolTip(tip(cancel_tip) or "Cancel the group's retrying jobs (dead ones are finished already)")

    def show_groups(self, groups: list[ErrorGroup], now_ms: int) -> None:
        chosen = self.current()
        self.loaded = True
        self.model.set_rows(groups, now_ms)
        self.empty.refresh()
        jobs = sum(g.count for g in groups)
        self.summary.setText(f"{count(len(groups))} groups · {count(jobs)} failed or dead jobs")
        if chosen is not None:
            row = next((i for i, g in enumerate(groups) if g.fingerprint == chosen.fingerprint), -1)
            if row >= 0 and self.current() is None:
                # Keep the operator's choice through the reset, without choosing it again: that put the jobs
                # table back on the whole group (their state filter, selection and detail lost) every refresh.
                # (blockSignals on the table does not silence its selection model.)
                self._restoring = True
                try:
                    self.table.selectRow(row)
                finally:
                    self._restoring = False

    def forget_choice(self) -> None:
        """The jobs table dropped the group filter: no group stays highlighted (or comes back on a refresh)."""
        self._restoring = True
        try:
            self.table.clearSelection()
        finally:
            self._restoring = False
        self.set_allowed(*self._allowed)

    def current(self) -> ErrorGroup | None:
        rows = self.table.selectionModel().selectedRows()
        if rows and 0 <= rows[0].row() < len(self.model.rows):
            return self.model.rows[rows[0].row()]
        return None

    def _selected(self) -> None:
        self.set_allowed(*self._allowed)
        g = self.current()
        if g is not None and not self._restoring:
            self.picked.emit(g.fingerprint, g.title)

    def _act(self, verb: str) -> None:
        g = self.current()
        if g is not None:
            self.act.emit(verb, g.fingerprint, g.title)


class GroupChip(QWidget):
    """Shows the error group the jobs table is filtered to, with a button to drop it."""

    cleared = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.label = ElidedLabel()  # a long error text elides (full in its tooltip), never widening the window
        self.clear = QToolButton(text="✕")
        self.clear.setToolTip("Show every job again (drop the error group filter)")
        self.clear.clicked.connect(self.cleared.emit)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.clear)
        self.hide()

    def show_group(self, title: str | None) -> None:
        self.label.setText(f"Error group: {title}" if title else "")
        self.setVisible(bool(title))
