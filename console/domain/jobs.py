"""The outbox job store's rules: states, claiming, failure with backoff, manual retry, cancel.

Jobs are documents (dicts in the product's field names). Functions here return the new document (or
raise JobRuleError); storing it atomically is the caller's business.

Manual retry rule: a manual retry runs the job now and gives it a fresh automatic budget. `attempts`
keeps counting every attempt ever made; `retryBase` remembers how many were made before the last
manual retry, and the job is dead when `attempts - retryBase` reaches `maxAttempts`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

PENDING, RUNNING, RETRYING, DEAD, SUCCEEDED, CANCELED = "pending", "running", "retrying", "dead", "succeeded", "canceled"
STATES = (PENDING, RUNNING, RETRYING, DEAD, SUCCEEDED, CANCELED)
RUNNABLE = (PENDING, RETRYING)
FINISHED = (DEAD, SUCCEEDED, CANCELED)
FAILED_STATES = (RETRYING, DEAD)  # what error groups count: a failed attempt waiting to retry, or dead


@dataclass(frozen=True)
class RetryPolicy:
    """Defaults as Convex's workpool: 5 attempts, 250 ms initial backoff, base 2, jitter in [0.5, 1.5)."""

    max_attempts: int = 5
    initial_backoff_ms: int = 250
    base: float = 2.0
    lease_ms: int = 60_000

    def backoff_ms(self, attempts: int, rng: random.Random | None = None) -> int:
        jitter = (rng or random).uniform(0.5, 1.5)
        return int(self.initial_backoff_ms * self.base ** (attempts - 1) * jitter)


DEFAULT_POLICY = RetryPolicy()


class JobRuleError(Exception):
    pass


def budget_used(job: dict) -> int:
    return int(job.get("attempts") or 0) - int(job.get("retryBase") or 0)


def is_stuck(job: dict, now_ms: int) -> bool:
    """Claimed and past its lease: the worker died or hung; the job may be reclaimed."""
    if job.get("status") != RUNNING or job.get("claimedAt") is None:
        return False
    return now_ms > int(job["claimedAt"]) + int(job.get("leaseMs") or DEFAULT_POLICY.lease_ms)


def new_job(key: str, jtype: str, payload: dict, now_ms: int, *, max_attempts: int | None = None,
            run_at_ms: int | None = None) -> dict:
    return {
        "key": key, "type": jtype, "payload": payload, "status": PENDING, "attempts": 0,
        "maxAttempts": max_attempts or DEFAULT_POLICY.max_attempts, "nextRunAt": run_at_ms or now_ms,
        "errors": [], "createdAt": now_ms, "updatedAt": now_ms,
    }


def claimable(job: dict, now_ms: int) -> bool:
    return job.get("status") in RUNNABLE and int(job.get("nextRunAt") or 0) <= now_ms


def claim(job: dict, worker: str, now_ms: int, policy: RetryPolicy = DEFAULT_POLICY) -> dict:
    if not claimable(job, now_ms):
        raise JobRuleError(f"job is {job.get('status')} and not due: it cannot be claimed")
    out = dict(job, status=RUNNING, claimedAt=now_ms, claimedBy=worker, leaseMs=policy.lease_ms,
               attempts=int(job.get("attempts") or 0) + 1, updatedAt=now_ms)
    out.pop("nextRunAt", None)
    return out


def complete(job: dict, now_ms: int) -> dict:
    if job.get("status") != RUNNING:
        raise JobRuleError(f"only a running job can complete (this one is {job.get('status')})")
    return dict(job, status=SUCCEEDED, updatedAt=now_ms, claimedAt=None, claimedBy=None)


def fail(job: dict, error: str, now_ms: int, policy: RetryPolicy = DEFAULT_POLICY,
         rng: random.Random | None = None) -> dict:
    if job.get("status") != RUNNING:
        raise JobRuleError(f"only a running job can fail (this one is {job.get('status')})")
    attempts = int(job.get("attempts") or 0)
    errors = list(job.get("errors") or []) + [{"attempt": attempts, "at": now_ms, "error": error}]
    out = dict(job, errors=errors, lastError=error, updatedAt=now_ms, claimedAt=None, claimedBy=None)
    if budget_used(job) >= int(job.get("maxAttempts") or policy.max_attempts):
        out.update(status=DEAD)
        out.pop("nextRunAt", None)
    else:
        out.update(status=RETRYING, nextRunAt=now_ms + policy.backoff_ms(budget_used(job), rng))
    return out


def expire_lease(job: dict, now_ms: int, policy: RetryPolicy = DEFAULT_POLICY,
                 rng: random.Random | None = None) -> dict:
    """A stuck job goes back to the queue: its lost attempt counts as failed (and may make it dead)."""
    if not is_stuck(job, now_ms):
        raise JobRuleError("only a job claimed past its lease can be reclaimed")
    held = now_ms - int(job["claimedAt"])
    return fail(job, f"Lease expired: {job.get('claimedBy') or 'the worker'} held the job {held // 1000} s "
                     f"(lease {int(job.get('leaseMs') or policy.lease_ms) // 1000} s) without finishing it",
                now_ms, policy, rng)


def retry_refusal(status: str | None, stuck: bool = False) -> str | None:
    """Why a job in this state cannot be retried by hand (None: it can). Asked up front by the UI."""
    if status == RUNNING and not stuck:
        return "the job is running now; retry it if it fails or gets stuck"
    if status == SUCCEEDED:
        return "the job succeeded; enqueue a new job to run it again"
    return None


def cancel_refusal(status: str | None) -> str | None:
    """Why a job in this state cannot be canceled (None: it can)."""
    if status in FINISHED:
        return f"the job is already {status}"
    return None


def bulk_eligible(verb: str, status: str | None) -> bool:
    """Whether a bulk action may act on a job in this state (asked before the cap is spent on it): retry
    everything but succeeded jobs (a running one is retried only if stuck, checked per job), cancel what is
    not finished, purge what is."""
    if verb == "retry":
        return status != SUCCEEDED
    if verb == "cancel":
        return status not in FINISHED
    if verb == "purge":
        return status in FINISHED
    raise ValueError(f"not a bulk action: {verb}")


def manual_retry(job: dict, now_ms: int) -> dict:
    refusal = retry_refusal(job.get("status"), is_stuck(job, now_ms))
    if refusal:
        raise JobRuleError(refusal)
    return dict(job, status=PENDING, nextRunAt=now_ms, retryBase=int(job.get("attempts") or 0),
                manualRetries=int(job.get("manualRetries") or 0) + 1, updatedAt=now_ms, claimedAt=None,
                claimedBy=None)


def cancel(job: dict, now_ms: int) -> dict:
    refusal = cancel_refusal(job.get("status"))
    if refusal:
        raise JobRuleError(refusal)
    out = dict(job, status=CANCELED, updatedAt=now_ms, claimedAt=None, claimedBy=None)
    out.pop("nextRunAt", None)
    return out


def check_purge(job: dict) -> None:
    """Only finished jobs (succeeded, canceled, dead) may be deleted: a waiting or running one would be lost."""
    if job.get("status") not in FINISHED:
        raise JobRuleError(f"only finished jobs can be purged (this one is {job.get('status')})")
