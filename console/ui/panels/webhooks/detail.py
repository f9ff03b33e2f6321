"""One delivery: verdict and diagnosis, headers, the raw body (JSON, form or hex), its job, its replays."""

from __future__ import annotations

import html
import json
import urllib.parse
from typing import Any

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.store.webhooks import DeliveryDetail
from console.ui.context import AppContext
from console.ui.elide import ElidedLabel, TokenBrowser, cut_at_word, td, token, unbroken, words
from console.ui.format import count, local_time

BODY_VIEWS = ("as received", "JSON", "form fields", "hex")


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def render_body(body: bytes, view: str) -> str:
    if view == "JSON":
        try:
            return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
        except ValueError:
            return "(not JSON)"
    if view == "form fields":
        try:
            pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            return "(not form-encoded)"
        return "\n".join(f"{k} = {v}" for k, v in pairs)
    if view == "hex":
        lines = []
        for i in range(0, len(body), 16):
            chunk = body[i:i + 16]
            text_ = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
            lines.append(f"{i:08x}  {chunk.hex(' '):<47}  {text_}")
        return "\n".join(lines)
    return body.decode("utf-8", errors="replace")


class DeliveryDetailView(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.detail: DeliveryDetail | None = None
        self.title = ElidedLabel("No delivery selected")  # a long event name elides rather than widen the window
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        self.replay_button = QPushButton("Replay…")
        self.replay_button.setEnabled(False)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.replay_button)

        self.summary = TokenBrowser()
        self.summary.setObjectName("delivery-summary")
        self.summary.setOpenLinks(False)
        self.summary.anchorClicked.connect(self._link)
        self.summary.setMaximumHeight(230)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.headers = QPlainTextEdit(readOnly=True)
        self.headers.setFont(mono)
        self.body_view = QComboBox()
        self.body_view.addItems(BODY_VIEWS)
        self.body_view.currentTextChanged.connect(lambda _t: self._show_body())
        self.body = QPlainTextEdit(readOnly=True)
        self.body.setObjectName("delivery-body")
        self.body.setFont(mono)
        body_tab = QWidget()
        body_layout = QVBoxLayout(body_tab)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addWidget(self.body_view)
        body_layout.addWidget(self.body, 1)
        self.replays = TokenBrowser()
        self.replays.setObjectName("delivery-replays")
        self.tabs = QTabWidget()
        self.tabs.addTab(body_tab, "Body")
        self.tabs.addTab(self.headers, "Headers")
        self.tabs.addTab(self.replays, "Replays")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)

    def _link(self, url) -> None:
        kind, _, target = url.toString().partition(":")
        self.ctx.navigate(kind, target)

    def clear(self, message: str = "No delivery selected") -> None:
        self.detail = None
        self.title.setText(message)
        for w in (self.summary, self.replays):
            w.setHtml("")
        self.headers.setPlainText("")
        self.body.setPlainText("")
        self.tabs.setTabText(2, "Replays")  # the count belonged to the delivery no longer shown
        self.replay_button.setEnabled(False)

    def _show_body(self) -> None:
        if self.detail:
            self.body.setPlainText(render_body(self.detail.body, self.body_view.currentText()))

    def show_detail(self, d: DeliveryDetail) -> None:
        self.detail = d
        r = d.row
        t = self.ctx.theme
        self.title.setText(f"{r['provider']} · {r['event_type'] or 'delivery'}")
        self.replay_button.setEnabled(True)
        v = d.verdict
        if v is None:
            verdict = "<i>not checked yet</i>"
        elif v["valid"]:
            verdict = f"<b style='color:{t.color('ok').name()}'>valid</b> ({esc(v['secret_label'])})"
        else:
            verdict = (f"<b style='color:{t.color('danger').name()}'>{token(v['reason'].replace('_', ' '))}</b>"
                       f"<br>{words(v['summary'])}")
        rows = [("Verdict", verdict),
                ("Provider id", unbroken(f"<code>{token(r['provider_event_id'], 40, 'middle')}</code>")),
                ("Received", unbroken(token(local_time(r["received_at"], seconds=True)))),
                ("Endpoint", unbroken(token(r["method"]) + " " + token(r["endpoint"], 48, "middle"))),
                ("Body", token(f"{count(len(d.body))} bytes"))]
        if d.job:
            j = d.job
            rows.append(("Job", f"<a href='jobs:{esc(j['id'])}'>{esc(j.get('type') or 'job')} · "
                                f"{esc(j.get('status') or 'not in the replica')}</a>"))
        else:
            rows.append(("Job", "<i>none linked</i>"))
        if d.same_event:
            rows.append(("Same event", esc(f"{len(d.same_event)} more deliveries (retries or replays)"
                                           + (" — all linked to the same job" if d.job and all(
                                               x["job_id"] == d.job["id"] for x in d.same_event) else ""))))
        self.summary.setHtml("<table cellpadding='2' width='100%'>" + "".join(
            f"<tr><td width='22%'><b>{esc(k)}</b></td>{td(v)}</tr>" for k, v in rows) + "</table>")
        self.headers.setPlainText("\n".join(f"{k}: {v}" for k, v in d.headers.items()))
        content_type = next((v for k, v in d.headers.items() if k.lower() == "content-type"), "")
        self.body_view.blockSignals(True)
        self.body_view.setCurrentText("form fields" if "form" in content_type else
                                      "JSON" if "json" in content_type else "as received")
        self.body_view.blockSignals(False)
        self._show_body()
        if d.replays:
            # Each replay on two rows (when and where, then what came back): six columns side by side broke
            # dates and URLs inside themselves at 1024 px.
            lines = []
            for a in d.replays:
                latency = f"{a['latency_ms']:.0f} ms" if a["latency_ms"] else ""
                outcome = " · ".join(x for x in (str(a["status"] or ""), latency) if x)
                when = unbroken(token(local_time(a["at"] * 1000, seconds=True)), token(a["mode"]))
                where = unbroken(token(a["target"], 30, "middle"), token(outcome) if outcome else "")
                said = a["error"] if a["error"] and not a["status"] else a["response_excerpt"]
                lines.append(f"<tr>{td(when)}{td(where)}</tr>"
                             f"<tr><td colspan='2' style='padding-bottom:6px'>{words(cut_at_word(said, 160), 28)}</td></tr>")
            self.replays.setHtml("<table cellpadding='3' width='100%'><tr><th align='left'>When, mode</th>"
                                 "<th align='left'>Target, status</th></tr>" + "".join(lines) + "</table>")
        else:
            self.replays.setHtml("<p><i>Never replayed.</i></p>")
        self.tabs.setTabText(2, f"Replays ({len(d.replays)})")
