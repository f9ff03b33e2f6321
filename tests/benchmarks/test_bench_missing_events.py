"""Which Stripe events never arrived, on the large demo replica (100k users, 85k billing records, 5,000
deliveries): the check's median time, and that the billing side reads through its index."""

import statistics
import time

from console.store.db import open_replica
from console.webhooks.missing import _BILLING_SQL, missing_stripe_events


def test_missing_stripe_events_on_the_large_demo(large_db):
    path, _counts, _elapsed = large_db
    engine = open_replica(path)
    try:
        with engine.connect() as conn:
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + _BILLING_SQL, (0,)))
            assert "by_billing_last_event" in plan and "by_provider_event" in plan, plan
            report = missing_stripe_events(conn)
            times = []
            for _ in range(15):
                started = time.perf_counter()
                missing_stripe_events(conn)
                times.append((time.perf_counter() - started) * 1000)
            billing = conn.exec_driver_sql("SELECT count(*) FROM billing_accounts").scalar()
        ms = statistics.median(times)
        print(f"\n[bench] missing Stripe events: {len(report.missing)} found among {report.deliveries_checked:,} "
              f"Stripe deliveries and {report.billing_checked:,} of {billing:,} billing records changed since "
              f"capture began: {ms:.1f} ms median, {max(times):.1f} ms max (target < 100 ms)")
        assert report.missing and ms < 100
    finally:
        engine.dispose()
