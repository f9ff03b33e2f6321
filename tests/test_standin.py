"""The stand-in answers exactly as a deployment does: pages, cursors, clock, ids, errors, workflows."""

import base64
import json
import threading
import time
import urllib.parse

import httpx
import pytest

from console.convex.ids import decode_id
from console.demo.secrets import DEMO_CLERK_SECRET, DEMO_STRIPE_SECRET, DEMO_TWILIO_AUTH_TOKEN
from console.domain import jobs as J
from console.signatures import sign_standard_webhook, sign_stripe, sign_twilio
from console.standin.worker import Worker
from tests.standin_helpers import KEY, standin

H = {"Authorization": f"Convex {KEY}", "Convex-Client": "ops-console-0.1.0"}


@pytest.fixture(scope="module")
def s():
    st = standin()
    yield st
    st.stop()


def get(s, route, **params):
    return httpx.get(s.url + route, params=params, headers=H)


def test_snapshot_pages_hold_one_table_in_id_order_at_most_1024(s):
    seen, cursor, snapshot = [], None, None
    while True:
        params = {"tableName": "messages", "format": "convex_encoded_json"}
        if cursor:
            params["cursor"] = cursor
        if snapshot:
            params["snapshot"] = snapshot
        body = get(s, "/api/list_snapshot", **params).json()
        assert len(body["values"]) <= 1024
        assert all(v["_table"] == "messages" and v["_component"] == "" for v in body["values"])
        snapshot = body["snapshot"]
        seen += [v["_id"] for v in body["values"]]
        cursor = body["cursor"]
        if not body["hasMore"]:
            assert cursor is None
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 1500


def test_snapshot_is_stable_while_writes_happen(s):
    first = get(s, "/api/list_snapshot", tableName="users", format="json").json()
    with s.store.transaction() as tx:
        tx.insert("users", {"email": "later@example.com", "name": "Later"})
    again = get(s, "/api/list_snapshot", tableName="users", format="json", snapshot=first["snapshot"]).json()
    assert [v["_id"] for v in again["values"]] == [v["_id"] for v in first["values"]]


def test_deltas_are_exclusive_ordered_carry_deletes_and_never_split_a_transaction(s):
    start = get(s, "/api/list_snapshot", tableName="users", format="json").json()["snapshot"]
    users = s.store.scan("users", limit=200)
    with s.store.transaction() as tx:  # one transaction of 200 writes: more than a page of 128
        for u in users:
            tx.patch("users", u["_id"], {"labels": ["touched"]})
    with s.store.transaction() as tx:
        tx.delete("users", users[0]["_id"])
    body = get(s, "/api/document_deltas", cursor=start, format="convex_encoded_json").json()
    ts_of = [v["_ts"] for v in body["values"]]
    assert len(users) > 128 and len(body["values"]) == len(users) and body["hasMore"]  # past the 128 limit
    assert len({json.dumps(t) for t in ts_of}) == 1
    ids = [v["_id"] for v in body["values"]]
    assert ids == sorted(ids)
    nxt = get(s, "/api/document_deltas", cursor=body["cursor"], format="convex_encoded_json").json()
    assert [v["_id"] for v in nxt["values"]] == [users[0]["_id"]]
    assert nxt["values"][0]["_deleted"] is True and set(nxt["values"][0]) == {"_id", "_ts", "_table", "_component",
                                                                               "_deleted"}
    assert not nxt["hasMore"]
    again = get(s, "/api/document_deltas", cursor=nxt["cursor"], format="json").json()
    assert again["values"] == [] and again["cursor"] >= nxt["cursor"]


def test_clock_is_nanoseconds_and_ids_are_valid(s):
    body = get(s, "/api/list_snapshot", tableName="jobs", format="export_json").json()
    ts = body["values"][0]["_ts"]
    assert isinstance(ts, int) and abs(ts - time.time_ns()) < 3600 * 10**9
    assert isinstance(body["values"][0]["_creationTime"], float)
    for v in body["values"][:50]:
        table, _ = decode_id(v["_id"])
        assert table >= 10001
    with s.store.transaction() as tx:
        new = tx.insert("jobs", {"key": "k-new"})
    decode_id(new)


def test_protocol_errors_look_like_a_deployment(s):
    r = httpx.get(s.url + "/api/document_deltas", headers=H)
    assert r.status_code == 400 and r.json()["code"] == "DocumentDeltasCursorRequired"
    r = httpx.get(s.url + "/api/list_snapshot", params={"tableName": "users"})
    assert r.status_code == 403 and r.json()["code"] == "BadDeployKey"
    r = httpx.post(s.url + "/api/query", content=b"{not json", headers={**H, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "BadJsonBody"
    r = httpx.post(s.url + "/api/query", json={"path": "x:y", "args": {}, "format": "weird"}, headers=H)
    assert r.json()["code"] == "BadFormat"
    r = httpx.post(s.url + "/api/mutation", json={"path": "jobs:enqueue", "args": {"key": "x"}})
    assert r.status_code == 200 and "Could not find public function" in r.json()["errorMessage"]
    r = httpx.get(s.url + "/api/list_snapshot", params={"tableName": "users", "cursor": "%%%"}, headers=H)
    assert r.json()["code"] == "InvalidListSnapshotCursor"


def test_query_batch_reads_at_one_timestamp(s):
    r = httpx.post(s.url + "/api/query_batch", headers=H, json={"queries": [
        {"path": "jobs:stats", "args": {}, "format": "convex_encoded_json"},
        {"path": "no:such", "args": {}, "format": "convex_encoded_json"}]})
    results = r.json()["results"]
    assert results[0]["status"] == "success" and results[1]["status"] == "error"


def test_run_endpoint_and_formats(s):
    r = httpx.post(s.url + "/api/run/jobs/stats", headers=H, json={"args": {}, "format": "json"})
    assert r.json()["status"] == "success"


def twilio_post(s, params, token=DEMO_TWILIO_AUTH_TOKEN, url=None):
    url = url or s.url + "/twilio/sms"
    body = urllib.parse.urlencode(params)
    return httpx.post(s.url + "/twilio/sms", content=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sign_twilio(url, params, token)})


def test_webhooks_enqueue_one_job_per_event_and_refuse_bad_signatures(s):
    params = {"MessageSid": "SMtest0001", "From": "+14155550100", "Body": "hello"}
    first, second = twilio_post(s, params), twilio_post(s, params)
    assert first.status_code == second.status_code == 200
    assert first.json()["jobId"] == second.json()["jobId"] and second.json()["duplicate"]
    assert s.store.count("jobs", where="json_extract(doc,'$.key') = 'SMtest0001'") == 1
    assert s.store.count("webhookDeliveries", where="json_extract(doc,'$.providerEventId') = 'SMtest0001'") == 2
    bad = twilio_post(s, params, token="wrong-token")
    assert bad.status_code == 403 and b"mismatch" in bad.content

    body = json.dumps({"id": "evt_test1", "type": "invoice.paid"}).encode()
    ok = httpx.post(s.url + "/stripe", content=body, headers={"Stripe-Signature": sign_stripe(body, DEMO_STRIPE_SECRET)})
    stale = httpx.post(s.url + "/stripe", content=body, headers={
        "Stripe-Signature": sign_stripe(body, DEMO_STRIPE_SECRET, timestamp=int(time.time()) - 3600)})
    assert ok.status_code == 200 and stale.status_code == 403 and b"timestamp_too_old" in stale.content

    body = json.dumps({"type": "user.created", "data": {"id": "user_1"}}).encode()
    headers = sign_standard_webhook(body, DEMO_CLERK_SECRET, "msg_test1")
    assert httpx.post(s.url + "/clerk", content=body, headers=headers).status_code == 200
    delivery = s.store.scan("webhookDeliveries", where="json_extract(doc,'$.providerEventId') = 'msg_test1'")[0]
    assert base64.b64decode(delivery["body"]["$bytes"]) == body  # raw bytes kept exactly


def test_worker_moves_jobs_and_two_workers_never_share_a_claim(s):
    with s.store.transaction() as tx:
        for i in range(60):
            tx.insert("jobs", J.new_job(f"race-{i}", "sms.send", {}, int(time.time() * 1000)))
    claims: dict[str, list[str]] = {}
    lock = threading.Lock()
    original = J.claim

    def spy(job, worker, now, policy=J.DEFAULT_POLICY):
        out = original(job, worker, now, policy)
        with lock:
            claims.setdefault(job["_id"], []).append(worker)
        return out

    J.claim = spy
    try:
        workers = [Worker(s.store, failure_rate=0.3, batch=100, name=f"w{i}", seed=i) for i in range(2)]
        threads = [threading.Thread(target=w.tick) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        J.claim = original
    race = {k: v for k, v in claims.items() if s.store.get("jobs", k)["key"].startswith("race-")}
    assert race and all(len(v) == 1 for v in race.values())
    statuses = {s.store.get("jobs", k)["status"] for k in race}
    assert statuses <= {"succeeded", "retrying"} and "succeeded" in statuses


def test_health_and_metrics_and_logs(s):
    assert httpx.get(s.url + "/").text.startswith("This Convex deployment is running.")
    httpx.post(s.url + "/api/query", json={"path": "jobs:stats", "args": {}}, headers=H)
    now = time.time()
    window = json.dumps({"start": {"secs_since_epoch": int(now - 60), "nanos_since_epoch": 0},
                         "end": {"secs_since_epoch": int(now + 1), "nanos_since_epoch": 0}, "num_buckets": 6})
    series = get(s, "/api/app_metrics/udf_rate", path="jobs:stats", metric="invocations", window=window).json()
    assert len(series) == 6 and sum(v for _, v in series) >= 1
    logs = get(s, "/api/stream_function_logs", cursor=(now - 60) * 1000).json()
    assert logs["entries"] and logs["newCursor"] > (now - 60) * 1000
    assert {"udfType", "identifier", "success", "executionTime", "timestamp"} <= set(logs["entries"][0])


def test_fault_injection_kinds(s):
    for fault, check in [("500", lambda r: r.status_code == 500), ("503", lambda r: r.status_code == 503)]:
        s.state.faults.planned.append(fault)
        assert check(httpx.post(s.url + "/api/query", json={"path": "jobs:stats", "args": {}}, headers=H))
    for fault in ("drop", "truncate"):
        s.state.faults.planned.append(fault)
        with pytest.raises(httpx.TransportError):
            httpx.post(s.url + "/api/query", json={"path": "jobs:stats", "args": {}}, headers=H)
