"""The audit log: who changed what, when and why; per user or for everything."""

from __future__ import annotations

import json
import time

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from console.store.roles import ROLE_ACTIONS, AuditQuery, audit
from console.ui.context import AppContext
from console.ui.format import local_time

PERIODS = [("any time", None), ("last 24 h", 86400), ("last 7 days", 7 * 86400), ("last 30 days", 30 * 86400)]
HEADERS = ["When", "Action", "By", "Target", "Change", "Reason"]


def _change(raw: str | None) -> str:
    try:
        changes = json.loads(raw or "{}")
    except ValueError:
        return raw or ""
    parts = []
    for field, value in changes.items():
        if isinstance(value, dict) and "before" in value:
            parts.append(f"{field}: {value['before']} → {value['after']}")
        else:
            parts.append(f"{field}: {value}")
    return "; ".join(parts)


class AuditView(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.actor = QComboBox()
        self.actor.addItem("anyone", None)
        self.target = QLineEdit(placeholderText="target id (user or membership)")
        self.action = QComboBox()
        self.action.addItem("any action", None)
        for a in ROLE_ACTIONS + ("job.retry", "job.retry_many", "job.cancel"):
            self.action.addItem(a, a)
        self.period = QComboBox()
        for label, value in PERIODS:
            self.period.addItem(label, value)
        self.table = QTableWidget(0, len(HEADERS))  # at most 300 rows: a page, not the log
        self.table.setObjectName("audit-table")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        for col, width in enumerate([140, 120, 150, 150, 320]):
            self.table.setColumnWidth(col, width)
        top = QHBoxLayout()
        for w in (self.actor, self.target, self.action, self.period):
            top.addWidget(w)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        for combo in (self.actor, self.action, self.period):
            combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.target.editingFinished.connect(self.reload)

    def set_actors(self, staff: list[tuple[str, str]]) -> None:
        for user_id, name in staff:
            if self.actor.findData(user_id) < 0:
                self.actor.addItem(name, user_id)

    def show_for(self, target_id: str | None) -> None:
        self.target.setText(target_id or "")
        self.reload()

    def reload(self) -> None:
        seconds = self.period.currentData()
        q = AuditQuery(actor_id=self.actor.currentData(), target_id=self.target.text().strip() or None,
                       action=self.action.currentData(),
                       since_ms=int((time.time() - seconds) * 1000) if seconds else None)

        def done(rows: list[dict]) -> None:
            self.table.setRowCount(len(rows))
            for i, r in enumerate(rows):
                values = [local_time(r["at"], seconds=True), r["action"], r["actor_name"] or r["actor_user_id"],
                          r["target_name"] or r["resource_id"], _change(r["changes"]), r["reason"] or ""]
                for col, value in enumerate(values):
                    self.table.setItem(i, col, QTableWidgetItem(str(value or "")))

        self.ctx.read(lambda conn: audit(conn, q), done)
