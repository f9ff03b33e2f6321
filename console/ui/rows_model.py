"""A table model over a list of rows that a background read replaces as a whole."""

from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QModelRoleDataSpan, QPersistentModelIndex, Qt


def fill_roles(model: QAbstractTableModel, index: QModelIndex | QPersistentModelIndex,
               roles: QModelRoleDataSpan) -> None:
    """A model's multiData: the roles a delegate asks for a cell (seven when it paints one), answered by its
    data() in one call from Qt. Each call from C++ into Python waits for the GIL, which sync threads hold,
    so seven per cell were seven waits."""
    for entry in roles:
        value = model.data(index, entry.role())
        if value is None:
            entry.clearData()  # the delegate reuses its entries: the last cell's font would stay
        else:
            entry.setData(value)


class RowsModel(QAbstractTableModel):
    """Rows with an identity (`key`): a new read of the same rows repaints their values in place, so selection
    and scroll stay; different rows reset the model. `headers` are the column titles."""

    def __init__(self, headers: Sequence[str]) -> None:
        super().__init__()
        self.rows: list[Any] = []
        self.headers = list(headers)
        self._columns = len(self.headers)

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

    def multiData(self, index: QModelIndex | QPersistentModelIndex, roles: QModelRoleDataSpan) -> None:  # noqa: N802
        fill_roles(self, index, roles)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._columns

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < self._columns:
            return self.headers[section]
        return None
