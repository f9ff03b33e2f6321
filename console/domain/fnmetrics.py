"""Per-function deployment metrics, whatever their source (Qt-free, no I/O).

The same shape comes from the deployment's `/api/app_metrics/*` routes (live) and from the local function-log
history (the demo's generated traffic, or a deployment whose metrics routes are unavailable), so the Call
rates panel draws one thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PERCENTILES = (50, 95, 99)


@dataclass
class FunctionRow:
    name: str
    calls: float = 0.0
    errors: float = 0.0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    cache_hit_pct: float | None = None  # queries only; None when the function is not a cached kind
    samples: int | None = None  # how many executions the percentiles rest on

    @property
    def error_pct(self) -> float:
        return 100.0 * self.errors / self.calls if self.calls else 0.0


@dataclass
class FunctionMetrics:
    start: float  # unix seconds
    end: float
    buckets: int
    source: str  # "deployment" | "log history"
    calls: dict[str, list[float]] = field(default_factory=dict)  # function -> calls per second per bucket
    errors: dict[str, list[float]] = field(default_factory=dict)  # function -> errors per second per bucket
    rows: list[FunctionRow] = field(default_factory=list)  # every function seen, busiest first
    notes: list[str] = field(default_factory=list)  # what could not be read, and why

    @property
    def width(self) -> float:
        return (self.end - self.start) / self.buckets

    def times(self) -> list[float]:
        return [self.start + i * self.width for i in range(self.buckets)]

    @property
    def total_calls(self) -> float:
        return sum(r.calls for r in self.rows)

    @property
    def total_errors(self) -> float:
        return sum(r.errors for r in self.rows)

    def top_by_calls(self, n: int) -> list[FunctionRow]:
        return sorted(self.rows, key=lambda r: (-r.calls, r.name))[:n]

    def top_by_errors(self, n: int) -> list[FunctionRow]:
        return [r for r in sorted(self.rows, key=lambda r: (-r.errors, -r.error_pct, r.name)) if r.errors][:n]

