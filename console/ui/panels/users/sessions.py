"""Ending a session, or all of a user's sessions: confirmation with a reason, then in the demo on the local
replica (console/store/sessions.py), live through the contract (`console:endSession`, `console:endUserSessions`)
acting as the operator. The outcome, or the refusal with its reason, is reported as plain text."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from console.changes import ChangeSet
from console.client import errors as E
from console.store.jobstore import Refused
from console.store.sessions import LocalSessionStore
from console.ui.context import AppContext
from console.ui.plain import plain


class EndSessionsDialog(QDialog):
    """Says what will happen; OK only with a reason (it goes into the audit log)."""

    def __init__(self, title: str, what: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("end-sessions-dialog")
        self.setWindowTitle(title)
        self.text = plain(QLabel(what + "\n\nThe product refuses the session from then on; the user signs in "
                                 "again. Reason (for the audit log):"))
        self.text.setWordWrap(True)
        self.reason = QLineEdit(placeholderText="e.g. suspicious login from a new country")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("End")
        self.ok.setEnabled(False)
        self.reason.textChanged.connect(lambda t: self.ok.setEnabled(bool(t.strip())))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.reason)
        layout.addWidget(self.buttons)
        self.setWindowModality(Qt.WindowModality.WindowModal)


class SessionActions(QObject):
    finished = Signal(str)  # what was done
    refused = Signal(str)  # why not

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self._tasks: set[asyncio.Future] = set()

    def end_session(self, session_id: str, reason: str) -> None:
        actor = self.ctx.operator_id()
        self._run(lambda s: s.end_session(session_id, actor, reason), "console:endSession",
                  {"sessionId": session_id, "reason": reason})

    def end_user_sessions(self, user_id: str, reason: str) -> None:
        actor = self.ctx.operator_id()
        self._run(lambda s: s.end_user_sessions(user_id, actor, reason), "console:endUserSessions",
                  {"userId": user_id, "reason": reason})

    @staticmethod
    def _say(result: dict) -> str:
        n = int(result.get("ended") or 0)
        return f"Ended {n} session{'' if n == 1 else 's'}."

    def _run(self, local: Callable[[LocalSessionStore], dict], function: str, args: dict[str, Any]) -> None:
        if self.ctx.live is None:
            engine = self.ctx.engine

            def after(result: dict) -> None:
                ids = {i for i in (result.get("sessionIds") or [result.get("sessionId")]) if i}
                # The replica changed locally: the panels showing sessions and the audit refresh.
                self.ctx.announce(ChangeSet({"sessions": ids}, whole=("audit_logs",)))
                self.finished.emit(self._say(result))

            self.ctx.tasks.write(lambda: local(LocalSessionStore(engine)), after,
                                 lambda exc: self.refused.emit(str(exc) if isinstance(exc, Refused) else repr(exc)))
            return
        client, identity = self.ctx.live.client, self.ctx.live.identity()
        if identity is None:
            self.refused.emit("No operator identity: choose who is operating in Settings.")
            return

        async def remote() -> None:
            try:
                result = await client.mutation(function, args, identity=identity)
            except E.FunctionError as exc:
                data = exc.error_data if isinstance(exc.error_data, dict) else {}
                self.refused.emit(str(data.get("message") or exc))
            except E.ConvexRequestError as exc:
                self.refused.emit(str(exc))
            except Exception as exc:  # noqa: BLE001  (say so, rather than leave the operator waiting)
                self.refused.emit(f"{type(exc).__name__}: {exc}")
            else:
                self.finished.emit(self._say(result if isinstance(result, dict) else {}))

        task = asyncio.ensure_future(remote())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
