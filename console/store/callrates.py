"""Call rates from the call log, aggregated in SQL (Qt-free).

Short ranges (buckets under a minute, such as the live five minutes) are binned from the raw log with
one GROUP BY over its covering index; longer ones from per-minute rollups that a trigger keeps, so a
day of a million calls is a few thousand rollup rows. Latency percentiles come from histograms of
log-spaced latency bins (also one GROUP BY), exact to within one bin (about 17 % wide), at any volume.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

GROUPS = {"function": "function", "kind": "kind", "outcome": "outcome", "source": "source"}
# Latency bins: 0.1 ms .. ~100 s, 15 bins per decade (ratio ~1.166, so at most ~8 % off).
BIN_BASE = 0.1
BINS_PER_DECADE = 15


@dataclass
class Series:
    name: str
    values: list[float]  # calls per second in each bucket


@dataclass
class Chart:
    start: float  # unix seconds
    end: float
    buckets: int
    series: list[Series] = field(default_factory=list)
    samples: list[int] | None = None  # percentile charts: how many calls each bucket's percentiles rest on

    @property
    def width(self) -> float:
        return (self.end - self.start) / self.buckets

    def times(self) -> list[float]:
        return [self.start + i * self.width for i in range(self.buckets)]


# The bucket's origin and width are bound parameters (:bs, :bw), never literals: a literal makes every live
# tick a new statement, which SQLAlchemy compiles and caches again (the cache grew by ~30 MB in 200 ticks).
BUCKET_SQL = "CAST((at - :bs) / :bw AS INTEGER)"
ROLLUP_BUCKET_SQL = "CAST((minute * 60 - :bs) / :bw AS INTEGER)"


# Buckets at least this wide are answered from the per-minute rollups (each minute falls in the bucket of
# its start); narrower ones, like the live five minutes, from the raw log.
ROLLUP_MIN_WIDTH = 60.0


def _source(start: float, end: float, width: float) -> tuple[str, str, str, dict[str, Any]]:
    """(table, bucket expression, count expression, params) for the raw log or the rollups."""
    if width >= ROLLUP_MIN_WIDTH:
        return ("call_rollup", ROLLUP_BUCKET_SQL, "sum(n)",
                {"s": int(start // 60), "e": int(-(-end // 60)), "bs": start, "bw": width})
    return "call_log", BUCKET_SQL, "count(*)", {"s": start, "e": end, "bs": start, "bw": width}


def rates(conn: Connection, start: float, end: float, buckets: int, group: str = "function",
          top_n: int = 8) -> Chart:
    """Calls per second per group (the top `top_n` groups by total, the rest summed as "other")."""
    col = GROUPS[group]
    chart = Chart(start, end, buckets)
    width = (end - start) / buckets
    table, bucket, total, p = _source(start, end, width)
    key = "minute" if table == "call_rollup" else "at"
    cond = f"{key} >= :s AND {key} < :e"
    top = [r[0] for r in conn.execute(text(
        f"SELECT {col}, {total} AS n FROM {table} WHERE {cond} GROUP BY 1 ORDER BY n DESC LIMIT :k"),
        {**p, "k": top_n})]
    if not top:
        return chart
    marks = ", ".join(f":g{i}" for i in range(len(top)))
    gp = {f"g{i}": g for i, g in enumerate(top)}
    rows = conn.execute(text(
        f"SELECT {bucket} AS b, CASE WHEN {col} IN ({marks}) THEN {col} ELSE '(other)' END AS g, "
        f"{total} FROM {table} WHERE {cond} GROUP BY b, g"), {**p, **gp}).fetchall()
    counts: dict[str, list[float]] = {g: [0.0] * buckets for g in top}
    for b, g, n in rows:
        if 0 <= b < buckets:
            counts.setdefault(g, [0.0] * buckets)[b] += n / width
    chart.series = [Series(g, counts[g]) for g in top] + ([Series("(other)", counts["(other)"])]
                                                           if "(other)" in counts else [])
    return chart


def latency_bin(ms: float) -> int:
    return max(0, int(math.floor(math.log10(max(ms, BIN_BASE) / BIN_BASE) * BINS_PER_DECADE)))


def bin_upper(b: int) -> float:
    return BIN_BASE * 10 ** ((b + 1) / BINS_PER_DECADE)


def percentiles(conn: Connection, start: float, end: float, buckets: int,
                ps: tuple[float, ...] = (50, 95, 99)) -> Chart:
    """Latency percentiles (ms) of network calls per bucket, from a latency histogram aggregated in SQL."""
    width = (end - start) / buckets
    chart = Chart(start, end, buckets)
    table, bucket, _total, p = _source(start, end, width)
    if table == "call_rollup":
        sql = (f"SELECT {bucket} AS b, bin AS lb, sum(n) FROM call_latency_rollup "
               f"WHERE minute >= :s AND minute < :e GROUP BY b, lb")
    else:
        sql = (f"SELECT {bucket} AS b, {_bin_sql(conn)} AS lb, count(*) FROM call_log "
               f"WHERE at >= :s AND at < :e AND source = 'network' GROUP BY b, lb")
    rows = conn.execute(text(sql), p).fetchall()
    hist: dict[int, dict[int, int]] = {}
    for b, lb, n in rows:
        if 0 <= b < buckets:
            hist.setdefault(b, {})[lb] = n
    for pct in ps:
        values = []
        for b in range(buckets):
            h = hist.get(b)
            values.append(_from_histogram(h, pct) if h else float("nan"))
        chart.series.append(Series(f"p{int(pct)}", values))
    chart.samples = [sum(hist[b].values()) if b in hist else 0 for b in range(buckets)]
    return chart


_HAS_LOG10: bool | None = None


def _bin_sql(conn: Connection) -> str:
    """The latency bin of a row in SQL: log10 where SQLite has math functions, else comparisons with edges."""
    global _HAS_LOG10
    if _HAS_LOG10 is None:
        try:
            conn.execute(text("SELECT log10(10)")).scalar()
            _HAS_LOG10 = True
        except Exception:  # a build without SQLITE_ENABLE_MATH_FUNCTIONS
            _HAS_LOG10 = False
    if _HAS_LOG10:
        return (f"max(0, CAST(floor(log10(max(latency_ms, {BIN_BASE!r}) / {BIN_BASE!r}) * {BINS_PER_DECADE}) "
                f"AS INTEGER))")
    edges = [bin_upper(b) for b in range(6 * BINS_PER_DECADE)]
    return "CASE " + " ".join(f"WHEN latency_ms < {e!r} THEN {i}" for i, e in enumerate(edges)) + \
        f" ELSE {len(edges)} END"


def _from_histogram(h: dict[int, int], p: float) -> float:
    total = sum(h.values())
    rank = p / 100 * total
    seen = 0
    for b in sorted(h):
        seen += h[b]
        if seen >= rank:
            return bin_upper(b)
    return bin_upper(max(h))


@dataclass
class Summary:
    calls: int
    errors: int
    network: int
    cache: int
    coalesced: int

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.calls if self.calls else None

    @property
    def saved(self) -> float | None:
        """Share of the calls that did not go to the network (cache hits and coalesced)."""
        return (self.cache + self.coalesced) / self.calls if self.calls else None


def summary(conn: Connection, start: float, end: float) -> Summary:
    if end - start > 3600:  # long ranges: the rollups (to the minute)
        row = conn.execute(text(
            "SELECT sum(n), sum(n * (outcome = 'error')), sum(n * (source = 'network')), sum(n * (source = 'cache')), "
            "sum(n * (source = 'coalesced')) FROM call_rollup WHERE minute >= :s AND minute < :e"),
            {"s": int(start // 60), "e": int(-(-end // 60))}).one()
    else:
        row = conn.execute(text(
            "SELECT count(*), sum(outcome = 'error'), sum(source = 'network'), sum(source = 'cache'), "
            "sum(source = 'coalesced') FROM call_log WHERE at >= :s AND at < :e"), {"s": start, "e": end}).one()
    return Summary(*(int(x or 0) for x in row))


def to_csv(chart: Chart) -> str:
    """The data behind a chart: one row per bucket, one column per series. Times are ISO 8601 with their UTC
    offset (local time, as the axis shows it), so a spreadsheet elsewhere reads the same moment."""
    from datetime import datetime

    lines = ["time," + ",".join(f'"{s.name}"' for s in chart.series)]
    for i, t in enumerate(chart.times()):
        stamp = datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds")
        lines.append(stamp + "," + ",".join("" if math.isnan(s.values[i]) else f"{s.values[i]:.6g}"
                                            for s in chart.series))
    return "\n".join(lines) + "\n"
