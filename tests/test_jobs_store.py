"""The Jobs panel's queries and the local job store (demo mode), against the demo replica."""

import json
import threading

import pytest
from sqlalchemy import text

from console.domain import jobs as J
from console.store.jobs import JobQuery, counts, count_matching, detail, health, search
from console.store.jobstore import LocalJobStore, Refused
from tests.conftest import DEMO_NOW_MS


@pytest.fixture
def conn(engine):
    with engine.connect() as c:
        yield c


def staff(conn, role):
    roles = '["admin","support"]' if role == "admin" else '["support"]'
    return conn.execute(text("SELECT id FROM users WHERE roles = :r AND is_active LIMIT 1"), {"r": roles}).scalar()


def customer(conn):
    return conn.execute(text("SELECT id FROM users WHERE role = 'user' LIMIT 1")).scalar()


def all_pages(conn, q, limit=97, **kw):
    rows, after = [], None
    while True:
        page = search(conn, q, after=after, limit=limit, now_ms=DEMO_NOW_MS, **kw)
        rows += page.rows
        if not page.has_more:
            return rows
        after = page.cursor


@pytest.mark.parametrize("query,sql", [
    (JobQuery(), "1 ORDER BY created_at DESC, pk DESC"),
    (JobQuery(status="dead"), "status='dead' ORDER BY created_at DESC, pk DESC"),
    (JobQuery(status="retrying", sort="next_run"), "status='retrying' AND next_run_at IS NOT NULL ORDER BY next_run_at, pk"),
    (JobQuery(sort="next_run"), "status IN ('pending','retrying') AND next_run_at IS NOT NULL ORDER BY next_run_at, pk"),
    (JobQuery(type="ai.generate_reply", sort="updated"), "type='ai.generate_reply' ORDER BY updated_at DESC, pk DESC"),
    (JobQuery(type="sms.send", status="dead", sort="updated"), "type='sms.send' AND status='dead' ORDER BY updated_at DESC, pk DESC"),
    (JobQuery(created_from=DEMO_NOW_MS - 86_400_000, created_to=DEMO_NOW_MS - 3_600_000),
     f"created_at >= {DEMO_NOW_MS - 86_400_000} AND created_at < {DEMO_NOW_MS - 3_600_000} ORDER BY created_at DESC, pk DESC"),
])
def test_filters_and_sorts_page_like_direct_sql(conn, query, sql):
    expected = conn.execute(text(f"SELECT id FROM jobs WHERE {sql}")).scalars().all()
    assert expected
    assert [r.id for r in all_pages(conn, query)] == expected


def test_exact_key_and_id(conn):
    key, job_id = conn.execute(text("SELECT key, id FROM jobs ORDER BY pk LIMIT 1 OFFSET 17")).one()
    assert [r.id for r in search(conn, JobQuery(key=key)).rows] == [job_id]
    assert [r.id for r in search(conn, JobQuery(id=job_id)).rows] == [job_id]


def test_stuck_jobs(conn):
    rows = all_pages(conn, JobQuery(status="stuck"))
    assert rows and all(r.stuck(DEMO_NOW_MS) for r in rows)
    assert counts(conn, DEMO_NOW_MS)["stuck"] == len(rows)


def test_counts_follow_every_change(engine, conn):
    store = LocalJobStore(engine)
    before = counts(conn)
    job = conn.execute(text("SELECT id FROM jobs WHERE status='dead' LIMIT 1")).scalar()
    store.retry(job, staff(conn, "support"), "test")
    after = counts(conn)
    assert after["dead"] == before["dead"] - 1 and after["pending"] == before["pending"] + 1
    grouped = dict(conn.execute(text("SELECT status, count(*) FROM jobs GROUP BY status")).all())
    assert {k: v for k, v in after.items() if k in grouped} == grouped


def test_enqueue_is_idempotent_by_key(engine):
    store = LocalJobStore(engine)
    first = store.enqueue("SMabc", "sms.send", {"to": "+1"})
    second = store.enqueue("SMabc", "sms.send", {"to": "+2"})
    assert first[1] and not second[1] and first[0] == second[0]


def test_two_concurrent_claimers_never_get_the_same_job(engine):
    store_a, store_b = LocalJobStore(engine), LocalJobStore(engine)
    for i in range(40):
        store_a.enqueue(f"race-{i}", "sms.send", {})
    got: dict[str, list[str]] = {"a": [], "b": []}
    barrier = threading.Barrier(2)

    def run(name, store):
        barrier.wait()
        for _ in range(30):
            got[name] += [j["_id"] for j in store.claim(name, limit=3)]

    threads = [threading.Thread(target=run, args=("a", store_a)), threading.Thread(target=run, args=("b", store_b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got["a"] and got["b"]
    assert not set(got["a"]) & set(got["b"])


def test_retry_and_cancel_follow_the_rules_and_are_audited(engine, conn):
    store = LocalJobStore(engine)
    dead = conn.execute(text("SELECT id FROM jobs WHERE status='dead' LIMIT 1")).scalar()
    with pytest.raises(Refused, match="No operator"):
        store.retry(dead, None)
    with pytest.raises(Refused, match="needs jobs:retry"):
        store.retry(dead, customer(conn))
    for empty in (None, "", "  "):  # every audit entry has a reason, whichever client asks (issue 15's rule)
        with pytest.raises(Refused, match="needs a reason"):
            store.retry(dead, staff(conn, "support"), empty)
    retried = store.retry(dead, staff(conn, "support"), "customer asked")
    assert retried["status"] == "pending" and J.budget_used(retried) == 0
    with pytest.raises(Refused, match="needs jobs:cancel"):
        store.cancel(dead, staff(conn, "support"))
    assert store.cancel(dead, staff(conn, "admin"), "duplicate")["status"] == "canceled"
    audit = conn.execute(text("SELECT action, reason, changes FROM audit_logs WHERE resource='jobs' AND resource_id=:j "
                              "ORDER BY at"), {"j": dead}).all()
    assert [a.action for a in audit] == ["job.retry", "job.cancel"]
    assert json.loads(audit[0].changes) == {"status": {"before": "dead", "after": "pending"}}
    d = detail(conn, dead)
    assert d.job["status"] == "canceled" and d.errors


def test_retry_all_matching_respects_the_cap_and_cancel_and_writes_one_audit_entry(engine, conn):
    store = LocalJobStore(engine)
    q = JobQuery(status="dead")
    matching = count_matching(conn, q, cap=10_000)
    assert matching > 30
    result = store.retry_many(q, 25, staff(conn, "admin"), "incident 42", chunk=10)
    assert result == {"selected": 25, "retried": 25, "skipped": {}, "stopped": False}
    assert count_matching(conn, q, cap=10_000) == matching - 25
    calls = []
    result = store.retry_many(q, 25, staff(conn, "admin"), "again", chunk=10,
                              progress=lambda done, total: calls.append(done), canceled=lambda: len(calls) >= 1)
    assert result["stopped"] and result["retried"] == 10 and calls == [10]
    entries = conn.execute(text("SELECT changes FROM audit_logs WHERE action='job.retry_many' ORDER BY at")).all()
    assert len(entries) == 2 and json.loads(entries[0].changes)["retried"] == 25


def test_the_demo_worker_moves_jobs(engine, conn):
    store = LocalJobStore(engine)
    job_id, _ = store.enqueue("worker-test", "sms.send", {})
    store.work_once(failure_rate=0.0, limit=1000)
    assert conn.execute(text("SELECT status FROM jobs WHERE id=:j"), {"j": job_id}).scalar() == "succeeded"
    stuck = counts(conn)["stuck"]
    changed = store.work_once(failure_rate=1.0, limit=0)
    assert len(changed) == stuck and counts(conn)["stuck"] == 0


def test_health(conn):
    h = health(conn, DEMO_NOW_MS)
    assert h.stuck > 0 and len(h.per_minute) == 61
    assert h.permanent_failure_rate is not None and 0 < h.permanent_failure_rate < 0.5
    assert h.oldest_pending_ms is not None and h.oldest_pending_ms > 0


class _SlowClock:
    """perf_counter for console.store.jobs that says a second passed at every look: each text-search
    page runs out of its time budget after one chunk, as on a large replica on a busy machine."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        self.now += 1.0
        return self.now

    def time(self):
        import time as _t
        return _t.time()


@pytest.fixture(scope="module")
def many_jobs_db(tmp_path_factory):
    """40,000 jobs; the 7 oldest carry an error text no other job has (past the first 10,000-job chunk)."""
    from console.demo.generator import DemoSizes, generate
    from console.store.db import open_replica

    path = tmp_path_factory.mktemp("many") / "jobs.sqlite"
    generate(path, DemoSizes(users=100, messages=200, jobs=40_000), seed=3, now_ms=DEMO_NOW_MS)
    engine = open_replica(path)
    with engine.begin() as c:
        ids = c.execute(text("SELECT id FROM jobs ORDER BY created_at ASC, pk ASC LIMIT 7")).scalars().all()
        for job_id in ids:
            c.execute(text("UPDATE jobs SET last_error = 'zqx-needle: upstream refused', status = 'dead' "
                           "WHERE id = :i"), {"i": job_id})
            doc = json.loads(c.execute(text("SELECT doc FROM jobs WHERE id = :i"), {"i": job_id}).scalar())
            doc.update(status="dead", lastError="zqx-needle: upstream refused")
            c.execute(text("UPDATE jobs SET doc = :d WHERE id = :i"), {"d": json.dumps(doc), "i": job_id})
    engine.dispose()
    return path, sorted(ids)


def test_retry_all_matching_with_a_text_filter_counts_and_acts_on_exactly_the_matches(many_jobs_db, monkeypatch,
                                                                                        tmp_path):
    """Issue 14: "Retry all matching" with a text filter found 0 of 7 matching jobs on a large replica:
    counting and collecting stopped at the first page whose time budget ran out with no match in it."""
    import shutil

    import console.store.jobs as jobs_module
    from console.store.db import open_replica
    from console.store.jobs import matching_ids

    path, expected = many_jobs_db
    db = tmp_path / "jobs.sqlite"
    shutil.copy(path, db)
    monkeypatch.setattr(jobs_module, "time", _SlowClock())
    engine = open_replica(db)
    try:
        q = JobQuery(text="ZQX-needle")
        with engine.connect() as conn:
            first = search(conn, q, limit=500, now_ms=DEMO_NOW_MS)
            # The full-text index (issue 16) finds them on the first page: no empty page that says "more".
            assert sorted(r.id for r in first.rows) == expected and not first.has_more
            assert count_matching(conn, q, cap=100_000, now_ms=DEMO_NOW_MS) == 7
            assert count_matching(conn, q, cap=3, now_ms=DEMO_NOW_MS) == 4  # capped counts stop at cap + 1
            assert sorted(matching_ids(conn, q, 100, now_ms=DEMO_NOW_MS)) == expected
            admin = staff(conn, "admin")
        result = LocalJobStore(engine).retry_many(q, 100, admin, "incident 7")
        assert result["selected"] == 7 and result["retried"] == 7
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM jobs WHERE status = 'pending' AND id IN (" +
                                     ",".join(f"'{i}'" for i in expected) + ")")).scalar() == 7
    finally:
        engine.dispose()
