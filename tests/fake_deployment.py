"""A tiny in-memory Convex deployment answering streaming export as the backend source does
(crates/local_backend/src/streaming_export.rs): `_ts` a plain JSON integer, a JSON-string cursor
`{"tablet","id"}`, Float64 printed with a fraction, every table of a component, `get_table_column_names`,
and errors as `{"code","message"}`. For httpx.MockTransport; `tamper` rewrites answers to inject faults."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx

from console.convex.ids import IdMinter

BASE_TS = 1_750_000_000_000_000_000  # ns


@dataclass
class FakeDeployment:
    snapshot_page: int = 3
    delta_page: int = 4
    tables: dict[tuple[str, str], dict[str, dict]] = field(default_factory=dict)  # (component, table) -> id -> doc
    log: list[tuple[int, str, str, str, dict | None]] = field(default_factory=list)  # (ts, comp, table, id, doc)
    now: int = BASE_TS
    schema_error: str | None = None  # e.g. "UnsupportedSchemaForExport": json_schemas answers 400 with it
    tamper: Callable[[str, dict, Any], Any] | None = None
    raw: Callable[[str, dict], bytes | None] | None = None  # a raw body instead of the JSON answer
    requests: list[httpx.Request] = field(default_factory=list)
    _ids: IdMinter = field(default_factory=lambda: IdMinter(7))
    _numbers: dict[tuple[str, str], int] = field(default_factory=dict)

    # -- data ------------------------------------------------------------------------------------------
    def _number(self, key: tuple[str, str]) -> int:
        return self._numbers.setdefault(key, 10001 + len(self._numbers))

    def insert(self, table: str, doc: dict, component: str = "") -> str:
        key = (component, table)
        self.now += 1000
        doc_id = self._ids.new(self._number(key))
        full = {"_id": doc_id, "_creationTime": float(self.now // 1_000_000), **doc}
        self.tables.setdefault(key, {})[doc_id] = full
        self.log.append((self.now, component, table, doc_id, full))
        return doc_id

    def delete(self, table: str, doc_id: str, component: str = "") -> None:
        self.now += 1000
        self.tables[(component, table)].pop(doc_id)
        self.log.append((self.now, component, table, doc_id, None))

    def ensure_table(self, table: str, component: str = "") -> None:
        self.tables.setdefault((component, table), {})
        self._number((component, table))

    def state_at(self, ts: int) -> dict[tuple[str, str], dict[str, tuple[int, dict]]]:
        out: dict[tuple[str, str], dict[str, tuple[int, dict]]] = {k: {} for k in self.tables}
        for at, comp, table, doc_id, doc in self.log:
            if at > ts:
                break
            if doc is None:
                out[(comp, table)].pop(doc_id, None)
            else:
                out[(comp, table)][doc_id] = (at, doc)
        return out

    # -- HTTP ------------------------------------------------------------------------------------------
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = request.url.path
        params = dict(request.url.params)
        if self.raw:
            body = self.raw(route, params)
            if body is not None:
                return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})
        try:
            answer = self.route(route, params)
        except _Refusal as r:
            return httpx.Response(r.status, json={"code": r.code, "message": r.message})
        if self.tamper:
            answer = self.tamper(route, params, answer)
            if isinstance(answer, httpx.Response):
                return answer
        return httpx.Response(200, content=json.dumps(answer).encode(), headers={"Content-Type": "application/json"})

    def route(self, route: str, params: dict) -> Any:
        if route == "/api/test_streaming_export_connection":
            return None
        if route == "/api/json_schemas":
            if self.schema_error:
                raise _Refusal(400, self.schema_error, "Cannot describe table shapes as JSON schema")
            by: dict[str, dict] = {}
            for comp, table in self.tables:
                by.setdefault(comp, {})[table] = {"type": "object", "properties": {"_id": {"type": "string"}}}
            return by if by else {"": {}}
        if route == "/api/get_table_column_names":
            by2: dict[str, list] = {}
            for comp, table in self.tables:
                by2.setdefault(comp, []).append({"name": table, "columns": ["_id", "_creationTime"]})
            return {"byComponent": by2}
        if route == "/api/list_snapshot":
            return self.list_snapshot(params)
        if route == "/api/document_deltas":
            return self.document_deltas(params)
        raise _Refusal(404, "NotFound", route)

    def list_snapshot(self, params: dict) -> dict:
        snapshot = int(params["snapshot"]) if "snapshot" in params else self.now
        if snapshot > self.now:
            raise _Refusal(400, "SnapshotTooNew", f"Snapshot timestamp {snapshot} is in the future")
        state = self.state_at(snapshot)
        if "tableName" in params:
            keys = [(params.get("component", ""), params["tableName"])]
        else:
            keys = sorted(state)
        rows = [(k, doc_id, at, doc) for k in keys for doc_id, (at, doc) in sorted(state.get(k, {}).items())]
        after = json.loads(params["cursor"]) if "cursor" in params else None
        if after is not None:
            rows = [r for r in rows if (self._number(r[0]), r[1]) > (int(after["tablet"]), after["id"])]
        page, more = rows[: self.snapshot_page], len(rows) > self.snapshot_page
        values = [{**doc, "_ts": at, "_table": k[1], "_component": k[0]} for k, _, at, doc in page]
        cursor = json.dumps({"tablet": str(self._number(page[-1][0])), "id": page[-1][1]}) if more else None
        return {"values": values, "snapshot": snapshot, "cursor": cursor, "hasMore": more}

    def document_deltas(self, params: dict) -> dict:
        if "cursor" not in params:
            raise _Refusal(400, "DocumentDeltasCursorRequired", "/api/document_deltas requires a cursor")
        cursor = int(params["cursor"])
        revs = [r for r in self.log if r[0] > cursor]
        page = revs[: self.delta_page]
        more = len(revs) > len(page)
        values = []
        for at, comp, table, doc_id, doc in page:
            meta = {"_ts": at, "_table": table, "_component": comp}
            values.append({**doc, **meta, "_deleted": False} if doc else {"_id": doc_id, **meta, "_deleted": True})
        new_cursor = page[-1][0] if more else self.now
        return {"values": values, "cursor": new_cursor, "hasMore": more}


class _Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message
