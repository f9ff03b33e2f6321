"""The stand-in's HTTP server: the Convex function API, streaming export, metrics and logs, the seed
workflows' HTTP actions, and fault injection. Threaded stdlib server on loopback."""

from __future__ import annotations

import base64
import json
import math
import random
import re
import socket
import threading
import time
import urllib.parse
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from console.demo.secrets import DEMO_CLERK_SECRET, DEMO_STRIPE_SECRET, DEMO_TWILIO_AUTH_TOKEN
from console.signatures import verify_standard_webhook, verify_stripe, verify_twilio
from console.standin import functions as F
from console.standin.store import DocStore

FORMATS = {"json", "convex_clean_json", "convex_encoded_json", "convex_json", "export_json"}
SNAPSHOT_PAGE = 1024
DELTA_PAGE = 128
CLIENT_VERSION = re.compile(r"^[a-z][a-z0-9-]*-\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$")
FAULTS = ("500", "503", "slow", "drop", "truncate")


class HttpError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


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


@dataclass
class LogEntry:
    timestamp: float  # ms
    udf_type: str
    identifier: str
    success: bool
    error: str | None
    execution_ms: float
    request_id: str


class StandinState:
    def __init__(self, store: DocStore, *, admin_key: str, faults: Faults | None = None, export_enabled: bool = True,
                 secrets: dict[str, str] | None = None, log_poll_s: float = 60.0) -> None:
        self.store = store
        self.admin_key = admin_key
        self.faults = faults or Faults()
        self.export_enabled = export_enabled
        self.secrets = secrets or {"stripe": DEMO_STRIPE_SECRET, "twilio": DEMO_TWILIO_AUTH_TOKEN,
                                   "clerk": DEMO_CLERK_SECRET}
        self.log_poll_s = log_poll_s
        self.logs: deque[LogEntry] = deque(maxlen=50_000)
        self.logs_changed = threading.Condition()
        self.requests = 0

    def log(self, entry: LogEntry) -> None:
        with self.logs_changed:
            self.logs.append(entry)
            self.logs_changed.notify_all()


# -- value formats -------------------------------------------------------------------------------------

def _wire_in(value: Any) -> Any:
    """Arguments arrive in convex_encoded_json; decode the tagged scalars, keep plain numbers as they are."""
    if isinstance(value, list):
        return [_wire_in(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            key, inner = next(iter(value.items()))
            if key == "$integer":
                return int.from_bytes(base64.b64decode(inner), "little", signed=True)
            if key == "$bytes":
                return base64.b64decode(inner)
        return {k: _wire_in(v) for k, v in value.items()}
    return value


def _wire_out(value: Any, fmt: str) -> Any:
    """Stored documents are in convex_encoded_json already; adapt to the requested format."""
    if isinstance(value, bytes):
        value = {"$bytes": base64.b64encode(value).decode()}
    if isinstance(value, float) and not math.isfinite(value):
        value = {"$float": base64.b64encode(__import__("struct").pack("<d", value)).decode()}
    if isinstance(value, list):
        return [_wire_out(v, fmt) for v in value]
    if isinstance(value, dict):
        if len(value) == 1 and fmt in ("json", "convex_clean_json"):
            key, inner = next(iter(value.items()))
            if key == "$integer":
                return str(int.from_bytes(base64.b64decode(inner), "little", signed=True))
            if key == "$bytes":
                return inner
        if len(value) == 1 and fmt == "export_json" and "$integer" in value:
            return int.from_bytes(base64.b64decode(value["$integer"]), "little", signed=True)
        return {k: _wire_out(v, fmt) for k, v in value.items()}
    if fmt in ("convex_encoded_json", "convex_json") and isinstance(value, int) and not isinstance(value, bool) \
            and abs(value) >= 2**53:
        # Beyond float64 precision (e.g. _ts in ns): only an Int64 says it exactly.
        return {"$integer": base64.b64encode(value.to_bytes(8, "little", signed=True)).decode()}
    return value


def _request_id() -> str:
    return uuid.uuid4().hex[:16]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "StandinServer"

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet: the stand-in logs through the function log
        pass

    # -- plumbing ------------------------------------------------------------------------------------
    @property
    def state(self) -> StandinState:
        return self.server.state

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json_body(self, raw: bytes) -> dict:
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise HttpError(400, "BadJsonBody", f"Failed to deserialize JSON body: {exc}") from exc
        if not isinstance(body, dict):
            raise HttpError(400, "BadJsonBody", "The body must be a JSON object")
        return body

    def _send(self, status: int, payload: Any, *, content_type: str = "application/json", fault: str | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if fault == "truncate":
            self.wfile.write(data[: max(1, len(data) // 2)])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(data)

    def _auth(self) -> tuple[bool, dict | None]:
        """(admin?, acting identity). Raises for a key that is not this deployment's."""
        header = self.headers.get("Authorization")
        if not header:
            return False, None
        scheme, _, rest = header.partition(" ")
        if scheme == "Bearer":
            return False, None
        if scheme != "Convex" or not rest:
            raise HttpError(401, "InvalidAuthHeader", "Authorization header must be 'Convex <key>' or 'Bearer <token>'")
        key, _, encoded = rest.partition(":")
        # Deploy keys look like "prod:name|secret"; the identity follows the last ':' after the '|'.
        if "|" in rest:
            head, _, tail = rest.partition("|")
            secret, _, encoded = tail.partition(":")
            key = f"{head}|{secret}"
        if key != self.state.admin_key:
            raise HttpError(401, "BadAdminKey", "The provided admin key was invalid for this instance")
        if not encoded:
            return True, None
        try:
            identity = json.loads(base64.b64decode(encoded))
        except (ValueError, TypeError) as exc:
            raise HttpError(401, "InvalidAuthHeader", f"Could not decode the acting identity: {exc}") from exc
        if not isinstance(identity, dict) or "subject" not in identity or "issuer" not in identity:
            raise HttpError(401, "InvalidAuthHeader", "The acting identity needs at least subject and issuer")
        return True, identity

    def _require_admin(self) -> None:
        admin, _ = self._auth()
        if not admin:
            raise HttpError(401, "MissingAccessToken", "This endpoint needs an admin key: 'Authorization: Convex <key>'")

    # -- dispatch -----------------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        state = self.state
        state.requests += 1
        raw = self._body()
        url = urllib.parse.urlsplit(self.path)
        route = url.path
        fault = None if route == "/health" else state.faults.pick()
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
            self._send(int(fault), {"code": code, "message": "injected fault"})
            return
        try:
            client = self.headers.get("Convex-Client")
            if client is not None and not CLIENT_VERSION.match(client):
                raise HttpError(400, "InvalidVersion", f"Invalid Convex-Client header {client!r}")
            params = dict(urllib.parse.parse_qsl(url.query))
            status, payload, ctype = self._route(method, route, params, raw)
        except HttpError as exc:
            status, payload, ctype = exc.status, {"code": exc.code, "message": exc.message}, "application/json"
        except Exception as exc:  # a stand-in bug must still answer like a deployment would
            status, payload, ctype = 500, {"code": "InternalServerError", "message": f"{type(exc).__name__}: {exc}"}, \
                "application/json"
        self._send(status, payload, content_type=ctype, fault=fault)

    def _route(self, method: str, route: str, params: dict[str, str], raw: bytes) -> tuple[int, Any, str]:
        j = "application/json"
        if route == "/health":
            return 200, {"status": "ok", "lastTs": self.state.store.last_ts}, j
        if route in ("/api/query", "/api/mutation", "/api/action") and method == "POST":
            body = self._json_body(raw)
            kind = route.rsplit("/", 1)[1]
            return 200, self._call(kind, body.get("path"), body.get("args"), body.get("format")), j
        if route.startswith("/api/run/") and method == "POST":
            body = self._json_body(raw)
            parts = route[len("/api/run/"):].strip("/").split("/")
            path = "/".join(parts[:-1]) + ":" + parts[-1] if len(parts) > 1 else parts[0]
            kind = "query" if path in F.QUERIES else "mutation"
            return 200, self._call(kind, path, body.get("args"), body.get("format")), j
        if route == "/api/query_batch" and method == "POST":
            body = self._json_body(raw)
            queries = body.get("queries")
            if not isinstance(queries, list):
                raise HttpError(400, "BadJsonBody", "query_batch needs {\"queries\": [...]}")
            with self.state.store.lock:  # every query of a batch reads at one timestamp
                results = [self._call("query", q.get("path"), q.get("args"), q.get("format"))
                           if isinstance(q, dict) else {"status": "error", "errorMessage": "bad query"} for q in queries]
            return 200, {"results": results}, j
        if route == "/api/function" and method == "POST":
            self._require_admin()
            body = self._json_body(raw)
            component = body.get("componentPath") or ""
            path = body.get("path")
            if component:
                return 200, self._function_error(f"Could not find public function for '{component}/{path}'.", None), j
            kind = "query" if path in F.QUERIES else "mutation"
            return 200, self._call(kind, path, body.get("args"), body.get("format")), j
        if route.startswith("/api/") and route[5:] in ("json_schemas", "list_snapshot", "document_deltas",
                                                      "test_streaming_export_connection"):
            self._require_admin()
            if not self.state.export_enabled:
                raise HttpError(403, "StreamingExportNotEnabled",
                                "Streaming export is only available on the Convex Professional plan")
            if method == "POST" and raw:
                params = {**params, **{k: str(v) for k, v in self._json_body(raw).items() if v is not None}}
            return 200, getattr(self, "_export_" + route[5:])(params), j
        if route.startswith("/api/app_metrics/"):
            self._require_admin()
            return 200, self._metrics(route.rsplit("/", 1)[1], params), j
        if route == "/api/stream_function_logs":
            self._require_admin()
            return 200, self._stream_logs(params), j
        if route in ("/twilio/sms", "/stripe", "/clerk") and method == "POST":
            return self._webhook(route, raw)
        raise HttpError(404, "NotFound", f"No route {method} {route}")

    # -- functions ------------------------------------------------------------------------------------------
    def _function_error(self, message: str, data: Any, log_lines: list[str] | None = None) -> dict:
        out: dict[str, Any] = {"status": "error", "errorMessage": f"[Request ID: {_request_id()}] Server Error\n{message}"}
        if data is not None:
            out["errorData"] = data
        if log_lines:
            out["logLines"] = log_lines
        return out

    def _call(self, kind: str, path: Any, args: Any, fmt: Any) -> dict:
        fmt = fmt or "json"
        if fmt not in FORMATS:
            raise HttpError(400, "BadFormat", f"Unknown format {fmt!r}")
        if not isinstance(path, str) or not re.match(r"^[A-Za-z0-9_/.-]+(:[A-Za-z0-9_]+)?$", path):
            raise HttpError(400, "BadConvexFunctionIdentifier", f"Invalid function path {path!r}")
        if args is not None and not isinstance(args, dict):
            raise HttpError(400, "BadJsonBody", "args must be an object")
        admin, identity = self._auth()
        table = F.QUERIES if kind == "query" else F.MUTATIONS
        fn = table.get(path)
        started = time.perf_counter()
        udf = {"query": "Query", "mutation": "Mutation", "action": "Action"}[kind]
        if fn is None or (path in F.INTERNAL and not admin):
            result = self._function_error(
                f"Could not find public function for '{path}'. Did you forget to run `npx convex dev` or "
                f"`npx convex deploy`?", None)
            self._log(udf, path, False, "function not found", started)
            return result
        if (invalid := F.check_args(path, args or {})) is not None: return self._function_error(invalid, None)  # noqa: E701
        try:
            with self.state.store.transaction() as tx:
                value = fn(F.Call(self.state.store, identity, admin, tx), _wire_in(args or {}))
        except F.FunctionThrew as exc:
            self._log(udf, path, False, str(exc), started)
            return self._function_error(f"Uncaught ConvexError: {exc}", exc.data)
        except Exception as exc:
            self._log(udf, path, False, f"{type(exc).__name__}: {exc}", started)
            return self._function_error(f"Uncaught {type(exc).__name__}: {exc}", None)
        self._log(udf, path, True, None, started)
        return {"status": "success", "value": _wire_out(value, fmt)}

    def _log(self, udf: str, path: str, ok: bool, error: str | None, started: float) -> None:
        self.state.log(LogEntry(time.time() * 1000, udf, path, ok, error, (time.perf_counter() - started) * 1000,
                                _request_id()))

    # -- streaming export -------------------------------------------------------------------------------------
    def _fmt(self, params: dict[str, str]) -> str:
        fmt = params.get("format") or "json"
        if fmt not in FORMATS:
            raise HttpError(400, "BadFormat", f"Unknown format {fmt!r}")
        return fmt

    def _export_test_streaming_export_connection(self, params: dict[str, str]) -> Any:
        return None

    def _export_json_schemas(self, params: dict[str, str]) -> Any:
        out: dict[str, dict[str, Any]] = {}
        for component, table in self.state.store.tables():
            sample = self.state.store.scan(table, component, limit=20)
            props: dict[str, Any] = {"_id": {"type": "string", "$description": f"Id({table})"},
                                     "_creationTime": {"type": "number"}}
            for doc in sample:
                for k, v in doc.items():
                    if k.startswith("_") or k in props:
                        continue
                    props[k] = {"type": {str: "string", bool: "boolean", list: "array", dict: "object",
                                         type(None): "null"}.get(type(v), "number")}
            schema = {"type": "object", "properties": props, "additionalProperties": False,
                      "required": ["_id", "_creationTime"]}
            out.setdefault(component, {})[table] = schema
        if params.get("byComponent") not in ("true", "1"):
            merged: dict[str, Any] = {}
            for tables in out.values():
                merged.update(tables)
            return merged
        return out

    def _export_list_snapshot(self, params: dict[str, str]) -> Any:
        fmt = self._fmt(params)
        store = self.state.store
        table = params.get("tableName")
        if not table:
            raise HttpError(400, "BadRequest", "tableName is required by this stand-in")
        component = params.get("component") or ""
        snapshot = int(params["snapshot"]) if params.get("snapshot") else store.snapshot_now()
        if snapshot < store.horizon:
            raise HttpError(400, "SnapshotTooOld", f"Snapshot {snapshot} is older than the retention window")
        after = ""
        if params.get("cursor"):
            try:
                after = base64.b64decode(params["cursor"].encode(), altchars=b"-_", validate=True).decode()
                if not after:
                    raise ValueError("empty cursor")
            except (ValueError, UnicodeDecodeError) as exc:
                raise HttpError(400, "InvalidListSnapshotCursor", f"Invalid cursor {params['cursor']!r}") from exc
        values, last_id, more = store.snapshot_page(component, table, snapshot, after, SNAPSHOT_PAGE)
        cursor = base64.urlsafe_b64encode(last_id.encode()).decode() if more else None
        return {"values": [_wire_out(v, fmt) for v in values], "snapshot": snapshot, "cursor": cursor, "hasMore": more}

    def _export_document_deltas(self, params: dict[str, str]) -> Any:
        fmt = self._fmt(params)
        store = self.state.store
        if not params.get("cursor"):
            raise HttpError(400, "DocumentDeltasCursorRequired", "document_deltas needs a cursor")
        try:
            cursor = int(params["cursor"])
        except ValueError as exc:
            raise HttpError(400, "BadRequest", f"Invalid cursor {params['cursor']!r}") from exc
        if cursor < store.horizon:
            raise HttpError(400, "InvalidWindowToReadDocuments",
                            f"Cursor {cursor} is older than the retention window; resync from a new snapshot")
        table = params.get("tableName")
        values, new_cursor, more = store.deltas(cursor, params.get("component") if table else None, table, DELTA_PAGE)
        return {"values": [_wire_out(v, fmt) for v in values], "cursor": new_cursor, "hasMore": more}

    # -- metrics and logs ---------------------------------------------------------------------------------------
    def _window(self, params: dict[str, str]) -> tuple[float, float, int]:
        try:
            w = json.loads(params.get("window") or "{}")
            start = w["start"]["secs_since_epoch"] + w["start"].get("nanos_since_epoch", 0) / 1e9
            end = w["end"]["secs_since_epoch"] + w["end"].get("nanos_since_epoch", 0) / 1e9
            buckets = int(w.get("num_buckets", 60))
        except (ValueError, KeyError, TypeError) as exc:
            raise HttpError(400, "BadRequest", f"Invalid window: {exc}") from exc
        if not 1 <= buckets <= 10_000 or end <= start:
            raise HttpError(400, "BadRequest", "num_buckets must be 1..10000 and end after start")
        return start, end, buckets

    def _series(self, entries: list[LogEntry], start: float, end: float, buckets: int, value) -> list:
        width = (end - start) / buckets
        groups: list[list[LogEntry]] = [[] for _ in range(buckets)]
        for e in entries:
            i = int((e.timestamp / 1000 - start) / width)
            if 0 <= i < buckets:
                groups[i].append(e)
        out = []
        for i, g in enumerate(groups):
            t = start + i * width
            out.append([{"secs_since_epoch": int(t), "nanos_since_epoch": int((t % 1) * 1e9)}, value(g)])
        return out

    def _metrics(self, metric: str, params: dict[str, str]) -> Any:
        start, end, buckets = self._window(params)
        entries = [e for e in list(self.state.logs) if start * 1000 <= e.timestamp < end * 1000]
        path = params.get("path")
        if path:
            entries = [e for e in entries if e.identifier == path]
        if metric == "udf_rate":
            kind = params.get("metric", "invocations")
            pick = {"invocations": lambda g: len(g), "errors": lambda g: sum(1 for e in g if not e.success),
                    "cacheHits": lambda g: 0, "cacheMisses": lambda g: sum(1 for e in g if e.udf_type == "Query")}
            if kind not in pick:
                raise HttpError(400, "BadRequest", f"Unknown metric {kind!r}")
            return self._series(entries, start, end, buckets, pick[kind])
        if metric == "cache_hit_percentage":
            return self._series(entries, start, end, buckets, lambda g: 0.0 if g else None)
        if metric == "latency_percentiles":
            out = {}
            for p in (50, 95, 99):
                def pct(g: list[LogEntry], p: int = p) -> float | None:
                    if not g:
                        return None
                    xs = sorted(e.execution_ms for e in g)
                    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
                out[str(p)] = self._series(entries, start, end, buckets, pct)
            return out
        if metric in ("function_call_count_top_k", "failure_percentage_top_k"):
            k = int(params.get("k") or 10)
            paths: dict[str, list[LogEntry]] = {}
            for e in entries:
                paths.setdefault(e.identifier, []).append(e)
            ranked = sorted(paths.items(), key=lambda kv: -len(kv[1]))[:k]
            if metric == "function_call_count_top_k":
                return [[p, self._series(es, start, end, buckets, len)] for p, es in ranked]
            return [[p, self._series(es, start, end, buckets,
                                     lambda g: (100.0 * sum(1 for e in g if not e.success) / len(g)) if g else None)]
                    for p, es in ranked]
        if metric == "scheduled_job_lag":
            return self._series([], start, end, buckets, lambda g: None)
        raise HttpError(404, "NotFound", f"Unknown metric {metric}")

    def _stream_logs(self, params: dict[str, str]) -> Any:
        try:
            cursor = float(params.get("cursor") or 0)
        except ValueError as exc:
            raise HttpError(400, "BadRequest", f"Invalid cursor {params.get('cursor')!r}") from exc
        deadline = time.monotonic() + self.state.log_poll_s
        with self.state.logs_changed:
            while True:
                fresh = [e for e in self.state.logs if e.timestamp > cursor]
                if fresh or time.monotonic() >= deadline or self.server.stopping:
                    break
                self.state.logs_changed.wait(timeout=min(1.0, deadline - time.monotonic()))
        entries = [{"udfType": e.udf_type, "identifier": e.identifier, "success": e.success, "error": e.error,
                    "executionTime": e.execution_ms / 1000, "timestamp": e.timestamp / 1000, "cachedResult": False,
                    "requestId": e.request_id, "logLines": [], "usageStats": {}} for e in fresh[:1000]]
        new_cursor = fresh[min(len(fresh), 1000) - 1].timestamp if fresh else cursor
        return {"entries": entries, "newCursor": new_cursor}

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

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.stopping = True
        with self.state.logs_changed:
            self.state.logs_changed.notify_all()
        self.shutdown()
        self.server_close()
