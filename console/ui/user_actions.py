"""Role and activation changes, shared by the Roles and Users panels: in the demo on the local replica,
live through the console contract acting as the operator. Optimistic: the proposed state shows at once,
is confirmed when the replica has it, and is rolled back with the server's reason when refused."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from sqlalchemy import Engine, text

from console.client import errors as E
from console.domain import roles as R
from console.domain.optimistic import OptimisticState
from console.store.jobstore import Refused
from console.store.roles import LocalRoleStore
from console.ui.context import AppContext


class UserActions(QObject):
    changed = Signal(object)  # the key whose optimistic state changed
    refused = Signal(object, str)  # key, reason

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.optimistic = OptimisticState()
        self._tasks: set[asyncio.Future] = set()

    @property
    def live(self) -> bool:
        return self.ctx.live is not None

    def _run(self, key: tuple[str, str], previous: Any, proposed: Any, local: Callable[[LocalRoleStore], Any],
             function: str, args: dict[str, Any], done: Callable[[], None] | None = None,
             seen_ts: int | None = None) -> None:
        self.optimistic.propose(key, previous, proposed)
        self.changed.emit(key)

        def ok(_result: Any = None) -> None:
            self.optimistic.accepted(key)
            self.changed.emit(key)
            if done:
                done()

        def no(reason: str) -> None:
            self.optimistic.refused(key, reason)
            self.changed.emit(key)
            self.refused.emit(key, reason)

        if not self.live:
            engine = self.ctx.engine

            def work() -> Any:
                return local(LocalRoleStore(engine))

            def after(result: Any) -> None:
                ok(result)
                # The replica changed locally: tell the panels, which confirm what they now see.
                self.ctx.data_changed.emit({"users" if key[0] != "member" else "members": {key[1]}})

            self.ctx.tasks.run(work, after, lambda exc: no(str(exc) if isinstance(exc, Refused) else repr(exc)))
            return
        client, identity = self.ctx.live.client, self.ctx.live.identity()
        if identity is None:
            no("No operator identity: choose who is operating in Settings.")
            return

        async def remote(args: dict[str, Any]) -> None:
            try:
                await client.mutation(function, args, identity=identity)
            except E.FunctionError as exc:
                data = exc.error_data if isinstance(exc.error_data, dict) else {}
                no(str(data.get("message") or exc))
            except E.ConvexRequestError as exc:
                no(str(exc))
            else:
                ok()

        def send(args: dict[str, Any]) -> None:
            task = asyncio.ensure_future(remote(args))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        if seen_ts is None or key[0] == "member":
            send(args)
            return

        # The deployment's stale-view check is the user's `opsVersion` (functions cannot read `_ts`):
        # the one the replica holds, if the replica still has the version of the document the operator saw.
        engine = self.ctx.engine

        def version() -> float | None:
            return replica_version(engine, key[1], seen_ts)

        def after(found: float | None) -> None:
            if found is None:
                no(R.check_version(1, 0, "user") or "")
            else:
                send({**args, "expectedVersion": found})

        self.ctx.tasks.run(version, after, lambda exc: no(repr(exc)))

    def set_roles(self, user_id: str, current: list[str], roles: list[str], reason: str, expected_ts: int,
                  done: Callable[[], None] | None = None) -> None:
        actor = self.ctx.operator_id()
        self._run(("roles", user_id), sorted(current), sorted(roles),
                  lambda s: s.set_user_roles(user_id, set(roles), actor, reason, expected_ts),
                  "console:setUserRoles", {"userId": user_id, "roles": sorted(roles), "reason": reason}, done,
                  expected_ts)

    def set_active(self, user_id: str, current: bool, active: bool, reason: str, expected_ts: int,
                   done: Callable[[], None] | None = None) -> None:
        actor = self.ctx.operator_id()
        self._run(("active", user_id), current, active,
                  lambda s: s.set_user_active(user_id, active, actor, reason, expected_ts),
                  "console:setUserActive", {"userId": user_id, "active": active, "reason": reason}, done,
                  expected_ts)

    def set_member_role(self, member_id: str, current: str, role: str, reason: str, expected_ts: int,
                        done: Callable[[], None] | None = None) -> None:
        actor = self.ctx.operator_id()
        self._run(("member", member_id), current, role,
                  lambda s: s.set_member_role(member_id, role, actor, reason, expected_ts),
                  "console:setMemberRole", {"memberId": member_id, "role": role, "reason": reason,
                                            "expectedRole": current}, done)


def replica_version(engine: Engine, user_id: str, seen_ts: int) -> float | None:
    """The user's `opsVersion` (a v.number(), so a float) if the replica's copy is the one seen (its `_ts`),
    else None: the replica already has a newer version, so the view is stale."""
    with engine.connect() as conn:
        row = conn.execute(text("SELECT ts, json_extract(doc, '$.opsVersion') FROM users WHERE id = :id"),
                           {"id": user_id}).first()
    if row is None or int(row[0]) != int(seen_ts):
        return None
    return float(row[1] or 0)


def user_actions(ctx: AppContext) -> UserActions:
    """One UserActions per context, so every panel sees the same pending changes."""
    actions = getattr(ctx, "_user_actions", None)
    if actions is None:
        actions = UserActions(ctx)
        ctx._user_actions = actions  # type: ignore[attr-defined]
    return actions
