"""The function runner's core: arguments as Convex JSON, the function list, production guard, audit, runs in
the demo (read-only over the replica) and live against the stand-in (admin and acting as a user)."""

import asyncio

import httpx
import pytest
from sqlalchemy import text

from console.client.http import ConvexHttp, Deployment
from console.runner import (ArgsError, DEMO_NOTE, RunResult, fetch_spec, int64, is_production, parse_args,
                            parse_spec, read_answer, run, run_local, template, write_refusal)
from console.store import console_audit
from tests.standin_helpers import KEY, standin


def test_arguments_are_checked_convex_json():
    assert parse_args("") == {}
    assert parse_args('{"limit": {"$integer": "KgAAAAAAAAA="}, "x": 1.5}')["x"] == 1.5
    with pytest.raises(ArgsError, match="line 2, column"):
        parse_args('{\n "a": }')
    with pytest.raises(ArgsError, match="must be a JSON object"):
        parse_args("[1, 2]")
    with pytest.raises(ArgsError, match='42 is {"\\$integer": "KgAAAAAAAAA="}'):
        parse_args('{"limit": {"$integer": "42"}}')
    with pytest.raises(ArgsError, match="unknown encoded type"):
        parse_args('{"a": {"$date": 1}}')
    assert int64(42) == '{"$integer": "KgAAAAAAAAA="}'


def test_the_function_list_and_an_argument_template():
    spec = parse_spec([
        {"identifier": "jobs.js:get", "functionType": "Query", "visibility": {"kind": "public"},
         "args": {"type": "object", "value": {"jobId": {"fieldType": {"type": "id", "tableName": "jobs"},
                                                        "optional": False},
                                              "reason": {"fieldType": {"type": "string"}, "optional": True},
                                              "limit": {"fieldType": {"type": "int64"}, "optional": False}}}},
        {"identifier": "jobs.js:enqueue", "functionType": "Mutation", "visibility": {"kind": "internal"}},
        {"functionType": "HttpAction", "method": "POST", "path": "/stripe"},
        "junk",
    ])
    assert [(f.path, f.kind, f.visibility) for f in spec] == [("jobs:enqueue", "mutation", "internal"),
                                                             ("jobs:get", "query", "public")]
    assert template(spec[1].args) == '{\n  "jobId": "",\n  "limit": {\n    "$integer": "AAAAAAAAAAA="\n  }\n}'
    assert template(None) == "{}"


def test_production_refuses_writes_unless_enabled():
    assert is_production("prod:happy-otter-123|abc") and not is_production("dev:x|y") and not is_production(None)
    assert write_refusal("query", "prod:x|y", False) is None
    assert "production" in write_refusal("mutation", "prod:x|y", False)
    assert write_refusal("action", "prod:x|y", True) is None
    assert write_refusal("mutation", "dev:x|y", False) is None


def test_answers_keep_value_error_data_and_log_lines():
    ok = read_answer({"status": "success", "value": {"n": {"$integer": "AQAAAAAAAAA="}}, "logLines": ["[LOG] 'hi'"]})
    assert ok.ok and ok.value == {"n": 1} and ok.log_lines == ["[LOG] 'hi'"]
    err = read_answer({"status": "error", "errorMessage": "[Request ID: 3f9a0b] Server Error\nUncaught ConvexError",
                       "errorData": {"code": "refused", "message": "<i>no</i>"}, "logLines": []})
    assert not err.ok and err.request_id == "3f9a0b" and err.error_data["code"] == "refused"
    assert "<i>no</i>" in err.text() and "Error data" in err.text()
    assert not read_answer("oops").ok


def test_demo_runs_read_only_queries_over_the_replica(engine):
    with engine.connect() as c:
        job = c.execute(text("SELECT id FROM jobs LIMIT 1")).scalar()
        chat = c.execute(text("SELECT chat_id FROM messages LIMIT 1")).scalar()
        got = run_local(c, "query", "jobs:get", {"jobId": job})
        assert got.ok and got.value["_id"] == job
        assert run_local(c, "query", "anything:get", {"id": job}).value["_id"] == job
        stats = run_local(c, "query", "jobs:stats", {})
        assert stats.ok and sum(stats.value.values()) == c.execute(text("SELECT count(*) FROM jobs")).scalar()
        msgs = run_local(c, "query", "messages:list", {"chatId": chat, "limit": 2.0}).value
        assert len(msgs["page"]) <= 2 and msgs["page"] == sorted(msgs["page"], key=lambda m: m["createdAt"])
        refused = run_local(c, "mutation", "console:retryJob", {"jobId": job})
        assert not refused.ok and refused.error == DEMO_NOTE
        assert "Could not find" in run_local(c, "query", "nope:list", {}).error


def test_the_local_audit_records_the_consoles_actions(engine):
    with engine.begin() as c:
        console_audit.record(c, deployment="http://x", actor="admin", action="run_mutation", target="a:b",
                             args={"x": 1}, outcome="refused", detail="production")
    with engine.connect() as c:
        row = console_audit.recent(c)[0]
    assert (row.actor, row.target, row.outcome, row.args) == ("admin", "a:b", "refused", '{"x": 1}')


def _live(coro_factory, key=KEY):
    s = standin()

    async def go():
        http = ConvexHttp(Deployment(s.url, key))
        try:
            return await coro_factory(http, s)
        finally:
            await http.aclose()

    try:
        return asyncio.run(go())
    finally:
        s.stop()


def test_live_runs_as_admin_and_as_a_user_with_error_data():
    async def work(http, s):
        job = s.store.scan("jobs", limit=1)[0]
        admin = s.store.scan("users", where="json_extract(doc, '$.role') = 'admin'", limit=1)[0]
        got = await run(http, "query", "jobs:get", {"jobId": job["_id"]})
        me = await run(http, "query", "console:whoami", {}, identity={"subject": admin["_id"], "issuer": "ops-console"})
        anon = await run(http, "query", "console:whoami", {})
        refused = await run(http, "mutation", "console:setUserRoles", {"userId": admin["_id"], "roles": [],
                                                                       "reason": "test"})
        missing = await run(http, "query", "nope:nothing", {})
        try:
            spec = await fetch_spec(http)
        except LookupError as exc:
            spec = exc
        return job, admin, got, me, anon, refused, missing, spec

    job, admin, got, me, anon, refused, missing, spec = _live(work)
    assert got.ok and got.value["_id"] == job["_id"] and got.ms > 0
    assert me.ok and me.value["userId"] == admin["_id"]
    assert anon.ok and anon.value is None
    assert not refused.ok and isinstance(refused.error_data, dict) and refused.error_data.get("code")
    assert not missing.ok and "Could not find" in missing.error
    # Today's stand-in does not serve _system/cli/modules:apiSpec (the runner falls back to a typed path); one
    # that does must answer the real shape.
    if isinstance(spec, LookupError):
        assert "Could not find" in str(spec)
    else:
        assert spec and all(f.kind in ("query", "mutation", "action") and ":" in f.path for f in spec)


def test_live_with_a_wrong_key_says_so():
    result = _live(lambda http, s: run(http, "query", "jobs:stats", {}), key="standin|wrong")
    assert not result.ok and "deploy key" in result.error


def test_the_spec_is_read_where_the_backend_offers_it():
    def handler(request):
        import json

        body = json.loads(request.content)
        assert body["path"] == "_system/cli/modules:apiSpec"
        return httpx.Response(200, json={"status": "success", "value": [
            {"identifier": "users.js:get", "functionType": "Query", "visibility": {"kind": "public"},
             "args": {"type": "object", "value": {}}}]})

    async def go():
        http = ConvexHttp(Deployment("http://d.test", "dev:x|k"), transport=httpx.MockTransport(handler))
        try:
            return await fetch_spec(http)
        finally:
            await http.aclose()

    assert [f.path for f in asyncio.run(go())] == ["users:get"]
