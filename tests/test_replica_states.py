"""The replica accepts every state a deployment can be in: uniqueness is the product's business.

Convex has no unique indexes; a page of deltas is applied in commit order (deletes and upserts
interleaved as they came), so a delete followed by a reuse of the same key, slug or client message id
never freezes sync.
"""

import sqlite3

import pytest
from sqlalchemy import text

from console.store import db as dbmod
from console.store.db import open_replica
from console.sync.engine import SyncEngine


@pytest.fixture
def engine(tmp_path):
    eng = open_replica(tmp_path / "r.sqlite")
    yield eng
    eng.dispose()


def rev(table, _id, ts, component="", **fields):
    return {"_id": _id, "_creationTime": 1.0, "_ts": ts, "_table": table, "_component": component, **fields}


def gone(table, _id, ts, component=""):
    return {"_id": _id, "_ts": ts, "_table": table, "_component": component, "_deleted": True}


def apply(engine, values):
    with engine.begin() as conn:
        return SyncEngine(engine, None)._apply(conn, values)


def test_a_deleted_job_and_a_re_enqueued_key_in_one_page(engine):
    apply(engine, [rev("jobs", "j1", 1, key="send:42", status="dead")])
    apply(engine, [gone("jobs", "j1", 2), rev("jobs", "j2", 3, key="send:42", status="pending")])
    with engine.connect() as c:
        assert c.execute(text("SELECT id, status FROM jobs WHERE key = 'send:42'")).all() == [("j2", "pending")]
        assert dict(c.execute(text("SELECT status, n FROM job_counts WHERE n > 0")).all()) == {"pending": 1}


def test_two_organizations_swap_their_slugs(engine):
    apply(engine, [rev("organization", "o1", 1, "betterAuth", slug="acme"),
                   rev("organization", "o2", 2, "betterAuth", slug="globex")])
    # One mutation swapping them: both revisions land in the same page, o1 first.
    apply(engine, [rev("organization", "o1", 3, "betterAuth", slug="globex"),
                   rev("organization", "o2", 3, "betterAuth", slug="acme")])
    with engine.connect() as c:
        assert dict(c.execute(text("SELECT id, slug FROM organizations")).all()) == {"o1": "globex", "o2": "acme"}


def test_a_client_message_id_used_twice_in_a_chat(engine):
    apply(engine, [rev("messages", "m1", 1, chatId="c1", body="hi", clientMessageId="cm-1"),
                   rev("messages", "m2", 2, chatId="c1", body="hi again", clientMessageId="cm-1")])
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM messages WHERE client_message_id = 'cm-1'")).scalar() == 2


def test_a_page_applies_in_commit_order(engine):
    # Inserts, deletes and reuses across tables (modelled and raw), as one delta page lists them.
    apply(engine, [rev("users", "u1", 5, email="a@x"), rev("jobs", "j1", 6, key="k"), gone("jobs", "j1", 7),
                   rev("jobs", "j2", 8, key="k"), rev("users", "u2", 9, email="b@x"),
                   rev("workpool_work", "w1", 10, "workpool", n=1), gone("workpool_work", "w1", 11, "workpool")])
    with engine.connect() as c:
        assert {r[0] for r in c.execute(text("SELECT id FROM users"))} == {"u1", "u2"}
        assert [r[0] for r in c.execute(text("SELECT id FROM jobs"))] == ["j2"]
        assert c.execute(text("SELECT count(*) FROM raw_documents")).scalar() == 0


def test_no_unique_index_on_product_fields(engine):
    with engine.connect() as c:
        tables = [r[0] for r in c.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))]
        unique = []
        for t in tables:
            for ix in c.exec_driver_sql(f"PRAGMA index_list('{t}')").all():
                # ix: seq, name, unique, origin (c = CREATE INDEX, pk, u = UNIQUE constraint), partial
                # function_logs is the console's own history (not product data): its dedup index stays.
                if ix[2] and ix[3] == "c" and ix[1] != f"{t}_id" and t != "function_logs":
                    unique.append(ix[1])
        assert unique == []
        names = {r[0] for r in c.execute(text("SELECT name FROM sqlite_master WHERE type='index'"))}
    assert {"by_key", "by_slug", "by_chat_client_message"} <= names  # kept, as plain indexes


def test_an_older_replica_loses_its_unique_indexes_on_open(tmp_path):
    path = tmp_path / "v4.sqlite"
    open_replica(path).dispose()
    with sqlite3.connect(path) as c:
        c.execute("DROP INDEX by_key")
        c.execute("CREATE UNIQUE INDEX by_key ON jobs (key)")
        c.execute("DROP INDEX by_slug")
        c.execute("CREATE UNIQUE INDEX by_slug ON organizations (slug)")
        c.execute("DROP INDEX by_chat_client_message")
        c.execute("CREATE UNIQUE INDEX by_chat_client_message ON messages (chat_id, client_message_id) "
                  "WHERE client_message_id IS NOT NULL")
        c.execute("UPDATE app_meta SET value='4' WHERE key='schema_version'")
    eng = open_replica(path)
    try:
        apply(eng, [rev("jobs", "j1", 1, key="k"), rev("jobs", "j2", 2, key="k")])
        with eng.connect() as c:
            assert c.execute(text("SELECT count(*) FROM jobs WHERE key = 'k'")).scalar() == 2
            assert dbmod.get_meta(c, "schema_version") == str(dbmod.SCHEMA_VERSION)
    finally:
        eng.dispose()


def _exact(engine):
    with engine.connect() as c:
        return {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                for t in ("users", "chats", "messages", "jobs", "webhook_deliveries")}


def test_status_bar_counts_follow_inserts_updates_and_deletes(engine):
    from console.store.counts import row_counts

    assert row_counts(engine) == _exact(engine) == dict.fromkeys(_exact(engine), 0)
    apply(engine, [rev("users", "u1", 1), rev("users", "u2", 1), rev("chats", "c1", 1), rev("jobs", "j1", 1)])
    apply(engine, [rev("users", "u1", 2, name="again"), gone("users", "u2", 3), rev("messages", "m1", 4),
                   gone("jobs", "j1", 5), gone("jobs", "never-seen", 5)])
    assert row_counts(engine) == _exact(engine) == {"users": 1, "chats": 1, "messages": 1, "jobs": 0,
                                                    "webhook_deliveries": 0}


def test_status_bar_counts_of_demo_data_and_of_a_migrated_replica(demo_db, tmp_path):
    from console.store.counts import row_counts

    eng = open_replica(demo_db)
    try:
        assert row_counts(eng) == _exact(eng) and row_counts(eng)["messages"] > 0
    finally:
        eng.dispose()
    # A replica from before the counts existed gets them, right, on open.
    with sqlite3.connect(demo_db) as c:
        c.execute("DROP TABLE table_counts")
        for t in ("users", "chats", "messages", "jobs", "webhook_deliveries"):
            c.execute(f"DROP TRIGGER {t}_count_ai")
            c.execute(f"DROP TRIGGER {t}_count_ad")
        c.execute("UPDATE app_meta SET value='4' WHERE key='schema_version'")
    eng = open_replica(demo_db)
    try:
        assert row_counts(eng) == _exact(eng)
    finally:
        eng.dispose()
