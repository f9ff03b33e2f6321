"""The Alerts panel: every alert of this session (newest first) with when it fired, its value and what it is
made of; acknowledge; open the matching jobs or deliveries. Below, the rules with their current readings
and thresholds (saved to Settings)."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.alerts import BY_KEY, RULES, Alert, thresholds
from console.ui.context import AppContext
from console.ui.elide import elide_cells
from console.ui.empty import EmptyState
from console.ui.panel import Panel
from console.ui.plain import plain, tip

COLUMNS = ("Fired", "Rule", "Value", "What", "State")


def _when(t: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t)) if t else ""


class AlertsPanel(Panel):
    key = "alerts"
    title = "Alerts"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.monitor = getattr(ctx, "alerts", None)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("alerts-table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(1, 250)
        self.table.setColumnWidth(4, 170)
        self.table.setWordWrap(False)
        elide_cells(self.table)  # a cut alert title or detail shows its full text
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.empty = EmptyState(self.table, lambda: "No alert has fired. The rules below are checked every few "
                                "seconds; an alert appears here when one passes its threshold.")
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        self.ack = QPushButton("Acknowledge")
        self.ack.setToolTip("Stop notifying about this alert until it resolves and fires again.")
        self.ack.clicked.connect(self.acknowledge_selected)
        self.open = QPushButton("Open matching…")
        self.open.clicked.connect(self.open_selected)
        self.summary = plain(QLabel())
        self.summary.setWordWrap(True)  # a long summary wraps rather than widen the window past 1024 px
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.ack)
        buttons.addWidget(self.open)
        top = QWidget()
        t = QVBoxLayout(top)
        t.setContentsMargins(0, 0, 0, 0)
        t.addLayout(buttons)
        t.addWidget(self.table)

        rules = QGroupBox("Rules (evaluated on the replica every 10 s)")
        grid = QGridLayout(rules)
        self.spins: dict[str, QDoubleSpinBox] = {}
        self.now_labels: dict[str, QLabel] = {}
        limits = thresholds(ctx.settings.alert_thresholds)
        for row, rule in enumerate(RULES):
            name = QLabel(rule.title)
            name.setToolTip(tip(rule.help))
            spin = QDoubleSpinBox()
            spin.setObjectName(f"threshold-{rule.key}")
            spin.setRange(0, 1_000_000)
            spin.setDecimals(1 if rule.unit in ("%", "min") else 0)
            spin.setPrefix("fires above ")
            spin.setSuffix(f" {rule.unit}")
            spin.setValue(limits[rule.key])
            now = plain(QLabel("–"))
            now.setWordWrap(True)  # what the rule sees now: wraps at 1024 px
            self.spins[rule.key], self.now_labels[rule.key] = spin, now
            grid.addWidget(name, row, 0)
            grid.addWidget(spin, row, 1)
            grid.addWidget(now, row, 2)
        grid.setColumnStretch(2, 1)
        self.save = QPushButton("Save thresholds")
        self.save.clicked.connect(self.save_thresholds)
        grid.addWidget(self.save, len(RULES), 1)
        grid.setRowStretch(len(RULES) + 1, 1)  # rows stay together at the top

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(rules)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.splitter)
        self.shown: list[Alert] = []
        if self.monitor is not None:
            self.monitor.changed.connect(self.redraw)
        self.redraw()

    # -- drawing ------------------------------------------------------------------------------------------
    def redraw(self) -> None:
        if self.monitor is None:
            self.summary.setText("Alerts are evaluated by the main window.")
            return
        book = self.monitor.book
        selected = self._selected()
        alerts = list(book.alerts)
        if [id(a) for a in alerts] != [id(a) for a in self.shown]:
            self.table.setRowCount(len(alerts))
        self.shown = alerts
        for row, a in enumerate(alerts):
            state = ("firing, acknowledged" if a.acknowledged else "firing") if a.active else \
                f"resolved {_when(a.resolved_at)}"
            for col, value in enumerate((_when(a.fired_at), a.title, f"{a.value:g} {BY_KEY[a.rule].unit}",
                                         a.detail, state)):
                item = self.table.item(row, col)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(row, col, item)
                if item.text() != value:
                    item.setText(value)  # QTableWidgetItem text is plain: never rendered as rich text
                if col == 4:
                    item.setForeground(self.ctx.theme.color("danger" if a.active and not a.acknowledged else
                                                            "warning" if a.active else "ok"))
        if selected is not None and selected in alerts:
            self.table.selectRow(alerts.index(selected))
        firing = book.firing()
        self.summary.setText(f"{len(firing)} firing ({len(book.unacknowledged())} not acknowledged) · "
                             f"{len(alerts)} this session" if alerts else "Nothing has fired this session.")
        for key, label in self.now_labels.items():
            r = self.monitor.readings.get(key)
            label.setText(f"now {r.value:g} {BY_KEY[key].unit} · {r.detail}" if r else "–")
        self._update_buttons()

    def _selected(self) -> Alert | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.shown):
            return None
        return self.shown[rows[0].row()]

    def _update_buttons(self) -> None:
        a = self._selected()
        self.ack.setEnabled(a is not None and a.active and not a.acknowledged)
        self.ack.setToolTip("Select a firing alert to acknowledge it." if a is None or not a.active else
                            "Already acknowledged." if a.acknowledged else
                            "Stop notifying about this alert until it resolves and fires again.")
        self.open.setEnabled(a is not None and bool(a.target))

    # -- actions ------------------------------------------------------------------------------------------
    def acknowledge_selected(self) -> None:
        a = self._selected()
        if a is not None and self.monitor is not None:
            self.monitor.acknowledge(a)

    def open_selected(self) -> None:
        a = self._selected()
        if a is not None and a.target:
            self.ctx.navigate(BY_KEY[a.rule].panel, dict(a.target))

    def save_thresholds(self) -> None:
        s = self.ctx.settings
        s.alert_thresholds = {k: spin.value() for k, spin in self.spins.items()}
        s.save()
        self.ctx.status_message.emit("Alert thresholds saved")
        if self.monitor is not None:
            self.monitor.check()

    def navigate(self, target: Any) -> None:
        if isinstance(target, str):
            for row, a in enumerate(self.shown):
                if a.rule == target:
                    self.table.selectRow(row)
                    return

    def on_shown(self) -> None:
        self.redraw()
