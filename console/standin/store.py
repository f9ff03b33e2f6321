"""The stand-in's documents, with a nanosecond commit clock and a revision log.

Every write is a revision (component, table, id, ts, deleted, doc). The current state answers function
calls; the log answers `list_snapshot` (latest revision at or before the snapshot) and
`document_deltas` (every revision after the cursor, in (ts, id) order). Revisions older than the
retention window are pruned, after which old snapshots and cursors are refused, as a deployment does.
One lock serialises transactions: reads and writes of one function call see one consistent state.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from console.convex.ids import IdMinter
from console.demo.generator import TABLE_NUMBERS

from console.standin.values import to_stored

DEFAULT_RETENTION_NS = 5 * 24 * 3600 * 10**9
# The tables the product's schema declares: listed by json_schemas even while empty, as a deployment does.
SCHEMA_TABLES = [("", t) for t in ("users", "sessions", "securityEvents", "auditLogs", "userProfiles",
                                   "conversationState", "billingAccounts", "chats", "messages", "jobs",
                                   "webhookDeliveries")] + \
    [("betterAuth", t) for t in ("organization", "member", "invitation")]


def _dumps(doc: dict) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Tx:
    """What one function call wrote; committed at one timestamp."""

    store: "DocStore"
    writes: list[tuple[str, str, str, dict | None]] = field(default_factory=list)
    ts: int = 0

    def get(self, table: str, doc_id: str, component: str = "") -> dict | None:
        for c, t, i, d in reversed(self.writes):
            if (c, t, i) == (component, table, doc_id):
                return None if d is None else dict(d)
        return self.store.get(table, doc_id, component)

    def insert(self, table: str, doc: dict, component: str = "") -> str:
        doc_id = self.store.new_id(table, component)
        now_ms = self.store.clock() / 1e6
        full = {"_id": doc_id, "_creationTime": now_ms,
                **{k: to_stored(v) for k, v in doc.items() if not k.startswith("_")}}
        self.writes.append((component, table, doc_id, full))
        return doc_id

    def replace(self, table: str, doc: dict, component: str = "") -> None:
        self.writes.append((component, table, doc["_id"], {k: to_stored(v) for k, v in doc.items() if k != "_ts"}))

    def patch(self, table: str, doc_id: str, fields: dict, component: str = "") -> dict:
        current = self.get(table, doc_id, component)
        if current is None:
            raise KeyError(f"{table} {doc_id} not found")
        current.update(fields)
        current = {k: v for k, v in current.items() if v is not None or k.startswith("_")}
        self.replace(table, current, component)
        return current

    def delete(self, table: str, doc_id: str, component: str = "") -> None:
        self.writes.append((component, table, doc_id, None))


class DocStore:
    def __init__(self, path: Path | str | None = None, *, retention_ns: int = DEFAULT_RETENTION_NS,
                 seed: int = 1, clock: Any = time.time_ns) -> None:
        self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL" if path else "PRAGMA journal_mode=MEMORY")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS docs (component TEXT, tbl TEXT, id TEXT, ts INTEGER, doc TEXT,
                                             PRIMARY KEY (component, tbl, id)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS revisions (ts INTEGER, component TEXT, tbl TEXT, id TEXT, deleted INTEGER,
                                                  doc TEXT);
            CREATE INDEX IF NOT EXISTS rev_ts ON revisions (ts, id);
            CREATE INDEX IF NOT EXISTS rev_doc ON revisions (component, tbl, id, ts);
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
            """
        )
        self.lock = threading.RLock()
        self.clock = clock  # ns since the epoch; tests move it to age snapshots and cursors
        self.retention_ns = retention_ns
        self._minter = IdMinter(seed)
        row = self._db.execute("SELECT max(ts) FROM revisions").fetchone()
        self.last_ts = int(row[0] or 0)
        row = self._db.execute("SELECT value FROM meta WHERE key='horizon'").fetchone()
        self.horizon = int(row[0]) if row else 0
        self.listeners: list[Any] = []  # called as listener(ts, [(component, table, id), ...]) after a commit
        self._reading = threading.local()  # the read set of the query running on this thread, if recorded

    # -- ids and the clock --------------------------------------------------------------------------
    def new_id(self, table: str, component: str = "") -> str:
        number = TABLE_NUMBERS.get(table)
        if number is None:
            number = TABLE_NUMBERS[table] = 10100 + len(TABLE_NUMBERS)
        return self._minter.new(number)

    def _next_ts(self) -> int:
        self.last_ts = max(self.clock(), self.last_ts + 1)
        return self.last_ts

    def snapshot_now(self) -> int:
        """A snapshot timestamp for "now": later commits get later timestamps."""
        with self.lock:
            self.last_ts = max(self.clock(), self.last_ts)
            return self.last_ts

    # -- reads ------------------------------------------------------------------------------------------
    @contextmanager
    def recording_reads(self) -> Iterator[set]:
        """Collect what the code in the block reads: ("doc", component, table, id) for a get and
        ("table", component, table) for a scan or count. Subscriptions re-run when a write meets it."""
        previous = getattr(self._reading, "reads", None)
        reads: set = set()
        self._reading.reads = reads
        try:
            yield reads
        finally:
            self._reading.reads = previous
            if previous is not None:
                previous |= reads

    def note_read(self, table: str, component: str = "", doc_id: str | None = None) -> None:
        reads = getattr(self._reading, "reads", None)
        if reads is not None:
            reads.add(("table", component, table) if doc_id is None else ("doc", component, table, doc_id))

    def get(self, table: str, doc_id: str, component: str = "") -> dict | None:
        row = self._db.execute("SELECT doc, ts FROM docs WHERE component=? AND tbl=? AND id=?",
                               (component, table, doc_id)).fetchone()
        self.note_read(table, component, doc_id)
        if row is None:
            return None
        doc = json.loads(row[0])
        doc["_ts"] = row[1]
        return doc

    def scan(self, table: str, component: str = "", where: str = "", params: tuple = (),
             limit: int | None = None, order: str = "id") -> list[dict]:
        sql = f"SELECT doc, ts FROM docs WHERE component=? AND tbl=? {('AND ' + where) if where else ''} ORDER BY {order}"
        if limit:
            sql += f" LIMIT {int(limit)}"
        self.note_read(table, component)
        out = []
        for doc, ts in self._db.execute(sql, (component, table, *params)):
            d = json.loads(doc)
            d["_ts"] = ts
            out.append(d)
        return out

    def count(self, table: str, component: str = "", where: str = "", params: tuple = ()) -> int:
        sql = f"SELECT count(*) FROM docs WHERE component=? AND tbl=? {('AND ' + where) if where else ''}"
        self.note_read(table, component)
        return int(self._db.execute(sql, (component, table, *params)).fetchone()[0])

    def tables(self) -> list[tuple[str, str]]:
        """Every table: the schema's (even empty) and any other written to, by (component, name)."""
        found = {(c, t) for c, t in self._db.execute("SELECT DISTINCT component, tbl FROM revisions")}
        return sorted(found | set(SCHEMA_TABLES))

    # -- writes -----------------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.lock:
            tx = Tx(self)
            yield tx
            if tx.writes:
                self._commit(tx)

    def _commit(self, tx: Tx) -> None:
        ts = self._next_ts()
        tx.ts = ts
        latest: dict[tuple[str, str, str], dict | None] = {}
        for c, t, i, d in tx.writes:
            latest[(c, t, i)] = d
        self._db.execute("BEGIN")
        try:
            for (c, t, i), d in latest.items():
                if d is None:
                    self._db.execute("DELETE FROM docs WHERE component=? AND tbl=? AND id=?", (c, t, i))
                    self._db.execute("INSERT INTO revisions VALUES (?,?,?,?,1,NULL)", (ts, c, t, i))
                else:
                    text = _dumps(d)
                    self._db.execute("INSERT OR REPLACE INTO docs VALUES (?,?,?,?,?)", (c, t, i, ts, text))
                    self._db.execute("INSERT INTO revisions VALUES (?,?,?,?,0,?)", (ts, c, t, i, text))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        for listener in self.listeners:
            listener(ts, list(latest))

    def bulk_load(self, docs: Iterator[tuple[str, str, dict]], per_tx: int = 5000) -> int:
        """Seed data: many documents, committed `per_tx` at a time (each batch one timestamp)."""
        n = 0
        batch: list[tuple[str, str, dict]] = []
        with self.lock:
            for item in docs:
                batch.append(item)
                if len(batch) >= per_tx:
                    n += self._load(batch)
                    batch = []
            n += self._load(batch)
        return n

    def _load(self, batch: list[tuple[str, str, dict]]) -> int:
        if not batch:
            return 0
        ts = self._next_ts()
        rows = [(c, t, d["_id"], ts, _dumps(d)) for c, t, d in batch]
        self._db.execute("BEGIN")
        self._db.executemany("INSERT OR REPLACE INTO docs VALUES (?,?,?,?,?)", rows)
        self._db.executemany("INSERT INTO revisions VALUES (?,?,?,?,0,?)", [(r[3], r[0], r[1], r[2], r[4]) for r in rows])
        self._db.execute("COMMIT")
        return len(rows)

    # -- streaming export ---------------------------------------------------------------------------------
    def snapshot_page(self, component: str, table: str, snapshot: int, after_id: str,
                      limit: int) -> tuple[list[dict], str, bool]:
        """Documents as of `snapshot`, in id order after `after_id`: (values, last id scanned, more?).
        A page may hold fewer than `limit` documents (or none) where documents were deleted."""
        with self.lock:
            rows = self._db.execute(
                """
                SELECT r.id, r.ts, r.deleted, r.doc FROM revisions r
                WHERE r.component=? AND r.tbl=? AND r.id > ? AND r.ts <= ?
                  AND r.ts = (SELECT max(r2.ts) FROM revisions r2 WHERE r2.component=r.component AND r2.tbl=r.tbl
                              AND r2.id=r.id AND r2.ts <= ?)
                ORDER BY r.id LIMIT ?
                """,
                (component, table, after_id, snapshot, snapshot, limit + 1),
            ).fetchall()
        has_more = len(rows) > limit
        rows = rows[:limit]
        values = [{**json.loads(doc), "_ts": ts, "_table": table, "_component": component}
                  for _id, ts, deleted, doc in rows if not deleted]
        return values, (rows[-1][0] if rows else after_id), has_more

    def deltas(self, cursor: int, component: str | None, table: str | None, limit: int) -> tuple[list[dict], int, bool]:
        """Revisions after `cursor` in (ts, id) order: (values, new cursor, more?). A transaction is never
        split; when nothing more is left the cursor is "now", the last committed timestamp."""
        where, params = "ts > ?", [cursor]
        if table is not None:
            where += " AND tbl = ? AND component = ?"
            params += [table, component or ""]
        elif component is not None:  # a whole component
            where += " AND component = ?"
            params += [component]
        with self.lock:  # a commit in progress must not be half visible
            now = self.last_ts
            rows = self._db.execute(
                f"SELECT ts, component, tbl, id, deleted, doc FROM revisions WHERE {where} ORDER BY ts, id LIMIT ?",
                (*params, limit + 1),
            ).fetchall()
            has_more = len(rows) > limit
            rows = rows[:limit]
            if has_more:
                last_ts = rows[-1][0]
                rows += self._db.execute(
                    f"SELECT ts, component, tbl, id, deleted, doc FROM revisions WHERE {where} AND ts = ? AND id > ? "
                    f"ORDER BY id", (*params, last_ts, rows[-1][3])).fetchall()
                has_more = self._db.execute(f"SELECT 1 FROM revisions WHERE {where} AND ts > ? LIMIT 1",
                                            (*params, last_ts)).fetchone() is not None
        values = []
        for ts, c, t, i, deleted, doc in rows:
            if deleted:
                values.append({"_id": i, "_ts": ts, "_table": t, "_component": c, "_deleted": True})
            else:
                values.append({**json.loads(doc), "_ts": ts, "_table": t, "_component": c, "_deleted": False})
        new_cursor = rows[-1][0] if has_more else max(cursor, now)
        return values, new_cursor, has_more

    def prune(self, now_ns: int | None = None) -> int:
        """Forget revisions older than the retention window (their snapshots and cursors expire)."""
        with self.lock:
            horizon = (now_ns or self.clock()) - self.retention_ns
            if horizon <= self.horizon:
                return 0
            # Keep the latest revision of each live document, even if old: it is the current state.
            n = self._db.execute(
                "DELETE FROM revisions WHERE ts < ? AND (deleted = 1 OR ts < (SELECT max(r2.ts) FROM revisions r2 "
                "WHERE r2.component = revisions.component AND r2.tbl = revisions.tbl AND r2.id = revisions.id))",
                (horizon,)).rowcount
            self.horizon = horizon
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('horizon', ?)", (str(horizon),))
            return n
