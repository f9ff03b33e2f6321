"""Chats panel: conversations, with a hover-prefetch cache that makes opening a chat instant."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from console.ui.panel import Hit, PanelSpec


def find_chats(conn: Connection, typed: str) -> list[Hit]:
    """A chat by its title (the most recently active first)."""
    typed = typed.strip()
    if len(typed) < 3:
        return []
    rows = conn.execute(text("SELECT c.id, c.title, u.name FROM chats c LEFT JOIN users u ON u.id = c.user_id "
                             "WHERE instr(lower(c.title), :t) ORDER BY c.updated_at DESC LIMIT 4"),
                        {"t": typed.lower()}).all()
    return [Hit(title=r.title, subtitle=f"chat with {r.name}", panel="chats", target=r.id, kind="Chat") for r in rows]


def _make(ctx):
    from console.ui.panels.chats.panel import ChatsPanel

    return ChatsPanel(ctx)


SPEC = PanelSpec(key="chats", title="Chats", icon="chats", factory=_make, finder=find_chats)
