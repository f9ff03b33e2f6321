"""The official WebSocket sync clients, unmodified, against the stand-in: PyPI `convex` ConvexClient, npm
`ConvexClient` (convex/browser), and the `npx convex` commands that run over the sync protocol (`data`,
`env`, `function-spec`) in self-hosted mode."""

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.nodeenv import bin_path, node_project
from tests.standin_helpers import KEY, standin

CLIENTS = Path(__file__).parent.parent / "clients"


@pytest.fixture(scope="module")
def s():
    server = standin()
    yield server
    server.stop()


def _chat(s):
    return s.store.scan("chats", limit=1)[0]["_id"]


def _send(s, chat, body):
    """A message committed through the HTTP API (not through the client under test); returns its commit time."""
    r = httpx.post(s.url + "/api/mutation", json={"path": "messages:send", "args": {
        "chatId": chat, "body": body, "clientMessageId": body}}, timeout=10)
    assert r.json()["status"] == "success", r.text
    return time.time()


class Lines:
    """JSON lines of a child process, read on a thread (client libraries also log plain text to stdout)."""

    def __init__(self, proc):
        self.proc = proc
        self.q = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.q.put(json.loads(line))
        self.q.put(None)

    def next(self, step=None, timeout=20.0):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {step or 'line'} within {timeout} s")
            item = self.q.get(timeout=left)
            if item is None:
                raise AssertionError(f"the client exited before {step}: {self.proc.stderr.read()[-3000:]}")
            if step is None or item["step"] == step:
                return item


def test_python_convex_client_query_mutation_action_subscribe(s):
    chat = _chat(s)
    proc = subprocess.Popen([sys.executable, str(CLIENTS / "convex_py_client.py")],
                            env={**os.environ, "URL": s.url, "KEY": KEY, "CHAT": chat, "UPDATES": "3"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = Lines(proc)
        assert lines.next("anon_echo")["value"]["args"] == {"n": 1.5}
        stats = lines.next("stats")["value"]
        assert stats["dead"] == len(s.store.scan("jobs", where="json_extract(doc,'$.status') = 'dead'"))
        assert lines.next("send")["value"]["created"] is True
        bad = lines.next("bad_mutation")
        assert bad["ok"] is False and "Value does not match validator" in bad["text"]
        first = lines.next("update")
        assert first["body"] == "from the python client"  # its own mutation is in the first result
        for n in (1, 2):
            committed = _send(s, chat, f"py-update-{n}")
            update = lines.next("update", timeout=5)
            assert update["body"] == f"py-update-{n}"
            assert update["at"] - committed < 1.0, "a subscription must see a commit within a second"
        lines.next("done")
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()


def test_npm_convex_client_on_update_and_a_killed_socket(s):
    chat = _chat(s)
    project = node_project()
    proc = subprocess.Popen(["node", str(CLIENTS / "convex_ws_client.cjs")],
                            env={**os.environ, "NODE_PATH": str(project / "node_modules"), "URL": s.url, "KEY": KEY,
                                 "CHAT": chat}, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        lines = Lines(proc)
        assert lines.next("anon_echo")["value"]["args"] == {"n": 1.5}
        internal = lines.next("anon_internal")
        assert not internal["ok"] and "Could not find public function for 'users:get'." in internal["message"]
        assert lines.next("stats")["value"]["dead"] >= 1
        assert lines.next("send")["value"]["created"] is True
        bad = lines.next("bad_retry")
        assert not bad["ok"] and "ArgumentValidationError" in bad["message"]
        assert "from the npm client" in lines.next("update")["bodies"]

        committed = _send(s, chat, "npm-live")
        update = lines.next("update", timeout=5)
        assert "npm-live" in update["bodies"] and update["at"] / 1000 - committed < 1.0

        # Kill the socket mid-subscription; write while the client is away; it must come back on its own
        # and show every write, the one made while it was disconnected included.
        connections = s.server.sync.connections
        assert s.server.sync.drop_all() == 1
        _send(s, chat, "while-down")
        _send(s, chat, "while-down-2")
        deadline = time.monotonic() + 30
        while True:
            update = lines.next("update", timeout=max(0.1, deadline - time.monotonic()))
            if "while-down-2" in update["bodies"]:
                break
        assert {"npm-live", "while-down", "while-down-2"} <= set(update["bodies"])
        assert s.server.sync.connections > connections  # it reconnected
        after = _send(s, chat, "after-reconnect")
        update = lines.next("update", timeout=5)
        assert "after-reconnect" in update["bodies"] and update["at"] / 1000 - after < 1.0
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        lines.next("closed")
    finally:
        proc.kill()


@pytest.fixture(scope="module")
def cli_project(tmp_path_factory):
    project = tmp_path_factory.mktemp("cli-sync-project")
    (project / "package.json").write_text(json.dumps({"name": "p", "version": "1.0.0",
                                                      "dependencies": {"convex": "1.48.0"}}))
    (project / "node_modules").symlink_to(node_project() / "node_modules")
    return project


def _cli(s, project, *args):
    env = {**os.environ, "CONVEX_SELF_HOSTED_URL": s.url, "CONVEX_SELF_HOSTED_ADMIN_KEY": KEY,
           "CONVEX_DEPLOYMENT": "", "CONVEX_DEPLOY_KEY": ""}
    done = subprocess.run([str(bin_path("convex")), *args], cwd=project, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_npx_convex_data_lists_tables_and_documents(s, cli_project):
    tables = _cli(s, cli_project, "data").split()
    assert {"jobs", "messages", "users", "webhookDeliveries"} <= set(tables)
    newest = max(s.store.scan("jobs"), key=lambda d: d["_creationTime"])
    rows = _cli(s, cli_project, "data", "jobs", "--limit", "3", "--format", "jsonl").splitlines()
    docs = [json.loads(r) for r in rows]
    assert len(docs) == 3 and docs[0]["_id"] == newest["_id"]
    assert all("_ts" not in d for d in docs)
    orgs = _cli(s, cli_project, "data", "organization", "--component", "betterAuth", "--format", "jsonl")
    assert len(orgs.splitlines()) == s.store.count("organization", "betterAuth")


def test_npx_convex_env_set_list_get_remove(s, cli_project):
    _cli(s, cli_project, "env", "set", "OPS_CONSOLE_FLAG", "on")
    assert "OPS_CONSOLE_FLAG=on" in _cli(s, cli_project, "env", "list").splitlines()
    assert _cli(s, cli_project, "env", "get", "OPS_CONSOLE_FLAG").strip() == "on"
    _cli(s, cli_project, "env", "remove", "OPS_CONSOLE_FLAG")
    assert "OPS_CONSOLE_FLAG" not in _cli(s, cli_project, "env", "list")


def test_npx_convex_function_spec(s, cli_project):
    spec = json.loads(_cli(s, cli_project, "function-spec"))
    assert spec["url"] == s.url
    by_id = {f.get("identifier"): f for f in spec["functions"]}
    assert by_id["console.js:jobStats"]["functionType"] == "Query"
    assert by_id["console.js:retryJob"]["functionType"] == "Mutation"
    assert by_id["console.js:retryJob"]["args"]["type"] == "object"
    assert {"functionType": "HttpAction", "method": "POST", "path": "/stripe"} in spec["functions"]
