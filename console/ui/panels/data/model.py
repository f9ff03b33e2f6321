"""Documents of one table: columns inferred from the documents, keyset pages, any column sortable."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication
from sqlalchemy.engine import Connection

from console.store import browse as B
from console.ui.context import AppContext
from console.ui.format import local_time
from console.ui.paging import PagedTableModel


class DocumentsModel(PagedTableModel):
    PAGE = 200

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx, B.BrowseQuery())
        self.COLUMNS = list(B.SYSTEM)
        self.open_ms = 0.0  # the last table open: columns and first page, on the worker thread

    def fetch(self, conn: Connection, query: B.BrowseQuery, after: Any, limit: int) -> Any:
        return B.page(conn, query, after, limit)

    def set_query(self, query: B.BrowseQuery) -> None:
        """A new table, filter or sort: columns (for a new table) and the first page in one read."""
        new_table = query.table != self.query.table or not self.rows
        self.generation += 1
        generation = self.generation
        if self._task:
            self._task.cancel()
        self.beginResetModel()
        self.query = query
        self.rows, self.has_more, self._cursor = [], False, None
        self.endResetModel()
        self.loading = False
        if query.table is None:
            return
        self._set_loading(True)
        started = time.perf_counter()
        limit, known = self.PAGE, list(self.COLUMNS)

        def work(conn: Connection) -> tuple[list[str], B.Page, float]:
            t0 = time.perf_counter()
            cols = B.columns(conn, query.table) if new_table else known  # type: ignore[arg-type]
            page = B.page(conn, query, None, limit)
            return cols, page, (time.perf_counter() - t0) * 1000

        def done(result: tuple[list[str], B.Page, float]) -> None:
            if generation != self.generation:
                return
            cols, page, worker_ms = result
            self.beginResetModel()
            self.COLUMNS = cols
            self.rows = page.rows
            self.has_more, self._cursor, self.last_page = page.has_more, page.cursor, page
            self.endResetModel()
            self._set_loading(False)
            self.open_ms = worker_ms
            self.page_loaded.emit(len(self.rows), (time.perf_counter() - started) * 1000)

        def error(exc: BaseException) -> None:
            if generation == self.generation:
                self._set_loading(False)
                self.failed.emit(f"Loading failed: {exc}")

        self._task = self.ctx.read(work, done, error)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.COLUMNS) or self.query.table is None:
            return
        field, descending = self.COLUMNS[column], order == Qt.SortOrder.DescendingOrder
        if (field, descending) != (self.query.sort, self.query.descending):
            from dataclasses import replace

            self.set_query(replace(self.query, sort=field, descending=descending))

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            if 0 <= section < len(self.COLUMNS):
                name = self.COLUMNS[section]
                return (f"Sort by {name}" if name == "_id" else
                        f"Sort by {name} (not indexed: reads the whole table, which takes a moment on large tables)")
        return super().headerData(section, orientation, role)

    def field_at(self, column: int) -> str:
        return self.COLUMNS[column] if 0 <= column < len(self.COLUMNS) else ""

    def value_at(self, index: QModelIndex) -> Any:
        row = self.row_at(index.row())
        return row.doc.get(self.field_at(index.column())) if row else None

    def display(self, row: B.DocRow, col: int, role: int) -> Any:
        field = self.COLUMNS[col] if col < len(self.COLUMNS) else ""
        value = row.doc.get(field)
        if role == Qt.ItemDataRole.DisplayRole:
            if field == "_creationTime" and isinstance(value, (int, float)):
                return local_time(value, seconds=True)
            return B.cell_text(value)
        if role == Qt.ItemDataRole.ToolTipRole:
            if field == "_creationTime" and isinstance(value, (int, float)):
                return f"{value!r} ms since the epoch"
            if B.looks_like_id(value):
                return f"{value}\nDouble-click to open this document"
            text = B.cell_text(value, width=2000)
            return text if len(text) > 40 else None
        if role == Qt.ItemDataRole.ForegroundRole and field != "_id" and B.looks_like_id(value):
            return QApplication.palette().color(QPalette.ColorRole.Link)
        return None
