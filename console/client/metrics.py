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
