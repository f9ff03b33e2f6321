"""A console call the deployment refused or failed leads to its log entries.

The deployment names each request (`[Request ID: …]`); its Logs entries say what the function logged and threw.
Two ways there:
- `FailedCallLink`, in the status bar: the last failed call, from any panel, until the operator opens its log
  entries, dismisses it, or the connection changes;
- `warn`: the panel's message box about the failure has a "Show in Logs" button.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QMessageBox, QToolButton, QWidget

from console.backend.base import Refused
from console.ui.plain import tip


class Failure(str):
    """A failure's text that remembers which request failed, through callbacks that take a message."""

    request_id: str | None = None

    def __new__(cls, text: str, request_id: str | None = None) -> "Failure":
        out = super().__new__(cls, text)
        out.request_id = request_id
        return out


def failure(text: str, exc: BaseException) -> Failure:
    """`text` about `exc`, keeping the request id of a refusal from the deployment (or of a client error)."""
    return Failure(text, getattr(exc, "request_id", None))


def request_of(message: Any) -> str | None:
    return getattr(message, "request_id", None) or None


def warn(parent: QWidget, ctx: Any, title: str, message: str) -> None:
    """A plain-text warning; when the message is about a request the deployment answered, a "Show in Logs"
    button opens that request's entries in the Logs panel."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, str(message), QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    request = request_of(message)
    logs = box.addButton("Show in Logs", QMessageBox.ButtonRole.ActionRole) if request else None
    if logs is not None:
        logs.setToolTip(f"The deployment's log entries of request {request}")
    box.exec()
    if logs is not None and box.clickedButton() is logs:
        ctx.navigate("logs", request)


class FailedCallLink(QWidget):
    """Status bar: "⚠ console:retryJob failed · request 3f2a… · Logs" for the last call the deployment refused
    or failed, with the reason as a tooltip. Hidden while there is none."""

    def __init__(self, ctx: Any) -> None:
        super().__init__()
        self.ctx = ctx
        self.request_id: str | None = None
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        self.link = QToolButton()
        self.link.setAutoRaise(True)
        self.link.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.link.clicked.connect(self.open_logs)
        self.close_button = QToolButton()
        self.close_button.setAutoRaise(True)
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss")
        self.close_button.clicked.connect(self.clear)
        row.addWidget(self.link)
        row.addWidget(self.close_button)
        self.hide()

    def show_failure(self, refused: Refused) -> None:
        if not refused.request_id:
            return  # nothing to look up (a network failure never reached a function)
        self.request_id = refused.request_id
        function = refused.function or "A console call"
        self.link.setText(f"⚠ {function} failed · request {refused.request_id[:8]}… · Logs")
        self.link.setToolTip(tip(f"{function} failed: {refused}\n\nRequest {refused.request_id}: click for its "
                                 "log entries in the Logs panel."))
        self.show()

    def open_logs(self) -> None:
        if self.request_id:
            self.ctx.navigate("logs", self.request_id)
        self.clear()

    def clear(self) -> None:
        self.request_id = None
        self.hide()
