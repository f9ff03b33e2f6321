"""The outbox job store on the local replica: what demo mode does where live mode calls the deployment.

Same rules as the stand-in (console/domain/jobs.py and roles.py). Every change rewrites the job's
document and its columns together, stamped with a new `_ts`. Claims run in `BEGIN IMMEDIATE`
transactions: two workers never get the same job.
"""

from __future__ import annotations

import json
import random
import time
from contextlib import contextmanager
from typing import Callable, Iterator

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from console.changes import ChangeSet
from console.convex.ids import IdMinter
from console.store.numbers import TABLE_NUMBERS
from console.domain import jobs as J
from console.domain import roles as R
from console.store.ingest import upsert_documents
from console.store.jobs import STUCK_WHERE, DEFAULT_LEASE_MS, MIN_LEASE_MS, JobQuery, eligible_ids
from console.store.mapping import BY_SOURCE

JOBS = BY_SOURCE[("", "jobs")]
AUDIT = BY_SOURCE[("", "auditLogs")]


class Refused(Exception):
    """A rule said no; the message says why, for a person. A refusal from the deployment names the function
    and the deployment's request id (when it gave one), so the UI can open that request's log entries."""

    def __init__(self, reason: str = "", *, function: str | None = None, request_id: str | None = None) -> None:
        super().__init__(reason)
        self.function = function
        self.request_id = request_id


@contextmanager
def immediate(engine: Engine) -> Iterator[Connection]:
    """A write transaction that takes SQLite's write lock up front (no upgrade races between writers)."""
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


class LocalJobStore:
    def __init__(self, engine: Engine, *, rng: random.Random | None = None) -> None:
        self.engine = engine
        self.rng = rng or random.Random()
        self._ids = IdMinter()
        self.changes = ChangeSet()  # every document this store wrote (its callers announce it)

    # -- documents ------------------------------------------------------------------------------------
    @staticmethod
    def _doc(conn: Connection, job_id: str) -> tuple[dict, int] | None:
        row = conn.execute(text("SELECT doc, ts FROM jobs WHERE id = :id"), {"id": job_id}).first()
        return (json.loads(row[0]), int(row[1] or 0)) if row else None

    def _save(self, conn: Connection, doc: dict, old_ts: int = 0) -> None:
        doc = {k: v for k, v in doc.items() if v is not None or k.startswith("_")}
        upsert_documents(conn, JOBS, [{**doc, "_ts": max(time.time_ns(), old_ts + 1)}])
        self.changes.add(JOBS.sql_table, doc["_id"])

    def _audit(self, conn: Connection, actor: dict, action: str, resource_id: str, changes: dict,
               reason: str | None) -> None:
        now = int(time.time() * 1000)
        audit_id = self._ids.new(TABLE_NUMBERS["auditLogs"])
        upsert_documents(conn, AUDIT, [{
            "_id": audit_id, "_creationTime": now + 0.5, "_ts": time.time_ns(),
            "actorUserId": actor["_id"], "action": action, "resource": "jobs", "resourceId": resource_id,
            "timestamp": now, "changes": changes, "reason": reason or "",
        }])
        self.changes.add(AUDIT.sql_table, audit_id)

    @staticmethod
    def actor(conn: Connection, user_id: str | None) -> dict | None:
        if not user_id:
            return None
        row = conn.execute(text("SELECT doc FROM users WHERE id = :id"), {"id": user_id}).first()
        return json.loads(row[0]) if row else None

    # -- the queue ---------------------------------------------------------------------------------------
    def enqueue(self, key: str, jtype: str, payload: dict, *, user_id: str | None = None) -> tuple[str, bool]:
        """Idempotent by key: enqueueing an existing key returns the existing job (and False)."""
        with immediate(self.engine) as conn:
            found = conn.execute(text("SELECT id FROM jobs WHERE key = :k"), {"k": key}).scalar()
            if found:
                return found, False
            now = int(time.time() * 1000)
            job_id = self._ids.new(TABLE_NUMBERS["jobs"])
            doc = {"_id": job_id, "_creationTime": now + 0.5, **J.new_job(key, jtype, payload, now)}
            if user_id:
                doc["userId"] = user_id
            self._save(conn, doc)
            return job_id, True

    def claim(self, worker: str, limit: int = 10, now_ms: int | None = None) -> list[dict]:
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        claimed = []
        with immediate(self.engine) as conn:
            ids = conn.execute(text(
                "SELECT id FROM jobs WHERE status IN ('pending', 'retrying') AND next_run_at <= :now "
                "ORDER BY next_run_at LIMIT :n"), {"now": now, "n": limit}).scalars().all()
            for job_id in ids:
                doc, ts = self._doc(conn, job_id)  # type: ignore[misc]
                new = J.claim(doc, worker, now)
                self._save(conn, new, ts)
                claimed.append(new)
        return claimed

    def finish(self, job_id: str, worker: str, error: str | None = None, now_ms: int | None = None) -> dict | None:
        """Complete (no error) or fail a job this worker holds; None if it was canceled or retried meanwhile."""
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        with immediate(self.engine) as conn:
            found = self._doc(conn, job_id)
            if found is None or found[0].get("status") != J.RUNNING or found[0].get("claimedBy") != worker:
                return None
            doc, ts = found
            new = J.complete(doc, now) if error is None else J.fail(doc, error, now, rng=self.rng)
            self._save(conn, new, ts)
            return new

    def expire_stuck(self, now_ms: int | None = None) -> list[str]:
        """Jobs claimed past their lease go back to the queue, the lost attempt recorded."""
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        with immediate(self.engine) as conn:
            ids = conn.execute(text(f"SELECT id FROM jobs WHERE {STUCK_WHERE} LIMIT 100"),
                               {"now": now, "lease": DEFAULT_LEASE_MS, "min_lease": MIN_LEASE_MS}).scalars().all()
            for job_id in ids:
                doc, ts = self._doc(conn, job_id)  # type: ignore[misc]
                self._save(conn, J.expire_lease(doc, now, rng=self.rng), ts)
        return list(ids)

    # -- operator actions ------------------------------------------------------------------------------------
    def _operate(self, job_id: str, actor_id: str | None, permission: str, what: str, action: str,
                 transition: Callable[[dict, int], dict], reason: str | None) -> dict:
        now = int(time.time() * 1000)
        with immediate(self.engine) as conn:
            actor = self.actor(conn, actor_id)
            refusal = R.check_permission(actor, permission, what)
            if refusal or actor is None:
                raise Refused(refusal or "No operator identity: choose who is operating in Settings.")
            refusal = R.check_reason(reason)  # every audit entry has a reason, whichever client sent the change
            if refusal:
                raise Refused(refusal)
            found = self._doc(conn, job_id)
            if found is None:
                raise Refused(f"No job with id {job_id}.")
            doc, ts = found
            try:
                new = transition(doc, now)
            except J.JobRuleError as exc:
                raise Refused(str(exc)) from exc
            self._save(conn, new, ts)
            self._audit(conn, actor, action, job_id,
                        {"status": {"before": doc.get("status"), "after": new["status"]}}, reason)
            return new

    def retry(self, job_id: str, actor_id: str | None, reason: str | None = None) -> dict:
        return self._operate(job_id, actor_id, "jobs:retry", "retry jobs", "job.retry", J.manual_retry, reason)

    def cancel(self, job_id: str, actor_id: str | None, reason: str | None = None) -> dict:
        return self._operate(job_id, actor_id, "jobs:cancel", "cancel jobs", "job.cancel", J.cancel, reason)

    def retry_many(self, query: JobQuery, cap: int, actor_id: str | None, reason: str | None = None, *,
                   progress: Callable[[int, int], None] | None = None,
                   canceled: Callable[[], bool] | None = None, chunk: int = 100) -> dict:
        """Retry up to `cap` jobs matching `query`, in chunks (each its own transaction), reporting progress;
        stops early when `canceled()` says so. One audit entry for the whole batch."""
        return self._many("retry", query, cap, actor_id, reason, progress=progress, canceled=canceled, chunk=chunk)

    def cancel_many(self, query: JobQuery, cap: int, actor_id: str | None, reason: str | None = None, *,
                    progress: Callable[[int, int], None] | None = None,
                    canceled: Callable[[], bool] | None = None, chunk: int = 100) -> dict:
        """Cancel up to `cap` matching jobs (finished ones are skipped and counted), as retry_many."""
        return self._many("cancel", query, cap, actor_id, reason, progress=progress, canceled=canceled, chunk=chunk)

    def purge_many(self, query: JobQuery, cap: int, actor_id: str | None, reason: str | None = None, *,
                   progress: Callable[[int, int], None] | None = None,
                   canceled: Callable[[], bool] | None = None, chunk: int = 100) -> dict:
        """Delete up to `cap` matching finished jobs (succeeded, canceled, dead); others are skipped and counted."""
        return self._many("purge", query, cap, actor_id, reason, progress=progress, canceled=canceled, chunk=chunk)

    def _many(self, verb: str, query: JobQuery, cap: int, actor_id: str | None, reason: str | None, *,
              progress: Callable[[int, int], None] | None, canceled: Callable[[], bool] | None, chunk: int) -> dict:
        permission, what = R.BULK[verb]
        with self.engine.connect() as conn:
            actor = self.actor(conn, actor_id)
            refusal = R.check_permission(actor, permission, what)
            if refusal:
                raise Refused(refusal)
            refusal = R.check_reason(reason)  # as every change: the batch's one audit entry has a reason
            if refusal:
                raise Refused(refusal)
            ids = eligible_ids(conn, query, verb, cap)  # the cap counts only jobs the action may act on
        done, stopped = 0, False
        skipped: dict[str, int] = {}
        for i in range(0, len(ids), chunk):
            if canceled and canceled():
                stopped = True
                break
            now = int(time.time() * 1000)
            with immediate(self.engine) as conn:
                for job_id in ids[i:i + chunk]:
                    found = self._doc(conn, job_id)
                    if found is None:
                        continue
                    doc, ts = found
                    try:
                        if verb == "purge":
                            J.check_purge(doc)
                            conn.execute(text("DELETE FROM jobs WHERE id = :id"), {"id": job_id})
                            self.changes.add(JOBS.sql_table, job_id)  # said, so panels showing it drop it
                        else:
                            self._save(conn, (J.manual_retry if verb == "retry" else J.cancel)(doc, now), ts)
                        done += 1
                    except J.JobRuleError:
                        skipped[doc.get("status") or "?"] = skipped.get(doc.get("status") or "?", 0) + 1
            if progress:
                progress(min(i + chunk, len(ids)), len(ids))
        filter_doc = {k: v for k, v in vars(query).items() if v not in (None, "")}
        counted = {"retry": "retried", "cancel": "canceled", "purge": "purged"}[verb]
        with immediate(self.engine) as conn:
            self._audit(conn, actor, f"job.{verb}_many", "*",  # type: ignore[arg-type]
                        {"filter": filter_doc, "selected": len(ids), counted: done, "cap": cap,
                         "stopped": stopped}, reason)
        return {"selected": len(ids), counted: done, "skipped": skipped, "stopped": stopped}

    # -- the demo's worker ---------------------------------------------------------------------------------------
    def work_once(self, worker: str = "demo-worker", failure_rate: float = 0.15, limit: int = 10,
                  errors: dict[str, list[str]] | None = None, reclaim_stuck: bool = True) -> set[str]:
        """One round of a worker: return stuck jobs to the queue (unless told not to), claim due ones, run
        them (complete or fail)."""
        changed = set(self.expire_stuck()) if reclaim_stuck else set()
        for job in self.claim(worker, limit):
            pool = (errors or {}).get(job.get("type") or "") or ["Error: simulated failure"]
            error = self.rng.choice(pool) if self.rng.random() < failure_rate else None
            self.finish(job["_id"], worker, error)
            changed.add(job["_id"])
        return changed
