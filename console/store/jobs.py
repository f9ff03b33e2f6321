"""Job queries for the Jobs panel (Qt-free). Every query is indexed and bounded.

- Paging is keyset on (sort key, pk); sorts exist only where an index serves them.
- State counts come from `job_counts` (kept by triggers), so they cost one tiny read at any size.
- "Error or payload contains" is a full-text search (jobs_fts, kept by triggers): every word typed is a
  quoted prefix term, so FTS syntax characters in the input are plain text.
- An error group (`error_group`, a fingerprint of the last error) selects failed and dead jobs.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.engine import Connection

from console.domain import jobs as J
from console.domain import jobtext

SortKey = Literal["created", "updated", "next_run"]
SORTS: dict[str, tuple[str, str]] = {
    "created": ("j.created_at", "DESC"),
    "updated": ("j.updated_at", "DESC"),
    "next_run": ("j.next_run_at", "ASC"),
}
STUCK = "stuck"  # a pseudo-state: running past its lease
DEFAULT_LEASE_MS = J.DEFAULT_POLICY.lease_ms
MIN_LEASE_MS = 1_000
# Running and past the lease. The claimed_at bound lets by_status_claimed answer it as an index range.
STUCK_WHERE = ("status = 'running' AND claimed_at < :now - :min_lease "
               "AND claimed_at + coalesce(lease_ms, :lease) < :now")


@dataclass(frozen=True)
class JobQuery:
    status: str | None = None  # a state, "stuck", or None for all
    type: str | None = None
    created_from: int | None = None  # ms
    created_to: int | None = None
    key: str | None = None
    id: str | None = None
    text: str = ""  # error or payload contains (full-text: words, each a prefix)
    sort: SortKey = "created"
    error_group: str | None = None  # an error fingerprint: the failed (retrying) and dead jobs of that group
    user_id: str | None = None  # the jobs about one user (by_job_user)


@dataclass(frozen=True)
class JobRow:
    pk: int
    id: str
    type: str
    key: str
    status: str
    attempts: int
    max_attempts: int
    retry_base: int
    next_run_at: int | None
    claimed_by: str | None
    claimed_at: int | None
    lease_ms: int | None
    last_error: str
    created_at: int
    updated_at: int
    sort_value: Any

    def stuck(self, now_ms: int) -> bool:
        return self.status == J.RUNNING and self.claimed_at is not None and \
            now_ms > self.claimed_at + (self.lease_ms or DEFAULT_LEASE_MS)

    @property
    def budget_used(self) -> int:
        return self.attempts - self.retry_base


@dataclass
class JobPage:
    rows: list[JobRow]
    has_more: bool
    scanned: int = 0  # for a text search: how many jobs this page read
    scan_exhausted: bool = True  # ... and whether it reached the end of the filtered jobs
    resume: tuple[Any, int] | None = None  # where a text scan stopped, when that is past the last row

    @property
    def cursor(self) -> tuple[Any, int] | None:
        """Where the next page starts."""
        if self.resume is not None:
            return self.resume
        return (self.rows[-1].sort_value, self.rows[-1].pk) if self.rows else None


_COLUMNS = ("j.pk, j.id, j.type, j.key, j.status, j.attempts, j.max_attempts, "
            "coalesce(json_extract(j.doc, '$.retryBase'), 0), j.next_run_at, j.claimed_by, j.claimed_at, j.lease_ms, "
            "j.last_error, j.created_at, j.updated_at")


def _row(r: Any) -> JobRow:
    return JobRow(pk=r[0], id=r[1], type=r[2] or "", key=r[3] or "", status=r[4] or "", attempts=r[5] or 0,
                  max_attempts=r[6] or 0, retry_base=int(r[7] or 0), next_run_at=r[8], claimed_by=r[9],
                  claimed_at=r[10], lease_ms=r[11], last_error=(r[12] or "").split("\n", 1)[0],
                  created_at=r[13] or 0, updated_at=r[14] or 0, sort_value=r[15])


DENSE = 5000  # matches of a text search from which reading in sort order beats looking each match up


def text_match(q: JobQuery) -> str | None:
    """The FTS5 query for what was typed: quoted terms (FTS syntax is plain text), the last one a prefix
    when it has two characters or more (search as you type)."""
    terms = jobtext.terms(q.text)  # the rule the stand-in and the contract apply (console/domain/jobtext.py)
    if not terms:
        return None
    out = [f'"{t}"' for t in terms]
    if len(terms[-1]) >= 2:
        out[-1] += "*"
    return " ".join(out)


def _dense(conn: Connection, match: str) -> bool:
    return (conn.execute(text("SELECT count(*) FROM (SELECT 1 FROM jobs_fts WHERE jobs_fts MATCH :m LIMIT :n)"),
                         {"m": match, "n": DENSE}).scalar() or 0) >= DENSE


def _filters(q: JobQuery, now_ms: int, dense: bool = False) -> tuple[list[str], dict[str, Any]]:
    where: list[str] = []
    p: dict[str, Any] = {}
    if q.status == STUCK:
        where.append(STUCK_WHERE.replace("status", "j.status").replace("claimed_at", "j.claimed_at")
                     .replace("lease_ms", "j.lease_ms"))
        p.update(lease=DEFAULT_LEASE_MS, now=now_ms, min_lease=MIN_LEASE_MS)
    elif q.status:
        where.append("j.status = :status")
        p["status"] = q.status
    if q.type:
        where.append("j.type = :type")  # by_type_* indexes serve every sort of a type, with or without a state
        p["type"] = q.type
    if q.created_from is not None:
        where.append("j.created_at >= :cfrom")
        p["cfrom"] = q.created_from
    if q.created_to is not None:
        where.append("j.created_at < :cto")
        p["cto"] = q.created_to
    if q.key:
        where.append("j.key = :key")
        p["key"] = q.key
    if q.id:
        where.append("j.id = :id")
        p["id"] = q.id
    if q.error_group:
        where.append("j.error_fp = :fp")
        p["fp"] = q.error_group
        if not q.status:
            where.append("j.status IN ('retrying', 'dead')")
    match = text_match(q)
    if match:
        # Few matches: look each one up by pk and sort them. Many: walk the sort's index and keep the matches
        # (the unary + stops SQLite from choosing the pk lookups), which stops after a page.
        where.append(f"{'+' if dense else ''}j.pk IN (SELECT rowid FROM jobs_fts WHERE jobs_fts MATCH :match)")
        p["match"] = match
    if q.user_id:
        where.append("j.user_id = :user_id")
        p["user_id"] = q.user_id
    return where, p


FAILED = ("retrying", "dead")  # the states error groups count


def search(conn: Connection, q: JobQuery, *, after: tuple[Any, int] | None = None, limit: int = 200,
           now_ms: int | None = None) -> JobPage:
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    col, direction = SORTS[q.sort]
    match = text_match(q)
    where, params = _filters(q, now_ms, dense=match is not None and _dense(conn, match))
    if after is not None:
        cmp = ">" if direction == "ASC" else "<"
        where.append(f"({col}, j.pk) {cmp} (:after_v, :after_pk)")
        params.update(after_v=after[0], after_pk=after[1])
    if q.sort == "next_run":
        where.append("j.next_run_at IS NOT NULL")
        if not q.status:  # only waiting jobs have a next run; saying so lets by_status_next_run serve the sort
            where.append("j.status IN ('pending', 'retrying')")
    order = f"ORDER BY {col} {direction}, j.pk {direction}"
    base = f"SELECT {_COLUMNS}, {col} FROM jobs j"
    sql = base + (" WHERE " + " AND ".join(where) if where else "") + f" {order} LIMIT :limit"
    raw = conn.execute(text(sql), {**params, "limit": limit + 1}).fetchall()
    return JobPage([_row(r) for r in raw[:limit]], len(raw) > limit)


# -- counts, health, detail ----------------------------------------------------------------------------

def counts(conn: Connection, now_ms: int | None = None, type: str | None = None,
           error_group: str | None = None) -> dict[str, int]:
    """Jobs per state from the trigger-kept tables (of one type when `type` is given), plus stuck (running past
    the lease, via the status index). With `error_group`, the jobs whose last error has that fingerprint, counted
    through its index (a group is at most some thousands of jobs)."""
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    out = {s: 0 for s in J.STATES}
    if error_group is not None:
        rows = conn.execute(text("SELECT status, count(*) FROM jobs WHERE error_fp = :fp"
                                 + (" AND type = :t" if type is not None else "") + " GROUP BY status"),
                            {"fp": error_group, "t": type})
    elif type is None:
        rows = conn.execute(text("SELECT status, n FROM job_counts"))
    else:
        rows = conn.execute(text("SELECT status, n FROM job_type_counts WHERE type = :t"), {"t": type})
    out.update({r[0]: r[1] for r in rows if r[0] in out})
    where = STUCK_WHERE
    p: dict[str, Any] = {"lease": DEFAULT_LEASE_MS, "now": now_ms, "min_lease": MIN_LEASE_MS}
    if type is not None:
        where, p = where + " AND type = :t", {**p, "t": type}
    if error_group is not None:
        where, p = where + " AND error_fp = :fp", {**p, "fp": error_group}
    out[STUCK] = conn.execute(text(f"SELECT count(*) FROM jobs WHERE {where}"), p).scalar() or 0
    return out


@dataclass
class Health:
    oldest_pending_ms: int | None  # age of the oldest job waiting to run (backlog)
    stuck: int
    per_minute: list[tuple[int, int, int]]  # (minute start ms, succeeded, failed) over the last hour
    permanent_failure_rate: float | None  # dead / (dead + succeeded), jobs finished in the last 24 h
    finished_24h: int


def health(conn: Connection, now_ms: int | None = None) -> Health:
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    oldest = conn.execute(text("SELECT min(next_run_at) FROM jobs WHERE status = 'pending' AND next_run_at <= :now"),
                          {"now": now_ms}).scalar()
    hour_ago = now_ms - 3_600_000
    start = hour_ago - hour_ago % 60_000
    buckets: dict[int, list[int]] = {start + i * 60_000: [0, 0] for i in range(61)}
    for status, minute, n in conn.execute(text(
            "SELECT status, (updated_at / 60000) * 60000 AS m, count(*) FROM jobs "
            "WHERE status IN ('succeeded', 'retrying', 'dead') AND updated_at >= :since GROUP BY 1, 2"),
            {"since": start}):
        if minute in buckets:
            buckets[minute][0 if status == "succeeded" else 1] += n
    day_ago = now_ms - 86_400_000
    finished: dict[str, int] = dict(conn.execute(text(
        "SELECT status, count(*) FROM jobs WHERE status IN ('succeeded', 'dead') AND updated_at >= :since "
        "GROUP BY 1"), {"since": day_ago}).all())
    total = finished.get("succeeded", 0) + finished.get("dead", 0)
    stuck = counts(conn, now_ms)[STUCK]
    return Health(oldest_pending_ms=(now_ms - oldest) if oldest is not None else None, stuck=stuck,
                  per_minute=[(m, s, f) for m, (s, f) in sorted(buckets.items())],
                  permanent_failure_rate=(finished.get("dead", 0) / total) if total else None, finished_24h=total)


@dataclass
class JobDetail:
    job: dict[str, Any]
    doc: dict[str, Any]
    payload: Any
    errors: list[dict[str, Any]]
    user: dict[str, Any] | None = None
    delivery: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def detail(conn: Connection, job_id: str) -> JobDetail | None:
    row = conn.execute(text("SELECT * FROM jobs WHERE id = :id"), {"id": job_id}).mappings().first()
    if row is None:
        return None
    job = dict(row)
    doc = json.loads(job["doc"] or "{}")
    out = JobDetail(job=job, doc=doc, payload=json.loads(job["payload"] or "{}"),
                    errors=json.loads(job["errors"] or "[]"))
    user_id = job["user_id"] or (out.payload.get("userId") if isinstance(out.payload, dict) else None)
    if user_id:
        u = conn.execute(text("SELECT id, name, email, is_active FROM users WHERE id = :id"),
                         {"id": user_id}).mappings().first()
        out.user = dict(u) if u else {"id": user_id, "name": None, "email": None, "is_active": None}
    delivery_id = job["delivery_id"] or (out.payload.get("deliveryId") if isinstance(out.payload, dict) else None)
    if delivery_id:
        d = conn.execute(text("SELECT id, provider, event_type, provider_event_id, endpoint, received_at "
                              "FROM webhook_deliveries WHERE id = :id"), {"id": delivery_id}).mappings().first()
        out.delivery = dict(d) if d else {"id": delivery_id}
    return out


def by_ids(conn: Connection, ids: list[str]) -> list[JobRow]:
    """Fresh versions of given jobs (primary-key lookups), e.g. the rows on screen."""
    if not ids:
        return []
    marks = ", ".join(f":i{n}" for n in range(len(ids)))
    rows = conn.execute(text(f"SELECT {_COLUMNS}, j.created_at FROM jobs j WHERE j.id IN ({marks})"),
                        {f"i{n}": v for n, v in enumerate(ids)}).fetchall()
    return [_row(r) for r in rows]


def job_types(conn: Connection) -> list[str]:
    """Distinct types, read through the (type, status) index."""
    return [r[0] for r in conn.execute(text("SELECT DISTINCT type FROM jobs WHERE type IS NOT NULL ORDER BY 1"))]


def count_matching(conn: Connection, q: JobQuery, cap: int, now_ms: int | None = None) -> int:
    """How many jobs a filter matches, counting at most `cap + 1` (for "retry all matching" previews)."""
    where, params = _filters(q, now_ms if now_ms is not None else int(time.time() * 1000))
    sql = "SELECT count(*) FROM (SELECT 1 FROM jobs j" + (" WHERE " + " AND ".join(where) if where else "") + \
          " LIMIT :cap)"
    return conn.execute(text(sql), {**params, "cap": cap + 1}).scalar() or 0


def _pages(conn: Connection, q: JobQuery, up_to: int, now_ms: int | None):
    """Every page of a search up to `up_to` rows. A text-search page whose time budget ran out can be empty
    and still say "more": go on from where its scan stopped, or a bulk action acts on fewer jobs than match."""
    after = None
    seen = 0
    while seen < up_to:
        page = search(conn, q, after=after, limit=min(500, up_to - seen), now_ms=now_ms)
        yield page
        seen += len(page.rows)
        if not page.has_more or page.cursor is None or page.cursor == after:
            return
        after = page.cursor


def matching_ids(conn: Connection, q: JobQuery, limit: int, now_ms: int | None = None) -> list[str]:
    return [r.id for p in _pages(conn, q, limit, now_ms) for r in p.rows][:limit]


def eligible_ids(conn: Connection, q: JobQuery, verb: str, cap: int, now_ms: int | None = None,
                 scan: int = 100_000) -> list[str]:
    """Up to `cap` matching jobs a bulk `verb` may act on (J.bulk_eligible): the cap is not spent on jobs the
    action would skip (a purge of "every state" found pending ones first)."""
    out: list[str] = []
    for page in _pages(conn, q, scan, now_ms):
        out.extend(r.id for r in page.rows if J.bulk_eligible(verb, r.status))
        if len(out) >= cap:
            break
    return out[:cap]


def count_by_status(conn: Connection, q: JobQuery, cap: int, now_ms: int | None = None) -> dict[str, int]:
    """The matching jobs by state, over at most `cap + 1` of them (a bulk action's preview)."""
    where, params = _filters(q, now_ms if now_ms is not None else int(time.time() * 1000))
    sql = ("SELECT status, count(*) FROM (SELECT j.status FROM jobs j" + (" WHERE " + " AND ".join(where) if where
                                                                          else "") + " LIMIT :cap) GROUP BY status")
    return {status or "?": n for status, n in conn.execute(text(sql), {**params, "cap": cap + 1})}
