"""The stand-in's sync protocol message by message (the official clients are in test_official_sync_clients.py):
versions, auth kinds and their errors, re-runs driven by what a query read, and protocol errors."""

import base64
import json

import httpx
import pytest
from websockets.sync.client import connect

from tests.standin_helpers import KEY, standin


@pytest.fixture(scope="module")
def s():
    server = standin()
    yield server
    server.stop()


def _ts(text):
    return int.from_bytes(base64.b64decode(text), "little")


class Client:
    def __init__(self, s, path="/api/1.48.0/sync"):
        self.ws = connect(s.url.replace("http://", "ws://") + path, open_timeout=5)
        self.send({"type": "Connect", "sessionId": "t", "connectionCount": 0, "lastCloseReason": None,
                   "clientTs": 0})

    def send(self, m):
        self.ws.send(json.dumps(m))

    def recv(self, timeout=5):
        while True:
            m = json.loads(self.ws.recv(timeout=timeout))
            if m["type"] != "Ping":
                return m

    def close(self):
        self.ws.close()


def _add(query_id, path, args=None, base=0):
    return {"type": "ModifyQuerySet", "baseVersion": base, "newVersion": base + 1,
            "modifications": [{"type": "Add", "queryId": query_id, "udfPath": path, "args": [args or {}]}]}


def test_versions_chain_and_queries_rerun_only_when_what_they_read_changes(s):
    c = Client(s)
    c.send({"type": "Authenticate", "tokenType": "Admin", "value": KEY, "baseVersion": 0})
    job = s.store.scan("jobs", limit=1)[0]
    user = s.store.scan("users", limit=1)[0]
    c.send(_add(1, "jobs:get", {"jobId": job["_id"]}))
    t = c.recv()
    assert t["type"] == "Transition"
    assert t["startVersion"] == {"querySet": 0, "identity": 0, "ts": base64.b64encode(bytes(8)).decode()}
    # Authenticate and the query set change may arrive in one Transition or two; follow the chain.
    while t["endVersion"]["querySet"] < 1:
        nxt = c.recv()
        assert nxt["startVersion"] == t["endVersion"]
        t = nxt
    assert t["endVersion"]["identity"] == 1
    got = {m["queryId"]: m for m in t["modifications"]}
    assert got[1]["type"] == "QueryUpdated" and got[1]["value"]["_id"] == job["_id"]
    version = t["endVersion"]
    c.send(_add(2, "users:get", {"userId": user["_id"]}, base=1))
    t = c.recv()
    assert t["startVersion"] == version and t["endVersion"]["querySet"] == 2
    assert [m["queryId"] for m in t["modifications"]] == [2]
    version = t["endVersion"]

    # A write to the user re-runs only the user query; the job query read nothing that changed.
    with s.store.transaction() as tx:
        tx.patch("users", user["_id"], {"name": "Renamed by the test"})
    t = c.recv()
    assert t["startVersion"] == version and _ts(t["endVersion"]["ts"]) >= tx.ts
    assert [(m["queryId"], m["value"]["name"]) for m in t["modifications"]] == [(2, "Renamed by the test")]

    # Remove answers QueryRemoved.
    c.send({"type": "ModifyQuerySet", "baseVersion": 2, "newVersion": 3,
            "modifications": [{"type": "Remove", "queryId": 2}]})
    t = c.recv()
    assert t["modifications"] == [{"type": "QueryRemoved", "queryId": 2}]
    c.close()


def test_mutation_response_carries_its_commit_ts_then_a_transition_reaches_it(s):
    c = Client(s, "/api/sync")
    chat = s.store.scan("chats", limit=1)[0]["_id"]
    c.send(_add(0, "messages:list", {"chatId": chat, "limit": 1}))  # internal: fails until the key is shown
    assert c.recv()["modifications"][0]["type"] == "QueryFailed"
    c.send({"type": "Authenticate", "tokenType": "Admin", "value": KEY, "baseVersion": 0})
    first = c.recv()
    assert first["endVersion"]["identity"] == 1 and first["modifications"][0]["type"] == "QueryUpdated"
    c.send({"type": "Mutation", "requestId": 0, "udfPath": "messages:send",
            "args": [{"chatId": chat, "body": "over the socket", "clientMessageId": "ws-1"}]})
    response = c.recv()
    assert response["type"] == "MutationResponse" and response["success"] is True
    assert response["result"]["created"] is True
    t = c.recv()
    assert t["type"] == "Transition" and t["startVersion"] == first["endVersion"]
    assert _ts(t["endVersion"]["ts"]) >= _ts(response["ts"])
    assert t["modifications"][0]["value"]["page"][-1]["body"] == "over the socket"
    # A failing mutation: success false, the message in `result`, the ConvexError's data in errorData.
    job = s.store.scan("jobs", where="json_extract(doc,'$.status') = 'dead'", limit=1)[0]["_id"]
    c.send({"type": "Mutation", "requestId": 1, "udfPath": "console:retryJob", "args": [{"jobId": job, "reason": "x"}]})
    failed = c.recv()
    assert failed["success"] is False and failed["ts"] is None
    assert failed["errorData"]["code"] == "no_operator"  # the deploy key alone is no operator
    c.send({"type": "Action", "requestId": 2, "udfPath": "standin:echo", "args": [{"n": 2.5}]})
    action = c.recv()
    assert action["type"] == "ActionResponse" and action["success"] and action["result"]["args"] == {"n": 2.5}
    c.close()


def test_admin_acting_as_a_user_is_that_user(s):
    operator = s.store.scan("users", where="json_extract(doc,'$.role') = 'admin'", limit=1)[0]
    c = Client(s)
    c.send({"type": "Authenticate", "tokenType": "Admin", "value": KEY, "baseVersion": 0,
            "impersonating": {"subject": operator["_id"], "issuer": "https://ops-console.test"}})
    c.send(_add(0, "console:whoami"))
    mods = {}
    while 0 not in mods:
        mods.update({m["queryId"]: m for m in c.recv()["modifications"]})
    assert mods[0]["type"] == "QueryUpdated" and mods[0]["value"]["userId"] == operator["_id"]
    c.close()


@pytest.mark.parametrize("token", [
    {"tokenType": "Admin", "value": "standin|wrong"},
    {"tokenType": "User", "value": "a.b.c"},
])
def test_a_refused_token_is_an_auth_error_then_the_socket_closes(s, token):
    c = Client(s)
    c.send({"type": "Authenticate", "baseVersion": 0, **token})
    m = c.recv()
    assert m["type"] == "AuthError" and m["baseVersion"] == 0 and m["authUpdateAttempted"] is True
    assert "BadAdminKey" in m["error"] or "InvalidAuthHeader" in m["error"] or "NoAuthProvider" in m["error"]
    with pytest.raises(Exception):
        c.recv(timeout=5)


def test_a_wrong_base_version_is_a_fatal_error(s):
    c = Client(s)
    c.send(_add(0, "console:whoami", base=3))
    m = c.recv()
    assert m["type"] == "FatalError" and "Base version 3" in m["error"]


def test_a_plain_get_of_the_sync_route_is_refused_with_a_4xx(s):
    r = httpx.get(s.url + "/api/1.48.0/sync")
    assert 400 <= r.status_code < 500
