"""Which Stripe events never arrived: events the product's own data or later events point at that no captured
delivery brought (Qt-free).

Two kinds of reference, both read from the replica:
- a billing record names the event that last changed it (`lastStripeEventId`, kept by the product to ignore
  out-of-order events; a nightly reconcile against Stripe's Events API may set it to an event no webhook brought);
- a later event about an invoice implies the invoice's earlier events (`invoice.paid` implies `invoice.created` and
  `invoice.finalized`; `invoice.payment_succeeded` implies `invoice.paid`). Stripe events never name each other's
  ids, so such an event is listed by its expected type and the invoice, its id unknown, unless a billing record
  names it.

Only references inside the captured window count (from the oldest captured delivery on): an event from
before the capture began is not missing, just older. A delivery that arrived and was refused (bad signature) did
arrive: the Webhooks list shows it with its verdict.

Cost: the billing side reads only records changed inside the window (index by_billing_last_event), each checked
by the delivery index by_provider_event; the event side reads four fields of each captured Stripe delivery with
one JSON extraction in SQLite.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

# Invoice events in the order Stripe sends them for one invoice, and what each later one implies came first.
IMPLIES: dict[str, tuple[str, ...]] = {
    "invoice.finalized": ("invoice.created",),
    "invoice.paid": ("invoice.created", "invoice.finalized"),
    "invoice.payment_succeeded": ("invoice.created", "invoice.finalized", "invoice.paid"),
    "invoice.payment_failed": ("invoice.created", "invoice.finalized"),
}
# How long before the implying event the implied one can be: Stripe finalizes a subscription's invoice about an
# hour after creating it. An implying event closer than this to the window's start proves nothing.
LEAD_MS = {"invoice.created": 2 * 3600_000, "invoice.finalized": 60_000, "invoice.paid": 60_000}


@dataclass(frozen=True)
class Reference:
    kind: str  # "billing" (a billing record) or "event" (a delivered event)
    source_id: str  # the billing document's _id, or the referencing event's id
    at: int  # ms: when the record was changed / the event was received
    event_type: str | None = None  # the referencing event's type
    delivery_id: str | None = None


@dataclass
class MissingEvent:
    event_id: str | None  # None when only implied by later events (Stripe events never name each other)
    expected_type: str | None
    object_id: str | None  # the invoice or subscription it is about
    customer: str | None
    user_id: str | None = None
    user_email: str | None = None
    references: list[Reference] = field(default_factory=list)

    @property
    def first_referenced_at(self) -> int:
        return min(r.at for r in self.references)

    @property
    def key(self) -> str:
        return self.event_id or f"{self.expected_type}:{self.object_id}"


@dataclass
class MissingReport:
    missing: list[MissingEvent]
    window_start: int | None  # ms of the oldest captured delivery (when capture began); None: nothing captured
    billing_checked: int  # billing records changed inside the window
    deliveries_checked: int  # captured Stripe deliveries


_EVENTS_SQL = (
    "SELECT id, provider_event_id, event_type, received_at, "
    "CASE WHEN json_valid(t) THEN json_extract(t, '$.data.object.id', '$.data.object.object', "
    "'$.data.object.customer') END "
    "FROM (SELECT id, provider_event_id, event_type, received_at, CAST(body AS TEXT) AS t "
    "FROM webhook_deliveries WHERE provider = 'stripe')"
)
_BILLING_SQL = (
    "SELECT b.id, b.user_id, b.stripe_customer_id, b.last_stripe_event_id, b.last_stripe_event_at, "
    "json_extract(b.doc, '$.lastStripeEventType'), json_extract(b.doc, '$.latestInvoiceId'), "
    "json_extract(b.doc, '$.stripeSubscriptionId'), "
    "EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.provider = 'stripe' "
    "        AND d.provider_event_id = b.last_stripe_event_id) "
    "FROM billing_accounts b WHERE b.last_stripe_event_at >= ? AND b.last_stripe_event_id IS NOT NULL"
)


def missing_stripe_events(conn: Connection) -> MissingReport:
    start = conn.exec_driver_sql("SELECT min(received_at) FROM webhook_deliveries").scalar()
    n_deliveries = conn.exec_driver_sql("SELECT count(*) FROM webhook_deliveries WHERE provider = 'stripe'").scalar()
    if start is None or not n_deliveries:
        return MissingReport([], start, 0, 0)
    found: dict[tuple[str | None, str | None], MissingEvent] = {}
    # Later events imply earlier ones about the same invoice.
    invoices: dict[str, dict] = {}
    for delivery_id, event_id, event_type, received, fields in conn.exec_driver_sql(_EVENTS_SQL):
        try:
            obj_id, obj_kind, customer = json.loads(fields) if fields else (None, None, None)
        except (ValueError, TypeError):
            continue
        if obj_kind != "invoice" or not isinstance(obj_id, str) or received is None:
            continue
        inv = invoices.setdefault(obj_id, {"types": set(), "refs": [], "customer": None})
        inv["types"].add(event_type)
        inv["refs"].append(Reference("event", str(event_id or ""), int(received), event_type, delivery_id))
        if isinstance(customer, str):
            inv["customer"] = customer
    for obj_id, inv in invoices.items():
        for kind in sorted({k for t in inv["types"] for k in IMPLIES.get(t, ())} - inv["types"]):
            refs = [r for r in inv["refs"] if kind in IMPLIES.get(r.event_type or "", ())]
            if min(r.at for r in refs) - LEAD_MS[kind] < start:
                continue  # may have come before the capture began
            found[(kind, obj_id)] = MissingEvent(None, kind, obj_id, inv["customer"], references=sorted(
                refs, key=lambda r: r.at))
    # Billing records name the last event that changed them.
    billing = conn.exec_driver_sql(_BILLING_SQL, (start,)).all()
    for doc_id, user_id, customer, event_id, at, kind, invoice, subscription, delivered in billing:
        if delivered:
            continue
        kind = kind if isinstance(kind, str) else None
        obj_id = invoice if kind and kind.startswith("invoice.") else subscription if kind else None
        ref = Reference("billing", doc_id, int(at))
        known = found.get((kind, obj_id)) if obj_id else None
        if known is not None:  # the record names an event later events implied: now its id is known
            known.event_id = event_id
            known.references.insert(0, ref)
            known.user_id = known.user_id or user_id
            continue
        found[(event_id, None)] = MissingEvent(event_id, kind, obj_id, customer, user_id, references=[ref])
    _name_users(conn, list(found.values()))
    missing = sorted(found.values(), key=lambda m: (-m.first_referenced_at, m.key))
    return MissingReport(missing, int(start), len(billing), int(n_deliveries))


def _name_users(conn: Connection, items: list[MissingEvent]) -> None:
    """Each missing event's user: from the billing record, else by its Stripe customer id (indexed)."""
    customers = sorted({m.customer for m in items if m.user_id is None and m.customer})
    by_customer: dict[str, str] = {}
    for i in range(0, len(customers), 500):
        chunk = customers[i:i + 500]
        marks = ",".join("?" * len(chunk))
        by_customer.update(conn.exec_driver_sql(
            f"SELECT stripe_customer_id, user_id FROM billing_accounts WHERE stripe_customer_id IN ({marks})",
            tuple(chunk)).all())
    for m in items:
        if m.user_id is None and m.customer:
            m.user_id = by_customer.get(m.customer)
    ids = sorted({m.user_id for m in items if m.user_id})
    emails: dict[str, str] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        marks = ",".join("?" * len(chunk))
        emails.update(conn.exec_driver_sql(f"SELECT id, email FROM users WHERE id IN ({marks})", tuple(chunk)).all())
    for m in items:
        m.user_email = emails.get(m.user_id) if m.user_id else None
