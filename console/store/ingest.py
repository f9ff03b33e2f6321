"""Bulk writes of Convex documents into the replica (SQLAlchemy Core, driver-level executemany).

A row is replaced only by a revision at least as new as the stored one (`_ts`), so replaying a page
after a crash is harmless.
"""

from __future__ import annotations

import json
from typing import Iterable

from sqlalchemy.engine import Connection

from console.store.mapping import BY_SOURCE, TableSpec, scrub_secrets

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
    rows = [spec.row(d, int(d.get("_ts") or 0)) for d in docs]
    upsert_rows(conn, spec, rows)
    return len(rows)


def upsert_raw(conn: Connection, component: str, table: str, docs: Iterable[dict]) -> int:
    """Documents of a table the console does not model: kept whole in raw_documents."""
    rows = []
    for d in docs:
        d = scrub_secrets(d)
        rows.append((component, table, d["_id"], float(d.get("_creationTime") or 0), int(d.get("_ts") or 0),
                     json.dumps(d, separators=(",", ":"), ensure_ascii=False)))
    if rows:
        conn.exec_driver_sql(
            "INSERT INTO raw_documents (component, table_name, id, creation_time, ts, doc) VALUES (?,?,?,?,?,?) "
            "ON CONFLICT(component, table_name, id) DO UPDATE SET creation_time=excluded.creation_time, "
            "ts=excluded.ts, doc=excluded.doc WHERE excluded.ts >= raw_documents.ts",
            rows,
        )
    return len(rows)


def delete_documents(conn: Connection, component: str, table: str, ids: list[str], ts: int) -> None:
    """Apply `_deleted` revisions: drop rows not newer than the delete."""
    if not ids:
        return
    spec = BY_SOURCE.get((component, table))
    params = [(i, ts) for i in ids]
    if spec is None:
        conn.exec_driver_sql(
            "DELETE FROM raw_documents WHERE component=? AND table_name=? AND id=? AND ts<=?",
            [(component, table, i, ts) for i in ids],
        )
    else:
        conn.exec_driver_sql(f"DELETE FROM {spec.sql_table} WHERE id=? AND ts<=?", params)
