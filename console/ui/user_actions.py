"""Role and activation changes, shared by the Roles and Users panels, through the context's backend (the
demo's local replica, or the console contract acting as the operator). Optimistic: the proposed state shows at once,
is confirmed when the replica has it, and is rolled back with the server's reason when refused."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from PySide6.QtCore import QObject, Signal

from console.backend.base import Backend, Outcome, Refused, replica_version
from console.domain.optimistic import OptimisticState
from console.ui.context import AppContext

__all__ = ["UserActions", "replica_version", "user_actions"]


class UserActions(QObject):
    changed = Signal(object)  # the key whose optimistic state changed
    refused = Signal(object, str)  # key, reason

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.optimistic = OptimisticState()

    @property
    def live(self) -> bool:
        return self.ctx.live is not None

    def _run(self, key: tuple[str, str], previous: Any, proposed: Any,
             action: Callable[[Backend], Awaitable[Outcome]], done: Callable[[], None] | None = None) -> None:
        self.optimistic.propose(key, previous, proposed)
        self.changed.emit(key)
        backend = self.ctx.backend

        async def run() -> None:
            try:
                outcome = await action(backend)
            except Refused as exc:
                reason = str(exc)
            except Exception as exc:  # noqa: BLE001  (rolled back with the reason, not lost)
                reason = repr(exc)
            else:
                self.optimistic.accepted(key)
                self.changed.emit(key)
                # A local write changed the replica: panels confirm what they now see.
                self.ctx.announce(outcome.changes)
                if done:
                    done()
                return
            self.optimistic.refused(key, reason)
            self.changed.emit(key)
            self.refused.emit(key, reason)

        self.ctx.tasks.spawn(run())

    def set_roles(self, user_id: str, current: list[str], roles: list[str], reason: str, expected_ts: int,
                  done: Callable[[], None] | None = None) -> None:
        self._run(("roles", user_id), sorted(current), sorted(roles),
                  lambda b: b.set_roles(user_id, sorted(roles), reason, expected_ts), done)

    def set_active(self, user_id: str, current: bool, active: bool, reason: str, expected_ts: int,
                   done: Callable[[], None] | None = None) -> None:
        self._run(("active", user_id), current, active,
                  lambda b: b.set_active(user_id, active, reason, expected_ts), done)

    def set_member_role(self, member_id: str, current: str, role: str, reason: str, expected_ts: int,
                        done: Callable[[], None] | None = None) -> None:
        self._run(("member", member_id), current, role,
                  lambda b: b.set_member_role(member_id, current, role, reason, expected_ts), done)


def user_actions(ctx: AppContext) -> UserActions:
    """One UserActions per context, so every panel sees the same pending changes."""
    actions = getattr(ctx, "_user_actions", None)
    if actions is None:
        actions = UserActions(ctx)
        ctx._user_actions = actions  # type: ignore[attr-defined]
    return actions
