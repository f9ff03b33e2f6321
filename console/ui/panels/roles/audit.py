"""The audit log: who changed what, when and why; per user or for everything."""

from __future__ import annotations

import json
import time
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.store.roles import ROLE_ACTIONS, AuditQuery, audit
from console.ui.context import AppContext
from console.ui.format import count, local_time
from console.ui.plain import tip

PERIODS = [("any time", None), ("last 24 h", 86400), ("last 7 days", 7 * 86400), ("last 30 days", 30 * 86400)]
HEADERS = ["When", "Action", "By", "Target", "Change", "Reason"]
LIMIT = 300  # one screenful of history; the filters narrow it
TARGET = 3


def _names(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "none"
    if value in (None, ""):
        return "none"
    return str(value)


def describe_change(raw: str | None) -> str:
    """An audit entry's changes for people: "granted admin", "deactivated", "status dead → pending"."""
    try:
        changes = json.loads(raw or "{}")
    except ValueError:
        return raw or ""
    if not isinstance(changes, dict):
        return str(changes)
    parts = []
    for field, value in changes.items():
        if field == "organizationId":
            continue
        if isinstance(value, dict) and "before" in value:
            before, after = value.get("before"), value.get("after")
            if field == "isActive":
                parts.append("reactivated" if after else "deactivated")
            elif field == "roles" and isinstance(before, list) and isinstance(after, list):
                added = sorted(set(after) - set(before))
                removed = sorted(set(before) - set(after))
                words = ([f"granted {', '.join(added)}"] if added else []) + \
                    ([f"removed {', '.join(removed)}"] if removed else [])
                parts.append("; ".join(words) + f" (now {_names(sorted(after))})" if words else "roles unchanged")
            elif field == "role":
                parts.append(f"organization role {_names(before)} → {_names(after)}")
            else:
                parts.append(f"{field} {_names(before)} → {_names(after)}")
        elif field == "filter" and isinstance(value, dict):
            parts.append("jobs matching " + (", ".join(f"{k} {v}" for k, v in value.items()) or "everything"))
        elif field in ("matched", "retried"):
            parts.append(f"{field} {value}")
        elif isinstance(value, dict):
            parts.append(f"{field}: " + ", ".join(f"{k} {v}" for k, v in value.items()))
        else:
            parts.append(f"{field} {_names(value)}")
    return "; ".join(parts)


def target_link(row: dict) -> tuple[str, str] | None:
    """Where a target opens: (panel, id) for a user, a membership's user, or a job."""
    resource, rid = row.get("resource"), row.get("resource_id")
    if resource == "users" and rid:
        return "users", rid
    if resource == "members" and row.get("member_user_id"):
        return "users", row["member_user_id"]
    if resource == "jobs" and rid and rid != "*":
        return "jobs", rid
    return None


class AuditView(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.rows: list[dict] = []
        self.actor = QComboBox()
        self.actor.addItem("anyone", None)
        self.target = QLineEdit(placeholderText="target: name, email or id")
        self.target.setClearButtonEnabled(True)
        self.target.setMinimumWidth(220)
        self.action = QComboBox()
        self.action.addItem("any action", None)
        for a in ROLE_ACTIONS + ("job.retry", "job.retry_many", "job.cancel"):
            self.action.addItem(a, a)
        self.period = QComboBox()
        for label, value in PERIODS:
            self.period.addItem(label, value)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setObjectName("audit-table")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table
        self.table.setWordWrap(False)
        for col, width in enumerate([140, 120, 150, 170, 320]):
            self.table.setColumnWidth(col, width)
        self.table.cellActivated.connect(self._open)
        self.table.cellDoubleClicked.connect(self._open)
        self.note = QLabel()
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        top = QHBoxLayout()
        for w in (self.actor, self.target, self.action, self.period):
            top.addWidget(w)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        self._link_font = QFont()
        self._link_font.setUnderline(True)
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

    def _open(self, row: int, col: int) -> None:
        if col == TARGET and 0 <= row < len(self.rows) and (link := target_link(self.rows[row])):
            self.ctx.navigate(*link)

    def reload(self) -> None:
        seconds = self.period.currentData()
        q = AuditQuery(actor_id=self.actor.currentData(), target_text=self.target.text().strip(),
                       action=self.action.currentData(),
                       since_ms=int((time.time() - seconds) * 1000) if seconds else None)

        def done(rows: list[dict]) -> None:
            more = len(rows) > LIMIT
            rows = rows[:LIMIT]
            self.rows = rows
            self.table.setRowCount(len(rows))
            link_colour = self.palette().link().color()
            for i, r in enumerate(rows):
                values = [local_time(r["at"], seconds=True), r["action"], r["actor_name"] or r["actor_user_id"],
                          r["target_name"] or r["resource_id"], describe_change(r["changes"]), r["reason"] or ""]
                for col, value in enumerate(values):
                    item = QTableWidgetItem(str(value or ""))
                    item.setToolTip(tip(str(value or "")))
                    if col == TARGET and target_link(r):
                        item.setForeground(link_colour)
                        item.setFont(self._link_font)
                        item.setToolTip(tip(f"{value} — double-click or Enter opens it ({r['resource_id']})"))
                    self.table.setItem(i, col, item)
            if not rows:
                self.note.setText("No audit entry matches these filters: widen the period, or clear the target, "
                                  "the person or the action." if q.target_text or q.actor_id or q.action or q.since_ms
                                  else "The audit log is empty: role changes, deactivations, retries and replays "
                                  "made through the console are recorded here.")
            elif more:
                self.note.setText(f"Showing the newest {count(LIMIT)} entries; older ones match too: narrow the "
                                  "filters (target, person, action, period) to see them.")
            else:
                self.note.setText(f"{count(len(rows))} entries.")

        self.ctx.read(lambda conn: audit(conn, q, limit=LIMIT + 1), done)
