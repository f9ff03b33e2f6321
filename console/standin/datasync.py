"""The v1 data sync API: POST /api/v1/data/sync and POST /api/data_sync_cursor_from_deltas, shaped as
crates/local_backend/src/streaming_export.rs (`_data_sync`) and crates/common/src/types/streaming_export
answer them: one endless stream of pages with `status` (snapshotting, stale, upToDate), `truncates` on the
first page of each table, `values` in export_json, and an opaque cursor that always has more.

Stand-in limits: the cursor is not encrypted (it is opaque base64), and a changed `selection` applies to
deltas only (tables newly selected mid-sync are not snapshotted again).
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import TYPE_CHECKING, Any

from console.standin.errors import HttpError
from console.standin.export import (DELTA_PAGE, DOCUMENT_RETENTION_NS, LIST_SNAPSHOT_MAX_AGE_NS, SNAPSHOT_PAGE,
                                    Selection, _start)
from console.standin.values import export_row

if TYPE_CHECKING:
    from console.standin.server import Request

EXPIRED = ("The cursor is outside the deployment's data retention window and can no longer be resumed. Restart "
           "the sync from scratch by calling /data/sync without a cursor.")


def _encode(state: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode()


def _decode(cursor: Any) -> dict:
    try:
        state = json.loads(base64.urlsafe_b64decode(str(cursor).encode()))
        if not isinstance(state, dict) or state.get("v") != 1 or state.get("phase") not in ("snap", "deltas"):
            raise ValueError("not a cursor")
        return state
    except (ValueError, TypeError) as exc:
        raise HttpError(400, "InvalidDataSyncCursor", "Could not parse the data sync cursor") from exc


def _selection(body: dict) -> Selection:
    raw = body.get("selection")
    return Selection(raw if raw is not None else {"_other": "included"})


def _value(selection: Selection, component: str, table: str, doc: dict, ts: int, deleted: bool) -> dict:
    fields = {"_id": doc["_id"]} if deleted else selection.columns(component, table, doc)
    fields = {k: v for k, v in fields.items() if k not in ("_ts", "_table", "_component", "_deleted")}
    return {"component": component, "table": table, "ts": ts, "deleted": deleted,
            "value": export_row(fields, "export_json")}


def data_sync(req: "Request") -> Any:
    _start(req)
    body = req.json()
    selection = _selection(body)
    store = req.state.store
    now = store.snapshot_now()
    if body.get("cursor") is None:
        state = {"v": 1, "sync": uuid.uuid4().hex, "phase": "snap", "snap": now, "t": 0, "after": "",
                 "tables": [list(x) for x in selection.tables(store.tables())]}
    else:
        state = _decode(body["cursor"])
    truncates: list[dict] = []
    values: list[dict] = []
    if state["phase"] == "snap":
        if now - state["snap"] > LIST_SNAPSHOT_MAX_AGE_NS or state["snap"] < store.horizon:
            raise HttpError(400, "DataSyncCursorExpired", EXPIRED)
        tables = state["tables"]
        if state["t"] < len(tables):
            component, table = tables[state["t"]]
            if not state["after"]:
                truncates.append({"component": component, "table": table})
            docs, last_id, more = store.snapshot_page(component, table, state["snap"], state["after"], SNAPSHOT_PAGE)
            values = [_value(selection, component, table, d, d["_ts"], False) for d in docs]
            state["t"], state["after"] = (state["t"], last_id) if more else (state["t"] + 1, "")
        if state["t"] >= len(tables):
            state = {"v": 1, "sync": state["sync"], "phase": "deltas", "cur": state["snap"]}
            kind = "stale" if store.last_ts > state["cur"] else "upToDate"
            status = {"type": kind, "snapshotTs": state["cur"]}
        else:
            status = {"type": "snapshotting"}
    else:
        cursor = int(state["cur"])
        if cursor < now - DOCUMENT_RETENTION_NS or cursor < store.horizon:
            raise HttpError(400, "DataSyncCursorExpired", EXPIRED)
        chosen = set(selection.tables(store.tables()))
        rows, new_cursor, more = store.deltas(cursor, None, None, DELTA_PAGE)
        for row in rows:
            key = (row["_component"], row["_table"])
            if key in chosen:
                values.append(_value(selection, key[0], key[1], row, row["_ts"], row["_deleted"]))
        state["cur"] = new_cursor
        status = {"type": "stale" if more else "upToDate", "snapshotTs": new_cursor}
    return {"status": status, "truncates": truncates, "values": values, "syncId": state["sync"],
            "pagination": {"hasMore": True, "nextCursor": _encode(state)}}


def cursor_from_deltas(req: "Request") -> Any:
    """A document_deltas cursor as a data sync cursor, so a consumer can switch without a full resync."""
    _start(req)
    body = req.json()
    cursor = body.get("cursor")
    if not isinstance(cursor, int) or isinstance(cursor, bool):
        raise HttpError(400, "BadJsonBody", "Failed to deserialize the JSON body into the target type: cursor: "
                                            "invalid type, expected i64")
    return {"cursor": _encode({"v": 1, "sync": uuid.uuid4().hex, "phase": "deltas", "cur": cursor})}
