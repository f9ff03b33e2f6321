"""Users panel: support staff find any user and see everything about them."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from console.store.users import quick_find
from console.ui.panel import Hit, PanelSpec


def find_users(conn: Connection, text: str) -> list[Hit]:
    hits = []
    for u in quick_find(conn, text, limit=8):
        status = "" if u.is_active else " · deactivated"
        roles = f" · {', '.join(u.roles)}" if u.roles else ""
        hits.append(Hit(title=u.name or u.email, subtitle=f"{u.email}{roles}{status}", panel="users",
                        target=u.id, kind="User"))
    return hits


def _make(ctx):
    from console.ui.panels.users.panel import UsersPanel

    return UsersPanel(ctx)


SPEC = PanelSpec(key="users", title="Users", icon="users", factory=_make, finder=find_users)
