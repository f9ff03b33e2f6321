"""The console's Convex client: functions, coalescing, caching, batching, invalidation, call log.

- Identical concurrent queries share one request (coalescing).
- Query results are cached (TTL 60 s) and served stale while one refetch runs (stale-while-revalidate).
- Queries issued in the same event-loop tick go out as one `/api/query_batch` (all read at one timestamp).
- A mutation invalidates what the invalidation table (client/cache.py) says it makes stale.
- Every call, from the network or not, lands in the call log.
- One bad path in a coalesced batch fails only itself: a batch the deployment refuses with a 4xx is sent
  again query by query.
- Production deployments redact function errors to `[Request ID: …] Server Error`; that becomes a
  `RedactedFunctionError` saying the request id and what to check, and `contract_status()` tells whether
  the console contract is deployed in a way that still works under redaction.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from console.client import errors as E
from console.client.cache import EVENTS, Key, QueryCache, apply_rules, make_key, rules_for
from console.client.calllog import CallLog
from console.client.http import CallRecord, ConvexHttp, Deployment, RetryPolicy, WaitListener
from console.convex.values import ValueError_, decode, encode

FORMAT = "convex_encoded_json"
_REQUEST_ID = re.compile(r"^\[Request ID: ([0-9A-Za-z_-]+)\] Server Error")
CONTRACT_PROBE = "console:whoami"


def encode_args(path: str, args: Any) -> Any:
    """Arguments by their declared type (values.py): a typed error instead of a bare ValueError."""
    try:
        return encode(args)
    except ValueError as exc:
        raise E.InvalidArguments(f"{path}: {exc}.", path=path) from exc


def run_url(path: str) -> str:
    """`/api/run/<module>/<export>`: `jobs:stats` -> jobs/stats; a module alone is its default export."""
    module, _, name = path.partition(":")
    module = module.strip("/")
    if module.endswith(".js"):
        module = module[:-3]
    return f"/api/run/{module}/{name or 'default'}"


@dataclass(frozen=True)
class ContractStatus:
    state: str  # present | missing | unknown
    message: str
    request_id: str | None = None


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
    lines = body.get("logLines") if isinstance(body.get("logLines"), list) else []
    match = _REQUEST_ID.match(message)
    request_id = match.group(1) if match else None
    if "Could not find public function" in message:
        err: E.ConvexRequestError = E.FunctionNotFound(message.split("\n")[-1], path=path, server_message=message,
                                                       log_lines=lines)
        err.request_id = request_id
        raise err
    data = body.get("errorData")
    try:
        data = decode(data) if data is not None else None
    except ValueError_:
        pass
    detail = message.split("\n", 1)[1].strip() if "\n" in message else ("" if match else message.strip())
    if isinstance(data, dict) and data.get("message"):
        summary = str(data["message"])
    elif isinstance(data, str):
        summary = data
    elif detail:
        summary = detail
    elif match:
        # Production hides the reason: say what is left (the request id) and what to check.
        contract = " (the console contract: ops-console contract install, then npx convex deploy)" \
            if path.startswith("console:") else ""
        err = E.RedactedFunctionError(
            f"{path} failed on the deployment, which hides the reason (production). Look up request {request_id} in "
            f"the dashboard's Logs. Check that {path} is deployed{contract} and what it logged.",
            path=path, server_message=message, log_lines=lines)
        err.request_id = request_id
        raise err
    else:
        summary = "the function failed"
    err = E.FunctionError(f"{path}: {summary}", path=path, server_message=message, error_data=data, log_lines=lines)
    err.request_id = request_id
    raise err


class ConvexClient:
    def __init__(self, deployment: Deployment, *, call_log: CallLog | None = None, cache: QueryCache | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, retry: RetryPolicy | None = None,
                 timeout: httpx.Timeout | None = None, batching: bool = True,
                 on_wait: WaitListener | None = None) -> None:
        self.call_log = call_log if call_log is not None else CallLog(None)
        self.http = ConvexHttp(deployment, transport=transport, retry=retry, timeout=timeout,
                               on_call=self.call_log.record, on_wait=on_wait)
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
                results = await self._batch_raw([(p.path, p.args) for p in group], group[0].identity)
            for p, raw in zip(group, results):
                if p.future.done():
                    continue
                try:
                    if isinstance(raw, Exception):
                        raise raw
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

    async def _batch_raw(self, queries: list[tuple[str, dict[str, Any]]], identity: dict[str, Any] | None) -> list[Any]:
        """Raw answers of a query_batch, in order. The deployment refuses a whole batch with a 4xx when one
        entry is bad (an unknown path, bad arguments): then each query is sent alone, so only that one fails."""
        encoded = []
        for path, args in queries:
            try:
                encoded.append({"path": path, "args": encode_args(path, args), "format": FORMAT})
            except E.InvalidArguments:
                return await self._singly(queries, identity)
        try:
            body = await self.http.request("POST", "/api/query_batch", read=True, identity=identity, kind="query",
                                           function=f"query_batch[{len(queries)}]", json_body={"queries": encoded})
        except E.ConvexRequestError as exc:
            if exc.status is not None and 400 <= exc.status < 500 and exc.status not in (401, 403, 429):
                return await self._singly(queries, identity)
            raise
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list) or len(results) != len(queries):
            raise E.MalformedResponse(f"query_batch answered {str(body)[:200]}")
        return results

    async def _singly(self, queries: list[tuple[str, dict[str, Any]]], identity: dict[str, Any] | None) -> list[Any]:
        async def one(path: str, args: dict[str, Any]) -> Any:
            try:
                return await self._query_one(path, args, identity, raw=True)
            except E.ConvexRequestError as exc:
                return exc
        return list(await asyncio.gather(*(one(p, a) for p, a in queries)))

    async def _query_one(self, path: str, args: dict[str, Any], identity: dict[str, Any] | None,
                         raw: bool = False) -> Any:
        body = await self.http.request("POST", "/api/query", read=True, identity=identity, function=path,
                                       kind="query",
                                       json_body={"path": path, "args": encode_args(path, args), "format": FORMAT})
        return body if raw else _function_result(body, path)

    async def query_batch(self, queries: list[tuple[str, dict[str, Any]]], *,
                          identity: dict[str, Any] | None = None) -> list[Any]:
        """Several queries read at one timestamp; each result or its exception, in order."""
        out: list[Any] = []
        for (path, _), raw in zip(queries, await self._batch_raw(queries, identity)):
            try:
                if isinstance(raw, Exception):
                    raise raw
                out.append(_function_result(raw, path))
            except E.ConvexRequestError as exc:
                out.append(exc)
        return out

    async def contract_status(self, identity: dict[str, Any] | None = None) -> ContractStatus:
        """Is the console contract deployed? Probes `console:whoami`; works when production redacts errors."""
        try:
            await self.query(CONTRACT_PROBE, {}, identity=identity, cache=False)
        except E.FunctionNotFound:
            return ContractStatus("missing", "The deployment has no console contract (console:whoami is missing). "
                                             "Install it: ops-console contract install --into convex/, then "
                                             "npx convex deploy.")
        except E.RedactedFunctionError as exc:
            return ContractStatus("unknown", f"console:whoami failed and the deployment hides why (request "
                                             f"{exc.request_id}): the console contract may be missing, or failing. "
                                             f"Check the dashboard's Functions list for console:whoami and its Logs "
                                             f"for that request.", exc.request_id)
        except E.FunctionError as exc:
            return ContractStatus("present", f"The console contract is deployed, but console:whoami refused: {exc}",
                                  exc.request_id)
        return ContractStatus("present", "The console contract is deployed.")

    # -- writes ------------------------------------------------------------------------------------------
    async def mutation(self, path: str, args: dict[str, Any] | None = None, *,
                       identity: dict[str, Any] | None = None) -> Any:
        args = args or {}
        try:
            body = await self.http.request("POST", "/api/mutation", read=False, identity=identity, function=path,
                                           kind="mutation",
                                           json_body={"path": path, "args": encode_args(path, args), "format": FORMAT})
            return _function_result(body, path)
        finally:
            # Even a failed or unknown-outcome write may have changed data: drop what it could make stale.
            apply_rules(self.cache, rules_for(path), args)

    async def action(self, path: str, args: dict[str, Any] | None = None, *,
                     identity: dict[str, Any] | None = None) -> Any:
        args = args or {}
        body = await self.http.request("POST", "/api/action", read=False, identity=identity, function=path,
                                       kind="action",
                                       json_body={"path": path, "args": encode_args(path, args), "format": FORMAT})
        return _function_result(body, path)

    async def function(self, component: str, path: str, args: dict[str, Any] | None = None, *,
                       kind: str = "query") -> Any:
        """A function inside a component (admin only), e.g. ("workpool", "lib:status")."""
        body = await self.http.request(
            "POST", "/api/function", read=kind == "query", kind=kind, function=f"{component}/{path}",
            json_body={"componentPath": component, "path": path, "args": encode_args(path, args or {}),
                       "format": FORMAT})
        return _function_result(body, f"{component}/{path}")

    async def run(self, path: str, args: dict[str, Any] | None = None, *, read: bool = False) -> Any:
        """`/api/run/<path>` for root-component functions addressed by URL (`module` = its default export)."""
        body = await self.http.request("POST", run_url(path), read=read, kind="query" if read else "mutation",
                                       function=path, json_body={"args": encode_args(path, args or {}),
                                                                 "format": FORMAT})
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
