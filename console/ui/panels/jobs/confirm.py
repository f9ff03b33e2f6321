"""One rule for job actions: a retry or cancel asks for a reason (for the audit log) and confirms.
The confirming button says what will happen and stays disabled until a reason is given."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from console.ui.plain import plain


class ConfirmDialog(QDialog):
    def __init__(self, title: str, what: str, action: str, parent: QWidget | None = None,
                 destructive: bool = False) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("job-confirm-dialog")
        self.setMinimumWidth(480)
        intro = plain(QLabel(what))
        intro.setWordWrap(True)
        self.reason = QLineEdit(placeholderText="reason (required; goes into the audit log)")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(action)
        self.ok.setEnabled(False)
        keep = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        keep.setText("Keep them" if destructive else "Cancel")
        if destructive:  # Enter does not cancel jobs by accident
            self.ok.setAutoDefault(False)
            keep.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.reason.textChanged.connect(lambda t: self.ok.setEnabled(bool(t.strip())))
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.reason)
        layout.addWidget(buttons)

    def reason_text(self) -> str:
        return self.reason.text().strip()
