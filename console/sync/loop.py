"""Keeping a replica current: first sync, then delta polling that backs off when idle or offline.

Poll every `interval` seconds while data changes; when nothing changes, stretch towards `idle_max`;
when the deployment cannot be reached, back off towards `offline_max` and come back to `interval`
as soon as it answers (or after what the deployment asked with Retry-After, up to `offline_max`). Errors
a person must fix (rejected key, export not enabled, a replica that cannot be written) stop the loop.
Every wait of the client before a retry is published as a "waiting" state, so the status bar shows it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Callable

from console.client import errors as E
from console.client.http import RetryWait
from console.sync.engine import ResyncNeeded, SyncEngine

log = logging.getLogger(__name__)


@dataclass
class LoopState:
    status: str  # syncing | live | offline | waiting | resync | stopped | error
    message: str = ""
    next_poll_s: float = 0.0


class SyncLoop:
    def __init__(self, sync: SyncEngine, *, interval: float = 2.0, idle_max: float = 10.0, offline_max: float = 60.0,
                 on_state: Callable[[LoopState], None] | None = None) -> None:
        self.sync = sync
        self.interval = interval
        self.idle_max = idle_max
        self.offline_max = offline_max
        self.on_state = on_state or (lambda s: None)
        self.delay = interval
        self.resyncs = 0
        self._resync_streak = 0
        self._poked = asyncio.Event()  # set by poke(): a subscription saw a change, poll now
        listeners = getattr(getattr(sync, "http", None), "wait_listeners", None)
        if isinstance(listeners, list):
            listeners.append(self._waiting)

    def _waiting(self, wait: RetryWait) -> None:
        asked = " (as the deployment asked)" if wait.retry_after else ""
        self.on_state(LoopState("waiting", f"{wait.function}: {wait.reason} Trying again in {wait.seconds:.0f} s"
                                           f"{asked}.", wait.seconds))

    def _state(self, status: str, message: str = "") -> None:
        self.on_state(LoopState(status, message, self.delay))

    def poke(self) -> None:
        """Poll now instead of at the end of the current wait (a subscription saw a change)."""
        self._poked.set()

    async def _sleep(self, cancel: asyncio.Event) -> None:
        waits = [asyncio.ensure_future(cancel.wait()), asyncio.ensure_future(self._poked.wait())]
        try:
            await asyncio.wait(waits, timeout=self.delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
        if self._poked.is_set():
            self._poked.clear()
            self.delay = self.interval

    async def run(self, cancel: asyncio.Event, *, follow: bool = True) -> None:
        while not cancel.is_set():
            try:
                if not (await self.sync.astatus())["live"]:
                    self._state("syncing", "Building the replica from a snapshot…")
                    await self.sync.initial_sync(cancel)
                changes = await self.sync.poll(cancel)
                self._resync_streak = 0
                self.delay = self.interval if changes else min(self.idle_max, self.delay * 1.5)
                self._state("live", f"{changes.count()} documents changed"
                            if changes else "up to date")
            except ResyncNeeded as exc:
                self.resyncs += 1
                self._resync_streak += 1
                if self._resync_streak > 3:
                    # A fresh snapshot expiring at once means the deployment's clock or retention is off.
                    self._state("error", f"Resync keeps failing ({exc}); stopped. Check the deployment.")
                    raise
                self.delay = self.interval
                self._state("resync", f"The replica fell behind what the deployment keeps ({exc}). "
                                      f"Rebuilding it from a new snapshot.")
                await self.sync.awipe()
                continue
            except (E.NetworkError, E.Overloaded, E.ServerError, E.MalformedResponse) as exc:
                # MalformedResponse included: a truncated body from a proxy is a passing failure too.
                self.delay = min(self.offline_max, max(self.interval, self.delay * 2, exc.retry_after or 0))
                self._state("offline", f"{exc} Retrying in {self.delay:.0f} s.")
            if not follow:
                return
            await self._sleep(cancel)
        self._state("stopped", "Sync stopped.")
