"""Demo function-log traffic: entries in the exact shape a deployment's `/api/stream_function_logs` sends,
for the product's functions, with their log lines, occasional failures, and actions that report progress
before they complete. The Logs panel reads these through the same parser as a live stream."""

from __future__ import annotations

import random
import uuid
from typing import Iterator

from console.demo.traffic import FUNCTIONS, rate_at

UDF = {"query": "Query", "mutation": "Mutation", "action": "Action", "http_action": "HttpAction"}

LINES = {
    "users:me": [],
    "chats:list": [],
    "messages:list": [],
    "messages:send": ["[LOG] 'message stored' {{ chatId: '{chat}', length: {n} }}"],
    "profile:updateGoals": ["[LOG] 'goals updated' {{ count: {k} }}"],
    "ai:generateReply": ["[INFO] 'generating reply' {{ model: 'coach-small', promptTokens: {n} }}",
                         "[LOG] 'reply ready' {{ tokens: {k} }}"],
    "POST /twilio/sms": ["[LOG] 'inbound SMS' {{ from: '+1555{d4}', sid: 'SM{hex}' }}",
                         "[LOG] 'enqueued job' {{ type: 'sms.inbound' }}"],
    "POST /stripe": ["[LOG] 'stripe event' {{ type: 'invoice.paid', id: 'evt_{hex}' }}"],
    "POST /clerk": ["[LOG] 'clerk event' {{ type: 'user.updated' }}"],
}
ERRORS = {
    "messages:send": "Uncaught ConvexError: {\"code\":\"rate_limited\",\"message\":\"Too many messages in this chat\"}",
    "ai:generateReply": "Uncaught Error: Upstream model timed out after 30000ms\n    at generateReply (../convex/ai.ts:88:11)",
    "POST /twilio/sms": "Uncaught Error: Invalid Twilio signature",
    "POST /stripe": "Uncaught Error: No signatures found matching the expected signature for payload",
}
DEFAULT_ERROR = "Uncaught Error: Document not found\n    at handler (../convex/{module}.ts:{line}:7)"


def _fill(rng: random.Random, template: str) -> str:
    return template.format(chat=f"k{rng.getrandbits(60):x}", n=rng.randint(20, 900), k=rng.randint(1, 6),
                           d4=f"{rng.randint(0, 9999):04d}", hex=f"{rng.getrandbits(64):016x}")


def _usage(rng: random.Random) -> dict:
    return {"databaseReadBytes": rng.randint(0, 40_000), "databaseWriteBytes": rng.randint(0, 4_000),
            "databaseReadDocuments": rng.randint(0, 40), "storageReadBytes": 0, "storageWriteBytes": 0,
            "vectorIndexReadBytes": 0, "vectorIndexWriteBytes": 0, "memoryUsedMb": rng.randint(20, 90)}


def execution(rng: random.Random, at: float, name: str, kind: str, median_ms: float,
              fail: float = 0.02) -> list[dict]:
    """One execution's entries: Progress entries for actions that log while they run, then its Completion."""
    udf = UDF[kind]
    request_id = f"{rng.getrandbits(64):016x}"
    execution_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    seconds = max(0.001, rng.lognormvariate(0, 0.5) * median_ms / 1000)
    failed = rng.random() < fail
    lines = [_fill(rng, t) for t in LINES.get(name, [])]
    if failed:
        lines = lines[:1] + ["[ERROR] 'failed'"]
    out: list[dict] = []
    http = kind == "http_action"
    if kind in ("action", "http_action") and lines:
        # Actions and HTTP actions stream their lines as Progress; the Completion then carries none.
        out.append({"kind": "Progress", "udfType": udf, "componentPath": None, "identifier": name,
                    "timestamp": at + seconds / 2, "logLines": lines, "requestId": request_id,
                    "executionId": execution_id})
        lines = []
    error = None
    if failed:
        module = name.split(":")[0].split("/")[-1]
        error = ERRORS.get(name, DEFAULT_ERROR.format(module=module, line=rng.randint(10, 200)))
    success = None
    if http and not failed:
        success = {"status": 200, "body": None}
    out.append({
        "kind": "Completion", "udfType": udf, "componentPath": None, "identifier": name, "logLines": lines,
        "timestamp": at + seconds, "cachedResult": kind == "query" and rng.random() < 0.2, "caller": "HttpApi" if http
        else "SyncWorker", "parentExecutionId": None, "executionTime": seconds, "userExecutionTime": seconds * 0.8,
        "success": success, "error": error, "requestId": request_id, "executionId": execution_id,
        "usageStats": _usage(rng), "returnBytes": None if http else float(rng.randint(40, 6000)), "occInfo": None,
        "willRetry": False, "executionTimestamp": at, "identityType": "user" if not http else "unknown",
        "environment": "isolate"})
    return out


def history(now: float, hours: float = 6, seed: int = 5, scale: float = 0.35) -> Iterator[dict]:
    """Entries of the last `hours`, in time order (a share `scale` of the call-rate traffic: logs are sampled)."""
    rng = random.Random(seed)
    t = now - hours * 3600
    incident = now - 2 * 3600
    while t < now:
        views = max(0, int(rng.gauss(rate_at(t, rng) * 60 * scale, 1.5)))
        batch: list[dict] = []
        for _ in range(views):
            at = t + rng.random() * 60
            for name, kind, share, median in FUNCTIONS:
                if rng.random() < share:
                    failing = name == "ai:generateReply" and incident <= at < incident + 1200
                    batch.extend(execution(rng, at, name, kind, median, fail=0.5 if failing else 0.02))
        batch.sort(key=lambda e: e["timestamp"])
        yield from batch
        t += 60


def tick(rng: random.Random, now: float) -> list[dict]:
    """What a busy deployment logs in about a second: a few executions."""
    out: list[dict] = []
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        name, kind, _share, median = rng.choices(FUNCTIONS, weights=[f[2] for f in FUNCTIONS])[0]
        out.extend(execution(rng, now - rng.random(), name, kind, median))
    out.sort(key=lambda e: e["timestamp"])
    return out
