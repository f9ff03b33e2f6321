"""The call-rate panel's metrics probe against answers shaped as crates/local_backend/src/app_metrics.rs
gives them: `udf_rate` needs `path`, top-k needs k in 1..25, `latency_percentiles` needs `percentiles` and
answers a list of [p, series]; absence is a note."""

import asyncio
import json

import httpx

from console.client.http import ConvexHttp, Deployment, RetryPolicy
from console.client.metrics import probe

START, END, BUCKETS = 1_750_000_000, 1_750_003_600, 60  # one hour, one-minute buckets
FAST = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.002)


def t(i):
    return {"secs_since_epoch": START + 60 * i, "nanos_since_epoch": 0}


def series(values):
    return [[t(i), v] for i, v in enumerate(values)]


def real_metrics(request: httpx.Request) -> httpx.Response:
    """Refuses what the backend refuses (400 BadQueryArgs / InvalidTopKParameter), else answers real shapes."""
    route = request.url.path.rsplit("/", 1)[-1]
    q = dict(request.url.params)
    bad = lambda code, msg: httpx.Response(400, json={"code": code, "message": msg})  # noqa: E731
    if "window" not in q:
        return bad("BadQueryArgs", "missing field `window`")
    w = json.loads(q["window"])
    if not 1 <= w["num_buckets"] <= 10000 or w["end"]["secs_since_epoch"] < w["start"]["secs_since_epoch"]:
        return bad("BadQueryArgs", "Invalid query window")
    if route == "function_call_count_top_k":
        k = int(q.get("k", 5))
        if not 1 <= k <= 25:
            return bad("InvalidTopKParameter", f"k must be between 1 and 25, got {k}")
        return httpx.Response(200, json=[["jobs:stats", series([10.0] * 60)], ["users:get", series([2.0, None] * 30)],
                                         ["_rest", series([1.0] * 60)]])
    if route == "udf_rate":
        if "path" not in q and "udfPath" not in q:
            return bad("BadQueryArgs", "missing field `udfPath`")
        if q.get("metric") not in ("invocations", "errors", "cacheHits", "cacheMisses", "subscriptionInvalidations"):
            return bad("BadQueryArgs", "unknown metric")
        return httpx.Response(200, json=series([0.05] * 60))  # per second: 3 errors a minute
    if route == "latency_percentiles":
        if "path" not in q or "percentiles" not in q:
            return bad("BadQueryArgs", "missing field `percentiles`")
        ps = json.loads(q["percentiles"])
        return httpx.Response(200, json=[[p, series([p / 1000] * 60)] for p in ps])  # seconds
    return httpx.Response(404, content=b"")


def run_probe(handler):
    async def go():
        http = ConvexHttp(Deployment("https://happy-otter-123.convex.cloud", "prod:x|k"),
                          transport=httpx.MockTransport(handler), retry=FAST)
        try:
            return await probe(http, START, END, BUCKETS)
        finally:
            await http.aclose()

    return asyncio.run(go())


def test_the_probe_reads_the_real_routes_with_their_parameters():
    seen = []

    def handler(request):
        seen.append(request)
        return real_metrics(request)

    m = run_probe(handler)
    assert m.notes == []
    assert m.total_calls == 600 + 60 + 60
    assert m.top[0] == ("jobs:stats", 600.0)
    assert abs(m.busiest_errors - 180) < 1e-6  # 0.05/s over the hour
    assert {p: round(v, 6) for p, v in m.busiest_latency.items()} == {50: 0.05, 95: 0.095, 99: 0.099}
    text = m.describe()
    assert "720 function calls" in text and "jobs:stats" in text and "p95 95 ms" in text
    routes = {r.url.path.rsplit("/", 1)[-1]: dict(r.url.params) for r in seen}
    assert routes["function_call_count_top_k"]["k"] == "25"
    assert routes["udf_rate"]["path"] == "jobs:stats"
    assert json.loads(routes["latency_percentiles"]["percentiles"]) == [50, 95, 99]


def test_a_deployment_without_the_endpoints_gives_a_note():
    m = run_probe(lambda r: httpx.Response(404, content=b""))
    assert not m.available and "function_call_count_top_k" in m.notes[0]
    assert "not available" in m.describe() and "internal to Convex" in m.describe()


def test_odd_shapes_are_notes_too():
    m = run_probe(lambda r: httpx.Response(200, json={"50": []}))  # the old stand-in's dict shape
    assert not m.available and "ValueError" in m.notes[0]

    def partly(request):
        if request.url.path.endswith("latency_percentiles"):
            return httpx.Response(200, json={"50": series([1.0])})
        return real_metrics(request)

    m = run_probe(partly)
    assert m.available and m.busiest_latency == {} and "latency_percentiles" in m.notes[0]
