"""Function logs and app metrics: /api/stream_function_logs and /api/app_metrics/*, shaped as
crates/local_backend/src/logs.rs, crates/common/src/log_streaming.rs (`FunctionExecutionJson`) and
crates/local_backend/src/app_metrics.rs answer them."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from console.standin.errors import HttpError

if TYPE_CHECKING:
    from console.standin.server import Request

MAX_ENTRIES = 1000
UDF_METRICS = ("invocations", "errors", "cacheHits", "cacheMisses", "subscriptionInvalidations")
_USAGE_FIELDS = ("databaseReadBytes", "databaseWriteBytes", "databaseIoReadBytes", "databaseIoWriteBytes",
                 "databaseReadDocuments", "databaseWriteDocuments", "storageReadBytes", "storageWriteBytes",
                 "vectorIndexReadBytes", "vectorIndexWriteBytes", "textIndexQueryBytes", "textIndexWriteQueryBytes",
                 "vectorIndexReadQueryBytes", "vectorIndexWriteQueryBytes", "networkEgressBytes", "memoryUsedMb")


@dataclass
class LogEntry:
    timestamp: float  # ms since the epoch, when the function finished
    udf_type: str  # "Query" | "Mutation" | "Action" | "HttpAction"
    identifier: str
    component: str
    error: str | None
    execution_s: float
    request_id: str
    identity_type: str
    http_status: int | None = None  # HTTP actions: the status of the response they returned

    @property
    def success(self) -> bool:
        return self.error is None

    def to_json(self) -> dict:
        """A `kind: "Completion"` entry; `success` is null for functions (it is the HTTP response for
        HTTP actions), failure is `error`."""
        started = self.timestamp / 1000 - self.execution_s
        http = self.udf_type == "HttpAction"
        return {
            "kind": "Completion", "udfType": self.udf_type, "componentPath": self.component or None,
            "identifier": self.identifier, "logLines": [], "timestamp": self.timestamp / 1000,
            "cachedResult": False, "caller": "HttpApi", "parentExecutionId": None,
            "executionTime": self.execution_s, "userExecutionTime": self.execution_s,
            "success": {"status": str(self.http_status)} if http and self.error is None else None,
            "error": self.error, "requestId": self.request_id, "executionId": str(uuid.uuid4()),
            "usageStats": {name: 0 for name in _USAGE_FIELDS}, "returnBytes": None if self.error or http else 0.0,
            "occInfo": None, "willRetry": False, "executionTimestamp": started,
            "identityType": self.identity_type, "environment": "isolate",
        }


def stream_function_logs(req: "Request") -> Any:
    req.admin()
    raw = req.params.get("cursor")
    if raw is None:
        raise HttpError(400, "BadQueryArgs", "Failed to deserialize query string: missing field `cursor`")
    try:
        cursor = float(raw)
    except ValueError as exc:
        raise HttpError(400, "BadQueryArgs", f"Failed to deserialize query string: cursor: invalid float literal") \
            from exc
    state = req.state
    deadline = time.monotonic() + state.log_poll_s
    with state.logs_changed:
        while True:
            fresh = [e for e in state.logs if e.timestamp > cursor]
            if fresh or time.monotonic() >= deadline or req.server.stopping:
                break
            state.logs_changed.wait(timeout=min(1.0, max(0.01, deadline - time.monotonic())))
    fresh = fresh[:MAX_ENTRIES]
    return {"entries": [e.to_json() for e in fresh], "newCursor": fresh[-1].timestamp if fresh else cursor}


# -- metrics ----------------------------------------------------------------------------------------------------

def _need(req: "Request", *names: str) -> list[str]:
    out = []
    for name in names:
        aliases = (name, "udfPath") if name == "path" else (name,)
        value = next((req.params[a] for a in aliases if a in req.params), None)
        if value is None:
            raise HttpError(400, "BadQueryArgs", f"Failed to deserialize query string: missing field `{name}`")
        out.append(value)
    return out


def _window(text: str) -> tuple[float, float, int]:
    try:
        w = json.loads(text)
        start = w["start"]["secs_since_epoch"] + w["start"].get("nanos_since_epoch", 0) / 1e9
        end = w["end"]["secs_since_epoch"] + w["end"].get("nanos_since_epoch", 0) / 1e9
        buckets = int(w.get("num_buckets", 60))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise HttpError(400, "BadQueryArgs", f"Invalid window: {exc}") from exc
    if not 1 <= buckets <= 10_000 or end <= start:
        raise HttpError(400, "BadQueryArgs", "Invalid window: num_buckets must be 1..10000 and end after start")
    return start, end, buckets


def _series(entries: list[LogEntry], start: float, end: float, buckets: int, value) -> list:
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


def _k(req: "Request") -> int:
    raw = req.params.get("k")
    if raw is None:
        return 5
    try:
        k = int(raw)
        if k < 0:
            raise ValueError(raw)
    except ValueError as exc:
        raise HttpError(400, "BadQueryArgs", f"Failed to deserialize query string: k: invalid digit found in "
                                             f"string") from exc
    if not 1 <= k <= 25:
        raise HttpError(400, "InvalidTopKParameter", f"k must be between 1 and 25, got {k}")
    return k


def _entries(req: "Request", start: float, end: float, path: str | None = None) -> list[LogEntry]:
    component = req.params.get("componentPath") or ""
    out = [e for e in list(req.state.logs) if start * 1000 <= e.timestamp < end * 1000]
    if path is not None:
        key = path if ":" in path else f"{path}:default"
        key = key.replace(".js:", ":")
        out = [e for e in out if (e.identifier if ":" in e.identifier else e.identifier + ":default") == key
               and e.component == component]
    return out


def _top_k(entries: list[LogEntry], k: int) -> list[tuple[str, list[LogEntry]]]:
    paths: dict[str, list[LogEntry]] = {}
    for e in entries:
        paths.setdefault(e.identifier, []).append(e)
    return sorted(paths.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:k]


def _pct(p: float):
    def pick(g: list[LogEntry]) -> float | None:
        if not g:
            return None
        xs = sorted(e.execution_s * 1000 for e in g)
        return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
    return pick


def metric(req: "Request") -> Any:
    name = req.path.rsplit("/", 1)[1]
    req.admin()
    if name == "udf_rate":
        path, kind, window = _need(req, "path", "metric", "window")
        if kind not in UDF_METRICS:
            raise HttpError(400, "BadQueryArgs", f"Unknown metric {kind!r}")
        start, end, buckets = _window(window)
        pick = {"invocations": len, "errors": lambda g: sum(1 for e in g if not e.success),
                "cacheHits": lambda g: 0, "cacheMisses": lambda g: sum(1 for e in g if e.udf_type == "Query"),
                "subscriptionInvalidations": lambda g: 0}[kind]
        return _series(_entries(req, start, end, path), start, end, buckets, lambda g: float(pick(g)))
    if name == "latency_percentiles":
        path, percentiles, window = _need(req, "path", "percentiles", "window")
        try:
            ps = json.loads(percentiles)
            if not isinstance(ps, list) or not all(isinstance(p, int) and 0 <= p <= 100 for p in ps):
                raise ValueError("expected a list of integers")
        except ValueError as exc:
            raise HttpError(400, "BadQueryArgs", f"Invalid percentiles: {exc}") from exc
        start, end, buckets = _window(window)
        entries = _entries(req, start, end, path)
        return [[p, _series(entries, start, end, buckets, _pct(p))] for p in ps]
    if name == "cache_hit_percentage":
        path, window = _need(req, "path", "window")
        start, end, buckets = _window(window)
        return _series(_entries(req, start, end, path), start, end, buckets, lambda g: 0.0 if g else None)
    if name in ("function_call_count_top_k", "failure_percentage_top_k", "cache_hit_percentage_top_k",
                "subscription_invalidations_top_k"):
        (window,) = _need(req, "window")
        k = _k(req)
        start, end, buckets = _window(window)
        ranked = _top_k(_entries(req, start, end), k)
        if name == "function_call_count_top_k":
            return [[p, _series(es, start, end, buckets, lambda g: float(len(g)))] for p, es in ranked]
        if name == "failure_percentage_top_k":
            return [[p, _series(es, start, end, buckets,
                                lambda g: (100.0 * sum(1 for e in g if not e.success) / len(g)) if g else None)]
                    for p, es in ranked if any(not e.success for e in es)]
        if name == "cache_hit_percentage_top_k":
            return [[p, _series(es, start, end, buckets, lambda g: 0.0 if g else None)]
                    for p, es in ranked if any(e.udf_type == "Query" for e in es)]
        return []
    if name == "table_rate":
        _name, _metric, window = _need(req, "name", "metric", "window")
        start, end, buckets = _window(window)
        return _series([], start, end, buckets, lambda g: 0.0)
    if name in ("scheduled_job_lag", "function_concurrency"):
        (window,) = _need(req, "window")
        start, end, buckets = _window(window)
        return _series([], start, end, buckets, lambda g: None)
    raise KeyError(name)  # the router answers an unknown metric with an empty 404
