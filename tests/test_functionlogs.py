"""The function log stream as a real deployment sends it, and the local bounded history."""

import asyncio
import json
import random

import httpx
import pytest

from console.client.http import ConvexHttp, Deployment
from console.demo import logtraffic
from console.functionlogs import COMPLETION, PROGRESS, entry_text, line_text, parse_entry, parse_page, poll
from console.store import loghistory as H
from console.store.db import open_replica

# Entries in the real shape (crates/common/src/log_streaming.rs FunctionExecutionJson), as the backend
# serialises them for a client that is not the CLI or dashboard (log lines as strings).
COMPLETION_OK = {
    "kind": "Completion", "udfType": "Mutation", "componentPath": None, "identifier": "messages:send",
    "logLines": ["[LOG] 'message stored'"], "timestamp": 1790000000.125, "cachedResult": False,
    "caller": "HttpApi", "parentExecutionId": None, "executionTime": 0.0421, "userExecutionTime": 0.03,
    "success": None, "error": None, "requestId": "a1b2c3d4e5f60718", "executionId": "0f5e0a39-5b2c-4f1e-9d0e-1",
    "usageStats": {"databaseReadBytes": 10}, "returnBytes": 120.0, "occInfo": None, "willRetry": False,
    "executionTimestamp": 1790000000.08, "identityType": "user", "environment": "isolate"}
COMPLETION_FAIL = {**COMPLETION_OK, "identifier": "ai:generateReply", "udfType": "Action",
                   "error": "Uncaught Error: <b>model</b> timed out", "requestId": "ffff000011112222",
                   "executionId": "e2", "logLines": []}
HTTP_OK = {**COMPLETION_OK, "udfType": "HttpAction", "identifier": "POST /twilio/sms", "success": {"status": 200},
           "requestId": "1234123412341234", "executionId": "e3"}
PROGRESS_ENTRY = {"kind": "Progress", "udfType": "Action", "componentPath": None, "identifier": "ai:generateReply",
                  "timestamp": 1790000000.2, "logLines": [{"messages": ["'generating'", "{ n: 3 }"], "level": "INFO",
                                                           "isTruncated": False, "timestamp": 1790000000200}],
                  "requestId": "ffff000011112222", "executionId": "e2"}


def test_real_shapes_parse():
    ok, fail, http, prog = (parse_entry(e) for e in (COMPLETION_OK, COMPLETION_FAIL, HTTP_OK, PROGRESS_ENTRY))
    assert (ok.kind, ok.outcome, ok.function, ok.request_id) == (COMPLETION, "success", "messages:send",
                                                                 "a1b2c3d4e5f60718")
    assert ok.execution_ms == pytest.approx(42.1) and ok.lines == ("[LOG] 'message stored'",)
    assert fail.outcome == "failure" and "timed out" in fail.error
    assert http.outcome == "success"  # success carries the HTTP action's response, not a boolean
    assert prog.kind == PROGRESS and prog.outcome == "progress" and prog.lines == ("[INFO] 'generating' { n: 3 }",)
    assert "<b>model</b>" in entry_text(fail)  # plain text, as received
    assert line_text({"messages": ["x"], "level": "WARN", "isTruncated": True}) == "[WARN] x (truncated)"


def test_a_malformed_answer_or_entry_is_said_and_loses_nothing():
    page = parse_page({"entries": [COMPLETION_OK, "junk", {"kind": "Completion"}], "newCursor": 1790000000125.0}, 5.0)
    assert len(page.entries) == 1 and page.cursor == 1790000000125.0
    assert len(page.problems) == 2 and "timestamp" in page.problems[1]
    bad = parse_page("<html>502</html>", 42.0)
    assert bad.entries == [] and bad.cursor == 42.0 and "unexpected" in bad.problems[0]
    assert parse_page({"entries": []}, 7.0).cursor == 7.0  # no newCursor: ask again from the same place
    # the shape older stand-ins sent (no kind, boolean success, ms timestamps) still reads
    old = parse_entry({"udfType": "Query", "identifier": "users:get", "success": False, "error": "boom",
                       "executionTime": 0.01, "timestamp": 1790000000125, "requestId": "r"})
    assert old.kind == COMPLETION and old.outcome == "failure" and old.at == pytest.approx(1790000000.125)


def test_poll_sends_the_cursor_and_reads_the_page():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json={"entries": [COMPLETION_OK, PROGRESS_ENTRY], "newCursor": 1790000000200.0})

    async def go():
        http = ConvexHttp(Deployment("http://deployment.test", "dev:x|k"), transport=httpx.MockTransport(handler))
        try:
            return await poll(http, 1790000000000.0)
        finally:
            await http.aclose()

    page = asyncio.run(go())
    assert seen[0].url.path == "/api/stream_function_logs" and seen[0].url.params["cursor"] == "1790000000000.0"
    assert seen[0].headers["authorization"] == "Convex dev:x|k"
    assert [e.kind for e in page.entries] == [COMPLETION, PROGRESS] and page.cursor == 1790000000200.0


def test_history_filters_dedupes_is_bounded_and_survives_reopening(tmp_path):
    path = tmp_path / "r.sqlite"
    engine = open_replica(path)
    entries = [parse_entry(e) for e in (COMPLETION_OK, COMPLETION_FAIL, HTTP_OK, PROGRESS_ENTRY)]
    with engine.begin() as c:
        assert H.add(c, entries) == 4
        assert H.add(c, entries) == 0  # the same entries again (a resumed stream): nothing twice
        H.save_cursor(c, 1790000000200.0)
    engine.dispose()
    engine = open_replica(path)
    with engine.connect() as c:
        assert H.cursor(c) == 1790000000200.0
        assert [r.identifier for r in H.search(c, H.LogQuery()).rows] == [
            "ai:generateReply", "POST /twilio/sms", "ai:generateReply", "messages:send"]  # newest first
        assert {r.execution_id for r in H.search(c, H.LogQuery(outcome="failure")).rows} == {"e2"}
        assert len(H.search(c, H.LogQuery(request_id="ffff000011112222")).rows) == 2
        assert len(H.search(c, H.LogQuery(function="messages:send")).rows) == 1
        assert len(H.search(c, H.LogQuery(text="GENERATING")).rows) == 1
        assert len(H.search(c, H.LogQuery(text="timed out")).rows) == 1
        assert H.functions(c) == ["POST /twilio/sms", "ai:generateReply", "messages:send"]
    rng = random.Random(1)
    many = [parse_entry(e) for _ in range(80) for e in logtraffic.tick(rng, 1790000000.0 + _)]
    with engine.begin() as c:
        H.add(c, many, cap=50)
        assert H.count(c) == 50
        newest = H.search(c, H.LogQuery(), limit=1).rows[0]
        assert newest.pk == H.newest_pk(c)
    engine.dispose()


def test_pages_of_the_history_are_keyset_and_complete(engine):
    rng = random.Random(2)
    entries = [parse_entry(e) for e in logtraffic.history(1790000000.0, hours=1, seed=3)]
    with engine.begin() as c:
        H.add(c, entries)
    with engine.connect() as c:
        seen, keys, after = [], [], None
        while True:
            p = H.search(c, H.LogQuery(), after=after, limit=50)
            seen += [r.pk for r in p.rows]
            keys += [(r.at, r.pk) for r in p.rows]
            if not p.has_more:
                break
            after = p.cursor
        assert len(seen) == len(set(seen)) == H.count(c) and keys == sorted(keys, reverse=True)  # in time order
        newest = sorted(seen, reverse=True)
        newer = H.since(c, H.LogQuery(), newest[5])
        assert sorted(r.pk for r in newer) == sorted(newest[:5])


def test_a_long_action_that_arrives_late_reads_in_time_order(engine):
    """Newest first by time: an action that started at t and took a minute arrives after calls that started
    later, and in arrival order it stood above them."""
    from console.functionlogs import LogEntry

    def entry(at, name, eid):
        return LogEntry(at=at, kind="Completion", udf_type="Action", identifier=name, request_id=eid * 2,
                        execution_id=eid, outcome="success", error="", lines=(), execution_ms=1.0, cached=False)

    with engine.begin() as c:
        H.add(c, [entry(100.0, "quick:a", "a1"), entry(101.0, "quick:b", "b1")])
        H.add(c, [entry(40.0, "ai:slow", "c1")])  # arrives last, started first
    with engine.connect() as c:
        assert [r.identifier for r in H.search(c, H.LogQuery()).rows] == ["quick:b", "quick:a", "ai:slow"]
        page = H.search(c, H.LogQuery(), limit=1)
        rest = H.search(c, H.LogQuery(), after=page.cursor, limit=5)
        assert [r.identifier for r in rest.rows] == ["quick:a", "ai:slow"]


def test_demo_traffic_has_the_real_shape():
    entries = list(logtraffic.history(1790000000.0, hours=2, seed=1))
    assert len(entries) > 100
    kinds = {e["kind"] for e in entries}
    assert kinds == {"Completion", "Progress"}
    for e in entries:
        if e["kind"] == "Completion":
            assert {"udfType", "identifier", "logLines", "timestamp", "executionTime", "success", "error",
                    "requestId", "executionId", "cachedResult", "usageStats"} <= set(e)
            assert e["success"] is None or e["udfType"] == "HttpAction"
    parsed = [parse_entry(e) for e in entries]
    assert {p.outcome for p in parsed} == {"success", "failure", "progress"}
    json.dumps(entries)  # what a deployment would send is JSON


def test_a_version_4_replica_gains_the_log_history_and_console_audit(tmp_path):
    from sqlalchemy import text

    from console.store import db as dbmod

    path = tmp_path / "old.sqlite"
    engine = open_replica(path)
    with engine.begin() as c:
        c.exec_driver_sql("DROP TABLE function_logs")
        c.exec_driver_sql("DROP TABLE console_actions")
        dbmod.set_meta(c, "schema_version", "4")
    engine.dispose()
    engine = open_replica(path)
    with engine.connect() as c:
        assert dbmod.get_meta(c, "schema_version") == str(dbmod.SCHEMA_VERSION)
        names = set(c.execute(text("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")).scalars())
    assert {"function_logs", "console_actions", "by_log_unique", "by_log_request"} <= names
    with engine.begin() as c:
        assert H.add(c, [parse_entry(COMPLETION_OK)]) == 1
    engine.dispose()


def test_history_until_a_moment(engine):
    entries = [parse_entry(e) for e in logtraffic.history(1790000000.0, hours=1, seed=9)]
    with engine.begin() as c:
        H.add(c, entries)
    with engine.connect() as c:
        rows = H.search(c, H.LogQuery(until=1790000000.0 - 1800), limit=1000).rows
    assert rows and all(r.at <= 1790000000.0 - 1800 for r in rows)
    assert len(rows) == sum(1 for e in entries if e.at <= 1790000000.0 - 1800)
