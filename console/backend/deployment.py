"""Live mode's backend: the console contract on the deployment, called as the operator.

The arguments are exactly the contract's (console/contract/args.json): `jobId`; `filter`, `limit`,
`reason`; users `userId`, `roles`/`active`, `reason`, `expectedVersion`; members `memberId`, `role`,
`reason`, `expectedRole`. Numbers are v.number(), so floats. A refusal by the deployment (a
FunctionError with its message, or a request error) raises Refused, as the local store does.
"""

from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import Engine

from console.backend.base import BULK_FUNCTIONS, BULK_WORDS, Backend, Outcome, Progress, Refused, Runner, each_message, ended_message, replica_version
from console.client import errors as E
from console.domain import roles as R
from console.store.chats import Message, MessagePage
from console.store.jobs import STUCK, JobQuery

NO_IDENTITY = "No operator identity: choose who is operating in Settings."


def contract_filter(q: JobQuery) -> dict[str, Any]:
    """The console contract's filter for a panel query (stuck jobs are running ones to the deployment)."""
    out: dict[str, Any] = {}
    if q.status:
        out["status"] = "running" if q.status == STUCK else q.status
    for field, name in (("type", "type"), ("key", "key"), ("id", "id"), ("created_from", "createdFrom"),
                        ("created_to", "createdTo"), ("user_id", "userId")):
        value = getattr(q, field)
        if value not in (None, ""):
            out[name] = float(value) if name.startswith("created") else value  # v.number(): Float64
    if q.text.strip():
        out["text"] = q.text.strip()
    if q.error_group:
        out["errorGroup"] = q.error_group
    return out


def reason_of(exc: E.ConvexRequestError) -> str:
    if isinstance(exc, E.FunctionError):
        data = exc.error_data if isinstance(exc.error_data, dict) else {}
        return str(data.get("message") or exc)
    return str(exc)


class DeploymentBackend(Backend):
    name = "deployment"
    remote = True

    def __init__(self, engine: Engine, client: Any, *, read: Runner, write: Runner,
                 operator: Callable[[], str | None], identity: Callable[[], dict[str, Any] | None],
                 on_failure: Callable[[Refused], None] | None = None) -> None:
        super().__init__(engine, read=read, write=write, operator=operator)
        self.client = client
        self.identity = identity
        self.on_failure = on_failure  # every call the deployment refused or failed, with its request id

    def refusal(self) -> str | None:
        return None if self.identity() is not None else NO_IDENTITY

    async def _mutation(self, function: str, args: dict[str, Any]) -> Any:
        identity = self.identity()
        if identity is None:
            raise Refused(NO_IDENTITY)
        try:
            return await self.client.mutation(function, args, identity=identity)
        except E.ConvexRequestError as exc:
            refused = Refused(reason_of(exc), function=function, request_id=exc.request_id)
            if self.on_failure is not None:
                self.on_failure(refused)
            raise refused from exc

    async def _each(self, verb: str, function: str, job_ids: list[str], reason: str = "") -> Outcome:
        refused: list[str] = []
        for job_id in job_ids:
            try:
                await self._mutation(function, {"jobId": job_id, **({"reason": reason} if reason else {})})
            except Refused as exc:
                if len(job_ids) == 1 or str(exc) == NO_IDENTITY:
                    raise
                refused.append(str(exc))
        return Outcome(each_message(verb, len(job_ids), refused, True))

    async def retry(self, job_ids: list[str], reason: str = "") -> Outcome:
        return await self._each("retry", "console:retryJob", job_ids, reason)

    async def cancel(self, job_ids: list[str], reason: str = "") -> Outcome:
        return await self._each("cancel", "console:cancelJob", job_ids, reason)

    async def bulk_matching(self, verb: str, query: JobQuery, cap: int, reason: str, progress: Progress | None = None,
                            canceled: Callable[[], bool] | None = None) -> Outcome:
        _past, key = BULK_WORDS[verb]
        r = await self._mutation(BULK_FUNCTIONS[verb], {"filter": contract_filter(query), "limit": float(cap),
                                                        "reason": reason})
        return Outcome(f"The deployment {key} {int(r.get(key, 0))} of {int(r.get('matched', 0))} matching jobs",
                       value=r)

    async def _versioned(self, function: str, args: dict[str, Any], user_id: str, seen_ts: int) -> Outcome:
        # The deployment's stale-view check is the user's `opsVersion` (functions cannot read `_ts`):
        # the one the replica holds, if the replica still has the version of the document the operator saw.
        if self.identity() is None:
            raise Refused(NO_IDENTITY)
        engine = self.engine
        found = await self.read(lambda: replica_version(engine, user_id, seen_ts))
        if found is None:
            raise Refused(R.check_version(1, 0, "user") or "")
        await self._mutation(function, {**args, "expectedVersion": found})
        return Outcome()

    async def set_roles(self, user_id: str, roles: list[str], reason: str, expected_ts: int) -> Outcome:
        return await self._versioned("console:setUserRoles", {"userId": user_id, "roles": sorted(roles),
                                                              "reason": reason}, user_id, expected_ts)

    async def set_active(self, user_id: str, active: bool, reason: str, expected_ts: int) -> Outcome:
        return await self._versioned("console:setUserActive", {"userId": user_id, "active": active,
                                                               "reason": reason}, user_id, expected_ts)

    async def set_member_role(self, member_id: str, current: str, role: str, reason: str,
                              expected_ts: int) -> Outcome:
        await self._mutation("console:setMemberRole", {"memberId": member_id, "role": role, "reason": reason,
                                                       "expectedRole": current})
        return Outcome()

    async def end_session(self, session_id: str, reason: str) -> Outcome:
        r = await self._mutation("console:endSession", {"sessionId": session_id, "reason": reason})
        return Outcome(ended_message(r if isinstance(r, dict) else {}), value=r)

    async def end_user_sessions(self, user_id: str, reason: str) -> Outcome:
        r = await self._mutation("console:endUserSessions", {"userId": user_id, "reason": reason})
        return Outcome(ended_message(r if isinstance(r, dict) else {}), value=r)

    async def chat_page(self, chat_id: str, limit: int, before: int | None = None) -> MessagePage:
        """`console:listMessages` through the client, on the event loop (no worker thread involved)."""
        args: dict[str, Any] = {"chatId": chat_id, "limit": float(limit)}  # v.number() arguments: Float64
        if before is not None:
            args["before"] = float(before)
        result = await self.client.query("console:listMessages", args)
        msgs = [Message(d["_id"], d.get("chatId", chat_id), d.get("role") or "", d.get("body") or "",
                        int(d.get("createdAt") or 0), d.get("clientMessageId")) for d in result.get("page", [])]
        return MessagePage(msgs, not result.get("isDone", True))
