"""Subscriptions over Convex's WebSocket sync protocol, on the caller's asyncio loop (qasync's in the GUI).

A `Subscriptions` keeps one socket (`/api/<version>/sync`) and a query set on it. Each subscription's
callback gets the query's value (or its error) whenever the deployment re-runs it and the result changed.
- Auth: the deploy key (`Authenticate` Admin), acting as the operator when an identity is given.
- A dropped socket reconnects by itself with capped exponential backoff and full jitter; the whole query
  set is sent again on the new socket, so the latest value of every subscription arrives: no update is lost
  (intermediate values may be skipped, as with every Convex client).
- A deployment that refuses the protocol (the upgrade answered 404, 400, 426...) is polled instead: every
  `poll_interval` s each subscription's query runs over HTTP through `poll` (the ConvexClient's query),
  and the socket is tried again every `retry_socket_s`.
- Every connection, transition and subscription update is a call-log row of kind "subscription".
Nothing here touches Qt: callbacks run on the loop's thread, which is the GUI thread under qasync.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import logging
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from console import __version__
from console.client.tls import shared_context
from console.client.calllog import CallLog
from console.client.http import CallRecord, Deployment
from console.convex.values import decode, encode

log = logging.getLogger(__name__)

Callback = Callable[[Any, "Exception | None"], None]  # (value, error): one of them is set
Poll = Callable[[str, dict], Awaitable[Any]]
KIND = "subscription"


class SubscriptionError(Exception):
    """A subscribed query failed on the deployment; `data` is a ConvexError's data, if any."""

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.data = data


class ProtocolRefused(Exception):
    """The deployment does not speak the sync protocol at this URL (the upgrade was answered with a status)."""


@dataclass
class Backoff:
    base: float = 0.5
    cap: float = 16.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, failures: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2^failures)] (spreads the reconnects of many consoles)."""
        return self.rng.uniform(0, min(self.cap, self.base * (2 ** max(0, failures - 1))))


@dataclass
class Subscription:
    query_id: int
    path: str
    args: dict
    callback: Callback
    owner: "Subscriptions" = field(repr=False)
    value: Any = None
    error: Exception | None = None
    updates: int = 0
    _fingerprint: str | None = field(default=None, repr=False)

    def unsubscribe(self) -> None:
        self.owner._remove(self)


def sync_url(base: str) -> str:
    scheme, _, rest = base.rstrip("/").partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/api/{__version__}/sync"


class Subscriptions:
    def __init__(self, deployment: Deployment, *, call_log: CallLog | None = None,
                 identity: dict[str, Any] | None = None, poll: Poll | None = None, poll_interval: float = 2.0,
                 retry_socket_s: float = 60.0, backoff: Backoff | None = None,
                 on_mode: Callable[[str], None] | None = None) -> None:
        self.deployment = deployment
        self.call_log = call_log if call_log is not None else CallLog(None)
        self.identity = identity
        self.poll = poll
        self.poll_interval = poll_interval
        self.retry_socket_s = retry_socket_s
        self.backoff = backoff or Backoff()
        self.on_mode = on_mode
        self.mode = "idle"  # idle | connecting | live | polling | stopped
        self.subs: dict[int, Subscription] = {}
        self.connections = 0
        self.transitions = 0
        self.messages_in = 0  # every sync message received (Transitions, Pings, ...)
        self.session_id = str(uuid.uuid4())
        self._ids = itertools.count()
        self._ws: Any = None
        self._query_set = 0
        self._version: dict | None = None
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self._closing = False

    # -- the public surface ---------------------------------------------------------------------------
    def subscribe(self, path: str, args: dict | None = None, callback: Callback | None = None) -> Subscription:
        sub = Subscription(next(self._ids), path, dict(args or {}), callback or (lambda v, e: None), self)
        self.subs[sub.query_id] = sub
        self._record(path, "subscribed", 0.0, 0)
        self._modify([{"type": "Add", "queryId": sub.query_id, "udfPath": path, "args": [encode(sub.args)]}])
        self._wake.set()  # polling mode: read it now
        return sub

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._closing = False
            self._task = asyncio.ensure_future(self._run())

    async def aclose(self) -> None:
        self._closing = True
        self._wake.set()
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        self._set_mode("stopped")

    def set_identity(self, identity: dict[str, Any] | None) -> None:
        """Act as another user from now on. The session authenticates again from version 0 with the new
        identity (a new socket re-sends the whole query set), so every value is the new user's."""
        if identity == self.identity:
            return
        self.identity = identity
        self.drop_connection()
        self._wake.set()  # polling mode: read again now, as the new user

    def drop_connection(self) -> None:
        """Abort the socket as a network failure would (tests, and the app's "reconnect" action)."""
        if self._ws is not None and self._ws.transport is not None:
            self._ws.transport.abort()

    # -- the query set ----------------------------------------------------------------------------------
    def _remove(self, sub: Subscription) -> None:
        if self.subs.pop(sub.query_id, None) is not None:
            self._modify([{"type": "Remove", "queryId": sub.query_id}])

    def _modify(self, modifications: list[dict]) -> None:
        """Send a ModifyQuerySet now if connected; otherwise the next connection sends the whole set."""
        if self._ws is None or self.mode != "live":
            return
        base, self._query_set = self._query_set, self._query_set + 1
        message = {"type": "ModifyQuerySet", "baseVersion": base, "newVersion": self._query_set,
                   "modifications": modifications}
        asyncio.ensure_future(self._send_quietly(message))

    async def _send_quietly(self, message: dict) -> None:
        try:
            await self._ws.send(json.dumps(message))
        except (ConnectionClosed, AttributeError):
            pass  # the reconnect re-sends the whole query set

    # -- the loop ---------------------------------------------------------------------------------------
    def _set_mode(self, mode: str) -> None:
        if mode != self.mode:
            self.mode = mode
            if self.on_mode:
                self.on_mode(mode)

    async def _run(self) -> None:
        failures = 0
        while not self._closing:
            self._set_mode("connecting")
            seen = self.transitions
            try:
                await self._session()
                failures = 1 if self.transitions > seen else failures + 1  # a socket that worked: retry soon
            except ProtocolRefused as exc:
                log.info("sync protocol refused (%s): polling every %.1f s", exc, self.poll_interval)
                await self._polling()
                continue
            except (OSError, InvalidHandshake, ConnectionClosed, asyncio.TimeoutError, ValueError) as exc:
                log.info("sync socket failed: %s", exc)
                failures = 1 if self.transitions > seen else failures + 1
            if self._closing:
                break
            await asyncio.sleep(self.backoff.delay(failures))

    async def _session(self) -> None:
        started = time.perf_counter()
        headers = {"Convex-Client": f"ops-console-{__version__}"}
        url = sync_url(self.deployment.base)
        tls = shared_context() if url.startswith("wss:") else None  # not a new CA load per connect
        try:
            ws = await asyncio.wait_for(connect(url, additional_headers=headers, ssl=tls,
                                                max_size=1 << 25, open_timeout=10, ping_interval=20), 15)
        except InvalidStatus as exc:
            self._record("sync/connect", "error", (time.perf_counter() - started) * 1000, 0,
                         status=exc.response.status_code)
            raise ProtocolRefused(f"HTTP {exc.response.status_code}") from exc
        except Exception:
            self._record("sync/connect", "error", (time.perf_counter() - started) * 1000, 0)
            raise
        self._record("sync/connect", "success", (time.perf_counter() - started) * 1000, 0, status=101)
        self.connections += 1
        self._ws = ws
        self._version = {"querySet": 0, "identity": 0, "ts": base64.b64encode(bytes(8)).decode()}
        try:
            # A new socket is a new session state on the server: the whole query set again, from version 0.
            await ws.send(json.dumps({"type": "Connect", "sessionId": self.session_id,
                                      "connectionCount": self.connections - 1, "lastCloseReason": None,
                                      "clientTs": int(time.time() * 1000)}))
            if self.deployment.key:
                auth: dict[str, Any] = {"type": "Authenticate", "tokenType": "Admin", "value": self.deployment.key,
                                        "baseVersion": 0}
                if self.identity:
                    auth["impersonating"] = self.identity
                await ws.send(json.dumps(auth))
            # Built, versioned and marked live in one step: a subscribe() from here on goes out as its own
            # ModifyQuerySet after this one, none falls in between.
            initial = json.dumps({"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": [
                {"type": "Add", "queryId": s.query_id, "udfPath": s.path, "args": [encode(s.args)]}
                for s in self.subs.values()]})
            self._query_set = 1
            self._set_mode("live")
            await ws.send(initial)
            async for raw in ws:
                self._message(raw)
        finally:
            self._ws = None

    def _message(self, raw: str | bytes) -> None:
        message = json.loads(raw)
        self.messages_in += 1
        kind = message.get("type")
        if kind == "Transition":
            if message.get("startVersion") != self._version:
                raise ValueError(f"transition from {message.get('startVersion')}, held {self._version}")
            self._version = message.get("endVersion")
            self.transitions += 1
            server_ts = message.get("serverTs")
            lag_ms = max(0.0, time.time() * 1000 - server_ts / 1e6) if isinstance(server_ts, int) else 0.0
            for mod in message.get("modifications") or []:
                self._apply(mod, lag_ms, len(raw))
        elif kind in ("AuthError", "FatalError"):
            text = str(message.get("error") or kind)
            self._record(f"sync/{kind}", "error", 0.0, len(raw))
            for sub in self.subs.values():
                self._deliver(sub, None, SubscriptionError(f"{kind}: {text}"))
            raise ValueError(f"{kind}: {text}")
        # Ping: keeps the socket alive; MutationResponse/ActionResponse: this client sends neither.

    def _apply(self, mod: dict, lag_ms: float, nbytes: int) -> None:
        query_id = mod.get("queryId")
        sub = self.subs.get(query_id) if isinstance(query_id, int) else None
        if sub is None:
            return  # removed meanwhile, or QueryRemoved
        if mod.get("type") == "QueryUpdated":
            self._record(sub.path, "success", lag_ms, nbytes)
            self._deliver(sub, decode(mod.get("value")), None)
        elif mod.get("type") == "QueryFailed":
            self._record(sub.path, "error", lag_ms, nbytes)
            data = mod.get("errorData")
            self._deliver(sub, None, SubscriptionError(str(mod.get("errorMessage") or ""),
                                                       decode(data) if data is not None else None))

    def _deliver(self, sub: Subscription, value: Any, error: Exception | None) -> None:
        fingerprint = repr(error) if error is not None else json.dumps(encode(value), sort_keys=True, default=str)
        if fingerprint == sub._fingerprint:
            return  # the same result again (a resubscribe after a reconnect): nothing new to show
        sub._fingerprint = fingerprint
        sub.value, sub.error = value, error
        sub.updates += 1
        try:
            sub.callback(value, error)
        except Exception:  # a consumer's bug must not end the subscription loop
            log.exception("subscription callback for %s failed", sub.path)

    async def _polling(self) -> None:
        """The fallback: each subscription's query over HTTP every poll_interval s, until the socket works."""
        self._set_mode("polling")
        give_up_at = time.monotonic() + self.retry_socket_s
        while not self._closing and time.monotonic() < give_up_at:
            for sub in list(self.subs.values()):
                if self.poll is None:
                    break
                try:
                    value = await self.poll(sub.path, sub.args)
                except Exception as exc:
                    self._deliver(sub, None, exc)
                else:
                    self._deliver(sub, value, None)
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            except asyncio.TimeoutError:
                pass

    def _record(self, function: str, outcome: str, latency_ms: float, nbytes: int, *,
                status: int | None = None) -> None:
        """outcome: success | error (an update, a connection) or subscribed (a query joined the set)."""
        self.call_log.record(CallRecord(function, KIND, "network", outcome, status, latency_ms, nbytes))
