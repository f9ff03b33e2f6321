"""Webhooks panel: captured Stripe / Twilio / Clerk deliveries, verdicts that explain failures, replay."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from console.ui.panel import Hit, PanelSpec


def find_deliveries(conn: Connection, typed: str) -> list[Hit]:
    """A delivery by provider id (Stripe event id, Twilio MessageSid, svix id) or its own id."""
    typed = typed.strip()
    if len(typed) < 4:
        return []
    rows = conn.execute(text("SELECT id, provider, event_type, provider_event_id FROM webhook_deliveries "
                             "WHERE provider_event_id = :v OR id = :v ORDER BY received_at DESC LIMIT 5"),
                        {"v": typed}).all()
    return [Hit(title=f"{r.provider} {r.event_type or 'delivery'}", subtitle=f"{r.provider_event_id} · id {r.id}",
                panel="webhooks", target=r.id, kind="Webhook") for r in rows]


def _make(ctx):
    from console.ui.panels.webhooks.panel import WebhooksPanel

    return WebhooksPanel(ctx)


SPEC = PanelSpec(key="webhooks", title="Webhooks", icon="webhooks", factory=_make, finder=find_deliveries)
