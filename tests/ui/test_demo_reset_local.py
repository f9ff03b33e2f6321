"""Local-only data survives a resync and "Reset demo data", including captures written meanwhile by a
separate `ops-console capture` process into the same replica."""

from sqlalchemy import text

from console.demo.generator import DemoSizes, generate
from console.store.counts import row_counts
from console.store.db import open_replica
from console.ui import demo_reset
from console.webhooks.ingest import delivery_doc, store
from tests.conftest import DEMO_NOW_MS
from tests.ui.conftest import wait_idle


def _capture(engine, n):
    doc = delivery_doc("http://127.0.0.1:8188/stripe", "POST", {"Stripe-Signature": "t=1,v1=x"},
                       b'{"id": "evt_local_%d", "type": "local.test"}' % n, DEMO_NOW_MS, "capture")
    return store(engine, [doc])[0]


def _exact(engine):
    with engine.connect() as c:
        return {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                for t in ("users", "chats", "messages", "jobs", "webhook_deliveries")}


def test_reset_demo_data_keeps_captures_made_before_and_during_it(qtbot, ctx, monkeypatch):
    capture = open_replica(ctx.replica_path)  # as `ops-console capture` holds it, in another process
    try:
        before = _capture(capture, 1)
        small = DemoSizes(users=40, messages=200, jobs=100)
        monkeypatch.setattr(demo_reset, "generate", lambda p: generate(p, small, seed=5, now_ms=DEMO_NOW_MS))
        with qtbot.waitSignal(ctx.replica_replaced, timeout=30_000):
            demo_reset.reset_demo_replica(ctx)
        wait_idle(qtbot, ctx)
        during = _capture(capture, 2)  # the capture process keeps writing after the reset
        with ctx.engine.connect() as c:
            ids = {r[0] for r in c.execute(text("SELECT id FROM webhook_deliveries"))}
            assert c.execute(text("SELECT count(*) FROM users")).scalar() == 40  # the fresh demo data
            assert c.execute(text("SELECT count(*) FROM users_fts")).scalar() == 40
            assert c.execute(text("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'the'")).scalar() >= 0
        assert {before, during} <= ids
        assert row_counts(ctx.engine) == _exact(ctx.engine)
        assert ctx.is_demo
    finally:
        capture.dispose()


def test_a_resync_keeps_captured_and_imported_deliveries(tmp_path):
    from console.sync.engine import SyncEngine

    engine = open_replica(tmp_path / "live.sqlite")
    try:
        local = _capture(engine, 3)
        with engine.begin() as conn:
            SyncEngine(engine, None)._apply(conn, [
                {"_id": "d-remote", "_creationTime": 1.0, "_ts": 5, "_table": "webhookDeliveries", "_component": "",
                 "provider": "stripe"},
                {"_id": "u1", "_creationTime": 1.0, "_ts": 5, "_table": "users", "_component": ""}])
        SyncEngine(engine, None).wipe()
        with engine.connect() as c:
            assert [r[0] for r in c.execute(text("SELECT id FROM webhook_deliveries"))] == [local]
            assert c.execute(text("SELECT count(*) FROM users")).scalar() == 0
        assert row_counts(engine) == _exact(engine)
    finally:
        engine.dispose()
