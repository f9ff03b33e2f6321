"""Stripe's side of the demo: each customer's Stripe ids and billing record, and the events Stripe sent in
the captured week (sign-ups and subscription renewals), a few of which never arrived.

Planned from its own random stream and kept on the user records: the billing documents and the deliveries
(made in a second process for large demos, which plans again from the same users and seed) read the same
plan, so what a billing document references and what was delivered agree.
"""

from __future__ import annotations

import base64
import random

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
CAPTURE = 7 * DAY  # deliveries are captured over the last week

PRICES = {"basic": 900, "pro": 1900, "team": 4900}
RENEWAL = ("invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded",
           "customer.subscription.updated")
FAILED_RENEWAL = ("invoice.created", "invoice.finalized", "invoice.payment_failed", "customer.subscription.updated")
SIGNUP = ("checkout.session.completed", "customer.subscription.created")
# Every 25th renewal loses one delivery (Stripe gave up, an outage at the receiver): its invoice.created,
# its last event (the one the billing record names) or its invoice.paid.
DROPS = {0: "invoice.created", 1: "customer.subscription.updated", 2: "invoice.paid"}

PLANS = ("free", "basic", "basic", "pro", "pro", "team")
STATUSES = ("active",) * 7 + ("trialing", "canceled")
LAST_TYPES = ("invoice.paid", "customer.subscription.updated", "invoice.payment_succeeded")

_ALNUM = bytes.maketrans(b"+/", b"Xz")


def _alnum(r: random.Random, n: int) -> str:
    return base64.b64encode(r.randbytes(n)).translate(_ALNUM)[:n].decode()


def is_stripe_slot(i: int) -> bool:
    """Which of the demo's deliveries are Stripe's: three in ten (the first twelve cycle the providers)."""
    return i % 3 == 1 if i < 12 else i % 10 in (1, 4, 7)


def stripe_slots(count: int) -> int:
    return sum(1 for i in range(count) if is_stripe_slot(i))


def plan(users: list[dict], seed: int, now: int, delivered: int) -> None:
    """Give customers their Stripe records (`user["stripe"]`) and the week's events, `delivered` of which arrive.
    A function of the users, seed and moment only: the outbox process plans again and gets the same."""
    r = random.Random(f"stripe-{seed}")
    start = now - CAPTURE
    old: list[dict] = []
    recent: list[dict] = []
    for u in users:
        if u["role"] != "user" or r.random() >= 0.85:
            continue  # staff, or a free user with no Stripe customer
        ids = _alnum(r, 86)  # one draw for the customer, last event, subscription and invoice ids
        customer = "cus_" + ids[:14]
        created = u["created"]
        if start + HOUR < created < now - HOUR:
            recent.append(u)
            u["stripe"] = {"customer": customer}  # billing only if the sign-up fits the week's deliveries
            continue
        if created > start - 2 * HOUR:
            continue  # signed up as the capture began: left out, so nothing straddles its start
        name = r.choice(PLANS)
        at = max(created + HOUR, start - r.randrange(HOUR, 40 * DAY))
        rec = {"customer": customer, "plan": name, "status": "active" if name == "free" else r.choice(STATUSES),
               "period_end": now + r.randrange(-5 * DAY, 30 * DAY), "last_event": "evt_" + ids[14:38],
               "last_event_at": at, "last_event_type": "customer.created" if name == "free" else r.choice(LAST_TYPES)}
        if name != "free":
            rec["subscription"] = "sub_" + ids[38:62]
            rec["invoice"] = "in_" + ids[62:86]
            old.append(u)
        u["stripe"] = rec
    left = delivered
    for u in recent[: min(delivered // 2, max(0, delivered - 15)) // 2]:
        left -= _signup(r, u, now)
    for u in recent:
        if "events" not in u["stripe"]:
            del u["stripe"]  # no room for their sign-up: a free user for now
    renewals = r.sample(old, min(len(old), delivered // 3 + 5))
    for j, u in enumerate(renewals):
        if left <= 0:
            break
        left -= _renewal(r, u, now, j, left)


def _event(r: random.Random, u: dict, kind: str, at: int, obj: dict, previous: dict | None = None) -> dict:
    ev = {"id": "evt_" + _alnum(r, 24), "type": kind, "at": at, "user": u["id"], "object": obj}
    if previous:
        ev["previous"] = previous
    return ev


def _signup(r: random.Random, u: dict, now: int) -> int:
    rec = u["stripe"]
    name = r.choice(("basic", "pro", "pro", "team"))
    sub, inv, cus = "sub_" + _alnum(r, 24), "in_" + _alnum(r, 24), rec["customer"]
    at = min(now - MINUTE, u["created"] + r.randrange(MINUTE, 30 * MINUTE))
    period_end = at + 30 * DAY
    events = [
        _event(r, u, "checkout.session.completed", at, {
            "id": "cs_live_" + _alnum(r, 24), "object": "checkout.session", "customer": cus, "subscription": sub,
            "mode": "subscription", "status": "complete", "amount_total": PRICES[name], "currency": "usd"}),
        _event(r, u, "customer.subscription.created", at + r.randrange(500, 3000), {
            "id": sub, "object": "subscription", "customer": cus, "status": "active", "latest_invoice": inv,
            "current_period_end": period_end // 1000, "plan": {"id": f"price_{name}_monthly", "amount": PRICES[name]}}),
    ]
    rec.update(plan=name, status="active", period_end=period_end, subscription=sub, invoice=inv, events=events)
    _last(rec, events)
    return len(events)


def _renewal(r: random.Random, u: dict, now: int, j: int, room: int) -> int:
    rec = u["stripe"]
    failed = j % 25 not in DROPS and r.random() < 0.12
    flow = FAILED_RENEWAL if failed else RENEWAL
    drop = DROPS.get(j % 25)
    cus, sub, inv, prev_inv = rec["customer"], rec["subscription"], "in_" + _alnum(r, 24), rec["invoice"]
    amount = PRICES[rec["plan"]]
    t0 = r.randrange(now - CAPTURE + 12 * HOUR, now - 2 * HOUR)  # well inside the captured week
    old_end, new_end = t0 // 1000, (t0 + 30 * DAY) // 1000
    at = t0
    events, delivered = [], 0
    for kind in flow:
        if delivered >= room:
            break  # the rest has not happened yet
        invoice = {"id": inv, "object": "invoice", "customer": cus, "subscription": sub,
                   "billing_reason": "subscription_cycle", "amount_due": amount, "currency": "usd"}
        if kind == "invoice.created":
            obj = {**invoice, "status": "draft", "amount_paid": 0}
            previous = None
        elif kind in ("invoice.finalized", "invoice.payment_failed"):
            at += HOUR + r.randrange(60_000) if kind == "invoice.finalized" else r.randrange(1000, 4000)
            obj = {**invoice, "status": "open", "amount_paid": 0}
            if kind == "invoice.payment_failed":
                obj["attempt_count"] = 1
            previous = None
        elif kind.startswith("invoice."):
            at += r.randrange(1000, 4000)
            obj = {**invoice, "status": "paid", "amount_paid": amount}
            previous = {"status": "open", "amount_paid": 0} if kind == "invoice.paid" else None
        else:
            at += r.randrange(1000, 4000)
            status = "past_due" if failed else "active"
            obj = {"id": sub, "object": "subscription", "customer": cus, "status": status, "latest_invoice": inv,
                   "current_period_start": old_end, "current_period_end": old_end if failed else new_end}
            previous = ({"status": "active"} if failed else
                        {"latest_invoice": prev_inv, "current_period_start": old_end - 30 * 86_400,
                         "current_period_end": old_end})
        ev = _event(r, u, kind, at, obj, previous)
        if kind == drop:
            ev["dropped"] = True
        else:
            delivered += 1
        events.append(ev)
    rec.update(invoice=inv, events=events, status="past_due" if failed and len(events) == len(flow) else "active")
    if not failed and len(events) == len(flow):
        rec["period_end"] = new_end * 1000
    _last(rec, events)
    return delivered


def _last(rec: dict, events: list[dict]) -> None:
    # The billing record names the last event that changed it: the product learns of an event it missed when
    # its nightly reconcile lists Stripe's events, so the last one may be one no delivery brought.
    rec.update(last_event=events[-1]["id"], last_event_at=events[-1]["at"], last_event_type=events[-1]["type"])


def delivered_events(users: list[dict]) -> list[dict]:
    """The planned events that arrived, in the order Stripe sent them."""
    out = [e for u in users if "stripe" in u for e in u["stripe"].get("events", ()) if not e.get("dropped")]
    out.sort(key=lambda e: (e["at"], e["id"]))
    return out


def billing_doc(u: dict) -> dict:
    """The product's billing record for a customer (without its _id and _creationTime)."""
    rec = u["stripe"]
    doc = {"userId": u["id"], "stripeCustomerId": rec["customer"], "plan": rec["plan"], "status": rec["status"],
           "currentPeriodEnd": rec["period_end"], "lastStripeEventId": rec["last_event"],
           "lastStripeEventType": rec["last_event_type"], "lastStripeEventAt": rec["last_event_at"],
           "updatedAt": rec["last_event_at"]}
    if "subscription" in rec:
        doc["stripeSubscriptionId"] = rec["subscription"]
        doc["latestInvoiceId"] = rec["invoice"]
    return doc
