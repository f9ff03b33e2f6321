"""Editing one user's app roles, activation and organization roles, with a reason for the audit log."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
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
from console.ui.production import confirm_production_write
from console.ui.user_actions import UserActions


class RoleEditor(QWidget):
    def __init__(self, ctx: AppContext, actions: UserActions) -> None:
        super().__init__()
        self.ctx = ctx
        self.user_ops = actions
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
        self.orgs_group = QGroupBox("Organizations (Better Auth roles)")
        self.orgs_form = QFormLayout(self.orgs_group)
        self.member_edits: dict[str, QComboBox] = {}
        self.active_admins = 2
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

    def clear(self, note: str = "No user selected") -> None:
        """Nobody to edit (the selection went, or the filter no longer lists the user)."""
        self.row, self.memberships = None, []
        self.title.setText(f"<b>{esc(note)}</b>")
        self.reason.clear()
        for box in self.boxes.values():
            box.setChecked(False)
        self.custom.clear()
        self._clear_orgs()
        self.set_enabled(False)
        self.say("")

    def _clear_orgs(self) -> None:
        while self.orgs_form.rowCount():
            self.orgs_form.removeRow(0)
        self.member_edits = {}

    def target(self) -> dict:
        """The edited user as the rules see it, pending changes included."""
        row = self.row
        roles, _ = self.user_ops.optimistic.shown(("roles", row.id), sorted(row.roles))
        active, _ = self.user_ops.optimistic.shown(("active", row.id), row.is_active)
        return {"_id": row.id, "roles": list(roles), "isActive": active}

    def show_user(self, row: RoleRow, memberships: list[dict[str, Any]], actor: dict | None,
                  active_admins: int = 2) -> None:
        if self.row is None or self.row.id != row.id:
            self.reason.clear()  # a reason belongs to the user it was typed for
            self.say("")
        self.row, self.memberships, self.actor, self.active_admins = row, memberships, actor, active_admins
        roles, state = self.user_ops.optimistic.shown(("roles", row.id), sorted(row.roles))
        active, _ = self.user_ops.optimistic.shown(("active", row.id), row.is_active)
        status = "" if active else " — <span style='color:red'>DEACTIVATED</span>"
        waiting = {"pending": "change sent, waiting for the deployment",
                   "accepted": "change accepted, waiting for the replica"}
        self.title.setText(f"<b>{esc(row.name)}</b> &lt;{esc(row.email)}&gt;{status}"
                           + (f"<br><i>{waiting.get(state, state)}</i>" if state else ""))
        self.set_role_columns([r for r in roles if r not in self.boxes and r in ("admin", "support")])
        for role, box in self.boxes.items():
            box.setChecked(role in roles)
        self.custom.setText(", ".join(r for r in roles if r not in self.boxes))
        self._clear_orgs()
        self.set_enabled(True)  # then each control is disabled where the rules refuse
        for m in memberships:
            shown, _ = self.user_ops.optimistic.shown(("member", m["id"]), m["role"])
            self.orgs_form.addRow(plain(QLabel(m["name"] or m["organization_id"])), self._member_choice(m, shown))
        if not memberships:
            self.orgs_form.addRow(QLabel("<i>not a member of any organization</i>"))
        self.active_button.setText("Reactivate…" if not active else "Deactivate…")
        refusal = R.check_permission(actor, "roles:write", "change roles") if actor is not None else \
            "No operator identity: choose who is operating in Settings."
        target = self.target()
        for role, box in self.boxes.items():
            no = refusal or R.toggle_app_role_refusal(actor, target, role, active_admins)
            box.setEnabled(no is None)
            box.setToolTip(tip(no) or "")
        self.custom.setEnabled(refusal is None)
        active_no = refusal or R.check_set_active(actor, target, not active, active_admins)
        self.active_button.setEnabled(active_no is None)
        self.active_button.setToolTip(tip(active_no) or "")
        can_members = any(w.isEnabled() for w in self.member_edits.values())
        self.reason.setEnabled(refusal is None or can_members)
        self.save_button.setEnabled(refusal is None or can_members)
        if refusal and not self.message.text():
            self.say(f"App roles and activation: {refusal} Organization roles follow each organization's "
                     f"own owners and admins.", "warning")

    def _member_choice(self, m: dict[str, Any], shown: str | None) -> QComboBox:
        """The organization's known roles, only those the operator may choose; disabled with the reason."""
        box = QComboBox()
        target_roles = R.member_roles(shown)
        actor_roles = R.member_roles(m.get("actor_role")) if m.get("actor_role") else None
        no = self._identity_refusal() or R.member_edit_refusal(actor_roles, target_roles)
        known = m.get("known_roles") or list(R.member_roles(shown))
        for value, refusal in R.member_role_choices(actor_roles, target_roles, known, int(m.get("owners") or 0)):
            if refusal is None:
                box.addItem(value, value)
        if box.count() == 0:
            box.addItem(R.join_roles(target_roles), R.join_roles(target_roles))
        box.setCurrentIndex(0)
        box.setEnabled(no is None)
        box.setToolTip(tip(no) or "Roles this organization uses; only those you may give are offered")
        self.member_edits[m["id"]] = box
        return box

    def _identity_refusal(self) -> str | None:
        if self.actor is None:
            return "No operator identity: choose who is operating in Settings."
        if not self.actor.get("isActive", True):
            return "Your own account is deactivated."
        return None

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
        if not confirm_production_write(self.ctx, self, f"Save the role changes of {row.email}?"):
            return
        sent = 0
        roles, _ = self.user_ops.optimistic.shown(("roles", row.id), sorted(row.roles))
        if self._roles() != sorted(roles):
            self.user_ops.set_roles(row.id, sorted(roles), self._roles(), reason, row.ts)
            sent += 1
        for m in self.memberships:
            box = self.member_edits[m["id"]]
            if not box.isEnabled():
                continue
            new = R.join_roles(R.member_roles(box.currentData()))
            shown, _ = self.user_ops.optimistic.shown(("member", m["id"]), m["role"])
            if new != R.join_roles(R.member_roles(shown)):
                self.user_ops.set_member_role(m["id"], shown, new, reason, m["ts"])
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
        active, _ = self.user_ops.optimistic.shown(("active", row.id), row.is_active)
        if not confirm_production_write(self.ctx, self, f"{'Deactivate' if active else 'Reactivate'} {row.email}?"):
            return
        self.user_ops.set_active(row.id, active, not active, reason, row.ts)
        self.say(("Reactivation" if not active else "Deactivation") + " sent.")
