"""The official Convex clients, unmodified, against `ops-console standin`, in normal and production mode:
npm `convex` ConvexHttpClient, PyPI `convex` ConvexHttpClient, `npx convex run` and `npx convex logs`
(self-hosted), and `airbyte-source-convex` (tests/test_airbyte.py)."""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from console.convex.ids import decode_id, encode_id

from tests.nodeenv import bin_path, node_project
from tests.standin_helpers import KEY, standin

SCRIPT = Path(__file__).parent / "clients" / "convex_http_client.cjs"
REDACTED = "] Server Error"


@pytest.fixture(scope="module", params=["normal", "production"])
def deployment(request):
    s = standin(production=request.param == "production")
    yield s, request.param == "production"
    s.stop()


def _ids(s):
    operator = s.store.scan("users", where="json_extract(doc,'$.role') = 'admin' AND "
                                           "json_extract(doc,'$.isActive') IS NOT 0", limit=1)[0]["_id"]
    job = s.store.scan("jobs", where="json_extract(doc,'$.status') = 'dead'", limit=1)[0]["_id"]
    chat = s.store.scan("chats", limit=1)[0]["_id"]
    return operator, job, chat


def test_npm_http_client_query_mutation_action_consistent_query(deployment):
    s, production = deployment
    operator, job, chat = _ids(s)
    project = node_project()
    env = {**os.environ, "NODE_PATH": str(project / "node_modules"), "URL": s.url, "KEY": KEY,
           "OPERATOR": operator, "JOB": job, "CHAT": chat,
           "MISSING_JOB": encode_id(decode_id(job)[0], bytes(16))}  # a valid jobs id no document has
    done = subprocess.run(["node", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)

    # The console contract is internal: without the deploy key it is "not found", like a missing function.
    for name, path in (("anon_whoami", "console:whoami"), ("anon_retry", "console:retryJob")):
        assert not out[name]["ok"] and out[name]["data"] is None
        if production:
            assert out[name]["message"].endswith(REDACTED)
        else:
            assert f"Could not find public function for '{path}'." in out[name]["message"]
    # An internal function is "not found" to anyone without the key.
    assert not out["anon_internal"]["ok"]
    if production:
        assert out["anon_internal"]["message"].endswith(REDACTED)
    else:
        assert "Could not find public function for 'users:get'." in out["anon_internal"]["message"]
    assert out["anon_send"]["ok"] and out["anon_send"]["value"]["created"] is True
    assert out["anon_action"] == {"ok": True, "value": {"args": {"n": 1.5}, "at": out["anon_action"]["value"]["at"]}}

    stats = out["admin_stats"]
    assert stats["ok"] and stats["value"]["dead"] >= 1
    assert out["admin_get"]["ok"] and out["admin_get"]["value"]["_id"] == operator
    assert "_ts" not in out["admin_get"]["value"]  # functions never see `_ts`
    assert out["admin_consistent"]["ok"] and out["admin_consistent"]["value"] == stats["value"]
    assert out["admin_enqueue"]["ok"] and out["admin_enqueue"]["value"]["created"] is True
    # An Int64 argument comes back an Int64 (a bigint), a number a number.
    assert out["admin_action"]["ok"] and out["admin_action"]["value"]["args"] == {"big": "1234567890123n", "f": 2}
    assert not out["admin_action_on_mutation"]["ok"]
    missing = out["admin_missing"]["message"]
    if production:
        assert missing.endswith(REDACTED) and "\n" not in missing
        assert not out["admin_action_on_mutation"]["message"].count("Trying")
    else:
        assert "Trying to execute jobs.js:enqueue as Action, but it is defined as Mutation." in \
            out["admin_action_on_mutation"]["message"]
        assert "Could not find public function for 'nope:nothing'." in missing

    assert out["acting_whoami"]["ok"] and out["acting_whoami"]["value"]["userId"] == operator
    assert out["acting_retry"]["ok"] and out["acting_retry"]["value"]["status"] in ("pending", "retrying")
    # A ConvexError's data arrives whole, in production too.
    assert out["acting_refused"]["name"] == "ConvexError" and out["acting_refused"]["data"]["code"] == "not_found"
    assert s.store.get("jobs", job)["status"] in ("pending", "retrying")


def test_python_http_client_reads_documents_and_writes(deployment):
    from convex import ConvexError
    from convex.http_client import ConvexExecutionError, ConvexHttpClient

    s, production = deployment
    operator, job, chat = _ids(s)
    admin = ConvexHttpClient(s.url)
    admin.set_admin_auth(KEY)
    user = admin.query("users:get", {"userId": operator})  # whole-number floats used to break this client
    assert user["_id"] == operator and isinstance(user["_creationTime"], float)
    page = admin.query("messages:list", {"chatId": chat, "limit": 5.0})
    assert all(isinstance(m["createdAt"], float) for m in page["page"])
    assert admin.mutation("jobs:enqueue", {"key": "py-key-1", "type": "sms.send"})["created"] is True
    anon = ConvexHttpClient(s.url)
    assert anon.mutation("messages:send", {"chatId": chat, "body": "from python"})["created"] is True
    with pytest.raises(ConvexExecutionError):  # internal: "not found" without the key
        anon.mutation("console:retryJob", {"jobId": job, "reason": "x"})
    with pytest.raises(ConvexError) as refused:  # the key but no operator identity: refused with its data
        admin.mutation("console:retryJob", {"jobId": job, "reason": "x"})
    assert refused.value.data["code"] == "no_operator"
    with pytest.raises(ConvexExecutionError) as missing:
        anon.query("users:get", {"userId": operator})
    assert str(missing.value).endswith(REDACTED) if production else "Could not find public function" in \
        str(missing.value)


def _cli_env(s):
    return {**os.environ, "CONVEX_SELF_HOSTED_URL": s.url, "CONVEX_SELF_HOSTED_ADMIN_KEY": KEY,
            "CONVEX_DEPLOYMENT": "", "CONVEX_DEPLOY_KEY": ""}


@pytest.fixture(scope="module")
def cli_project(tmp_path_factory):
    """A folder the CLI accepts as a Convex project: package.json naming convex, node_modules linked."""
    project = tmp_path_factory.mktemp("cli-project")
    (project / "package.json").write_text(json.dumps({"name": "p", "version": "1.0.0",
                                                      "dependencies": {"convex": "1.48.0"}}))
    (project / "node_modules").symlink_to(node_project() / "node_modules")
    return project


def test_npx_convex_run_self_hosted(deployment, cli_project):
    s, production = deployment
    run = subprocess.run([str(bin_path("convex")), "run", "jobs:stats", "{}"], cwd=cli_project, env=_cli_env(s),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout)["dead"] >= 1
    enq = subprocess.run([str(bin_path("convex")), "run", "jobs:enqueue", json.dumps({"key": "cli-1", "type": "x"})],
                         cwd=cli_project, env=_cli_env(s), capture_output=True, text=True, timeout=120)
    assert enq.returncode == 0 and json.loads(enq.stdout)["created"] is True, enq.stdout + enq.stderr
    bad = subprocess.run([str(bin_path("convex")), "run", "nope:nothing"], cwd=cli_project, env=_cli_env(s),
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0
    assert ("Server Error" in bad.stderr) if production else ("Could not find public function" in bad.stderr)


def test_npx_convex_logs_self_hosted_shows_completions(deployment, cli_project):
    """`convex logs --success` prints a line per completion; it needs `kind: "Completion"` to print any."""
    s, _ = deployment
    from convex.http_client import ConvexExecutionError, ConvexHttpClient

    admin = ConvexHttpClient(s.url)
    admin.set_admin_auth(KEY)
    admin.query("jobs:stats")
    with pytest.raises(ConvexExecutionError):
        admin.query("nope:missing")
    proc = subprocess.Popen([str(bin_path("convex")), "logs", "--success", "--history", "50"], cwd=cli_project,
                            env=_cli_env(s), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if "Q(nope:missing)" in line:
                break
    finally:
        proc.kill()
        proc.wait(timeout=10)
    text = "".join(seen)
    assert "Q(jobs:stats)] Function executed in" in text, text
    assert "Q(nope:missing)] Could not find public function for 'nope:missing'." in text, text
