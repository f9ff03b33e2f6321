"""A table model over a list of rows that a background read replaces as a whole."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex


class RowsModel(QAbstractTableModel):
    """Rows with an identity (`key`): a new read of the same rows repaints their values in place, so selection
    and scroll stay; different rows reset the model."""

    def __init__(self, columns: int) -> None:
        super().__init__()
        self.rows: list[Any] = []
        self._columns = columns

    def key(self, row: Any) -> Any:
        raise NotImplementedError

    def replace(self, rows: list[Any]) -> None:
        if [self.key(r) for r in rows] == [self.key(r) for r in self.rows]:
            self.rows = rows
            if rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, self._columns - 1))
            return
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._columns
