"""The demo replica: deterministic, realistic, and signed like real senders sign."""

import base64
import hashlib
import hmac
import json
import urllib.parse
from collections import Counter

import pytest
from sqlalchemy import text

from console.demo.generator import DemoSizes, generate
from console.demo.secrets import DEMO_CLERK_SECRET, DEMO_STRIPE_SECRET, DEMO_TWILIO_AUTH_TOKEN
from console.store.db import get_meta, open_replica
from tests.conftest import DEMO_NOW_MS


@pytest.fixture
def conn(engine):
    with engine.connect() as c:
        yield c


def digest(path):
    eng = open_replica(path)
    h = hashlib.sha256()
    with eng.connect() as c:
        for table in ("users", "members", "messages", "jobs", "webhook_deliveries", "sessions"):
            for row in c.execute(text(f"SELECT * FROM {table} ORDER BY pk")):
                h.update(repr(tuple(row)).encode())
    eng.dispose()
    return h.hexdigest()


def test_same_seed_same_data_other_seed_other_data(tmp_path):
    sizes = DemoSizes(users=120, messages=600, jobs=300)
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        generate(tmp_path / f"{name}.sqlite", sizes, seed=seed, now_ms=DEMO_NOW_MS)
    assert digest(tmp_path / "a.sqlite") == digest(tmp_path / "b.sqlite")
    assert digest(tmp_path / "a.sqlite") != digest(tmp_path / "c.sqlite")


def test_requested_sizes_and_demo_mark(conn):
    assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 600
    assert conn.execute(text("SELECT count(*) FROM messages")).scalar() == 4000
    assert conn.execute(text("SELECT count(*) FROM jobs")).scalar() == 3000
    assert get_meta(conn, "mode") == "demo"
    assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_people_look_real_and_are_unique(conn):
    emails = conn.execute(text("SELECT lower(email) FROM users")).scalars().all()
    assert len(emails) == len(set(emails))
    assert all("@" in e and "." in e.split("@")[1] for e in emails)
    staff = conn.execute(text("SELECT roles FROM users WHERE email LIKE '%@tidewell.app'")).scalars().all()
    assert any("admin" in r for r in staff) and any(r == '["support"]' for r in staff)
    assert conn.execute(text("SELECT count(*) FROM users WHERE NOT is_active")).scalar() > 0
    assert conn.execute(text("SELECT count(*) FROM users WHERE doc LIKE '%passwordHash%'")).scalar() == 0


def test_every_organization_has_an_owner(conn):
    orphans = conn.execute(text(
        "SELECT count(*) FROM organizations o WHERE NOT EXISTS "
        "(SELECT 1 FROM members m WHERE m.organization_id = o.id AND m.role LIKE '%owner%') "
        "AND EXISTS (SELECT 1 FROM members m WHERE m.organization_id = o.id)")).scalar()
    assert orphans == 0
    assert conn.execute(text("SELECT count(*) FROM members WHERE role LIKE '%,%'")).scalar() > 0


def test_conversations_alternate_and_are_ordered(conn):
    chat = conn.execute(text("SELECT id FROM chats ORDER BY pk LIMIT 1")).scalar()
    msgs = conn.execute(text("SELECT role, created_at, body FROM messages WHERE chat_id=:c ORDER BY created_at"),
                        {"c": chat}).all()
    assert [m.role for m in msgs] == (["user", "assistant"] * len(msgs))[: len(msgs)]
    assert all(m.body and "{name}" not in m.body for m in msgs)
    updated = conn.execute(text("SELECT updated_at FROM chats WHERE id=:c"), {"c": chat}).scalar()
    assert updated == msgs[-1].created_at


def test_job_store_has_every_state_and_realistic_failures(conn):
    states = Counter(dict(conn.execute(text("SELECT status, count(*) FROM jobs GROUP BY status")).all()))
    assert {"pending", "running", "retrying", "dead", "succeeded", "canceled"} <= set(states)
    dead = conn.execute(text("SELECT attempts, max_attempts, errors, last_error FROM jobs WHERE status='dead' LIMIT 20")).all()
    for d in dead:
        errors = json.loads(d.errors)
        assert d.attempts == d.max_attempts == len(errors)
        assert d.last_error == errors[-1]["error"]
    stuck = conn.execute(text(
        "SELECT count(*) FROM jobs WHERE status='running' AND claimed_at + lease_ms < :now"), {"now": DEMO_NOW_MS}).scalar()
    assert stuck > 0
    keys = conn.execute(text("SELECT count(*), count(DISTINCT key) FROM jobs")).one()
    assert keys[0] == keys[1]


def _verifies(row) -> bool:
    headers = json.loads(row.headers)
    body = row.body
    if row.provider == "stripe":
        parts = dict(p.split("=", 1) for p in headers["Stripe-Signature"].split(","))
        mac = hmac.new(DEMO_STRIPE_SECRET.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(mac, parts["v1"]) and abs(int(parts["t"]) - row.received_at // 1000) < 300
    if row.provider == "twilio":
        params = dict(urllib.parse.parse_qsl(body.decode()))
        data = row.endpoint + "".join(k + params[k] for k in sorted(params))
        mac = base64.b64encode(hmac.new(DEMO_TWILIO_AUTH_TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()
        return hmac.compare_digest(mac, headers["X-Twilio-Signature"])
    key = base64.b64decode(DEMO_CLERK_SECRET.removeprefix("whsec_"))
    signed = f"{headers['svix-id']}.{headers['svix-timestamp']}.".encode() + body
    mac = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    fresh = abs(int(headers["svix-timestamp"]) - row.received_at // 1000) < 300
    return fresh and any(s.split(",", 1)[1] == mac for s in headers["svix-signature"].split())


def test_deliveries_are_signed_like_the_real_senders_and_some_are_broken(conn):
    rows = conn.execute(text("SELECT * FROM webhook_deliveries")).all()
    verdicts = Counter((r.provider, _verifies(r)) for r in rows)
    for provider in ("stripe", "twilio", "clerk"):
        assert verdicts[(provider, True)] > 0, provider
    valid = sum(n for (_, ok), n in verdicts.items() if ok)
    # mostly good, some tampered / stale / wrong secret or URL (12 of the first 60 are broken on purpose)
    assert 0.6 < valid / len(rows) < 0.97


def test_each_accepted_delivery_links_its_job(conn):
    rows = conn.execute(text(
        "SELECT d.*, j.id AS jid, j.key AS jkey, j.delivery_id AS jdelivery FROM webhook_deliveries d "
        "LEFT JOIN jobs j ON j.id = d.job_id")).all()
    accepted = [r for r in rows if _verifies(r)]
    assert accepted and all(r.jid and r.jkey == r.provider_event_id and r.jdelivery == r.id for r in accepted)


def test_no_signature_failed_delivery_has_a_job(conn):
    # The receiver refuses (403) a delivery whose signature fails: it enqueues nothing, so no job, not even
    # one found by the delivery id or the event id as its idempotency key.
    rows = conn.execute(text("SELECT * FROM webhook_deliveries")).all()
    refused = [r for r in rows if not _verifies(r)]
    assert {r.provider for r in refused} == {"stripe", "twilio", "clerk"}
    ids = [r.id for r in refused]
    keys = [r.provider_event_id for r in refused]
    assert all(r.job_id is None for r in refused)
    marks = ",".join("?" * len(ids))
    assert conn.exec_driver_sql(f"SELECT count(*) FROM jobs WHERE delivery_id IN ({marks}) OR key IN ({marks})",
                                tuple(ids + keys)).scalar() == 0
