"""A replica records which deployment it mirrors (or that it is a demo) and refuses another."""

import io

import pytest
from sqlalchemy import text

from console.store.db import ReplicaMismatch, claim_replica, get_meta, open_replica
from console.sync.headless import run_sync
from tests.standin_helpers import KEY, standin


def test_claim_records_the_deployment_and_refuses_another(tmp_path):
    eng = open_replica(tmp_path / "a.sqlite")
    try:
        claim_replica(eng, "https://happy-otter-123.convex.cloud/")
        claim_replica(eng, "https://HAPPY-otter-123.convex.cloud")  # the same one, spelled differently
        with eng.connect() as c:
            assert get_meta(c, "deployment") == "https://happy-otter-123.convex.cloud"
            assert get_meta(c, "mode") == "live"
        with pytest.raises(ReplicaMismatch, match="happy-otter-123.*mix two deployments"):
            claim_replica(eng, "https://sad-badger-456.convex.cloud")
    finally:
        eng.dispose()


def test_claim_refuses_a_demo_replica(demo_db):
    eng = open_replica(demo_db)
    try:
        with pytest.raises(ReplicaMismatch, match="demo data"):
            claim_replica(eng, "https://happy-otter-123.convex.cloud")
        with eng.connect() as c:
            assert get_meta(c, "mode") == "demo"
    finally:
        eng.dispose()


def test_headless_sync_refuses_to_mix_deployments_or_turn_a_demo_live(tmp_path, demo_db):
    a, b = standin(seed="empty"), standin(seed="empty")
    try:
        with a.store.transaction() as tx:
            tx.insert("users", {"email": "only-in-a@example.com", "name": "A"})
        db = tmp_path / "a.sqlite"
        assert run_sync(a.url, KEY, db, out=io.StringIO()) == 0
        out = io.StringIO()
        assert run_sync(b.url, KEY, db, out=out) == 2
        assert "mix two deployments" in out.getvalue() and "Traceback" not in out.getvalue()
        eng = open_replica(db)
        with eng.connect() as c:
            assert get_meta(c, "deployment") == a.url.rstrip("/")
            assert c.execute(text("SELECT count(*) FROM users")).scalar() == 1
        eng.dispose()

        out = io.StringIO()
        assert run_sync(a.url, KEY, demo_db, out=out) == 2
        assert "demo data" in out.getvalue()
        eng = open_replica(demo_db)
        with eng.connect() as c:
            assert get_meta(c, "mode") == "demo" and get_meta(c, "deployment") is None
        eng.dispose()
    finally:
        a.stop()
        b.stop()


def test_headless_sync_into_a_broken_replica_says_so(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"not a database at all")
    out = io.StringIO()
    assert run_sync("http://127.0.0.1:9", KEY, bad, out=out) == 2
    assert "not an SQLite file" in out.getvalue()
