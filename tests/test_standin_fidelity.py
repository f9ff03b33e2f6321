"""Each way the stand-in used to differ from a deployment (reference/convex-fidelity.md §2), pinned to what
the backend source answers: status, code and message."""

import base64
import json
import struct
import time

import httpx
import pytest

from tests.standin_helpers import KEY, SMALL, standin

H = {"Authorization": f"Convex {KEY}"}


@pytest.fixture(scope="module")
def s():
    st = standin()
    yield st
    st.stop()


def post(s, route, body, headers=None, **kw):
    return httpx.post(s.url + route, json=body, headers={**H, **(headers or {})} if headers is not False else {},
                      **kw)


def anon(s, route, body):
    return httpx.post(s.url + route, json=body)


def f64(x):
    return {"$float": base64.b64encode(struct.pack("<d", x)).decode()}


def i64(n):
    return {"$integer": base64.b64encode(n.to_bytes(8, "little", signed=True)).decode()}


def user_id(s):
    return s.store.scan("users", limit=1)[0]["_id"]


# -- request bodies -----------------------------------------------------------------------------------------

def test_args_as_one_element_array_are_the_legacy_positional_form(s):
    r = post(s, "/api/query", {"path": "jobs:stats", "args": [{}], "format": "json"})
    assert r.json()["status"] == "success" and "dead" in r.json()["value"]


def test_missing_args_and_non_json_bodies_are_bad_json_body(s):
    r = post(s, "/api/query", {"path": "jobs:stats"})
    assert r.status_code == 400 and r.json()["code"] == "BadJsonBody" and "`args`" in r.json()["message"]
    r = httpx.post(s.url + "/api/query", content=json.dumps({"path": "jobs:stats", "args": {}}),
                   headers={**H, "Content-Type": "text/plain"})
    assert r.status_code == 400 and r.json() == {
        "code": "BadJsonBody", "message": "Expected request with `Content-Type: application/json`"}


def test_a_web_page_cannot_send_messages_as_text_plain(s):
    chat = s.store.scan("chats", limit=1)[0]["_id"]
    before = s.store.count("messages")
    r = httpx.post(s.url + "/api/mutation", content=json.dumps({"path": "messages:send", "args": {
        "chatId": chat, "body": "forged"}}), headers={"Content-Type": "text/plain", "Origin": "https://evil.example"})
    assert r.status_code == 400 and s.store.count("messages") == before


def test_body_limit_is_16_mib_plus_2000(s):
    big = b'{"path":"jobs:stats","args":{"x":"' + b"a" * ((1 << 24) + 2000) + b'"}}'
    r = httpx.post(s.url + "/api/query", content=big, headers={**H, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "BadJsonBody"
    assert "length limit exceeded" in r.json()["message"]


def test_query_batch_is_bounded_and_a_malformed_entry_fails_it(s):
    from console.standin.api import MAX_BATCH

    q = {"path": "console:whoami", "args": {}}
    assert post(s, "/api/query_batch", {"queries": [q] * MAX_BATCH}).status_code == 200
    r = post(s, "/api/query_batch", {"queries": [q] * (MAX_BATCH + 1)})
    assert r.status_code == 400 and r.json()["code"] == "BadJsonBody"
    r = post(s, "/api/query_batch", {"queries": [q, {"path": "console:whoami"}]})
    assert r.status_code == 400 and r.json()["code"] == "BadJsonBody"


# -- values -------------------------------------------------------------------------------------------------

def _no_json_integers(text):
    ints = []
    json.loads(text, parse_int=lambda t: ints.append(t) or int(t))
    return ints


def test_float64_is_always_printed_with_a_fraction(s):
    for fmt in ("json", "convex_encoded_json"):
        r = post(s, "/api/query", {"path": "users:get", "args": {"userId": user_id(s)}, "format": fmt})
        assert r.json()["value"]["_creationTime"] and _no_json_integers(r.text) == []
        r = post(s, "/api/query", {"path": "jobs:stats", "args": {}, "format": fmt})
        assert '"dead":' in r.text and _no_json_integers(r.text) == []
    page = httpx.get(s.url + "/api/list_snapshot", params={"tableName": "jobs", "format": "export_json"}, headers=H)
    assert len(_no_json_integers(page.text)) == 1 + len(page.json()["values"])  # snapshot and each _ts only


def test_special_floats_and_int64_in_every_format(s):
    args = {"nan": f64(float("nan")), "inf": f64(float("inf")), "ninf": f64(float("-inf")), "nz": f64(-0.0),
            "i": i64(-5), "f": 2.0, "b": {"$bytes": "AAE="}}

    def echo(fmt):
        r = post(s, "/api/action", {"path": "standin:echo", "args": args, "format": fmt})
        assert r.json()["status"] == "success", r.text
        return r.json()["value"]["args"]

    clean = echo("json")
    assert (clean["nan"], clean["inf"], clean["ninf"]) == ("NaN", "Infinity", "-Infinity")
    assert clean["i"] == "-5" and clean["b"] == "AAE=" and clean["f"] == 2.0
    assert struct.pack("<d", clean["nz"]) == struct.pack("<d", -0.0)
    encoded = echo("convex_encoded_json")
    assert encoded["nz"] == f64(-0.0) and encoded["nan"] == f64(float("nan")) and encoded["i"] == i64(-5)
    assert encoded["b"] == {"$bytes": "AAE="}
    export = echo("export_json")
    assert export["i"] == -5 and export["inf"] == f64(float("inf")) and export["b"] == {"$bytes": "AAE="}
    r = post(s, "/api/action", {"path": "standin:echo", "args": {"x": f64(1.5)}})
    assert r.json()["status"] == "error" and "should be encoded as a number" in r.json()["errorMessage"]


def test_ts_is_a_plain_integer_in_every_export_format_and_never_in_function_results(s):
    for fmt in ("json", "convex_encoded_json", "export_json"):
        page = httpx.get(s.url + "/api/list_snapshot", params={"tableName": "users", "format": fmt}, headers=H).json()
        assert all(type(v["_ts"]) is int for v in page["values"])
        deltas = httpx.get(s.url + "/api/document_deltas", params={"cursor": page["snapshot"] - 10**15,
                                                                   "format": fmt}, headers=H).json()
        assert deltas["values"] and all(type(v["_ts"]) is int for v in deltas["values"])
    got = post(s, "/api/query", {"path": "users:get", "args": {"userId": user_id(s)}}).json()["value"]
    assert "_ts" not in got and {"_id", "_creationTime"} <= set(got)


# -- auth ---------------------------------------------------------------------------------------------------

def test_convex_prefix_is_case_insensitive_and_key_type_prefixes_are_stripped():
    st = standin(admin_key="prod:my-deployment|secret123")
    try:
        q = {"path": "users:get", "args": {"userId": "x"}}
        for header in ("Convex prod:my-deployment|secret123", "convex my-deployment|secret123",
                       "CONVEX dev:my-deployment|secret123", "Convex preview:team:project|secret123"):
            r = httpx.post(st.url + "/api/query", json=q, headers={"Authorization": header})
            assert r.status_code == 200 and r.json()["status"] == "success", header
        r = httpx.post(st.url + "/api/query", params={"adminKey": "prod:my-deployment|secret123"}, json=q)
        assert r.json()["status"] == "success"
        r = httpx.post(st.url + "/api/query", json=q, headers={"Authorization": "Convex prod:my-deployment|nope"})
        assert r.status_code == 401 and r.json() == {"code": "BadAdminKey",
                                                     "message": "The provided admin key was invalid for this instance"}
    finally:
        st.stop()


def test_non_admin_on_admin_routes_is_403_bad_deploy_key(s):
    for method, route, params in [("GET", "/api/list_snapshot", {"tableName": "users"}),
                                  ("GET", "/api/json_schemas", {}), ("GET", "/api/stream_function_logs", {"cursor": 0}),
                                  ("POST", "/api/function", None)]:
        r = httpx.request(method, s.url + route, params=params,
                          json={"path": "jobs:stats", "args": {}} if method == "POST" else None)
        assert r.status_code == 403 and r.json()["code"] == "BadDeployKey", route
        assert r.json()["message"].startswith("The provided deploy key was invalid for this deployment.")


def test_acting_identity_header_is_parsed_as_the_backend_does(s):
    def call(identity_b64):
        return httpx.post(s.url + "/api/query", json={"path": "console:whoami", "args": {}},
                          headers={"Authorization": f"Convex {KEY}:{identity_b64}"})
    r = call("%%%not-base64")
    assert r.status_code == 400 and r.json() == {"code": "HeaderParseFailure", "message": "Malformed Authorization header."}
    r = call(base64.b64encode(b'{"name": "no subject"}').decode())
    assert r.status_code == 400 and r.json()["code"] == "HeaderParseFailure"
    r = call(base64.b64encode(json.dumps({"tokenIdentifier": "ops|x"}).encode()).decode())
    assert r.status_code == 200 and r.json() == {"status": "success", "value": None}
    uid = user_id(s)
    r = call(base64.b64encode(json.dumps({"subject": uid, "issuer": "ops"}).encode()).decode())
    assert r.json()["value"]["userId"] == uid


def test_other_schemes_and_bearer_tokens_are_checked(s):
    q = {"path": "console:whoami", "args": {}}
    r = httpx.post(s.url + "/api/query", json=q, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert r.status_code == 400 and r.json() == {"code": "InvalidAdminKey", "message": "Invalid admin key"}
    r = httpx.post(s.url + "/api/query", json=q, headers={"Authorization": "Conv"})
    assert r.status_code == 400 and r.json()["code"] == "InvalidHeaderFailure"
    r = httpx.post(s.url + "/api/query", json=q, headers={"Authorization": "Bearer not-a-jwt"})
    assert r.status_code == 401 and r.json()["code"] == "InvalidAuthHeader"

    def jwt(payload):
        part = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
        return f"eyJhbGciOiJSUzI1NiJ9.{part}.c2ln"
    r = httpx.post(s.url + "/api/query", json=q, headers={"Authorization": f"bearer {jwt({'sub': 'u'})}"})
    assert r.status_code == 401 and "Missing issuer claim" in r.json()["message"]
    r = httpx.post(s.url + "/api/query", json=q, headers={"Authorization": f"Bearer {jwt({'iss': 'https://x', 'sub': 'u'})}"})
    assert r.status_code == 401 and r.json()["code"] == "NoAuthProvider"
    assert "no providers configured" in r.json()["message"]


def test_convex_client_header_parsed_as_the_backend_does(s):
    q = {"path": "console:whoami", "args": {}}
    for ok in ("MyClient-1.0", "npm-1.48.0", "npm-cli-1.48.0", "python-0.8.1", "airbyte-export-0.4.0"):
        assert httpx.post(s.url + "/api/query", json=q, headers={"Convex-Client": ok}).status_code == 200, ok
    r = httpx.post(s.url + "/api/query", json=q, headers={"Convex-Client": "foo"})
    assert r.status_code == 400 and r.json()["code"] == "InvalidClientVersion"


# -- the function API -------------------------------------------------------------------------------------------

def test_internal_functions_need_the_key_and_not_found_reads_as_real(s):
    r = anon(s, "/api/query", {"path": "users:get", "args": {"userId": user_id(s)}})
    body = r.json()
    assert r.status_code == 200 and body["status"] == "error" and "errorData" not in body
    assert body["errorMessage"].endswith("Server Error\nCould not find public function for 'users:get'.")
    assert body["errorMessage"].startswith("[Request ID: ")
    assert anon(s, "/api/query", {"path": "messages:list", "args": {"chatId": "x"}}).json()["status"] == "error"


def test_wrong_function_type_and_action_route_does_not_run_mutations(s):
    before = s.store.count("jobs")
    r = post(s, "/api/action", {"path": "jobs:enqueue", "args": {"key": "act-1", "type": "x"}})
    assert r.json()["errorMessage"].endswith(
        "Trying to execute jobs.js:enqueue as Action, but it is defined as Mutation.")
    r = post(s, "/api/mutation", {"path": "jobs:stats", "args": {}})
    assert r.json()["errorMessage"].endswith("Trying to execute jobs.js:stats as Mutation, but it is defined as Query.")
    assert s.store.count("jobs") == before


def test_run_by_path(s):
    r = post(s, "/api/run/jobs", {"args": {}})
    assert r.status_code == 400 and r.json()["code"] == "MissingIdentifier"
    assert r.json()["message"] == "Path or function name not provided in path, e.g. /api/run/messages/list"
    r = post(s, "/api/run/standin/echo", {"args": {"a": 1}})
    assert r.json()["status"] == "success" and r.json()["value"]["args"] == {"a": 1.0}
    r = post(s, "/api/run/jobs/enqueue", {"args": {"key": "run-1", "type": "x"}})
    assert r.json()["value"]["created"] is True


def test_path_canonicalisation(s):
    assert post(s, "/api/query", {"path": "jobs.js:stats", "args": {}}).json()["status"] == "success"
    r = post(s, "/api/query", {"path": "jobs", "args": {}})
    assert r.json()["errorMessage"].endswith("Could not find public function for 'jobs'.")
    r = post(s, "/api/query", {"path": "not a path!", "args": {}})
    assert r.status_code == 400 and r.json()["code"] == "BadConvexFunctionIdentifier"


def test_get_query_and_consistent_query_routes(s):
    r = httpx.get(s.url + "/api/query", params={"path": "jobs:stats", "args": "{}", "format": "json"}, headers=H)
    assert r.json()["status"] == "success"
    ts = httpx.post(s.url + "/api/query_ts").json()["ts"]
    assert len(base64.b64decode(ts)) == 8
    r = post(s, "/api/query_at_ts", {"path": "jobs:stats", "args": [{}], "ts": ts, "format": "json"})
    assert r.json()["status"] == "success"
    future = base64.b64encode((time.time_ns() + 3600 * 10**9).to_bytes(8, "little")).decode()
    r = post(s, "/api/query_at_ts", {"path": "jobs:stats", "args": {}, "ts": future})
    assert r.status_code == 400 and r.json()["code"] == "SnapshotTooNew"


def test_function_route_components(s):
    r = post(s, "/api/function", {"path": "x:y", "args": {}, "componentPath": "nope"})
    assert r.status_code == 400 and r.json() == {"code": "ComponentPathNotFound",
                                                 "message": "Component path 'nope' not found"}
    r = post(s, "/api/function", {"path": "x:y", "args": {}, "componentPath": "betterAuth"})
    assert r.json()["errorMessage"].endswith("Could not find public function for 'x:y' in 'betterAuth'.")
    r = post(s, "/api/function", {"path": "standin:echo", "args": {}})
    assert r.json()["status"] == "success"


def test_health_routes_unknown_routes_wrong_methods_and_cors(s):
    assert httpx.get(s.url + "/").text == "This Convex deployment is running. See https://docs.convex.dev/."
    assert httpx.get(s.url + "/instance_name").text
    assert httpx.get(s.url + "/instance_version").status_code == 200
    assert httpx.post(s.url + "/echo", content=b"ping").content == b"ping"
    r = httpx.get(s.url + "/no/such/route")
    assert r.status_code == 404 and r.content == b""
    assert httpx.get(s.url + "/health").status_code == 404  # a deployment has no /health
    r = httpx.get(s.url + "/api/mutation")
    assert r.status_code == 405 and r.content == b""
    r = httpx.options(s.url + "/api/query", headers={"Origin": "https://dash.example",
                                                     "Access-Control-Request-Method": "POST",
                                                     "Access-Control-Request-Headers": "content-type,authorization"})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://dash.example"
    assert "POST" in r.headers["access-control-allow-methods"]
    assert r.headers["access-control-allow-headers"] == "content-type,authorization"
    r = httpx.post(s.url + "/api/query", json={"path": "console:whoami", "args": {}},
                   headers={"Origin": "https://dash.example"})
    assert r.headers["access-control-allow-origin"] == "https://dash.example"
    assert r.headers["access-control-allow-credentials"] == "true"


def test_production_mode_redacts_errors_but_keeps_error_data():
    st = standin(production=True)
    try:
        r = httpx.post(st.url + "/api/query", json={"path": "nope:x", "args": {}})
        msg = r.json()["errorMessage"]
        assert msg.startswith("[Request ID: ") and msg.endswith("] Server Error") and "\n" not in msg
        assert "logLines" not in r.json()
        job = st.store.scan("jobs", limit=1)[0]["_id"]
        r = httpx.post(st.url + "/api/mutation", json={"path": "console:retryJob", "args": {"jobId": job}})
        assert "errorData" not in r.json()  # internal: without the key it is "not found", redacted too
        r = httpx.post(st.url + "/api/mutation", json={"path": "console:retryJob", "args": {"jobId": job}}, headers=H)
        assert r.json()["errorMessage"].endswith("] Server Error") and r.json()["errorData"]["code"] == "no_operator"
        logs = httpx.get(st.url + "/api/stream_function_logs", params={"cursor": 0}, headers=H).json()["entries"]
        assert any("Could not find public function for 'nope:x'." in (e["error"] or "") for e in logs)
    finally:
        st.stop()


# -- streaming export ---------------------------------------------------------------------------------------------

def _walk(s, **params):
    rows, cursor, snapshot, pages = [], None, None, 0
    while True:
        p = dict(params)
        if cursor:
            p["cursor"] = cursor
        if snapshot:
            p["snapshot"] = snapshot
        body = httpx.get(s.url + "/api/list_snapshot", params=p, headers=H).json()
        rows += body["values"]
        snapshot, cursor, pages = body["snapshot"], body["cursor"], pages + 1
        if not body["hasMore"]:
            return rows, pages


def test_list_snapshot_without_a_table_walks_everything_table_by_table(s):
    rows, pages = _walk(s, format="json")
    expected = sum(s.store.count(t, c) for c, t in s.store.tables())
    assert len(rows) == expected and len({(r["_component"], r["_table"], r["_id"]) for r in rows}) == expected
    tables_in_order = []
    for r in rows:
        if not tables_in_order or tables_in_order[-1] != (r["_component"], r["_table"]):
            tables_in_order.append((r["_component"], r["_table"]))
    assert len(tables_in_order) == len(set(tables_in_order))  # each table once, contiguous
    rows, _ = _walk(s, component="betterAuth")
    assert rows and {r["_component"] for r in rows} == {"betterAuth"}


def test_list_snapshot_bad_snapshots_are_400_never_500(s):
    for bad in ("abc", "1.5", str(2**63)):
        r = httpx.get(s.url + "/api/list_snapshot", params={"tableName": "users", "snapshot": bad}, headers=H)
        assert r.status_code == 400 and r.json()["code"] == "BadQueryArgs", bad
    r = httpx.get(s.url + "/api/list_snapshot", params={"tableName": "users", "snapshot": time.time_ns() + 10**12},
                  headers=H)
    assert r.status_code == 400 and r.json()["code"] == "SnapshotTooNew"
    r = httpx.get(s.url + "/api/document_deltas", params={"cursor": "x"}, headers=H)
    assert r.status_code == 400 and r.json()["code"] == "BadQueryArgs"


def test_snapshot_and_delta_windows_expire_by_age():
    now = [time.time_ns()]
    st = standin(clock=lambda: now[0], sizes=SMALL)
    day = 24 * 3600 * 10**9
    try:
        snap = httpx.get(st.url + "/api/list_snapshot", params={"tableName": "users"}, headers=H).json()["snapshot"]
        now[0] += 4 * day
        ok = httpx.get(st.url + "/api/list_snapshot", params={"tableName": "users", "snapshot": snap}, headers=H)
        assert ok.status_code == 200
        now[0] += 2 * day  # 6 days: LIST_SNAPSHOT_MAX_AGE is 5
        r = httpx.get(st.url + "/api/list_snapshot", params={"tableName": "users", "snapshot": snap}, headers=H)
        assert r.status_code == 400 and r.json() == {"code": "SnapshotTooOld",
                                                     "message": f"Snapshot value {snap} is too far in the past."}
        now[0] += 7 * day  # 13 days: deltas are kept for 14
        assert httpx.get(st.url + "/api/document_deltas", params={"cursor": snap}, headers=H).status_code == 200
        now[0] += 2 * day
        r = httpx.get(st.url + "/api/document_deltas", params={"cursor": snap}, headers=H)
        assert r.status_code == 400 and r.json()["code"] == "InvalidWindowToReadDocuments"
        assert r.json()["message"].startswith(f"Trying to synchronize from timestamp {snap}, which is older than")
    finally:
        st.stop()


def test_document_deltas_honours_component(s):
    start = httpx.get(s.url + "/api/list_snapshot", params={"tableName": "users"}, headers=H).json()["snapshot"]
    with s.store.transaction() as tx:
        member = s.store.scan("member", "betterAuth", limit=1)[0]
        tx.patch("member", member["_id"], {"note": "x"}, "betterAuth")
        tx.patch("users", user_id(s), {"note": "y"})
    body = httpx.get(s.url + "/api/document_deltas", params={"cursor": start, "component": "betterAuth"},
                     headers=H).json()
    assert body["values"] and {v["_component"] for v in body["values"]} == {"betterAuth"}


def test_json_schemas_are_shape_inferred(s):
    with s.store.transaction() as tx:
        tx.insert("auditLogs", {"actorUserId": user_id(s), "count": {"$integer": "AQAAAAAAAAA="},
                                "tags": ["a", "b"], "nested": {"k": 1}})
    schemas = httpx.get(s.url + "/api/json_schemas", params={"byComponent": "true", "deltaSchema": "true"},
                        headers=H).json()
    users = schemas[""]["users"]
    assert users["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert users["properties"]["_id"] == {"$description": "Id(users)", "type": "string"}
    assert "_id" in users["required"] and "_creationTime" in users["required"]
    assert users["properties"]["_ts"] == {"type": "integer"} and users["properties"]["_deleted"] == {"type": "boolean"}
    audit = schemas[""]["auditLogs"]["properties"]
    assert audit["actorUserId"]["$description"] == "Id(users)"
    assert audit["tags"] == {"type": "array", "items": {"type": "string"}}
    assert audit["nested"] == {"type": "object", "properties": {"k": {"type": "number"}},
                               "additionalProperties": False, "required": ["k"]}
    assert audit["count"] == {"$description": "int64 represented as base10 string", "type": "string"}
    assert "count" not in schemas[""]["auditLogs"]["required"]  # optional: most entries lack it
    encoded = httpx.get(s.url + "/api/json_schemas", params={"format": "convex_encoded_json"}, headers=H).json()
    assert encoded["auditLogs"]["properties"]["count"]["properties"]["$integer"]["type"] == "string"
    assert "_ts" not in encoded["users"]["properties"]
    messages = schemas[""]["messages"]["properties"]
    assert messages["chatId"] == {"$description": "Id(chats)", "type": "string"}
    assert set(schemas) >= {"", "betterAuth"} and "invitation" in schemas["betterAuth"]


def test_every_table_is_listed_even_empty():
    st = standin(seed="empty")
    try:
        schemas = httpx.get(st.url + "/api/json_schemas", params={"byComponent": "true"}, headers=H).json()
        assert "users" in schemas[""] and "member" in schemas["betterAuth"]
        assert set(schemas[""]["users"]["properties"]) == {"_id", "_creationTime"}
        page = httpx.get(st.url + "/api/list_snapshot", headers=H).json()
        assert page["values"] == []
    finally:
        st.stop()


# -- logs and metrics --------------------------------------------------------------------------------------------------

def _window():
    now = time.time()
    return json.dumps({"start": {"secs_since_epoch": int(now - 60), "nanos_since_epoch": 0},
                       "end": {"secs_since_epoch": int(now + 5), "nanos_since_epoch": 0}, "num_buckets": 4})


def test_function_log_entries_have_the_real_shape(s):
    since = time.time() * 1000 - 1
    post(s, "/api/query", {"path": "jobs:stats", "args": {}})
    entries = httpx.get(s.url + "/api/stream_function_logs", params={"cursor": since}, headers=H).json()["entries"]
    e = next(x for x in reversed(entries) if x["identifier"] == "jobs:stats")
    assert e["kind"] == "Completion" and e["udfType"] == "Query" and e["success"] is None and e["error"] is None
    assert isinstance(e["logLines"], list) and len(e["requestId"]) == 16 and e["executionTime"] < 5
    assert {"cachedResult", "caller", "executionId", "usageStats", "identityType", "environment",
            "executionTimestamp", "componentPath"} <= set(e)
    assert e["identityType"] == "instance_admin" and e["caller"] == "HttpApi" and e["environment"] == "isolate"
    r = httpx.get(s.url + "/api/stream_function_logs", headers=H)
    assert r.status_code == 400 and r.json()["code"] == "BadQueryArgs"


def test_metrics_parameters_as_the_backend_requires(s):
    post(s, "/api/query", {"path": "jobs:stats", "args": {}})
    get = lambda route, **p: httpx.get(s.url + "/api/app_metrics/" + route, params=p, headers=H)  # noqa: E731
    r = get("udf_rate", metric="invocations", window=_window())
    assert r.status_code == 400 and r.json()["code"] == "BadQueryArgs"
    series = get("udf_rate", path="jobs:stats", metric="invocations", window=_window()).json()
    assert len(series) == 4 and sum(v for _, v in series) >= 1
    assert get("latency_percentiles", path="jobs:stats", window=_window()).json()["code"] == "BadQueryArgs"
    lat = get("latency_percentiles", path="jobs:stats", percentiles="[50,99]", window=_window()).json()
    assert [p for p, _ in lat] == [50, 99] and len(lat[0][1]) == 4
    for i in range(7):
        post(s, "/api/query", {"path": "console:whoami", "args": {}})
        post(s, "/api/query", {"path": f"nope:f{i}", "args": {}})
    assert len(get("function_call_count_top_k", window=_window()).json()) == 5  # default k
    assert len(get("function_call_count_top_k", window=_window(), k=25).json()) <= 25
    r = get("function_call_count_top_k", window=_window(), k=26)
    assert r.status_code == 400 and r.json() == {"code": "InvalidTopKParameter", "message": "k must be between 1 and 25, got 26"}
    assert get("function_call_count_top_k", window=_window(), k="x").json()["code"] == "BadQueryArgs"
    assert get("failure_percentage_top_k", window=_window()).status_code == 200
    assert get("no_such_metric", window=_window()).status_code == 404


def test_post_selection_picks_components_tables_and_columns(s):
    selection = {"_other": "excluded", "": {"_other": "excluded", "users": {"_other": "included", "email": "excluded"},
                                            "chats": "included"}}
    rows, cursor, snapshot = [], None, None
    while True:
        body = {"selection": selection, "format": "json", **({"cursor": cursor, "snapshot": snapshot} if cursor else {})}
        page = httpx.post(s.url + "/api/list_snapshot", json=body, headers=H).json()
        rows += page["values"]
        cursor, snapshot = page["cursor"], page["snapshot"]
        if not page["hasMore"]:
            break
    assert {r["_table"] for r in rows} == {"users", "chats"}
    assert len(rows) == s.store.count("users") + s.store.count("chats")
    assert all("email" not in r and "_id" in r for r in rows if r["_table"] == "users")
    with s.store.transaction() as tx:
        tx.patch("users", user_id(s), {"note": "sel"})
        tx.patch("jobs", s.store.scan("jobs", limit=1)[0]["_id"], {"note": "sel"})
    deltas = httpx.post(s.url + "/api/document_deltas", json={"cursor": snapshot, "selection": selection},
                        headers=H).json()
    assert [v["_table"] for v in deltas["values"]] == ["users"] and "email" not in deltas["values"][0]
    r = httpx.post(s.url + "/api/list_snapshot", json={"selection": {"": "excluded"}}, headers=H)
    assert r.status_code == 400 and r.json()["code"] == "BadJsonBody"


def test_arguments_are_checked_against_declared_validators_with_the_real_messages(s, monkeypatch):
    from console.standin import api

    spec = {"type": "object", "value": {
        "jobId": {"fieldType": {"type": "id", "tableName": "jobs"}, "optional": False},
        "limit": {"fieldType": {"type": "number"}, "optional": True},
        "status": {"fieldType": {"type": "union", "value": [{"type": "string"},
                                                          {"type": "array", "value": {"type": "string"}}]},
                   "optional": True}}}
    monkeypatch.setattr(api, "ARG_VALIDATORS", {"standin:echo": spec})
    job = s.store.scan("jobs", limit=1)[0]["_id"]

    def echo(args):
        return post(s, "/api/action", {"path": "standin:echo", "args": args}).json()

    assert echo({"jobId": job, "limit": 5, "status": ["dead"]})["status"] == "success"
    bad = echo({"jobId": job, "limit": i64(5)})["errorMessage"]
    assert bad.endswith("ArgumentValidationError: Value does not match validator.\nPath: .limit\nValue: 5\n"
                        "Validator: v.float64()")
    bad = echo({"limit": 5})["errorMessage"]
    assert "ArgumentValidationError: Object is missing the required field `jobId`. Consider wrapping the field " \
           "validator in `v.optional(...)` if this is expected.\n\nObject: {limit: 5.0}\n" in bad
    bad = echo({"jobId": job, "extra": True})["errorMessage"]
    assert "Object contains extra field `extra` that is not in the validator." in bad
    bad = echo({"jobId": user_id(s)})["errorMessage"]
    assert bad.endswith(f'Found ID "{user_id(s)}" from table `users`, which does not match the table name in '
                        'validator `v.id("jobs")`.Path: .jobId')
    bad = echo({"jobId": job, "status": [1]})["errorMessage"]
    assert "Path: .status\nValue: [1.0]\nValidator: v.union(v.string(), v.array(v.string()))" in bad


def test_a_large_batch_does_not_hold_other_callers_up(s, monkeypatch):
    import threading

    from console.standin import functions as F

    def slow(call, args):
        time.sleep(0.02)
        return None

    monkeypatch.setitem(F.QUERIES, "standin:slow", slow)
    batch = threading.Thread(target=post, args=(s, "/api/query_batch",
                                                {"queries": [{"path": "standin:slow", "args": {}}] * 200}))
    batch.start()  # about 4 s of queries, each holding the store lock
    try:
        time.sleep(0.2)
        started = time.monotonic()
        assert post(s, "/api/query", {"path": "console:whoami", "args": {}}).json()["status"] == "success"
        assert batch.is_alive(), "the batch ended before the other call was answered: nothing was tested"
        assert time.monotonic() - started < 2.0
    finally:
        batch.join()


def test_old_clients_are_refused_or_warned_and_get_their_default_format(s):
    q = {"path": "console:whoami", "args": {}}
    r = httpx.post(s.url + "/api/query", json=q, headers={"Convex-Client": "npm-0.19.0"})
    assert r.status_code == 400 and r.json()["code"] == "ClientVersionUnsupported"
    assert r.json()["message"].startswith("The Convex npm package at version 0.19.0 is no longer supported.")
    assert r.headers["x-convex-deprecation-state"] == "Unsupported"
    r = httpx.post(s.url + "/api/query", json=q, headers={"Convex-Client": "python-0.1.0"})
    assert r.status_code == 200 and r.headers["x-convex-deprecation-state"] == "UpgradeRequired"
    assert "x-convex-deprecation-state" not in httpx.post(s.url + "/api/query", json=q,
                                                          headers={"Convex-Client": "npm-1.48.0"}).headers
    echo = {"path": "standin:echo", "args": {"i": i64(7)}}
    old = httpx.post(s.url + "/api/action", json=echo, headers={"Convex-Client": "npm-1.4.0"}).json()
    new = httpx.post(s.url + "/api/action", json=echo, headers={"Convex-Client": "npm-1.5.0"}).json()
    assert old["value"]["args"]["i"] == i64(7) and new["value"]["args"]["i"] == "7"


def test_http_actions_also_answer_under_http(s):
    from console.demo.secrets import DEMO_STRIPE_SECRET
    from console.signatures import sign_stripe

    body = json.dumps({"id": "evt_http_prefix", "type": "invoice.paid"}).encode()
    r = httpx.post(s.url + "/http/stripe", content=body, headers={"Stripe-Signature": sign_stripe(body, DEMO_STRIPE_SECRET)})
    assert r.status_code == 200 and r.json()["received"] is True
    assert httpx.get(s.url + "/http/stripe").status_code == 405


def test_table_column_names_for_fivetran(s):
    body = httpx.get(s.url + "/api/get_table_column_names", headers=H).json()
    users = next(t for t in body["byComponent"][""] if t["name"] == "users")
    assert {"_id", "_creationTime", "email"} <= set(users["columns"])
    assert any(t["name"] == "member" for t in body["byComponent"]["betterAuth"])
    assert httpx.get(s.url + "/api/get_table_column_names").status_code == 403


def test_chunked_bodies_are_read_and_bounded(s):
    def chunks(parts):
        yield from parts

    r = httpx.post(s.url + "/api/query", content=chunks([b'{"path":"console:whoami",', b'"args":{}}']),
                   headers={"Content-Type": "application/json", **H})
    assert r.status_code == 200 and r.json()["status"] == "success"
    big = (b"a" * (1 << 20) for _ in range(17))
    r = httpx.post(s.url + "/api/query", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "BadJsonBody"


def test_head_on_get_routes_answers_headers_only(s):
    r = httpx.head(s.url + "/")
    assert r.status_code == 200 and r.content == b"" and int(r.headers["content-length"]) > 0
    assert httpx.head(s.url + "/api/mutation").status_code == 405


def test_v1_data_sync_streams_snapshot_then_deltas(s):
    def page(cursor=None, selection=None):
        body = {"cursor": cursor} if cursor else {}
        if selection:
            body["selection"] = selection
        r = httpx.post(s.url + "/api/v1/data/sync", json=body, headers=H)
        assert r.status_code == 200, r.text
        return r.json()

    selection = {"_other": "excluded", "": {"_other": "excluded", "users": {"_other": "included"},
                                            "chats": "included"}}
    docs, truncates, cursor, statuses = {}, [], None, []
    for _ in range(50):
        p = page(cursor, selection)
        assert p["pagination"]["hasMore"] is True and set(p) == {"status", "truncates", "values", "syncId",
                                                                   "pagination"}
        truncates += p["truncates"]
        for v in p["values"]:
            docs[v["value"]["_id"]] = v
        cursor = p["pagination"]["nextCursor"]
        statuses.append(p["status"]["type"])
        if p["status"]["type"] == "upToDate":
            break
    assert statuses[0] == "snapshotting" and statuses[-1] == "upToDate"
    assert sorted(t["table"] for t in truncates) == ["chats", "users"]
    assert len(docs) == s.store.count("users") + s.store.count("chats")
    assert all(type(v["ts"]) is int for v in docs.values())
    uid = user_id(s)
    with s.store.transaction() as tx:
        tx.delete("users", uid)
        tx.patch("jobs", s.store.scan("jobs", limit=1)[0]["_id"], {"note": "not selected"})
    p = page(cursor, selection)
    assert [(v["table"], v["deleted"], v["value"]) for v in p["values"]] == [("users", True, {"_id": uid})]
    assert p["status"]["type"] == "upToDate"
    r = httpx.post(s.url + "/api/v1/data/sync", json={"cursor": "garbage"}, headers=H)
    assert r.status_code == 400 and r.json()["code"] == "InvalidDataSyncCursor"
    snap = httpx.get(s.url + "/api/list_snapshot", params={"tableName": "users"}, headers=H).json()["snapshot"]
    moved = httpx.post(s.url + "/api/data_sync_cursor_from_deltas", json={"cursor": snap}, headers=H).json()
    assert page(moved["cursor"])["status"]["type"] == "upToDate"


def test_http_actions_are_in_the_function_log(s):
    from console.demo.secrets import DEMO_STRIPE_SECRET
    from console.signatures import sign_stripe

    body = json.dumps({"id": "evt_logged", "type": "invoice.paid"}).encode()
    since = time.time() * 1000 - 1
    httpx.post(s.url + "/stripe", content=body, headers={"Stripe-Signature": sign_stripe(body, DEMO_STRIPE_SECRET)})
    entries = httpx.get(s.url + "/api/stream_function_logs", params={"cursor": since}, headers=H).json()["entries"]
    e = next(x for x in reversed(entries) if x["identifier"] == "POST /stripe")
    assert e["udfType"] == "HttpAction" and e["success"] == {"status": "200"} and e["componentPath"] is None


def test_export_checks_run_in_the_backends_order():
    st = standin(export_enabled=False, seed="empty")
    try:
        r = httpx.get(st.url + "/api/json_schemas")  # no key: the plan is checked before the key's rights
        assert r.status_code == 403 and r.json()["code"] == "StreamingExportNotEnabled"
        assert r.json()["message"].startswith("Streaming export is not available on your current subscription.")
        r = httpx.get(st.url + "/api/json_schemas", headers={"Authorization": "Convex wrong|key"})
        assert r.status_code == 401 and r.json()["code"] == "BadAdminKey"
    finally:
        st.stop()
