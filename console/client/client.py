"""The console's Convex client: functions, coalescing, caching, batching, invalidation, call log.

- Identical concurrent queries share one request (coalescing).
- Query results are cached (TTL 60 s) and served stale while one refetch runs (stale-while-revalidate).
- Queries issued in the same event-loop tick go out as one `/api/query_batch` (all read at one timestamp).
- A mutation invalidates what the invalidation table (client/cache.py) says it makes stale.
- Every call, from the network or not, lands in the call log.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from console.client import errors as E
from console.client.cache import EVENTS, Key, QueryCache, apply_rules, make_key, rules_for
from console.client.calllog import CallLog
from console.client.http import CallRecord, ConvexHttp, Deployment, RetryPolicy
from console.convex.values import ValueError_, decode, encode

FORMAT = "convex_encoded_json"


@dataclass
class _Pending:
    path: str
    args: dict[str, Any]
    identity: dict[str, Any] | None
    future: asyncio.Future = field(repr=False)


def _function_result(body: Any, path: str) -> Any:
    """The value of a function answer `{"status": ...}`, or the error it carries."""
    if not isinstance(body, dict) or body.get("status") not in ("success", "error"):
        raise E.MalformedResponse(f"Unexpected answer for {path}: {str(body)[:200]}", path=path)
    if body["status"] == "success":
        try:
            return decode(body.get("value"))
        except ValueError_ as exc:
            raise E.MalformedResponse(f"Undecodable value from {path}: {exc}", path=path) from exc
    message = str(body.get("errorMessage") or "")
    lines = body.get("logLines") or []
    if "Could not find public function" in message:
        raise E.FunctionNotFound(message.split("\n")[-1], path=path, server_message=message, log_lines=lines)
    data = body.get("errorData")
    try:
        data = decode(data) if data is not None else None
    except ValueError_:
        pass
    summary = message.split("\n", 1)[-1].strip() or "the function failed"
    if isinstance(data, dict) and data.get("message"):
        summary = str(data["message"])
    elif isinstance(data, str):
        summary = data
    raise E.FunctionError(f"{path}: {summary}", path=path, server_message=message, error_data=data, log_lines=lines)


class ConvexClient:
    def __init__(self, deployment: Deployment, *, call_log: CallLog | None = None, cache: QueryCache | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, retry: RetryPolicy | None = None,
                 timeout: httpx.Timeout | None = None, batching: bool = True) -> None:
        self.call_log = call_log if call_log is not None else CallLog(None)
        self.http = ConvexHttp(deployment, transport=transport, retry=retry, timeout=timeout,
                               on_call=self.call_log.record)
        self.cache = cache if cache is not None else QueryCache()  # an empty cache is falsy
        self.batching = batching
        self._inflight: dict[Key, asyncio.Future] = {}
        self._batch: list[_Pending] = []
        self._flush_scheduled = False
        self._revalidating: set[asyncio.Task] = set()

    @property
    def deployment(self) -> Deployment:
        return self.http.deployment

    async def aclose(self) -> None:
        for task in list(self._revalidating):
            task.cancel()
        await self.http.aclose()

    # -- reads ---------------------------------------------------------------------------------------
    async def query(self, path: str, args: dict[str, Any] | None = None, *, identity: dict[str, Any] | None = None,
                    cache: bool = True) -> Any:
        args = args or {}
        key = make_key(path, args, identity)
        if cache:
            state, value = self.cache.lookup(key)
            if state != "miss":
                self._note(path, "cache", 0.0)
                if state == "stale" and key not in self._inflight:
                    task = asyncio.ensure_future(self._fetch(key, path, args, identity))
                    self._revalidating.add(task)  # keep a reference: an unreferenced task may vanish
                    task.add_done_callback(self._revalidated)
                return value
        if key in self._inflight:
            started = time.perf_counter()
            value = await asyncio.shield(self._inflight[key])
            self._note(path, "coalesced", (time.perf_counter() - started) * 1000)
            return value
        return await self._fetch(key, path, args, identity)

    def _revalidated(self, task: asyncio.Task) -> None:
        self._revalidating.discard(task)
        if not task.cancelled():
            task.exception()  # a failed background refetch keeps the stale value; the call log has the error

    async def _fetch(self, key: Key, path: str, args: dict[str, Any], identity: dict[str, Any] | None) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        self._inflight[key] = future
        try:
            if self.batching:
                pending = _Pending(path, args, identity, loop.create_future())
                self._batch.append(pending)
                if not self._flush_scheduled:
                    self._flush_scheduled = True
                    loop.call_soon(self._start_flush)
                value = await pending.future
            else:
                value = await self._query_one(path, args, identity)
            self.cache.store(key, value, args)
            future.set_result(value)
            return value
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it themselves
            raise
        finally:
            self._inflight.pop(key, None)

    def _start_flush(self) -> None:
        self._flush_scheduled = False
        batch, self._batch = self._batch, []
        groups: dict[str, list[_Pending]] = {}
        for p in batch:
            groups.setdefault(str(p.identity), []).append(p)
        for group in groups.values():
            task = asyncio.ensure_future(self._send_batch(group))
            self._revalidating.add(task)
            task.add_done_callback(self._revalidating.discard)

    async def _send_batch(self, group: list[_Pending]) -> None:
        try:
            if len(group) == 1:
                p = group[0]
                results: list[Any] = [await self._query_one(p.path, p.args, p.identity, raw=True)]
            else:
                body = await self.http.request(
                    "POST", "/api/query_batch", read=True, identity=group[0].identity, kind="query",
                    function=f"query_batch[{len(group)}]",
                    json_body={"queries": [{"path": p.path, "args": encode(p.args), "format": FORMAT} for p in group]})
                results = body.get("results") if isinstance(body, dict) else None
                if not isinstance(results, list) or len(results) != len(group):
                    raise E.MalformedResponse(f"query_batch answered {str(body)[:200]}")
            for p, raw in zip(group, results):
                if p.future.done():
                    continue
                try:
                    p.future.set_result(_function_result(raw, p.path))
                except E.ConvexRequestError as exc:
                    p.future.set_exception(exc)
        except asyncio.CancelledError:
            for p in group:
                p.future.cancel()
            raise
        except Exception as exc:
            for p in group:
                if not p.future.done():
                    p.future.set_exception(exc)

    async def _query_one(self, path: str, args: dict[str, Any], identity: dict[str, Any] | None,
                         raw: bool = False) -> Any:
        body = await self.http.request("POST", "/api/query", read=True, identity=identity, function=path,
                                       kind="query", json_body={"path": path, "args": encode(args), "format": FORMAT})
        return body if raw else _function_result(body, path)

    async def query_batch(self, queries: list[tuple[str, dict[str, Any]]], *,
                          identity: dict[str, Any] | None = None) -> list[Any]:
        """Several queries read at one timestamp; each result or its exception, in order."""
        body = await self.http.request(
            "POST", "/api/query_batch", read=True, identity=identity, kind="query", function=f"query_batch[{len(queries)}]",
            json_body={"queries": [{"path": p, "args": encode(a), "format": FORMAT} for p, a in queries]})
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list) or len(results) != len(queries):
            raise E.MalformedResponse(f"query_batch answered {str(body)[:200]}")
        out: list[Any] = []
        for (path, _), raw in zip(queries, results):
            try:
                out.append(_function_result(raw, path))
            except E.ConvexRequestError as exc:
                out.append(exc)
        return out

    # -- writes ------------------------------------------------------------------------------------------
    async def mutation(self, path: str, args: dict[str, Any] | None = None, *,
                       identity: dict[str, Any] | None = None) -> Any:
        args = args or {}
        try:
            body = await self.http.request("POST", "/api/mutation", read=False, identity=identity, function=path,
                                           kind="mutation",
                                           json_body={"path": path, "args": encode(args), "format": FORMAT})
            return _function_result(body, path)
        finally:
            # Even a failed or unknown-outcome write may have changed data: drop what it could make stale.
            apply_rules(self.cache, rules_for(path), args)

    async def action(self, path: str, args: dict[str, Any] | None = None, *,
                     identity: dict[str, Any] | None = None) -> Any:
        args = args or {}
        body = await self.http.request("POST", "/api/action", read=False, identity=identity, function=path,
                                       kind="action", json_body={"path": path, "args": encode(args), "format": FORMAT})
        return _function_result(body, path)

    async def function(self, component: str, path: str, args: dict[str, Any] | None = None, *,
                       kind: str = "query") -> Any:
        """A function inside a component (admin only), e.g. ("workpool", "lib:status")."""
        body = await self.http.request(
            "POST", "/api/function", read=kind == "query", kind=kind, function=f"{component}/{path}",
            json_body={"componentPath": component, "path": path, "args": encode(args or {}), "format": FORMAT})
        return _function_result(body, f"{component}/{path}")

    async def run(self, path: str, args: dict[str, Any] | None = None, *, read: bool = False) -> Any:
        """`/api/run/<path>` for root-component functions addressed by URL."""
        url = "/api/run/" + path.replace(":", "/")
        body = await self.http.request("POST", url, read=read, kind="query" if read else "mutation", function=path,
                                       json_body={"args": encode(args or {}), "format": FORMAT})
        return _function_result(body, path)

    # -- invalidation events --------------------------------------------------------------------------
    def event(self, name: str, args: dict[str, Any] | None = None) -> int:
        """"login" | "logout" | "switchOrganization": drop what that makes stale."""
        dropped = apply_rules(self.cache, EVENTS.get(name, []), args or {})
        if name in ("login", "logout"):
            dropped += self.cache.invalidate_identity()
        return dropped

    def _note(self, path: str, source: str, latency_ms: float) -> None:
        self.call_log.record(CallRecord(path, "query", source, "success", None, latency_ms, 0))
