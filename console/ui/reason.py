"""A confirmation that needs a reason: the console's rule for a change that acts on something real (every
audit entry has one). Returns the reason, or None when the operator declined."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QInputDialog, QWidget

from console.ui.plain import literal


def ask_reason(parent: QWidget, title: str, text: str, ok_text: str) -> str | None:
    """`text` is shown literally (it may carry data); OK stays disabled until a reason is typed."""
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setLabelText(literal(text))
    dialog.setOkButtonText(ok_text)
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    ok.setEnabled(False)
    dialog.textValueChanged.connect(lambda t: ok.setEnabled(bool(t.strip())))
    reason = dialog.textValue().strip() if dialog.exec() == QDialog.DialogCode.Accepted else ""
    return reason or None
