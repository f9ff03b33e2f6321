"""The function API: /api/query, /api/mutation, /api/action, /api/function, /api/run/*, /api/query_batch,
/api/query_ts, /api/query_at_ts, as crates/local_backend/src/public_api.rs and crates/udf/src/validation.rs
answer them.

Visibility: a public function is callable by anyone; an internal one only with the deploy key (admin,
or admin acting as a user). Anyone else gets the same "Could not find public function" a missing one gets.
"""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from console.standin import functions as F
from console.standin.auth import Caller, must_be_admin
from console.standin.errors import HttpError
from console.standin.system import SYSTEM_QUERIES
from console.standin.validators import check_args
from console.standin.values import FORMATS, BadValue, decode_arg, encode, strip_ts

if TYPE_CHECKING:
    from console.standin.server import Request

# Queries per /api/query_batch. A deployment bounds a batch by its 16 MiB body only; the stand-in also caps
# the count, high enough that no coalesced batch of the console's meets it (queries yield the lock between).
MAX_BATCH = 1000
KNOWN_COMPONENTS = {"betterAuth"}
_MODULE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")
_FUNCTION = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def _echo(call: F.Call, args: dict) -> Any:
    """A stand-in action (actions run outside a transaction; this one only answers)."""
    return {"args": args, "at": time.time() * 1000}


# Actions the stand-in serves: the product has none of its own; `standin:echo` exercises the route.
ACTIONS: dict[str, Callable[[F.Call, dict], Any]] = {"standin:echo": _echo, **getattr(F, "ACTIONS", {})}


def is_public(path: str) -> bool:
    """What the product exposes to its own clients; everything else is internal (deploy key only)."""
    check = getattr(F, "is_public", None)
    if check is not None:
        return bool(check(path))
    # The console contract is internal (console.ts uses internalQuery/internalMutation): deploy key only.
    return path not in F.INTERNAL and path in ("messages:send", "standin:echo")


_CONTRACT_ARGS = Path(__file__).resolve().parent.parent / "contract" / "args.json"
ARG_VALIDATORS: dict[str, dict] | None = None  # function path -> args validator JSON; None: not loaded yet


def arg_validators() -> dict[str, dict]:
    """The args validators of the functions that declare them: the console contract's (args.json, the
    validator JSON Convex exports), or functions.ARGS."""
    global ARG_VALIDATORS
    if ARG_VALIDATORS is None:
        found: dict[str, dict] = {}
        if _CONTRACT_ARGS.exists():
            found.update(json.loads(_CONTRACT_ARGS.read_text(encoding="utf-8")))
        found.update(getattr(F, "ARGS", None) or {})
        ARG_VALIDATORS = found
    return ARG_VALIDATORS


def _table_of(component: str) -> Callable[[str], str | None]:
    from console.standin.export import _id_table
    return lambda text: _id_table(text, component)


def lookup(path: str) -> tuple[str, Callable] | None:
    for kind, table in (("query", F.QUERIES), ("mutation", F.MUTATIONS), ("action", ACTIONS)):
        if path in table:
            return kind, table[path]
    return None


def canonical(path: Any) -> tuple[str, str]:
    """(key, canonical display): 'jobs.js:stats' and 'jobs:stats' are one function; 'jobs' is 'jobs:default'."""
    if not isinstance(path, str):
        raise HttpError(400, "BadJsonBody", "Failed to deserialize the JSON body into the target type: path: "
                                            "invalid type, expected a string")
    module, sep, function = path.rpartition(":")
    if not sep:
        module, function = path, "default"
    if not _MODULE.match(module or "") or not _FUNCTION.match(function) or ".." in module or module.endswith("/"):
        raise HttpError(400, "BadConvexFunctionIdentifier",
                        f"{path} is not a valid path to a Convex function. Invalid function path")
    if module.endswith(".js"):
        module = module[:-3]
    return f"{module}:{function}", f"{module}.js:{function}"


def _stripped(key: str) -> str:
    return key[: -len(":default")] if key.endswith(":default") else key


def _error(req: "Request", message: str, data: Any = None, fmt: str = "json") -> dict:
    request_id = req.request_id
    if req.state.production:
        text = f"[Request ID: {request_id}] Server Error"
    else:
        text = f"[Request ID: {request_id}] Server Error\n{message}"
    out: dict[str, Any] = {"status": "error", "errorMessage": text}
    if data is not None:
        out["errorData"] = encode(data, fmt)
    return out


def _format(fmt: Any, default: str = "json") -> str:
    if fmt is None:
        return default
    if fmt not in FORMATS:
        raise HttpError(400, "BadFormat", f"format param must be one of [`json`]. Got {fmt}")
    return fmt


def _args(raw: Any, display: str) -> tuple[dict | None, str | None]:
    """(args, error text): a one-element array is the legacy positional form the JS client sends."""
    items = raw if isinstance(raw, list) else [raw]
    try:
        decoded = [decode_arg(a) for a in items]
    except BadValue as exc:
        return None, f"Invalid arguments for {display}: {exc}"
    if len(decoded) == 0:
        return {}, None
    if len(decoded) != 1 or not isinstance(decoded[0], dict):
        return None, (f"ArgumentValidationError: Expected a single object argument for {display}, "
                      f"got {json.dumps(raw)[:200]}")
    return decoded[0], None


def run(req: "Request", caller: Caller, path: Any, raw_args: Any, fmt: Any, *, expected: str | None,
        component: str = "", default_format: str | None = None) -> dict:
    """One function call, answered as UdfResponse: {"status": "success", "value"} or the error form.
    The function log keeps the full error; the caller sees it redacted in production."""
    fmt = _format(fmt, default_format or req.client_version.default_format())
    key, display = canonical(path)
    started = time.perf_counter()
    kind = expected or "query"

    def done(result: dict | None, error: str | None = None, data: Any = None) -> dict:
        if result is None:
            result = _error(req, error or "", data, fmt)
        req.state.log_call(kind, _stripped(key), component, error, time.perf_counter() - started,
                           req.request_id, caller.kind)
        return result

    where = f" in '{component}'" if component else ""
    found = None if component else lookup(key)
    if key in SYSTEM_QUERIES and caller.admin:  # the CLI's system queries take a component themselves
        system_fn = SYSTEM_QUERIES[key]
        found = ("query", lambda call, a: system_fn(call, a, component))
    if found is None or not (is_public(key) or caller.admin):
        return done(None, f"Could not find public function for '{_stripped(key)}'{where}.")
    kind, fn = found
    if expected is not None and expected != kind:
        wrong = f"Trying to execute {display} as {expected.title()}, but it is defined as {kind.title()}."
        kind = expected
        return done(None, wrong)
    args, problem = _args(raw_args, display)
    if problem:
        return done(None, problem)
    validator = None if key in SYSTEM_QUERIES else arg_validators().get(key)
    if validator is not None:
        problem = check_args(validator, args, _table_of(component))
        if problem:
            return done(None, problem)
    store = req.state.store
    try:
        # Actions run outside a transaction on a deployment; the stand-in's helpers need one to read.
        with store.transaction() as tx:
            value = fn(F.Call(store, caller.identity, caller.admin, tx), args)
    except F.FunctionThrew as exc:
        return done(None, "Uncaught ConvexError: " + json.dumps(exc.data, separators=(",", ":"), ensure_ascii=False),
                    exc.data)
    except Exception as exc:  # a function that throws is a function error, not a server error
        return done(None, f"Uncaught {type(exc).__name__}: {exc}")
    return done({"status": "success", "value": encode(strip_ts(value), fmt)})


# -- routes -----------------------------------------------------------------------------------------------

def _body(req: "Request", *fields: str) -> dict:
    body = req.json()
    for name in fields:
        if name not in body:
            raise HttpError(400, "BadJsonBody",
                            f"Failed to deserialize the JSON body into the target type: missing field `{name}`")
    return body


def post_udf(expected: str) -> Callable[["Request"], Any]:
    def handler(req: "Request") -> Any:
        token = req.token()
        body = _body(req, "path", "args")
        canonical(body["path"])
        caller = req.check(token)
        return run(req, caller, body["path"], body["args"], body.get("format"), expected=expected)
    return handler


def get_query(req: "Request") -> Any:
    token = req.token()
    for name in ("path", "args"):
        if name not in req.params:
            raise HttpError(400, "BadQueryArgs", f"Failed to deserialize query string: missing field `{name}`")
    try:
        args = json.loads(req.params["args"])
    except ValueError as exc:
        raise HttpError(400, "BadQueryArgs", f"Failed to deserialize query string: args: {exc}") from exc
    canonical(req.params["path"])
    caller = req.check(token)
    return run(req, caller, req.params["path"], args, req.params.get("format"), expected="query")


def function(req: "Request") -> Any:
    """/api/function: any function type, components addressable, deploy key required."""
    token = req.token()
    body = _body(req, "path", "args")
    caller = req.check(token)
    must_be_admin(caller)
    component = body.get("componentPath") or ""
    if component and component not in KNOWN_COMPONENTS:
        raise HttpError(400, "ComponentPathNotFound", f"Component path '{component}' not found")
    canonical(body["path"])
    return run(req, caller, body["path"], body["args"], body.get("format"), expected=None, component=component)


def run_by_path(req: "Request") -> Any:
    token = req.token()
    body = _body(req, "args")
    caller = req.check(token)
    rest = req.path[len("/api/run/"):]
    parts = rest.split("/")
    if len(parts) < 2:
        raise HttpError(400, "MissingIdentifier",
                        "Path or function name not provided in path, e.g. /api/run/messages/list")
    from urllib.parse import unquote
    parts = [unquote(p) for p in parts]
    path = "/".join(parts[:-1]) + ":" + parts[-1]
    canonical(path)
    return run(req, caller, path, body["args"], body.get("format"), expected=None, default_format="json")


def query_batch(req: "Request") -> Any:
    token = req.token()
    body = _body(req, "queries")
    queries = body["queries"]
    if not isinstance(queries, list):
        raise HttpError(400, "BadJsonBody", "Failed to deserialize the JSON body into the target type: queries: "
                                            "invalid type, expected a sequence")
    if len(queries) > MAX_BATCH:
        raise HttpError(400, "BadJsonBody", f"query_batch takes at most {MAX_BATCH} queries, got {len(queries)}")
    for i, q in enumerate(queries):  # one malformed entry fails the batch, as the backend's deserializer does
        if not isinstance(q, dict) or "path" not in q or "args" not in q:
            raise HttpError(400, "BadJsonBody", f"Failed to deserialize the JSON body into the target type: "
                                                f"queries[{i}]: missing field `path` or `args`")
        _format(q.get("format"))
        canonical(q["path"])
    caller = req.check(token)
    # Each query takes the store lock on its own, so one large batch can't hold every other caller up.
    results = []
    for q in queries:
        results.append(run(req, caller, q["path"], q["args"], q.get("format"), expected="query"))
        time.sleep(0)  # let a caller waiting for the store lock in between
    return {"results": results}


def query_ts(req: "Request") -> Any:
    ts = req.state.store.snapshot_now()
    return {"ts": base64.b64encode(ts.to_bytes(8, "little")).decode()}


def query_at_ts(req: "Request") -> Any:
    token = req.token()
    body = _body(req, "path", "args", "ts")
    try:
        raw = base64.b64decode(str(body["ts"]), validate=True)
        if len(raw) != 8:
            raise ValueError("Wrong number of bytes for SerializedTs.")
        ts = int.from_bytes(raw, "little")
    except ValueError as exc:
        raise HttpError(400, "BadJsonBody", f"Invalid ts: {exc}") from exc
    if ts > req.state.store.snapshot_now():
        raise HttpError(400, "SnapshotTooNew", f"Snapshot value {ts} is in the future.")
    canonical(body["path"])
    caller = req.check(token)
    # The stand-in keeps no read snapshots for functions: a query at a recent ts reads the current state,
    # which is what consistentQuery needs when nothing was written in between.
    return run(req, caller, body["path"], body["args"], body.get("format"), expected="query")
