"""Sync against real-shaped and hostile export answers (issue 12 §2, issue 14): start cursor of an empty
deployment, discovery fallback, SnapshotTooNew, cursors that repeat, stall or go backwards, documents
of the wrong table or with non-Convex ids, and `ops-console sync` exit codes with nothing half-applied."""

import asyncio
import io
import json
from functools import partial

import httpx
import pytest
from sqlalchemy import event, text

from console.client import errors as E
from console.client.http import ConvexHttp, Deployment, RetryPolicy
from console.store.db import open_replica
from console.sync import headless
from console.sync.engine import ResyncNeeded, SyncEngine
from console.sync.loop import SyncLoop
from tests.fake_deployment import BASE_TS, FakeDeployment

KEY = "prod:happy-otter-123|k"
FAST = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002, deadline=5, total=10)


def widgets(fake, n=7):
    return [fake.insert("widgets", {"name": f"w{i}", "size": 1.5 * i}) for i in range(n)]


async def _engine(db, fake, **kw):
    engine = open_replica(db)
    http = ConvexHttp(Deployment("https://happy-otter-123.convex.cloud", KEY), transport=fake.transport(), retry=FAST)
    return engine, http, SyncEngine(engine, http, **kw)


def sync(db, fake, *, poll=True):
    async def go():
        engine, http, s = await _engine(db, fake)
        try:
            await s.initial_sync()
            if poll:
                await s.poll()
        finally:
            await http.aclose()
            engine.dispose()

    asyncio.run(go())


def replica(db):
    engine = open_replica(db)
    try:
        with engine.connect() as c:
            docs = {r[0]: json.loads(r[1]) for r in c.execute(text("SELECT id, doc FROM raw_documents"))}
            state = {(r[0], r[1]): r[2:] for r in c.execute(text(
                "SELECT component, table_name, phase, snapshot_cursor, delta_cursor FROM sync_state"))}
        return docs, state
    finally:
        engine.dispose()


def fails(db, fake, exc=E.MalformedResponse, match=None, *, poll=True):
    with pytest.raises(exc, match=match):
        sync(db, fake, poll=poll)


# -- real shapes -------------------------------------------------------------------------------------------------
def test_a_real_shaped_deployment_syncs(tmp_path):
    fake = FakeDeployment()
    ids = widgets(fake)
    sync(tmp_path / "r.sqlite", fake)
    fake.delete("widgets", ids[0])
    new = fake.insert("widgets", {"name": "late"})
    sync(tmp_path / "r.sqlite", fake)
    docs, state = replica(tmp_path / "r.sqlite")
    assert set(docs) == set(ids[1:]) | {new} and docs[ids[3]]["size"] == 4.5
    assert state[("", "*")][2] == fake.now


def test_an_empty_deployment_follows_from_its_snapshot_never_from_zero(tmp_path):
    fake = FakeDeployment()
    fake.now = BASE_TS + 12345
    sync(tmp_path / "r.sqlite", fake, poll=False)
    _, state = replica(tmp_path / "r.sqlite")
    assert state[("", "*")][2] == BASE_TS + 12345  # was 0: a cursor older than any retention window
    snap = [r for r in fake.requests if r.url.path == "/api/list_snapshot"]
    assert snap and "tableName" not in snap[0].url.params  # no selection: the whole deployment's now
    later = fake.insert("widgets", {"name": "first"})
    sync(tmp_path / "r.sqlite", fake)
    assert later in replica(tmp_path / "r.sqlite")[0]


@pytest.mark.parametrize("code", ["NoSchemaForExport", "UnsupportedSchemaForExport"])
def test_discovery_falls_back_to_column_names(tmp_path, code):
    fake = FakeDeployment(schema_error=code)
    ids = widgets(fake, 4)
    sync(tmp_path / "r.sqlite", fake)
    assert set(replica(tmp_path / "r.sqlite")[0]) == set(ids)
    assert any(r.url.path == "/api/get_table_column_names" for r in fake.requests)


def test_snapshot_too_new_is_a_resync_not_a_bug(tmp_path):
    fake = FakeDeployment()
    widgets(fake)
    db = tmp_path / "r.sqlite"
    engine = open_replica(db)
    with engine.begin() as c:  # a replica whose snapshot is ahead of the deployment (restored from a backup)
        c.execute(text("INSERT INTO sync_state (component, table_name, phase, snapshot_ts, updated_at) "
                       "VALUES ('', 'widgets', 'snapshot', :ts, 0)"), {"ts": fake.now + 10**12})
    engine.dispose()
    states = []

    async def go():
        engine, http, s = await _engine(db, fake)
        with pytest.raises(ResyncNeeded, match="SnapshotTooNew"):
            await s.initial_sync()
        await SyncLoop(s, on_state=states.append).run(asyncio.Event(), follow=False)
        await SyncLoop(s, on_state=states.append).run(asyncio.Event(), follow=False)
        await http.aclose()
        engine.dispose()

    asyncio.run(go())
    assert any(st.status == "resync" for st in states) and not any("bug" in st.message for st in states)
    assert len(replica(db)[0]) == 7


# -- cursors ---------------------------------------------------------------------------------------------------
def test_a_repeating_snapshot_cursor_is_an_error_not_a_hang(tmp_path):
    fake = FakeDeployment()
    widgets(fake)

    def same_page(route, params, answer):
        if route == "/api/list_snapshot" and "cursor" in params:
            params = {k: v for k, v in params.items() if k != "cursor"}
            return fake.list_snapshot(params)  # the first page again, with the same cursor
        return answer

    fake.tamper = same_page
    fails(tmp_path / "r.sqlite", fake, match="not advancing")
    docs, state = replica(tmp_path / "r.sqlite")
    assert len(docs) == 3 and state[("", "widgets")][0] == "snapshot"  # the first page, and its cursor, only
    assert len([r for r in fake.requests if r.url.path == "/api/list_snapshot"]) < 10


def test_a_delta_cursor_that_does_not_advance_is_an_error(tmp_path):
    fake = FakeDeployment()
    widgets(fake)
    sync(tmp_path / "r.sqlite", fake)
    fake.tamper = lambda route, params, a: ({"values": [], "cursor": int(params["cursor"]), "hasMore": True}
                                            if route == "/api/document_deltas" else a)
    fails(tmp_path / "r.sqlite", fake, match="does not advance")


def test_a_backwards_cursor_never_resurrects_a_deleted_document(tmp_path):
    fake = FakeDeployment()
    ids = widgets(fake)
    db = tmp_path / "r.sqlite"
    sync(db, fake)
    fake.delete("widgets", ids[2])
    sync(db, fake)
    assert ids[2] not in replica(db)[0]
    cursor = replica(db)[1][("", "*")][2]

    def rewind(route, params, answer):  # a server that went back in time and replays the insert
        if route == "/api/document_deltas":
            return {**fake.document_deltas({"cursor": str(BASE_TS)}), "cursor": BASE_TS + 1, "hasMore": False}
        return answer

    fake.tamper = rewind
    fails(db, fake, match="backwards")

    def replay(route, params, answer):  # cursor forwards, but old revisions inside
        if route == "/api/document_deltas":
            old = fake.document_deltas({"cursor": str(BASE_TS)})
            return {**old, "cursor": int(params["cursor"]) + 10, "hasMore": False}
        return answer

    fake.tamper = replay
    fails(db, fake, match="outside the page's window")
    docs, state = replica(db)
    assert ids[2] not in docs and state[("", "*")][2] == cursor


@pytest.mark.parametrize("bad,match", [
    ({"_table": "gadgets"}, "in a page of widgets"),
    ({"_id": "not-a-convex-id"}, "not a Convex id"),
    ({"_id": 12345}, "not a string"),
    ({"_ts": "soon"}, "not a timestamp"),
    ({"size": 2**70}, "beyond what a Float64 holds"),
    ({"size": {"$integer": "AQ=="}}, "expected 8 bytes"),
    ({"size": {"$weird": 1}}, "unknown encoded type"),
])
def test_documents_the_deployment_cannot_have_sent_are_refused_whole(tmp_path, bad, match):
    fake = FakeDeployment()
    widgets(fake)

    def spoil(route, params, answer):
        if route == "/api/list_snapshot" and "cursor" in params:
            answer["values"][1] = {**answer["values"][1], **bad}
        return answer

    fake.tamper = spoil
    fails(tmp_path / "r.sqlite", fake, match=match)
    docs, state = replica(tmp_path / "r.sqlite")
    assert len(docs) == 3 and state[("", "widgets")][0] == "snapshot"  # page 1 kept, page 2 not applied at all


# -- ops-console sync: exit codes, messages, nothing half-applied -------------------------------------------------
def headless_run(monkeypatch, fake, db, *, max_pages=None):
    monkeypatch.setattr(headless, "ConvexHttp", partial(ConvexHttp, transport=fake.transport(), retry=FAST))
    if max_pages is not None:
        real_open = headless.open_replica

        def small_disk(path):
            engine = real_open(path)

            @event.listens_for(engine, "connect")
            def _limit(dbapi, record):
                dbapi.execute(f"PRAGMA max_page_count = {max_pages}")

            engine.dispose()  # new connections get the limit
            return engine

        monkeypatch.setattr(headless, "open_replica", small_disk)
    out = io.StringIO()
    code = headless.run_sync("https://happy-otter-123.convex.cloud", KEY, db, out=out)
    return code, out.getvalue()


def _raw_page(body: bytes):
    def raw(route, params):
        return body if route == "/api/list_snapshot" and "cursor" in params else None
    return raw


@pytest.mark.parametrize("name,body", [
    ("1e400", b'{"values":[],"snapshot":1,"cursor":null,"hasMore":false,"x":1e400}'),
    ("over-range integer", None),
    ("integer _id", None),
    ("deep nesting", None),
])
def test_headless_sync_exits_6_on_hostile_values(tmp_path, monkeypatch, name, body):
    fake = FakeDeployment()
    widgets(fake)
    if body is not None:
        fake.raw = _raw_page(body)
    else:
        def spoil(route, params, answer):
            if route == "/api/list_snapshot" and "cursor" in params:
                v = answer["values"][0]
                if name == "over-range integer":
                    v["size"] = 10**30
                elif name == "integer _id":
                    v["_id"] = 10**5
                else:
                    deep = 1.0
                    for _ in range(200):
                        deep = [deep]
                    v["size"] = deep
            return answer
        fake.tamper = spoil
    code, out = headless_run(monkeypatch, fake, tmp_path / "r.sqlite")
    assert code == 6, out
    assert "Traceback" not in out and "ops-console sync:" in out
    docs, state = replica(tmp_path / "r.sqlite")
    assert len(docs) == 3 and state[("", "widgets")][0] == "snapshot"


def test_headless_sync_exits_6_when_resync_keeps_failing(tmp_path, monkeypatch):
    fake = FakeDeployment()
    widgets(fake)
    fake.tamper = lambda route, params, a: (httpx.Response(400, json={
        "code": "InvalidWindowToReadDocuments", "message": "Trying to synchronize from timestamp 1 older than the "
                                                           "database's retention window"})
        if route == "/api/document_deltas" else a)
    code, out = headless_run(monkeypatch, fake, tmp_path / "r.sqlite")
    assert code == 6 and "could not be continued" in out and "Traceback" not in out


def test_headless_sync_on_a_full_disk_exits_7_and_keeps_what_was_committed(tmp_path, monkeypatch):
    fake = FakeDeployment(snapshot_page=50)
    for i in range(400):
        fake.insert("widgets", {"name": f"w{i}", "blob": "x" * 3000})
    db = tmp_path / "r.sqlite"
    open_replica(db).dispose()
    pages = db.stat().st_size // 4096
    code, out = headless_run(monkeypatch, fake, db, max_pages=pages + 60)
    assert code == 7, out
    assert "cannot write the replica" in out and "Traceback" not in out
    docs, state = replica(db)
    assert len(docs) % 50 == 0 and 0 < len(docs) < 400  # whole pages only
    assert state[("", "widgets")][0] == "snapshot"
