import json
import sqlite3

import pytest
from sqlalchemy import text

from console.store import db as dbmod
from console.store.db import ReplicaError, open_replica
from console.store.ingest import delete_documents, upsert_documents, upsert_raw
from console.store.mapping import BY_SOURCE

USERS = BY_SOURCE[("", "users")]
SESSIONS = BY_SOURCE[("", "sessions")]


@pytest.fixture
def empty(tmp_path):
    eng = open_replica(tmp_path / "r.sqlite")
    yield eng
    eng.dispose()


def user_doc(_id="u1", ts=10, **fields):
    doc = {"_id": _id, "_creationTime": 1700000000000.25, "_ts": ts, "_table": "users", "_component": "",
           "email": "Ann@Example.com", "name": "Ann Lee", "roles": ["support"], "isActive": True}
    doc.update(fields)
    return doc


def test_every_entity_has_a_table_with_named_indexes(empty):
    with empty.connect() as c:
        tables = {r[0] for r in c.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
        indexes = {r[0] for r in c.execute(text("SELECT name FROM sqlite_master WHERE type='index'"))}
    for t in ("users", "sessions", "security_events", "audit_logs", "organizations", "members", "invitations",
              "user_profiles", "conversation_state", "billing_accounts", "chats", "messages", "jobs",
              "webhook_deliveries", "raw_documents", "call_log", "sync_state", "app_meta", "users_fts",
              "messages_fts", "user_roles"):
        assert t in tables, t
    for ix in ("by_email", "by_is_active", "by_phone", "by_external_id", "by_band_contact", "by_user_updated",
               "by_chat_created", "by_chat_client_message", "by_key", "by_status_next_run", "by_type_status",
               "by_stripe_customer", "by_slug", "users_id", "messages_id"):
        assert ix in indexes, ix


def test_email_lookup_is_case_insensitive_and_indexed(empty):
    with empty.begin() as c:
        upsert_documents(c, USERS, [user_doc()])
        assert c.execute(text("SELECT id FROM users WHERE email = 'ann@example.COM'")).scalar() == "u1"
        plan = " ".join(r[3] for r in c.execute(text("EXPLAIN QUERY PLAN SELECT id FROM users WHERE email = 'x'")))
    assert "by_email" in plan


def test_system_fields_and_complete_document_are_kept(empty):
    with empty.begin() as c:
        upsert_documents(c, USERS, [user_doc(favouriteColour="teal", createdAt={"$integer": "AQAAAAAAAAA="})])
        row = c.execute(text("SELECT id, creation_time, ts, component, doc, created_at FROM users")).one()
    assert row.id == "u1" and row.creation_time == 1700000000000.25 and row.ts == 10 and row.component == ""
    doc = json.loads(row.doc)
    assert doc["favouriteColour"] == "teal"  # a field the console does not model survives
    assert doc["createdAt"] == {"$integer": "AQAAAAAAAAA="}  # wire form kept exactly
    assert row.created_at == 1  # the column gets the decoded value
    assert "_ts" not in doc and "_table" not in doc


def test_password_hash_is_dropped_on_ingest(empty):
    with empty.begin() as c:
        upsert_documents(c, USERS, [user_doc(passwordHash="$argon2id$secret", password="hunter2")])
        raw = c.execute(text("SELECT * FROM users")).one()
    assert "argon2id" not in repr(tuple(raw)) and "hunter2" not in repr(tuple(raw))


def test_session_token_is_never_stored(empty):
    token = "sess_abcdefghijklmnopqrstuvwxyz0123456789"
    with empty.begin() as c:
        upsert_documents(c, SESSIONS, [{"_id": "s1", "_creationTime": 1.0, "_ts": 1, "userId": "u1", "token": token}])
        row = c.execute(text("SELECT * FROM sessions")).one()
    assert token not in repr(tuple(row))
    assert row.token_hint == "sess…6789"
    assert len(row.token_sha256) == 64


def test_older_revision_never_overwrites_newer(empty):
    with empty.begin() as c:
        upsert_documents(c, USERS, [user_doc(ts=20, name="New")])
        upsert_documents(c, USERS, [user_doc(ts=10, name="Old")])
        assert c.execute(text("SELECT name FROM users")).scalar() == "New"
        upsert_documents(c, USERS, [user_doc(ts=20, name="New")])  # replaying the same page is harmless
        assert c.execute(text("SELECT count(*) FROM users")).scalar() == 1


def test_fts_follows_updates_and_deletes(empty):
    def find(c, q):
        return [r[0] for r in c.execute(text("SELECT rowid FROM users_fts WHERE users_fts MATCH :q"), {"q": q})]

    with empty.begin() as c:
        upsert_documents(c, USERS, [user_doc(email="lee@example.com", phoneNumber="+1 (415) 555-0123")])
        assert find(c, '"ann"*') and find(c, 'phone_digits : "4155550"*')
        upsert_documents(c, USERS, [user_doc(ts=11, email="lee@example.com", name="Bea Lee")])
        assert not find(c, '"ann"*') and find(c, '"bea"*')
        assert c.execute(text("SELECT role FROM user_roles")).scalars().all() == ["support"]
        delete_documents(c, "", "users", [("u1", 12)])
        assert not find(c, '"bea"*')
        assert c.execute(text("SELECT count(*) FROM user_roles")).scalar() == 0


def test_delete_does_not_remove_a_newer_revision(empty):
    with empty.begin() as c:
        upsert_documents(c, USERS, [user_doc(ts=30)])
        delete_documents(c, "", "users", [("u1", 25)])
        assert c.execute(text("SELECT count(*) FROM users")).scalar() == 1


def test_unknown_tables_are_kept_as_raw_documents(empty):
    with empty.begin() as c:
        upsert_raw(c, "workpool", "work", [{"_id": "w1", "_creationTime": 2.0, "_ts": 5, "fnName": "send",
                                            "password": "x"}])
        row = c.execute(text("SELECT component, table_name, doc FROM raw_documents")).one()
        assert row.component == "workpool" and json.loads(row.doc)["fnName"] == "send"
        assert "password" not in row.doc
        delete_documents(c, "workpool", "work", [("w1", 6)])
        assert c.execute(text("SELECT count(*) FROM raw_documents")).scalar() == 0


def test_newer_schema_is_refused_with_advice(tmp_path):
    path = tmp_path / "r.sqlite"
    open_replica(path).dispose()
    with sqlite3.connect(path) as c:
        c.execute("UPDATE app_meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(ReplicaError, match="newer console"):
        open_replica(path)


def test_older_schema_is_migrated(tmp_path, monkeypatch):
    path = tmp_path / "r.sqlite"
    open_replica(path).dispose()
    ran = []

    def step(conn):
        conn.exec_driver_sql("ALTER TABLE users ADD COLUMN nickname TEXT")
        ran.append(True)

    current = dbmod.SCHEMA_VERSION
    monkeypatch.setattr(dbmod, "SCHEMA_VERSION", current + 1)
    monkeypatch.setitem(dbmod.MIGRATIONS, current, step)
    eng = open_replica(path)
    with eng.connect() as c:
        assert dbmod.get_meta(c, "schema_version") == str(current + 1)
        c.execute(text("SELECT nickname FROM users"))
    eng.dispose()
    assert ran == [True]


def test_older_schema_without_migration_says_what_to_do(tmp_path, monkeypatch):
    path = tmp_path / "r.sqlite"
    open_replica(path).dispose()
    monkeypatch.setattr(dbmod, "SCHEMA_VERSION", dbmod.SCHEMA_VERSION + 1)
    with pytest.raises(ReplicaError, match="cannot upgrade"):
        open_replica(path)


def test_files_that_are_not_replicas_are_refused(tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"hello, not a database")
    with pytest.raises(ReplicaError, match="not an SQLite file"):
        open_replica(junk)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as c:
        c.execute("CREATE TABLE notes (x)")
    with pytest.raises(ReplicaError, match="not a console replica"):
        open_replica(other)


def test_a_version_1_replica_is_migrated_with_its_job_counts(tmp_path):
    """A replica as the first release wrote it (no job_counts, no by_status_updated) opens and counts right."""
    path = tmp_path / "v1.sqlite"
    eng = open_replica(path)
    with eng.begin() as c:
        upsert_documents(c, BY_SOURCE[("", "jobs")], [
            {"_id": f"j{i}", "_creationTime": 1.0, "_ts": 1, "key": f"k{i}", "status": s}
            for i, s in enumerate(["dead", "dead", "pending"])])
        for stmt in ("DROP TRIGGER job_counts_ai", "DROP TRIGGER job_counts_ad", "DROP TRIGGER job_counts_au",
                     "DROP TABLE job_counts", "DROP INDEX by_status_updated"):
            c.exec_driver_sql(stmt)
        dbmod.set_meta(c, "schema_version", "1")
    eng.dispose()
    eng = open_replica(path)
    with eng.connect() as c:
        assert dict(c.execute(text("SELECT status, n FROM job_counts")).all()) == {"dead": 2, "pending": 1}
        assert dbmod.get_meta(c, "schema_version") == str(dbmod.SCHEMA_VERSION)
    eng.dispose()
