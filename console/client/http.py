"""One deployment, one long-lived httpx.AsyncClient: auth, deadlines, size caps, error mapping and retries.

Reads (queries, streaming export, metrics) are retried with exponential backoff and full jitter on
network errors, 429, 5xx and Cloudflare's 520-524; a `Retry-After` (seconds or an HTTP date) is honoured
up to 60 s, and every wait is announced to `on_wait` listeners so the UI can show it. Writes are retried
only when the deployment provably never ran them: the connection could not be opened, or the answer was
429 (rate limited) or 503 with a rejected-before-execution code; anything else is reported, because a
mutation that may have run must not run twice.

Every attempt has an overall deadline (headers and the whole body), so a server that drips its body a
byte at a time fails in bounded time, and every call has a total budget across its attempts. Bodies are
read as a stream with a byte cap that also bounds decompression (a small gzip cannot become gigabytes).
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import json
import logging
import math
import os
import random
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import httpx

from console import __version__
from console.client import errors as E
from console.client.tls import shared_context

CLIENT_HEADER = f"ops-console-{__version__}"

log = logging.getLogger(__name__)
WRITE_GRACE_S = 5.0  # how long closing waits for the writes in flight


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
    kind: str  # query | mutation | action | http_action | export | metrics | subscription
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
    max_delay: float = 8.0  # cap of the jittered backoff
    max_retry_after: float = 60.0  # a longer Retry-After fails the call at once, saying how long was asked
    deadline: float = 75.0  # one attempt, headers and whole body (list_snapshot may take 60 s server-side)
    total: float = 150.0  # one call, every attempt and wait included

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(self.max_retry_after, max(0.0, retry_after))
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))  # full jitter


@dataclass(frozen=True)
class RetryWait:
    """Announced before the client waits to send a request again (for a status bar)."""

    function: str
    seconds: float
    attempt: int  # the attempt that failed, from 1
    reason: str  # the error that caused the wait
    retry_after: bool  # the deployment asked for this wait (Retry-After)


TRANSIENT_STATUS = {429, 500, 502, 503, 504, 520, 521, 522, 523, 524}
DEFAULT_MAX_BODY = int(float(os.environ.get("OPS_CONSOLE_MAX_RESPONSE_MB") or 64) * 2**20)

Recorder = Callable[[CallRecord], None]
WaitListener = Callable[[RetryWait], None]


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date; None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


OFFLOAD_BYTES = 32 * 1024  # bodies larger than this are decoded off the caller's thread when it can


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:30]} is out of the Float64 range")
    return value


def strict_json(content: bytes) -> Any:
    """JSON as Convex writes it: no NaN/Infinity literals, no number beyond the Float64 range."""
    try:
        return json.loads(content, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc


class _BoundedDecoder:
    """Content-Encoding decoding with a cap on the decoded size, checked as it decompresses."""

    def __init__(self, encoding: str, cap: int) -> None:
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._z = None
        elif encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif encoding == "deflate":
            self._z = zlib.decompressobj(zlib.MAX_WBITS)
        else:
            raise ValueError(f"unsupported Content-Encoding {encoding!r}")
        self.cap = cap
        self.size = 0
        self.parts: list[bytes] = []

    def _take(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.cap:
            raise OverflowError
        self.parts.append(data)

    def feed(self, chunk: bytes) -> None:
        if self._z is None:
            self._take(chunk)
            return
        data = chunk
        while data:
            out = self._z.decompress(data, self.cap - self.size + 1)
            self._take(out)
            data = self._z.unconsumed_tail

    def finish(self) -> bytes:
        if self._z is not None:
            self._take(self._z.flush())
        return b"".join(self.parts)


class ConvexHttp:
    def __init__(self, deployment: Deployment, *, timeout: httpx.Timeout | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, retry: RetryPolicy | None = None,
                 on_call: Recorder | None = None, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 max_body: int = DEFAULT_MAX_BODY, on_wait: WaitListener | None = None) -> None:
        self.deployment = deployment
        self.retry = retry or RetryPolicy()
        self.on_call = on_call
        self.max_body = max_body
        self.wait_listeners: list[WaitListener] = [on_wait] if on_wait else []
        # Where big bodies are decoded: the GUI sets its read pool here so a page of thousands of documents is
        # never parsed on the GUI thread (None: where the request runs).
        self.offload: Callable[[Callable[[], Any]], Awaitable[Any]] | None = None
        self._sleep = sleep
        self._writes = 0  # writes in flight: aclose lets them finish
        self._client = httpx.AsyncClient(
            base_url=deployment.base,
            timeout=timeout or httpx.Timeout(connect=5.0, read=65.0, write=30.0, pool=10.0),
            transport=transport,
            # Only encodings decoded here under the size cap.
            headers={"Convex-Client": CLIENT_HEADER, "Accept-Encoding": "gzip, deflate"},
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
            verify=shared_context(),
        )

    async def aclose(self, grace: float = WRITE_GRACE_S) -> None:
        """Close the connections, after the writes in flight have had their answer (up to `grace` seconds): a
        write may already have run on the deployment, and closing under it turned its answer into "the connection
        dropped; it may or may not have run" (a window closed a moment after a retry said so)."""
        deadline = time.monotonic() + grace
        while self._writes and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await self._client.aclose()

    async def request(self, method: str, path: str, *, json_body: Any = None, params: dict[str, Any] | None = None,
                      identity: dict[str, Any] | None = None, read: bool = True, function: str | None = None,
                      kind: str = "query", deadline: float | None = None) -> Any:
        """Send, retry if allowed, and return the parsed JSON body of a 2xx (or 560) answer."""
        counted = 0 if read else 1  # writes in flight, for aclose
        self._writes += counted
        try:
            return await self._request(method, path, json_body, params, identity, read, function, kind, deadline)
        finally:
            self._writes -= counted

    async def _request(self, method: str, path: str, json_body: Any, params: dict[str, Any] | None,
                       identity: dict[str, Any] | None, read: bool, function: str | None, kind: str,
                       deadline: float | None) -> Any:
        headers = {}
        auth = self.deployment.auth(identity)
        if auth:
            headers["Authorization"] = auth
        name = function or path
        policy = self.retry
        per_attempt = deadline if deadline is not None else policy.deadline
        budget_end = time.monotonic() + max(policy.total, per_attempt)
        last: E.ConvexRequestError | None = None
        for attempt in range(policy.attempts):
            started = time.perf_counter()
            status: int | None = None
            nbytes = 0
            allowed = max(0.05, min(per_attempt, budget_end - time.monotonic()))
            try:
                async with asyncio.timeout(allowed):
                    status, response_headers, content = await self._send(method, path, json_body, params, headers,
                                                                         name)
                nbytes = len(content)
                if self.offload is not None and nbytes > OFFLOAD_BYTES:
                    got_status, got_headers, got = status, response_headers, content
                    body = await self.offload(lambda: self._parse(got_status, got_headers, got, function))
                else:
                    body = self._parse(status, response_headers, content, function)
                self._record(name, kind, "success", status, started, nbytes)
                return body
            except TimeoutError:
                last = E.RequestTimeout(f"{name}: no complete answer from {self.deployment.base} within {allowed:.0f} s.",
                                        path=function)
                if not read:
                    last = E.RequestTimeout(f"No complete answer to the write {name} within {allowed:.0f} s; it may "
                                            f"or may not have run. Check before retrying.", path=function)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # The request never left this machine: safe to send again, even a write.
                last = E.NotSent(f"Cannot reach {self.deployment.base}: {exc or type(exc).__name__}.",
                                 path=function)
            except httpx.TimeoutException as exc:
                last = E.RequestTimeout(f"No answer from {self.deployment.base} in time ({type(exc).__name__}).",
                                        path=function)
                if not read:
                    last = E.RequestTimeout(
                        f"No answer to the write {name}; it may or may not have run. Check before retrying.",
                        path=function)
            except httpx.TransportError as exc:
                log.info("transport error on %s (attempt %d)", name, attempt + 1, exc_info=True)
                last = E.NetworkError(f"Connection to {self.deployment.base} failed: {_root_cause(exc)}.",
                                      path=function)
                if not read:
                    last = E.NetworkError(
                        f"The connection dropped during the write {name} ({_root_cause(exc)}); it may or may not "
                        f"have run. Check before retrying.", path=function)
            except E.ConvexRequestError as exc:
                last = exc
            self._record(name, kind, "error", status, started, nbytes)
            if not (last.retryable and (read or last.resend_safe)) or attempt == policy.attempts - 1:
                raise last
            asked = last.retry_after
            if asked is not None and asked > policy.max_retry_after:
                longer = type(last)(f"{last.message} The deployment asks to wait {asked:.0f} s before trying again; "
                                    f"try again later.", status=last.status, code=last.code,
                                    server_message=last.server_message, path=last.path)
                longer.retry_after = asked
                raise longer from last
            wait = policy.delay(attempt, asked)
            if time.monotonic() + wait >= budget_end:
                raise last
            self._announce(RetryWait(name, wait, attempt + 1, str(last), asked is not None))
            await self._sleep(wait)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    async def _send(self, method: str, path: str, json_body: Any, params: dict[str, Any] | None,
                    headers: dict[str, str], name: str) -> tuple[int, httpx.Headers, bytes]:
        try:
            request = self._client.build_request(method, path, json=json_body, params=params, headers=headers)
        except UnicodeEncodeError as exc:  # a lone surrogate (say, in a name a hostile server sent) cannot go out
            raise E.InvalidText(f"{name}: the request holds text with a lone surrogate, which is not valid "
                                     f"Unicode; nothing was sent.", path=name) from exc
        response = await self._client.send(request, stream=True)
        try:
            too_large = E.ResponseTooLarge(
                f"The answer to {name} is larger than {self.max_body / 2**20:.0f} MiB.", status=response.status_code,
                path=name)
            length = response.headers.get("content-length", "")
            encoding = response.headers.get("content-encoding", "")
            if length.isdigit() and int(length) > self.max_body:
                raise too_large
            try:
                try:
                    content = response.content  # already buffered (in-memory transports in tests)
                    if len(content) > self.max_body:
                        raise OverflowError
                except httpx.ResponseNotRead:
                    decoder = _BoundedDecoder(encoding, self.max_body)
                    async for chunk in response.aiter_raw():
                        decoder.feed(chunk)
                    content = decoder.finish()
            except OverflowError:
                raise too_large from None
            except (ValueError, zlib.error) as exc:
                raise E.MalformedResponse(f"{name}: the answer could not be decoded ({exc}).",
                                          status=response.status_code, path=name) from exc
            return response.status_code, response.headers, content
        finally:
            await response.aclose()

    def _announce(self, wait: RetryWait) -> None:
        for listener in list(self.wait_listeners):
            try:
                listener(wait)
            except Exception:  # a listener's bug must not break the request
                pass

    def _record(self, function: str, kind: str, outcome: str, status: int | None, started: float, nbytes: int) -> None:
        if self.on_call:
            self.on_call(CallRecord(function, kind, "network", outcome, status,
                                    (time.perf_counter() - started) * 1000, nbytes))

    @staticmethod
    def _parse(status: int, headers: httpx.Headers, content: bytes, function: str | None) -> Any:
        why = ""
        try:
            body = strict_json(content)
            parsed = True
        except (ValueError, UnicodeDecodeError) as exc:
            body, parsed, why = None, False, str(exc)[:120]
        if 200 <= status < 300 or status == 560:
            if not parsed:
                raise E.MalformedResponse(
                    f"HTTP {status} with a body that is not Convex JSON ({why}): {content[:120]!r}.", status=status,
                    path=function)
            return body
        code = message = None
        if isinstance(body, dict):
            code, message = body.get("code"), body.get("message")
            code = code if isinstance(code, str) else None
            message = message if isinstance(message, str) else (None if message is None else str(message))
        elif content:
            message = content[:300].decode("utf-8", "replace")
        err = E.error_for(status, code, message, path=function)
        err.retry_after = parse_retry_after(headers.get("retry-after"))
        if status in TRANSIENT_STATUS and not err.retryable:
            err.retryable = True  # type: ignore[misc]
        raise err


def _root_cause(exc: BaseException) -> str:
    """What really failed under httpx's wrapping (a ReadError over anyio's BrokenResourceError over the OSError),
    as "Type: text": the wrappers often carry no text at all."""
    root, seen = exc, 0
    while root.__cause__ is not None and seen < 8:
        root, seen = root.__cause__, seen + 1
    text = str(root)
    return f"{type(root).__name__}: {text}" if text else type(root).__name__
