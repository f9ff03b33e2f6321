"""Live mode in the GUI: one ConvexClient per deployment, the sync loop on the qasync event loop (its
pages decoded and checked on the runner's read pool and committed on its writer thread), and its progress
and change sets handed to the GUI thread (changes through the context's change bridge).

Subscriptions (console/client/subscriptions.py) complement the replica: the job counts (console:jobStats)
and the operator's identity and roles (console:whoami) arrive as they commit, through
`ctx.live_figures`, and each update of the job counts tells the sync loop to pull its deltas now.
Panels may `watch` other queries (the open chat in on-demand mode)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal

from console.domain.counts import count
from console.client.calllog import CallLog
from console.client.client import ConvexClient
from console.client.http import Deployment
from console.client.subscriptions import Subscription, Subscriptions
from console.store.db import claim_replica
from console.changes import ChangeSet
from console.sync.engine import Progress, SyncEngine
from console.sync.loop import LoopState, SyncLoop
from console.ui.context import AppContext

log = logging.getLogger(__name__)


class LiveController(QObject):
    progress = Signal(object)  # Progress
    state = Signal(object)  # LoopState
    stopped = Signal()
    subscription_mode = Signal(str)  # connecting | live | polling | stopped

    def __init__(self, ctx: AppContext, deployment: Deployment, *, on_demand: set[tuple[str, str]] | None = None,
                 interval: float = 2.0, engine=None, prepare: Callable[[], None] | None = None) -> None:
        super().__init__()
        # A new replica's disk work (create or migrate), run on the writer thread before anything reads it.
        self._prepare = prepare
        self.prepared = asyncio.Event()
        self.ctx = ctx
        self.deployment = deployment
        # The replica it syncs into: the window's, or a new one it switches to once a first page committed.
        self.engine = engine if engine is not None else ctx.engine
        self.call_log = CallLog(self.engine)
        self.client = ConvexClient(deployment, call_log=self.call_log)
        self.sync = SyncEngine(self.engine, self.client.http, on_demand=on_demand,
                               on_progress=self.progress.emit, on_changes=self._changes,
                               read=ctx.tasks.aread, write=ctx.tasks.awrite)
        self.client.http.offload = ctx.tasks.aread  # big bodies are decoded on the read pool
        self.loop = SyncLoop(self.sync, interval=interval, on_state=self._state)
        self.subscriptions = Subscriptions(deployment, call_log=self.call_log, identity=self.identity(),
                                           poll=self._poll, poll_interval=interval,
                                           on_mode=self.subscription_mode.emit)
        self.figures: dict[str, Any] = {}  # the latest value of each standing subscription
        self._figures_subscribed = False
        self.last_state: LoopState | None = None
        self.building = False  # a snapshot is being copied (first sync or resync), not yet caught up
        self._cancel: asyncio.Event | None = None
        self._task: asyncio.Future | None = None
        # The call log is written in batches, off the GUI thread.
        self._flush = QTimer(self)
        self._flush.setInterval(2000)
        self._flush.timeout.connect(self.flush_call_log)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.running:
            return
        self._cancel = asyncio.Event()
        self._task = self.ctx.tasks.spawn(self._run(), long=True)
        self._flush.start()

    async def _run(self) -> None:
        checking = True
        try:
            if self._prepare is not None:
                await self.ctx.tasks.awrite(self._prepare)
            self.prepared.set()
            self.ctx.tasks.write(self.call_log.prune)  # bounded retention, enforced off the GUI thread
            await self.sync.check()
            checking = False
            # never mix deployments, or live into a demo
            await self.ctx.tasks.awrite(lambda: claim_replica(self.engine, self.deployment.base))
            self._subscribe_figures()
            self.subscriptions.start()
            await self.loop.run(self._cancel)  # type: ignore[arg-type]
        except asyncio.CancelledError:
            self._state(LoopState("stopped", "Sync canceled."))
        except Exception as exc:  # a person must act: rejected key, export not enabled, ...
            log.warning("sync stopped: %s", exc)
            self._state(LoopState("error", explain_failure(exc, self.deployment.base) if checking else str(exc)))
        finally:
            self.prepared.set()  # (also when preparing failed: nobody waits for it forever)
            self.stopped.emit()

    def cancel(self) -> None:
        if self._cancel:
            self._cancel.set()

    async def aclose(self) -> None:
        self.cancel()
        if self._task:
            try:
                await asyncio.wait_for(self._task, timeout=5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self._task.cancel()
        await self.subscriptions.aclose()
        self._flush.stop()
        self.flush_call_log()
        await self.client.aclose()

    def flush_call_log(self) -> None:
        if self.call_log.pending():
            self.ctx.tasks.write(self.call_log.flush)

    def _state(self, state: LoopState) -> None:
        self.last_state = state
        if state.status in ("syncing", "resync"):
            self.building = True
        elif state.status in ("live", "error", "stopped"):
            self.building = False
        self.state.emit(state)
        if self.ctx.live is self:
            self.ctx.sync_state.emit(state)

    def _changes(self, changes: ChangeSet) -> None:
        if self.ctx.live is not self:
            return  # not what the window shows (yet): its panels read another replica
        self.ctx.announce(changes)

    # -- subscriptions --------------------------------------------------------------------------------
    async def _poll(self, path: str, args: dict) -> Any:
        """The fallback when the deployment refuses the sync protocol: the same query over HTTP."""
        return await self.client.query(path, args, identity=self.identity(), cache=False)

    def operator_changed(self) -> None:
        """Settings chose another operator: the figures are watched as that user from now on."""
        self.subscriptions.set_identity(self.identity())
        self._subscribe_figures()

    def _subscribe_figures(self) -> None:
        if self.identity() is None or self._figures_subscribed:
            return  # the contract's functions act as the operator: none chosen yet, nothing to watch
        self._figures_subscribed = True
        for path in ("console:jobStats", "console:whoami"):
            self.subscriptions.subscribe(path, {}, lambda value, error, path=path: self._figure(path, value, error))

    def _figure(self, path: str, value: Any, error: Exception | None) -> None:
        # Runs on the event loop's thread, which is the GUI thread under qasync.
        if error is not None:
            log.info("subscription %s failed: %s", path, error)
            return
        self.figures[path] = value
        if self.ctx.live is self:  # not before the window shows this deployment
            self.ctx.live_figures.emit(path, value)
        if path == "console:jobStats":
            self.loop.poke()  # jobs changed on the deployment: pull their deltas now, not at the next tick

    def announce_figures(self) -> None:
        """Once the window shows this deployment: the figures that arrived before, to the panels."""
        for path, value in list(self.figures.items()):
            self.ctx.live_figures.emit(path, value)

    def watch(self, path: str, args: dict, callback: Any) -> Subscription:
        """A subscription for a panel; the callback gets (value, error) on the GUI thread."""
        return self.subscriptions.subscribe(path, args, callback)

    def identity(self) -> dict[str, Any] | None:
        """The operator, as the deployment sees them when the console acts as that user."""
        s = self.ctx.settings
        if not s.operator_user_id:
            return None
        return {"subject": s.operator_user_id, "issuer": "ops-console", "email": s.operator_email}


def describe(p: Progress) -> str:
    eta = f" · about {p.eta_s:.0f} s left" if p.eta_s is not None else ""
    return (f"{p.tables_done}/{p.tables_total} tables · {count(p.documents)} documents · {count(round(p.rate))}/s{eta}"
            + (f" · {p.table}" if p.table else ""))


def explain_failure(exc: BaseException, url: str) -> str:
    """The first request's failure, for a person: "not a Convex deployment" when the answer was not Convex's."""
    from console.client import errors as E

    convex_answer = isinstance(exc, E.ConvexRequestError) and getattr(exc, "code", None)
    if isinstance(exc, (E.FunctionNotFound, E.MalformedResponse, E.BadRequest)) and not convex_answer:
        return (f"{url} is not a Convex deployment: it answered, but not as a Convex backend does ({getattr(exc, 'message', exc)}). "
                "Use the deployment URL from the dashboard (Settings > URL & Deploy Key), such as "
                "https://happy-otter-123.convex.cloud, not the dashboard's or an HTTP actions (.convex.site) address.")
    if isinstance(exc, E.NetworkError):
        return (f"{str(getattr(exc, 'message', exc)).rstrip('. ')}. Check the URL, your network connection, and for a local "
                "deployment that it is running (npx convex dev).")
    return str(exc)
