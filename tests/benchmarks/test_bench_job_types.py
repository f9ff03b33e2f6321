"""Operators' first day on 1M jobs: the queue-by-type table, first rows of every type and state (every sort),
error groups, and the full-text "error or payload contains" search."""

import statistics
import time

from console.demo.words import JOB_ERRORS, JOB_TYPES
from console.domain import jobs as J
from console.store.db import open_replica
from console.store.errorgroups import error_groups
from console.store.jobs import STUCK, JobQuery, counts, search
from console.store.jobtypes import type_table


def _timed(fn, n):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return out, times


def test_job_types_groups_and_search_figures(large_db):
    path = large_db[0]
    engine = open_replica(path)
    with engine.connect() as c:
        rows, type_ms = _timed(lambda: type_table(c), 20)
        assert len(rows) >= len(JOB_TYPES) and sum(r.total for r in rows) == 1_000_000
        groups, group_ms = _timed(lambda: error_groups(c), 20)
        assert groups
        _, typed_counts_ms = _timed(lambda: counts(c, type="sms.send"), 20)

        first: dict[str, float] = {}
        for r in rows:
            for state in (None, *J.STATES, STUCK):
                for sort in ("created", "updated", "next_run"):
                    if sort == "next_run" and state not in (None, J.PENDING, J.RETRYING):
                        continue
                    q = JobQuery(type=r.type, status=state, sort=sort)
                    _, ms = _timed(lambda: search(c, q, limit=200), 2)
                    first[f"{r.type} / {state or 'all'} / {sort}"] = min(ms)

        # every word of the demo's error texts, a payload field and words that match nothing
        words = sorted({w.lower() for errs in JOB_ERRORS.values() for e in errs for w in e.replace(":", " ").split()
                        if w.isalpha() and len(w) >= 3}) + ["to", "userId", "zyzzyva", "4155550"]
        text_ms: dict[str, float] = {}
        for w in words:
            _, ms = _timed(lambda: search(c, JobQuery(text=w), limit=200), 2)
            text_ms[w] = min(ms)
        for phrase in ("rate limit", "twilio unsubscribed", "timeout"):
            _, ms = _timed(lambda: search(c, JobQuery(text=phrase, status="dead"), limit=200), 2)
            text_ms[f"{phrase} (dead)"] = min(ms)
    engine.dispose()

    worst = sorted(first.items(), key=lambda kv: -kv[1])[:5]
    worst_text = sorted(text_ms.items(), key=lambda kv: -kv[1])[:5]
    print(f"\n[bench] queue by type on 1,000,000 jobs ({len(rows)} types): median {statistics.median(type_ms):.1f} ms, "
          f"max {max(type_ms):.1f} ms (target < 100)")
    print(f"  state counts of one type: median {statistics.median(typed_counts_ms):.2f} ms")
    print(f"  error groups ({len(groups)} groups): median {statistics.median(group_ms):.1f} ms, max {max(group_ms):.1f} ms")
    print(f"  first rows, {len(first)} type/state/sort combinations: median {statistics.median(first.values()):.1f} ms, "
          f"max {max(first.values()):.1f} ms (target < 200); slowest:")
    for label, ms in worst:
        print(f"    {label:<48} {ms:6.1f} ms")
    print(f"  full-text search, {len(text_ms)} words and phrases: median {statistics.median(text_ms.values()):.1f} ms, "
          f"max {max(text_ms.values()):.1f} ms (target < 100); slowest:")
    for label, ms in worst_text:
        print(f"    {label:<48} {ms:6.1f} ms")
    assert statistics.median(type_ms) < 100
    assert max(first.values()) < 200
    assert max(text_ms.values()) < 100
