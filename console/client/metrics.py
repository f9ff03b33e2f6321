"""The deployment's own metrics (`/api/app_metrics/*`), read as the backend serves them
(crates/local_backend/src/app_metrics.rs, crates/application/src/function_log.rs):

- `function_call_count_top_k?window&k` (k in 1..25): `[[function, series], ..., ["_rest", series]]`, counts;
- `udf_rate?path&metric&window` (`path` required): one series of rates per second;
- `latency_percentiles?path&percentiles=[50,95,99]&window`: `[[p, series], ...]`, seconds.

A series is `[[{"secs_since_epoch", "nanos_since_epoch"}, value-or-null], ...]`. The endpoints are internal
to Convex: a missing or changed one is a note in the result, never an exception.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from console.client import errors as E
from console.client.http import ConvexHttp
from console.domain.fnmetrics import FunctionMetrics, FunctionRow

TOP_K = 25  # the backend's maximum
PERCENTILES = (50, 95, 99)
DEADLINE = 15.0


@dataclass
class DeploymentMetrics:
    total_calls: float | None = None  # every function call in the window (top k plus "_rest")
    top: list[tuple[str, float]] = field(default_factory=list)  # busiest functions, calls
    busiest_errors: float | None = None  # errors of the busiest function in the window
    busiest_latency: dict[int, float] = field(default_factory=dict)  # percentile -> seconds (mean over buckets)
    notes: list[str] = field(default_factory=list)  # what could not be read, and why

    @property
    def available(self) -> bool:
        return self.total_calls is not None

    def describe(self) -> str:
        if not self.available:
            why = "; ".join(self.notes) or "no answer"
            return (f"Source: the console's call log. The deployment's metrics endpoint is not available ({why}); it "
                    f"is internal to Convex and may be missing or change.")
        text = f"Source: the console's call log, plus the deployment's own metrics: {self.total_calls:,.0f} function " \
               f"calls in this range on the deployment"
        if self.top:
            name, calls = self.top[0]
            text += f"; busiest {name} ({calls:,.0f} calls"
            if self.busiest_errors is not None:
                text += f", {self.busiest_errors:,.0f} errors"
            if 95 in self.busiest_latency:
                text += f", p95 {self.busiest_latency[95] * 1000:,.0f} ms"
            text += ")"
        return text + "."


def window(start: float, end: float, buckets: int) -> str:
    """The `window` query parameter: SystemTime start/end and 1..10000 buckets."""
    start_s, end_s = int(start), max(int(end), int(start) + 1)
    return json.dumps({"start": {"secs_since_epoch": start_s, "nanos_since_epoch": 0},
                       "end": {"secs_since_epoch": end_s, "nanos_since_epoch": 0},
                       "num_buckets": max(1, min(int(buckets), 10_000))})


def _series_values(series: Any) -> list[float]:
    if not isinstance(series, list):
        raise ValueError("a series is not a list")
    out = []
    for point in series:
        if not isinstance(point, list) or len(point) != 2:
            raise ValueError("a point is not [time, value]")
        value = point[1]
        if value is None:
            continue
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ValueError("a value is not a number")
        out.append(float(value))
    return out


def _pairs(body: Any) -> list[tuple[Any, list[float]]]:
    if not isinstance(body, list):
        raise ValueError(f"expected a list of [key, series], got {type(body).__name__}")
    out = []
    for item in body:
        if not isinstance(item, list) or len(item) != 2:
            raise ValueError("an entry is not [key, series]")
        out.append((item[0], _series_values(item[1])))
    return out


async def probe(http: ConvexHttp, start: float, end: float, buckets: int) -> DeploymentMetrics:
    """Read what the deployment says about [start, end); never raises for a missing or odd endpoint."""
    m = DeploymentMetrics()
    win = window(start, end, buckets)
    width = max(1.0, float(int(end) - int(start))) / max(1, min(int(buckets), 10_000))

    async def get(route: str, params: dict[str, Any]) -> Any:
        return await http.request("GET", f"/api/app_metrics/{route}", params=params, kind="metrics",
                                  function=f"app_metrics/{route}", deadline=DEADLINE)

    try:
        top = _pairs(await get("function_call_count_top_k", {"window": win, "k": TOP_K}))
        totals = [(str(name), sum(values)) for name, values in top]
        m.total_calls = sum(t for _, t in totals)
        m.top = sorted(((n, t) for n, t in totals if n != "_rest"), key=lambda x: -x[1])
    except (E.ConvexRequestError, ValueError) as exc:
        m.notes.append(f"function_call_count_top_k: {_short(exc)}")
        return m
    if not m.top:
        return m
    busiest = m.top[0][0]
    try:
        rates = _series_values(await get("udf_rate", {"path": busiest, "metric": "errors", "window": win}))
        m.busiest_errors = sum(rates) * width  # a rate per second per bucket, back to a count
    except (E.ConvexRequestError, ValueError) as exc:
        m.notes.append(f"udf_rate: {_short(exc)}")
    try:
        pairs = _pairs(await get("latency_percentiles", {"path": busiest, "window": win,
                                                          "percentiles": json.dumps(list(PERCENTILES))}))
        for p, values in pairs:
            if values and isinstance(p, (int, float)):
                m.busiest_latency[int(p)] = sum(values) / len(values)
    except (E.ConvexRequestError, ValueError) as exc:
        m.notes.append(f"latency_percentiles: {_short(exc)}")
    return m


def _short(exc: Exception) -> str:
    if isinstance(exc, E.ConvexRequestError):
        return f"{type(exc).__name__}: {exc.message[:120]}"
    return f"{type(exc).__name__}: {str(exc)[:120]}"


LATENCY_OF = 5  # execution-time percentiles are one request per function: the busiest few only


async def deployment_functions(http: ConvexHttp, start: float, end: float, buckets: int,
                               top_n: int = 8) -> FunctionMetrics:
    """Per-function calls, errors, cache hits and execution-time percentiles from the deployment's own metrics
    routes. A route that is missing or answers oddly leaves a note (and its figures empty), never raises."""
    m = FunctionMetrics(start, end, buckets, source="deployment")
    win = window(start, end, buckets)
    width = max(1.0, float(int(end) - int(start))) / max(1, min(int(buckets), 10_000))

    async def get(route: str, params: dict[str, Any]) -> Any:
        return await http.request("GET", f"/api/app_metrics/{route}", params=params, kind="metrics",
                                  function=f"app_metrics/{route}", deadline=DEADLINE)

    def full(series: Any) -> list[float | None]:
        if not isinstance(series, list):
            raise ValueError("a series is not a list")
        out: list[float | None] = []
        for point in series[:buckets]:
            if not isinstance(point, list) or len(point) != 2:
                raise ValueError("a point is not [time, value]")
            v = point[1]
            if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool)):
                raise ValueError("a value is not a number")
            out.append(None if v is None else float(v))
        return out + [None] * (buckets - len(out))

    def keyed(body: Any) -> list[tuple[str, list[float | None]]]:
        if not isinstance(body, list):
            raise ValueError(f"expected a list of [function, series], got {type(body).__name__}")
        out = []
        for item in body:
            if not isinstance(item, list) or len(item) != 2:
                raise ValueError("an entry is not [function, series]")
            out.append((str(item[0]), full(item[1])))
        return out

    try:
        counts = keyed(await get("function_call_count_top_k", {"window": win, "k": TOP_K}))
    except (E.ConvexRequestError, ValueError) as exc:
        m.notes.append(f"function_call_count_top_k: {_short(exc)}")
        return m
    rows = {name: FunctionRow(name, sum(v or 0.0 for v in series))
            for name, series in counts if name != "_rest"}
    per_bucket = {name: [v or 0.0 for v in series] for name, series in counts}
    try:  # failure share per bucket; errors = share x calls of that bucket
        for name, series in keyed(await get("failure_percentage_top_k", {"window": win, "k": TOP_K})):
            if name in per_bucket:
                errs = [(pct or 0.0) / 100.0 * c for pct, c in zip(series, per_bucket[name])]
                if name in rows:
                    rows[name].errors = sum(errs)
                m.errors[name] = [e / width for e in errs]
    except (E.ConvexRequestError, ValueError) as exc:
        m.notes.append(f"failure_percentage_top_k: {_short(exc)}")
    try:
        for name, series in keyed(await get("cache_hit_percentage_top_k", {"window": win, "k": TOP_K})):
            if name in rows:
                weights = [(p, c) for p, c in zip(series, per_bucket.get(name, [])) if p is not None and c]
                total = sum(c for _p, c in weights)
                rows[name].cache_hit_pct = sum(p * c for p, c in weights) / total if total else None
    except (E.ConvexRequestError, ValueError) as exc:
        m.notes.append(f"cache_hit_percentage_top_k: {_short(exc)}")
    ranked = sorted(rows.values(), key=lambda r: (-r.calls, r.name))
    for row in ranked[:LATENCY_OF]:
        try:
            pairs = keyed(await get("latency_percentiles", {"path": row.name, "window": win,
                                                            "percentiles": json.dumps(list(PERCENTILES))}))
        except (E.ConvexRequestError, ValueError) as exc:
            m.notes.append(f"latency_percentiles ({row.name}): {_short(exc)}")
            break  # the same answer for the others: one note is enough
        for p, series in pairs:
            # Weighted by calls: a quiet minute's p95 must not count as much as a busy one's.
            weights = [(v, c) for v, c in zip(series, per_bucket.get(row.name, [])) if v is not None and c]
            total = sum(c for _v, c in weights)
            value = sum(v * c for v, c in weights) / total * 1000.0 if total else None
            try:
                attr = {50: "p50_ms", 95: "p95_ms", 99: "p99_ms"}.get(int(float(p)))
            except ValueError:
                attr = None
            if attr:
                setattr(row, attr, value)
                # The deployment's percentiles are over the buckets' calls: those are their samples.
                row.samples = int(sum(c for _v, c in weights))
    top = [r.name for r in ranked[:top_n]]
    for name in top:
        m.calls[name] = [c / width for c in per_bucket[name]]
    rest = [name for name in per_bucket if name not in top]
    if rest:
        m.calls["(other)"] = [sum(per_bucket[n][i] for n in rest) / width for i in range(buckets)]
    m.errors = {n: v for n, v in m.errors.items() if n in top and any(v)}
    m.rows = ranked
    return m
