"""Queue by job type, error groups and the full-text job search, against the demo replica (and a v7 replica
migrated to v8)."""

import json

import pytest
from sqlalchemy import text

from console.domain import jobs as J
from console.domain.fingerprint import fingerprint, normalise
from console.store import db as dbmod
from console.store.db import open_replica
from console.store.errorgroups import error_groups
from console.store.ingest import upsert_documents
from console.store.jobs import STUCK, JobQuery, count_matching, counts, search
from console.store.jobstore import LocalJobStore
from console.store.jobtypes import type_table
from console.store.mapping import BY_SOURCE
from tests.conftest import DEMO_NOW_MS

JOBS = BY_SOURCE[("", "jobs")]


@pytest.fixture
def conn(engine):
    with engine.connect() as c:
        yield c


def all_ids(conn, q, limit=97):
    ids, after = [], None
    while True:
        page = search(conn, q, after=after, limit=limit, now_ms=DEMO_NOW_MS)
        ids += [r.id for r in page.rows]
        if not page.has_more:
            return ids
        after = page.cursor


# -- fingerprints ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("a,b", [
    ("No such customer: cus_N1x2Y3", "No such customer: cus_Q9z8W7"),
    ("Timeout after 30000 ms", "Timeout after 12 ms"),
    ("GET https://api.x.io/v1/a?b=1 failed", "GET http://other.example/p failed"),
    ("bounce for ada@x.com", "bounce for bo.b+1@mail.example.org"),
    ("job 7f3a9c2e-1111-2222-3333-444455556666 lost", "job 00000000-aaaa-bbbb-cccc-dddddddddddd lost"),
    ("field 'to' invalid", "field \"from\" invalid"),
    ("read at 0xdeadbeef", "read at 0x1f"),
    ("hash 3fa9c2e81b", "hash 00ffee1122"),
    ("Error: one\nstack line 1", "Error: one\nother stack"),
])
def test_particulars_are_normalised_away(a, b):
    assert fingerprint(a) == fingerprint(b)


def test_different_messages_differ():
    assert fingerprint("Twilio error 21610: unsubscribed") != fingerprint("Twilio error 21211: Invalid number")
    assert normalise("Twilio error 21610: unsubscribed") == "Twilio error <n>: unsubscribed"
    assert fingerprint(None) is None and fingerprint("") is None
    assert len(fingerprint("x")) == 16


def test_every_failed_job_has_its_fingerprint(conn):
    rows = conn.execute(text("SELECT last_error, error_fp FROM jobs WHERE last_error IS NOT NULL")).all()
    assert rows and all(fp == fingerprint(e) for e, fp in rows)
    assert conn.execute(text("SELECT count(*) FROM jobs WHERE last_error IS NULL AND error_fp IS NOT NULL")).scalar() == 0


# -- queue by job type ----------------------------------------------------------------------------------------

def test_type_table_counts_match_the_jobs(conn):
    table = {r.type: r for r in type_table(conn, DEMO_NOW_MS)}
    grouped = conn.execute(text("SELECT type, status, count(*) FROM jobs GROUP BY 1, 2")).all()
    assert grouped
    for t, status, n in grouped:
        assert table[t].counts[status] == n
    assert sum(r.total for r in table.values()) == conn.execute(text("SELECT count(*) FROM jobs")).scalar()
    stuck = conn.execute(text("SELECT type, id FROM jobs WHERE status = 'running'")).all()
    for t, r in table.items():
        assert r.counts[STUCK] == len(all_ids(conn, JobQuery(status=STUCK, type=t)))


def test_type_table_oldest_waiting_and_rates(conn):
    table = {r.type: r for r in type_table(conn, DEMO_NOW_MS)}
    for t, r in table.items():
        oldest = conn.execute(text("SELECT min(next_run_at) FROM jobs WHERE type = :t AND status IN "
                                   "('pending', 'retrying') AND next_run_at <= :now"), {"t": t, "now": DEMO_NOW_MS}).scalar()
        assert r.oldest_waiting_ms == (None if oldest is None else DEMO_NOW_MS - oldest)
        day = dict(conn.execute(text("SELECT status, count(*) FROM jobs WHERE type = :t AND status IN "
                                     "('succeeded', 'dead') AND updated_at / 60000 > :d GROUP BY 1"),
                                {"t": t, "d": DEMO_NOW_MS // 60000 - 1440}).all())
        assert (r.succeeded_24h, r.dead_24h) == (day.get("succeeded", 0), day.get("dead", 0))
        if r.succeeded_24h + r.dead_24h:
            assert r.permanent_failure_rate == pytest.approx(r.dead_24h / (r.dead_24h + r.succeeded_24h))


def test_type_rates_follow_what_the_worker_does(engine, conn):
    store = LocalJobStore(engine)
    for i in range(6):
        store.enqueue(f"rate-{i}", "test.rate", {})
    claimed = [j for j in store.claim("w", limit=100_000) if j["type"] == "test.rate"]  # the demo's due jobs too
    assert len(claimed) == 6
    for n, job in enumerate(claimed):
        store.finish(job["_id"], "w", None if n < 4 else "boom 17")
    r = next(r for r in type_table(conn) if r.type == "test.rate")
    assert (r.succeeded_hour, r.failed_hour) == (4, 2)
    assert r.counts[J.SUCCEEDED] == 4 and r.counts[J.RETRYING] == 2 and r.counts[J.PENDING] == 0
    assert sum(ok for ok, _ in r.per_minute) == 4


def test_state_counts_follow_the_type_filter(conn):
    t = "sms.send"
    c = counts(conn, DEMO_NOW_MS, type=t)
    direct = dict(conn.execute(text("SELECT status, count(*) FROM jobs WHERE type = :t GROUP BY 1"), {"t": t}).all())
    assert {k: v for k, v in c.items() if k in direct} == direct
    assert c != counts(conn, DEMO_NOW_MS)


def test_type_and_state_filter_first_rows(conn):
    expected = conn.execute(text("SELECT id FROM jobs WHERE type = 'sms.send' AND status = 'dead' "
                                 "ORDER BY created_at DESC, pk DESC")).scalars().all()
    assert expected and all_ids(conn, JobQuery(type="sms.send", status="dead")) == expected


# -- error groups --------------------------------------------------------------------------------------------

def test_error_groups_match_a_direct_grouping(conn):
    groups = error_groups(conn, DEMO_NOW_MS)
    direct = conn.execute(text("SELECT error_fp, count(*), min(updated_at), max(updated_at) FROM jobs "
                               "WHERE status IN ('retrying', 'dead') AND error_fp IS NOT NULL GROUP BY 1")).all()
    assert len(groups) == len(direct) > 1
    by_fp = {g.fingerprint: g for g in groups}
    for fp, n, first, last in direct:
        g = by_fp[fp]
        assert (g.count, g.first_seen, g.last_seen) == (n, first, last)
        assert fingerprint(g.sample) == fp and sum(g.types.values()) == n
        assert sum(g.hourly) <= n
    assert [g.count for g in groups] == sorted((g.count for g in groups), reverse=True)


def test_a_group_lists_its_failed_jobs(conn):
    g = error_groups(conn, DEMO_NOW_MS)[0]
    ids = all_ids(conn, JobQuery(error_group=g.fingerprint))
    assert len(ids) == g.count
    rows = conn.execute(text("SELECT status, last_error FROM jobs WHERE id IN (%s)" % ",".join(f"'{i}'" for i in ids))).all()
    assert all(s in ("retrying", "dead") and fingerprint(e) == g.fingerprint for s, e in rows)
    assert count_matching(conn, JobQuery(error_group=g.fingerprint), cap=100_000) == g.count


def test_a_new_failure_joins_its_group_when_written(engine, conn):
    store = LocalJobStore(engine)
    store.enqueue("fp-1", "test.fp", {})
    store.enqueue("fp-2", "test.fp", {})
    for job in [j for j in store.claim("w", limit=100_000) if j["type"] == "test.fp"]:
        store.finish(job["_id"], "w", f"No such customer: cus_{job['_id'][:8]}1")
    fps = conn.execute(text("SELECT error_fp FROM jobs WHERE type = 'test.fp'")).scalars().all()
    assert len(fps) == 2 and fps[0] == fps[1] == fingerprint("No such customer: cus_x1")
    g = next(g for g in error_groups(conn) if g.fingerprint == fps[0])
    assert g.count == 2 and g.types == {"test.fp": 2} and g.hourly[-1] == 2


# -- full-text search -----------------------------------------------------------------------------------------

def test_text_search_finds_words_in_errors_and_payloads(conn):
    expected = conn.execute(text(
        "SELECT id FROM jobs WHERE instr(lower(coalesce(last_error,'')), 'rate limit') OR instr(lower(errors), "
        "'rate limit') OR instr(lower(payload), 'rate limit') ORDER BY created_at DESC, pk DESC")).scalars().all()
    assert expected
    found = all_ids(conn, JobQuery(text="Rate Limit"))
    assert set(expected) <= set(found)  # words anywhere: "rate" and "limit" need not be adjacent
    for job_id in found:
        row = conn.execute(text("SELECT lower(coalesce(last_error,'') || errors || payload) FROM jobs WHERE id = :i"),
                           {"i": job_id}).scalar()
        assert "rate" in row and "limit" in row
    phone = conn.execute(text("SELECT json_extract(payload, '$.to') FROM jobs WHERE type = 'sms.send' "
                              "AND json_extract(payload, '$.to') IS NOT NULL LIMIT 1")).scalar()
    digits = phone.lstrip("+")
    assert all_ids(conn, JobQuery(text=digits))


@pytest.mark.parametrize("typed", ['"', "rate\"", "AND", "OR (", "*", "NEAR(a b)", "col:x", "^", "-x", "'); DROP", "{}"])
def test_fts_syntax_in_the_input_is_plain_text(conn, typed):
    search(conn, JobQuery(text=typed), now_ms=DEMO_NOW_MS)
    count_matching(conn, JobQuery(text=typed), cap=10)


def test_text_search_follows_writes(engine, conn):
    store = LocalJobStore(engine)
    job_id, _ = store.enqueue("fts-1", "test.fts", {"note": "zyzzyva"})
    assert all_ids(conn, JobQuery(text="zyzzyva")) == [job_id]
    store.claim("w", limit=50)
    conn.commit()
    with engine.begin() as c:
        c.execute(text("DELETE FROM jobs WHERE id = :i"), {"i": job_id})
    assert all_ids(conn, JobQuery(text="zyzzyva")) == []


# -- migration -----------------------------------------------------------------------------------------------

def test_a_version_8_replica_gets_fingerprints_type_counts_and_search(tmp_path):
    path = tmp_path / "v8.sqlite"
    eng = open_replica(path)
    with eng.begin() as c:
        upsert_documents(c, JOBS, [
            {"_id": f"j{i}", "_creationTime": 1.0, "_ts": 1, "key": f"k{i}", "type": t, "status": s,
             "lastError": e, "payload": {"note": "quokka"}, "updatedAt": 5, "createdAt": 1}
            for i, (t, s, e) in enumerate([("a", "dead", "boom 1"), ("a", "dead", "boom 2"), ("b", "pending", None)])])
        for stmt in ("DROP TRIGGER job_type_counts_ai", "DROP TRIGGER job_type_counts_ad", "DROP TRIGGER job_type_counts_au",
                     "DROP TRIGGER job_events_ai", "DROP TRIGGER job_events_au", "DROP TRIGGER jobs_fts_ai",
                     "DROP TRIGGER jobs_fts_ad", "DROP TRIGGER jobs_fts_au", "DROP TRIGGER error_groups_ai",
                     "DROP TRIGGER error_groups_ad", "DROP TRIGGER error_groups_au", "DROP TABLE error_group_counts",
                     "DROP TABLE error_events", "DROP INDEX by_type_status_updated", "DROP INDEX by_type_updated",
                     "DROP TABLE job_type_counts", "DROP TABLE job_events", "DROP TABLE jobs_fts",
                     "DROP INDEX by_type_status_next_run", "DROP INDEX by_status_fp", "DROP INDEX by_fp_created",
                     "UPDATE jobs SET error_fp = NULL", "ALTER TABLE jobs DROP COLUMN error_fp"):
            c.exec_driver_sql(stmt)
        dbmod.set_meta(c, "schema_version", "8")
    eng.dispose()
    eng = open_replica(path)
    with eng.connect() as c:
        assert dbmod.get_meta(c, "schema_version") == str(dbmod.SCHEMA_VERSION)  # 9 and on
        table = {r.type: r for r in type_table(c, 10)}
        assert table["a"].counts["dead"] == 2 and table["b"].counts["pending"] == 1
        groups = error_groups(c, 10)
        assert len(groups) == 1 and groups[0].count == 2 and groups[0].fingerprint == fingerprint("boom 3")
        assert len(all_ids(c, JobQuery(text="quokka"))) == 3
    eng.dispose()


# -- bulk cancel and purge (demo store) ------------------------------------------------------------------------

def _staff(conn, roles):
    return conn.execute(text("SELECT id FROM users WHERE roles = :r AND is_active LIMIT 1"), {"r": roles}).scalar()


def test_cancel_all_matching_skips_finished_caps_stops_and_audits_once(engine, conn):
    from console.store.jobstore import Refused

    store = LocalJobStore(engine)
    admin = _staff(conn, '["admin","support"]')
    q = JobQuery(type="sms.send")
    before = counts(conn, type="sms.send")
    with pytest.raises(Refused, match="reason"):
        store.cancel_many(q, 10, admin, "  ")
    with pytest.raises(Refused, match="needs jobs:cancel"):
        store.cancel_many(q, 10, _staff(conn, '["support"]'), "r")
    r = store.cancel_many(JobQuery(type="sms.send", status="retrying"), 5, admin, "carrier outage", chunk=2)
    assert r == {"selected": 5, "canceled": 5, "skipped": {}, "stopped": False}
    after = counts(conn, type="sms.send")
    assert after["retrying"] == before["retrying"] - 5 and after["canceled"] == before["canceled"] + 5
    r = store.cancel_many(JobQuery(type="sms.send", status="dead"), 3, admin, "r")
    assert r["canceled"] == r["selected"] == 0 and r["skipped"] == {}  # finished: not selected, the cap untouched
    calls = []
    r = store.cancel_many(JobQuery(type="sms.send", status="pending"), 50, admin, "r", chunk=2,
                          progress=lambda d, t: calls.append(d), canceled=lambda: len(calls) >= 1)
    assert r["stopped"] and r["canceled"] == min(2, before["pending"])
    entries = conn.execute(text("SELECT reason, changes FROM audit_logs WHERE action = 'job.cancel_many' ORDER BY at")).all()
    assert len(entries) == 3 and entries[0].reason == "carrier outage" and json.loads(entries[0].changes)["canceled"] == 5


def test_purge_finished_matching_deletes_only_finished_jobs(engine, conn):
    from console.store.jobstore import Refused

    store = LocalJobStore(engine)
    admin = _staff(conn, '["admin","support"]')
    with pytest.raises(Refused, match="needs jobs:purge"):
        store.purge_many(JobQuery(), 10, _staff(conn, '["support"]'), "r")
    t = "email.send_digest"
    before = counts(conn, type=t)
    finished = before["succeeded"] + before["canceled"] + before["dead"]
    total = sum(v for k, v in before.items() if k != STUCK)
    doomed = set(conn.execute(text("SELECT id FROM jobs WHERE type = :t AND status IN ('succeeded', 'canceled', "
                                   "'dead')"), {"t": t}).scalars())
    r = store.purge_many(JobQuery(type=t), 100_000, admin, "housekeeping", chunk=50)
    # Only finished jobs are selected (the cap is not spent on waiting ones), and every deletion is announced.
    assert r["purged"] == r["selected"] == finished and not r["skipped"]
    assert doomed <= store.changes["jobs"]
    after = counts(conn, type=t)
    assert after["succeeded"] == after["canceled"] == after["dead"] == 0
    assert after["pending"] == before["pending"] and after["retrying"] == before["retrying"]
    assert conn.execute(text("SELECT count(*) FROM jobs WHERE type = :t"), {"t": t}).scalar() == total - finished
    assert conn.execute(text("SELECT n FROM table_counts WHERE name = 'jobs'")).scalar() == \
        conn.execute(text("SELECT count(*) FROM jobs")).scalar()
    entry = conn.execute(text("SELECT reason, changes FROM audit_logs WHERE action = 'job.purge_many'")).one()
    assert entry.reason == "housekeeping" and json.loads(entry.changes)["purged"] == finished


def test_an_error_group_is_retried_as_a_whole(engine, conn):
    store = LocalJobStore(engine)
    g = error_groups(conn, DEMO_NOW_MS)[0]
    r = store.retry_many(JobQuery(error_group=g.fingerprint), 100_000, _staff(conn, '["support"]'), "fixed")
    assert r["retried"] == g.count
    assert not [x for x in error_groups(conn) if x.fingerprint == g.fingerprint]
