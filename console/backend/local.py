"""The demo's backend: actions on the local replica (the local job and role stores), on the writer."""

from __future__ import annotations

from typing import Callable

from console.backend.base import BULK_WORDS, Backend, Outcome, Progress, Refused, each_message, ended_message
from console.changes import ChangeSet
from console.chats.loader import ReplicaSource
from console.domain.counts import count
from console.store.chats import MessagePage
from console.store.jobs import JobQuery
from console.store.jobstore import LocalJobStore
from console.store.roles import LocalRoleStore
from console.store.sessions import LocalSessionStore


class LocalBackend(Backend):
    name = "local"

    async def _each(self, verb: str, job_ids: list[str], reason: str = "") -> Outcome:
        engine, actor = self.engine, self.operator()

        def work() -> Outcome:
            store = LocalJobStore(engine)
            refused: list[str] = []
            for job_id in job_ids:
                try:
                    (store.retry if verb == "retry" else store.cancel)(job_id, actor, reason or None)
                except Refused as exc:
                    if len(job_ids) == 1:
                        raise
                    refused.append(str(exc))
            return Outcome(each_message(verb, len(job_ids), refused, False), store.changes)

        outcome: Outcome = await self.write(work)
        return outcome

    async def retry(self, job_ids: list[str], reason: str = "") -> Outcome:
        return await self._each("retry", job_ids, reason)

    async def cancel(self, job_ids: list[str], reason: str = "") -> Outcome:
        return await self._each("cancel", job_ids, reason)

    async def bulk_matching(self, verb: str, query: JobQuery, cap: int, reason: str, progress: Progress | None = None,
                            canceled: Callable[[], bool] | None = None) -> Outcome:
        engine, actor = self.engine, self.operator()
        past, key = BULK_WORDS[verb]

        def work() -> Outcome:
            store = LocalJobStore(engine)
            many = {"retry": store.retry_many, "cancel": store.cancel_many, "purge": store.purge_many}[verb]
            r = many(query, cap, actor, reason, progress=progress, canceled=canceled)
            skipped = ", ".join(f"{count(n)} {s}" for s, n in r["skipped"].items())
            return Outcome(f"{past} {count(r[key])} of {count(r['selected'])} matching jobs"
                           + (f" (skipped {skipped})" if skipped else "") + (" — stopped early" if r["stopped"] else ""),
                           store.changes, r)

        outcome: Outcome = await self.write(work)
        return outcome

    async def _roles(self, op: Callable[[LocalRoleStore], object]) -> Outcome:
        engine = self.engine

        def work() -> Outcome:
            store = LocalRoleStore(engine)
            value = op(store)
            return Outcome("", store.changes, value)

        outcome: Outcome = await self.write(work)
        return outcome

    async def set_roles(self, user_id: str, roles: list[str], reason: str, expected_ts: int) -> Outcome:
        actor = self.operator()
        return await self._roles(lambda s: s.set_user_roles(user_id, set(roles), actor, reason, expected_ts))

    async def set_active(self, user_id: str, active: bool, reason: str, expected_ts: int) -> Outcome:
        actor = self.operator()
        return await self._roles(lambda s: s.set_user_active(user_id, active, actor, reason, expected_ts))

    async def set_member_role(self, member_id: str, current: str, role: str, reason: str,
                              expected_ts: int) -> Outcome:
        actor = self.operator()
        return await self._roles(lambda s: s.set_member_role(member_id, role, actor, reason, expected_ts))

    async def _sessions(self, op: Callable[[LocalSessionStore], dict]) -> Outcome:
        engine = self.engine

        def work() -> Outcome:
            store = LocalSessionStore(engine)
            result = op(store)
            return Outcome(ended_message(result), store.changes, result)

        outcome: Outcome = await self.write(work)
        return outcome

    async def end_session(self, session_id: str, reason: str) -> Outcome:
        actor = self.operator()
        return await self._sessions(lambda s: s.end_session(session_id, actor, reason))

    async def end_user_sessions(self, user_id: str, reason: str) -> Outcome:
        actor = self.operator()
        return await self._sessions(lambda s: s.end_user_sessions(user_id, actor, reason))

    async def chat_page(self, chat_id: str, limit: int, before: int | None = None) -> MessagePage:
        source = ReplicaSource(self.engine)
        page: MessagePage = await self.read(lambda: source(chat_id, limit, before))
        return page


__all__ = ["LocalBackend", "ChangeSet"]
