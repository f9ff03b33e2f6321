"""The console's wire as a real deployment expects it (issue 12 §2), with answers shaped as the backend
source gives them (crates/local_backend/src/public_api.rs, crates/application/src/redaction.rs,
crates/errors/src/lib.rs), not as the stand-in happens to answer."""

import asyncio
import email.utils
import json
import time
import tracemalloc
import zlib

import httpx
import pytest

from console.client import errors as E
from console.client.client import ConvexClient, run_url
from console.client.http import ConvexHttp, Deployment, RetryPolicy, parse_retry_after
from console.convex.values import Int64

URL = "https://happy-otter-123.convex.cloud"
KEY = "prod:happy-otter-123|k"
FAST = RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.002)
REDACTED = {"status": "error", "errorMessage": "[Request ID: 3f2a9c1d0b7e4a66] Server Error"}


def run(coro):
    return asyncio.run(coro)


class Sleeps(list):
    async def __call__(self, seconds):
        self.append(seconds)


def client(handler, *, retry=FAST, sleeps=None, waits=None, **kw):
    c = ConvexClient(Deployment(URL, KEY), transport=httpx.MockTransport(handler), retry=retry, **kw)
    if sleeps is not None:
        c.http._sleep = sleeps
    if waits is not None:
        c.http.wait_listeners.append(waits.append)
    return c


def answers(*items, seen=None):
    queue = list(items)

    def handler(request):
        if seen is not None:
            seen.append(request)
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, httpx.Response):
            return item
        status, body = item
        return httpx.Response(status, json=body)

    return handler


OK = (200, {"status": "success", "value": {"ok": True}})


# -- arguments by declared type -----------------------------------------------------------------------------------
def test_python_ints_go_out_as_numbers_and_int64_only_when_asked():
    seen = []

    async def go():
        c = client(answers(OK, seen=seen))
        await c.mutation("console:retryJobs", {"filter": {"createdFrom": 1_741_400_033_422, "createdTo": 1_741_500_000_000},
                                               "limit": 1000, "reason": "r"})
        await c.query("messages:list", {"chatId": "c", "limit": 50, "before": 1_741_400_033_422})
        await c.mutation("console:setUserRoles", {"userId": "u", "roles": [], "reason": "r",
                                                  "expectedTs": Int64(1_741_400_033_422_000_001)})
        await c.aclose()

    run(go())
    bodies = [json.loads(r.content) for r in seen]
    retry = bodies[0]["args"]
    assert retry["limit"] == 1000 and isinstance(retry["limit"], float)  # a JSON number: v.number() accepts it
    assert isinstance(retry["filter"]["createdFrom"], float)
    assert '"$integer"' not in seen[0].content.decode() and '"$integer"' not in seen[1].content.decode()
    assert bodies[1]["args"]["limit"] == 50.0 and bodies[1]["args"]["before"] == 1_741_400_033_422.0
    assert bodies[2]["args"]["expectedTs"] == {"$integer": "gb/4oxqyKhg="}  # explicit Int64 stays Int64


def test_an_int_a_float_cannot_hold_is_a_typed_error_not_a_rounded_number():
    async def go():
        c = client(answers(OK))
        with pytest.raises(E.InvalidArguments, match="Int64"):
            await c.mutation("console:setUserRoles", {"expectedTs": 1_741_400_033_422_000_001})
        await c.aclose()

    run(go())


# -- production redaction -----------------------------------------------------------------------------------------
def test_a_redacted_error_says_the_request_id_and_what_to_check():
    async def go():
        c = client(answers((200, REDACTED)))
        with pytest.raises(E.RedactedFunctionError) as info:
            await c.mutation("console:retryJob", {"jobId": "j"})
        await c.aclose()
        return info.value

    err = run(go())
    assert err.request_id == "3f2a9c1d0b7e4a66"
    text = str(err)
    assert "3f2a9c1d0b7e4a66" in text and "Logs" in text and "deployed" in text and "contract" in text
    assert isinstance(err, E.FunctionError)  # callers that handle FunctionError still do


def test_a_convex_error_under_redaction_keeps_its_data():
    body = {**REDACTED, "errorData": {"code": "stale", "message": "Refresh and try again."}}

    async def go():
        c = client(answers((200, body)))
        with pytest.raises(E.FunctionError) as info:
            await c.mutation("console:setUserRoles", {})
        await c.aclose()
        return info.value

    err = run(go())
    assert not isinstance(err, E.RedactedFunctionError)
    assert err.error_data["code"] == "stale" and "Refresh" in str(err)


def test_contract_detection_works_with_and_without_redaction():
    missing = {"status": "error", "errorMessage": "[Request ID: 0123456789abcdef] Server Error\n"
                                                  "Could not find public function for 'console:whoami'."}

    async def status(answer):
        c = client(answers(answer))
        try:
            return await c.contract_status()
        finally:
            await c.aclose()

    assert run(status((200, missing))).state == "missing"
    hidden = run(status((200, REDACTED)))
    assert hidden.state == "unknown" and "may be missing" in hidden.message and hidden.request_id == "3f2a9c1d0b7e4a66"
    assert run(status((200, {"status": "success", "value": {"userId": "u"}}))).state == "present"


# -- Retry-After, waits shown, writes resent only when they never ran ---------------------------------------------
def test_retry_after_is_honoured_up_to_60_seconds_and_announced():
    sleeps, waits = Sleeps(), []

    async def go():
        c = client(answers(httpx.Response(429, json={"code": "TooManyConcurrentRequests", "message": "slow down"},
                                          headers={"Retry-After": "30"}), OK), sleeps=sleeps, waits=waits)
        value = await c.query("jobs:stats", cache=False)
        await c.aclose()
        return value

    assert run(go()) == {"ok": True}
    assert sleeps == [30.0]  # was capped at 8 s
    assert len(waits) == 1 and waits[0].seconds == 30.0 and waits[0].retry_after and waits[0].function == "jobs:stats"
    assert "slow down" in waits[0].reason


def test_retry_after_as_an_http_date():
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    assert 17 <= parse_retry_after(when) <= 21
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("soon") is None and parse_retry_after("-3") is None and parse_retry_after("") is None


def test_a_wait_longer_than_60_seconds_fails_at_once_saying_so():
    sleeps = Sleeps()

    async def go():
        c = client(answers(httpx.Response(503, json={"code": "Overloaded", "message": "busy"},
                                          headers={"Retry-After": "120"})), sleeps=sleeps)
        with pytest.raises(E.Overloaded, match="asks to wait 120 s") as info:
            await c.query("jobs:stats", cache=False)
        await c.aclose()
        return info.value

    err = run(go())
    assert sleeps == [] and err.retry_after == 120


@pytest.mark.parametrize("status,code,resent", [
    (429, "TooManyConcurrentRequests", True),  # rate limited: refused before running
    (503, "WorkerOverloaded", True),  # rejected before execution (crates/isolate/src/metrics.rs)
    (503, "ExpiredInQueue", True),
    (503, "Overloaded", False),  # may have run: never resent
    (500, "InternalServerError", False),
])
def test_writes_are_resent_only_when_they_provably_never_ran(status, code, resent):
    seen = []

    async def go():
        c = client(answers((status, {"code": code, "message": "m"}), OK, seen=seen))
        try:
            return await c.mutation("console:retryJob", {"jobId": "j"})
        except E.ConvexRequestError as exc:
            return exc
        finally:
            await c.aclose()

    result = run(go())
    if resent:
        assert result == {"ok": True} and len(seen) == 2
    else:
        assert isinstance(result, E.ConvexRequestError) and len(seen) == 1


# -- typed codes ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["ClientVersionUnsupported", "InvalidClientVersion"])
def test_unsupported_client_versions_say_upgrade(code):
    async def go():
        c = client(answers((400, {"code": code, "message": "This client is no longer supported"})))
        with pytest.raises(E.ClientUnsupported, match="Upgrade ops-console") as info:
            await c.query("jobs:stats")
        await c.aclose()
        return info.value

    assert "bug worth reporting" not in str(run(go()))


def test_snapshot_too_new_means_resync_not_a_bug():
    err = E.error_for(400, "SnapshotTooNew", "Snapshot timestamp 99 is in the future")
    assert isinstance(err, E.NeedsResync) and "bug" not in str(err)
    assert isinstance(E.error_for(403, "StreamingExportNotEnabled", "x"), E.StreamingExportNotEnabled)


# -- run paths, batches ----------------------------------------------------------------------------------------
def test_run_paths_address_default_exports():
    assert run_url("jobs") == "/api/run/jobs/default"
    assert run_url("jobs:stats") == "/api/run/jobs/stats"
    assert run_url("admin/jobs") == "/api/run/admin/jobs/default"
    assert run_url("jobs.js:stats") == "/api/run/jobs/stats"


def test_one_bad_path_in_a_coalesced_batch_fails_only_itself():
    seen = []

    def handler(request):
        seen.append(request.url.path)
        body = json.loads(request.content)
        if request.url.path == "/api/query_batch":
            # the backend refuses the whole batch when one entry is bad (public_query_batch_post)
            return httpx.Response(400, json={"code": "BadConvexFunctionIdentifier", "message": "bad path"})
        if body["path"] == "broken:path":
            return httpx.Response(200, json={"status": "error", "errorMessage":
                                             "[Request ID: 1] Server Error\nCould not find public function for 'broken:path'."})
        return httpx.Response(200, json={"status": "success", "value": body["path"]})

    async def go():
        c = client(handler)
        results = await asyncio.gather(c.query("jobs:stats"), c.query("broken:path"), c.query("users:get", {"userId": "u"}),
                                       return_exceptions=True)
        alone = await c.query_batch([("jobs:stats", {}), ("broken:path", {})])
        await c.aclose()
        return results, alone

    results, alone = run(go())
    assert results[0] == "jobs:stats" and results[2] == "users:get"
    assert isinstance(results[1], E.FunctionNotFound)
    assert alone[0] == "jobs:stats" and isinstance(alone[1], E.FunctionNotFound)
    assert seen[0] == "/api/query_batch" and seen.count("/api/query") == 5


# -- JSON as Convex writes it ----------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [b'{"status":"success","value":1e400}', b'{"status":"success","value":NaN}',
                                 b'{"status":"success","value":' + b"[" * 100_000 + b"]" * 100_000 + b"}"])
def test_json_convex_never_writes_is_a_clear_error(raw):
    async def go():
        c = client(lambda r: httpx.Response(200, content=raw))
        with pytest.raises(E.MalformedResponse):
            await c.query("jobs:stats")
        await c.aclose()

    run(go())


# -- deadlines, caps -------------------------------------------------------------------------------------------
class Drip(httpx.AsyncByteStream):
    """A body sent one byte at a time: each byte well inside the read timeout, the whole never ending."""

    def __init__(self, pause=0.05):
        self.pause = pause

    async def __aiter__(self):
        yield b'{"status":"success","value":"'
        while True:
            await asyncio.sleep(self.pause)
            yield b"a"


def test_a_slow_drip_body_fails_within_the_deadline():
    async def go():
        c = client(lambda r: httpx.Response(200, stream=Drip()),
                   retry=RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002, deadline=0.5, total=1.2))
        started = time.monotonic()
        with pytest.raises(E.RequestTimeout, match="no complete answer"):
            await c.query("jobs:stats")
        await c.aclose()
        return time.monotonic() - started

    assert run(go()) < 5  # bounded by `total`; the read timeout alone (65 s per byte) never fires


def test_default_policy_bounds_every_call():
    p = RetryPolicy()
    assert p.deadline <= 90 and p.total <= 150 and p.max_retry_after == 60


class Endless(httpx.AsyncByteStream):
    def __init__(self, chunk):
        self.chunk = chunk
        self.sent = 0

    async def __aiter__(self):
        while True:
            self.sent += 1
            yield self.chunk


def test_a_huge_page_is_not_read_into_memory():
    stream = Endless(b" " * 2**20)  # would be 1 GiB and more

    async def go():
        http = ConvexHttp(Deployment(URL, KEY), transport=httpx.MockTransport(lambda r: httpx.Response(200, stream=stream)),
                          retry=FAST, max_body=8 * 2**20)
        with pytest.raises(E.ResponseTooLarge, match="larger than 8 MiB"):
            await http.request("GET", "/api/list_snapshot", kind="export", function="list_snapshot")
        await http.aclose()

    run(go())
    assert stream.sent <= 10  # stopped at the cap, not at the end


def test_a_declared_huge_length_is_refused_before_reading():
    stream = Endless(b" ")

    async def go():
        http = ConvexHttp(Deployment(URL, KEY), retry=FAST, max_body=2**20, transport=httpx.MockTransport(
            lambda r: httpx.Response(200, stream=stream, headers={"Content-Length": str(2**30)})))
        with pytest.raises(E.ResponseTooLarge):
            await http.request("GET", "/api/list_snapshot")
        await http.aclose()

    run(go())
    assert stream.sent == 0


def test_a_gzip_bomb_is_stopped_while_decompressing():
    z = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b"\0" * 2**20
    bomb = b"".join(z.compress(block) for _ in range(256)) + z.flush()  # 256 MiB of zeros in ~250 KB
    assert len(bomb) < 400_000

    class Once(httpx.AsyncByteStream):
        async def __aiter__(self):
            for i in range(0, len(bomb), 65536):
                yield bomb[i:i + 65536]

    async def go():
        http = ConvexHttp(Deployment(URL, KEY), retry=FAST, max_body=16 * 2**20, transport=httpx.MockTransport(
            lambda r: httpx.Response(200, stream=Once(), headers={"Content-Encoding": "gzip"})))
        with pytest.raises(E.ResponseTooLarge):
            await http.request("GET", "/api/document_deltas")
        await http.aclose()

    tracemalloc.start()
    try:
        run(go())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 48 * 2**20  # the cap (16 MiB) plus a chunk, not 256 MiB


def test_a_gzip_body_within_the_cap_is_decoded():
    body = json.dumps({"status": "success", "value": "x" * 10_000}).encode()

    class Once(httpx.AsyncByteStream):
        async def __aiter__(self):
            yield _gzip(body)

    async def go():
        c = client(lambda r: httpx.Response(200, stream=Once(), headers={"Content-Encoding": "gzip"}))
        value = await c.query("jobs:stats")
        await c.aclose()
        return value

    assert run(go()) == "x" * 10_000


def _gzip(data):
    z = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return z.compress(data) + z.flush()
