"""Every write path says what it wrote (a ChangeSet), and another process's commit is noticed (data_version)."""

import asyncio
import subprocess
import sys
import threading

from sqlalchemy import text

from console.changes import ANY, ChangeSet, DataVersion
from console.client.http import ConvexHttp, Deployment
from console.store.db import open_replica
from console.store.jobs import JobQuery
from console.store.jobstore import LocalJobStore
from console.store.roles import LocalRoleStore
from console.store.webhooks import record_replay
from console.sync.engine import SyncEngine
from console.webhooks.ingest import delivery_doc, store_changes
from console.webhooks.reverify import reverify_changes
from console.webhooks.secrets import WebhookSecrets
from console.secrets import SecretStore
from tests.standin_helpers import KEY, standin


def test_change_set_merges_and_answers_touches():
    a = ChangeSet({"jobs": ["j1"]})
    a.merge(ChangeSet({"jobs": ["j2"], "users": ["u1"]}))
    assert a.tables == {"jobs": {"j1", "j2"}, "users": {"u1"}}
    assert a.touches("jobs") and a.touches("jobs", ["j2"]) and not a.touches("jobs", ["j3"])
    assert not a.touches("sessions") and not a.touches("sessions", ["s"])
    assert a.count() == 3 and "users" in a and a.get("users") == frozenset({"u1"})
    whole = ChangeSet(whole=["jobs"])
    assert whole.touches("jobs", ["anything"]) and not whole.touches("users")
    assert ChangeSet.everything().touches("users", ["x"]) and ANY in ChangeSet.everything().whole
    assert not ChangeSet() and ChangeSet.of("users", ["u"])


def test_data_version_notices_another_process_commit(demo_db):
    version = DataVersion(demo_db)
    try:
        assert not version.changed()
        code = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                "c.execute('CREATE TABLE IF NOT EXISTS elsewhere (x)'); c.execute('INSERT INTO elsewhere VALUES (1)'); "
                "c.commit()")
        subprocess.run([sys.executable, "-c", code, str(demo_db)], check=True)
        assert version.changed()
        assert not version.changed()  # once per commit
    finally:
        version.close()


def test_a_capture_commit_right_before_one_of_ours_is_not_lost(demo_db):
    """data_version cannot tell whose commit it was: one of ours since the last look hides a foreign one,
    unless the foreign writer touched the marker (ops-console capture and sync do, after each commit)."""
    from console.changes import note_foreign_write

    version = DataVersion(demo_db)
    try:
        code = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                "c.execute('CREATE TABLE IF NOT EXISTS elsewhere (x)'); c.execute('INSERT INTO elsewhere VALUES (1)'); "
                "c.commit()")
        subprocess.run([sys.executable, "-c", code, str(demo_db)], check=True)
        version.mark_own()  # we wrote too, before the poll
        assert not version.changed()  # an unmarked foreign commit hides behind ours
        subprocess.run([sys.executable, "-c", code + "; from console.changes import note_foreign_write; "
                        "note_foreign_write(sys.argv[1])", str(demo_db)], check=True)
        version.mark_own()
        assert version.changed() and not version.changed()  # the marked one is seen, once
    finally:
        version.close()
    note_foreign_write(demo_db)  # (a replica in a read-only folder only loses the marker: never raises)


def test_local_job_operations_say_what_they_wrote(engine, demo_db):
    with engine.connect() as c:
        dead = c.execute(text("SELECT id FROM jobs WHERE status = 'dead' LIMIT 2")).scalars().all()
        admin = c.execute(text("SELECT id FROM users WHERE role = 'admin' AND is_active LIMIT 1")).scalar()
    store = LocalJobStore(engine)
    store.retry(dead[0], admin, "test")
    assert store.changes.get_ids("jobs") == {dead[0]} and len(store.changes.get_ids("audit_logs")) == 1
    bulk = LocalJobStore(engine)
    r = bulk.retry_many(JobQuery(status="dead"), 5, admin, "test")
    assert len(bulk.changes.get_ids("jobs")) == r["retried"] > 0 and bulk.changes.get_ids("audit_logs")
    with engine.connect() as c:
        assert {c.execute(text("SELECT status FROM jobs WHERE id = :i"), {"i": i}).scalar()
                for i in bulk.changes.get_ids("jobs")} == {"pending"}
    worker = LocalJobStore(engine)
    worker.enqueue("k:test", "email.send", {})
    worker.work_once()
    assert worker.changes.get_ids("jobs")
    with engine.connect() as c:  # every id named is a job that is there
        found = c.execute(text("SELECT count(*) FROM jobs WHERE id IN (%s)" % ",".join(
            f"'{i}'" for i in worker.changes.get_ids("jobs")))).scalar()
    assert found == len(worker.changes.get_ids("jobs"))


def test_local_role_operations_say_what_they_wrote(engine):
    with engine.connect() as c:
        admin = c.execute(text("SELECT id FROM users WHERE role = 'admin' AND is_active LIMIT 1")).scalar()
        user, ts = c.execute(text("SELECT id, ts FROM users WHERE role = 'user' AND is_active LIMIT 1")).one()
    store = LocalRoleStore(engine)
    store.set_user_active(user, False, admin, "test", ts)
    assert store.changes.get_ids("users") == {user} and len(store.changes.get_ids("audit_logs")) == 1


def test_imports_verdicts_and_replays_say_what_they_wrote(engine):
    doc = delivery_doc("http://x/hook", "POST", {"stripe-signature": "t=1,v1=00"}, b"{}", 1_790_000_000_000, "test")
    imported = store_changes(engine, [doc])
    assert imported.get_ids("webhook_deliveries") == {doc["_id"]}
    verdicts = reverify_changes(engine, WebhookSecrets(SecretStore()), only=[doc["_id"]])
    assert verdicts.get_ids("delivery_verdicts") == {doc["_id"]}
    replay = record_replay(engine, doc["_id"], "http://127.0.0.1:9/x", "resign", 200, 1.0, "ok", "")
    assert replay.get_ids("webhook_deliveries") == {doc["_id"]} and len(replay.get_ids("replay_attempts")) == 1


def test_sync_pages_go_through_the_writer_and_say_what_they_wrote(tmp_path):
    s = standin()
    engine = open_replica(tmp_path / "r.sqlite")
    threads: set[str] = set()

    async def on_writer(fn):
        threads.add(threading.current_thread().name)
        return await asyncio.get_running_loop().run_in_executor(None, fn)

    async def go():
        http = ConvexHttp(Deployment(s.url, KEY))
        announced = ChangeSet()
        sync = SyncEngine(engine, http, on_changes=announced.merge, read=on_writer, write=on_writer)
        try:
            await sync.initial_sync()
            await sync.poll()
            target = s.store.scan("users", limit=1)[0]
            with s.store.transaction() as tx:
                tx.patch("users", target["_id"], {"name": "Changed"})
            changes = await sync.poll()
            return announced, changes, target["_id"]
        finally:
            await http.aclose()

    try:
        announced, changes, target = asyncio.run(go())
        assert changes.tables == {"users": {target}}
        assert announced.get_ids("users") and target in announced.get_ids("users")
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM users")).scalar() == len(announced.get_ids("users"))
    finally:
        engine.dispose()
        s.stop()
