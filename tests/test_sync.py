"""Replica sync from a stand-in: complete, resumable after a kill, convergent under faults."""

import asyncio
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import text

from console.client import errors as E
from console.client.http import ConvexHttp, Deployment, RetryPolicy
from console.store.db import open_replica
from console.sync.engine import ResyncNeeded, SyncEngine
from console.sync.loop import SyncLoop
from tests.standin_helpers import KEY, replica_docs, scrubbed, server_docs, standin

FAST = RetryPolicy(attempts=8, base_delay=0.001, max_delay=0.01)


def sync_once(url, db, **kw):
    async def go():
        engine = open_replica(db)
        http = ConvexHttp(Deployment(url, KEY), retry=FAST)
        sync = SyncEngine(engine, http, **kw)
        try:
            await sync.initial_sync()
            return await sync.poll()
        finally:
            await http.aclose()
            engine.dispose()

    return asyncio.run(go())


def assert_same(store, db):
    engine = open_replica(db)
    try:
        assert replica_docs(engine) == scrubbed(server_docs(store))
    finally:
        engine.dispose()


def test_full_sync_matches_the_server_row_by_row(tmp_path):
    s = standin()
    try:
        sync_once(s.url, tmp_path / "r.sqlite")
        assert_same(s.store, tmp_path / "r.sqlite")
        engine = open_replica(tmp_path / "r.sqlite")
        with engine.connect() as c:
            # raw documents of unmodelled tables, FTS and roles index are all populated by live ingest too
            assert c.execute(text("SELECT count(*) FROM users_fts")).scalar() == 150
            assert c.execute(text("SELECT count(*) FROM user_roles WHERE role='admin'")).scalar() >= 1
            assert c.execute(text("SELECT value FROM app_meta WHERE key='mode'")).scalar() == "live"
        engine.dispose()
    finally:
        s.stop()


def test_changes_and_deletes_follow_through_deltas(tmp_path):
    s = standin()
    db = tmp_path / "r.sqlite"
    try:
        sync_once(s.url, db)
        users = s.store.scan("users", limit=3)
        with s.store.transaction() as tx:
            tx.patch("users", users[0]["_id"], {"name": "Renamed Person"})
            tx.delete("users", users[1]["_id"])
            new_id = tx.insert("users", {"email": "new@example.com", "name": "Brand New", "isActive": True})
        with s.store.transaction() as tx:  # a second revision of one document in the same poll
            tx.patch("users", new_id, {"name": "Brand Newer"})
        changes = sync_once(s.url, db)
        assert changes.tables["users"] == {users[0]["_id"], users[1]["_id"], new_id}
        assert_same(s.store, db)
        engine = open_replica(db)
        with engine.connect() as c:
            hit = c.execute(text("SELECT rowid FROM users_fts WHERE users_fts MATCH 'renamed'")).all()
            assert len(hit) == 1
            assert c.execute(text("SELECT name FROM users WHERE id=:i"), {"i": new_id}).scalar() == "Brand Newer"
        engine.dispose()
    finally:
        s.stop()


def copied(db) -> int:
    """Documents in the replica so far, read-only: watching must never touch the file being written."""
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1) as c:
            return c.execute("SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM messages) + "
                             "(SELECT count(*) FROM jobs)").fetchone()[0]
    except sqlite3.Error:  # not created yet, or mid-creation
        return 0


def test_killed_mid_sync_resumes_with_no_loss_and_no_duplicate(tmp_path):
    s = standin(latency_ms=4)
    db = tmp_path / "r.sqlite"
    env = {**os.environ, "CONVEX_DEPLOY_KEY": KEY, "OPS_CONSOLE_HOME": str(tmp_path / "home")}
    cmd = [sys.executable, "-m", "console", "sync", "--url", s.url, "--db", str(db)]
    try:
        kills = 0
        for wait_docs in (400, 4000):
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and proc.poll() is None:
                if db.exists() and copied(db) >= wait_docs:
                    break
                time.sleep(0.02)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait()
        assert kills >= 1, "the sync finished before it could be killed; slow the stand-in down"
        with s.store.transaction() as tx:  # the world moves on while the console is down
            tx.insert("users", {"email": "while-down@example.com", "name": "While Down", "isActive": True})
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert_same(s.store, db)
    finally:
        s.stop()


def test_converges_with_twenty_percent_injected_faults(tmp_path):
    from console.demo.generator import DemoSizes

    s = standin(fault_rate=0.2, sizes=DemoSizes(users=300, messages=8000, jobs=3000))
    s.state.faults.slow_ms = 30
    db = tmp_path / "r.sqlite"
    try:
        async def go():
            engine = open_replica(db)
            http = ConvexHttp(Deployment(s.url, KEY), retry=FAST,
                              timeout=httpx.Timeout(connect=2, read=5, write=5, pool=5))
            sync = SyncEngine(engine, http)
            cancel = asyncio.Event()
            loop = SyncLoop(sync, interval=0.01, offline_max=0.05)
            for _ in range(50):  # the loop keeps going through whatever the retries did not absorb
                await loop.run(cancel, follow=False)
                if sync.status()["live"]:
                    with s.store.transaction() as tx:
                        tx.insert("jobs", {"key": "late", "type": "sms.send", "status": "pending"})
                    break
            for _ in range(50):
                await loop.run(cancel, follow=False)
                with engine.connect() as c:
                    if c.execute(text("SELECT count(*) FROM jobs WHERE key='late'")).scalar():
                        break
            await http.aclose()
            engine.dispose()

        asyncio.run(go())
        requests = s.state.requests
        assert s.state.faults.injected >= 3 and requests > 25, (s.state.faults.injected, requests)
        assert_same(s.store, db)
    finally:
        s.stop()


def test_expired_cursor_triggers_a_full_resync(tmp_path):
    s = standin(retention_ns=10**6)  # 1 ms
    db = tmp_path / "r.sqlite"
    states = []
    try:
        sync_once(s.url, db)
        users = s.store.scan("users", limit=1)
        with s.store.transaction() as tx:
            tx.delete("users", users[0]["_id"])
        time.sleep(0.01)
        s.store.prune()  # everything older than 1 ms is beyond retention now

        async def go():
            engine = open_replica(db)
            http = ConvexHttp(Deployment(s.url, KEY), retry=FAST)
            sync = SyncEngine(engine, http)
            with pytest.raises(ResyncNeeded, match="InvalidWindowToReadDocuments"):
                await sync.poll()
            await SyncLoop(sync, on_state=states.append).run(asyncio.Event(), follow=False)  # resync...
            await SyncLoop(sync, on_state=states.append).run(asyncio.Event(), follow=False)  # ...and rebuild
            await http.aclose()
            engine.dispose()

        asyncio.run(go())
        assert any(st.status == "resync" and "Rebuilding" in st.message for st in states)
        assert_same(s.store, db)
    finally:
        s.stop()


def test_on_demand_tables_are_not_replicated_but_reported(tmp_path):
    s = standin()
    db = tmp_path / "r.sqlite"
    try:
        sync_once(s.url, db, on_demand={("", "messages")})
        chat = s.store.scan("chats", limit=1)[0]
        with s.store.transaction() as tx:
            msg = tx.insert("messages", {"chatId": chat["_id"], "role": "user", "body": "hi", "createdAt": 1})
        changes = sync_once(s.url, db, on_demand={("", "messages")})
        assert changes.tables["messages"] == {msg}
        engine = open_replica(db)
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM messages")).scalar() == 0
            assert c.execute(text("SELECT phase FROM sync_state WHERE table_name='messages'")).scalar() == "on_demand"
        engine.dispose()
    finally:
        s.stop()


@pytest.mark.parametrize("page", [{"values": "nope", "snapshot": 1}, {"values": [{"no_id": 1}], "snapshot": 1},
                                  {"values": [], "hasMore": True, "cursor": None, "snapshot": 5}, ["not", "a", "dict"]])
def test_malformed_pages_are_clear_errors_and_lose_nothing(tmp_path, page):
    schemas = {"": {"users": {}}}

    def handler(request):
        if request.url.path.endswith("json_schemas"):
            return httpx.Response(200, json=schemas)
        return httpx.Response(200, json=page)

    async def go():
        engine = open_replica(tmp_path / "r.sqlite")
        http = ConvexHttp(Deployment("https://x.convex.cloud", KEY), transport=httpx.MockTransport(handler), retry=FAST)
        sync = SyncEngine(engine, http)
        with pytest.raises(E.MalformedResponse, match="list_snapshot"):
            await sync.initial_sync()
        with engine.connect() as c:
            assert c.execute(text("SELECT phase FROM sync_state WHERE table_name='users'")).scalar() == "snapshot"
        await http.aclose()
        engine.dispose()

    asyncio.run(go())


def test_headless_sync_exit_codes(tmp_path):
    from console.sync.headless import run_sync

    s = standin(export_enabled=False, seed="empty")
    try:
        import io

        out = io.StringIO()
        assert run_sync(s.url, KEY, tmp_path / "a.sqlite", out=out) == 4
        assert "Pro plan" in out.getvalue()
        assert run_sync(s.url, "standin|bad", tmp_path / "b.sqlite", out=io.StringIO()) == 3
        assert run_sync(s.url, None, tmp_path / "c.sqlite", out=io.StringIO()) == 2
        assert run_sync("http://127.0.0.1:9", KEY, tmp_path / "d.sqlite", out=io.StringIO()) == 5
    finally:
        s.stop()
