"""The backend interface: every operator action, awaitable, answering an Outcome or raising Refused."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from sqlalchemy import Engine, text

from console.changes import ChangeSet
from console.store.jobs import JobQuery
from console.store.jobstore import Refused
from console.store.chats import MessagePage

Runner = Callable[[Callable[[], Any]], Awaitable[Any]]  # runs a blocking function off the GUI thread
Progress = Callable[[int, int], None]  # done, total: may be called from a worker thread

__all__ = ["Backend", "Outcome", "Refused", "Runner", "Progress"]


@dataclass
class Outcome:
    """What an accepted action says, and what it changed in the replica (empty when the change comes back
    later, through the sync)."""

    message: str = ""
    changes: ChangeSet = field(default_factory=ChangeSet)
    value: Any = None


def ended_message(result: dict) -> str:
    n = int(result.get("ended") or 0)
    return f"Ended {n} session{'' if n == 1 else 's'}."


BULK_FUNCTIONS = {"retry": "console:retryJobs", "cancel": "console:cancelJobs", "purge": "console:purgeJobs"}
BULK_WORDS = {"retry": ("Retried", "retried"), "cancel": ("Canceled", "canceled"), "purge": ("Purged", "purged")}


class Backend:
    """Where operator actions go. Every method raises `Refused(reason)` when the action is not done."""

    name = "backend"
    #: True when the replica shows the action's effect only after the next sync.
    remote = False

    def __init__(self, engine: Engine, *, read: Runner, write: Runner,
                 operator: Callable[[], str | None]) -> None:
        self.engine = engine
        self.read = read
        self.write = write
        self.operator = operator

    def refusal(self) -> str | None:
        """Why no action can be sent at all (None: they can)."""
        return None

    # -- jobs ----------------------------------------------------------------------------------------------
    async def retry(self, job_ids: list[str], reason: str = "") -> Outcome:
        raise NotImplementedError

    async def cancel(self, job_ids: list[str], reason: str = "") -> Outcome:
        raise NotImplementedError

    async def retry_matching(self, query: JobQuery, cap: int, reason: str, progress: Progress | None = None,
                             canceled: Callable[[], bool] | None = None) -> Outcome:
        return await self.bulk_matching("retry", query, cap, reason, progress, canceled)

    async def bulk_matching(self, verb: str, query: JobQuery, cap: int, reason: str, progress: Progress | None = None,
                            canceled: Callable[[], bool] | None = None) -> Outcome:
        """Retry, cancel or purge (delete finished) up to `cap` jobs matching `query`, one audit entry."""
        raise NotImplementedError

    # -- users and members -----------------------------------------------------------------------------------
    async def set_roles(self, user_id: str, roles: list[str], reason: str, expected_ts: int) -> Outcome:
        raise NotImplementedError

    async def set_active(self, user_id: str, active: bool, reason: str, expected_ts: int) -> Outcome:
        raise NotImplementedError

    async def set_member_role(self, member_id: str, current: str, role: str, reason: str,
                              expected_ts: int) -> Outcome:
        raise NotImplementedError

    # -- chats -----------------------------------------------------------------------------------------------
    async def chat_page(self, chat_id: str, limit: int, before: int | None = None) -> MessagePage:
        raise NotImplementedError

    # -- sessions (sessions:revoke, with a reason) ---------------------------------------------------------------
    async def end_session(self, session_id: str, reason: str) -> Outcome:
        raise NotImplementedError

    async def end_user_sessions(self, user_id: str, reason: str) -> Outcome:
        raise NotImplementedError

    # -- webhooks: a replay is recorded in the replica in either mode -----------------------------------------
    async def record_replay(self, delivery_id: str, target: str, mode: str, status: int | None,
                            latency_ms: float | None, excerpt: str, error: str, **audit: str) -> Outcome:
        """`audit`: actor, deployment, reason, batch (the console's own audit entry of the replay)."""
        from console.store.webhooks import record_replay

        engine = self.engine

        def work() -> ChangeSet:
            return record_replay(engine, delivery_id, target, mode, status, latency_ms, excerpt, error, **audit)

        return Outcome("Replay recorded", await self.write(work))


def each_message(verb: str, total: int, refused: list[str], remote: bool) -> str:
    ok = total - len(refused)
    where = " (the deployment's answer arrives with the next sync)" if remote else ""
    return f"{verb.capitalize()}: {ok} of {total} jobs" + (f"; refused: {refused[0]}" if refused else "") + where


def replica_version(engine: Engine, user_id: str, seen_ts: int) -> float | None:
    """The user's `opsVersion` (a v.number(), so a float) if the replica's copy is the one seen (its `_ts`),
    else None: the replica already has a newer version, so the view is stale."""
    with engine.connect() as conn:
        row = conn.execute(text("SELECT ts, json_extract(doc, '$.opsVersion') FROM users WHERE id = :id"),
                           {"id": user_id}).first()
    if row is None or int(row[0]) != int(seen_ts):
        return None
    return float(row[1] or 0)


def now_ms() -> int:
    return int(time.time() * 1000)
