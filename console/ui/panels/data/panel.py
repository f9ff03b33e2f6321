"""Data panel: tables by component, documents in pages, filter by a field, sort by any column, a document's
JSON, links from id-valued fields, and an `_id` typed here (or in Ctrl+K) opens its document anywhere."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QFontDatabase, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.changes import ANY
from console.store import browse as B
from console.ui.context import AppContext
from console.ui.elide import elide_cells, fit_placeholder
from console.ui.empty import EmptyState
from console.ui.keys import search_leads_to
from console.ui.format import count
from console.ui.panel import Panel
from console.ui.panels.data.model import DocumentsModel

TABLE_ROLE = Qt.ItemDataRole.UserRole + 1


COUNT_CAP = 100_000  # documents counted exactly at most


class DataPanel(Panel):
    key = "data"
    title = "Data"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.tables: list[B.TableInfo] = []
        self.numbers: dict[int, list[B.TableRef]] | None = None
        self.back_stack: list[tuple[B.BrowseQuery, str | None]] = []
        self._pending_select: str | None = None
        self._lookup = ctx.latest()
        self._links_read = ctx.latest()
        self._count = ctx.latest()  # only the newest filter's count is shown

        # find any document by _id
        self.goto = QLineEdit(placeholderText="go to any _id")
        self.goto.setObjectName("data-goto")
        self.goto.setClearButtonEnabled(True)
        self.goto.setToolTip("Go to a document by its _id, whatever its table")
        self.goto.returnPressed.connect(lambda: self.navigate(self.goto.text()))
        self.back_button = QPushButton("← Back")
        self.back_button.setEnabled(False)
        self.back_button.clicked.connect(self.back)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)

        # filter by a field
        self.field = QComboBox()
        self.field.setEditable(True)
        self.field.setMinimumWidth(110)
        self.field.lineEdit().setPlaceholderText("field")
        self.field.setToolTip("A field of the documents; nested fields with dots (address.city)")
        self.op = QComboBox()
        for op in B.OPS:
            self.op.addItem(op, op)
        self.op.currentIndexChanged.connect(lambda _i: self.value.setEnabled(self.op.currentData() != "exists"))
        self.value = QLineEdit(placeholderText="JSON or text")
        self.value.setClearButtonEnabled(True)
        self.value.setToolTip("The value to compare with: JSON (42, true, \"text\") or plain text")
        fit_placeholder(self.value)
        fit_placeholder(self.goto)
        self.value.returnPressed.connect(self.apply_filter)
        self.apply_button = QPushButton("Filter")
        self.apply_button.clicked.connect(self.apply_filter)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear_filter)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        bar = QHBoxLayout()
        bar.addWidget(self.back_button)
        bar.addWidget(self.goto, 2)
        bar.addSpacing(12)
        bar.addWidget(_plain("Where"))
        bar.addWidget(self.field, 1)
        bar.addWidget(self.op)
        bar.addWidget(self.value, 1)
        bar.addWidget(self.apply_button)
        bar.addWidget(self.clear_button)
        bar.addWidget(self.refresh_button)

        # tables by component
        self.tree = QTreeWidget()
        self.tree.setObjectName("data-tables")
        self.tree.setHeaderLabels(["Table", "Documents"])
        self.tree.setRootIsDecorated(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(False)
        self.tree.itemSelectionChanged.connect(self._on_table)

        # documents
        self.model = DocumentsModel(ctx)
        self.model.page_loaded.connect(self._on_page)
        self.model.failed.connect(self._on_failed)
        self.table = QTableView()
        self.table.setObjectName("data-documents")
        self.table.setModel(self.model)
        search_leads_to(self.goto, self.table)  # Down reaches the results; Tab leaves the table
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        elide_cells(self.table)
        self.empty = EmptyState(self.table, self._why_empty, lambda: self.model.loading, ctx=self.ctx)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultSectionSize(150)
        header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.doubleClicked.connect(self._on_double_click)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._on_selection())

        # one document
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.json = QPlainTextEdit()
        self.json.setObjectName("data-json")
        self.json.setReadOnly(True)
        self.json.setFont(mono)
        self.json.setPlaceholderText("Select a document to see its JSON.")
        self.links = QListWidget()
        self.links.setObjectName("data-links")
        self.links.setToolTip("Fields holding a Convex id: click to open that document")
        self.links.itemActivated.connect(self._on_link)
        self.links.itemClicked.connect(self._on_link)
        self.copy_button = QPushButton("Copy JSON")
        self.copy_button.clicked.connect(self._copy)
        self.doc_title = QLabel()
        self.doc_title.setTextFormat(Qt.TextFormat.PlainText)
        self.doc_title.setWordWrap(True)
        detail = QWidget()
        dl = QVBoxLayout(detail)
        dl.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(self.doc_title, 1)
        head.addWidget(self.copy_button)
        dl.addLayout(head)
        dl.addWidget(self.json, 3)
        self.links_label = _plain("Links")
        dl.addWidget(self.links_label)
        dl.addWidget(self.links, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(detail)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([250, 720, 340])  # "conversationState" and "webhookDeliveries" whole
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(2, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.summary)

        ctx.replica_replaced.connect(self.reload)
        ctx.data_changed.connect(self.on_data_changed)
        self.load_tables()

    # -- tables -----------------------------------------------------------------------------------------
    def load_tables(self, then: Any = None) -> None:
        def work(conn):
            tables = B.list_tables(conn)
            return tables, B.table_numbers(conn, tables)

        def done(result) -> None:
            self.tables, self.numbers = result
            self._fill_tree()
            if then:
                then()

        self.ctx.read(work, done, self._on_failed)

    def _fill_tree(self) -> None:
        current = self.model.query.table
        self.tree.blockSignals(True)
        self.tree.clear()
        select = None
        for component, infos in B.grouped(self.tables).items():
            group = QTreeWidgetItem([component or "App", count(sum(t.count for t in infos))])
            group.setFlags(group.flags() & ~Qt.ItemFlag.ItemIsSelectable)
            group.setToolTip(0, "The app's own tables" if not component else f"Tables of the {component} component")
            self.tree.addTopLevelItem(group)
            for info in infos:
                item = QTreeWidgetItem([info.ref.name + ("" if info.ref.sql_table else "  (raw)"), count(info.count)])
                item.setData(0, TABLE_ROLE, info.ref)
                item.setToolTip(0, info.ref.name + " · " + (  # the whole name first: a narrow pane cuts it
                    f"modelled by the console (SQL table {info.ref.sql_table})" if info.ref.sql_table
                    else "not modelled by the console: documents kept whole"))
                item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
                group.addChild(item)
                if info.ref == current:
                    select = item
            group.setExpanded(True)
        self.tree.blockSignals(False)
        if select is not None:
            self.tree.blockSignals(True)
            select.setSelected(True)
            self.tree.blockSignals(False)

    def _item_for(self, ref: B.TableRef) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            for j in range(group.childCount()):
                if group.child(j).data(0, TABLE_ROLE) == ref:
                    return group.child(j)
        return None

    def _on_table(self) -> None:
        items = self.tree.selectedItems()
        ref = items[0].data(0, TABLE_ROLE) if items else None
        if ref is not None and ref != self.model.query.table:
            self.open_table(ref)

    def open_table(self, ref: B.TableRef, filters: tuple[B.FieldFilter, ...] = (), select: str | None = None,
                   remember: bool = True) -> None:
        if remember and self.model.query.table is not None:
            self.back_stack.append((self.model.query, self._selected_id()))
            self.back_button.setEnabled(True)
        self._pending_select = select
        item = self._item_for(ref)
        if item is not None and not item.isSelected():
            self.tree.blockSignals(True)
            self.tree.clearSelection()
            item.setSelected(True)
            self.tree.scrollToItem(item)
            self.tree.blockSignals(False)
        self._show_filters(filters)
        self.json.clear()
        self.links.clear()
        self.links_label.setText("Links")  # no document chosen in the new table yet
        self.doc_title.clear()
        self.summary.setText(f"Opening {ref.label}…")
        self._set_indicator("_id", False)
        self.model.set_query(B.BrowseQuery(ref, filters))

    def _set_indicator(self, field: str, descending: bool) -> None:
        header = self.table.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(max(0, self.model.COLUMNS.index(field)) if field in self.model.COLUMNS else 0,
                                Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder)
        header.blockSignals(False)

    def _on_page(self, rows: int, ms: float) -> None:
        q = self.model.query
        fields = [c for c in self.model.COLUMNS]
        typed = self.field.currentText()
        self.field.blockSignals(True)
        self.field.clear()
        self.field.addItems(fields)
        self.field.setCurrentText(typed)
        self.field.blockSignals(False)
        self._set_indicator(q.sort, q.descending)
        total = next((t.count for t in self.tables if t.ref == q.table), None)
        if q.filters and self.model.has_more:
            total = None  # not known yet: counted off the GUI thread (bounded), not shown as "200+"

            def counted(n: int) -> None:
                if q == self.model.query:
                    self._show_summary(q, self.model.rowCount(), ms, n)

            self._count.read(lambda conn: B.count_matching(conn, q, cap=COUNT_CAP), counted)
        self._show_summary(q, rows, ms, total if not q.filters else (rows if not self.model.has_more else None))
        if self._pending_select:
            row = self.model.row_of(self._pending_select)
            self._pending_select = None
            if row >= 0:
                self.table.selectRow(row)
                self.table.scrollTo(self.model.index(row, 0))

    def _show_summary(self, q: B.BrowseQuery, rows: int, ms: float, matching: int | None) -> None:
        where = " where " + " and ".join(f"{f.field} {f.op} {f.value}".rstrip() for f in q.filters) if q.filters else ""
        if matching is None:
            of = " · counting…" if q.filters else ""
        elif matching > COUNT_CAP:
            of = f" of more than {count(COUNT_CAP)}"
        else:
            of = f" of {count(matching)}" if matching != rows else ""
        self.summary.setText(
            f"{q.table.label if q.table else ''}{where}: {count(rows)} shown{of}"
            + f" · sorted by {q.sort}{' descending' if q.descending else ''} · page in {ms:.0f} ms")

    def _on_failed(self, message: Any) -> None:
        self.summary.setText(str(message))
        self.ctx.status_message.emit(str(message))

    # -- filters ------------------------------------------------------------------------------------
    def _show_filters(self, filters: tuple[B.FieldFilter, ...]) -> None:
        f = filters[0] if filters else None
        self.field.setCurrentText(f.field if f else "")
        self.op.setCurrentIndex(self.op.findData(f.op) if f else 0)
        self.value.setText(f.value if f else "")

    def current_filters(self) -> tuple[B.FieldFilter, ...]:
        name = self.field.currentText().strip()
        if not name:
            return ()
        return (B.FieldFilter(name, self.op.currentData(), self.value.text()),)

    def _why_empty(self) -> str:
        q = self.model.query
        if q.table is None:
            return "Pick a table on the left to browse its documents, or go to any document by its _id above."
        name = q.table.label
        if q.filters:
            shown = " and ".join(f"{f.field} {f.op} {f.value}".rstrip() for f in q.filters)
            return f"No document of {name} matches {shown}. Check the field's name and the value (JSON: 42, true, " \
                   "\"text\"), or Clear the filter."
        return f"{name} has no documents in the replica."

    def apply_filter(self) -> None:
        if self.model.query.table is None:
            return
        self.model.set_query(replace(self.model.query, filters=self.current_filters()))

    def clear_filter(self) -> None:
        self._show_filters(())
        if self.model.query.table is not None and self.model.query.filters:
            self.model.set_query(replace(self.model.query, filters=()))

    def refresh(self) -> None:
        self.refresh_button.setText("Refresh")
        self.refresh_button.setToolTip("Read the page again")
        selected = self._selected_id()

        def again() -> None:
            if self.model.query.table is not None:
                self._pending_select = selected
                self.model.refresh()

        self.load_tables(then=again)

    # -- documents -------------------------------------------------------------------------------------
    def _selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        row = self.model.row_at(rows[0].row()) if rows else None
        return row.id if row else None

    def _on_selection(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        row = self.model.row_at(rows[0].row()) if rows else None
        if row is None:
            return
        self.show_document(self.model.query.table, row)

    def show_document(self, ref: B.TableRef | None, row: B.DocRow) -> None:
        self.doc_title.setText(f"{ref.label if ref else ''} · {row.id}")
        self.json.setPlainText(B.pretty(row.doc))
        self.links.clear()
        links = B.id_fields(row.doc)[:100]
        for path, target in links:
            item = QListWidgetItem(f"{path} → {target}")
            item.setData(Qt.ItemDataRole.UserRole, target)
            item.setForeground(self.palette().color(QPalette.ColorRole.Link))
            self.links.addItem(item)
        self.links_label.setText(f"Links ({self.links.count()})" if self.links.count() else "Links: none")
        if not links:
            return
        numbers, shown = self.numbers, row.id

        def work(conn) -> list[str | None]:
            out = []
            for _path, target in links:
                found = B.find_document(conn, target, numbers)
                out.append(found.ref.label if found else None)
            return out

        def done(labels: list[str | None]) -> None:
            if self._selected_id() not in (shown, None) or self.links.count() != len(links):
                return
            for i, ((path, target), label) in enumerate(zip(links, labels)):
                item = self.links.item(i)
                item.setText(f"{path} → {label} · {target}" if label else f"{path} → not in this replica · {target}")
                if not label:
                    item.setForeground(self.ctx.theme.color("muted"))

        self._links_read.read(work, done)

    def _on_link(self, item: QListWidgetItem) -> None:
        target = item.data(Qt.ItemDataRole.UserRole)
        if target:
            self.navigate(target)

    def _on_double_click(self, index) -> None:
        value = self.model.value_at(index)
        if self.model.field_at(index.column()) != "_id" and B.looks_like_id(value):
            self.navigate(value)

    def _copy(self) -> None:
        from PySide6.QtWidgets import QApplication

        QApplication.clipboard().setText(self.json.toPlainText())

    def back(self) -> None:
        if not self.back_stack:
            return
        query, selected = self.back_stack.pop()
        self.back_button.setEnabled(bool(self.back_stack))
        self.open_table(query.table, query.filters, select=selected, remember=False)  # type: ignore[arg-type]

    # -- Panel ------------------------------------------------------------------------------------------
    def navigate(self, target: Any) -> None:
        """Open the document with this `_id`, whichever table holds it."""
        typed = str(target or "").strip()
        if not typed:
            return
        if not B.looks_like_id(typed):
            self.summary.setText(f"Not a Convex id: {typed[:80]}")
            return
        self.summary.setText(f"Looking for {typed}…")
        numbers = self.numbers

        def work(conn):
            return B.find_document(conn, typed, numbers)

        def done(found: B.Found | None) -> None:
            if found is None:
                self.summary.setText(f"No document with _id {typed} in this replica.")
                return
            self.open_table(found.ref, (B.FieldFilter("_id", "equals", found.row.id),), select=found.row.id)

        self._lookup.read(work, done, self._on_failed)

    def focus_search(self) -> None:
        self.goto.setFocus()
        self.goto.selectAll()

    def reload(self) -> None:
        self.back_stack.clear()
        self.back_button.setEnabled(False)
        self.model.set_query(B.BrowseQuery())
        self.json.clear()
        self.links.clear()
        self.load_tables()

    def on_data_changed(self, changed: Any) -> None:
        ref = self.model.query.table
        if ref is None or not changed:
            return
        names = set(changed)
        if ANY in getattr(changed, "whole", ()) or (ref.sql_table and ref.sql_table in names) or ref.name in names or (
                ref.sql_table is None and "raw_documents" in names):
            # Said, not redrawn: the rows under the reader's eyes stay until they ask (as the dashboard's Data).
            self.redraws["notice"] += 1
            self.refresh_button.setText("Refresh •")  # short: the filter row fits 1024 px with any font
            self.refresh_button.setToolTip("This table changed since the page shown was read: refresh to see it.")

    def save_state(self, state: QSettings) -> None:
        state.setValue("data/splitter", self.splitter.saveState())

    def restore_state(self, state: QSettings) -> None:
        value = state.value("data/splitter")
        if value is not None:
            self.splitter.restoreState(value)


def _plain(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label
