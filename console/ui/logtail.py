"""Keeps the local log history fed: live, a long poll of the deployment's stream on the event loop; in the
offline demo, generated traffic in the real entry shape. Entries are written off the GUI thread, and
`arrived(count, functions)` fires on the GUI thread after each batch is stored."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from console.demo import logtraffic, traffic
from console.functionlogs import StreamPage, parse_entry, poll
from console.store import loghistory as H
from console.ui.context import AppContext

log = logging.getLogger(__name__)
RETRY_S = 5.0


class LogTail(QObject):
    arrived = Signal(int, object)  # new entries stored, set of function identifiers among them
    status = Signal(str)

    def __init__(self, ctx: AppContext, demo_interval_ms: int = 1000, seed: int | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.rng = random.Random(seed)  # seeded in tests, so the demo's traffic is the same every run
        self.timer = QTimer(self)
        self.timer.setInterval(demo_interval_ms)
        self.timer.timeout.connect(self.tick)
        self._busy = False
        self._seeded = False
        self._calls_until: float | None = None  # the demo's call traffic is written up to here
        self._task: asyncio.Future | None = None
        self._live: Any = None
        self.received = 0

    def start(self) -> None:
        if not self.timer.isActive():
            self.timer.start()
        self.tick()

    def stop(self) -> None:
        self.timer.stop()
        if self._task is not None:
            self._task.cancel()
            self._task = None

    @property
    def running(self) -> bool:
        return self.timer.isActive()

    # -- one heartbeat (GUI thread) --------------------------------------------------------------------
    def tick(self) -> None:
        live = self.ctx.live
        if live is not self._live and self._task is not None:  # connected elsewhere, or disconnected
            self._task.cancel()
            self._task = None
        self._live = live
        if live is not None:
            if self._task is None or self._task.done():
                self._task = self.ctx.tasks.spawn(self._follow(live), long=True)
            return
        if self.ctx.is_demo:
            self._demo_batch()
        else:
            self.status.emit("Not connected: showing the local history.")

    def _demo_batch(self) -> None:
        if self._busy:
            return
        self._busy = True
        engine, rng, seed = self.ctx.engine, self.rng, not self._seeded
        since = self._calls_until
        self._calls_until = now_s = time.time()

        def work() -> tuple[int, set[str]]:
            now = now_s
            with engine.begin() as conn:
                # The first batch of a run fills the gap since the app last ran (up to the live five minutes),
                # so a Live view remembered from last time opens on traffic, not on a blank chart.
                start = since if since is not None else _gap_start(conn, "call_log", now)
                calls = traffic.between(rng, start, now)  # the console's own call log keeps flowing too
                if calls:
                    conn.exec_driver_sql(traffic.INSERT, calls)
                raw = logtraffic.tick(rng, now)
                if seed and H.count(conn) == 0:
                    # A first start: some hours of (sampled) history, then the live five minutes second by second
                    # as a busy deployment logs them. Sampled per minute, an evening's live window was often
                    # empty for minutes on end.
                    live_from = now - LIVE_GAP_S
                    raw = list(logtraffic.history(live_from)) + _ticks(rng, live_from, now) + raw
                elif seed:
                    raw = _ticks(rng, _gap_start(conn, "function_logs", now), now) + raw
                entries = [parse_entry(e) for e in raw]
                return H.add(conn, entries), {e.identifier for e in entries}

        def done(result: tuple[int, set[str]]) -> None:
            self._busy, self._seeded = False, True
            self._arrived(*result)
            self.status.emit("Offline demo: generated log traffic in the shape a deployment streams.")

        def failed(exc: BaseException) -> None:
            self._busy = False
            self.status.emit(f"Could not store log entries: {exc}")

        self.ctx.tasks.write(work, done, failed)  # the one writer thread: our own commits are not "foreign"

    def _arrived(self, added: int, functions: set[str]) -> None:
        self.received += added
        if added:
            self.arrived.emit(added, functions)

    # -- live: the long poll ------------------------------------------------------------------------------
    async def _follow(self, live: Any) -> None:
        http = live.client.http
        cursor = await self._call(lambda conn: H.cursor(conn), write=False)
        if not cursor:
            cursor = (time.time() - 3600) * 1000  # a first connect: what the deployment still has of the last hour
        self.status.emit(f"Tailing {live.deployment.base}")
        while True:
            try:
                page: StreamPage = await poll(http, cursor)
                for problem in page.problems:
                    self.status.emit(problem)
                added, functions = await self._call(_storer(page), write=True)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # unreachable, refused, or the replica is busy: the cursor stays, try again
                self.status.emit(f"Log stream: {exc} Trying again in {RETRY_S:.0f} s.")
                await asyncio.sleep(RETRY_S)
                continue
            cursor = page.cursor
            self._arrived(added, functions)
            self.status.emit(f"Tailing {live.deployment.base} · last answer {time.strftime('%H:%M:%S')}")

    async def _call(self, fn: Any, write: bool) -> Any:
        """Run `fn(connection)` on the app's runner (reads on the pool, writes on the writer thread)."""
        return await (self.ctx.awrite(fn) if write else self.ctx.aread(fn))


LIVE_GAP_S = 300.0  # what a first demo batch fills in: the live range


def _gap_start(conn: Any, table: str, now: float) -> float:
    """Where the demo's generated traffic in `table` (call_log or function_logs) resumes: its newest entry, at
    most the live range back."""
    from sqlalchemy import text

    newest = conn.execute(text(f"SELECT max(at) FROM {table}")).scalar()
    return max(now - LIVE_GAP_S, float(newest or 0.0))


def _ticks(rng: Any, start: float, now: float) -> list[dict]:
    """The demo's log traffic of each second from `start` to `now`."""
    out: list[dict] = []
    t = start
    while t < now - 1:
        t += 1.0
        out += logtraffic.tick(rng, t)
    return out


def _storer(page: StreamPage) -> Any:
    def store(conn: Any) -> tuple[int, set[str]]:
        added = H.add(conn, page.entries)
        H.save_cursor(conn, page.cursor)
        return added, {e.identifier for e in page.entries}

    return store
