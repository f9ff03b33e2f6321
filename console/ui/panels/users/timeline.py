"""The user's timeline in the Users panel: every kind of event in time order, filterable by kind.

Plain text only: product data goes into QTableWidgetItems (never rich text) and tooltips through `tip`.
Loads off the GUI thread when shown, only the newest read counts; a double click opens the event's panel.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.store.timeline import KINDS, LABELS, Event, timeline
from console.ui.context import AppContext
from console.ui.elide import elide_cells
from console.ui.empty import EmptyState
from console.ui.format import count, local_time
from console.ui.plain import plain, tip

PAGE = 300


class TimelineView(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setObjectName("user-timeline")
        self.user_id: str | None = None
        self._to_top = False
        self.events: list[Event] = []
        self.has_more = False
        self._stale = False
        self._read = ctx.latest()

        self.kind_buttons: dict[str, QToolButton] = {}
        # Two rows of toggles (one row of seven set the window's width past 1024 px), each packed to the left: a
        # grid lined them up in columns, leaving a gap after "Audit" as wide as "Invitations" below it.
        kinds = QVBoxLayout()
        rows = [QHBoxLayout(), QHBoxLayout()]
        for row in rows:
            row.setSpacing(4)
            kinds.addLayout(row)
        for i, kind in enumerate(KINDS):
            b = QToolButton(text=LABELS[kind])
            b.setCheckable(True)
            b.setChecked(True)
            b.setObjectName(f"timeline-kind-{kind}")
            b.toggled.connect(lambda _on: self._fill())
            self.kind_buttons[kind] = b
            rows[i // 4].addWidget(b)
        for row in rows:
            row.addStretch(1)
        self.summary = plain(QLabel())
        self.summary.setWordWrap(True)  # its own row: beside the kind toggles it widened the window

        self.table = QTableWidget(0, 4)
        self.table.setObjectName("timeline-table")
        self.table.setHorizontalHeaderLabels(["When", "Kind", "What", "Detail"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        elide_cells(self.table)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        for col, width in enumerate([130, 70, 170]):  # Detail (the last) gets the rest: it was off-screen
            self.table.setColumnWidth(col, width)
        self.table.cellDoubleClicked.connect(self._open)
        self.more = QPushButton("Older events")
        self.more.setEnabled(False)
        self.more.clicked.connect(self.load_older)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(kinds)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.more)
        self.loading = False
        self.empty = EmptyState(self.table, self._why_empty, lambda: self.loading or not self.user_id)

    # -- loading ---------------------------------------------------------------------------------------
    def set_user(self, user_id: str | None) -> None:
        """Show this user's timeline (read now if visible, else when next shown)."""
        if user_id != self.user_id:
            self.events, self.has_more = [], False
            self.table.setRowCount(0)
            self._to_top = True  # another user opens at their newest events, not where the last one was read
        self.user_id = user_id
        self._stale = True
        if self.isVisible():
            self.reload()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    def reload(self) -> None:
        self._stale = False
        if not self.user_id:
            self.summary.setText("")
            return
        user_id = self.user_id
        self.summary.setText("loading…")
        self.loading = True

        def done(events: list[Event]) -> None:
            if user_id == self.user_id:
                self.loading = False
                self.events, self.has_more = events, len(events) >= PAGE
                self._fill()
                self.empty.refresh()
                if self._to_top:
                    self._to_top = False
                    self.table.scrollToTop()

        self._read.read(lambda conn: timeline(conn, user_id, limit=PAGE), done,
                        lambda exc: self.summary.setText(f"timeline failed: {exc}"))

    def load_older(self) -> None:
        if not self.user_id or not self.events:
            return
        user_id, before = self.user_id, self.events[-1].at

        def done(events: list[Event]) -> None:
            if user_id == self.user_id:
                self.events += events
                self.has_more = len(events) >= PAGE
                self._fill()

        self._read.read(lambda conn: timeline(conn, user_id, before=before, limit=PAGE), done)

    # -- showing ---------------------------------------------------------------------------------------
    def _why_empty(self) -> str:
        if not self.user_id:
            return "Select a user to see what happened to them, newest first."
        if self.events:
            return "Nothing of the kinds chosen: tick more kinds above to see the user's other events."
        return "Nothing has happened to this user yet: no messages, sessions, jobs, security events or audited changes."

    def chosen_kinds(self) -> set[str]:
        return {k for k, b in self.kind_buttons.items() if b.isChecked()}

    def shown(self) -> list[Event]:
        kinds = self.chosen_kinds()
        return [e for e in self.events if e.kind in kinds]

    def _fill(self) -> None:
        rows = self.shown()
        self.table.setRowCount(len(rows))
        self.empty.refresh()  # 0 rows to 0 rows says nothing to the model's listeners
        for i, e in enumerate(rows):
            cells = [local_time(e.at), LABELS[e.kind], e.title, e.detail]
            for col, value in enumerate(cells):
                item = QTableWidgetItem("" if value is None else str(value))  # plain text, never markup
                if col >= 2:
                    item.setToolTip(tip(value))
                self.table.setItem(i, col, item)
        # The whole count is not known without reading every source: say what is loaded, and that there is more.
        if self.has_more:
            self.summary.setText(f"{count(len(rows))} shown of the newest {count(len(self.events))} events · "
                                 "older ones: Older events")
        else:
            self.summary.setText(f"{count(len(rows))} shown of {count(len(self.events))} events")
        self.more.setEnabled(self.has_more)

    def _open(self, row: int, _col: int) -> None:
        rows = self.shown()
        if 0 <= row < len(rows) and rows[row].panel:
            e = rows[row]
            self.ctx.navigate(e.panel, e.target)
