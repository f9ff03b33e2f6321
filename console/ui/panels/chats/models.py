"""The chat list (paged, with hover previews from the cache) and one chat's messages (merged by id)."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem
from sqlalchemy.engine import Connection

from console.chats.cache import PrefetchCache
from console.store.chats import ChatRow, Message, MessagePage, list_chats
from console.ui.context import AppContext
from console.ui.elide import cut_at_word
from console.ui.format import age, local_time
from console.ui.paging import PagedTableModel
from console.ui.plain import tip

Index = QModelIndex | QPersistentModelIndex


class ChatsModel(PagedTableModel):
    COLUMNS = ["Chat", "User", "Last activity"]

    def __init__(self, ctx: AppContext, cache: PrefetchCache) -> None:
        super().__init__(ctx, (None, ""))  # (user id, title filter)
        self.cache = cache

    def fetch(self, conn: Connection, query: Any, after: Any, limit: int) -> Any:
        user_id, title = query
        return list_chats(conn, user_id, after=after, limit=limit, title=title)

    def display(self, c: ChatRow, col: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return (c.title, c.user_name, age(c.updated_at))[col] if col < 3 else None
        if role == Qt.ItemDataRole.ToolTipRole:
            page = self.cache.peek(c.id)  # memory only: data() never reads the database
            if page is None:
                return tip(f"{c.title} — hover a moment to load a preview")
            lines = [f"<b>{'User' if m.role == 'user' else 'Assistant'}:</b> {html.escape(cut_at_word(m.body, 140))}"
                     for m in page.messages[-3:]]
            return f"<b>{html.escape(c.title)}</b><br>" + "<br>".join(lines)
        return None


class MessagesModel(QAbstractListModel):
    """Messages oldest first; merging is idempotent by message id and by clientMessageId."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Message] = []
        self.has_older = False
        self.chat_id: str | None = None
        self.terms: list[str] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.messages)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.messages):
            return None
        m = self.messages[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return m.body
        if role == Qt.ItemDataRole.UserRole:
            return m
        if role == Qt.ItemDataRole.ToolTipRole:
            return local_time(m.created_at, seconds=True)
        return None

    def show_page(self, chat_id: str, page: MessagePage) -> None:
        self.beginResetModel()
        self.chat_id = chat_id
        self.messages = list(page.messages)
        self.has_older = page.has_older
        self.endResetModel()

    def clear(self) -> None:
        self.show_page("", MessagePage([], False))
        self.chat_id = None

    def prepend(self, page: MessagePage) -> int:
        known = {m.id for m in self.messages}
        older = [m for m in page.messages if m.id not in known]
        self.has_older = page.has_older
        if older:
            self.beginInsertRows(QModelIndex(), 0, len(older) - 1)
            self.messages[:0] = older
            self.endInsertRows()
        return len(older)

    def merge(self, fresh: list[Message]) -> int:
        """New or streamed messages: replace by id or clientMessageId, insert the rest in time order."""
        added = 0
        by_id = {m.id: i for i, m in enumerate(self.messages)}
        by_client = {m.client_message_id: i for i, m in enumerate(self.messages) if m.client_message_id}
        for m in sorted(fresh, key=lambda x: x.created_at):
            i = by_id.get(m.id)
            if i is None and m.client_message_id:
                i = by_client.get(m.client_message_id)
            if i is not None:
                if self.messages[i] != m:
                    self.messages[i] = m
                    self.dataChanged.emit(self.index(i), self.index(i))
                continue
            pos = len(self.messages)
            while pos > 0 and self.messages[pos - 1].created_at > m.created_at:
                pos -= 1
            self.beginInsertRows(QModelIndex(), pos, pos)
            self.messages.insert(pos, m)
            self.endInsertRows()
            by_id = {x.id: n for n, x in enumerate(self.messages)}
            by_client = {x.client_message_id: n for n, x in enumerate(self.messages) if x.client_message_id}
            added += 1
        return added

    def row_of(self, message_id: str) -> int:
        return next((i for i, m in enumerate(self.messages) if m.id == message_id), -1)


class BubbleDelegate(QStyledItemDelegate):
    """User messages on the right, assistant on the left, with the time above; matches marked."""

    PAD = 8
    GAP = 6

    def __init__(self, ctx: AppContext, model: MessagesModel) -> None:
        super().__init__()
        self.ctx = ctx
        self.model = model

    def _width(self, option: QStyleOptionViewItem) -> int:
        return max(120, int(option.rect.width() * 0.72))

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        m = index.data(Qt.ItemDataRole.UserRole)
        fm = QFontMetrics(option.font)
        width = self._width(option) - 2 * self.PAD
        text_rect = fm.boundingRect(QRect(0, 0, width, 100_000), Qt.TextFlag.TextWordWrap, m.body if m else "")
        return QSize(option.rect.width(), text_rect.height() + fm.height() + 2 * self.PAD + self.GAP)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        m: Message = index.data(Qt.ItemDataRole.UserRole)
        if m is None:
            return
        painter.save()
        fm = QFontMetrics(option.font)
        pal = option.palette
        width = self._width(option)
        mine = m.role == "user"
        x = option.rect.right() - width - 4 if mine else option.rect.left() + 4
        bubble = QRect(x, option.rect.top() + self.GAP // 2, width, option.rect.height() - self.GAP)
        dark = self.ctx.theme.dark
        if mine:
            fill = QColor("#2b4a7a") if dark else QColor("#dbe8ff")
        else:
            fill = pal.color(QPalette.ColorRole.AlternateBase)
        matched = self.model.terms and any(t in m.body.lower() for t in self.model.terms)
        if option.state & QStyle.StateFlag.State_Selected:
            fill = pal.color(QPalette.ColorRole.Highlight).lighter(160 if not dark else 80)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(self.ctx.theme.color("warning") if matched else Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(bubble, 8, 8)
        inner = bubble.adjusted(self.PAD, self.PAD // 2, -self.PAD, -self.PAD // 2)
        painter.setPen(self.ctx.theme.color("muted"))
        who = "User" if mine else "Assistant"
        painter.drawText(inner.adjusted(0, 0, 0, -(inner.height() - fm.height())), Qt.AlignmentFlag.AlignLeft,
                         f"{who} · {local_time(m.created_at)}")
        painter.setPen(pal.color(QPalette.ColorRole.Text))
        painter.drawText(inner.adjusted(0, fm.height(), 0, 0), Qt.TextFlag.TextWordWrap, m.body)
        painter.restore()
