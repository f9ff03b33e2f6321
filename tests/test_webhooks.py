"""Webhook diagnosis, verdicts, replay to a stand-in, capture and import (no Qt)."""

import asyncio
import base64
import json
import time
import urllib.parse

import httpx
import pytest

from console.demo.secrets import DEMO_CLERK_SECRET, DEMO_STRIPE_SECRET, DEMO_TWILIO_AUTH_TOKEN
from console.secrets import SecretStore
from console.signatures import sign_standard_webhook, sign_stripe, sign_twilio
from console.store.webhooks import DeliveryQuery, detail, search, verdict_counts
from console.webhooks.reverify import delivery_of, reverify
from console.webhooks.diagnose import Delivery, diagnose
from console.webhooks.ingest import ImportError_, export, parse_file, start_capture, store
from console.webhooks.replay import ReplayError, is_loopback, prepare, send
from console.webhooks.secrets import Secret, WebhookSecrets
from tests.standin_helpers import standin

NOW = time.time()
STRIPE = [Secret("stripe", "demo", DEMO_STRIPE_SECRET), Secret("stripe", "live", "whsec_live_one")]
TWILIO = [Secret("twilio", "demo", DEMO_TWILIO_AUTH_TOKEN)]
CLERK = [Secret("clerk", "demo", DEMO_CLERK_SECRET)]
BODY = json.dumps({"id": "evt_1", "type": "invoice.paid"}, indent=2).encode()


def stripe_delivery(body=BODY, secret=DEMO_STRIPE_SECRET, t=None, received=None):
    t = int(NOW) if t is None else t
    return Delivery("stripe", "https://x.convex.site/stripe", {"Stripe-Signature": sign_stripe(body, secret, timestamp=t)},
                    body, int((received or NOW) * 1000))


def test_valid_and_the_plausible_causes():
    assert diagnose(stripe_delivery(), STRIPE).verdict.valid
    other = diagnose(stripe_delivery(secret="whsec_live_one"), STRIPE)
    assert not other.verdict.valid and other.verifies_with == STRIPE[1]
    assert "stripe live secret" in other.summary
    stale = diagnose(stripe_delivery(t=int(NOW) - 1000), STRIPE)
    assert stale.verdict.reason == "timestamp_too_old" and "700 s over" in stale.summary
    compact = json.dumps(json.loads(BODY), separators=(",", ":")).encode()
    signed_compact = stripe_delivery(body=compact)
    reserialised = Delivery("stripe", signed_compact.endpoint, signed_compact.headers, BODY, signed_compact.received_at_ms)
    assert "re-serialised" in diagnose(reserialised, STRIPE).summary
    tampered = Delivery("stripe", signed_compact.endpoint, signed_compact.headers, b'{"id":"evt_2"}', 1)
    assert "changed after signing" in diagnose(tampered, STRIPE).summary
    missing = Delivery("stripe", "https://x", {}, BODY, 1)
    assert diagnose(missing, STRIPE).verdict.reason == "missing_header"
    assert diagnose(stripe_delivery(), []).verdict.reason == "missing_secret"


@pytest.mark.parametrize("signed_for,explains", [
    ("http://x.convex.site/twilio/sms", "http instead of https"),
    ("https://x.convex.site:443/twilio/sms", None),  # the default port: accepted, as twilio-python does
    ("https://x.convex.site/twilio/sms/", "with a trailing slash"),
    ("https://public.example.com/twilio/sms", "with host public.example.com"),
])
def test_twilio_url_mistakes_are_named(signed_for, explains):
    params = {"MessageSid": "SM1", "Body": "hi", "From": "+14155550100"}
    headers = {"X-Twilio-Signature": sign_twilio(signed_for, params, DEMO_TWILIO_AUTH_TOKEN),
               "Content-Type": "application/x-www-form-urlencoded", "Host": "public.example.com"}
    d = Delivery("twilio", "https://x.convex.site/twilio/sms", headers, urllib.parse.urlencode(params).encode(), 1)
    diag = diagnose(d, TWILIO)
    if explains is None:
        assert diag.verdict.valid
    else:
        assert not diag.verdict.valid and explains in diag.summary and diag.verifies_at_url == signed_for


def test_demo_deliveries_get_verdicts_and_explanations(engine):
    secrets = WebhookSecrets(SecretStore())
    assert reverify(engine, secrets) > 0
    with engine.connect() as c:
        counts = verdict_counts(c)
        invalid = search(c, DeliveryQuery(verdict="invalid"), limit=500).rows
        valid = search(c, DeliveryQuery(verdict="valid"), limit=5).rows
    assert counts.get("valid", 0) > sum(v for k, v in counts.items() if k != "valid") > 0
    assert valid and all(r.valid for r in valid)
    summaries = " | ".join(r.summary for r in invalid)
    for cause in ("timestamp", "rotated", "would verify with URL", "changed after signing"):
        assert cause in summaries, cause


def test_replay_to_the_standin_is_idempotent_and_verbatim_warns(engine):
    s = standin(seed="empty")
    reverify(engine, WebhookSecrets(SecretStore()))
    try:
        with engine.connect() as c:
            row = search(c, DeliveryQuery(provider="twilio", verdict="valid"), limit=1).rows[0]
            d = detail(c, row.id)
        delivery = delivery_of(d)
        target = s.url + "/twilio/sms"
        secret = Secret("twilio", "demo", DEMO_TWILIO_AUTH_TOKEN)

        async def go():
            async with httpx.AsyncClient() as client:
                first = await send(client, prepare(delivery, "resigned", target, secret=secret))
                second = await send(client, prepare(delivery, "resigned", target, secret=secret))
                verbatim = prepare(delivery, "verbatim", target)
                refused = await send(client, verbatim)
                return first, second, verbatim, refused

        first, second, verbatim, refused = asyncio.run(go())
        assert first.ok and second.ok
        assert json.loads(first.excerpt)["jobId"] == json.loads(second.excerpt)["jobId"]
        assert json.loads(second.excerpt)["duplicate"] is True
        assert s.store.count("jobs") == 1
        assert any("signs the URL" in w for w in verbatim.warnings) and refused.status == 403
    finally:
        s.stop()


def test_replay_rules():
    d = stripe_delivery(t=int(NOW) - 3600)
    p = prepare(d, "verbatim", "http://127.0.0.1:9/stripe")
    assert p.body == d.body and any("refuse it" in w for w in p.warnings)
    with pytest.raises(ReplayError, match="live secret is off"):
        prepare(d, "resigned", "http://127.0.0.1:9/stripe", secret=Secret("stripe", "live", "whsec_l"))
    edited = prepare(d, "edited", "http://127.0.0.1:9/stripe", secret=STRIPE[0], body=b'{"id":"evt_9"}', now=NOW)
    assert edited.body == b'{"id":"evt_9"}'
    # Signed at NOW and received at NOW: the module's NOW, not the clock (a long suite passes the tolerance).
    assert diagnose(Delivery("stripe", "x", edited.headers, edited.body, int(NOW * 1000)), STRIPE).verdict.valid
    clerk = Delivery("clerk", "https://x/clerk", sign_standard_webhook(b"{}", DEMO_CLERK_SECRET, "msg_1",
                                                                        timestamp=int(NOW) - 999), b"{}", 1)
    fresh = prepare(clerk, "resigned", "http://127.0.0.1:9/clerk", secret=CLERK[0])
    assert fresh.headers["svix-id"] == "msg_1" and int(fresh.headers["svix-timestamp"]) >= int(NOW)
    assert is_loopback("http://127.0.0.1:8187/x") and is_loopback("http://localhost/x")
    assert not is_loopback("https://example.com/x") and not is_loopback("http://10.0.0.1/x")


def test_capture_records_the_raw_bytes_unchanged(engine):
    server = start_capture(engine)
    body = b'{"id": "evt_cap",  "odd spacing":\t"kept",\n "emoji": "\xf0\x9f\x99\x82"}\r\n'
    try:
        r = httpx.post(server.url + "/stripe?x=1", content=body, headers={
            "Stripe-Signature": sign_stripe(body, DEMO_STRIPE_SECRET), "Content-Type": "application/json"})
        assert r.status_code == 200
        captured = r.json()["captured"]
    finally:
        server.stop()
    with engine.connect() as c:
        d = detail(c, captured)
    assert d.body == body
    assert d.row["provider"] == "stripe" and d.row["provider_event_id"] == "evt_cap"
    assert d.row["endpoint"].endswith("/stripe?x=1")
    assert diagnose(delivery_of(d), STRIPE).verdict.valid


def test_import_har_and_console_export(engine, tmp_path):
    body = b"AccountSid=AC1&MessageSid=SMhar1&Body=hi"
    har = {"log": {"entries": [
        {"startedDateTime": "2026-11-20T10:00:00.000Z", "request": {
            "method": "POST", "url": "https://x.convex.site/twilio/sms",
            "headers": [{"name": "X-Twilio-Signature", "value": "abc="},
                        {"name": "Content-Type", "value": "application/x-www-form-urlencoded"}],
            "postData": {"mimeType": "application/x-www-form-urlencoded", "text": body.decode()}}},
        {"startedDateTime": "2026-11-20T10:00:01.000Z", "request": {"method": "GET", "url": "https://x/", "headers": []}},
    ]}}
    path = tmp_path / "capture.har"
    path.write_text(json.dumps(har))
    docs = parse_file(path)
    assert len(docs) == 1 and docs[0]["provider"] == "twilio" and docs[0]["providerEventId"] == "SMhar1"
    ids = store(engine, docs)
    with engine.connect() as c:
        d = detail(c, ids[0])
    assert d.body == body
    exported = tmp_path / "export.json"
    exported.write_text(json.dumps(export([{**d.row, "headers": d.headers, "body": d.body}])))
    again = parse_file(exported)
    assert base64.b64decode(again[0]["body"]["$bytes"]) == body and again[0]["headers"] == d.headers
    bad = tmp_path / "bad.json"
    bad.write_text('{"nope": 1}')
    with pytest.raises(ImportError_, match="neither a HAR"):
        parse_file(bad)
    bad.write_text("{broken")
    with pytest.raises(ImportError_, match="not readable JSON"):
        parse_file(bad)
