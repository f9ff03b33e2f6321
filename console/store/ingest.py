"""Bulk writes of Convex documents into the replica (SQLAlchemy Core, driver-level executemany).

A row is replaced only by a revision at least as new as the stored one (`_ts`), so replaying a page
after a crash is harmless.
"""

from __future__ import annotations

import json
from typing import Iterable

from sqlalchemy.engine import Connection

from console.convex.values import decode_scalar
from console.store.mapping import BY_SOURCE, TableSpec, scrub_secrets


def doc_ts(doc: dict) -> int:
    """`_ts` of an exported document: an Int64, so `{"$integer": ...}` in convex_encoded_json."""
    value = decode_scalar(doc.get("_ts"))
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0

_SQL_CACHE: dict[str, str] = {}


def upsert_sql(spec: TableSpec) -> str:
    sql = _SQL_CACHE.get(spec.sql_table)
    if sql is None:
        cols = spec.column_names
        updates = ", ".join(f"{c}=excluded.{c}" for c in cols if c != "id")
        sql = (
            f"INSERT INTO {spec.sql_table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
            f"ON CONFLICT(id) DO UPDATE SET {updates} WHERE excluded.ts >= {spec.sql_table}.ts"
        )
        _SQL_CACHE[spec.sql_table] = sql
    return sql


def insert_sql(spec: TableSpec) -> str:
    """Plain INSERT, for bulk loads into empty tables (no unique index to conflict on yet)."""
    cols = spec.column_names
    return f"INSERT INTO {spec.sql_table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"


def upsert_rows(conn: Connection, spec: TableSpec, rows: list[tuple]) -> None:
    if rows:
        conn.exec_driver_sql(upsert_sql(spec), rows)


def upsert_documents(conn: Connection, spec: TableSpec, docs: Iterable[dict]) -> int:
    rows = [spec.row(d, doc_ts(d)) for d in docs]
    upsert_rows(conn, spec, rows)
    return len(rows)


def upsert_raw(conn: Connection, component: str, table: str, docs: Iterable[dict]) -> int:
    """Documents of a table the console does not model: kept whole in raw_documents."""
    rows = []
    for d in docs:
        d = scrub_secrets(d)
        ct = decode_scalar(d.get("_creationTime"))
        clean = {k: v for k, v in d.items() if k not in ("_ts", "_table", "_component", "_deleted")}
        rows.append((component, table, d["_id"], float(ct) if isinstance(ct, (int, float)) else 0.0, doc_ts(d),
                     json.dumps(clean, separators=(",", ":"), ensure_ascii=False)))
    if rows:
        conn.exec_driver_sql(
            "INSERT INTO raw_documents (component, table_name, id, creation_time, ts, doc) VALUES (?,?,?,?,?,?) "
            "ON CONFLICT(component, table_name, id) DO UPDATE SET creation_time=excluded.creation_time, "
            "ts=excluded.ts, doc=excluded.doc WHERE excluded.ts >= raw_documents.ts",
            rows,
        )
    return len(rows)


def delete_documents(conn: Connection, component: str, table: str, deletes: list[tuple[str, int]]) -> None:
    """Apply `_deleted` revisions [(id, ts)]: drop rows not newer than their delete."""
    if not deletes:
        return
    spec = BY_SOURCE.get((component, table))
    if spec is None:
        conn.exec_driver_sql(
            "DELETE FROM raw_documents WHERE component=? AND table_name=? AND id=? AND ts<=?",
            [(component, table, i, ts) for i, ts in deletes],
        )
    else:
        conn.exec_driver_sql(f"DELETE FROM {spec.sql_table} WHERE id=? AND ts<=?", deletes)
