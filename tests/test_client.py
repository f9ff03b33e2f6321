"""The Convex client against the stand-in and against scripted transports."""

import asyncio
import base64
import json

import httpx
import pytest
from sqlalchemy import text

from console.client import errors as E
from console.client.cache import QueryCache
from console.client.calllog import CallLog
from console.client.client import ConvexClient
from console.client.http import Deployment, RetryPolicy
from console.store.db import open_replica
from tests.standin_helpers import KEY, standin

FAST = RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.002)


@pytest.fixture(scope="module")
def live():
    s = standin()
    yield s
    s.stop()


def run(coro):
    return asyncio.run(coro)


def scripted(responses, seen=None):
    """A transport answering from a list: (status, json) tuples or exceptions to raise."""
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        status, body = item
        if isinstance(body, bytes):
            return httpx.Response(status, content=body)
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handler)


_made: list = []


@pytest.fixture(autouse=True)
def close_scripted_clients():
    yield
    while _made:
        asyncio.run(_made.pop().aclose())


def client_for(responses, seen=None, **kw):
    client = ConvexClient(Deployment("https://happy-otter-123.convex.cloud", "prod:happy-otter-123|k"),
                          transport=scripted(responses, seen), retry=FAST, **kw)
    _made.append(client)  # closed after the test (the leak check wants every used client closed)
    return client


OK = (200, {"status": "success", "value": {"n": 1}})


def test_query_and_mutation_against_the_standin(live):
    async def go():
        c = ConvexClient(Deployment(live.url, KEY))
        stats = await c.query("jobs:stats")
        job = live.store.scan("jobs", where="json_extract(doc,'$.status') = 'dead'", limit=1)[0]
        admin = live.store.scan("users", where="json_extract(doc,'$.role') = 'admin'", limit=1)[0]
        identity = {"subject": admin["_id"], "issuer": "ops-console"}
        retried = await c.mutation("console:retryJob", {"jobId": job["_id"], "reason": "test"}, identity=identity)
        await c.aclose()
        return stats, retried

    stats, retried = run(go())
    assert sum(stats.values()) == 800
    assert retried["status"] == "pending" and retried["retryBase"] == retried["attempts"]


def test_typed_errors_say_what_to_do(live):
    async def go():
        bad = ConvexClient(Deployment(live.url, "standin|wrong"), retry=FAST)
        with pytest.raises(E.AuthRejected, match="deploy key was rejected"):
            await bad.query("jobs:stats")
        await bad.aclose()
        c = ConvexClient(Deployment(live.url, KEY), retry=FAST)
        with pytest.raises(E.FunctionNotFound, match="no such public function"):
            await c.query("nothing:here")
        with pytest.raises(E.FunctionError) as info:
            job_id = live.store.scan("jobs", limit=1)[0]["_id"]  # a valid id: "nope" fails argument validation first
            await c.mutation("console:retryJob", {"jobId": job_id}, identity={"subject": "x", "issuer": "i"})
        assert info.value.error_data["code"] == "no_operator"
        assert "[Request ID:" in info.value.server_message
        await c.aclose()

    run(go())


def test_streaming_export_not_enabled_is_explained():
    s = standin(export_enabled=False, sizes=None, seed="empty")
    try:
        async def go():
            c = ConvexClient(Deployment(s.url, KEY), retry=FAST)
            with pytest.raises(E.StreamingExportNotEnabled, match="Pro plan"):
                await c.http.request("GET", "/api/test_streaming_export_connection")
            await c.aclose()
        run(go())
    finally:
        s.stop()


def test_reads_retry_on_transient_failures():
    seen = []
    c = client_for([(503, {"code": "Overloaded", "message": "busy"}), (522, b"cloudflare"),
                    httpx.ReadError("reset"), OK], seen, batching=False)
    assert run(c.query("a:b")) == {"n": 1.0}
    assert len(seen) == 4


def test_reads_give_up_after_the_policy():
    c = client_for([(500, {"code": "InternalServerError", "message": "x"})], batching=False)
    with pytest.raises(E.ServerError):
        run(c.query("a:b"))


def test_mutations_are_not_retried_blindly():
    seen = []
    c = client_for([(503, {"code": "Overloaded", "message": "busy"}), OK], seen)
    with pytest.raises(E.Overloaded):
        run(c.mutation("a:b"))
    assert len(seen) == 1
    seen.clear()
    c = client_for([httpx.ReadTimeout("slow"), OK], seen)
    with pytest.raises(E.RequestTimeout, match="may or may not have run"):
        run(c.mutation("a:b"))
    assert len(seen) == 1


def test_a_write_that_never_left_is_sent_again():
    seen = []
    c = client_for([httpx.ConnectError("refused"), OK], seen)
    assert run(c.mutation("a:b")) == {"n": 1.0}
    assert len(seen) == 2


@pytest.mark.parametrize("answer", [(200, b"<html>proxy</html>"), (200, {"unexpected": True}),
                                    (200, {"status": "success", "value": {"$integer": "AQ=="}})])
def test_malformed_answers_are_clear_errors(answer):
    c = client_for([answer], batching=False)
    with pytest.raises(E.MalformedResponse):
        run(c.query("a:b"))


def test_act_as_user_header():
    seen = []
    c = client_for([OK], seen)
    run(c.mutation("a:b", identity={"subject": "u1", "issuer": "ops-console"}))
    scheme, _, rest = seen[0].headers["authorization"].partition(" ")
    assert scheme == "Convex"
    key, _, identity = rest.rpartition(":")
    assert key == "prod:happy-otter-123|k"
    assert json.loads(base64.b64decode(identity)) == {"subject": "u1", "issuer": "ops-console"}
    assert seen[0].headers["convex-client"].startswith("ops-console-")
    assert json.loads(seen[0].content)["format"] == "convex_encoded_json"


def test_fifty_identical_concurrent_queries_make_one_request(live):
    async def go():
        c = ConvexClient(Deployment(live.url, KEY))
        before = live.state.requests
        results = await asyncio.gather(*[c.query("jobs:stats", cache=False) for _ in range(50)])
        sent = live.state.requests - before
        sources = [r.source for r in list(c.call_log._buffer)]
        await c.aclose()
        return results, sent, sources

    results, sent, sources = run(go())
    assert sent == 1
    assert all(r == results[0] for r in results)
    assert sources.count("network") == 1 and sources.count("coalesced") == 49


def test_queries_in_one_tick_go_as_one_batch():
    seen = []
    batch = (200, {"results": [{"status": "success", "value": i} for i in range(3)]})
    c = client_for([batch], seen)

    async def go():
        return await asyncio.gather(c.query("a:x", {"i": 0}), c.query("a:y", {"i": 1}), c.query("a:z", {"i": 2}))

    assert run(go()) == [0.0, 1.0, 2.0]
    assert len(seen) == 1 and seen[0].url.path == "/api/query_batch"


def test_batch_answers_errors_per_query():
    batch = (200, {"results": [{"status": "success", "value": 1},
                               {"status": "error", "errorMessage": "[Request ID: x] Server Error\nboom"}]})
    c = client_for([batch])

    async def go():
        return await asyncio.gather(c.query("a:x"), c.query("a:y"), return_exceptions=True)

    ok, err = run(go())
    assert ok == 1.0 and isinstance(err, E.FunctionError) and "boom" in str(err)


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_cache_ttl_and_stale_while_revalidate():
    seen = []
    clock = Clock()
    values = [(200, {"status": "success", "value": v}) for v in (1, 2, 3)]
    c = client_for(values, seen, cache=QueryCache(ttl=60, stale_for=300, clock=clock))

    async def go():
        first = await c.query("a:x")
        clock.t = 30
        cached = await c.query("a:x")
        clock.t = 90  # stale: served at once, refetched behind
        stale = await c.query("a:x")
        await asyncio.sleep(0.01)
        refreshed = await c.query("a:x")
        clock.t = 90 + 400  # beyond stale: a miss
        expired = await c.query("a:x")
        return first, cached, stale, refreshed, expired

    assert run(go()) == (1.0, 1.0, 1.0, 2.0, 3.0)
    assert len(seen) == 3


def test_invalidation_follows_the_table():
    c = client_for([OK])
    cache = c.cache
    for path, args in [("organizations:get", {"organizationId": "o1"}), ("organizations:get", {"organizationId": "o2"}),
                       ("organizations:list", {}), ("users:get", {"userId": "u1"}), ("jobs:stats", {})]:
        cache.store(("%s" % path, json.dumps(args, sort_keys=True, separators=(",", ":")), ""), "v", args)
    run(c.mutation("console:setMemberRole", {"memberId": "m", "organizationId": "o1", "role": "admin"}))
    left = sorted((k[0], k[1]) for k in cache._entries)
    assert left == [("jobs:stats", "{}"), ("organizations:get", '{"organizationId":"o2"}'),
                    ("users:get", '{"userId":"u1"}')]
    run(c.mutation("organizations:create", {"name": "x"}))
    run(c.mutation("console:retryJob", {"jobId": "j"}))
    assert sorted(k[0] for k in cache._entries) == ["organizations:get", "users:get"]


def test_login_and_logout_clear_auth_caches():
    c = client_for([OK])
    c.cache.store(("users:me", "{}", "u1"), "me", {})
    c.cache.store(("auth:session", "{}", ""), "s", {})
    c.cache.store(("jobs:stats", "{}", "u1"), "s", {})
    c.cache.store(("jobs:stats", "{}", ""), "s", {})
    assert c.event("logout") == 3
    assert list(c.cache._entries) == [("jobs:stats", "{}", "")]
    c.cache.store(("organizations:getActive", "{}", ""), "o", {})
    assert c.event("switchOrganization") == 1


def test_call_log_records_every_call_and_writes_in_batches(tmp_path, live):
    engine = open_replica(tmp_path / "r.sqlite")
    log = CallLog(engine)

    async def go():
        c = ConvexClient(Deployment(live.url, KEY), call_log=log)
        await asyncio.gather(c.query("jobs:stats"), c.query("jobs:stats"))
        await c.query("jobs:stats")
        with pytest.raises(E.FunctionNotFound):
            await c.query("nothing:here")
        await c.aclose()

    run(go())
    assert log.flush() == 4
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT function, source, outcome, status, latency_ms, bytes FROM call_log")).all()
    assert sorted(r.source for r in rows) == ["cache", "coalesced", "network", "network"]
    net = [r for r in rows if r.source == "network"]
    assert all(r.status == 200 and r.bytes > 0 and r.latency_ms > 0 for r in net)
    engine.dispose()


def test_call_log_retention(tmp_path):
    from console.client.http import CallRecord

    engine = open_replica(tmp_path / "r.sqlite")
    log = CallLog(engine, keep_days=1, max_rows=5)
    for i in range(10):
        log.record(CallRecord("f", "query", "network", "success", 200, 1.0, 1, at=1000.0 + i))
    log.record(CallRecord("f", "query", "network", "success", 200, 1.0, 1, at=1e9))
    log.flush()
    assert log.prune(now=1e9) == 10
    engine.dispose()


def test_closing_lets_a_write_in_flight_have_its_answer():
    """Closing the client (the window closing, a switch of deployment) a moment after a retry closed the
    connection under it: the job was retried on the deployment but the console said the connection dropped."""
    s = standin(latency_ms=400)
    try:
        job = s.store.scan("jobs", where="json_extract(doc,'$.status') = 'dead'", limit=1)[0]
        admin = s.store.scan("users", where="json_extract(doc,'$.role') = 'admin'", limit=1)[0]
        operator = {"subject": admin["_id"], "issuer": "ops-console", "email": admin["email"]}

        async def go():
            c = ConvexClient(Deployment(s.url, KEY), retry=FAST)
            write = asyncio.ensure_future(c.mutation("console:retryJob", {"jobId": job["_id"], "reason": "asked"},
                                                    identity=operator))
            await asyncio.sleep(0.1)  # sent; the answer is on its way
            await c.aclose()
            return await write

        result = run(go())  # an answer, not NetworkError("The connection dropped during the write ...")
        assert s.store.get("jobs", job["_id"])["status"] == "pending", result
    finally:
        s.stop()
