"""Hostile deliveries (issue 14, high): each gets its own verdict, the rest are still verified, and the
stand-in's webhook endpoints answer 403 (not 500) to malformed signatures, URLs and Host headers."""

from __future__ import annotations

import http.client
import json
import time

from sqlalchemy import text

from console.demo.secrets import DEMO_STRIPE_SECRET, DEMO_TWILIO_AUTH_TOKEN
from console.secrets import SecretStore
from console.signatures import sign_stripe, sign_twilio
from console.webhooks.reverify import reverify
from console.webhooks.diagnose import Delivery, diagnose, url_variants
from console.webhooks.ingest import delivery_doc, store
from console.webhooks.secrets import WebhookSecrets
from tests.standin_helpers import standin


def _doc(endpoint, headers, body):
    return delivery_doc(endpoint, "POST", headers, body, int(time.time() * 1000), "test")


def test_one_malformed_delivery_never_stops_the_others(engine):
    good_body = b'{"id": "evt_good", "type": "x"}'
    deep = b"[" * 100_000 + b"]" * 100_000
    docs = [
        _doc("http://127.0.0.1/stripe", {"Stripe-Signature": "t=1,v1=\u00e9\u00e9"}, b"{}"),
        _doc("http://h:99999/twilio/sms", {"X-Twilio-Signature": "YWJj", "Host": "[::1"}, b"MessageSid=SM1"),
        _doc("http://[::1/twilio/sms", {"X-Twilio-Signature": "YWJj"}, b"MessageSid=SM2"),
        _doc("http://127.0.0.1/twilio/sms", {"X-Twilio-Signature": "YWJj", "Host": "h:abc"}, b"MessageSid=SM3"),
        _doc("http://127.0.0.1/stripe", {"Stripe-Signature": sign_stripe(deep, DEMO_STRIPE_SECRET, timestamp=1)},
             deep),
        _doc("http://127.0.0.1/stripe", {"Stripe-Signature": "t=%s,v1=00" % ("9" * 5000)}, b"{}"),
        _doc("http://127.0.0.1/stripe", {"Stripe-Signature": sign_stripe(good_body, DEMO_STRIPE_SECRET,
                                                                         timestamp=253402300800)}, good_body),
        _doc("http://127.0.0.1/stripe", {"Stripe-Signature": sign_stripe(good_body, DEMO_STRIPE_SECRET)}, good_body),
    ]
    ids = store(engine, docs)
    with engine.begin() as c:  # headers that are JSON but not an object
        c.execute(text("UPDATE webhook_deliveries SET headers = '[1, 2]' WHERE id = :i"), {"i": ids[0]})
    n = reverify(engine, WebhookSecrets(SecretStore()), only=ids)
    assert n == len(ids)
    with engine.connect() as c:
        verdicts = {r.delivery_id: r for r in c.execute(text(
            "SELECT delivery_id, valid, reason, summary FROM delivery_verdicts WHERE delivery_id IN ("
            + ", ".join(f"'{i}'" for i in ids) + ")"))}
    assert set(verdicts) == set(ids)  # every delivery has a verdict: none left at "checking…"
    assert verdicts[ids[-1]].valid == 1  # the ordinary one still verifies
    assert verdicts[ids[6]].reason == "timestamp_too_new"  # year 10000, validly signed
    assert all(verdicts[i].valid == 0 and verdicts[i].summary for i in ids[:-1])


def test_diagnose_twilio_with_ipv6_and_bad_port_hosts():
    assert url_variants("http://h:99999/x") == []
    assert url_variants("http://[::1/x") == []
    for host in ("[::1]", "[::1]:8080", "[::1", "h:99999", "h:abc"):
        body = b"MessageSid=SM1&Body=hi"
        d = Delivery("twilio", "http://127.0.0.1:8187/twilio/sms",
                     {"X-Twilio-Signature": sign_twilio("http://elsewhere/twilio/sms", {"MessageSid": "SM1",
                                                                                        "Body": "hi"}, "tok"),
                      "Host": host, "Content-Type": "application/x-www-form-urlencoded"}, body)
        diag = diagnose(d, WebhookSecrets(SecretStore()).for_provider("twilio"))
        assert not diag.verdict.valid and diag.summary


def _post(url: str, path: str, headers: dict[str, bytes | str], body: bytes) -> int:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest("POST", path, skip_host="Host" in headers, skip_accept_encoding=True)
        for k, v in {**headers, "Content-Length": str(len(body))}.items():
            conn.putheader(k, v)
        conn.endheaders(body)
        return conn.getresponse().status
    finally:
        conn.close()


def test_standin_webhooks_answer_403_to_malformed_signatures():
    s = standin(seed="empty")
    try:
        body = json.dumps({"id": "evt_1", "type": "invoice.paid"}).encode()
        assert _post(s.url, "/stripe", {"Stripe-Signature": "t=1,v1=\u00e9\u00e9".encode()}, body) == 403
        assert _post(s.url, "/stripe", {"Stripe-Signature": "t=%s,v1=00" % ("9" * 5000)}, body) == 403
        absurd = sign_stripe(body, DEMO_STRIPE_SECRET, timestamp=253402300800)
        assert _post(s.url, "/stripe", {"Stripe-Signature": absurd}, body) == 403
        form = b"MessageSid=SM1&Body=hi"
        sig = sign_twilio("http://x/twilio/sms", {"MessageSid": "SM1", "Body": "hi"}, DEMO_TWILIO_AUTH_TOKEN)
        for host in ("[::1", "h:99999", "h:abc", "[::1]:1"):
            assert _post(s.url, "/twilio/sms", {"Host": host, "X-Twilio-Signature": sig}, form) == 403, host
        assert _post(s.url, "/twilio/sms", {"X-Twilio-Signature": "\u00e9".encode()}, form) == 403
        good = sign_stripe(body, DEMO_STRIPE_SECRET)
        assert _post(s.url, "/stripe", {"Stripe-Signature": good}, body) == 200  # and still works
    finally:
        s.stop()
