"""The system functions the Convex CLI calls over the sync protocol (`npx convex data`, `env list`/`get`,
`function-spec`), as npm-packages/system-udfs/convex/_system/cli/*.ts in get-convex/convex-backend define
them, and the /api/update_environment_variables route (crates/local_backend/src/environment_variables.rs).

System functions are for the deploy key only (queryPrivateSystem / queryGeneric("ViewData")).
Environment variables live in the stand-in's memory, not in its documents: a deployment keeps them in a
system table, which streaming export never shows.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any, Callable

from console.standin.errors import HttpError

if TYPE_CHECKING:
    from console.standin.functions import Call
    from console.standin.server import Request

ENV_TABLE = ("_system", "_environment_variables")  # the read key a subscription to env vars holds
_ENV_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,39}$")  # crates/common/src/types/environment_variables.rs


def _state(call: "Call") -> Any:
    return getattr(call.store, "standin_state", None)


def tables(call: "Call", args: dict, component: str) -> Any:
    names = sorted({t for c, t in call.store.tables() if c == component and not t.startswith("_")})
    call.store.note_read("_tables", "_system")
    return {"page": [{"name": n} for n in names], "isDone": True, "continueCursor": "end"}


def table_data(call: "Call", args: dict, component: str) -> Any:
    """A page of a table by creation time; the cursor is the last _creationTime and _id seen."""
    table = str(args.get("table") or "")
    order = "desc" if args.get("order") == "desc" else "asc"
    opts = args.get("paginationOpts") or {}
    num = max(1, min(int(opts.get("numItems") or 100), 8192))
    cursor = opts.get("cursor")
    where, params = "", ()
    if cursor and cursor != "end":
        created, _, last_id = str(cursor).partition("|")
        cmp = "<" if order == "desc" else ">"
        where = (f"(json_extract(doc, '$._creationTime') {cmp} ? OR (json_extract(doc, '$._creationTime') = ? "
                 f"AND id {cmp} ?))")
        params = (float(created), float(created), last_id)
    direction = "DESC" if order == "desc" else "ASC"
    rows = call.store.scan(table, component, where=where, params=params, limit=num + 1,
                           order=f"json_extract(doc, '$._creationTime') {direction}, id {direction}")
    page = [{k: v for k, v in d.items() if k != "_ts"} for d in rows[:num]]
    done = len(rows) <= num
    last = page[-1] if page else None
    next_cursor = "end" if done or last is None else f"{last['_creationTime']!r}|{last['_id']}"
    return {"page": page, "isDone": done, "continueCursor": next_cursor}


def env_list(call: "Call", args: dict, component: str) -> Any:
    call.store.note_read(ENV_TABLE[1], ENV_TABLE[0])
    state = _state(call)
    return [dict(v) for _, v in sorted((state.env_vars if state else {}).items())]


def env_get(call: "Call", args: dict, component: str) -> Any:
    call.store.note_read(ENV_TABLE[1], ENV_TABLE[0])
    state = _state(call)
    found = (state.env_vars if state else {}).get(str(args.get("name") or ""))
    return None if found is None else {"name": found["name"], "value": found["value"]}


def api_spec(call: "Call", args: dict, component: str) -> Any:
    from console.standin import api
    from console.standin import functions as F
    out = []
    kinds = (("Query", F.QUERIES), ("Mutation", F.MUTATIONS), ("Action", api.ACTIONS))
    validators = api.arg_validators()
    for kind, table in kinds:
        for path in sorted(table):
            module, _, name = path.partition(":")
            out.append({"identifier": f"{module}.js:{name}", "functionType": kind,
                        "visibility": {"kind": "public" if api.is_public(path) else "internal"},
                        "args": validators.get(path, {"type": "any"}), "returns": {"type": "any"}})
    for route in ("/twilio/sms", "/stripe", "/clerk"):
        out.append({"functionType": "HttpAction", "method": "POST", "path": route})
    return out


def cloud_url(call: "Call", args: dict, component: str) -> Any:
    state = _state(call)
    return getattr(state, "url", None)


SYSTEM_QUERIES: dict[str, Callable[["Call", dict, str], Any]] = {
    "_system/cli/tables:default": tables,
    "_system/cli/tableData:default": table_data,
    "_system/cli/queryEnvironmentVariables:default": env_list,
    "_system/cli/queryEnvironmentVariables:get": env_get,
    "_system/cli/modules:apiSpec": api_spec,
    "_system/cli/convexUrl:cloudUrl": cloud_url,
}


def update_environment_variables(req: "Request") -> Any:
    """POST {"changes": [{"name", "value"}]}: set, or unset where value is null; one commit notification."""
    from console.standin.server import Request  # noqa: F401 (type only)
    req.admin()
    body = req.json()
    changes = body.get("changes")
    if not isinstance(changes, list):
        raise HttpError(400, "BadJsonBody", "Failed to deserialize the JSON body into the target type: missing "
                                            "field `changes`")
    state = req.state
    staged = dict(state.env_vars)
    for change in changes:
        name = change.get("name") if isinstance(change, dict) else None
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            raise HttpError(400, "InvalidEnvVarName", f"Environment variable name '{name}' is invalid: names must "
                                                      "start with a letter or underscore, hold only letters, digits "
                                                      "and underscores, and be at most 40 characters long.")
        value = change.get("value")
        if value is None:
            staged.pop(name, None)
        elif not isinstance(value, str) or len(value.encode()) > 8192:
            raise HttpError(400, "InvalidEnvVarValue", f"Environment variable {name} value must be a string of at "
                                                       "most 8 KiB.")
        else:
            previous = staged.get(name)
            staged[name] = {"_id": previous["_id"] if previous else state.store.new_id("_environment_variables"),
                            "_creationTime": previous["_creationTime"] if previous else time.time() * 1000,
                            "name": name, "value": value}
    state.env_vars = staged
    store = state.store
    with store.lock:  # tell subscriptions, as a write to the system table would
        ts = store.snapshot_now()
        for listener in list(store.listeners):
            listener(ts, [(ENV_TABLE[0], ENV_TABLE[1], "")])
    return {}
