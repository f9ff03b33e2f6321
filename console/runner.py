"""The function runner's core: the deployment's function list, arguments as Convex JSON, guards, and one run.

- Function list: `_system/cli/modules:apiSpec` (what `npx convex function-spec` reads; admin only). A
  deployment that does not offer it (the stand-in, an old backend) leaves a typed path with history.
- Arguments are `convex_encoded_json` objects: plain JSON numbers are Float64, `{"$integer": base64}` is
  Int64, `{"$bytes": base64}` bytes (console/convex/values.py checks every value before anything is sent).
- Mutations and actions are refused on a production deployment (a `prod:` deploy key) unless Settings allow
  it; the caller asks for confirmation and writes the audit (store/console_audit.py).
- A run answers the value, the error message and data, and the log lines, success or not.

Qt-free.
"""

from __future__ import annotations

import base64
import json
import struct
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from console.convex.values import ValueError_, decode
from console.store import browse

KINDS = ("query", "mutation", "action")
SPEC_FUNCTION = "_system/cli/modules:apiSpec"
FORMAT = "convex_encoded_json"


@dataclass(frozen=True)
class FunctionSpec:
    path: str  # "jobs:get" (the module's ".js" dropped, as `npx convex run` takes it)
    kind: str  # query | mutation | action
    visibility: str = "public"  # public | internal
    args: Any = None  # the args validator (Convex validator JSON) when the deployment gives one


class ArgsError(ValueError):
    """Arguments that cannot be sent; the message says where and why."""


def parse_args(typed: str) -> dict:
    """The typed arguments as a wire object, checked. Empty text means no arguments."""
    if not typed.strip():
        return {}
    try:
        value = json.loads(typed)
    except json.JSONDecodeError as exc:
        raise ArgsError(f"Not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from exc
    if not isinstance(value, dict):
        raise ArgsError(f"Arguments must be a JSON object ({{...}}), not {type(value).__name__}.")
    try:
        decode(value)
    except ValueError_ as exc:
        raise ArgsError(f"Not a Convex value: {exc}. Int64 is written {{\"$integer\": \"<base64 of 8 bytes, "
                        f"little-endian>\"}}, e.g. 42 is {int64(42)}; plain numbers are Float64.") from exc
    return value


def int64(n: int) -> str:
    return json.dumps({"$integer": base64.b64encode(struct.pack("<q", n)).decode()})


def _strip_js(identifier: str) -> str:
    module, _, name = identifier.rpartition(":")
    for ext in (".js", ".ts", ".jsx", ".tsx"):
        if module.endswith(ext):
            module = module[: -len(ext)]
    return f"{module}:{name}" if module else identifier


def parse_spec(value: Any) -> list[FunctionSpec]:
    """The apiSpec answer: queries, mutations and actions (HTTP routes are not runnable here), by path."""
    out = []
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, dict):
            continue
        kind = str(item.get("functionType", "")).lower()
        ident = item.get("identifier")
        if kind not in KINDS or not isinstance(ident, str):
            continue
        vis = item.get("visibility")
        visibility = vis.get("kind", "public") if isinstance(vis, dict) else "public"
        out.append(FunctionSpec(_strip_js(ident), kind, str(visibility), item.get("args")))
    return sorted(out, key=lambda f: f.path)


def template(validator: Any) -> str:
    """A starting point for the arguments from an args validator ({"type": "object", "value": {...}})."""
    if not isinstance(validator, dict) or validator.get("type") != "object":
        return "{}"
    fields = validator.get("value")
    if not isinstance(fields, dict):
        return "{}"
    out = {}
    for name, spec in fields.items():
        if isinstance(spec, dict) and spec.get("optional"):
            continue
        out[name] = _placeholder(spec.get("fieldType") if isinstance(spec, dict) else None)
    return json.dumps(out, indent=2)


def _placeholder(t: Any) -> Any:
    kind = t.get("type") if isinstance(t, dict) else None
    return {"string": "", "id": "", "number": 0, "float64": 0, "boolean": False, "null": None, "array": [],
            "object": {}, "record": {}, "bigint": json.loads(int64(0)), "int64": json.loads(int64(0)),
            "bytes": {"$bytes": ""}}.get(kind, None)


def is_production(deploy_key: str | None) -> bool:
    """A production deployment, as its deploy key says (`prod:<name>|...`)."""
    return bool(deploy_key) and deploy_key.strip().lower().startswith("prod:")  # type: ignore[union-attr]


def write_refusal(kind: str, deploy_key: str | None, allow_production_writes: bool) -> str | None:
    if kind == "query":
        return None
    if is_production(deploy_key) and not allow_production_writes:
        return (f"Refused: this is a production deployment (its deploy key starts with prod:). Running a {kind} "
                f"here is off unless enabled in Settings (\"Allow mutations and actions on production\").")
    return None


@dataclass
class RunResult:
    ok: bool
    value: Any = None
    error: str = ""
    error_data: Any = None
    log_lines: list[str] = field(default_factory=list)
    ms: float = 0.0
    request_id: str = ""

    def text(self) -> str:
        """The answer as plain text: value or error, its data, and the log lines."""
        if self.ok:
            out = "Value:\n" + browse.pretty(self.value)
        else:
            out = "Error:\n" + self.error
            if self.error_data is not None:
                out += "\n\nError data:\n" + browse.pretty(self.error_data)
        if self.log_lines:
            out += "\n\nLog lines:\n" + "\n".join(self.log_lines)
        return out


def _request_id(message: str) -> str:
    if message.startswith("[Request ID: "):
        return message[len("[Request ID: "):].split("]", 1)[0]
    return ""


def read_answer(body: Any) -> RunResult:
    """A function answer `{"status", "value" | "errorMessage", "errorData", "logLines"}`."""
    from console.functionlogs import line_text

    if not isinstance(body, dict) or body.get("status") not in ("success", "error"):
        return RunResult(False, error=f"Unexpected answer: {str(body)[:300]}")
    lines = [line_text(x) for x in body.get("logLines") or []]
    if body["status"] == "success":
        try:
            value = decode(body.get("value"))
        except ValueError_ as exc:
            return RunResult(False, error=f"The value is not valid Convex JSON: {exc}", log_lines=lines)
        return RunResult(True, value=value, log_lines=lines)
    message = str(body.get("errorMessage") or "")
    data = body.get("errorData")
    try:
        data = decode(data) if data is not None else None
    except ValueError_:
        pass
    return RunResult(False, error=message, error_data=data, log_lines=lines, request_id=_request_id(message))


async def fetch_spec(http: Any) -> list[FunctionSpec]:
    body = await http.request("POST", "/api/query", read=True, kind="query", function=SPEC_FUNCTION,
                              json_body={"path": SPEC_FUNCTION, "args": {}, "format": FORMAT})
    result = read_answer(body)
    if not result.ok:
        raise LookupError(result.error.split("\n")[-1] or "no function list")
    return parse_spec(result.value)


async def run(http: Any, kind: str, path: str, args: dict, identity: dict | None = None) -> RunResult:
    """Run one function on the deployment (as admin, or acting as `identity`). Errors come back as results."""
    from console.client import errors as E

    if kind not in KINDS:
        raise ValueError(f"unknown function kind {kind!r}")
    started = time.perf_counter()
    try:
        body = await http.request("POST", f"/api/{kind}", read=kind == "query", identity=identity, kind=kind,
                                  function=path, json_body={"path": path, "args": args, "format": FORMAT})
    except E.ConvexRequestError as exc:
        return RunResult(False, error=str(exc), ms=(time.perf_counter() - started) * 1000)
    result = read_answer(body)
    result.ms = (time.perf_counter() - started) * 1000
    return result


# -- the offline demo: read-only queries over the replica ------------------------------------------------------
DEMO_NOTE = ("Offline demo: queries run read-only against the local replica (users:get {userId}, jobs:get {jobId}, "
             "any <table>:get with {\"id\"}, jobs:stats, organizations:list, messages:list). "
             "Mutations and actions need a deployment: File > Try live mode with a local stand-in.")
DEMO_FUNCTIONS = [FunctionSpec(p, "query") for p in (
    "jobs:get", "jobs:stats", "messages:list", "organizations:get", "organizations:list", "users:get")]


def run_local(conn: Connection, kind: str, path: str, args: dict) -> RunResult:
    """A query answered from the replica, the way the product's function would answer it."""
    started = time.perf_counter()
    if kind != "query":
        return RunResult(False, error=DEMO_NOTE)
    try:
        value = _local(conn, path, decode(args))
    except LookupError as exc:
        return RunResult(False, error=str(exc))
    return RunResult(True, value=value, ms=(time.perf_counter() - started) * 1000,
                     log_lines=[f"[LOG] 'answered from the local replica'"])


def _local(conn: Connection, path: str, args: dict) -> Any:
    module, _, name = path.partition(":")
    if name == "get":
        doc_id = args.get("id") or next((v for k, v in args.items() if k.endswith("Id") and isinstance(v, str)), None)
        if not isinstance(doc_id, str):
            raise LookupError(f"{path} needs the document's id, e.g. {{\"id\": \"<document id>\"}}")
        found = browse.find_document(conn, doc_id)
        return found.row.doc if found else None
    if path == "jobs:stats":
        return {r[0]: float(r[1]) for r in conn.execute(text("SELECT status, n FROM job_counts"))}
    if path == "organizations:list":
        return [json.loads(r[0]) for r in conn.execute(text("SELECT doc FROM organizations ORDER BY name LIMIT 100"))]
    if path == "messages:list":
        chat = args.get("chatId")
        limit = int(args.get("limit") or 50)
        limit = max(1, min(limit, 200))
        rows = conn.execute(text("SELECT doc FROM messages WHERE chat_id = :c ORDER BY created_at DESC LIMIT :n"),
                            {"c": chat, "n": limit + 1}).all()
        return {"page": [json.loads(r[0]) for r in reversed(rows[:limit])], "isDone": len(rows) <= limit}
    raise LookupError(f"Could not find public function for '{path}' in the offline demo. " + DEMO_NOTE)


# What a deployment with the console contract offers (README, "The console contract"): the typed-path
# suggestions when the deployment gives no function list.
CONTRACT_FUNCTIONS = [FunctionSpec(p, "query") for p in (
    "console:whoami", "users:get", "jobs:get", "jobs:stats", "messages:list", "organizations:get",
    "organizations:list")] + [FunctionSpec(p, "mutation") for p in (
        "console:retryJob", "console:retryJobs", "console:cancelJob", "console:setUserRoles", "console:setUserActive",
        "console:setMemberRole")]
