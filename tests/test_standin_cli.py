"""`ops-console standin`: the key never has to be on the command line, every option says what it does."""

import os
import subprocess
import sys

import httpx

from console.cli import STANDIN_KEY_ENV


def _start(args, env=None):
    proc = subprocess.Popen([sys.executable, "-m", "console", "standin", "--port", "0", "--no-worker",
                             "--seed", "empty", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    line = proc.stdout.readline()
    assert line.startswith("Stand-in deployment at "), line + proc.stderr.read()
    url = line.split()[3]
    rest = [proc.stdout.readline() for _ in range(2)]
    return proc, url, line + "".join(rest)


def _stop(proc):
    proc.terminate()
    proc.wait(timeout=10)


def _works(url, key):
    r = httpx.post(url + "/api/function", json={"path": "jobs:stats", "args": {}},
                   headers={"Authorization": f"Convex {key}"})
    return r.status_code == 200 and r.json()["status"] == "success"


def test_admin_key_from_a_file_or_the_environment_is_not_printed(tmp_path):
    key = "standin|from-a-file-0123456789"
    (tmp_path / "key").write_text(key + "\n")
    proc, url, out = _start(["--admin-key-file", str(tmp_path / "key")])
    try:
        assert _works(url, key) and key not in out
    finally:
        _stop(proc)
    proc, url, out = _start([], env={STANDIN_KEY_ENV: "standin|from-env-42"})
    try:
        assert _works(url, "standin|from-env-42") and "from-env-42" not in out
    finally:
        _stop(proc)


def test_admin_key_on_the_command_line_still_works_with_a_warning():
    proc, url, out = _start(["--admin-key", "standin|argv-key", "--production"])
    try:
        assert _works(url, "standin|argv-key") and "production mode" in out
        r = httpx.post(url + "/api/query", json={"path": "nope:x", "args": {}})
        assert r.json()["errorMessage"].endswith("] Server Error")
    finally:
        _stop(proc)
        assert "process list" in proc.stderr.read()


def test_help_describes_every_option_with_its_default():
    text = subprocess.run([sys.executable, "-m", "console", "standin", "--help"], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"}).stdout
    for option in ("--host", "--port", "--db", "--seed", "--admin-key-file", "--admin-key", "--production",
                   "--fault-rate", "--latency-ms", "--failure-rate", "--no-worker"):
        line = next(x for x in text.splitlines() if x.strip().startswith(option))
        assert len(line.split(None, 2)) >= 2, line
    assert "(default: 127.0.0.1)" in text and "(default: 8187)" in text and "(default: demo)" in text
    assert "process list" in text and STANDIN_KEY_ENV in text


def test_a_standin_process_for_the_gui_is_ready_without_blocking_and_keeps_its_key_off_the_command_line():
    from console.standin.process import StandinProcess

    s = StandinProcess.start_blocking("--no-worker", "--seed", "empty")
    try:
        assert _works(s.url, s.admin_key)
        with open(f"/proc/{s.proc.pid}/cmdline", "rb") as f:
            assert s.admin_key.encode() not in f.read()
        assert s.admin_key not in s.log.read_text()  # a key it was handed is not printed either
    finally:
        s.stop()
    assert s.proc.returncode is not None and not s.folder.exists()


def test_a_standin_that_cannot_start_says_why():
    import pytest

    from console.standin.process import StandinProcess, StandinStartError

    with pytest.raises(StandinStartError, match="stopped as it started"):
        StandinProcess.start_blocking("--seed", "no-such-seed")
