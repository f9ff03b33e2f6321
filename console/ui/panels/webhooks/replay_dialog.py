"""Replay a delivery: where to, how (verbatim, re-signed, edited then re-signed), and what came back."""

from __future__ import annotations

import asyncio

import httpx
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from console.store.webhooks import DeliveryDetail
from console.ui.context import AppContext
from console.ui.plain import esc
from console.ui.reason import ask_reason
from console.webhooks.replay import ReplayError, is_loopback, prepare, proxy_for, send
from console.webhooks.reverify import delivery_of
from console.webhooks.secrets import Secret, WebhookSecrets

CUSTOM = "A URL of your own…"


class ReplayDialog(QDialog):
    sent = Signal(str)  # delivery id

    def __init__(self, ctx: AppContext, detail: DeliveryDetail, secrets: WebhookSecrets, client: httpx.AsyncClient,
                 standin_url: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.detail = detail
        self.client = client
        self.setWindowTitle("Replay delivery")
        self.setObjectName("replay-dialog")
        self.resize(640, 520)
        d = detail.row
        route = "/twilio/sms" if d["provider"] == "twilio" else f"/{d['provider']}"
        self.target = QComboBox()
        self.target.setEditable(True)
        self.target.addItem(d["endpoint"])
        if standin_url:
            self.target.addItem(standin_url.rstrip("/") + route)
        self.target.setCurrentIndex(self.target.count() - 1)
        self.modes = QButtonGroup(self)
        modes = QHBoxLayout()
        for i, (key, label) in enumerate((("verbatim", "Verbatim"), ("resigned", "Re-signed now"),
                                          ("edited", "Edited, re-signed"))):
            b = QRadioButton(label)
            b.setProperty("mode", key)
            self.modes.addButton(b, i)
            modes.addWidget(b)
        self.modes.button(1).setChecked(True)
        self.secret = QComboBox()
        for s in secrets.for_provider(d["provider"]):
            self.secret.addItem(s.label, s)
        self.body = QPlainTextEdit(detail.body.decode("utf-8", errors="replace"))
        self.body.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.notes = QLabel()
        self.notes.setTextFormat(Qt.TextFormat.RichText)  # our markup, the data escaped
        self.notes.setWordWrap(True)
        self.outcome = QLabel()
        self.outcome.setTextFormat(Qt.TextFormat.RichText)  # our markup, the data escaped
        self.outcome.setWordWrap(True)
        self.send_button = QPushButton("Send")
        self.send_button.clicked.connect(self.send)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        form = QFormLayout()
        form.addRow("Target", self.target)
        form.addRow("Mode", modes)
        form.addRow("Secret", self.secret)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.send_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Body (editable in the Edited mode):"))
        layout.addWidget(self.body, 1)
        layout.addWidget(self.notes)
        layout.addWidget(self.outcome)
        layout.addLayout(buttons)
        self.modes.idClicked.connect(lambda _i: self.update_notes())
        self.target.currentTextChanged.connect(lambda _t: self.update_notes())
        self._task: asyncio.Future | None = None
        self.actor: dict | None = None  # the operator (set by the panel), for the audit entry
        self.update_notes()

    @property
    def mode(self) -> str:
        return self.modes.checkedButton().property("mode")

    def prepared(self):
        secret: Secret | None = self.secret.currentData()
        body = self.body.toPlainText().encode() if self.mode == "edited" else None
        return prepare(delivery_of(self.detail), self.mode, self.target.currentText().strip(), secret=secret, body=body,
                       allow_live_secret=self.ctx.settings.allow_live_resign)

    def update_notes(self) -> None:
        self.body.setReadOnly(self.mode != "edited")
        self.secret.setEnabled(self.mode != "verbatim")
        try:
            notes = self.prepared().warnings
            self.send_button.setEnabled(True)
        except ReplayError as exc:
            notes = [str(exc)]
            self.send_button.setEnabled(False)
        if not is_loopback(self.target.currentText()):
            notes.append("The target is not on this machine: you will be asked to confirm.")
        colour = self.ctx.theme.color("warning").name()
        self.notes.setText("".join(f"<p style='color:{colour}'>{n}</p>" for n in map(esc, notes)))

    def send(self) -> None:
        try:
            p = self.prepared()
        except ReplayError as exc:
            self.outcome.setText(esc(exc))
            return
        reason = ""
        if not is_loopback(p.url):  # a real endpoint acts on it (messages, payments): confirmed, with a reason
            reason = ask_reason(self, "Replay to another machine",
                                f"Send this delivery to {p.url}? It leaves this machine"
                                + (f", through the proxy {proxy_for(p.url)}." if proxy_for(p.url) else ".")
                                + "\n\nReason (for the console's audit):", "Send") or ""
            if not reason:
                return
        self.send_button.setEnabled(False)
        self.outcome.setText("Sending…")
        mode, delivery_id, backend = self.mode, self.detail.row["id"], self.ctx.backend
        actor = self.actor or {}
        who = f"{actor.get('email') or ''} ({actor.get('_id')})"
        deployment = self.ctx.live.deployment.base if self.ctx.live is not None else "demo"

        async def go() -> None:
            r = await send(self.client, p)
            outcome = await backend.record_replay(delivery_id, p.url, mode, r.status, r.latency_ms, r.excerpt,
                                                  r.error, actor=who, deployment=deployment, reason=reason)
            self.ctx.announce(outcome.changes)
            self.show_result(r)

        self._task = self.ctx.tasks.spawn(go())

    def show_result(self, r) -> None:
        self.send_button.setEnabled(True)
        colour = self.ctx.theme.color("ok" if r.ok else "danger").name()
        what = f"HTTP {r.status}" if r.status is not None else r.error
        self.outcome.setText(f"<b style='color:{colour}'>{esc(what)}</b> in {r.latency_ms or 0:.0f} ms"
                            + (f"<br><code>{esc(r.excerpt[:300])}</code>" if r.excerpt else ""))
        self.sent.emit(self.detail.row["id"])
