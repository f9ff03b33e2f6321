"""The hover-prefetch cache (from the chat-sync design): each chat's latest page of messages, keyed by
chat id, with a TTL, bounded in entries and bytes (LRU), and statistics a person can read."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class Stats:
    hits: int = 0
    misses: int = 0
    prefetches: int = 0
    evictions: int = 0
    expired: int = 0
    invalidations: int = 0
    backend_calls: int = 0

    @property
    def hit_ratio(self) -> float | None:
        total = self.hits + self.misses
        return self.hits / total if total else None

    @property
    def calls_saved(self) -> int:
        """Opens answered from the cache: each would have been a call to the source."""
        return self.hits


@dataclass
class Entry:
    page: Any  # a MessagePage
    size: int
    fetched_at: float


class PrefetchCache:
    def __init__(self, *, ttl: float = 30.0, max_entries: int = 200, max_bytes: int = 8 * 1024 * 1024,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.clock = clock
        self.stats = Stats()
        self._entries: "OrderedDict[str, Entry]" = OrderedDict()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, chat_id: str) -> bool:
        return self.peek(chat_id) is not None

    def peek(self, chat_id: str) -> Any:
        """The cached page if fresh, without counting a hit or a miss (hover previews, prefetch checks)."""
        entry = self._entries.get(chat_id)
        if entry is None:
            return None
        if self.clock() - entry.fetched_at > self.ttl:
            self._drop(chat_id)
            self.stats.expired += 1
            return None
        return entry.page

    def get(self, chat_id: str) -> Any:
        """Opening a chat: the cached page (a hit) or None (a miss; the caller reads the source)."""
        page = self.peek(chat_id)
        if page is None:
            self.stats.misses += 1
            return None
        self._entries.move_to_end(chat_id)
        self.stats.hits += 1
        return page

    def put(self, chat_id: str, page: Any, size: int, *, prefetched: bool = False) -> None:
        if chat_id in self._entries:
            self._drop(chat_id)
        if size > self.max_bytes:
            return  # one chat larger than the whole budget is not worth caching
        self._entries[chat_id] = Entry(page, size, self.clock())
        self.bytes += size
        if prefetched:
            self.stats.prefetches += 1
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            oldest = next(iter(self._entries))
            self._drop(oldest)
            self.stats.evictions += 1

    def invalidate(self, chat_id: str) -> bool:
        """A delta touched this chat: drop its entry (the next hover or open reads it again)."""
        if chat_id in self._entries:
            self._drop(chat_id)
            self.stats.invalidations += 1
            return True
        return False

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0

    def _drop(self, chat_id: str) -> None:
        entry = self._entries.pop(chat_id)
        self.bytes -= entry.size
