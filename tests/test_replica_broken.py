"""Broken replicas give a typed error with a clear message, never a raw traceback; demo data is written
to a temporary file and renamed into place, so an interrupted run leaves nothing that opens."""

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from console.store.db import (ReplicaBroken, ReplicaError, ReplicaNotWritable, get_meta, move_aside,
                              open_replica)


@contextlib.contextmanager
def read_only(folder):
    """A folder nobody may write, root included (chattr +i where it works, else chmod)."""
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("running as root where chattr +i is unavailable: cannot make a read-only folder")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)


def _truncated(path):
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(size // 2)


def _corrupt(path):
    with open(path, "r+b") as fh:
        fh.seek(100)
        fh.write(os.urandom(3 * 4096))


def _bad_version(path):
    with sqlite3.connect(path) as c:
        c.execute("UPDATE app_meta SET value='five' WHERE key='schema_version'")


def _garbage(path):
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(5000))


@pytest.mark.parametrize("damage, match", [(_truncated, "truncated"), (_corrupt, "damaged"),
                                           (_bad_version, "schema_version"), (_garbage, "damaged|truncated")])
def test_a_damaged_replica_is_a_typed_error_with_advice(demo_db, damage, match):
    damage(demo_db)
    with pytest.raises(ReplicaBroken, match=match) as info:
        open_replica(demo_db)
    assert str(demo_db) in str(info.value)


def test_a_folder_is_not_a_replica(tmp_path):
    with pytest.raises(ReplicaNotWritable, match="folder"):
        open_replica(tmp_path)


def test_a_read_only_folder_is_a_typed_error(tmp_path, demo_db):
    folder = tmp_path / "ro"
    folder.mkdir()
    shutil.copy(demo_db, folder / "demo.sqlite")
    with read_only(folder):
        with pytest.raises(ReplicaNotWritable, match="Cannot write"):
            open_replica(folder / "new.sqlite")
        with pytest.raises(ReplicaNotWritable, match="Cannot write"):
            open_replica(folder / "demo.sqlite")
        with pytest.raises(ReplicaNotWritable):
            open_replica(folder / "sub" / "new.sqlite")


def test_moving_a_broken_replica_aside_keeps_it(demo_db):
    _corrupt(demo_db)
    before = demo_db.read_bytes()
    moved = move_aside(demo_db)
    assert not demo_db.exists() and moved.name.startswith("demo.sqlite.broken-") and moved.read_bytes() == before
    open_replica(demo_db).dispose()  # a fresh one opens in its place


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "console", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_demo_data_force_replaces_a_corrupt_replica(tmp_path):
    out = tmp_path / "demo.sqlite"
    out.write_bytes(b"SQLite format 3\x00" + b"\x00" * 300)  # what an interrupted copy leaves
    refused = _cli("demo-data", "--db", str(out), "--users", "20", "--messages", "50", "--jobs", "30")
    assert refused.returncode == 2 and "--force" in refused.stderr and "Traceback" not in refused.stderr
    done = _cli("demo-data", "--db", str(out), "--users", "20", "--messages", "50", "--jobs", "30", "--force")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    eng = open_replica(out)
    with eng.connect() as c:
        assert get_meta(c, "mode") == "demo"
    eng.dispose()
    assert list(tmp_path.glob("demo.sqlite.broken-*"))  # the broken file was moved aside, not deleted


def test_an_interrupted_demo_data_leaves_nothing_that_opens(tmp_path, monkeypatch):
    from console.demo import generator

    out = tmp_path / "demo.sqlite"
    calls = []

    def boom(*a, **k):
        calls.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(generator.DemoGenerator, "chat_docs", boom)
    with pytest.raises(KeyboardInterrupt):
        generator.generate(out, generator.DemoSizes(users=20, messages=50, jobs=30))
    assert calls and not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_a_killed_demo_data_leaves_nothing_that_opens_as_live(tmp_path):
    """kill -9 half-way: the target never exists before it is complete; the temporary file says demo."""
    out = tmp_path / "demo.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "console", "demo-data", "--db", str(out), "--users", "3000",
                             "--messages", "200000", "--jobs", "1000"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        # Kill once the generator has started writing rows (its progress line), well before it finishes.
        proc.stderr.read(20)
    finally:
        proc.kill()
        proc.wait()
    assert not out.exists()
    for leftover in tmp_path.iterdir():
        try:
            eng = open_replica(leftover, create=False)
        except ReplicaError:
            continue
        with eng.connect() as c:
            assert get_meta(c, "mode") == "demo"
        eng.dispose()
