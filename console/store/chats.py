"""Chats and messages in the replica: lists, pages, full-text search, export (Qt-free)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from console.store.derived import fts_query, search_terms


@dataclass(frozen=True)
class ChatRow:
    pk: int
    id: str
    user_id: str
    user_name: str
    title: str
    created_at: int
    updated_at: int
    sort_value: Any


@dataclass
class ChatPage:
    rows: list[ChatRow]
    has_more: bool

    @property
    def cursor(self) -> Any:
        return (self.rows[-1].sort_value, self.rows[-1].pk) if self.rows else None


def list_chats(conn: Connection, user_id: str | None = None, *, after: Any = None, limit: int = 200,
               title: str = "") -> ChatPage:
    """Newest activity first: `(userId, updatedAt)` for one user, `updatedAt` for everyone."""
    where: list[str] = []
    p: dict[str, Any] = {"limit": limit + 1}
    if user_id:
        where.append("c.user_id = :u")
        p["u"] = user_id
    if title.strip():
        where.append("instr(lower(c.title), :t)")
        p["t"] = title.strip().lower()
    if after is not None:
        where.append("(c.updated_at, c.pk) < (:av, :apk)")
        p.update(av=after[0], apk=after[1])
    raw = conn.execute(text(
        "SELECT c.pk, c.id, c.user_id, u.name, c.title, c.created_at, c.updated_at, c.updated_at FROM chats c "
        "LEFT JOIN users u ON u.id = c.user_id" + (" WHERE " + " AND ".join(where) if where else "") +
        " ORDER BY c.updated_at DESC, c.pk DESC LIMIT :limit"), p).fetchall()
    rows = [ChatRow(r[0], r[1], r[2] or "", r[3] or "", r[4] or "", r[5] or 0, r[6] or 0, r[7]) for r in raw[:limit]]
    return ChatPage(rows, len(raw) > limit)


@dataclass(frozen=True)
class Message:
    id: str
    chat_id: str
    role: str
    body: str
    created_at: int
    client_message_id: str | None


@dataclass
class MessagePage:
    messages: list[Message]  # oldest first
    has_older: bool

    @property
    def size(self) -> int:
        return sum(len(m.body) + 120 for m in self.messages)


def latest(conn: Connection, chat_id: str, limit: int = 50, before: int | None = None) -> MessagePage:
    """The newest `limit` messages of a chat (before `before`), oldest first, through (chatId, createdAt)."""
    p: dict[str, Any] = {"c": chat_id, "limit": limit + 1}
    cond = ""
    if before is not None:
        cond = " AND created_at < :before"
        p["before"] = before
    raw = conn.execute(text("SELECT id, chat_id, role, body, created_at, client_message_id FROM messages "
                            f"WHERE chat_id = :c{cond} ORDER BY created_at DESC LIMIT :limit"), p).fetchall()
    msgs = [Message(r[0], r[1], r[2] or "", r[3] or "", r[4] or 0, r[5]) for r in reversed(raw[:limit])]
    return MessagePage(msgs, len(raw) > limit)


def messages_by_id(conn: Connection, ids: list[str]) -> list[Message]:
    if not ids:
        return []
    marks = ", ".join(f":i{n}" for n in range(len(ids)))
    rows = conn.execute(text("SELECT id, chat_id, role, body, created_at, client_message_id FROM messages "
                             f"WHERE id IN ({marks})"), {f"i{n}": v for n, v in enumerate(ids)}).fetchall()
    return [Message(r[0], r[1], r[2] or "", r[3] or "", r[4] or 0, r[5]) for r in rows]


@dataclass(frozen=True)
class SearchHit:
    message_id: str
    chat_id: str
    chat_title: str
    user_name: str
    created_at: int
    snippet: str  # with [[ and ]] around the matches


def search_messages(conn: Connection, query: str, chat_id: str | None = None, limit: int = 100) -> list[SearchHit]:
    match = fts_query(query)
    if not match:
        return []
    p: dict[str, Any] = {"q": match, "limit": limit}
    cond = ""
    if chat_id:
        cond = " AND m.chat_id = :c"
        p["c"] = chat_id
    rows = conn.execute(text(
        "SELECT m.id, m.chat_id, c.title, u.name, m.created_at, "
        "snippet(messages_fts, 0, '[[', ']]', '…', 16) FROM messages_fts f JOIN messages m ON m.pk = f.rowid "
        "LEFT JOIN chats c ON c.id = m.chat_id LEFT JOIN users u ON u.id = c.user_id "
        f"WHERE messages_fts MATCH :q{cond} ORDER BY f.rank LIMIT :limit"), p).fetchall()
    return [SearchHit(r[0], r[1], r[2] or "", r[3] or "", r[4] or 0, r[5] or "") for r in rows]


def page_around(conn: Connection, chat_id: str, created_at: int, limit: int = 50) -> MessagePage:
    """A page that contains the message at `created_at` (for jumping to a search hit)."""
    return latest(conn, chat_id, limit=limit, before=created_at + 1 + 10 * 60_000)


def chat_header(conn: Connection, chat_id: str) -> dict[str, Any] | None:
    row = conn.execute(text("SELECT c.id, c.title, c.user_id, u.name, u.email, c.created_at, c.updated_at, "
                            "(SELECT count(*) FROM messages WHERE chat_id = c.id) AS n FROM chats c "
                            "LEFT JOIN users u ON u.id = c.user_id WHERE c.id = :c"), {"c": chat_id}).mappings().first()
    return dict(row) if row else None


def all_messages(conn: Connection, chat_id: str) -> list[Message]:
    rows = conn.execute(text("SELECT id, chat_id, role, body, created_at, client_message_id FROM messages "
                             "WHERE chat_id = :c ORDER BY created_at"), {"c": chat_id}).fetchall()
    return [Message(r[0], r[1], r[2] or "", r[3] or "", r[4] or 0, r[5]) for r in rows]


def export_markdown(header: dict[str, Any], messages: list[Message], when) -> str:
    lines = [f"# {header.get('title') or 'Chat'}", "",
             f"{header.get('name') or ''} <{header.get('email') or ''}> · chat {header['id']}", ""]
    for m in messages:
        who = "User" if m.role == "user" else "Assistant"
        lines += [f"**{who}** · {when(m.created_at)}", "", m.body, ""]
    return "\n".join(lines)


def export_json(header: dict[str, Any], messages: list[Message]) -> str:
    return json.dumps({"chat": {k: header[k] for k in ("id", "title", "user_id", "created_at", "updated_at")},
                       "messages": [m.__dict__ for m in messages]}, indent=2, ensure_ascii=False)


def highlight_terms(query: str) -> list[str]:
    return [t.lower() for t in search_terms(query)]
