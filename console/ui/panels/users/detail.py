"""Everything about one user, on one scrollable page."""

from __future__ import annotations

import html
import json
from typing import Any, Iterable

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.store.users import UserDetail
from console.ui.context import AppContext
from console.ui.elide import TokenBrowser, td, token, unbroken, words
from console.ui.format import age, local_time
from console.ui.panels.users.timeline import TimelineView

# Fields of the users document shown in their own place; anything else is listed as "other fields".
_MODELLED = {
    "_id", "_creationTime", "email", "name", "roles", "role", "permissions", "isActive", "phone",
    "phoneNumber", "image", "avatar", "avatarUrl", "labels", "emailVerified", "externalId", "createdAt",
    "lastLogin", "lastLoginAt",
}
EMPTY_HELP = """
<h3>Finding people</h3>
<ul>
<li><b>Email</b>: type the start of an address (<code>olivia.sm</code>), or all of it.</li>
<li><b>Name</b>: any words in any order, prefixes work (<code>smi oli</code>); accents are ignored.</li>
<li><b>Phone</b>: digits in any format (<code>415 555 01</code>, <code>+1 (415) 555-0123</code>).</li>
<li><b>Ids</b>: a users <code>_id</code>, the Clerk (external) id, a Stripe customer id (<code>cus_…</code>),
a session token or its hint as shown here (<code>sess…w9Qz</code>).</li>
<li>Narrow by role or show only deactivated accounts with the filters above the list.</li>
</ul>
<h3>Keys</h3>
<ul>
<li><b>Ctrl+K</b> quick find from anywhere &nbsp; <b>Ctrl+F</b> search in this panel</li>
<li><b>Ctrl+1</b>… switch panels &nbsp; <b>Ctrl+,</b> settings</li>
</ul>
"""
_SEVERITY = {"high": "danger", "critical": "danger", "warning": "warning"}
_BAND = {"severe": "danger", "high": "warning", "moderate": "muted", "low": "ok"}


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def live_session(s: dict, now_ms: int) -> bool:
    """Marked active and not past its expiry (console/domain/sessions.py, on the replica's columns)."""
    return bool(s["active"]) and not (s["expires_at"] is not None and s["expires_at"] <= now_ms)


def _short_agent(agent: str | None) -> str:
    if not agent:
        return ""
    for marker, name in (("Tidewell/", "Tidewell app"), ("iPhone", "iPhone"), ("Android", "Android"),
                         ("Firefox", "Firefox"), ("Chrome", "Chrome"), ("Safari", "Safari")):
        if marker in agent:
            return name
    return agent[:40]


class UserDetailView(QWidget):
    end_session_requested = Signal(str)  # a session id, from its "end…" link

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.detail: UserDetail | None = None
        self.renders = 0  # how many times a detail was drawn (tests: a change that shows nothing new draws none)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)

        self.banner = QLabel()
        self.banner.setObjectName("deactivated-banner")
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.RichText)  # our markup, the data escaped
        self.banner.hide()
        layout.addWidget(self.banner)

        head = QHBoxLayout()
        self.title = QLabel("No user selected")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title.setWordWrap(True)  # a long name wraps rather than widening the window
        head.addWidget(self.title, 1)
        layout.addLayout(head)
        head = QHBoxLayout()  # the actions on a row of their own, under the name: together they passed 1024 px
        head.addStretch(1)
        self.active_button = QToolButton(text="Deactivate…")
        self.active_button.setObjectName("user-active-button")
        self.active_button.setEnabled(False)
        head.addWidget(self.active_button)
        self.end_sessions_button = QToolButton(text="End all sessions…")
        self.end_sessions_button.setObjectName("end-sessions-button")
        self.end_sessions_button.setEnabled(False)
        head.addWidget(self.end_sessions_button)
        self.copy_id = QToolButton(text="Copy ID")
        self.copy_email = QToolButton(text="Copy email")
        self.copy_id.clicked.connect(lambda: self._copy("_id"))
        self.copy_email.clicked.connect(lambda: self._copy("email"))
        for b in (self.copy_id, self.copy_email):
            b.setEnabled(False)
            head.addWidget(b)
        layout.addLayout(head)

        self.subtitle = QLabel("Search on the left and pick a user to see everything about them.")
        self.subtitle.setTextFormat(Qt.TextFormat.RichText)
        self.subtitle.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle.setWordWrap(True)
        layout.addWidget(self.subtitle)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)

        self.body = TokenBrowser()  # dates, IPs and ids never break across lines; long ones elide
        self.body.setObjectName("user-detail-body")
        self.body.setOpenLinks(False)
        self.body.anchorClicked.connect(self._link)
        self.body.setFrameShape(QFrame.Shape.NoFrame)
        # Details, or the timeline of everything that happened to the user (console/store/timeline.py).
        self.tabs = QTabWidget()
        self.tabs.setObjectName("user-detail-tabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.body, "Details")
        self.timeline = TimelineView(ctx)
        self.tabs.addTab(self.timeline, "Timeline")
        layout.addWidget(self.tabs, 1)
        self.body.setHtml(EMPTY_HELP)

    def _copy(self, field: str) -> None:
        if self.detail:
            value = self.detail.user["id"] if field == "_id" else self.detail.user["email"]
            QGuiApplication.clipboard().setText(value)
            self.ctx.status_message.emit(f"Copied {field.strip('_')}: {value}")

    def _link(self, url) -> None:
        kind, _, target = url.toString().partition(":")
        if kind == "chats":
            self.ctx.navigate("chats", {"user": target})
        elif kind == "end-session":
            self.end_session_requested.emit(target)
        elif kind in ("jobs-user", "deliveries-user"):
            # Their jobs, or their webhook deliveries, as a filtered list in that panel.
            self.ctx.navigate("jobs" if kind == "jobs-user" else "webhooks", {"user": target})
        elif kind:
            self.ctx.navigate(kind, target)

    def clear(self, message: str = "No user selected") -> None:
        self.detail = None
        self.title.setText(message)
        self.subtitle.setText("")
        self.banner.hide()
        self.body.setHtml(EMPTY_HELP)
        self.copy_id.setEnabled(False)
        self.copy_email.setEnabled(False)
        self.end_sessions_button.setEnabled(False)
        self.active_button.setEnabled(False)  # it stayed enabled with no user shown, and did nothing
        self.active_button.setToolTip("Select a user first")
        self.timeline.set_user(None)

    # -- rendering ----------------------------------------------------------------------------------
    def show_detail(self, d: UserDetail, keep_position: bool = False) -> None:
        """Show `d`; with `keep_position` (the same user, changed) the page keeps its scroll position, its
        text selection and focus."""
        view = self._view_state() if keep_position else None
        self.detail = d
        self.renders += 1
        u = d.user
        self.timeline.set_user(u["id"])
        theme = self.ctx.theme
        self.title.setText(u["name"] or "(no name)")
        chips = " ".join(self._chip(r, "ok" if r == "admin" else "muted") for r in d.roles) or self._chip("customer", "muted")
        status = self._chip("Active", "ok") if u["is_active"] else self._chip("DEACTIVATED", "danger")
        self.subtitle.setText(
            f"{status} {chips}&nbsp;&nbsp;<b>{token(u['email'], 48, 'middle')}</b>"
            f"{'' if u['email_verified'] else ' <i>(unverified)</i>'}<br>"
            f"<span style='color:{theme.color('muted').name()}'>id {token(u['id'])}</span>"
        )
        self.copy_id.setEnabled(True)
        self.copy_email.setEnabled(bool(u["email"]))
        if u["is_active"]:
            self.banner.hide()
        else:
            why = next((a for a in d.audit if a["action"] == "user.deactivate"), None)
            text = "<b>Deactivated.</b> This account is soft-deleted: the product refuses its sessions."
            if why:
                who = why["actor_name"] or why["actor_user_id"]
                text += f" Deactivated {token(local_time(why['at']))} by {esc(who)}: “{esc(why['reason'])}”."
            self.banner.setText(text)
            self.banner.setStyleSheet(
                f"QLabel#deactivated-banner {{ background: {theme.color('danger_bg').name()};"
                f" color: {theme.color('danger').name()}; padding: 8px; border-radius: 4px; }}"
            )
            self.banner.show()
        self.body.setHtml(self._html(d))
        if view is not None:
            self._restore_view(view)
            # The page lays out lazily, so its height may still change: put the position back once more.
            QTimer.singleShot(0, lambda: self._restore_view(view) if self.detail is d else None)

    def _view_state(self) -> tuple[int, bool, int, int, bool]:
        bar = self.body.verticalScrollBar()
        cursor = self.body.textCursor()
        return bar.value(), bar.value() >= bar.maximum() > 0, cursor.anchor(), cursor.position(), self.body.hasFocus()

    def _restore_view(self, view: tuple[int, bool, int, int, bool]) -> None:
        value, at_bottom, anchor, position, focused = view
        end = max(0, len(self.body.toPlainText()))
        cursor = self.body.textCursor()
        cursor.setPosition(min(anchor, end))
        cursor.setPosition(min(position, end), QTextCursor.MoveMode.KeepAnchor)
        self.body.setTextCursor(cursor)
        bar = self.body.verticalScrollBar()
        bar.setValue(bar.maximum() if at_bottom else min(value, bar.maximum()))
        if focused:
            self.body.setFocus()

    def _session_state(self, active: bool, user_active: bool) -> str:
        if not active:
            return self._colour("ended", "muted")
        return self._colour("active", "ok") if user_active else self._colour("refused", "danger")

    def _chip(self, text: str, colour: str) -> str:
        c = self.ctx.theme.color(colour).name()
        return f"<span style='color:{c}; font-weight:600'>[{esc(text)}]</span>"

    def _colour(self, text: str, colour: str | None) -> str:
        if not colour:
            return words(text)
        return f"<span style='color:{self.ctx.theme.color(colour).name()}'>{words(text)}</span>"

    @staticmethod
    def _table(headers: list[str], rows: Iterable[list[str]], empty: str) -> str:
        rows = list(rows)
        if not rows:
            return f"<p><i>{esc(empty)}</i></p>"
        head = "".join(f"<th align='left'>{esc(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(td(c) for c in r) + "</tr>" for r in rows)
        return f"<table cellspacing='0' cellpadding='3' width='100%'><tr>{head}</tr>{body}</table>"

    @staticmethod
    def _dates(pairs: list[tuple[str, str]]) -> str:
        """Labelled dates stacked in one cell, each unbroken."""
        return unbroken(*(f"{esc(k)} {token(v)}" for k, v in pairs if v))

    @staticmethod
    def _fields(pairs: list[tuple[str, str]]) -> str:
        body = "".join(
            f"<tr><td width='30%'><b>{esc(k)}</b></td>{td(v)}</tr>" for k, v in pairs if v not in (None, "")
        )
        return f"<table cellspacing='0' cellpadding='2' width='100%'>{body}</table>"

    def _html(self, d: UserDetail) -> str:
        u = d.user
        parts: list[str] = []
        last_login = f"{token(local_time(u['last_login']))} {token('(' + age(u['last_login']) + ')')}" if u["last_login"] else "never"
        parts.append("<h3>Identity</h3>" + self._fields([
            ("Email", unbroken(token(u["email"], 40, "middle") if u["email"] else "",
                            "" if u["email_verified"] else "<i>unverified</i>")),
            ("Phone", unbroken(token(u["phone"])) if u["phone"] else ""),
            ("Role", words(u["role"])),
            ("Permissions", words(", ".join(u["permissions_list"]))),
            ("Labels", words(", ".join(u["labels_list"]))),
            ("Clerk id", unbroken(token(u["external_id"], 36, "middle")) if u["external_id"] else ""),
            ("Created", unbroken(token(local_time(u["created_at"])))),
            ("Last login", last_login),
            ("Avatar", unbroken(token(u["image"], 36, "middle")) if u["image"] else ""),
        ]))
        others = {k: v for k, v in d.doc.items() if k not in _MODELLED}
        if others:
            parts.append(self._fields([("Other fields", words(json.dumps(others, ensure_ascii=False)))]))

        parts.append(f"<h3>Organizations ({len(d.organizations)})</h3>" + self._table(
            ["Organization", "Member role, joined"],
            ([words(o["name"] or o["organization_id"]) + (f"<br>{token(o['slug'], 28, 'middle')}" if o["slug"] else ""),
              words(", ".join(r.strip() for r in (o["role"] or "").split(","))) + "<br>"
              + token(local_time(o["joined_at"]))]
             for o in d.organizations),
            "Not a member of any organization.",
        ))

        p = d.profile
        parts.append("<h3>Profile</h3>" + (self._fields([
            ("Burnout", self._colour(f"{p['burnout_score']} ({p['burnout_band']})", _BAND.get(p["burnout_band"] or ""))),
            ("Journey", words(f"{p['journey_stage']}, day {p['journey_day']}")),
            ("Goals", words(", ".join(p["goals_list"]))),
            ("Time zone", unbroken(token(p["timezone"]))),
            ("Last contact", f"{token(local_time(p['last_contact_at']))} {token('(' + age(p['last_contact_at']) + ')')}"
             if p["last_contact_at"] else ""),
        ]) if p else "<p><i>No profile.</i></p>"))

        b = d.billing
        parts.append("<h3>Billing</h3>" + (self._fields([
            ("Plan", words(b["plan"])),
            ("Status", self._colour(b["status"], "danger" if b["status"] == "past_due" else None)),
            ("Stripe customer", unbroken(token(b["stripe_customer_id"], 36, "middle"))),
            ("Period ends", unbroken(token(local_time(b["current_period_end"])))),
        ]) if b else "<p><i>No billing account.</i></p>"))

        c = d.conversation
        parts.append("<h3>Conversation state</h3>" + (self._fields([
            ("Channel", unbroken(token(c["channel"]))),
            ("State", token(c["state"]) + (" — waiting for the user" if c["awaiting_reply"] else "")),
            ("Last inbound", unbroken(token(local_time(c["last_inbound_at"])))),
            ("Last outbound", unbroken(token(local_time(c["last_outbound_at"])))),
            ("Context", words(json.dumps(c["context_obj"], ensure_ascii=False))),
        ]) if c else "<p><i>No conversation state.</i></p>"))

        jobs = ", ".join(f"{n} {s}" for s, n in sorted(d.jobs_by_status.items())) or "none"
        parts.append("<h3>Activity</h3>" + self._fields([
            ("Chats", (f"<a href='chats:{esc(u['id'])}'>{d.chats_count} — open</a>" if d.chats_count else "0")
             + (f" (last {token(age(d.last_chat_at))})" if d.last_chat_at else "")),
            ("Jobs about this user", (f"<a href='jobs-user:{esc(u['id'])}'>{esc(jobs)} — open</a>"
                                      if d.jobs_by_status else "none")),
            ("Webhook deliveries", f"<a href='deliveries-user:{esc(u['id'])}'>open the deliveries about them</a>"),
        ]))

        now_ms = int(time.time() * 1000)
        parts.append(f"<h3>Sessions ({len(d.sessions)})</h3>" + self._table(
            ["Session", "From", "When"],
            ([unbroken(self._session_state(s["active"], u["is_active"])
                       + (f" <a href='end-session:{esc(s['id'])}'>end…</a>" if live_session(s, now_ms) else ""),
                       f"<code>{token(s['token_hint'] or '…', 24, 'middle')}</code>"),
              unbroken(token(s["ip"], 24, "middle") if s["ip"] else "", token(_short_agent(s["user_agent"]), 24)),
              self._dates([("started", local_time(s["created_at"])), ("active", age(s["last_activity_at"])),
                           ("expires", local_time(s["expires_at"]))])]
             for s in d.sessions),
            "No sessions.",
        ))
        if not u["is_active"] and any(s["active"] for s in d.sessions):
            parts.append(self._colour("Sessions still marked active are refused by the product while the "
                                      "user is deactivated.", "danger"))

        parts.append(f"<h3>Security events ({len(d.security_events)})</h3>" + self._table(
            ["When, IP", "Event, details"],
            ([unbroken(token(local_time(e["occurred_at"])), token(e["ip"], 24, "middle") if e["ip"] else ""),
              token(e["type"], 28, "middle") + " " + self._colour(e["severity"], _SEVERITY.get(e["severity"] or ""))
              + "<br>" + words(e["details"], 28)]
             for e in d.security_events),
            "No security events.",
        ))

        parts.append(f"<h3>Audit log ({len(d.audit)})</h3>" + self._table(
            ["When", "Action and change", "Reason"],
            ([unbroken(token(local_time(a["at"])), token(a["actor_name"] or a["actor_user_id"], 24)),
              unbroken(token(a["action"], 28, "middle"), token(a["changes"], 24, "middle")), words(a["reason"], 24)]
             for a in d.audit),
            "Nobody has changed this user through an audited action.",
        ))
        return "".join(parts)
