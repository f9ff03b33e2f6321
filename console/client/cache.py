"""Query cache with TTL and stale-while-revalidate, and the invalidation table.

An entry is fresh for `ttl` seconds; after that, for `stale_for` more seconds, it is still returned at
once while one background refetch replaces it. Mutations and auth events remove entries through the
invalidation table below: one place that says what each write makes stale.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable

Key = tuple[str, str, str]  # (function path, canonical args JSON, identity subject or "")


def canonical(args: dict[str, Any]) -> str:
    return json.dumps(args, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def make_key(path: str, args: dict[str, Any], identity: dict[str, Any] | None) -> Key:
    return (path, canonical(args), (identity or {}).get("subject", ""))


@dataclass
class Entry:
    value: Any
    fetched_at: float
    args: dict[str, Any]


class QueryCache:
    def __init__(self, ttl: float = 60.0, stale_for: float = 300.0, max_entries: int = 5000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.stale_for = stale_for
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[Key, Entry] = {}

    def lookup(self, key: Key) -> tuple[str, Any]:
        """("fresh" | "stale" | "miss", value)."""
        entry = self._entries.get(key)
        if entry is None:
            return "miss", None
        age = self.clock() - entry.fetched_at
        if age <= self.ttl:
            return "fresh", entry.value
        if age <= self.ttl + self.stale_for:
            return "stale", entry.value
        del self._entries[key]
        return "miss", None

    def store(self, key: Key, value: Any, args: dict[str, Any]) -> None:
        self._entries.pop(key, None)
        self._entries[key] = Entry(value, self.clock(), args)
        while len(self._entries) > self.max_entries:
            self._entries.pop(next(iter(self._entries)))  # oldest inserted first

    def invalidate(self, path: str, match: dict[str, Any] | None = None) -> int:
        """Drop entries of `path` (a trailing `*` matches a prefix) whose args contain `match`."""
        prefix = path[:-1] if path.endswith("*") else None
        doomed = []
        for key, entry in self._entries.items():
            if (key[0].startswith(prefix) if prefix is not None else key[0] == path) and (
                not match or all(entry.args.get(k) == v for k, v in match.items())
            ):
                doomed.append(key)
        for key in doomed:
            del self._entries[key]
        return len(doomed)

    def invalidate_identity(self) -> int:
        """Drop everything read as a particular user (login, logout, operator change)."""
        doomed = [k for k in self._entries if k[2]]
        for key in doomed:
            del self._entries[key]
        return len(doomed)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


# -- the invalidation table ------------------------------------------------------------------------
# (query path, which of the mutation's args must match the query's args: {query arg: mutation arg})
Rule = tuple[str, dict[str, str]]

MUTATIONS: dict[str, list[Rule]] = {
    # organizations (Better Auth): create invalidates the list; update invalidates that organization and the list
    "organizations:create": [("organizations:list", {})],
    "organizations:update": [("organizations:get", {"organizationId": "organizationId"}), ("organizations:list", {})],
    "organizations:remove": [("organizations:get", {"organizationId": "organizationId"}), ("organizations:list", {})],
    # the console contract
    "console:setUserRoles": [("users:get", {"userId": "userId"}), ("users:list", {}), ("console:whoami", {})],
    "console:setUserActive": [("users:get", {"userId": "userId"}), ("users:list", {}), ("console:whoami", {})],
    "console:setMemberRole": [("organizations:get", {"organizationId": "organizationId"}),
                              ("organizations:list", {}),
                              ("organizations:members", {"organizationId": "organizationId"})],
    "console:retryJob": [("jobs:get", {"jobId": "jobId"}), ("jobs:list", {}), ("jobs:stats", {})],
    "console:cancelJob": [("jobs:get", {"jobId": "jobId"}), ("jobs:list", {}), ("jobs:stats", {})],
    "console:retryJobs": [("jobs:get", {}), ("jobs:list", {}), ("jobs:stats", {})],
    "messages:send": [("messages:list", {"chatId": "chatId"}), ("chats:list", {})],
}

# Events that are not mutations of data but change what the same query returns.
EVENTS: dict[str, list[Rule]] = {
    "login": [("auth:*", {}), ("users:me", {}), ("console:whoami", {})],
    "logout": [("auth:*", {}), ("users:me", {}), ("console:whoami", {})],
    "switchOrganization": [("organizations:getActive", {}), ("organizations:members", {})],
}


def rules_for(mutation: str) -> list[Rule]:
    return MUTATIONS.get(mutation, [])


def apply_rules(cache: QueryCache, rules: list[Rule], args: dict[str, Any]) -> int:
    dropped = 0
    for query, mapping in rules:
        match = {q: args[m] for q, m in mapping.items() if m in args}
        dropped += cache.invalidate(query, match or None)
    return dropped
