"""Which Stripe events never arrived: the check finds exactly the deliveries the demo dropped that the billing
records or later events reveal, with who referenced them and the customer, and nothing else."""

import json

from sqlalchemy import text

from console.demo.generator import DemoGenerator, DemoSizes
from console.store.ingest import upsert_documents
from console.store.mapping import BY_SOURCE
from console.webhooks.missing import missing_stripe_events
from tests.conftest import DEMO_NOW_MS


def dropped(sizes, seed, now_ms):
    """The events the demo planned and never delivered, from the generator itself: (id, type, object id, user)."""
    gen = DemoGenerator(sizes, seed, now_ms)
    for _ in gen.users_docs():
        pass
    gen.plan_stripe()
    return {(e["id"], e["type"], e["object"]["id"], e["user"])
            for u in gen.users if "stripe" in u for e in u["stripe"].get("events", ()) if e.get("dropped")}


def found(report):
    return {(m.event_id, m.expected_type, m.object_id, m.user_id) for m in report.missing}


def expected(drops):
    # Stripe events never name each other: one implied by later events has no id, unless a billing record names it.
    return {(i if t == "customer.subscription.updated" else None, t, obj, user) for i, t, obj, user in drops}


def test_lists_exactly_the_dropped_events_the_data_reveals(engine):
    drops = dropped(DemoSizes(users=600, messages=4000, jobs=3000), 11, DEMO_NOW_MS)
    assert {t for _, t, _, _ in drops} == {"invoice.created", "invoice.paid", "customer.subscription.updated"}
    with engine.connect() as c:
        report = missing_stripe_events(c)
        emails = dict(c.execute(text("SELECT id, email FROM users")).all())
    assert found(report) == expected(drops)
    assert report.deliveries_checked > 0 and report.billing_checked > 0 and report.window_start
    for m in report.missing:
        assert m.customer and m.customer.startswith("cus_") and m.user_email == emails[m.user_id]
        assert m.first_referenced_at >= report.window_start
        if m.event_id:  # named by the billing record of the customer
            assert m.event_id.startswith("evt_") and [r.kind for r in m.references] == ["billing"]
        else:  # implied by later events about the same invoice, which did arrive
            assert m.references and all(r.kind == "event" and r.source_id.startswith("evt_") for r in m.references)


def test_an_event_that_arrives_later_is_no_longer_missing(engine):
    with engine.connect() as c:
        before = missing_stripe_events(c)
    named = next(m for m in before.missing if m.event_id)
    spec = BY_SOURCE[("", "webhookDeliveries")]
    body = json.dumps({"id": named.event_id, "object": "event", "type": named.expected_type,
                       "data": {"object": {"id": named.object_id, "object": "subscription"}}}).encode()
    with engine.begin() as c:  # Stripe's retry finally got through
        upsert_documents(c, spec, [{"_id": "late1", "_creationTime": 1.0, "_ts": 10**18, "provider": "stripe",
                                    "endpoint": "https://x", "headers": {}, "body": body.decode(),
                                    "receivedAt": DEMO_NOW_MS, "eventType": named.expected_type,
                                    "providerEventId": named.event_id}])
        after = missing_stripe_events(c)
    assert {m.key for m in after.missing} == {m.key for m in before.missing} - {named.key}


def test_references_from_before_capture_began_do_not_count(engine):
    with engine.begin() as c:
        # the whole week's Stripe deliveries gone: only Twilio and Clerk were captured, and no billing record
        # changed since capture began names anything
        c.execute(text("DELETE FROM webhook_deliveries WHERE provider = 'stripe'"))
        report = missing_stripe_events(c)
    assert report.missing == [] and report.deliveries_checked == 0


def test_a_replica_without_billing_events_or_deliveries_has_nothing_missing(tmp_path):
    from console.store.db import open_replica

    eng = open_replica(tmp_path / "r.sqlite")
    with eng.connect() as c:
        report = missing_stripe_events(c)
    assert report.missing == [] and report.window_start is None
    eng.dispose()


def test_a_version_9_replica_gets_the_billing_event_columns(demo_db):
    from console.store import db as dbmod
    from console.store.db import open_replica

    eng = open_replica(demo_db)
    with eng.begin() as c:
        want = found(missing_stripe_events(c))
        named = c.execute(text("SELECT count(*) FROM billing_accounts WHERE last_stripe_event_id IS NOT NULL")).scalar()
        for stmt in ("DROP INDEX by_billing_last_event", "ALTER TABLE billing_accounts DROP COLUMN last_stripe_event_id",
                     "ALTER TABLE billing_accounts DROP COLUMN last_stripe_event_at"):
            c.exec_driver_sql(stmt)
        dbmod.set_meta(c, "schema_version", "9")
    eng.dispose()
    eng = open_replica(demo_db)  # migrated: the columns backfilled from the documents, the index made
    with eng.connect() as c:
        assert dbmod.get_meta(c, "schema_version") == str(dbmod.SCHEMA_VERSION)
        assert c.execute(text("SELECT count(*) FROM billing_accounts WHERE last_stripe_event_id LIKE 'evt_%' "
                              "AND last_stripe_event_at > 0")).scalar() == named > 0
        assert c.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'by_billing_last_event'")).scalar() == 1
        assert found(missing_stripe_events(c)) == want and want
    eng.dispose()


def test_hostile_stripe_bodies_do_not_break_the_check(engine):
    spec = BY_SOURCE[("", "webhookDeliveries")]
    bodies = [b"not json", b"\xff\xfe\x00binary", b"[1, 2]", b'{"data": {"object": {"id": 5, "object": "invoice"}}}',
              b'{"data": {"object": {"id": "in_x\\u0000", "object": "invoice", "customer": ["cus"]}}}', b""]
    with engine.begin() as c:
        before = found(missing_stripe_events(c))
        upsert_documents(c, spec, [{"_id": f"hostile{i}", "_creationTime": 1.0, "_ts": 10**18, "provider": "stripe",
                                    "headers": {}, "body": {"$bytes": __import__("base64").b64encode(b).decode()},
                                    "receivedAt": DEMO_NOW_MS, "eventType": "invoice.paid",
                                    "providerEventId": f"evt_h{i}"} for i, b in enumerate(bodies)])
        after = missing_stripe_events(c)
    # the one well-formed invoice event with a text id implies its earlier events; nothing else changes or fails
    assert found(after) - before == {(None, "invoice.created", "in_x\x00", None),
                                     (None, "invoice.finalized", "in_x\x00", None)}


def test_the_outbox_process_tells_the_same_story_as_the_billing_records(tmp_path, monkeypatch):
    # Large demos make deliveries in a second process, which plans the Stripe story again from the same users:
    # every Stripe delivery's customer has a billing record, and the same events are missing.
    from console.demo import generator as G
    from console.store.db import open_replica

    monkeypatch.setattr(G, "PARALLEL_JOBS", 100)
    sizes = DemoSizes(users=300, messages=600, jobs=400)
    G.generate(tmp_path / "p.sqlite", sizes, seed=5, now_ms=DEMO_NOW_MS)
    eng = open_replica(tmp_path / "p.sqlite")
    with eng.connect() as c:
        report = missing_stripe_events(c)
        orphans = c.exec_driver_sql(
            "SELECT count(*) FROM webhook_deliveries d WHERE d.provider = 'stripe' AND NOT EXISTS (SELECT 1 FROM "
            "billing_accounts b WHERE b.stripe_customer_id = json_extract(CAST(d.body AS TEXT), '$.data.object.customer'))"
        ).scalar()
    eng.dispose()
    assert orphans == 0 and report.deliveries_checked > 0
    assert found(report) == expected(dropped(sizes, 5, DEMO_NOW_MS))
