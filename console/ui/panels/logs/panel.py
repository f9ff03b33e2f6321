"""Logs panel: the function log stream, newest first, filtered by function, outcome, request id and text;
pause holds the view still while entries keep being stored; a request id is a link to its entries."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.functionlogs import LogEntry, entry_text
from console.store import loghistory as H
from console.ui.context import AppContext
from console.ui.elide import elide_cells, fit_column
from console.ui.empty import EmptyState, no_match, quoted
from console.ui.keys import search_leads_to
from console.ui.format import count, local_time
from console.ui.panel import Panel
from console.ui.panels.logs.model import REQUEST_COLUMN, LogsModel
from console.ui.logtail import LogTail

OUTCOMES = [("All outcomes", ""), ("Success", "success"), ("Failure", "failure"), ("Progress", "progress")]


COUNT_CAP = 100_000  # entries counted exactly at most


class LogsPanel(Panel):
    key = "logs"
    title = "Logs"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.pending = 0  # entries stored while paused, not shown yet
        self.until: float | None = None  # showing the entries around a moment (navigate), not the live tail
        # The main window keeps one tail running for the whole app (Call rates reads the same history);
        # a panel made on its own (tests) keeps its own.
        shared = getattr(ctx, "log_tail", None)
        self.owns_tail = shared is None
        self.tail = shared if shared is not None else LogTail(ctx)
        self.tail.arrived.connect(self._on_arrived)
        self.tail.status.connect(self._on_status)
        self._known_functions: set[str] = set()

        self.function = QComboBox()
        self.function.setObjectName("logs-function")
        self.function.addItem("All functions", "")
        self.function.setMinimumWidth(180)
        self.outcome = QComboBox()
        for label, value in OUTCOMES:
            self.outcome.addItem(label, value)
        self.request = QLineEdit(placeholderText="request id")
        self.request.setObjectName("logs-request")
        self.text = QLineEdit(placeholderText="error or log line contains…")
        for w in (self.request, self.text):
            w.setClearButtonEnabled(True)
        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(250)
        self.debounce.timeout.connect(self.apply_query)
        self._quiet = False  # filters being set together (navigate, Clear filters): one query, after
        self.request.textChanged.connect(lambda _t: self._changed(typed=True))
        self.text.textChanged.connect(lambda _t: self._changed(typed=True))
        self.function.currentIndexChanged.connect(lambda _i: self._changed(typed=False))
        self.outcome.currentIndexChanged.connect(lambda _i: self._changed(typed=False))
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("logs-pause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._on_pause)
        self.clear_button = QPushButton("Clear filters")
        self.clear_button.clicked.connect(self.clear_filters)
        bar = QHBoxLayout()
        for w in (self.function, self.outcome, self.request):
            bar.addWidget(w)
        bar.addWidget(self.text, 1)
        bar.addWidget(self.clear_button)
        bar.addWidget(self.pause_button)

        self.model = LogsModel(ctx)
        self.model.page_loaded.connect(lambda _n, _ms: self._on_page())
        self.matching: int | None = None  # entries the query matches, once counted (the pages are not all)
        self._count = ctx.latest()  # only the newest query's count is shown
        self.model.failed.connect(self._on_status)
        self.table = QTableView()
        self.table.setObjectName("logs-table")
        self.table.setModel(self.model)
        search_leads_to(self.text, self.table)  # Down reaches the results; Tab leaves the table
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        elide_cells(self.table)  # a cut log line shows its full text
        self.empty = EmptyState(self.table, self._why_empty, lambda: self.model.loading)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        # In pixels, so that entries arriving above move the view by exactly their height (see _on_arrived).
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in enumerate([125, 70, 150, 90, 72, 120, 300]):
            self.table.setColumnWidth(col, width)
        # The time (to the millisecond) and a request id (16 hex digits) whole: both were cut to "12-03 17:4…".
        fit_column(self.table, 0, ["12-30 20:00:00.000", "08-28 08:08:08.888"], padding=12)
        fit_column(self.table, REQUEST_COLUMN, ["0123456789abcdef", "8888888888888888", "dddddddddddddddd"], padding=12)
        fit_column(self.table, 1, ["HttpAction", "Mutation", "Action", "Query"], padding=12)  # "HttpActi…"
        # Shown as Time, Function, Outcome, Request, then Type, Duration, Message (the model's order is kept): at
        # 1024 px, beside the detail pane, the request link was behind the horizontal scroll bar.
        header.moveSection(header.visualIndex(REQUEST_COLUMN), header.visualIndex(3) + 1)
        header.moveSection(header.visualIndex(1), header.visualIndex(REQUEST_COLUMN))
        self.table.clicked.connect(self._on_click)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._on_selection())

        self.detail = QPlainTextEdit()
        self.detail.setObjectName("logs-detail")
        self.detail.setReadOnly(True)
        self.detail.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.detail.setPlaceholderText("Select an entry to read its error and log lines.")
        self.only_request = QPushButton("Only this request")
        self.only_request.setEnabled(False)
        self.only_request.clicked.connect(self._filter_selected_request)
        detail = QWidget()
        dl = QVBoxLayout(detail)
        dl.setContentsMargins(0, 0, 0, 0)
        dl.addWidget(self.detail, 1)
        dl.addWidget(self.only_request)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(detail)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setSizes([980, 300])
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.stream_status = QLabel()
        self.stream_status.setTextFormat(Qt.TextFormat.PlainText)
        self.stream_status.setWordWrap(True)
        foot = QHBoxLayout()
        foot.addWidget(self.summary)
        foot.addStretch(1)
        foot.addWidget(self.stream_status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(foot)

        ctx.replica_replaced.connect(self.reload)
        self._load_functions()
        self.apply_query()

    # -- querying ---------------------------------------------------------------------------------------
    def current_query(self) -> H.LogQuery:
        return H.LogQuery(function=self.function.currentData() or "", outcome=self.outcome.currentData() or "",
                          request_id=self.request.text().strip(), text=self.text.text(), until=self.until)

    def _why_empty(self) -> str:
        q = self.model.query
        return no_match("log entry", [
            f"function {q.function}" if q.function else "", f"outcome {q.outcome}" if q.outcome else "",
            f"request {quoted(q.request_id)}" if q.request_id else "", f"text {quoted(q.text.strip())}" if q.text.strip() else "",
            "the moment chosen" if q.until else ""],
            "Clear the filters to see every entry.",
            "No log entries yet: function calls are logged here as the deployment runs them (the log stream "
            "fills it in live mode).")

    def apply_query(self) -> None:
        self.debounce.stop()
        self.matching = None
        self.pending = 0
        self.detail.clear()
        self.only_request.setEnabled(False)
        self.only_request.setText("Only this request")
        self.model.set_query(self.current_query())

    def clear_filters(self) -> None:
        self._set_filters()
        self.apply_query()

    def _set_filters(self, function: str = "", request_id: str = "") -> None:
        """Every filter at once, without a query per box (the caller applies the query once). Not blockSignals:
        a blocked line edit keeps its clear button after it is emptied."""
        self.until = None
        self._quiet = True
        try:
            if function and self.function.findData(function) < 0:
                self.function.addItem(function, function)
            self.function.setCurrentIndex(max(0, self.function.findData(function)))
            self.outcome.setCurrentIndex(0)
            self.request.setText(request_id)
            self.text.clear()
        finally:
            self._quiet = False
        self.debounce.stop()

    def _changed(self, typed: bool) -> None:
        if self._quiet:
            return
        if typed:
            self.debounce.start()
        else:
            self.apply_query()

    def filter_request(self, request_id: str) -> None:
        """A request id is a link: show only that request's entries, whatever else was filtered (another
        function's filter would hide them)."""
        self._set_filters(request_id=request_id)
        self.apply_query()

    def _load_functions(self) -> None:
        def done(names: list[str]) -> None:
            current = self.function.currentData()
            self.function.blockSignals(True)
            self.function.clear()
            self.function.addItem("All functions", "")
            for name in names:
                self.function.addItem(name, name)
            self.function.setCurrentIndex(max(0, self.function.findData(current)))
            self.function.blockSignals(False)
            self._known_functions = set(names)

        self.ctx.read(H.functions, done)

    # -- the tail -------------------------------------------------------------------------------------
    def _on_arrived(self, added: int, functions: Any) -> None:
        if set(functions) - self._known_functions:
            self._load_functions()
        if self.pause_button.isChecked() or self.model.loading:
            self.pending += added
            self._update_summary()
            return
        newest, query = self.model.newest_pk(), self.model.query

        def done(rows: list[H.LogRow]) -> None:
            if query != self.model.query or self.pause_button.isChecked():
                return
            bar = self.table.verticalScrollBar()
            at_top = bar.value() == 0
            before = self.model.rowCount()
            first_visible = max(0, self.table.rowAt(0))
            above = self.model.insert_in_time(rows, first_visible)
            inserted = self.model.rowCount() - before
            if self.matching is not None:
                self.matching += inserted
            if not at_top and above:  # keep the entries being read where they are
                bar.setValue(bar.value() + above * self.table.verticalHeader().defaultSectionSize())
            self._update_summary()

        self.ctx.read(lambda conn: H.since(conn, query, newest), done)

    def _on_pause(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        if not paused and self.pending:
            self.pending = 0
            self._on_arrived(0, set())
        self._update_summary()

    def _on_status(self, message: Any) -> None:
        self.stream_status.setText(str(message))

    def _on_page(self) -> None:
        if self.model.has_more and self.matching is None:
            # Not every page is loaded: count the matches exactly (bounded, off the GUI thread), not "200+".
            query, up_to = self.model.query, self.model.newest_pk()

            def counted(n: int) -> None:
                if query == self.model.query:  # plus what the tail added to the list since
                    self.matching = n + sum(1 for r in self.model.rows if r.pk > up_to)
                    self._update_summary()

            self._count.read(lambda conn: H.count_matching(conn, query, cap=COUNT_CAP, up_to_pk=up_to), counted)
        self._update_summary()

    def _update_summary(self) -> None:
        rows = self.model.rowCount()
        if not self.model.has_more:
            shown = f"{count(rows)} entr{'y' if rows == 1 else 'ies'}"
        elif self.matching is None:
            shown = f"{count(rows)} shown · counting…"
        elif self.matching > COUNT_CAP:
            shown = f"{count(rows)} shown of more than {count(COUNT_CAP)} entries"
        else:
            shown = f"{count(rows)} shown of {count(self.matching)} entries"
        paused = f" · paused, {count(self.pending)} new" if self.pause_button.isChecked() else ""
        around = f" · up to {local_time(self.until * 1000, seconds=True)} (Clear filters for the tail)" \
            if self.until is not None else ""
        self.summary.setText(f"{shown}, newest first{around}{paused}")

    # -- one entry ---------------------------------------------------------------------------------------
    def _selected(self) -> H.LogRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def _on_selection(self) -> None:
        r = self._selected()
        if r is None:
            return
        entry = LogEntry(at=r.at, kind=r.kind, udf_type=r.udf_type, identifier=r.identifier, request_id=r.request_id,
                         execution_id=r.execution_id, outcome=r.outcome, error=r.error, lines=r.lines,
                         execution_ms=r.execution_ms, cached=r.cached, component_path=r.component_path)
        self.detail.setPlainText(entry_text(entry))
        self.only_request.setEnabled(bool(r.request_id))
        self.only_request.setText(f"Only request {r.request_id}" if r.request_id else "Only this request")

    def _on_click(self, index) -> None:
        if index.column() == REQUEST_COLUMN:
            r = self.model.row_at(index.row())
            if r is not None and r.request_id:
                self.filter_request(r.request_id)

    def _filter_selected_request(self) -> None:
        r = self._selected()
        if r is not None and r.request_id:
            self.filter_request(r.request_id)

    # -- Panel ------------------------------------------------------------------------------------------
    def on_shown(self) -> None:
        self.tail.start()

    def navigate(self, target: Any) -> None:
        """A request id from anywhere shows its entries; {"at": unix seconds, "function": name?} shows the entries
        up to a minute after that moment, newest first (a job's attempt error, a call-rate spike)."""
        if isinstance(target, str) and target.strip():
            self.filter_request(target.strip())
        elif isinstance(target, dict) and isinstance(target.get("at"), (int, float)):
            name = target.get("function")
            self._set_filters(function=name if isinstance(name, str) else "")
            self.until = float(target["at"]) + 60
            self.apply_query()

    def focus_search(self) -> None:
        self.text.setFocus()

    def reload(self) -> None:
        if self.owns_tail:
            self.tail.stop()
        self.pending = 0
        self._load_functions()
        self.apply_query()
        if self.isVisible() or not self.owns_tail:
            self.tail.start()

    def shutdown(self) -> None:
        self.debounce.stop()
        if self.owns_tail:
            self.tail.stop()

    def save_state(self, state: QSettings) -> None:
        state.setValue("logs/splitter", self.splitter.saveState())
        state.setValue("logs/header", self.table.horizontalHeader().saveState())

    def restore_state(self, state: QSettings) -> None:
        for key, target in (("logs/splitter", self.splitter), ("logs/header", self.table.horizontalHeader())):
            value = state.value(key)
            if value is not None:
                target.restoreState(value)
