"""Text that never breaks inside a token (an IP, a date, an event name, a URL): it wraps only between words, and
a token too long for its place is elided ("…", at the end or in the middle) with the full text in a tooltip.

For our own rich text (QTextBrowser pages): `token` and `words` build escaped spans that Qt lays out without
breaking, and `TokenBrowser` shows their full text as a plain tooltip. For labels: `ElidedLabel`. For table
cells: `elide_cells` installs a delegate that shows a cell's full text as a tooltip when the cell is elided.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QFontMetrics, QHelpEvent, QResizeEvent, QTextCursor, QTextOption
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QStyle,
    QStyleOptionFrame,
    QToolButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTextBrowser,
    QToolTip,
    QWidget,
)

from console.ui.plain import tip

ELLIPSIS = "…"
WORD_JOINER = "\u2060"
_TITLE = "elided:"  # the title of an elided span: its full text, percent-encoded (Qt keeps attribute entities as is)


def elide(text: Any, limit: int, where: str = "end") -> str:
    """`text` in at most `limit` characters: whole if it fits, else cut at the end or in the middle with "…"."""
    s = "" if text is None else str(text)
    if len(s) <= limit:
        return s
    keep = max(1, limit - 1)
    if where == "middle":
        head = (keep + 1) // 2
        return s[:head] + ELLIPSIS + s[len(s) - (keep - head):]
    return s[:keep] + ELLIPSIS


def cut_at_word(text: Any, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary with "…" (a single over-long word is cut inside)."""
    s = " ".join(("" if text is None else str(text)).split())
    if len(s) <= limit:
        return s
    head = s[:limit - 1]
    space = head.rfind(" ")
    if space > limit // 3:  # a boundary not too far back; else the first word alone is longer than the room
        head = head[:space]
    return head.rstrip(" ,.;:") + ELLIPSIS


def _joined(text: str) -> str:
    return re.sub(r"([…/\-])", "\\1" + WORD_JOINER, text)


def token(value: Any, limit: int = 40, where: str = "end") -> str:
    """One token for our own rich text: escaped, never broken across lines, elided past `limit` characters
    (the full text in its tooltip, shown by TokenBrowser)."""
    s = "" if value is None else str(value)
    shown = elide(s, limit, where)
    title = f" title='{_TITLE}{urllib.parse.quote(s, safe='')}'" if shown != s else ""
    # Qt breaks even a nowrap span after "…", "/" or "-": in an elided token word joiners (U+2060) hold it
    # together. Only elided ones: a copy of those is a part of the value anyway (the tooltip has it whole).
    shown_html = html.escape(_joined(shown) if shown != s else shown)
    return f"<span style='white-space:nowrap'{title}>{shown_html}</span>"


def words(value: Any, limit: int = 40) -> str:
    """Free text for our own rich text: wraps only between words; a word longer than `limit` is elided in the
    middle (a URL or an id keeps its both ends), its full text in the tooltip."""
    s = "" if value is None else str(value)
    return "".join(token(part, limit, "middle") if part and not part.isspace() else html.escape(part)
                   for part in re.split(r"(\s+)", s))


class Unbroken(str):
    """Rich text (tokens, one per line) for a table cell laid out with no line break but its own <br>s: Qt still
    breaks a nowrap span after a hyphen, a slash or "…", but not a nowrap cell."""


def unbroken(*lines: str) -> Unbroken:
    return Unbroken("<br>".join(line for line in lines if line))


def td(cell: str, extra: str = "") -> str:
    """A table cell: unbroken ones laid out without breaks."""
    style = " style='white-space:nowrap'" if isinstance(cell, Unbroken) else ""
    return f"<td{style}{extra}>{cell}</td>"


def tooltip_at(text: str) -> str | None:
    """The full text carried by an elided span's title, if `text` is one."""
    return urllib.parse.unquote(text[len(_TITLE):]) if text.startswith(_TITLE) else None


class TokenBrowser(QTextBrowser):
    """A QTextBrowser that wraps only at word boundaries (never inside a date or an IP) and shows the full text
    of an elided token as a plain-text tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrapMode(QTextOption.WrapMode.WordWrap)

    def toPlainText(self) -> str:  # noqa: N802  (the text as read: without the invisible word joiners)
        return super().toPlainText().replace(WORD_JOINER, "")

    def full_text_at(self, pos) -> str | None:
        """The full text of the elided token under `pos` (viewport coordinates), if any."""
        at = self.cursorForPosition(pos).position()
        last = max(0, self.document().characterCount() - 1)
        for p in (at + 1, at):  # a cursor's format is the one of the character before it
            cursor = QTextCursor(self.document())
            cursor.setPosition(min(p, last))
            full = tooltip_at(cursor.charFormat().toolTip())
            if full is not None:
                return full
        return None

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            full = self.full_text_at(event.pos())
            if full is not None:
                QToolTip.showText(event.globalPos(), tip(full), self.viewport())
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)


class ElidedLabel(QLabel):
    """A one-line plain-text label that never widens its window: elided to its width ("…" at the end or in the
    middle), the full text in its tooltip when elided."""

    def __init__(self, text: str = "", where: str = "end", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self._full = ""
        self._mode = Qt.TextElideMode.ElideMiddle if where == "middle" else Qt.TextElideMode.ElideRight
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        self._full = "" if text is None else str(text)
        self._fit()

    def text(self) -> str:  # the whole text, as a QLabel's text() would be; `shown()` is what fits
        return self._full

    def shown(self) -> str:
        return super().text()

    def is_elided(self) -> bool:
        return self.shown() != self._full

    def _fit(self) -> None:
        width = self.contentsRect().width()
        shown = QFontMetrics(self.font()).elidedText(self._full, self._mode, width) if width > 0 else self._full
        super().setText(shown)
        self.setToolTip(tip(self._full) if shown != self._full else "")

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), QFontMetrics(self.font()).horizontalAdvance("M" * 6)), hint.height())

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(QFontMetrics(self.font()).horizontalAdvance(self._full) + 4, super().sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit()


Index = QModelIndex | QPersistentModelIndex


class ElidingDelegate(QStyledItemDelegate):
    """Cells elided at the end; a cell that is elided and has no tooltip of its own shows its full text as one.
    No initStyleOption override here: it would be a call into Python for every cell painted, which waits for
    the GIL while sync threads hold it (MiddleElidingDelegate, for the columns that need it, pays that)."""

    def __init__(self, view: QAbstractItemView) -> None:
        super().__init__(view)

    def is_elided(self, view: QAbstractItemView, index: Index) -> bool:
        text = index.data(Qt.ItemDataRole.DisplayRole)
        if text in (None, ""):
            return False
        option = QStyleOptionViewItem()
        option.initFrom(view)
        self.initStyleOption(option, index)
        rect = view.visualRect(index)
        room = rect.width() - 2 * (view.style().pixelMetric(view.style().PixelMetric.PM_FocusFrameHMargin) + 1)
        if option.features & QStyleOptionViewItem.ViewItemFeature.HasDecoration:
            room -= option.decorationSize.width() + 4
        return QFontMetrics(option.font).horizontalAdvance(str(text)) > room

    def helpEvent(self, event: QHelpEvent, view: QAbstractItemView, option: QStyleOptionViewItem,  # noqa: N802
                  index: Index) -> bool:
        if event.type() == QEvent.Type.ToolTip and index.isValid() and \
                index.data(Qt.ItemDataRole.ToolTipRole) in (None, "") and self.is_elided(view, index):
            QToolTip.showText(event.globalPos(), tip(index.data(Qt.ItemDataRole.DisplayRole)), view)
            return True
        return super().helpEvent(event, view, option, index)


class MiddleElidingDelegate(ElidingDelegate):
    """Cells elided in the middle (endpoints, URLs, emails keep both ends)."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: Index) -> None:  # noqa: N802
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideMiddle


def elide_cells(view: QAbstractItemView, middle: tuple[int, ...] = ()) -> ElidingDelegate:
    """Install the eliding delegates on `view` (its table cells never wrap): the `middle` columns elided in the
    middle, the others at the end. Returns the view's default delegate."""
    delegate = ElidingDelegate(view)
    view.setItemDelegate(delegate)
    if middle:
        in_middle = MiddleElidingDelegate(view)
        for column in middle:
            view.setItemDelegateForColumn(column, in_middle)
    return delegate


def fit_column(view: Any, column: int, samples: list[str], padding: int = 16, grow_only: bool = False) -> None:
    """Size `column` of a table to the widest of `samples` (every value it can show: verdicts, states) and its
    header, so none is cut (`grow_only`: never narrower than it is)."""
    metrics = QFontMetrics(view.font())
    header = view.horizontalHeader()
    title = str(view.model().headerData(column, Qt.Orientation.Horizontal) or "")
    widest = max([metrics.horizontalAdvance(s) for s in samples] +
                 [QFontMetrics(header.font()).horizontalAdvance(title) + 12])
    width = widest + padding
    if not grow_only or view.columnWidth(column) < width:
        view.setColumnWidth(column, width)


def placeholder_room(edit: QLineEdit) -> int:
    """Pixels a line edit has for its placeholder: its contents less the text margins and its side buttons
    (the clear button's place is kept even while it is hidden)."""
    option = QStyleOptionFrame()
    edit.initStyleOption(option)
    contents = edit.style().subElementRect(QStyle.SubElement.SE_LineEditContents, option, edit)
    margins = edit.textMargins()
    side = sum(b.sizeHint().width() + 2 for b in edit.findChildren(QToolButton))
    return contents.width() - margins.left() - margins.right() - 4 - side


def fit_placeholder(edit: QLineEdit) -> QLineEdit:
    """The edit is never narrower than its placeholder (a squeezed filter row cut it to "error or pa")."""
    chrome = edit.width() - placeholder_room(edit)  # frame, margins, clear button: the same at any width
    edit.setMinimumWidth(max(edit.minimumWidth(), edit.fontMetrics().horizontalAdvance(edit.placeholderText()) + chrome))
    return edit
