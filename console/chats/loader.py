"""Opening chats through the prefetch cache, from the replica or an on-demand source.

`prefetch` starts reading a chat's latest page in the background (hover); `open` answers from the
cache when it can, joins a prefetch already in flight, and reads the source otherwise. A replica
source is a blocking callable, run through `submit` (the app's read pool; without one, a small pool
of the loader's own). An on-demand source is a coroutine function: it runs on the event loop and
awaits the client there, so no worker thread ever calls into the loop. Both give a future with
`add_done_callback`, `result()` and `exception()`.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

from sqlalchemy import Engine

from console.chats.cache import PrefetchCache
from console.store.chats import Message, MessagePage, latest

PAGE = 50


class ReplicaSource:
    name = "replica"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, chat_id: str, limit: int = PAGE, before: int | None = None) -> MessagePage:
        with self._lock:
            self.calls += 1
        with self.engine.connect() as conn:
            return latest(conn, chat_id, limit, before)


class SimulatedOnDemand(ReplicaSource):
    """Demo mode's stand-in for a deployment whose messages are read on demand: the replica, `latency` later."""

    def __init__(self, engine: Engine, latency: float = 0.08) -> None:
        super().__init__(engine)
        self.latency = latency
        self.name = f"on demand (simulated, {int(latency * 1000)} ms)"

    def __call__(self, chat_id: str, limit: int = PAGE, before: int | None = None) -> MessagePage:
        time.sleep(self.latency)
        return super().__call__(chat_id, limit, before)


class OnDemandSource:
    """The contract's `console:listMessages`, through the console's client (coalesced, cached, logged)."""

    name = "on demand (deployment)"

    def __init__(self, client: Any, timeout: float = 30.0) -> None:
        self.client = client
        self.timeout = timeout
        self.calls = 0

    async def __call__(self, chat_id: str, limit: int = PAGE, before: int | None = None) -> MessagePage:
        self.calls += 1
        args: dict[str, Any] = {"chatId": chat_id, "limit": float(limit)}  # v.number() arguments: Float64
        if before is not None:
            args["before"] = float(before)
        result = await asyncio.wait_for(self.client.query("console:listMessages", args), self.timeout)
        msgs = [Message(d["_id"], d.get("chatId", chat_id), d.get("role") or "", d.get("body") or "",
                        int(d.get("createdAt") or 0), d.get("clientMessageId")) for d in result.get("page", [])]
        return MessagePage(msgs, not result.get("isDone", True))


Source = Callable[..., Any]  # (chat_id, limit, before) -> MessagePage, or a coroutine of one
Submit = Callable[..., Future]  # submit(fn, *args): run fn(*args) on a worker thread


class ChatLoader:
    def __init__(self, source: Source, cache: PrefetchCache | None = None, *, prefetch: bool = True,
                 workers: int = 3, submit: Submit | None = None) -> None:
        self.source = source
        self.cache = cache if cache is not None else PrefetchCache()
        self.prefetch_enabled = prefetch
        self._own = None if submit is not None else ThreadPoolExecutor(max_workers=workers,
                                                                       thread_name_prefix="chat-loader")
        self._submit: Submit = submit if submit is not None else self._own.submit  # type: ignore[union-attr]
        self._on_loop = inspect.iscoroutinefunction(source) or inspect.iscoroutinefunction(
            getattr(source, "__call__", None))
        self._inflight: dict[str, Any] = {}
        self._lock = threading.Lock()

    def close(self, wait: bool = False) -> None:
        """Drop what is in flight (its results are not wanted). The GUI never waits for a read to finish;
        `wait` (tests, a process about to end) waits for the loader's own threads to stop."""
        with self._lock:
            running = list(self._inflight.values())
        for future in running:
            future.cancel()
        if self._own is not None:
            self._own.shutdown(wait=wait, cancel_futures=True)

    def _start(self, *args: Any) -> Any:
        if self._on_loop:
            return asyncio.ensure_future(self.source(*args))
        return self._submit(self.source, *args)

    def _fetch(self, chat_id: str, prefetched: bool) -> Future:
        with self._lock:
            running = self._inflight.get(chat_id)
            if running is not None:
                return running
            self.cache.stats.backend_calls += 1
            future = self._start(chat_id, PAGE)
            self._inflight[chat_id] = future

        def landed(f: Any) -> None:
            with self._lock:
                self._inflight.pop(chat_id, None)
                if not f.cancelled() and f.exception() is None:
                    page = f.result()
                    self.cache.put(chat_id, page, page.size, prefetched=prefetched)

        future.add_done_callback(landed)
        return future

    def prefetch(self, chat_id: str) -> Future | None:
        """Hovered long enough: read its latest page into the cache unless it is there or on its way."""
        if not self.prefetch_enabled:
            return None
        with self._lock:
            if chat_id in self._inflight or self.cache.peek(chat_id) is not None:
                return None
        return self._fetch(chat_id, prefetched=True)

    def open(self, chat_id: str) -> MessagePage | Future:
        """The page at once (cache hit), or a Future of it (joined prefetch or a fresh read)."""
        with self._lock:
            page = self.cache.get(chat_id)
            if page is not None:
                return page
            running = self._inflight.get(chat_id)
            if running is not None:
                self.cache.stats.misses -= 1  # a prefetch is already bringing it: not a second call
                self.cache.stats.hits += 1
                return running
        return self._fetch(chat_id, prefetched=False)

    def refresh(self, chat_id: str) -> Future:
        """Re-read a chat now (a delta touched it); the cache gets the new page."""
        self.cache.invalidate(chat_id)
        return self._fetch(chat_id, prefetched=False)

    def older(self, chat_id: str, before: int) -> Any:
        return self._start(chat_id, PAGE, before)
