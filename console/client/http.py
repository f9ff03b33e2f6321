"""One deployment, one long-lived httpx.AsyncClient: auth, timeouts, error mapping and read retries.

Reads (queries, streaming export, metrics) are retried with exponential backoff and full jitter on
network errors, 429, 5xx and Cloudflare's 520-524. Writes are retried only when the request provably
never left (the connection could not be opened); anything else is reported, because a mutation that
may have run must not run twice.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import httpx

from console import __version__
from console.client import errors as E

CLIENT_HEADER = f"ops-console-{__version__}"


@dataclass(frozen=True)
class Deployment:
    url: str
    key: str | None = None

    @property
    def base(self) -> str:
        return self.url.rstrip("/")

    @property
    def name(self) -> str:
        """A file-name-safe name: "happy-otter-123" for a cloud deployment, "127.0.0.1-8187" for a local one."""
        url = httpx.URL(self.base)
        host = url.host or "deployment"
        if host.replace(".", "").isdigit() or host in ("localhost", "::1") or ":" in host:
            return f"{host.replace(':', '_')}-{url.port or 80}"
        return host.split(".")[0]

    def auth(self, identity: dict[str, Any] | None = None) -> str | None:
        """`Convex <key>` (admin), or `Convex <key>:<base64 identity>` to act as a user of the product."""
        if not self.key:
            return None
        if identity is None:
            return f"Convex {self.key}"
        raw = json.dumps(identity, separators=(",", ":")).encode()
        return f"Convex {self.key}:{base64.b64encode(raw).decode()}"


@dataclass
class CallRecord:
    function: str
    kind: str  # query | mutation | action | http_action | export | metrics
    source: str  # network | cache | coalesced
    outcome: str  # success | error
    status: int | None
    latency_ms: float
    nbytes: int
    at: float = field(default_factory=time.time)


@dataclass
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 8.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(self.max_delay, retry_after)
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))  # full jitter


TRANSIENT_STATUS = {429, 500, 502, 503, 504, 520, 521, 522, 523, 524}

Recorder = Callable[[CallRecord], None]


class ConvexHttp:
    def __init__(self, deployment: Deployment, *, timeout: httpx.Timeout | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, retry: RetryPolicy | None = None,
                 on_call: Recorder | None = None, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.deployment = deployment
        self.retry = retry or RetryPolicy()
        self.on_call = on_call
        self._sleep = sleep
        self._client = httpx.AsyncClient(
            base_url=deployment.base,
            timeout=timeout or httpx.Timeout(connect=5.0, read=65.0, write=30.0, pool=10.0),
            transport=transport,
            headers={"Convex-Client": CLIENT_HEADER},
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(self, method: str, path: str, *, json_body: Any = None, params: dict[str, Any] | None = None,
                      identity: dict[str, Any] | None = None, read: bool = True, function: str | None = None,
                      kind: str = "query") -> Any:
        """Send, retry if allowed, and return the parsed JSON body of a 2xx (or 560) answer."""
        headers = {}
        auth = self.deployment.auth(identity)
        if auth:
            headers["Authorization"] = auth
        last: E.ConvexRequestError | None = None
        for attempt in range(self.retry.attempts):
            started = time.perf_counter()
            status: int | None = None
            nbytes = 0
            try:
                response = await self._client.request(method, path, json=json_body, params=params, headers=headers)
                status = response.status_code
                nbytes = len(response.content)
                body = self._parse(response, function)
                self._record(function or path, kind, "success", status, started, nbytes)
                return body
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # The request never left this machine: safe to send again, even a write.
                last = E.NotSent(f"Cannot reach {self.deployment.base}: {exc or type(exc).__name__}.",
                                 path=function)
            except httpx.TimeoutException as exc:
                last = E.RequestTimeout(f"No answer from {self.deployment.base} in time ({type(exc).__name__}).",
                                        path=function)
                if not read:
                    last = E.RequestTimeout(
                        f"No answer to the write {function or path}; it may or may not have run. Check before retrying.",
                        path=function)
            except httpx.TransportError as exc:
                last = E.NetworkError(f"Connection to {self.deployment.base} failed: {exc or type(exc).__name__}.",
                                      path=function)
                if not read:
                    last = E.NetworkError(
                        f"The connection dropped during the write {function or path}; it may or may not have run. "
                        f"Check before retrying.", path=function)
            except E.ConvexRequestError as exc:
                last = exc
            self._record(function or path, kind, "error", status, started, nbytes)
            if not (last.retryable and (read or isinstance(last, E.NotSent))) or attempt == self.retry.attempts - 1:
                raise last
            await self._sleep(self.retry.delay(attempt, getattr(last, "retry_after", None)))
        raise last  # pragma: no cover (loop always returns or raises)

    def _record(self, function: str, kind: str, outcome: str, status: int | None, started: float, nbytes: int) -> None:
        if self.on_call:
            self.on_call(CallRecord(function, kind, "network", outcome, status,
                                    (time.perf_counter() - started) * 1000, nbytes))

    @staticmethod
    def _parse(response: httpx.Response, function: str | None) -> Any:
        status = response.status_code
        try:
            body = response.json()
        except (ValueError, UnicodeDecodeError):
            body = None
        if status in (200, 560) or 200 <= status < 300:
            if body is None and response.content.strip() != b"null":
                raise E.MalformedResponse(
                    f"HTTP {status} with a body that is not JSON: {response.content[:120]!r}.", status=status,
                    path=function)
            return body
        code = message = None
        if isinstance(body, dict):
            code, message = body.get("code"), body.get("message")
        elif response.content:
            message = response.text[:300]
        err = E.error_for(status, code, message, path=function)
        retry_after = response.headers.get("retry-after")
        if retry_after:
            try:
                err.retry_after = float(retry_after)  # type: ignore[attr-defined]
            except ValueError:
                pass
        if status in TRANSIENT_STATUS and not err.retryable:
            err.retryable = True  # type: ignore[misc]
        raise err
