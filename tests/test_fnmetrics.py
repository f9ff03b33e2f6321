"""Per-function deployment metrics: from the local function-log history (demo and offline) through the
trigger-kept rollups, and from a deployment's real `/api/app_metrics/*` routes (the stand-in serves them
from its own executions)."""

import asyncio
import time

import httpx
import pytest
from sqlalchemy import text

from console.client.http import ConvexHttp, Deployment
from console.client.metrics import deployment_functions
from console.functionlogs import parse_entry
from console.store import loghistory as H
from console.store.db import open_replica
from console.store.fnmetrics import from_history
from tests.standin_helpers import KEY, standin

NOW = 1_760_000_000.0


def entry(at, name, *, ok=True, ms=10.0, kind="Query", cached=False, n=[0]):
    n[0] += 1
    return {"kind": "Completion", "identifier": name, "udfType": kind, "timestamp": at * 1000,
            "executionTime": ms / 1000, "success": None if not ok else {"status": "200"},
            "error": None if ok else "Uncaught Error: boom", "logLines": [], "requestId": f"r{n[0]}",
            "executionId": f"e{n[0]}", "componentPath": None, "cachedResult": cached,
            "usageStats": {}, "environment": "isolate"}


@pytest.fixture
def engine(tmp_path):
    e = open_replica(tmp_path / "r.sqlite")
    yield e
    e.dispose()


def fill(engine, raw):
    with engine.begin() as conn:
        H.add(conn, [parse_entry(r) for r in raw], cap=10**9)


def test_history_totals_errors_cache_and_percentiles_short_and_long_ranges(engine):
    raw = []
    for i in range(100):  # 100 calls of a cached query over 100 s, a fifth cached, p95 near 95 ms
        raw.append(entry(NOW - 100 + i, "users:get", ms=float(i + 1), cached=i % 5 == 0))
    for i in range(10):  # a failing action: 4 of 10 fail
        raw.append(entry(NOW - 50 + i, "ai:reply", ok=i >= 4, ms=1000.0, kind="Action"))
    fill(engine, raw)
    for start, end, buckets in ((NOW - 300, NOW, 150), (NOW - 86400, NOW + 60, 288)):  # raw log, then rollups
        with engine.connect() as conn:
            m = from_history(conn, start, end, buckets, top_n=1)
        rows = {r.name: r for r in m.rows}
        assert rows["users:get"].calls == 100 and rows["users:get"].errors == 0
        assert rows["users:get"].cache_hit_pct == pytest.approx(20.0)
        assert rows["ai:reply"].calls == 10 and rows["ai:reply"].errors == 4 and rows["ai:reply"].error_pct == 40
        assert rows["ai:reply"].cache_hit_pct is None  # actions are never cached
        assert 80 <= rows["users:get"].p95_ms <= 110 and 900 <= rows["ai:reply"].p50_ms <= 1200  # one bin wide
        assert rows["users:get"].samples == 100 and rows["ai:reply"].samples == 10  # what the percentiles rest on
        assert list(m.calls) == ["users:get", "(other)"]  # top 1, the rest summed
        assert sum(m.calls["users:get"]) * m.width == pytest.approx(100)
        assert sum(m.errors["(other)"]) * m.width == pytest.approx(4)
        assert [r.name for r in m.top_by_errors(5)] == ["ai:reply"]


def test_trimming_the_history_keeps_the_days_metrics(engine):
    fill(engine, [entry(NOW - 3000 + i, "jobs:stats") for i in range(50)])
    with engine.begin() as conn:
        H.prune(conn, cap=5)
        assert conn.execute(text("SELECT count(*) FROM function_logs")).scalar() == 5
        m = from_history(conn, NOW - 86400, NOW, 288)
    assert m.rows[0].calls == 50  # the rollups keep what the capped history dropped


def test_duplicates_from_a_resumed_stream_count_once(engine):
    e = entry(NOW - 10, "jobs:stats")
    fill(engine, [e])
    fill(engine, [e])
    with engine.connect() as conn:
        assert from_history(conn, NOW - 86400, NOW, 288).rows[0].calls == 1
        assert from_history(conn, NOW - 300, NOW, 150).rows[0].calls == 1


def test_an_old_replica_gets_the_rollups_from_its_history(tmp_path):
    from console.store.db import set_meta
    from console.store.derived import FUNCTION_ROLLUP_DDL

    path = tmp_path / "v6.sqlite"
    e = open_replica(path)
    fill(e, [entry(NOW - 100 + i, "users:get") for i in range(7)])
    with e.begin() as conn:  # as a version 6 replica was: history, no rollups
        for stmt in ("DROP TRIGGER function_rollup_ai", "DROP TABLE function_rollup", "DROP TABLE function_latency_rollup"):
            conn.exec_driver_sql(stmt)
        set_meta(conn, "schema_version", "6")
    e.dispose()
    e = open_replica(path)
    with e.connect() as conn:
        assert from_history(conn, NOW - 86400, NOW, 288).rows[0].calls == 7
    e.dispose()
    assert FUNCTION_ROLLUP_DDL


def test_the_deployments_own_metrics_routes_give_the_same_shape():
    st = standin()
    h = {"Authorization": f"Convex {KEY}"}
    try:
        for _ in range(12):
            httpx.post(st.url + "/api/query", json={"path": "jobs:stats", "args": {}}, headers=h)
        for _ in range(3):
            httpx.post(st.url + "/api/mutation", json={"path": "console:retryJob", "args": {"jobId": "x"}}, headers=h)
        end = time.time() + 5

        async def go():
            http = ConvexHttp(Deployment(st.url, KEY))
            try:
                return await deployment_functions(http, end - 600, end, 60)
            finally:
                await http.aclose()

        m = asyncio.run(go())
    finally:
        st.stop()
    rows = {r.name: r for r in m.rows}
    assert m.source == "deployment" and not m.notes, m.notes
    assert rows["jobs:stats"].calls == 12 and rows["jobs:stats"].errors == 0
    assert rows["jobs:stats"].p50_ms is not None and rows["jobs:stats"].cache_hit_pct is not None
    assert rows["jobs:stats"].samples == 12  # the deployment's percentiles are over the window's calls
    retry = next(r for n, r in rows.items() if "retryJob" in n)
    assert retry.calls == 3 and retry.errors == pytest.approx(3)
    assert sum(m.calls["jobs:stats"]) * m.width == pytest.approx(12)


def test_missing_metrics_routes_are_a_note_not_an_error():
    async def go():
        http = ConvexHttp(Deployment("https://happy-otter-123.convex.cloud", "prod:x|k"),
                          transport=httpx.MockTransport(lambda r: httpx.Response(404, content=b"")))
        try:
            return await deployment_functions(http, NOW - 600, NOW, 60)
        finally:
            await http.aclose()

    m = asyncio.run(go())
    assert m.rows == [] and m.notes and "function_call_count_top_k" in m.notes[0]
