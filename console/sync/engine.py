"""Replica sync over streaming export: discover, snapshot, then follow document deltas.

- Discovery: `json_schemas` by component (falling back to `get_table_column_names` when a table's shape
  has no JSON schema); tables the console does not model are kept as raw documents.
- Snapshot: every table at one snapshot timestamp, page by page. Each page and its cursor commit in
  one SQLite transaction, so a process killed at any moment resumes where it stopped: nothing lost,
  nothing twice (and a replayed page is harmless anyway: older revisions never overwrite newer ones).
- Deltas: from the snapshot timestamp on, all tables at once, in (ts, id) order, deletes included.
- A snapshot or cursor older than the deployment keeps (or newer than its clock) triggers a full resync.
- Every page is checked before it is applied: Convex ids, `_table` as asked, `_ts` within the page's
  window, values within Convex's limits; a cursor that repeats, stalls or goes backwards is an error. A
  refused page changes nothing (it is never applied, and its cursor never saved).
- An empty deployment starts following deltas from `list_snapshot`'s own `snapshot`, never from 0.
- On-demand tables are not replicated; their deltas only tell the panels what changed.
- Every database access goes through `read=` / `write=` (awaitable runners): in the GUI they are the
  app's read pool and its one writer thread, so no page is ever committed on the GUI thread. Without
  them (the CLI, a headless sync) the work runs inline.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, TypeVar

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.engine import Connection

from console.changes import ChangeSet
from console.client import errors as E
from console.client.http import ConvexHttp
from console.convex.ids import decode_id
from console.convex.values import ValueError_, check, decode_scalar
from console.store.db import set_meta
from console.store.ingest import apply_page
from console.store.local import wipe_replicated
from console.store.mapping import BY_SOURCE

FORMAT = "convex_encoded_json"
GLOBAL = ("", "*")  # the sync_state row holding the shared delta cursor


@dataclass
class Progress:
    phase: str  # discover | snapshot | catch_up | live | resync
    table: str = ""
    tables_done: int = 0
    tables_total: int = 0
    documents: int = 0
    started: float = field(default_factory=time.monotonic)
    table_fraction: float = 0.0  # how far through the current table, estimated from its ids
    message: str = ""

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        return self.documents / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def fraction(self) -> float:
        if not self.tables_total:
            return 0.0
        return min(1.0, (self.tables_done + self.table_fraction) / self.tables_total)

    @property
    def eta_s(self) -> float | None:
        """Estimated seconds left: ids are uniformly random, so the last id of a page says how far
        through its table the snapshot is."""
        f = self.fraction
        if f <= 0.02 or self.phase != "snapshot":
            return None
        return self.elapsed * (1 - f) / f


Changes = ChangeSet  # what one applied page changed: SQL table (or "component/table" for raw ones) -> ids

T = TypeVar("T")
Runner = Callable[[Callable[[], Any]], Awaitable[Any]]


async def inline(fn: Callable[[], T]) -> T:
    """The runner of a process with no GUI: run where asked."""
    return fn()


class ResyncNeeded(Exception):
    pass


class ReplicaWriteError(Exception):
    """A page could not be written into the replica (its transaction was rolled back: nothing half-applied)."""


def id_fraction(doc_id: str) -> float:
    try:
        _, internal = decode_id(doc_id)
    except ValueError:
        return 0.0
    return int.from_bytes(internal[:8], "big") / 2**64


def _table_name(component: str, table: str) -> str:
    spec = BY_SOURCE.get((component, table))
    return spec.sql_table if spec else f"{component or 'root'}/{table}"


class SyncEngine:
    def __init__(self, engine: Engine, http: ConvexHttp, *, on_demand: set[tuple[str, str]] | None = None,
                 on_progress: Callable[[Progress], None] | None = None,
                 on_changes: Callable[[ChangeSet], None] | None = None,
                 read: Runner | None = None, write: Runner | None = None) -> None:
        self.engine = engine
        self.read = read or inline
        self.write = write or inline
        self.http = http
        self.on_demand = set(on_demand or ())
        self.on_progress = on_progress or (lambda p: None)
        self.on_changes = on_changes or (lambda c: None)
        self.progress = Progress("discover")

    # -- requests -------------------------------------------------------------------------------------
    async def _get(self, path: str, params: dict[str, Any]) -> Any:
        return await self.http.request("GET", path, params={k: v for k, v in params.items() if v is not None},
                                       kind="export", function=path.rsplit("/", 1)[-1])

    async def check(self) -> None:
        """Fails with a typed error when the key or plan does not allow streaming export."""
        await self._get("/api/test_streaming_export_connection", {})

    async def discover(self) -> list[tuple[str, str]]:
        try:
            body = await self._get("/api/json_schemas", {"deltaSchema": "true", "byComponent": "true",
                                                         "format": FORMAT})
        except E.SchemaUnavailable as exc:
            # A table whose shape has no JSON schema fails the whole call; the column names still list it.
            return await self._discover_by_columns(exc)
        if not isinstance(body, dict) or not all(isinstance(v, dict) for v in body.values()):
            raise E.MalformedResponse(f"json_schemas answered {str(body)[:200]}")
        return sorted((component, table) for component, tables in body.items() for table in tables)

    async def _discover_by_columns(self, cause: E.ConvexRequestError) -> list[tuple[str, str]]:
        try:
            body = await self._get("/api/get_table_column_names", {})
        except (E.BadRequest, E.FunctionNotFound, E.MalformedResponse) as exc:
            raise E.MalformedResponse(f"Cannot list the deployment's tables: json_schemas refused ({cause.message}) "
                                      f"and get_table_column_names too ({exc.message}).", code=cause.code) from exc
        by = body.get("byComponent") if isinstance(body, dict) else None
        if not isinstance(by, dict) or not all(isinstance(v, list) and all(isinstance(t, dict) and
                                                                           isinstance(t.get("name"), str) for t in v)
                                               for v in by.values()):
            raise E.MalformedResponse(f"get_table_column_names answered {str(body)[:200]}")
        return sorted({(component, t["name"]) for component, tables in by.items() for t in tables})

    async def _current_snapshot(self) -> int:
        """The deployment's snapshot timestamp now: `list_snapshot` with no selection (its page is not needed)."""
        body = await self._get("/api/list_snapshot", {"format": FORMAT})
        ts = body.get("snapshot") if isinstance(body, dict) else None
        if not isinstance(ts, int) or isinstance(ts, bool) or not 0 < ts < 2**63:
            raise E.MalformedResponse(f"list_snapshot answered no usable snapshot timestamp: {str(body)[:200]}")
        return ts

    # -- state ----------------------------------------------------------------------------------------------
    def _state(self, conn: Connection) -> dict[tuple[str, str], dict[str, Any]]:
        rows = conn.execute(text("SELECT component, table_name, phase, snapshot_ts, snapshot_cursor, delta_cursor "
                                 "FROM sync_state")).mappings()
        return {(r["component"], r["table_name"]): dict(r) for r in rows}

    def _save(self, conn: Connection, key: tuple[str, str], **values: Any) -> None:
        values = {"phase": None, "snapshot_ts": None, "snapshot_cursor": None, "delta_cursor": None, **values}
        conn.execute(text(
            "INSERT INTO sync_state (component, table_name, phase, snapshot_ts, snapshot_cursor, delta_cursor, "
            "updated_at) VALUES (:c, :t, :phase, :snapshot_ts, :snapshot_cursor, :delta_cursor, :now) "
            "ON CONFLICT(component, table_name) DO UPDATE SET phase=:phase, snapshot_ts=:snapshot_ts, "
            "snapshot_cursor=:snapshot_cursor, delta_cursor=:delta_cursor, updated_at=:now"),
            {"c": key[0], "t": key[1], "now": time.time(), **values})

    def status(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return self._status(self._state(conn))

    async def astatus(self) -> dict[str, Any]:
        """`status()` through the read runner."""
        def work() -> dict[str, Any]:
            with self.engine.connect() as conn:
                return self._status(self._state(conn))

        return await self.read(work)

    @staticmethod
    def _status(state: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
        g = state.get(GLOBAL)
        return {"live": bool(g and g["phase"] == "deltas"), "cursor": g["delta_cursor"] if g else None,
                "tables": {f"{c}/{t}": s["phase"] for (c, t), s in state.items() if (c, t) != GLOBAL}}

    # -- initial sync ---------------------------------------------------------------------------------------
    async def initial_sync(self, cancel: asyncio.Event | None = None) -> int:
        """Snapshot every table not yet done, at one snapshot timestamp. Resumable. Returns documents read."""
        cancel = cancel or asyncio.Event()
        self.progress = Progress("discover", message="Reading the deployment's tables…")
        self.on_progress(self.progress)
        tables = await self.discover()

        def begin() -> dict[tuple[str, str], dict[str, Any]]:
            with self.engine.begin() as conn:
                state = self._state(conn)
                set_meta(conn, "mode", "live")
                set_meta(conn, "deployment", self.http.deployment.base)
                for key in tables:
                    if key not in state:
                        phase = "on_demand" if key in self.on_demand else "snapshot"
                        self._save(conn, key, phase=phase)
                return self._state(conn)

        state = await self.write(begin)
        if state.get(GLOBAL, {}).get("phase") == "deltas":
            return 0
        todo = [k for k in tables if state[k]["phase"] == "snapshot"]
        snapshot = next((s["snapshot_ts"] for k, s in state.items() if k != GLOBAL and s["snapshot_ts"]), None)
        self.progress = Progress("snapshot", tables_total=len(tables),
                                 tables_done=len(tables) - len(todo))
        for key in todo:
            if cancel.is_set():
                raise asyncio.CancelledError("sync canceled")
            snapshot = await self._snapshot_table(key, snapshot, state[key]["snapshot_cursor"], cancel)
            self.progress.tables_done += 1
            self.progress.table_fraction = 0.0
            self.on_progress(self.progress)
        if snapshot is None:  # nothing to snapshot (an empty deployment): follow from the deployment's now
            snapshot = await self._current_snapshot()
        final = snapshot

        def live() -> None:
            with self.engine.begin() as conn:
                self._save(conn, GLOBAL, phase="deltas", delta_cursor=final)

        await self.write(live)
        return self.progress.documents

    async def _snapshot_table(self, key: tuple[str, str], snapshot: int | None, cursor: str | None,
                              cancel: asyncio.Event) -> int:
        component, table = key
        self.progress.table = f"{component + '/' if component else ''}{table}"
        seen = {cursor}
        while True:
            if cancel.is_set():
                raise asyncio.CancelledError("sync canceled")
            try:
                body = await self._get("/api/list_snapshot", {"tableName": table, "component": component or None,
                                                              "snapshot": snapshot, "cursor": cursor, "format": FORMAT})
            except E.NeedsResync as exc:
                raise ResyncNeeded(str(exc)) from exc
            asked = snapshot
            # Checking every value of a page is CPU work: on the read pool, not the GUI thread.
            values, snapshot, cursor, more = await self.read(lambda: _snapshot_page(body, component, table, asked))
            if more and cursor in seen:
                raise E.MalformedResponse(f"list_snapshot of {self.progress.table} returned a cursor it returned "
                                          f"before: the export is not advancing. Stopped rather than loop.")
            seen.add(cursor)
            changes = await self.write(lambda: self._commit(values, key, phase="snapshot" if more else "done",
                                                            snapshot_ts=snapshot,
                                                            snapshot_cursor=cursor if more else None))
            self.progress.documents += len(values)
            if values:
                self.progress.table_fraction = id_fraction(values[-1]["_id"])
            self.on_progress(self.progress)
            if changes:
                self.on_changes(changes)
            if not more:
                return snapshot

    # -- deltas ------------------------------------------------------------------------------------------------
    async def poll(self, cancel: asyncio.Event | None = None) -> Changes:
        """Apply every delta available now; returns what changed (merged over the pages)."""
        cancel = cancel or asyncio.Event()

        def read_state() -> dict[str, Any] | None:
            with self.engine.connect() as conn:
                return self._state(conn).get(GLOBAL)

        g = await self.read(read_state)
        if not g or g["phase"] != "deltas":
            raise ResyncNeeded("the replica has no complete snapshot yet")
        cursor = int(g["delta_cursor"] or 0)
        merged = Changes()
        while not cancel.is_set():
            try:
                body = await self._get("/api/document_deltas", {"cursor": cursor, "format": FORMAT})
            except E.NeedsResync as exc:
                raise ResyncNeeded(str(exc)) from exc
            after = cursor
            values, new_cursor, more = await self.read(lambda: _delta_page(body, after))
            changes = await self.write(lambda: self._commit(values, GLOBAL, phase="deltas", delta_cursor=new_cursor))
            cursor = new_cursor
            merged.merge(changes)
            if changes:
                self.on_changes(changes)
            if not more:
                break
        return merged

    # -- applying -------------------------------------------------------------------------------------------------
    def _commit(self, values: list[dict], key: tuple[str, str], **cursor: Any) -> ChangeSet:
        """A page and its cursor in one transaction (on the writer thread in the GUI)."""
        with self.engine.begin() as conn:
            changes = self._apply(conn, values)
            self._save(conn, key, **cursor)
        return changes

    def _apply(self, conn: Connection, values: list[dict]) -> Changes:
        """One page, in one transaction (the caller's), in commit order (see store.ingest.apply_page)."""
        changes = Changes()
        try:
            applied = apply_page(conn, values, self.on_demand)
        except (ArithmeticError, ValueError, TypeError, SQLAlchemyError) as exc:
            # The caller's transaction rolls back: the page and its cursor stay unapplied together.
            raise ReplicaWriteError(f"Could not write a page into the replica ({type(exc).__name__}: "
                                    f"{str(exc)[:200]}); nothing of it was applied.") from exc
        for component, table, doc_id in applied:
            changes.add(_table_name(component, table), doc_id)
        return changes

    def wipe(self) -> None:
        """Forget everything replicated (before a full resync). Local-only data (captured and imported
        deliveries, the call log) stays: see store.local."""
        with self.engine.begin() as conn:
            wipe_replicated(conn)

    async def awipe(self) -> None:
        await self.write(self.wipe)


_META = ("_ts", "_table", "_component", "_deleted")


def _check_value(v: Any, where: str, component: str | None = None, table: str | None = None) -> int:
    """Refuse a document the deployment cannot have sent; returns its `_ts`."""
    if not isinstance(v, dict):
        raise TypeError("a value is not an object")
    doc_id = v.get("_id")
    if not isinstance(doc_id, str):
        raise TypeError(f"_id {str(doc_id)[:40]!r} is not a string")
    try:
        decode_id(doc_id)
    except ValueError:
        raise TypeError(f"_id {doc_id[:40]!r} is not a Convex id") from None
    got_table, got_component = v.get("_table"), v.get("_component", "")
    if not isinstance(got_table, str) or not got_table or not isinstance(got_component, str):
        raise TypeError(f"document {doc_id} has no usable _table/_component")
    if table is not None and (got_component, got_table) != (component, table):
        raise TypeError(f"document {doc_id} of table {got_component + '/' if got_component else ''}{got_table} in a "
                        f"page of {component + '/' if component else ''}{table}")
    try:
        ts = decode_scalar(v.get("_ts"))
    except ValueError_ as exc:
        raise TypeError(f"document {doc_id}: bad _ts ({exc})") from None
    if not isinstance(ts, int) or isinstance(ts, bool) or not 0 < ts < 2**63:
        raise TypeError(f"document {doc_id}: _ts {str(v.get('_ts'))[:40]} is not a timestamp")
    if not isinstance(v.get("_deleted", False), bool):
        raise TypeError(f"document {doc_id}: _deleted is not a boolean")
    try:
        for k, field in v.items():
            if k not in _META:
                check(field, 1)
    except ValueError_ as exc:
        raise TypeError(f"document {doc_id}, field {k!r}: {exc}") from None
    return ts


def _snapshot_page(body: Any, component: str | None = None, table: str | None = None,
                   asked: int | None = None) -> tuple[list[dict], int, str | None, bool]:
    try:
        values = body["values"]
        snapshot = body["snapshot"]
        if not isinstance(snapshot, int) or isinstance(snapshot, bool) or not 0 < snapshot < 2**63:
            raise ValueError(f"snapshot {str(snapshot)[:40]} is not a timestamp")
        if asked is not None and snapshot != asked:
            raise ValueError(f"asked for snapshot {asked}, got {snapshot}")
        cursor = body.get("cursor")
        more = body.get("hasMore")
        if not isinstance(more, bool):
            raise TypeError("hasMore")
        if not isinstance(values, list):
            raise TypeError("values")
        for v in values:
            if _check_value(v, "list_snapshot", component, table) > snapshot:
                raise ValueError(f"document {v['_id']} is newer than the snapshot")
        if more and not isinstance(cursor, str):
            raise TypeError("cursor")
    except (KeyError, TypeError, ValueError) as exc:
        raise E.MalformedResponse(f"list_snapshot answered an unexpected page ({exc}): {str(body)[:200]}") from exc
    return values, snapshot, cursor, more


def _delta_page(body: Any, after: int | None = None) -> tuple[list[dict], int, bool]:
    """A document_deltas page; with `after` (the cursor asked with), also the cursor's rules: never backwards,
    advancing while there is more, and every value in (after, new cursor]."""
    try:
        values = body["values"]
        cursor = body["cursor"]
        if not isinstance(cursor, int) or isinstance(cursor, bool) or not 0 <= cursor < 2**63:
            raise ValueError(f"cursor {str(cursor)[:40]} is not a timestamp")
        more = body.get("hasMore")
        if not isinstance(more, bool):
            raise TypeError("hasMore")
        if not isinstance(values, list):
            raise TypeError("values")
        if after is not None and cursor < after:
            raise ValueError(f"the cursor went backwards, from {after} to {cursor}; applying it could bring back "
                             f"deleted documents")
        if after is not None and more and cursor == after:
            raise ValueError(f"the cursor does not advance ({cursor}) although there is more")
        for v in values:
            ts = _check_value(v, "document_deltas")
            if after is not None and not after < ts <= cursor:
                raise ValueError(f"document {v['_id']} at {ts} is outside the page's window ({after}, {cursor}]")
    except (KeyError, TypeError, ValueError) as exc:
        raise E.MalformedResponse(f"document_deltas answered an unexpected page ({exc}): {str(body)[:200]}") from exc
    return values, cursor, more
