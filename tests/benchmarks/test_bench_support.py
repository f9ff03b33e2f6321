"""Support look-ups on the large demo replica: finding a user by each kind of id, a user's jobs and deliveries,
the timeline's first page. Prints the median of repeated runs per figure."""

import statistics
import time

from sqlalchemy import text

from console.store.db import open_replica
from console.store.jobs import JobQuery, search as search_jobs
from console.store.timeline import timeline
from console.store.users import UserQuery, quick_find, search
from console.store.webhooks import DeliveryQuery, search as search_deliveries


def _ms(fn, runs=15):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def test_support_lookups(large_db):
    path, _counts, _elapsed = large_db
    engine = open_replica(path)
    try:
        with engine.connect() as conn:
            uid, ext = conn.execute(text("SELECT id, external_id FROM users ORDER BY pk DESC LIMIT 1")).one()
            cus_user, cus = conn.execute(text("SELECT user_id, stripe_customer_id FROM billing_accounts "
                                              "ORDER BY pk DESC LIMIT 1")).one()
            hint_user, hint = conn.execute(text("SELECT user_id, token_hint FROM sessions ORDER BY pk DESC LIMIT 1")).one()
            busy = conn.execute(text("SELECT user_id FROM jobs WHERE user_id IS NOT NULL AND delivery_id IS NOT NULL "
                                     "ORDER BY pk DESC LIMIT 1")).scalar()
            figures = {}
            for name, q, expect in (("_id", uid, uid), ("external id", ext, uid), ("Stripe customer", cus, cus_user),
                                    ("token hint", hint, hint_user)):
                assert expect in [r.id for r in search(conn, UserQuery(text=q)).rows]
                figures[f"search by {name}"] = _ms(lambda: search(conn, UserQuery(text=q)))
                figures[f"quick find by {name}"] = _ms(lambda: quick_find(conn, q))
            figures["a user's jobs (first page)"] = _ms(lambda: search_jobs(conn, JobQuery(user_id=busy)))
            figures["a user's deliveries (first page)"] = _ms(lambda: search_deliveries(conn, DeliveryQuery(user_id=busy)),
                                                             runs=5)
            figures["timeline, first 300 events"] = _ms(lambda: timeline(conn, busy), runs=5)
        for name, ms in figures.items():
            print(f"support: {name}: {ms:.2f} ms (median)")
        assert all(ms < 200 for name, ms in figures.items() if "deliveries" not in name and "timeline" not in name)
    finally:
        engine.dispose()
