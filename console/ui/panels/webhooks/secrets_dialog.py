"""Webhook secrets per provider and environment, kept in the OS keyring; the demo's public ones preset."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QGridLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from console.secrets import SecretStoreError
from console.ui.plain import warning
from console.webhooks.secrets import ENVIRONMENTS, PROVIDERS, WebhookSecrets

UNCHANGED = "••••••••"


class SecretsDialog(QDialog):
    def __init__(self, secrets: WebhookSecrets, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.secrets = secrets
        self.setWindowTitle("Webhook secrets")
        self.setObjectName("webhook-secrets")
        grid = QGridLayout()
        grid.addWidget(QLabel("<b>Provider</b>"), 0, 0)
        for col, env in enumerate(ENVIRONMENTS, 1):
            grid.addWidget(QLabel(f"<b>{env}</b>"), 0, col)
        self.fields: dict[tuple[str, str], QLineEdit] = {}
        for row, provider in enumerate(PROVIDERS, 1):
            grid.addWidget(QLabel(provider), row, 0)
            for col, env in enumerate(ENVIRONMENTS, 1):
                edit = QLineEdit()
                edit.setEchoMode(QLineEdit.EchoMode.Password)
                edit.setPlaceholderText("whsec_… / auth token")
                if secrets.get(provider, env):
                    edit.setText(UNCHANGED)
                self.fields[(provider, env)] = edit
                grid.addWidget(edit, row, col)
        why = secrets.store.unavailable_reason
        note = QLabel("Secrets are kept in the OS keyring only" + ("" if why is None else
                      f" — not here ({why}), so they are kept for this session only, in memory") +
                      ". The demo's public secrets are always available for demo deliveries. "
                      "Every delivery is verified again after saving.")
        note.setWordWrap(True)
        note.setTextFormat(Qt.TextFormat.PlainText)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def save(self) -> None:
        session_only = not self.secrets.store.available
        try:
            for (provider, env), edit in self.fields.items():
                value = edit.text().strip()
                if value != UNCHANGED:
                    self.secrets.set(provider, env, value, session_only=session_only)
        except SecretStoreError as exc:
            warning(self, "Secrets not saved", str(exc))
            return
        self.accept()
