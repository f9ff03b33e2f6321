"""Settings: deployment, deploy key (OS keyring only), operator identity, theme."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from console.secrets import DEPLOY_KEY, SecretStoreError
from console.store.roles import operators
from console.ui.context import AppContext
from console.ui.plain import esc, question, warning
from console.webhooks.replay import is_loopback

KEY_UNCHANGED = "••••••••"


class SettingsDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Settings")
        self.setObjectName("settings-dialog")
        self.resize(640, 480)  # the keyring note, long where the OS has no keyring, is read whole
        s = ctx.settings
        secrets = ctx.secrets

        self.url = QLineEdit(s.deployment_url)
        self.url.setPlaceholderText("https://happy-otter-123.convex.cloud")
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        where = secrets.where(DEPLOY_KEY)
        if where:
            self.key.setText(KEY_UNCHANGED)
        self.key.setPlaceholderText("prod:happy-otter-123|…" + ("  (stored in the OS keyring)" if secrets.available
                                                                 else "  (kept for this session only)"))
        self.session_only = QCheckBox("Keep the key for this session only (forgotten when the console closes)")
        self.keyring_note = QLabel()
        self.keyring_note.setWordWrap(True)
        self.keyring_note.setTextFormat(Qt.TextFormat.RichText)  # our markup, the backend's name escaped
        if secrets.available:
            self.keyring_note.setText(f"Deploy keys are stored in the OS keyring ({secrets.backend_name}), "
                                      "never in settings files, the replica or logs.")
            self.session_only.setChecked(where == "session")
        else:
            self.keyring_note.setText(
                f"<b>No OS keyring is available</b>: {esc(secrets.unavailable_reason)}. "
                "A deploy key can only be kept for this session, in memory. It is never written to disk."
            )
            self.keyring_note.setStyleSheet(f"color: {ctx.theme.color('warning').name()}")
            self.session_only.setChecked(True)
            self.session_only.setEnabled(False)

        self.operator = QComboBox()
        self.operator.setEditable(False)
        self.operator.addItem("(nobody: read-only)", ("", ""))
        current = ctx.operator_id()  # chosen, or the demo's admin until someone is chosen
        if current:
            label = s.operator_email if s.operator_user_id else "the demo's admin (until you choose)"
            self.operator.addItem(label or current, (current, s.operator_email))
            self.operator.setCurrentIndex(1)
        self.operator_note = QLabel("Write actions act as this user of the product; the deployment's own "
                                    "role checks apply to them.")
        self.operator_note.setWordWrap(True)
        self._load_staff()

        self.on_demand = QLineEdit(", ".join(s.on_demand_tables))
        self.on_demand.setPlaceholderText("e.g. /messages, betterAuth/session")
        self.on_demand.setToolTip("Tables read through the deployment's functions when needed instead of replicated "
                                  "(huge tables such as messages). Takes effect on the next connect.")

        self.live_resign = QCheckBox("Allow re-signing webhook replays with a live secret")
        self.live_resign.setChecked(s.allow_live_resign)
        self.production_writes = QCheckBox("Allow mutations and actions on production (function runner)")
        self.production_writes.setChecked(s.allow_production_writes)
        self.production_writes.setToolTip("Off: the Functions panel runs only queries on a deployment whose deploy key "
                                          "starts with prod:. Every run is written to the console's local audit.")

        self.theme = QComboBox()
        for label, value in (("Follow the system", "system"), ("Light", "light"), ("Dark", "dark")):
            self.theme.addItem(label, value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(s.theme)))

        form = QFormLayout()
        form.addRow("Deployment URL", self.url)
        form.addRow("Deploy key", self.key)
        form.addRow("", self.session_only)
        form.addRow("", self.keyring_note)
        form.addRow("Read on demand", self.on_demand)
        form.addRow("Operator", self.operator)
        form.addRow("", self.operator_note)
        form.addRow("Webhooks", self.live_resign)
        form.addRow("Functions", self.production_writes)
        form.addRow("Theme", self.theme)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)
        layout.addWidget(buttons)

    def _load_staff(self) -> None:
        """Every user who may act: app staff and the owners and admins of organizations."""
        def done(rows: list[dict]) -> None:
            current = self.operator.currentData()
            for r in rows:
                what = ", ".join(r["roles"]) or f"org {r['orgs']}"
                label = f"{r['name']} <{r['email']}> · {what}"
                if r["id"] == current[0]:
                    self.operator.setItemText(1, label)
                    self.operator.setItemData(1, (r["id"], r["email"]))
                    continue
                self.operator.addItem(label, (r["id"], r["email"]))
                self.operator.setItemData(self.operator.count() - 1, label, Qt.ItemDataRole.ToolTipRole)

        self.ctx.read(operators, done)

    def save(self) -> None:
        s = self.ctx.settings
        url = self.url.text().strip().rstrip("/")
        if url and not url.startswith(("https://", "http://")):
            QMessageBox.warning(self, "Settings", "The deployment URL must start with https:// (or http:// "
                                "for a local deployment).")
            return
        key = self.key.text().strip()
        sends_key = bool(key and key != KEY_UNCHANGED) or (key == KEY_UNCHANGED and bool(self.ctx.secrets.where(DEPLOY_KEY)))
        if url.startswith("http://") and sends_key and not is_loopback(url):
            answer = question(self, "Deploy key over plain HTTP",
                              f"{url} is not on this machine and uses plain http://: the deploy key would cross the "
                              "network unencrypted, readable by anyone on the way, and it grants admin access. "
                              "Use https:// instead. Save anyway?")
            if answer != QMessageBox.StandardButton.Yes:
                return
        if key and key != KEY_UNCHANGED:
            try:
                self.ctx.secrets.set(DEPLOY_KEY, key, session_only=self.session_only.isChecked())
            except SecretStoreError as exc:
                warning(self, "Deploy key not saved", str(exc))
                return
        elif not key:
            self.ctx.secrets.delete(DEPLOY_KEY)
        s.deployment_url = url
        s.on_demand_tables = [t.strip() for t in self.on_demand.text().split(",") if t.strip()]
        operator_before = s.operator_user_id
        s.operator_user_id, s.operator_email = self.operator.currentData()
        s.operator_read_only = not s.operator_user_id
        s.theme = self.theme.currentData()
        s.allow_live_resign = self.live_resign.isChecked()
        s.allow_production_writes = self.production_writes.isChecked()
        s.save()
        self.ctx.theme.set_preference(s.theme)
        self.ctx.status_message.emit("Settings saved")
        if s.operator_user_id != operator_before:
            self.ctx.operator_changed.emit()
        self.accept()
