"""Replaying many deliveries (Svix's "recover failed messages", Hookdeck's bulk retry), Qt-free and I/O-free:
the caller gives how to load a delivery, prepare it, send it and record it; this paces them (a rate limit),
stops between two sends when asked, and counts what happened."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from console.webhooks.replay import Prepared, ReplayError, Result

MAX_RATE = 50.0  # per second: a replay storm against a real endpoint is what a cap and a rate are for


@dataclass
class BulkProgress:
    total: int
    done: int = 0
    ok: int = 0
    failed: int = 0  # sent, and the receiver answered an error or could not be reached
    skipped: int = 0  # could not be prepared (no secret, gone from the replica): nothing sent
    stopped: bool = False
    last: str = ""  # what happened to the last one, plain text

    @property
    def remaining(self) -> int:
        return self.total - self.done


async def replay_all(ids: list[str], *, load: Callable[[str], Awaitable[Any]],
                     prepare: Callable[[Any], Prepared], send: Callable[[Prepared], Awaitable[Result]],
                     record: Callable[[Any, Prepared, Result], Awaitable[None]], rate_per_s: float,
                     stop: asyncio.Event, on_progress: Callable[[BulkProgress], None] | None = None,
                     clock: Callable[[], float] = time.monotonic,
                     sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> BulkProgress:
    progress = BulkProgress(total=len(ids))
    gap = 1.0 / max(0.1, min(float(rate_per_s), MAX_RATE))
    next_at = clock()
    for delivery_id in ids:
        if stop.is_set():
            progress.stopped = True
            break
        wait = next_at - clock()
        if wait > 0:
            try:  # a Stop while waiting for the next slot ends the run at once
                await asyncio.wait_for(stop.wait(), timeout=wait)
                progress.stopped = True
                break
            except asyncio.TimeoutError:
                pass
        next_at = max(next_at + gap, clock())
        detail = await load(delivery_id)
        if detail is None:
            progress.skipped += 1
            progress.last = f"{delivery_id}: no longer in the replica"
        else:
            try:
                prepared = prepare(detail)
            except ReplayError as exc:
                progress.skipped += 1
                progress.last = f"{delivery_id}: {exc}"
            else:
                result = await send(prepared)
                await record(detail, prepared, result)
                if result.ok:
                    progress.ok += 1
                else:
                    progress.failed += 1
                progress.last = f"{delivery_id}: " + (f"HTTP {result.status}" if result.status is not None
                                                      else result.error)
        progress.done += 1
        if on_progress is not None:
            on_progress(progress)
    return progress
