"""The deployment's function log stream (`GET /api/stream_function_logs`), as a real deployment sends it.

Shapes (crates/common/src/log_streaming.rs `FunctionExecutionJson`, crates/local_backend/src/logs.rs):
the answer is `{"entries": [...], "newCursor": <ms>}`; it long-polls up to 60 s and then answers no entries
and the same cursor. Each entry has `"kind": "Completion"` (one per finished execution: `udfType`,
`identifier`, `logLines`, `timestamp` in seconds, `executionTime` in seconds, `error` (null when it
succeeded), `success` (null for functions; an HTTP action's response otherwise), `requestId`,
`executionId`, `cachedResult`, ...) or `"kind": "Progress"` (log lines an action or HTTP action printed
while running). Log lines are strings (`"[LOG] 'text'"`) for clients other than the CLI and dashboard,
structured objects `{messages, level, isTruncated, timestamp}` for those; both are read.

Qt-free. Parsing never raises on an odd entry: what cannot be read is kept as it came (`raw`) and said.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

COMPLETION = "Completion"
PROGRESS = "Progress"


@dataclass(frozen=True)
class LogEntry:
    at: float  # unix seconds
    kind: str
    udf_type: str
    identifier: str
    request_id: str
    execution_id: str
    outcome: str  # success | failure | progress
    error: str = ""
    lines: tuple[str, ...] = ()
    execution_ms: float | None = None
    cached: bool = False
    component_path: str = ""
    raw: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def function(self) -> str:
        return f"{self.component_path}/{self.identifier}" if self.component_path else self.identifier


@dataclass
class StreamPage:
    entries: list[LogEntry]
    cursor: float
    problems: list[str] = field(default_factory=list)


def line_text(line: Any) -> str:
    """One log line as plain text, whichever form the deployment sent it in."""
    if isinstance(line, str):
        return line
    if isinstance(line, dict):
        messages = line.get("messages")
        if isinstance(messages, list):
            body = " ".join(str(m) for m in messages)
        else:
            body = str(messages if messages is not None else "")
        level = line.get("level")
        out = f"[{level}] {body}" if level else body
        if line.get("isTruncated"):
            out += " (truncated)"
        return out
    return json.dumps(line, ensure_ascii=False)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def parse_entry(obj: Any) -> LogEntry:
    """One entry of the stream. ValueError (with what is wrong) only for something that is not an entry at all."""
    if not isinstance(obj, dict):
        raise ValueError(f"a log entry must be an object, got {type(obj).__name__}")
    kind = obj.get("kind")
    if kind not in (COMPLETION, PROGRESS):
        # Older stand-ins and some proxies drop `kind`: an entry with an execution time finished.
        kind = COMPLETION if "executionTime" in obj or "error" in obj else PROGRESS
    at = _number(obj.get("timestamp"))
    if at is None:
        raise ValueError("a log entry needs a numeric timestamp")
    if at > 1e11:  # milliseconds (a shape some stand-ins used); the real stream sends seconds
        at /= 1000
    raw_lines = obj.get("logLines")
    lines = tuple(line_text(x) for x in raw_lines) if isinstance(raw_lines, list) else ()
    error = _text(obj.get("error"))
    if kind == PROGRESS:
        outcome = "progress"
    elif error or obj.get("success") is False:
        outcome = "failure"
    else:
        outcome = "success"
    seconds = _number(obj.get("executionTime"))
    return LogEntry(
        at=at, kind=kind, udf_type=_text(obj.get("udfType")), identifier=_text(obj.get("identifier")),
        request_id=_text(obj.get("requestId")), execution_id=_text(obj.get("executionId")), outcome=outcome,
        error=error, lines=lines, execution_ms=seconds * 1000 if seconds is not None else None,
        cached=bool(obj.get("cachedResult")), component_path=_text(obj.get("componentPath")), raw=obj)


def parse_page(body: Any, cursor: float) -> StreamPage:
    """A whole answer. A malformed answer keeps the old cursor (nothing is skipped) and says why."""
    if not isinstance(body, dict) or not isinstance(body.get("entries"), list):
        return StreamPage([], cursor, [f"The log stream answered something unexpected: {str(body)[:200]}"])
    new_cursor = _number(body.get("newCursor"))
    entries, problems = [], []
    for obj in body["entries"]:
        try:
            entries.append(parse_entry(obj))
        except ValueError as exc:
            problems.append(f"Skipped a log entry: {exc}: {str(obj)[:200]}")
    if new_cursor is None:
        problems.append("The log stream answered without a newCursor; asking again from the same place.")
        new_cursor = cursor
    return StreamPage(entries, max(cursor, new_cursor), problems)


def entry_text(e: LogEntry) -> str:
    """Everything about an entry as plain text (the detail pane, copy)."""
    head = [f"{e.kind} · {e.udf_type} {e.function}", f"request {e.request_id}",
            f"execution {e.execution_id}"]
    if e.execution_ms is not None:
        head.append(f"{e.execution_ms:.1f} ms" + (" (cached)" if e.cached else ""))
    out = "\n".join(head)
    if e.error:
        out += "\n\nError:\n" + e.error
    if e.lines:
        out += "\n\nLog lines:\n" + "\n".join(e.lines)
    return out


async def poll(http: Any, cursor: float) -> StreamPage:
    """One long poll of the stream (up to 60 s on a real deployment) through the console's ConvexHttp."""
    body = await http.request("GET", "/api/stream_function_logs", params={"cursor": repr(float(cursor))},
                              read=True, kind="logs", function="stream_function_logs")
    return parse_page(body, cursor)
