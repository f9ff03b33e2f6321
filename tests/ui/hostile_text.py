"""Shared checks: text from data shows literally, never as rich text (Qt loads files named in <img src>)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLabel, QTextEdit, QWidget

MARK = "HX7"  # finds the hostile text wherever it went
# A harmless src here: if the fix regresses, this test fails instead of eating memory (/dev/zero is tested
# once, in the capture-server test).
HOSTILE = (f'<img src="/nonexistent/{MARK}.png"><b>{MARK}</b> <a href="http://evil.example/">{MARK}</a> '
           f"&lt;{MARK}&gt; <i>x</i>")
LONG = MARK + "W" * 5000  # a very long token
RAW_MARKUP = ("<img", f"<b>{MARK}", '<a href="http://evil')


def is_rich(text: str, fmt: Qt.TextFormat) -> bool:
    return fmt == Qt.TextFormat.RichText or (fmt == Qt.TextFormat.AutoText and GuiQt.mightBeRichText(text))


def shown(html_or_text: str, rich: bool) -> str:
    if not rich:
        return html_or_text
    doc = QTextDocument()
    doc.setHtml(html_or_text)
    return doc.toPlainText()


def problems_in(text: str, rich: bool, where: str) -> list[str]:
    """What is wrong with `text` shown in `where` (rich or not): raw hostile markup interpreted as HTML."""
    if MARK not in text or not rich:
        return []
    raw = [m for m in RAW_MARKUP if m in text]
    return [f"{where}: data rendered as rich text ({raw}): {text[:160]!r}"] if raw else []


def model_problems(model: QAbstractItemModel, where: str, rows: int = 200) -> list[str]:
    out: list[str] = []
    from PySide6.QtCore import QModelIndex

    for r in range(min(rows, model.rowCount(QModelIndex()))):
        try:
            columns = model.columnCount(QModelIndex())
        except TypeError:  # list models keep columnCount private
            columns = 1
        for c in range(max(1, columns)):
            value = model.data(model.index(r, c), Qt.ItemDataRole.ToolTipRole)
            if isinstance(value, str):
                out += problems_in(value, GuiQt.mightBeRichText(value), f"{where} tooltip r{r}c{c}")
    return out


def widget_problems(root: QWidget | None = None) -> tuple[list[str], int]:
    """Every label, tooltip, text edit and item-view tooltip under `root` (or the whole app); and how many
    widgets show the hostile text at all (so a test can insist the data actually reached the screen)."""
    widgets = root.findChildren(QWidget) + [root] if root is not None else QApplication.allWidgets()
    out: list[str] = []
    seen = 0
    for w in widgets:
        name = f"{type(w).__name__}#{w.objectName()}"
        if isinstance(w, QLabel):
            text = w.text()
            if MARK in text:
                seen += 1
                out += problems_in(text, is_rich(text, w.textFormat()), name)
        tip = w.toolTip()
        if MARK in tip:
            seen += 1
            out += problems_in(tip, GuiQt.mightBeRichText(tip), f"{name} tooltip")
        if isinstance(w, QTextEdit):
            html = w.toHtml()
            if MARK in w.toPlainText():
                seen += 1
            if "<img" in html:
                out.append(f"{name}: an image in a text view: {html[:160]!r}")
        if isinstance(w, QAbstractItemView) and w.model() is not None:
            out += model_problems(w.model(), name)
    return out, seen
