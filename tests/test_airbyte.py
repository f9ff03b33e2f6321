"""Airbyte's `airbyte-source-convex`, unmodified, against the stand-in: check, discover, read.

The connector pins airbyte-cdk 0.80 (and with it pydantic 1 and old requests), which clashes with the
suite's own packages, so it lives in its own venv, created once per pinned version into the test cache
(~/.cache/ops-console/airbyte-source-convex-<version>) from PyPI. An install failure fails the test.
"""

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.nodeenv import _cache_root
from tests.standin_helpers import KEY, standin

VERSION = "0.4.51"


def _python() -> str:
    """The connector supports Python 3.9 to 3.11: this interpreter if it is one, else python3.11 on PATH."""
    if (3, 9) <= sys.version_info[:2] <= (3, 11):
        return sys.executable
    for name in ("python3.11", "python3.10", "python3.9"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("airbyte-source-convex needs Python 3.9-3.11 and none is on PATH")


def connector() -> Path:
    """The `source-convex` executable of a venv holding airbyte-source-convex==VERSION."""
    target = _cache_root() / f"airbyte-source-convex-{VERSION}"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"airbyte-source-convex-{VERSION}.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        exe = target / "bin" / "source-convex"
        if (target / ".installed").exists() and exe.exists():
            return exe
        subprocess.run([_python(), "-m", "venv", "--clear", str(target)], check=True, timeout=300)
        done = subprocess.run([str(target / "bin" / "pip"), "install", "-q", f"airbyte-source-convex=={VERSION}"],
                              capture_output=True, text=True, timeout=900)
        if done.returncode != 0 or not exe.exists():
            pytest.fail(f"could not install airbyte-source-convex=={VERSION}:\n{done.stdout[-3000:]}"
                        f"\n{done.stderr[-3000:]}")
        (target / ".installed").write_text(VERSION)
    return exe


def _messages(exe: Path, *args: str, cwd: Path) -> list[dict]:
    done = subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    out = []
    for line in done.stdout.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    assert out, f"no Airbyte messages (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return out


@pytest.fixture(scope="module", params=["normal", "production"])
def deployment(request):
    s = standin(production=request.param == "production")
    yield s
    s.stop()


def test_airbyte_check_discover_read(deployment, tmp_path):
    s = deployment
    exe = connector()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"deployment_url": s.url, "access_key": KEY}))

    check = [m for m in _messages(exe, "check", "--config", str(config), cwd=tmp_path) if m["type"] == "CONNECTION_STATUS"]
    assert check and check[0]["connectionStatus"]["status"] == "SUCCEEDED", check

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"deployment_url": s.url, "access_key": "prod:wrong|key"}))
    refused = [m for m in _messages(exe, "check", "--config", str(bad), cwd=tmp_path) if m["type"] == "CONNECTION_STATUS"]
    assert refused[0]["connectionStatus"]["status"] == "FAILED" and "BadAdminKey" in \
        refused[0]["connectionStatus"]["message"]

    catalog = [m for m in _messages(exe, "discover", "--config", str(config), cwd=tmp_path) if m["type"] == "CATALOG"]
    streams = {st["name"]: st for st in catalog[0]["catalog"]["streams"]}
    assert {"users", "jobs", "messages", "chats"} <= set(streams)
    users_schema = streams["users"]["json_schema"]
    assert users_schema["properties"]["_id"] == {"$description": "Id(users)", "type": "string"}
    assert users_schema["properties"]["_ts"] == {"type": "integer"}  # deltaSchema=true

    configured = {"streams": [{"stream": streams[name], "sync_mode": "incremental", "destination_sync_mode": "append",
                               "cursor_field": ["_ts"], "primary_key": [["_id"]]} for name in ("users", "jobs")]}
    (tmp_path / "catalog.json").write_text(json.dumps(configured))
    read = _messages(exe, "read", "--config", str(config), "--catalog", str(tmp_path / "catalog.json"), cwd=tmp_path)
    records = [m["record"] for m in read if m["type"] == "RECORD"]
    by_stream: dict[str, list] = {}
    for r in records:
        by_stream.setdefault(r["stream"], []).append(r["data"])
    assert len(by_stream["users"]) == s.store.count("users")
    assert len(by_stream["jobs"]) == s.store.count("jobs")
    assert all(isinstance(r["_ts"], int) for r in by_stream["users"])
    states = [m for m in read if m["type"] == "STATE"]
    assert states, "an incremental read checkpoints its cursor"
