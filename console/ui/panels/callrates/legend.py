"""A chart's legend as a table beside the plot (series, last, average, max, and the sample count of percentile
charts), so nothing covers the curves. A click on a series' name hides or shows it; a click on its figures
highlights it (again: back to normal). Names are plain text (a view never guesses rich text from a DisplayRole
string)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from console.ui.plain import tip
from console.ui.rows_model import RowsModel
from console.ui.panels.callrates import fmt

Index = QModelIndex | QPersistentModelIndex


@dataclass
class Row:
    name: str
    colour: QColor
    last: float = math.nan
    avg: float = math.nan
    max: float = math.nan
    samples: int | None = None


def stats(values: list[float]) -> tuple[float, float, float]:
    """(last, average, max) of the finite values."""
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return math.nan, math.nan, math.nan
    return finite[-1], sum(finite) / len(finite), max(finite)


class LegendModel(RowsModel):
    def __init__(self, value_text: Callable[[float], str], with_samples: bool = False) -> None:
        self.columns = ["Series", "last", "avg", "max"] + (["n"] if with_samples else [])
        super().__init__(self.columns)
        self.value_text = value_text
        self.rows: list[Row] = []
        self.hidden: set[str] = set()
        self.highlighted: str | None = None

    def key(self, row: Any) -> Any:
        return row.name

    def set_rows(self, rows: list[Row]) -> None:
        """The usual live tick (the same series) repaints the figures in place; other series reset, and a
        series that is gone is neither hidden nor highlighted any more."""
        self.replace(rows)
        names = {r.name for r in rows}
        self.hidden &= names
        if self.highlighted not in names:
            self.highlighted = None

    def restate(self) -> None:
        """Visibility or highlight changed: every row repaints (a handful)."""
        if not self.rows:
            return
        first, last = self.index(0, 0), self.index(len(self.rows) - 1, len(self.columns) - 1)
        self.dataChanged.emit(first, last)


    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole \
                and self.columns[section] == "n":
            return "Calls the percentiles rest on, over the range"
        return super().headerData(section, orientation, role)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return row.name
            if col == 4:
                return "–" if row.samples is None else fmt.count(row.samples)
            return self.value_text((row.last, row.avg, row.max)[col - 1])
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return row.colour
        if role == Qt.ItemDataRole.CheckStateRole and col == 0:
            return Qt.CheckState.Unchecked if row.name in self.hidden else Qt.CheckState.Checked
        if role == Qt.ItemDataRole.ForegroundRole and row.name in self.hidden:
            return QColor(128, 128, 128)
        if role == Qt.ItemDataRole.FontRole and row.name == self.highlighted:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and col:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and col == 0:
            return tip(f"{row.name}\nClick the name to hide or show it, a figure to highlight it.")
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        # not user-checkable: the click is ours (a checkable item would toggle twice)
        return Qt.ItemFlag.ItemIsEnabled


class LegendTable(QTableView):
    toggled = Signal(str)  # a series was hidden or shown
    highlighted = Signal(object)  # the highlighted series' name, or None

    def __init__(self, model: LegendModel) -> None:
        super().__init__()
        self.legend = model
        self.setModel(model)
        self.setObjectName("chart-legend")
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # "module:function" keeps both ends
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 4)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(30)
        header.setHighlightSections(False)
        for c in range(1, model.columnCount()):  # fixed: a live tick must not re-measure the columns
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(c, self.fontMetrics().horizontalAdvance("0,000,000" if c == 4 else "0.000 ms") + 6)
        # One width for every chart's legend, so the plots beside them are as wide and their linked time axes
        # line up; room for a 14-character name, the figures, the sample count and a scroll bar.
        figures = self.fontMetrics().horizontalAdvance("0.000 ms") + 6
        self.setFixedWidth(self.fontMetrics().horizontalAdvance("x" * 14) + 3 * figures
                           + self.fontMetrics().horizontalAdvance("0,000,000") + 6 + 40)
        self.clicked.connect(self._clicked)

    def _clicked(self, index: QModelIndex) -> None:
        name = self.legend.rows[index.row()].name
        if index.column() == 0:
            self.toggle(name)
        else:
            self.highlight(None if self.legend.highlighted == name else name)

    def toggle(self, name: str) -> None:
        self.legend.hidden ^= {name}
        self.legend.restate()
        self.toggled.emit(name)

    def highlight(self, name: str | None) -> None:
        self.legend.highlighted = name
        self.legend.restate()
        self.highlighted.emit(name)
