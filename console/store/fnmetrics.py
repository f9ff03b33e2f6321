"""Per-function metrics from the local function-log history (Qt-free).

Buckets of a minute or more read the per-minute rollups a trigger keeps (store/derived.py
FUNCTION_ROLLUP_DDL), so a day over a million logged calls is a few thousand rows; shorter buckets (the live
five minutes) read the raw history over its time index. Execution-time percentiles come from histograms of
log-spaced bins (callrates.latency_bin), per hour for ranges of an hour or more.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from console.domain.fnmetrics import FunctionMetrics, FunctionRow
from console.store.callrates import BUCKET_SQL, ROLLUP_BUCKET_SQL, ROLLUP_MIN_WIDTH, _bin_sql, _from_histogram

CACHED_KINDS = ("Query",)  # only queries are cached by a deployment


def from_history(conn: Connection, start: float, end: float, buckets: int, top_n: int = 8) -> FunctionMetrics:
    """Calls and errors per second of the `top_n` busiest functions (the rest as "(other)"), and a row per
    function with its totals, error share, cache hit share and execution-time percentiles."""
    m = FunctionMetrics(start, end, buckets, source="log history")
    width = (end - start) / buckets
    p: dict[str, float]
    if width >= ROLLUP_MIN_WIDTH:
        p = {"s": int(start // 60), "e": int(-(-end // 60)), "bs": start, "bw": width}
        where = "minute >= :s AND minute < :e"
        bucket = ROLLUP_BUCKET_SQL
        per_bucket = (f"SELECT {bucket} AS b, identifier, sum(n), sum(errors) FROM function_rollup "
                      f"WHERE {where} GROUP BY b, identifier")
        totals = (f"SELECT identifier, max(udf_type), sum(n), sum(errors), sum(cached) FROM function_rollup "
                  f"WHERE {where} GROUP BY identifier")
    else:
        p = {"s": start, "e": end, "bs": start, "bw": width}
        where = "at >= :s AND at < :e AND kind = 'Completion'"
        bucket = BUCKET_SQL
        per_bucket = (f"SELECT {bucket} AS b, identifier, count(*), sum(outcome = 'failure') FROM function_logs "
                      f"WHERE {where} GROUP BY b, identifier")
        totals = (f"SELECT identifier, max(udf_type), count(*), sum(outcome = 'failure'), sum(coalesce(cached, 0)) "
                  f"FROM function_logs WHERE {where} GROUP BY identifier")
    rows: dict[str, FunctionRow] = {}
    for name, udf_type, n, errors, cached in conn.execute(text(totals), p):
        rows[name] = FunctionRow(name, float(n or 0), float(errors or 0),
                                 cache_hit_pct=(100.0 * (cached or 0) / n) if n and udf_type in CACHED_KINDS else None)
    if not rows:
        return m
    top = [r.name for r in sorted(rows.values(), key=lambda r: (-r.calls, r.name))[:top_n]]
    shown = set(top)
    others = len(rows) > len(top)
    names = top + (["(other)"] if others else [])
    calls = {n: [0.0] * buckets for n in names}
    errs = {n: [0.0] * buckets for n in names}
    for b, name, n, e in conn.execute(text(per_bucket), p):
        if 0 <= b < buckets:
            key = name if name in shown else "(other)"
            calls[key][b] += (n or 0) / width
            errs[key][b] += (e or 0) / width
    m.calls, m.errors = calls, {n: v for n, v in errs.items() if any(v)}
    _percentiles(conn, start, end, width, rows)
    m.rows = sorted(rows.values(), key=lambda r: (-r.calls, r.name))
    return m


def _percentiles(conn: Connection, start: float, end: float, width: float, rows: dict[str, FunctionRow]) -> None:
    if end - start >= 3600 and width >= ROLLUP_MIN_WIDTH:
        sql = ("SELECT identifier, bin, sum(n) FROM function_latency_rollup WHERE hour >= :s AND hour < :e "
               "GROUP BY identifier, bin")
        p: dict[str, float] = {"s": int(start // 3600), "e": int(-(-end // 3600))}
    else:
        sql = (f"SELECT identifier, {_bin_sql(conn).replace('latency_ms', 'execution_ms')}, count(*) "
               f"FROM function_logs WHERE at >= :s AND at < :e AND kind = 'Completion' "
               f"AND execution_ms IS NOT NULL GROUP BY 1, 2")
        p = {"s": start, "e": end}
    hist: dict[str, dict[int, int]] = {}
    for name, b, n in conn.execute(text(sql), p):
        hist.setdefault(name, {})[int(b)] = int(n)
    for name, h in hist.items():
        row = rows.get(name)
        if row is None or not h:
            continue
        row.p50_ms, row.p95_ms, row.p99_ms = (_from_histogram(h, q) for q in (50, 95, 99))
        row.samples = sum(h.values())
