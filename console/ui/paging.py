"""A table model that holds only the pages fetched so far and fetches the next one on a worker thread.

Subclasses say how to fetch a page (`fetch`, Qt-free, runs off the GUI thread) and how to show a row
(`display`). A new query bumps `generation`, so a late page of an old query is dropped. `data()`
formats what is already in memory and never does I/O.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QModelRoleDataSpan, QPersistentModelIndex, Qt, Signal
from sqlalchemy.engine import Connection

from console.ui.context import AppContext
from console.ui.rows_model import fill_roles

Index = QModelIndex | QPersistentModelIndex


class PagedTableModel(QAbstractTableModel):
    COLUMNS: list[str] = []
    PAGE = 200
    SORTABLE: dict[int, str] = {}  # column -> the query's sort key; only indexed sorts are offered

    loading_changed = Signal(bool)
    page_loaded = Signal(int, float)  # rows now held, milliseconds the page took
    failed = Signal(str)

    def __init__(self, ctx: AppContext, query: Any) -> None:
        super().__init__()
        self.ctx = ctx
        self.query = query
        self.rows: list[Any] = []
        self.has_more = False
        self.loading = False
        self.generation = 0
        self.last_page: Any = None
        self._task = None
        self._cursor: Any = None

    # -- to override -------------------------------------------------------------------------------------
    def fetch(self, conn: Connection, query: Any, after: Any, limit: int) -> Any:
        """Returns a page object with `rows`, `has_more` and `cursor` (off the GUI thread)."""
        raise NotImplementedError

    def display(self, row: Any, column: int, role: int) -> Any:
        raise NotImplementedError

    # -- querying -------------------------------------------------------------------------------------------
    def set_query(self, query: Any) -> None:
        self.generation += 1
        if self._task:
            self._task.cancel()
        self.beginResetModel()
        self.query = query
        self.rows = []
        self.has_more = False
        self._cursor = None
        self.loading = False
        self.endResetModel()
        self._load(after=None)

    def refresh(self) -> None:
        self.set_query(self.query)

    def _load(self, after: Any) -> None:
        generation, query = self.generation, self.query
        self._set_loading(True)
        started = time.perf_counter()

        def done(page: Any) -> None:
            if generation != self.generation:
                return
            self._set_loading(False)
            if page.rows:
                first = len(self.rows)
                self.beginInsertRows(QModelIndex(), first, first + len(page.rows) - 1)
                self.rows.extend(page.rows)
                self.endInsertRows()
            self.has_more = page.has_more
            self._cursor = page.cursor
            self.last_page = page
            self.page_loaded.emit(len(self.rows), (time.perf_counter() - started) * 1000)

        def error(exc: BaseException) -> None:
            if generation == self.generation:
                self._set_loading(False)
                self.has_more = False
                self.failed.emit(f"Loading failed: {exc}")

        limit = self.PAGE
        self._task = self.ctx.read(lambda conn: self.fetch(conn, query, after, limit), done, error)

    def _set_loading(self, value: bool) -> None:
        if self.loading != value:
            self.loading = value
            self.loading_changed.emit(value)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = self.SORTABLE.get(column)
        if key and key != self.query.sort:
            self.set_query(replace(self.query, sort=key))

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:
        return not parent.isValid() and self.has_more and not self.loading

    def fetchMore(self, parent: Index = QModelIndex()) -> None:
        if self.canFetchMore(parent) and self._cursor is not None:
            self._load(after=self._cursor)

    def replace_rows(self, fresh: dict[Any, Any], key: str = "id") -> None:
        """Swap in newer versions of rows already shown (same keys), signalling only what changed."""
        for i, row in enumerate(self.rows):
            new = fresh.get(getattr(row, key))
            if new is not None and new != row:
                self.rows[i] = new
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.COLUMNS) - 1))

    # -- Qt model -------------------------------------------------------------------------------------------
    def multiData(self, index: Index, roles: QModelRoleDataSpan) -> None:  # noqa: N802
        fill_roles(self, index, roles)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section] if 0 <= section < len(self.COLUMNS) else None
        return None

    def row_at(self, row: int) -> Any:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def row_of(self, row_id: str) -> int:
        for i, r in enumerate(self.rows):
            if r.id == row_id:
                return i
        return -1

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return row.id
        return self.display(row, index.column(), role)
