"""Data browser: every replicated table (modelled or kept raw), documents as JSON, any `_id` found anywhere."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from console.ui.panel import Hit, PanelSpec


def find_document(conn: Connection, typed: str) -> list[Hit]:
    """Ctrl+K: a Convex `_id` typed anywhere opens its document, in whichever table holds it."""
    from console.store.browse import find_document as find, looks_like_id

    typed = typed.strip()
    if not looks_like_id(typed):
        return []
    found = find(conn, typed)
    if found is None:
        return []
    return [Hit(title=f"{found.ref.label} document", subtitle=f"_id {found.row.id}", panel="data",
                target=found.row.id, kind="Document")]


def _make(ctx):
    from console.ui.panels.data.panel import DataPanel

    return DataPanel(ctx)


SPEC = PanelSpec(key="data", title="Data", icon="data", factory=_make, finder=find_document)
