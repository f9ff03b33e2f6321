"""The backend interface behaves alike in its two implementations: the demo's local store and a deployment
(the stand-in, which checks every argument with the contract's validators). Same actions, same answers:
accepted actions change the data, refusals raise Refused with the reason, bulk actions collect refusals."""

import asyncio

import pytest
from sqlalchemy import text

from console.backend.base import Refused
from console.backend.deployment import DeploymentBackend
from console.backend.local import LocalBackend
from console.client.client import ConvexClient
from console.client.http import ConvexHttp, Deployment
from console.store.db import open_replica
from console.store.jobs import JobQuery
from console.sync.engine import SyncEngine, inline
from tests.standin_helpers import KEY, standin


@pytest.fixture(scope="module")
def served():
    s = standin()
    yield s
    s.stop()


def replica_of(s, path):
    engine = open_replica(path)

    async def go():
        http = ConvexHttp(Deployment(s.url, KEY))
        try:
            sync = SyncEngine(engine, http)
            await sync.initial_sync()
            await sync.poll()
        finally:
            await http.aclose()

    asyncio.run(go())
    return engine


def run_both(s, tmp_path, scenario):
    """`scenario(backend, read)` against a local replica of the stand-in and against the stand-in itself."""
    admin = s.store.scan("users", where="json_extract(doc,'$.role') = 'admin' AND json_extract(doc,'$.isActive') = 1",
                         limit=1)[0]
    engine = replica_of(s, tmp_path / "r.sqlite")
    out = {}
    try:
        local = LocalBackend(engine, read=inline, write=inline, operator=lambda: admin["_id"])

        def local_doc(table, doc_id):
            with engine.connect() as c:
                row = c.execute(text(f"SELECT doc FROM {table} WHERE id = :i"), {"i": doc_id}).scalar()
            import json
            return json.loads(row)

        out["local"] = asyncio.run(scenario(local, local_doc, engine))

        async def remote():
            client = ConvexClient(Deployment(s.url, KEY))
            try:
                backend = DeploymentBackend(engine, client, read=inline, write=inline, operator=lambda: admin["_id"],
                                            identity=lambda: {"subject": admin["_id"], "issuer": "ops-console",
                                                              "email": admin["email"]})
                return await scenario(backend, lambda table, doc_id: s.store.get(
                    {"jobs": "jobs", "users": "users"}[table], doc_id), engine)
            finally:
                await client.aclose()

        out["deployment"] = asyncio.run(remote())
    finally:
        engine.dispose()
    return out


def test_retry_and_cancel_alike(served, tmp_path):
    dead = served.store.scan("jobs", where="json_extract(doc,'$.status') = 'dead'", limit=2)
    done = served.store.scan("jobs", where="json_extract(doc,'$.status') = 'succeeded'", limit=1)
    assert len(dead) == 2 and done

    async def scenario(backend, doc, engine):
        outcome = await backend.retry([dead[0]["_id"]], "test")
        status = doc("jobs", dead[0]["_id"])["status"]
        with pytest.raises(Refused):  # a job that succeeded is not retried
            await backend.retry([done[0]["_id"]], "test")
        bulk = await backend.retry([done[0]["_id"], dead[1]["_id"]], "test")  # one refused, one done: collected
        return status, outcome.changes.get_ids("jobs"), bulk.message.split(";")[0]

    both = run_both(served, tmp_path, scenario)
    assert both["local"][0] == both["deployment"][0] == "pending"
    assert both["local"][1] == {dead[0]["_id"]}  # the local store says what it wrote
    assert both["deployment"][1] == set()  # the deployment's change comes back through the sync
    assert both["local"][2] == both["deployment"][2] == "Retry: 1 of 2 jobs"


def test_set_active_alike_and_stale_views_refused(served, tmp_path):
    users = served.store.scan("users", where="json_extract(doc,'$.role') = 'user' AND json_extract(doc,'$.isActive') = 1",
                              limit=2)

    async def scenario(backend, doc, engine):
        target = users[0 if isinstance(backend, LocalBackend) else 1]["_id"]
        with engine.connect() as c:
            ts = c.execute(text("SELECT ts FROM users WHERE id = :i"), {"i": target}).scalar()
        with pytest.raises(Refused) as stale:
            await backend.set_active(target, False, "test", ts - 1)
        outcome = await backend.set_active(target, False, "support case 1", ts)
        return doc("users", target)["isActive"], outcome.changes.get_ids("users"), str(stale.value)

    both = run_both(served, tmp_path, scenario)
    assert both["local"][0] is False and both["deployment"][0] is False
    assert both["local"][1] == {users[0]["_id"]} and both["deployment"][1] == set()
    assert "Refresh" in both["local"][2] and "Refresh" in both["deployment"][2]


def test_retry_matching_and_chat_pages_alike(served, tmp_path):
    chat = served.store.scan("chats", limit=1)[0]

    async def scenario(backend, doc, engine):
        outcome = await backend.retry_matching(JobQuery(status="dead"), 3, "incident")
        page = await backend.chat_page(chat["_id"], 5)
        return outcome.message, [m.id for m in page.messages]

    both = run_both(served, tmp_path, scenario)
    assert "etried" in both["local"][0] and "etried" in both["deployment"][0]
    assert both["local"][1] == both["deployment"][1] and both["local"][1]
