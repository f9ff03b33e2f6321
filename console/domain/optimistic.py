"""Optimistic changes (the design's OptimisticOrgState): each pending change keeps the state it
replaced, so the UI shows the edit at once, confirms it when the server accepted it and the replica
shows it, and rolls it back with the server's reason when refused."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

PENDING, ACCEPTED, CONFIRMED, REFUSED = "pending", "accepted", "confirmed", "refused"


@dataclass
class Change:
    key: tuple[str, str]  # (kind, document id), e.g. ("roles", user id) or ("member", member id)
    previous: Any
    proposed: Any
    status: str = PENDING
    reason: str = ""
    seen: bool = False  # the replica showed the proposed value before the server's answer arrived
    at: float = field(default_factory=time.time)


class OptimisticState:
    def __init__(self) -> None:
        self.changes: dict[tuple[str, str], Change] = {}

    def propose(self, key: tuple[str, str], previous: Any, proposed: Any) -> Change:
        existing = self.changes.get(key)
        # A change on top of a pending one still rolls back to what the replica last showed.
        base = existing.previous if existing and existing.status in (PENDING, ACCEPTED) else previous
        change = Change(key, base, proposed)
        self.changes[key] = change
        return change

    def accepted(self, key: tuple[str, str]) -> None:
        """The server said yes; the change stays shown until the replica has it."""
        change = self.changes.get(key)
        if change and change.status == PENDING:
            change.status = ACCEPTED
            if change.seen:  # the replica was faster than the answer: nothing left to wait for
                change.status = CONFIRMED
                del self.changes[key]

    def refused(self, key: tuple[str, str], reason: str) -> Change | None:
        change = self.changes.pop(key, None)
        if change:
            change.status, change.reason = REFUSED, reason
        return change

    def observed(self, key: tuple[str, str], value: Any) -> bool:
        """The replica now shows `value` for `key`: an accepted change that matches it is confirmed."""
        change = self.changes.get(key)
        if change and change.status == PENDING:
            change.seen = value == change.proposed
            return False
        if change and change.status == ACCEPTED and value == change.proposed:
            change.status = CONFIRMED
            del self.changes[key]
            return True
        return False

    def shown(self, key: tuple[str, str], replica_value: Any) -> tuple[Any, str | None]:
        """What to display for `key`: the proposed value while a change is in flight, else the replica's."""
        change = self.changes.get(key)
        if change and change.status in (PENDING, ACCEPTED):
            return change.proposed, change.status
        return replica_value, None
