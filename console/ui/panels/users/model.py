"""A paging table model over user search results.

It holds only the pages fetched so far (200 rows each, keyset-paged) and asks for the next page on a
worker thread when the view scrolls near the end. `data()` formats what is already in memory.
A new query bumps `generation`, so a late page of an old query is dropped.
"""

from __future__ import annotations

import time
from dataclasses import replace

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont

from console.store.users import Page, UserQuery, UserRow, search
from console.ui.context import AppContext
from console.ui.format import age, local_time

Index = QModelIndex | QPersistentModelIndex

COLUMNS = ["Name", "Email", "Phone", "Roles", "Status", "Created", "Last login"]
SORTABLE = {0: "name", 1: "email", 5: "created"}
PAGE = 200


class UsersModel(QAbstractTableModel):
    loading_changed = Signal(bool)
    page_loaded = Signal(int, float)  # rows now held, milliseconds the page took
    failed = Signal(str)

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.query = UserQuery()
        self.rows: list[UserRow] = []
        self.has_more = False
        self.loading = False
        self.generation = 0
        self._task = None
        self._strike = QFont()
        self._strike.setStrikeOut(True)

    # -- querying -------------------------------------------------------------------------------
    def set_query(self, query: UserQuery) -> None:
        self.generation += 1
        if self._task:
            self._task.cancel()
        self.beginResetModel()
        self.query = query
        self.rows = []
        self.has_more = False
        self.endResetModel()
        self._load(after=None)

    def refresh(self) -> None:
        self.set_query(self.query)

    def _load(self, after) -> None:
        generation, query = self.generation, self.query
        self._set_loading(True)
        started = time.perf_counter()

        def done(page: Page) -> None:
            if generation != self.generation:
                return
            self._set_loading(False)
            if page.rows:
                first = len(self.rows)
                self.beginInsertRows(QModelIndex(), first, first + len(page.rows) - 1)
                self.rows.extend(page.rows)
                self.endInsertRows()
            self.has_more = page.has_more
            self.page_loaded.emit(len(self.rows), (time.perf_counter() - started) * 1000)

        def error(exc: BaseException) -> None:
            if generation == self.generation:
                self._set_loading(False)
                self.has_more = False
                self.failed.emit(f"Search failed: {exc}")

        self._task = self.ctx.read(lambda conn: search(conn, query, after=after, limit=PAGE), done, error)

    def _set_loading(self, value: bool) -> None:
        if self.loading != value:
            self.loading = value
            self.loading_changed.emit(value)

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:
        return not parent.isValid() and self.has_more and not self.loading

    def fetchMore(self, parent: Index = QModelIndex()) -> None:
        if self.canFetchMore(parent) and self.rows:
            last = self.rows[-1]
            self._load(after=(last.sort_value, last.pk))

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = SORTABLE.get(column)
        if key and key != self.query.sort:
            self.set_query(replace(self.query, sort=key))  # type: ignore[arg-type]

    # -- Qt model -------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section] if 0 <= section < len(COLUMNS) else None
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return "Click to sort" if section in SORTABLE else "Not sortable (no index)"
        return None

    def row_at(self, row: int) -> UserRow | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def row_of(self, user_id: str) -> int:
        for i, r in enumerate(self.rows):
            if r.id == user_id:
                return i
        return -1

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        u = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return u.name or "(no name)"
            if col == 1:
                return u.email
            if col == 2:
                return u.phone or ""
            if col == 3:
                return ", ".join(u.roles)
            if col == 4:
                return "Active" if u.is_active else "DEACTIVATED"
            if col == 5:
                return local_time(u.created_at)
            if col == 6:
                return age(u.last_login) if u.last_login else "never"
        elif role == Qt.ItemDataRole.UserRole:
            return u.id
        elif role == Qt.ItemDataRole.ToolTipRole:
            if col == 6 and u.last_login:
                return local_time(u.last_login, seconds=True)
            if not u.is_active:
                return "This user is deactivated (soft-deleted): their sessions are refused."
        elif role == Qt.ItemDataRole.ForegroundRole:
            if not u.is_active:
                return self.ctx.theme.color("danger" if col == 4 else "muted")
        elif role == Qt.ItemDataRole.FontRole:
            if not u.is_active and col == 0:
                return self._strike
        return None
