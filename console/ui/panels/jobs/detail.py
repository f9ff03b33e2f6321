"""One job: payload, every attempt's error, lease, idempotency key, and what it concerns."""

from __future__ import annotations

import html
import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPlainTextEdit,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.domain import jobs as J
from console.store.jobs import JobDetail
from console.ui.context import AppContext
from console.ui.elide import ElidedLabel, TokenBrowser, td, token, unbroken, words
from console.ui.format import age, local_time, whole

STATUS_COLOUR = {"dead": "danger", "retrying": "warning", "succeeded": "ok", "running": "ok", "canceled": "muted",
                 "pending": "muted"}


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def logs_link(e: dict) -> str:
    at = e.get("at")
    if not isinstance(at, (int, float)) or isinstance(at, bool):
        return ""
    return f"<br><a href='logs-at:{int(at)}'>log entries</a>"


class JobDetailView(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.detail: JobDetail | None = None
        self.title = ElidedLabel("No job selected")  # a long type never widens the detail past the table
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_id = QToolButton(text="Copy ID")
        self.copy_key = QToolButton(text="Copy key")
        self.copy_payload = QToolButton(text="Copy payload")
        self.copy_id.clicked.connect(lambda: self._copy("id"))
        self.copy_key.clicked.connect(lambda: self._copy("key"))
        self.copy_payload.clicked.connect(lambda: self._copy("payload"))
        buttons = QHBoxLayout()  # under the title: a narrow detail still shows the type and state whole
        for b in (self.copy_id, self.copy_key, self.copy_payload):
            b.setEnabled(False)
            buttons.addWidget(b)
        buttons.addStretch(1)
        head = QVBoxLayout()
        head.setSpacing(2)
        head.addWidget(self.title)
        head.addLayout(buttons)

        self.body = TokenBrowser()  # ids, keys and dates never break across lines; long ones elide
        self.body.setObjectName("job-detail-body")
        self.body.setOpenLinks(False)
        self.body.anchorClicked.connect(self._link)
        self.body.setHtml("<p>Pick a job to see its payload, every attempt's error and its lease.</p>")
        self.payload = QPlainTextEdit()
        self.payload.setObjectName("job-payload")
        self.payload.setReadOnly(True)
        self.payload.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.body)
        split.addWidget(self.payload)
        split.setSizes([400, 200])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(split, 1)

    def _copy(self, what: str) -> None:
        if not self.detail:
            return
        value = {"id": self.detail.job["id"], "key": self.detail.job["key"] or "",
                 "payload": self.payload.toPlainText()}[what]
        QGuiApplication.clipboard().setText(value)
        self.ctx.status_message.emit(f"Copied the job's {what}")

    def _link(self, url) -> None:
        kind, _, target = url.toString().partition(":")
        if kind in ("users", "webhooks"):
            self.ctx.navigate(kind, target)
        elif kind == "logs-at":  # the deployment's log entries around a failed attempt
            try:
                self.ctx.navigate("logs", {"at": float(target) / 1000})
            except ValueError:
                pass

    def clear(self, message: str = "No job selected") -> None:
        self.detail = None
        self.title.setText(message)
        self.body.setHtml("")
        self.payload.setPlainText("")
        for b in (self.copy_id, self.copy_key, self.copy_payload):
            b.setEnabled(False)

    def show_detail(self, d: JobDetail, now_ms: int, keep_position: bool = False) -> None:
        """`keep_position`: the same job drawn again at a later `now_ms` (its ages, lease and stuck state move
        on while nothing rewrites it), keeping where the reader is."""
        bar = self.body.verticalScrollBar()
        at = bar.value()
        self.detail = d
        j = d.job
        t = self.ctx.theme
        self.title.setText(f"{j['type'] or 'job'} · {j['status']}")
        for b in (self.copy_id, self.copy_key, self.copy_payload):
            b.setEnabled(True)
        payload = json.dumps(d.payload, indent=2, ensure_ascii=False, sort_keys=True)
        if not keep_position or self.payload.toPlainText() != payload:
            self.payload.setPlainText(payload)
        stuck = J.is_stuck(d.doc, now_ms)
        # A stuck job is a problem, not a healthy "running": one status, one colour.
        status_colour = t.color("danger" if stuck else STATUS_COLOUR.get(j["status"], "muted")).name()
        status = "STUCK (claimed, past its lease)" if stuck else j["status"]
        if stuck:
            self.title.setText(f"{j['type'] or 'job'} · stuck")
        rows = [
            ("Status", f"<b style='color:{status_colour}'>{words(status)}</b>"),
            ("Job id", unbroken(f"<code>{token(j['id'], 34, 'middle')}</code>")),
            ("Idempotency key", unbroken(f"<code>{token(j['key'], 34, 'middle')}</code>") if j["key"] else ""),
            ("Attempts", words(f"{whole(J.budget_used(d.doc))} of {whole(j['max_attempts'])} automatic"
                               + (f" ({whole(j['attempts'])} in all, {whole(d.doc.get('manualRetries', 0))} manual retries)"
                                  if d.doc.get("retryBase") else ""))),
            ("Next run", unbroken(token(local_time(j['next_run_at'], seconds=True)),
                                  token(age(j['next_run_at'], now_ms / 1000))) if j["next_run_at"] else "—"),
            ("Created", unbroken(token(local_time(j["created_at"], seconds=True)))),
            ("Updated", unbroken(token(local_time(j['updated_at'], seconds=True)),
                                 token(age(j['updated_at'], now_ms / 1000)))),
        ]
        if j["claimed_at"]:
            lease = j["lease_ms"] or J.DEFAULT_POLICY.lease_ms
            rows.append(("Lease", f"claimed by {token(j['claimed_by'], 28, 'middle')} at "
                                  f"{token(local_time(j['claimed_at'], seconds=True))}, lease {token(f'{lease // 1000} s')}, "
                                  + ("expired " if stuck else "ends ") + token(age(j["claimed_at"] + lease, now_ms / 1000))))
        if d.user:
            u = d.user
            name = u.get("name") or u.get("email") or u["id"]
            state = "" if u.get("is_active") in (None, 1, True) else " (deactivated)"
            rows.append(("Concerns user", f"<a href='users:{esc(u['id'])}'>{words(name)}</a>{esc(state)}"))
        if d.delivery:
            dv = d.delivery
            if dv.get("provider"):
                rows.append(("From webhook", f"<a href='webhooks:{esc(dv['id'])}'>{token(dv['provider'])} "
                                             f"{token(dv.get('event_type') or '', 28, 'middle')} "
                                             f"{token(dv.get('provider_event_id') or '', 24, 'middle')}</a>, received "
                                             f"{token(local_time(dv.get('received_at'), seconds=True))} at "
                                             f"{token(dv.get('endpoint'), 34, 'middle')}"))
            else:
                rows.append(("From webhook", f"delivery {token(dv['id'], 34, 'middle')} (not in the replica)"))
        fields = "".join(f"<tr><td width='28%'><b>{esc(k)}</b></td>{td(v)}</tr>" for k, v in rows if v)
        attempts = "".join(  # the attempt and its time stacked: three columns broke dates at 1024 px
            f"<tr>{td(unbroken('#' + esc(whole(e.get('attempt'))), token(local_time(e.get('at'), seconds=True))) + logs_link(e))}"
            f"{td(words(e.get('error'), 28))}</tr>" for e in reversed(d.errors))
        errors = (f"<h3>Attempt errors ({len(d.errors)})</h3><table cellpadding='3' width='100%'>"
                  f"<tr><th align='left'>Attempt</th><th align='left'>Error</th></tr>"
                  f"{attempts}</table>") if d.errors else "<h3>Attempt errors</h3><p><i>No failed attempt.</i></p>"
        self.body.setHtml(f"<table cellpadding='2' width='100%'>{fields}</table>{errors}<h3>Payload</h3>")
        if keep_position:
            bar.setValue(at)
