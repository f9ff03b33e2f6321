"""Text from product data, webhooks or servers is shown as plain text, never as rich text.

Qt guesses rich text ("AutoText") for labels, tooltips and message boxes whose text looks like HTML, and its
rich-text engine loads local files named in `<img src>`: one hostile webhook field could exhaust memory.
So: labels that show data are PlainText, tooltips with data are escaped, message boxes are PlainText, and
where we need our own markup (a bold heading) the data inside it goes through `esc`.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6 import QtGui
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget


def esc(value: Any) -> str:
    """Data to put inside our own rich text."""
    return html.escape("" if value is None else str(value))


def plain(label: QLabel) -> QLabel:
    """The label shows its text literally, whatever it looks like."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def literal(text: Any) -> str:
    """`text` as rich text that shows it literally, for places that guess the format (tooltips, the label of
    QInputDialog): Qt renders them as rich text when they merely look like HTML."""
    s = "" if text is None else str(text)
    if not s:
        return s
    # Always wrap: "a &lt; b" does not look rich to Qt today, but the guess is not ours to rely on.
    return QtGui.Qt.convertFromPlainText(s, Qt.WhiteSpaceMode.WhiteSpaceNormal)


tip = literal  # a tooltip showing data


def message(parent: QWidget | None, icon: QMessageBox.Icon, title: str, text: Any,
            buttons: QMessageBox.StandardButton = QMessageBox.StandardButton.Ok,
            default: QMessageBox.StandardButton = QMessageBox.StandardButton.NoButton) -> QMessageBox.StandardButton:
    """A modal message box whose text is plain (QMessageBox's static helpers guess rich text)."""
    box = QMessageBox(icon, title, "" if text is None else str(text), buttons, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    if default != QMessageBox.StandardButton.NoButton:
        box.setDefaultButton(default)
    return QMessageBox.StandardButton(box.exec())


def warning(parent: QWidget | None, title: str, text: Any) -> None:
    message(parent, QMessageBox.Icon.Warning, title, text)


def critical(parent: QWidget | None, title: str, text: Any) -> None:
    message(parent, QMessageBox.Icon.Critical, title, text)


def information(parent: QWidget | None, title: str, text: Any) -> None:
    message(parent, QMessageBox.Icon.Information, title, text)


def question(parent: QWidget | None, title: str, text: Any) -> QMessageBox.StandardButton:
    yes, no = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
    return message(parent, QMessageBox.Icon.Question, title, text, yes | no, no)
