"""Demo traffic for the call-rate panel: a week of calls with a daily rhythm, weekends, bursts, errors,
cache effects, and the API-optimization story: until a fix three days ago, three components each fetched
the session separately (three network calls per page view); since then one shared fetch serves all
three, and it is a cache hit most of the time."""

from __future__ import annotations

import math
import random
from typing import Callable, Iterator

# function, kind, share of page views that call it, median latency ms
FUNCTIONS = [
    ("users:me", "query", 1.0, 18), ("chats:list", "query", 0.55, 35), ("messages:list", "query", 0.5, 42),
    ("profile:get", "query", 0.35, 25), ("billing:getAccount", "query", 0.12, 60),
    ("organizations:getActive", "query", 0.3, 22), ("messages:send", "mutation", 0.25, 75),
    ("profile:updateGoals", "mutation", 0.03, 55), ("ai:generateReply", "action", 0.2, 1800),
    ("POST /twilio/sms", "http_action", 0.15, 95), ("POST /stripe", "http_action", 0.02, 120),
    ("POST /clerk", "http_action", 0.01, 80),
]
SESSION = "auth:getSession"


def rate_at(t: float, rng: random.Random) -> float:
    """Page views per second at unix time t: busy afternoons, quiet nights and weekends."""
    hour = (t / 3600) % 24
    day = int(t // 86400) % 7
    daily = 0.25 + 0.75 * math.exp(-((hour - 14.5) ** 2) / 18)
    weekend = 0.55 if day in (2, 3) else 1.0  # 1970-01-01 was a Thursday: days 2, 3 are Sat, Sun
    return 0.12 * daily * weekend


def events(now: float, days: int = 7, seed: int = 7, fix_at: float | None = None) -> Iterator[tuple]:
    """(at, function, kind, source, outcome, status, latency_ms, bytes) rows, in time order."""
    rng = random.Random(seed)
    fix_at = fix_at if fix_at is not None else now - 3 * 86400
    start = now - days * 86400
    bursts = [start + rng.uniform(0, days * 86400) for _ in range(days * 2)]
    incident = now - 2 * 86400 + 4 * 3600  # a 40-minute incident: messages:send fails
    t = start
    while t < now:
        minute_rate = rate_at(t, rng) * 60
        if any(b <= t < b + 900 for b in bursts):
            minute_rate *= 4
        views = _poisson(rng, minute_rate)
        for _ in range(views):
            at = t + rng.random() * 60
            # the session: three components fetched it separately before the fix; since then one shared
            # fetch serves all three, and it is usually a cache hit (the session changes rarely)
            if at < fix_at:
                for _component in range(3):
                    yield _call(rng, at, SESSION, "query", "network", 15)
            else:
                yield _call(rng, at, SESSION, "query", "cache" if rng.random() < 0.6 else "network", 15)
            for name, kind, share, median in FUNCTIONS:
                if rng.random() < share:
                    source = _source(rng, kind)
                    failing = name == "messages:send" and incident <= at < incident + 2400
                    yield _call(rng, at + rng.random() * 2, name, kind, source, median, fail=0.6 if failing else None)
        t += 60


def _source(rng: random.Random, kind: str) -> str:
    """Where a call was answered: queries are sometimes a cache hit or share a request, the rest go out."""
    if kind != "query":
        return "network"
    x = rng.random()
    return "cache" if x < 0.22 else "coalesced" if x < 0.27 else "network"


def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 30:
        return max(0, int(rng.gauss(lam, math.sqrt(lam)) + 0.5))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _call(rng: random.Random, at: float, name: str, kind: str, source: str, median: float,
          fail: float | None = None) -> tuple:
    if source == "cache":
        return (at, name, kind, source, "success", None, rng.uniform(0.05, 0.4), 0)
    latency = median * math.exp(rng.gauss(0, 0.55))
    failed = rng.random() < (fail if fail is not None else 0.012)
    status = (500 if rng.random() < 0.5 else 200) if failed else 200
    return (at, name, kind, source, "error" if failed else "success", status, latency,
            0 if source == "coalesced" else int(rng.uniform(300, 6000)))


def write(conn, now: float, days: int = 7, seed: int = 7, on_rows: Callable[[int], None] | None = None) -> int:
    """Insert the demo traffic into the call log (one executemany per chunk); `on_rows(n)` after each chunk."""
    sql = ("INSERT INTO call_log (at, function, kind, source, outcome, status, latency_ms, bytes) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    chunk: list[tuple] = []
    n = 0
    for row in events(now, days, seed):
        chunk.append(row)
        if len(chunk) >= 5_000:  # small enough for a progress bar to move smoothly
            conn.exec_driver_sql(sql, chunk)
            n += len(chunk)
            if on_rows:
                on_rows(len(chunk))
            chunk = []
    if chunk:
        conn.exec_driver_sql(sql, chunk)
        n += len(chunk)
        if on_rows:
            on_rows(len(chunk))
    return n


LIVE_FLOOR = 0.06  # page views per second while the app runs (one every ~17 s)


def between(rng: random.Random, start: float, end: float) -> list[tuple]:
    """The calls of [start, end) at the current rhythm (after the fix): the demo keeps its traffic flowing
    while the app runs, so the live five minutes are never empty."""
    out: list[tuple] = []
    if end <= start:
        return out
    # Never quieter than the console's own session polling: at the week's quietest hour (0.017 page views/s on a
    # Sunday night) half of Live (5 min) was empty in about one first start in twelve.
    rate = max(rate_at(start, rng), LIVE_FLOOR)
    for _ in range(_poisson(rng, rate * (end - start))):
        at = start + rng.random() * (end - start)
        out.append(_call(rng, at, SESSION, "query", "cache" if rng.random() < 0.6 else "network", 15))
        for name, kind, share, median in FUNCTIONS:
            if rng.random() < share:
                source = _source(rng, kind)
                out.append(_call(rng, min(at + rng.random() * 0.5, end - 1e-6), name, kind, source, median))
    out.sort()
    return out


INSERT = ("INSERT INTO call_log (at, function, kind, source, outcome, status, latency_ms, bytes) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
