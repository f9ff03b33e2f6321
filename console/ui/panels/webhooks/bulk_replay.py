"""Replay all deliveries matching the panel's filter: the exact count first, a cap, a rate limit, the mode
and target, a required reason; then progress with Stop. Every replay is recorded with its audit entry."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from console.store.webhooks import DeliveryQuery, detail, matching_ids
from console.ui.context import AppContext
from console.ui.format import count
from console.ui.plain import plain, question
from console.webhooks.bulk import BulkProgress, replay_all
from console.webhooks.replay import ReplayError, is_loopback, prepare, send
from console.webhooks.reverify import delivery_of
from console.webhooks.secrets import WebhookSecrets

DEFAULT_CAP = 100
DEFAULT_RATE = 5
ROUTES = {"twilio": "/twilio/sms", "stripe": "/stripe", "clerk": "/clerk"}


def describe(q: DeliveryQuery) -> str:
    parts = [f"provider {q.provider}" if q.provider else "every provider",
             f"verdict {q.verdict}" if q.verdict else "any verdict"]
    if q.received_from:
        parts.append("received in the chosen range")
    if q.text.strip():
        parts.append(f"containing “{q.text.strip()}”")
    return ", ".join(parts)


class BulkReplayDialog(QDialog):
    finished_run = Signal(object)  # BulkProgress

    def __init__(self, ctx: AppContext, query: DeliveryQuery, matching: int, secrets: WebhookSecrets,
                 client: httpx.AsyncClient, standin_url: str | None, actor: dict, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.query, self.matching, self.secrets, self.client = ctx, query, matching, secrets, client
        self.actor = actor
        self.setWindowTitle("Replay all matching deliveries")
        self.setObjectName("bulk-replay-dialog")
        self.setMinimumWidth(560)
        intro = plain(QLabel(f"{count(matching)} deliveries match: {describe(query)}. They are replayed oldest "
                             "first, paced by the rate below; Stop ends the run between two sends."))
        intro.setWordWrap(True)
        self.cap = QSpinBox()
        self.cap.setRange(1, 10_000)
        self.cap.setValue(min(DEFAULT_CAP, max(1, matching)))
        self.cap.setSuffix(" deliveries at most")
        self.rate = QSpinBox()
        self.rate.setRange(1, 50)
        self.rate.setValue(DEFAULT_RATE)
        self.rate.setSuffix(" per second")
        self.modes = QButtonGroup(self)
        modes = QHBoxLayout()
        for i, (key, label) in enumerate((("resigned", "Re-signed now"), ("verbatim", "Verbatim"))):
            b = QRadioButton(label)
            b.setProperty("mode", key)
            self.modes.addButton(b, i)
            modes.addWidget(b)
        self.modes.button(0).setChecked(True)
        self.target = QComboBox()
        self.target.addItem("Each delivery's own endpoint", "own")
        if standin_url:
            self.target.addItem(f"The local stand-in ({standin_url})", standin_url.rstrip("/"))
            self.target.setCurrentIndex(1)
        self.target.addItem("One URL of your own…", "custom")
        self.custom = QLineEdit(placeholderText="https://… (every delivery goes here)")
        self.custom.setVisible(False)
        self.target.currentIndexChanged.connect(lambda _i: self._update())
        self.reason = QLineEdit(placeholderText="why (required: goes into the audit of the console's actions)")
        self.reason.textChanged.connect(lambda _t: self._update())
        self.custom.textChanged.connect(lambda _t: self._update())
        self.cap.valueChanged.connect(lambda _v: self._update())
        self.will = plain(QLabel())
        self.will.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setVisible(False)
        self.status = plain(QLabel())
        self.status.setWordWrap(True)
        self.start = QPushButton()
        self.start.clicked.connect(self.run)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        form = QFormLayout()
        form.addRow("Cap", self.cap)
        form.addRow("Rate", self.rate)
        form.addRow("Mode", modes)
        form.addRow("Target", self.target)
        form.addRow("", self.custom)
        form.addRow("Reason", self.reason)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.start, self.stop_button, self.close_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.will)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self._stop = asyncio.Event()
        self._task: asyncio.Future | None = None
        self.progress: BulkProgress | None = None
        self._update()

    @property
    def mode(self) -> str:
        return self.modes.checkedButton().property("mode")

    def _target_for(self, d: Any) -> str:
        choice = self.target.currentData()
        if choice == "own":
            return d.row["endpoint"] or ""
        if choice == "custom":
            return self.custom.text().strip()
        return choice + ROUTES.get(d.row["provider"] or "", "/")

    def _update(self) -> None:
        self.custom.setVisible(self.target.currentData() == "custom")
        n = min(self.matching, self.cap.value())
        self.start.setText(f"Replay {count(n)} deliveries")
        missing = ("nothing matches" if n == 0 else "a reason is required" if not self.reason.text().strip() else
                   "the URL must start with http:// or https://" if self.target.currentData() == "custom" and
                   not self.custom.text().strip().startswith(("http://", "https://")) else "")
        running = self._task is not None and not self._task.done()
        self.start.setEnabled(not missing and not running)
        self.start.setToolTip(missing)
        beyond = f"; {count(self.matching - n)} more match beyond the cap" if self.matching > n else ""
        self.will.setText(f"{count(n)} will be replayed ({'cannot start: ' + missing if missing else 'ready'})"
                          f"{beyond}.")

    def run(self) -> None:
        n = min(self.matching, self.cap.value())
        choice = self.target.currentData()
        leaves = choice == "own" or (choice == "custom" and not is_loopback(self.custom.text().strip()))
        if leaves:
            answer = question(self, "Replay to other machines",
                              f"Send {count(n)} deliveries to endpoints that are not on this machine? A real "
                              "endpoint acts on them (messages, payments)." + (
                                  " Re-signed deliveries carry a valid signature." if self.mode == "resigned" else ""))
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._stop.clear()
        self.bar.setRange(0, n)
        self.bar.setValue(0)
        self.bar.setVisible(True)
        self.stop_button.setEnabled(True)
        self.close_button.setEnabled(False)
        for w in (self.cap, self.rate, self.target, self.custom, self.reason):
            w.setEnabled(False)
        self._task = self.ctx.tasks.spawn(self._run(n))
        self._update()

    async def _run(self, n: int) -> None:
        query = self.query
        mode, reason, rate = self.mode, self.reason.text().strip(), self.rate.value()
        actor = f"{self.actor.get('email') or ''} ({self.actor.get('_id')})"
        deployment = self.ctx.live.deployment.base if self.ctx.live is not None else "demo"
        batch = uuid.uuid4().hex[:12]
        allow_live = self.ctx.settings.allow_live_resign

        read = self.ctx.aread  # the app's runner: reads on the pool
        backend = self.ctx.backend

        ids = await read(lambda conn: matching_ids(conn, query, n))
        self.bar.setRange(0, len(ids))

        def prepared_for(d):
            secret = None
            if mode != "verbatim":
                found = self.secrets.for_provider(d.row["provider"] or "")
                if not found:
                    raise ReplayError(f"no {d.row['provider']} secret to re-sign with")
                secret = found[0]
            return prepare(delivery_of(d), mode, self._target_for(d), secret=secret, allow_live_secret=allow_live)

        async def record(d, p, r):  # on the writer thread, with its audit entry; panels hear of it
            outcome = await backend.record_replay(d.row["id"], p.url, mode, r.status, r.latency_ms, r.excerpt,
                                                  r.error, actor=actor, deployment=deployment, reason=reason,
                                                  batch=batch)
            self.ctx.announce(outcome.changes)

        async with httpx.AsyncClient(trust_env=False) as direct:
            self.progress = await replay_all(
                ids, load=lambda i: read(lambda conn: detail(conn, i)), prepare=prepared_for,
                send=lambda p: send(self.client, p, direct=direct), record=record, rate_per_s=rate,
                stop=self._stop, on_progress=self._show)
        self._show(self.progress, final=True)

    def _show(self, p: BulkProgress, final: bool = False) -> None:
        self.bar.setValue(p.done)
        text = f"{count(p.done)} of {count(p.total)}: {count(p.ok)} accepted, {count(p.failed)} refused or " \
               f"unreachable, {count(p.skipped)} skipped"
        if final:
            text = ("Stopped. " if p.stopped else "Done. ") + text
            # A finished batch is not started again from here (a second click replayed everything twice):
            # what is left is Close. Another batch is a new dialog, with its own reason and audit entry.
            self.start.hide()
            self.stop_button.hide()
            self.close_button.setEnabled(True)
            self.close_button.setDefault(True)
            self.close_button.setFocus()
            self.finished_run.emit(p)
        self.status.setText(text + (f". Last: {p.last}" if p.last else "."))
        self._update()

    def stop(self) -> None:
        self._stop.set()
        self.stop_button.setEnabled(False)

    def reject(self) -> None:
        if self._task is not None and not self._task.done():
            return  # Stop first: closing mid-run would leave it running unseen
        super().reject()
