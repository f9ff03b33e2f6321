"""Streaming export: /api/json_schemas, /api/list_snapshot, /api/document_deltas, as
crates/local_backend/src/streaming_export.rs and crates/database/src/database.rs answer them.

Windows, by age on the store's clock (crates/common/src/knobs.rs): a snapshot older than
LIST_SNAPSHOT_MAX_AGE (5 days) is SnapshotTooOld; a deltas cursor older than DOCUMENT_RETENTION_DELAY
(14 days) is out of the retention window.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import TYPE_CHECKING, Any

from console.convex.ids import decode_id
from console.demo.generator import TABLE_NUMBERS
from console.standin.auth import must_be_admin
from console.standin.errors import HttpError
from console.standin.values import CLEAN, ENCODED, EXPORT, FORMATS, export_row

if TYPE_CHECKING:
    from console.standin.server import Request

SNAPSHOT_PAGE = 1024
DELTA_PAGE = 128
LIST_SNAPSHOT_MAX_AGE_NS = 5 * 24 * 3600 * 10**9
DOCUMENT_RETENTION_NS = 14 * 24 * 3600 * 10**9
SCHEMA_SAMPLE = 2000  # documents per table a schema is inferred from
I64_MAX = 2**63 - 1


def _format(req: "Request") -> str:
    fmt = req.params.get("format") or "json"
    if fmt not in FORMATS:
        raise HttpError(400, "BadFormat", f"format param must be one of [`json`]. Got {fmt}")
    return fmt


def _int_param(req: "Request", name: str) -> int | None:
    raw = req.params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw, 10)
    except ValueError as exc:
        raise HttpError(400, "BadQueryArgs", f"Failed to deserialize query string: {name}: invalid digit found in "
                                             f"string") from exc
    if not -2**63 <= value <= I64_MAX:
        raise HttpError(400, "BadQueryArgs", f"Failed to deserialize query string: {name}: number too large to fit "
                                             f"in target type")
    return value


def _incl(value: Any, where: str) -> bool:
    if value in ("included", "incl"):
        return True
    if value in ("excluded", "excl"):
        return False
    raise HttpError(400, "BadJsonBody", f"Failed to deserialize the JSON body into the target type: {where}: "
                                        f"unknown variant {value!r}, expected `excluded` or `included`")


def _level(sel: Any, where: str) -> dict:
    if not isinstance(sel, dict) or "_other" not in sel:
        raise HttpError(400, "BadJsonBody", f"Failed to deserialize the JSON body into the target type: {where}: "
                                            "missing field `_other`")
    return sel


class Selection:
    """A POST `selection`: components, tables and columns included or excluded, `_other` for the rest
    (crates/common/src/types/streaming_export/selection.rs)."""

    def __init__(self, raw: Any) -> None:
        self.raw = _level(raw, "selection")
        _incl(self.raw["_other"], "selection._other")

    def _table(self, component: str, table: str) -> dict | None:
        comp = self.raw.get(component, self.raw["_other"])
        if isinstance(comp, str):
            return {"_other": "included"} if _incl(comp, component) else None
        comp = _level(comp, f"selection.{component}")
        sel = comp.get(table, comp["_other"])
        if isinstance(sel, str):
            return {"_other": "included"} if _incl(sel, f"{component}.{table}") else None
        sel = _level(sel, f"selection.{component}.{table}")
        if sel.get("_id") in ("excluded", "excl"):
            raise HttpError(400, "BadJsonBody", "`_id` cannot be excluded from a selection")
        return sel

    def tables(self, all_tables: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(c, t) for c, t in all_tables if self._table(c, t) is not None]

    def columns(self, component: str, table: str, doc: dict) -> dict:
        sel = self._table(component, table) or {"_other": "included"}
        default = _incl(sel["_other"], "_other")
        return {k: v for k, v in doc.items()
                if k == "_id" or (_incl(sel[k], k) if k in sel and k != "_other" else default)}


def _selection(req: "Request") -> Selection | None:
    raw = req.params.get("selection")
    if raw is None:
        return None
    try:
        return Selection(json.loads(raw))
    except ValueError as exc:
        raise HttpError(400, "BadJsonBody", f"Invalid selection: {exc}") from exc


def _selected(req: "Request") -> list[tuple[str, str]]:
    """The tables a request selects: a `selection`, tableName (+component), component alone, or everything."""
    tables = req.state.store.tables()
    selection = _selection(req)
    if selection is not None:
        return selection.tables(tables)
    table = req.params.get("tableName") or req.params.get("table_name")
    component = req.params.get("component")
    if table:
        return [(component or "", table)]
    if component is not None and component != "":
        return [(c, t) for c, t in tables if c == component]
    return tables


def _tablet(component: str, table: str) -> str:
    return hashlib.sha256(f"{component}\0{table}".encode()).hexdigest()[:32]


def _start(req: "Request") -> None:
    """The backend's order: authenticate, then `ensure_streaming_export_enabled`, then `ViewData`."""
    caller = req.caller()
    if not req.state.export_enabled:
        raise HttpError(403, "StreamingExportNotEnabled",
                        "Streaming export is not available on your current subscription. See "
                        "https://www.convex.dev/plans to upgrade.")
    must_be_admin(caller)


def check_connection(req: "Request") -> Any:
    _start(req)
    return None


def list_snapshot(req: "Request") -> Any:
    _start(req)
    store = req.state.store
    snapshot = _int_param(req, "snapshot")
    fmt = _format(req)
    now = store.snapshot_now()
    if snapshot is None:
        snapshot = now
    elif snapshot > now:
        raise HttpError(400, "SnapshotTooNew", f"Snapshot value {snapshot} is in the future.")
    elif now - snapshot > LIST_SNAPSHOT_MAX_AGE_NS or snapshot < store.horizon:
        raise HttpError(400, "SnapshotTooOld", f"Snapshot value {snapshot} is too far in the past.")
    tables = _selected(req)
    index, after = 0, ""
    if req.params.get("cursor"):
        try:
            cursor = json.loads(req.params["cursor"])
            tablets = [_tablet(c, t) for c, t in tables]
            index = tablets.index(cursor["tablet"])
            after = cursor["id"]
            if not isinstance(after, str):
                raise ValueError("id")
        except (ValueError, KeyError, TypeError) as exc:
            raise HttpError(400, "InvalidListSnapshotCursor",
                            "Invalid value for the `cursor` argument of list_snapshot. Use a `cursor` returned by a "
                            "previous list_snapshot call, and treat it as an opaque value.") from exc
    if not tables:
        return {"values": [], "snapshot": snapshot, "cursor": None, "hasMore": False}
    component, table = tables[index]
    values, last_id, more = store.snapshot_page(component, table, snapshot, after, SNAPSHOT_PAGE)
    selection = _selection(req)
    if selection is not None:
        values = [{**selection.columns(component, table, v), "_ts": v["_ts"]} for v in values]
    rows = [export_row(v, fmt, _ts=v["_ts"], _table=table, _component=component) for v in values]
    if more:
        cursor = json.dumps({"tablet": _tablet(component, table), "id": last_id}, separators=(",", ":"))
    elif index + 1 < len(tables):  # the next table: jump there, one table per page
        more = True
        cursor = json.dumps({"tablet": _tablet(*tables[index + 1]), "id": ""}, separators=(",", ":"))
    else:
        cursor = None
    return {"values": rows, "snapshot": snapshot, "cursor": cursor, "hasMore": more}


def document_deltas(req: "Request") -> Any:
    _start(req)
    store = req.state.store
    cursor = _int_param(req, "cursor")
    fmt = _format(req)
    if cursor is None:
        raise HttpError(400, "DocumentDeltasCursorRequired", "/api/document_deltas requires a cursor")
    now = store.snapshot_now()
    if cursor < now - DOCUMENT_RETENTION_NS or cursor < store.horizon:
        raise HttpError(400, "InvalidWindowToReadDocuments",
                        f"Trying to synchronize from timestamp {cursor}, which is older than the database’s "
                        "retention window. This may happen if you paused your Fivetran or Airbyte connector for a "
                        "long period of time. Please perform a full sync of the connector. See "
                        "https://fivetran.com/docs/connectors/troubleshooting/trigger-historical-re-syncs or "
                        "https://docs.airbyte.com/platform/operator-guides/refreshes")
    selection = _selection(req)
    table = req.params.get("tableName") or req.params.get("table_name")
    component = req.params.get("component")
    if selection is not None:
        chosen = set(selection.tables(store.tables()))
        table = component = None
    values, new_cursor, more = store.deltas(cursor, component if (table or component) else None, table, DELTA_PAGE)
    rows = []
    for v in values:
        meta = {"_ts": v["_ts"], "_table": v["_table"], "_component": v["_component"], "_deleted": v["_deleted"]}
        if selection is not None:
            if (v["_component"], v["_table"]) not in chosen:
                continue  # the page's cursor still covers it: deltas never split a transaction
            v = selection.columns(v["_component"], v["_table"], v)
        doc = {k: x for k, x in v.items() if k not in meta}
        rows.append(export_row(doc, fmt, **meta))
    return {"values": rows, "cursor": new_cursor, "hasMore": more}


# -- json_schemas: shapes inferred from the documents, as the table summaries do -------------------------------

_TABLES_BY_NUMBER: dict[tuple[str, int], str] = {}
for _name, _number in TABLE_NUMBERS.items():
    _comp = "betterAuth" if _name in ("organization", "member", "invitation") else ""
    _TABLES_BY_NUMBER[(_comp, _number)] = _name


def _id_table(text: str, component: str) -> str | None:
    if not 31 <= len(text) <= 37:
        return None
    try:
        number, _ = decode_id(text)
    except Exception:
        return None
    return _TABLES_BY_NUMBER.get((component, number))


def _shape(value: Any, component: str) -> tuple:
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("boolean",)
    if isinstance(value, (int, float)):
        return ("float", isinstance(value, float) and not math.isfinite(value))
    if isinstance(value, str):
        table = _id_table(value, component)
        return ("id", table) if table else ("string",)
    if isinstance(value, list):
        elem = None
        for v in value:
            elem = _merge(elem, _shape(v, component))
        return ("array", elem)
    if isinstance(value, dict):
        if len(value) == 1:
            key = next(iter(value))
            if key == "$integer":
                return ("int64",)
            if key == "$bytes":
                return ("bytes",)
            if key == "$float":
                return ("float", True)
        return ("object", {k: (_shape(v, component), 1) for k, v in value.items()}, 1)
    return ("string",)


def _merge(a: tuple | None, b: tuple | None) -> tuple | None:
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == "union" or b[0] == "union":
        variants = list(a[1]) if a[0] == "union" else [a]
        for v in (b[1] if b[0] == "union" else [b]):
            for i, existing in enumerate(variants):
                if _kind(existing) == _kind(v):
                    variants[i] = _merge(existing, v)
                    break
            else:
                variants.append(v)
        return ("union", variants) if len(variants) > 1 else variants[0]
    if {a[0], b[0]} <= {"id", "string"}:
        return a if a == b else ("string",)
    if a[0] != b[0]:
        return ("union", [a, b])
    if a[0] == "float":
        return ("float", a[1] or b[1])
    if a[0] == "array":
        return ("array", _merge(a[1], b[1]))
    if a[0] == "object":
        fields = dict(a[1])
        for k, (shape, n) in b[1].items():
            old = fields.get(k)
            fields[k] = (shape, n) if old is None else (_merge(old[0], shape), old[1] + n)
        return ("object", fields, a[2] + b[2])
    return a


def _kind(shape: tuple) -> str:
    return "string" if shape[0] == "id" else shape[0]


def _schema(shape: tuple | None, fmt: str) -> dict | bool:
    if shape is None:
        return False  # never: an empty array's items
    kind = shape[0]
    if kind == "null":
        return {"type": "null"}
    if kind == "boolean":
        return {"type": "boolean"}
    if kind == "string":
        return {"type": "string"}
    if kind == "id":
        return {"$description": f"Id({shape[1]})", "type": "string"}
    if kind == "float":
        if not shape[1]:
            return {"type": "number"}
        if fmt in CLEAN:
            return {"$description": "float64", "anyOf": [{"type": "number"},
                                                         {"type": "string", "$description": "-inf, inf, or NaN"}]}
        special = "-0, -inf, inf, or NaN" if fmt in ENCODED else "-inf, inf, or NaN"
        return {"$description": "float64", "anyOf": [{"type": "number"}, {
            "type": "object", "$description": special,
            "properties": {"$float": {"$description": "float64 -> little-endian -> base64", "type": "string"}}}]}
    if kind == "int64":
        if fmt in CLEAN:
            return {"$description": "int64 represented as base10 string", "type": "string"}
        if fmt in EXPORT:
            return {"$description": "int64", "type": "number"}
        return {"$description": "int64", "type": "object",
                "properties": {"$integer": {"$description": "int64 -> little-endian -> base64", "type": "string"}}}
    if kind == "bytes":
        if fmt in CLEAN:
            return {"$description": "base64 bytes", "type": "string"}
        return {"type": "object", "$description": "base64 bytes", "properties": {"$bytes": {"type": "string"}}}
    if kind == "array":
        return {"type": "array", "items": _schema(shape[1], fmt)}
    if kind == "object":
        fields, n = shape[1], shape[2]
        return {"type": "object", "properties": {k: _schema(s, fmt) for k, (s, _) in sorted(fields.items())},
                "additionalProperties": False,
                "required": sorted(k for k, (_, count) in fields.items() if count >= n)}
    return {"anyOf": [_schema(v, fmt) for v in shape[1]]}


def _table_schema(req: "Request", component: str, table: str, fmt: str) -> dict:
    shape = None
    for doc in req.state.store.scan(table, component, limit=SCHEMA_SAMPLE):
        doc.pop("_ts", None)
        shape = _merge(shape, _shape(doc, component))
    if shape is None:  # empty table: `_id` and `_creationTime` only
        shape = ("object", {"_creationTime": (("float", False), 1), "_id": (("string",), 1)}, 1)
    fields = dict(shape[1])
    fields["_id"] = (("id", table), shape[2])  # `_id` always names its own table
    schema = _schema(("object", fields, shape[2]), fmt)
    assert isinstance(schema, dict)
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    return schema


def json_schemas(req: "Request") -> Any:
    _start(req)
    fmt = _format(req)
    delta = req.params.get("deltaSchema") in ("true", "1")
    out: dict[str, dict[str, Any]] = {}
    for component, table in req.state.store.tables():
        schema = _table_schema(req, component, table, fmt)
        if delta:
            schema["properties"].update({"_table": {"type": "string"}, "_component": {"type": "string"},
                                         "_ts": {"type": "integer"}, "_deleted": {"type": "boolean"}})
        out.setdefault(component, {})[table] = schema
    if req.params.get("byComponent") in ("true", "1"):
        return out
    merged: dict[str, Any] = {}  # every component's tables in one map, later ones winning, as the backend does
    for tables in out.values():
        merged.update(tables)
    return merged


def table_column_names(req: "Request") -> Any:
    """Fivetran's discovery: each table's top-level fields, by component."""
    _start(req)
    out: dict[str, list] = {}
    for component, table in req.state.store.tables():
        columns = sorted(_table_schema(req, component, table, "json")["properties"])
        out.setdefault(component, []).append({"name": table, "columns": columns})
    return {"byComponent": out}
