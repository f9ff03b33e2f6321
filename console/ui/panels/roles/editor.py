"""Editing one user's app roles, activation and organization roles, with a reason for the audit log."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.domain import roles as R
from console.store.roles import RoleRow
from console.ui.context import AppContext
from console.ui.plain import esc, plain, tip
from console.ui.user_actions import UserActions


class RoleEditor(QWidget):
    def __init__(self, ctx: AppContext, actions: UserActions) -> None:
        super().__init__()
        self.ctx = ctx
        self.actions = actions
        self.row: RoleRow | None = None
        self.memberships: list[dict[str, Any]] = []
        self.actor: dict | None = None
        self.title = QLabel("<b>No user selected</b>")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)  # our markup, the data escaped
        self.boxes: dict[str, QCheckBox] = {}
        self.roles_group = QGroupBox("App roles")
        self.roles_layout = QVBoxLayout(self.roles_group)
        self.custom = QLineEdit(placeholderText="other roles, comma-separated")
        self.roles_layout.addWidget(self.custom)
        self.orgs_group = QGroupBox("Organizations (Better Auth roles, comma-separated)")
        self.orgs_form = QFormLayout(self.orgs_group)
        self.member_edits: dict[str, QLineEdit] = {}
        self.reason = QLineEdit(placeholderText="reason (required; goes into the audit log)")
        self.save_button = QPushButton("Save changes")
        self.save_button.clicked.connect(self.save)
        self.active_button = QPushButton("Deactivate…")
        self.active_button.clicked.connect(self.toggle_active)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)  # our markup, the data escaped
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.active_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.roles_group)
        layout.addWidget(self.orgs_group)
        layout.addWidget(self.reason)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.set_enabled(False)

    def set_role_columns(self, roles: list[str]) -> None:
        for role in roles:
            if role not in self.boxes:
                box = QCheckBox(role)
                self.boxes[role] = box
                self.roles_layout.insertWidget(self.roles_layout.count() - 1, box)

    def set_enabled(self, on: bool) -> None:
        for w in [*self.boxes.values(), self.custom, self.reason, self.save_button, self.active_button,
                  *self.member_edits.values()]:
            w.setEnabled(on)

    def say(self, text: str, colour: str | None = None) -> None:
        c = self.ctx.theme.color(colour).name() if colour else None
        self.message.setText(f"<span style='color:{c}'>{esc(text)}</span>" if c else esc(text))

    def show_user(self, row: RoleRow, memberships: list[dict[str, Any]], actor: dict | None) -> None:
        self.row, self.memberships, self.actor = row, memberships, actor
        roles, state = self.actions.optimistic.shown(("roles", row.id), sorted(row.roles))
        active, _ = self.actions.optimistic.shown(("active", row.id), row.is_active)
        status = "" if active else " — <span style='color:red'>DEACTIVATED</span>"
        self.title.setText(f"<b>{esc(row.name)}</b> &lt;{esc(row.email)}&gt;{status}"
                           + (f"<br><i>change {state}</i>" if state else ""))
        self.set_role_columns([r for r in roles if r not in self.boxes and r in ("admin", "support")])
        for role, box in self.boxes.items():
            box.setChecked(role in roles)
        self.custom.setText(", ".join(r for r in roles if r not in self.boxes))
        while self.orgs_form.rowCount():
            self.orgs_form.removeRow(0)
        self.member_edits = {}
        for m in memberships:
            shown, _ = self.actions.optimistic.shown(("member", m["id"]), m["role"])
            edit = QLineEdit(shown or "")
            self.member_edits[m["id"]] = edit
            self.orgs_form.addRow(plain(QLabel(m["name"] or m["organization_id"])), edit)
        if not memberships:
            self.orgs_form.addRow(QLabel("<i>not a member of any organization</i>"))
        self.active_button.setText("Reactivate…" if not active else "Deactivate…")
        refusal = R.check_permission(actor, "roles:write", "change roles") if actor is not None else \
            "No operator identity: choose who is operating in Settings."
        self.set_enabled(True)
        if refusal:
            for box in self.boxes.values():
                box.setEnabled(False)
            self.custom.setEnabled(False)
            self.active_button.setEnabled(False)
            self.active_button.setToolTip(tip(refusal))
            self.say(f"App roles and activation: {refusal} Organization roles follow each organization's "
                     f"own owners and admins; the server checks again.", "warning")
        else:
            self.active_button.setToolTip("")
            self.say("")

    def _roles(self) -> list[str]:
        roles = {r for r, box in self.boxes.items() if box.isChecked()}
        roles |= {r.strip() for r in self.custom.text().split(",") if r.strip()}
        return sorted(roles)

    def save(self) -> None:
        row = self.row
        if row is None:
            return
        reason = self.reason.text().strip()
        if not reason:
            self.say("Every change needs a reason.", "danger")
            return
        sent = 0
        roles, _ = self.actions.optimistic.shown(("roles", row.id), sorted(row.roles))
        if self._roles() != sorted(roles):
            self.actions.set_roles(row.id, sorted(roles), self._roles(), reason, row.ts)
            sent += 1
        for m in self.memberships:
            new = R.join_roles(R.member_roles(self.member_edits[m["id"]].text()))
            if new != R.join_roles(R.member_roles(m["role"])):
                self.actions.set_member_role(m["id"], m["role"], new, reason, m["ts"])
                sent += 1
        self.say(f"{sent} change(s) sent; shown in italics until confirmed." if sent else "Nothing changed.")

    def toggle_active(self) -> None:
        row = self.row
        if row is None:
            return
        reason = self.reason.text().strip()
        if not reason:
            self.say("Deactivating or reactivating needs a reason.", "danger")
            return
        active, _ = self.actions.optimistic.shown(("active", row.id), row.is_active)
        self.actions.set_active(row.id, active, not active, reason, row.ts)
        self.say(("Reactivation" if not active else "Deactivation") + " sent.")
