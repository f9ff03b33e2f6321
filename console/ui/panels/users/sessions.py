"""Ending a session, or all of a user's sessions: confirmation with a reason, then in the demo on the local
replica (console/store/sessions.py), live through the contract (`console:endSession`, `console:endUserSessions`)
acting as the operator. The outcome, or the refusal with its reason, is reported as plain text."""

from __future__ import annotations

from typing import Awaitable, Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from console.backend.base import Backend, Outcome, Refused
from console.ui.context import AppContext
from console.ui.plain import plain


class ReasonDialog(QDialog):
    """Says what will happen and what follows; OK (named for the action) only with a reason, for the audit log.
    On a production deployment (`production`: its name) the title and the first line say so, as the Jobs
    confirmation does: this dialog is the confirmation."""

    def __init__(self, title: str, what: str, consequence: str, ok_text: str, placeholder: str,
                 parent: QWidget | None = None, production: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reason-dialog")
        self.setWindowTitle(title + (" on PRODUCTION" if production else ""))
        self.setMinimumWidth(420)
        warning = f"PRODUCTION deployment {production}: this changes a real user.\n\n" if production else ""
        self.text = plain(QLabel(warning + what + ("\n\n" + consequence if consequence else "") +
                                 " Reason (for the audit log):"))
        self.text.setWordWrap(True)
        self.reason = QLineEdit(placeholderText=placeholder)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(ok_text)
        self.ok.setEnabled(False)
        self.ok.setToolTip("Needs a reason")
        self.reason.textChanged.connect(lambda t: self.ok.setEnabled(bool(t.strip())))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.reason)
        layout.addWidget(self.buttons)
        self.setWindowModality(Qt.WindowModality.WindowModal)


class EndSessionsDialog(ReasonDialog):
    def __init__(self, title: str, what: str, parent: QWidget | None = None, sessions: int = 1,
                 production: str | None = None) -> None:
        them = "this session" if sessions == 1 else f"these {sessions} sessions"
        super().__init__(title, what, f"The product refuses {them} from then on; the user signs in again.", "End",
                         "e.g. suspicious login from a new country", parent, production)
        self.setObjectName("end-sessions-dialog")


class SessionActions(QObject):
    """Through the backend (the local store in the demo, the contract live): no mode decided here."""

    finished = Signal(str)  # what was done
    refused = Signal(str)  # why not

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx

    def end_session(self, session_id: str, reason: str) -> None:
        self._run(lambda backend: backend.end_session(session_id, reason))

    def end_user_sessions(self, user_id: str, reason: str) -> None:
        self._run(lambda backend: backend.end_user_sessions(user_id, reason))

    def _run(self, call: Callable[[Backend], Awaitable[Outcome]]) -> None:
        backend = self.ctx.backend

        async def run() -> None:
            try:
                outcome = await call(backend)
            except Refused as exc:
                self.refused.emit(str(exc))
            except Exception as exc:  # noqa: BLE001  (say so, rather than leave the operator waiting)
                self.refused.emit(f"{type(exc).__name__}: {exc}")
            else:
                self.ctx.announce(outcome.changes)  # the sessions ended and the audit entry (demo)
                self.finished.emit(outcome.message)

        self.ctx.tasks.spawn(run())
