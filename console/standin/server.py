"""The stand-in's HTTP server: the routes of a Convex deployment (crates/local_backend/src/router.rs) on a
threaded stdlib server on loopback, plus the seed workflows' HTTP actions and fault injection.

Answers follow the backend: JSON error bodies `{"code", "message"}`, an unknown route is a bare 404 and a
known route with the wrong method a bare 405 (axum's defaults), CORS mirrors the caller's origin as the
router's `cors()` layer does. The routes themselves live in api.py, export.py and logs.py.
"""

from __future__ import annotations

import base64
import json
import random
import socket
import threading
import time
import urllib.parse
import uuid
from collections import deque
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from console import __version__
from console.demo.secrets import DEMO_CLERK_SECRET, DEMO_STRIPE_SECRET, DEMO_TWILIO_AUTH_TOKEN
from console.signatures import verify_standard_webhook, verify_stripe, verify_twilio
from console.standin import api, datasync, export, logs, system
from console.standin import functions as F
from console.standin.auth import (Caller, ClientVersion, Token, check_token, must_be_admin, parse_client_version,
                                  parse_token)
from console.standin.errors import HttpError
from console.standin.logs import LogEntry
from console.standin.store import DocStore
from console.standin.sync_ws import SyncHub, is_sync_route, serve_upgrade
from console.standin.values import dumps

FAULTS = ("500", "503", "slow", "drop", "truncate")
MAX_BODY = (1 << 24) + 2000  # MAX_BACKEND_PUBLIC_API_REQUEST_SIZE: 16 MiB + 2000
CORS_METHODS = "GET,POST,OPTIONS,PATCH,DELETE,PUT"
RUNNING = "This Convex deployment is running. See https://docs.convex.dev/."
UDF_TYPES = {"query": "Query", "mutation": "Mutation", "action": "Action"}

__all__ = ["Faults", "HttpError", "LogEntry", "StandinServer", "StandinState"]


@dataclass
class Faults:
    rate: float = 0.0
    latency_ms: int = 0
    slow_ms: int = 1500
    kinds: tuple[str, ...] = FAULTS
    planned: deque = field(default_factory=deque)  # forced faults, consumed in order (tests)
    rng: random.Random = field(default_factory=lambda: random.Random(1))
    injected: int = 0

    def pick(self) -> str | None:
        if self.planned:
            fault = self.planned.popleft()
        elif self.rate and self.rng.random() < self.rate:
            fault = self.rng.choice(self.kinds)
        else:
            return None
        self.injected += 1
        return fault


class StandinState:
    def __init__(self, store: DocStore, *, admin_key: str, faults: Faults | None = None, export_enabled: bool = True,
                 secrets: dict[str, str] | None = None, log_poll_s: float = 60.0, production: bool = False,
                 instance_name: str = "ops-console-standin") -> None:
        self.store = store
        self.admin_key = admin_key
        self.faults = faults or Faults()
        self.export_enabled = export_enabled
        self.production = production  # redact function errors as Cloud production does
        self.instance_name = instance_name
        self.secrets = secrets or {"stripe": DEMO_STRIPE_SECRET, "twilio": DEMO_TWILIO_AUTH_TOKEN,
                                   "clerk": DEMO_CLERK_SECRET}
        self.log_poll_s = log_poll_s
        self.logs: deque[LogEntry] = deque(maxlen=50_000)
        self.logs_changed = threading.Condition()
        self.requests = 0
        self.env_vars: dict[str, dict] = {}  # name -> {_id, _creationTime, name, value} (system.py)
        self.url: str | None = None  # set once the server listens: the CLI's convexUrl:cloudUrl
        store.standin_state = self

    def log(self, entry: LogEntry) -> None:
        with self.logs_changed:
            self.logs.append(entry)
            self.logs_changed.notify_all()

    def log_call(self, kind: str, identifier: str, component: str, error: str | None, seconds: float,
                 request_id: str, identity_type: str) -> None:
        self.log(LogEntry(time.time() * 1000, UDF_TYPES.get(kind, kind), identifier, component, error, seconds,
                          request_id, identity_type))


def _request_id() -> str:
    return uuid.uuid4().hex[:16]


@dataclass
class Request:
    """One HTTP request as the route handlers see it."""

    method: str
    path: str
    params: dict[str, str]
    headers: Message
    body: bytes
    server: "StandinServer"
    request_id: str = field(default_factory=_request_id)
    client_version: ClientVersion = field(default_factory=lambda: parse_client_version(None))

    @property
    def state(self) -> StandinState:
        return self.server.state

    def json(self) -> dict:
        """The body as Convex's Json extractor reads it: JSON content type, an object."""
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        main, _, sub = ctype.partition("/")
        if not (main == "application" and (sub == "json" or sub.endswith("+json"))):
            raise HttpError(400, "BadJsonBody", "Expected request with `Content-Type: application/json`")
        try:
            body = json.loads(self.body)
        except ValueError as exc:
            raise HttpError(400, "BadJsonBody", f"Failed to parse the request body as JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise HttpError(400, "BadJsonBody", "Failed to deserialize the JSON body into the target type: invalid "
                                                f"type: {type(body).__name__}, expected a map")
        return body

    def token(self) -> Token:
        return parse_token(self.headers.get("Authorization"), self.params.get("adminKey"))

    def check(self, token: Token) -> Caller:
        return check_token(token, self.state.admin_key, redact=self.state.production)

    def caller(self) -> Caller:
        return self.check(self.token())

    def admin(self) -> Caller:
        caller = self.caller()
        must_be_admin(caller)
        return caller


Route = Callable[[Request], Any]


def _export_route(fn: Route) -> Route:
    def handler(req: Request) -> Any:
        if req.method == "POST" and req.body:  # POST takes the same arguments as a JSON body
            req.params = {**req.params, **{k: v if isinstance(v, str) else json.dumps(v)
                                           for k, v in req.json().items() if v is not None}}
        return fn(req)
    return handler


def _root(req: Request) -> Any:
    return _Raw(200, RUNNING.encode(), "text/plain; charset=utf-8")


def _instance_name(req: Request) -> Any:
    return _Raw(200, req.state.instance_name.encode(), "text/plain; charset=utf-8")


def _instance_version(req: Request) -> Any:
    return _Raw(200, f"ops-console-standin-{__version__}".encode(), "text/plain; charset=utf-8")


def _echo(req: Request) -> Any:
    return _Raw(200, req.body, None)


@dataclass
class _Raw:
    status: int
    body: bytes
    content_type: str | None


ROUTES: dict[str, dict[str, Route]] = {
    "/": {"GET": _root},
    "/instance_name": {"GET": _instance_name},
    "/instance_version": {"GET": _instance_version},
    "/echo": {"POST": _echo},
    "/api/query": {"GET": api.get_query, "POST": api.post_udf("query")},
    "/api/mutation": {"POST": api.post_udf("mutation")},
    "/api/action": {"POST": api.post_udf("action")},
    "/api/function": {"POST": api.function},
    "/api/query_batch": {"POST": api.query_batch},
    "/api/query_ts": {"POST": api.query_ts},
    "/api/query_at_ts": {"POST": api.query_at_ts},
    "/api/json_schemas": {"GET": export.json_schemas},
    "/api/list_snapshot": {"GET": _export_route(export.list_snapshot), "POST": _export_route(export.list_snapshot)},
    "/api/document_deltas": {"GET": _export_route(export.document_deltas),
                             "POST": _export_route(export.document_deltas)},
    "/api/test_streaming_export_connection": {"GET": export.check_connection},
    "/api/get_table_column_names": {"GET": export.table_column_names},
    "/api/v1/data/sync": {"POST": datasync.data_sync},
    "/api/data_sync_cursor_from_deltas": {"POST": datasync.cursor_from_deltas},
    "/api/stream_function_logs": {"GET": logs.stream_function_logs},
    "/api/update_environment_variables": {"POST": system.update_environment_variables},
    "/api/app_metrics/stream_function_logs": {"GET": logs.stream_function_logs},
}
METRICS = ("udf_rate", "failure_percentage_top_k", "cache_hit_percentage_top_k", "function_call_count_top_k",
           "subscription_invalidations_top_k", "cache_hit_percentage", "table_rate", "latency_percentiles",
           "scheduled_job_lag", "function_concurrency")
for _m in METRICS:
    ROUTES[f"/api/app_metrics/{_m}"] = {"GET": logs.metric}
WEBHOOKS = ("/twilio/sms", "/stripe", "/clerk")
NO_FAULTS = ("/", "/instance_name", "/instance_version")


def _methods(route: str) -> dict[str, Route] | None:
    if route in ROUTES:
        return ROUTES[route]
    if route.startswith("/api/run/") and len(route) > len("/api/run/"):
        return {"POST": api.run_by_path}
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "StandinServer"
    _head = False

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet: the stand-in logs through the function log
        pass

    @property
    def state(self) -> StandinState:
        return self.server.state

    def do_GET(self) -> None:
        if is_sync_route(self.path):  # the WebSocket sync protocol: this thread serves the socket from here on
            self.state.requests += 1
            serve_upgrade(self)
            return
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_HEAD(self) -> None:  # axum answers HEAD on GET routes, headers only
        self._head = True
        try:
            self._dispatch("GET")
        finally:
            self._head = False

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_OPTIONS(self) -> None:
        if self.headers.get("Origin") and self.headers.get("Access-Control-Request-Method"):
            self._read_body()
            self._send(200, b"", None, cors=True, preflight=True)
            return
        self._dispatch("OPTIONS")

    # -- plumbing ---------------------------------------------------------------------------------------
    def _read_body(self) -> bytes | None:
        """The body, or None when it is refused (an answer has been sent)."""
        raw = self.headers.get("Content-Length")
        if raw is None and "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        if raw is None:
            return b""
        try:
            length = int(raw)
            if length < 0:
                raise ValueError(raw)
        except ValueError:
            self.close_connection = True
            self._send(400, b"", None)
            return None
        if length > MAX_BODY:
            self.close_connection = True  # the rest of the body is never read
            self._send(400, dumps({"code": "BadJsonBody",
                                   "message": "Failed to buffer the request body: length limit exceeded"}),
                       "application/json", cors=True)
            return None
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes | None:
        body = bytearray()
        try:
            while True:
                size = int(self.rfile.readline(64).split(b";")[0].strip() or b"x", 16)
                if size == 0:
                    while self.rfile.readline(1024).strip():  # trailers
                        pass
                    return bytes(body)
                if len(body) + size > MAX_BODY:
                    break
                body += self.rfile.read(size)
                self.rfile.readline(8)
        except ValueError:
            self.close_connection = True
            self._send(400, b"", None)
            return None
        self.close_connection = True
        self._send(400, dumps({"code": "BadJsonBody", "message": "Failed to buffer the request body: length limit "
                                                                 "exceeded"}), "application/json", cors=True)
        return None

    def _send(self, status: int, data: bytes, content_type: str | None, *, fault: str | None = None,
              cors: bool = False, preflight: bool = False, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if content_type:
            self.send_header("Content-Type", content_type)
        origin = self.headers.get("Origin")
        if cors and origin:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Credentials", "true")
            self.send_header("Vary", "origin, access-control-request-method, access-control-request-headers")
            if preflight:
                self.send_header("Access-Control-Allow-Methods", CORS_METHODS)
                self.send_header("Access-Control-Allow-Headers",
                                 self.headers.get("Access-Control-Request-Headers") or "")
                self.send_header("Access-Control-Max-Age", "86400")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self._head:
            return
        if fault == "truncate":
            self.wfile.write(data[: max(1, len(data) // 2)])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(data)

    def _dispatch(self, method: str) -> None:
        state = self.state
        state.requests += 1
        raw = self._read_body()
        if raw is None:
            return
        url = urllib.parse.urlsplit(self.path)
        route = url.path
        # HTTP actions: at the root here (as on a .convex.site origin) and under /http/ (the .convex.cloud form)
        action_route = route[len("/http"):] if route.startswith("/http/") else route
        webhook = action_route in WEBHOOKS
        fault = None if route in NO_FAULTS else state.faults.pick()
        if state.faults.latency_ms:
            time.sleep(state.faults.latency_ms / 1000)
        if fault == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault == "slow":
            time.sleep(state.faults.slow_ms / 1000)
        if fault in ("500", "503"):
            code = "InternalServerError" if fault == "500" else "Overloaded"
            self._send(int(fault), dumps({"code": code, "message": "injected fault"}), "application/json", cors=True)
            return
        if webhook:
            if method != "POST":
                self._send(405, b"", None)
                return
            started = time.perf_counter()
            status, payload, ctype = self._webhook(action_route, raw)
            state.log(LogEntry(time.time() * 1000, "HttpAction", f"POST {action_route}", "", None,
                               time.perf_counter() - started, _request_id(), "unknown", status))
            self._send(status, payload if isinstance(payload, bytes) else dumps(payload), ctype, fault=fault)
            return
        methods = _methods(route)
        if methods is None:
            self._send(404, b"", None, cors=True, fault=fault)
            return
        handler = methods.get(method)
        if handler is None:
            self._send(405, b"", None, cors=True, fault=fault)
            return
        req = Request(method, route, dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True)),
                      self.headers, raw, self.server)
        extra: dict[str, str] = {}
        try:
            if route.startswith("/api/"):
                req.client_version = parse_client_version(self.headers.get("Convex-Client"))
                state_ = req.client_version.state()
                if state_ is not None:  # client_version_state_middleware
                    extra = {"x-convex-deprecation-state": state_[0], "x-convex-deprecation-message": state_[1]}
                    if state_[0] == "Unsupported":
                        raise HttpError(400, "ClientVersionUnsupported", state_[1])
            result = handler(req)
            if isinstance(result, _Raw):
                self._send(result.status, result.body, result.content_type, cors=True, fault=fault, headers=extra)
                return
            status, data = 200, dumps(result)
        except HttpError as exc:
            status, data = exc.status, dumps({"code": exc.code, "message": exc.message})
        except KeyError:  # an unknown metric name under a known prefix
            status, data = 404, b""
        except Exception as exc:  # a stand-in bug must still answer like a deployment would
            message = "Your request couldn't be completed. Try again later." if state.production \
                else f"{type(exc).__name__}: {exc}"
            status, data = 500, dumps({"code": "InternalServerError", "message": message})
        self._send(status, data, "application/json" if data else None, cors=True, fault=fault, headers=extra)

    # -- the seed workflows: webhooks in, idempotent jobs out -------------------------------------------------------
    def _public_url(self, route: str) -> str:
        return f"http://{self.headers.get('Host') or 'localhost'}{route}"

    def _webhook(self, route: str, raw: bytes) -> tuple[int, Any, str]:
        headers = {k: v for k, v in self.headers.items()}
        secrets = self.state.secrets
        if route == "/twilio/sms":
            provider = "twilio"
            params = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
            verdict = verify_twilio(self._public_url(self.path), params, self.headers.get("X-Twilio-Signature"),
                                    secrets["twilio"])
            event_id, event_type = params.get("MessageSid") or "", "sms.inbound"
        elif route == "/stripe":
            provider = "stripe"
            verdict = verify_stripe(raw, self.headers.get("Stripe-Signature"), secrets["stripe"])
            event = _json_or_empty(raw)
            event_id, event_type = str(event.get("id") or ""), str(event.get("type") or "")
        else:
            provider = "clerk"
            verdict = verify_standard_webhook(raw, headers, secrets["clerk"])
            event = _json_or_empty(raw)
            event_id = self.headers.get("svix-id") or self.headers.get("webhook-id") or ""
            event_type = str(event.get("type") or "")
        if not verdict.valid:
            return 403, f"signature verification failed: {verdict.reason}: {verdict.detail}".encode(), "text/plain"
        if not event_id:
            return 400, b"no event id", "text/plain"
        now = int(time.time() * 1000)
        job_type = f"webhook.{provider}.{'inbound' if provider == 'twilio' else 'event'}"
        with self.state.store.transaction() as tx:
            call = F.Call(self.state.store, None, True, tx)
            job = F.enqueue(call, {"key": event_id, "type": job_type, "payload": {"eventType": event_type}})
            delivery_id = tx.insert("webhookDeliveries", {
                "provider": provider, "endpoint": self._public_url(self.path), "method": "POST", "headers": headers,
                "body": {"$bytes": base64.b64encode(raw).decode()}, "receivedAt": now, "eventType": event_type,
                "providerEventId": event_id, "jobId": job["jobId"],
            })
            if job["created"]:
                tx.patch("jobs", job["jobId"], {"deliveryId": delivery_id,
                                                "payload": {"eventType": event_type, "deliveryId": delivery_id}})
        return 200, {"received": True, "jobId": job["jobId"], "duplicate": not job["created"]}, "application/json"


def _json_or_empty(raw: bytes) -> dict:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: StandinState) -> None:
        self.state = state
        self.stopping = False
        super().__init__(address, Handler)
        self.sync = SyncHub(self)
        state.url = self.url

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client went away (a killed CLI, a dropped long poll): nothing to report
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.stopping = True
        with self.state.logs_changed:
            self.state.logs_changed.notify_all()
        self.shutdown()
        self.sync.close()
        self.server_close()
