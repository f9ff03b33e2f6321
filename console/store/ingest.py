"""Bulk writes of Convex documents into the replica (SQLAlchemy Core, driver-level executemany).

A row is replaced only by a revision at least as new as the stored one (`_ts`), so replaying a page
after a crash is harmless.
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy.engine import Connection

from console.store.mapping import BY_SOURCE, TableSpec, as_float, as_int, bindable, json_text, scrub_secrets


def doc_ts(doc: dict) -> int:
    """`_ts` of an exported document: an Int64, so `{"$integer": ...}` in convex_encoded_json."""
    ts = doc.get("_ts")
    if ts.__class__ is int and 0 <= ts < 2**63:
        return ts
    return as_int(ts) or 0

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
    if not rows:
        return
    try:
        conn.exec_driver_sql(upsert_sql(spec), rows)
    except (UnicodeEncodeError, OverflowError):
        # A column value SQLite cannot take (a lone surrogate, an integer past 64 bits): that column gets
        # NULL (or its default), the document keeps the value. Rows applied before the failure are
        # applied again, which the upsert rule makes harmless.
        conn.exec_driver_sql(upsert_sql(spec), [spec.bindable_row(r) for r in rows])


def upsert_documents(conn: Connection, spec: TableSpec, docs: Iterable[dict]) -> int:
    rows = [spec.row(d, doc_ts(d)) for d in docs]
    upsert_rows(conn, spec, rows)
    return len(rows)


def upsert_raw(conn: Connection, component: str, table: str, docs: Iterable[dict]) -> int:
    """Documents of a table the console does not model: kept whole in raw_documents."""
    rows = []
    for d in docs:
        d = scrub_secrets(d)
        clean = {k: v for k, v in d.items() if k not in ("_ts", "_table", "_component", "_deleted")}
        rows.append((bindable(component), bindable(table), bindable(d["_id"]),
                     as_float(d.get("_creationTime")) or 0.0, doc_ts(d), json_text(clean)))
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


def apply_page(conn: Connection, values: list[dict], skip: set[tuple[str, str]] | frozenset = frozenset()
               ) -> list[tuple[str, str, str]]:
    """Apply one page of exported revisions in commit order, in the caller's transaction.

    Revisions of one id collapse to the last one, applied where that one came; consecutive revisions of
    one table and kind go in one statement. Deletes and upserts stay interleaved as the deployment
    committed them. Tables in `skip` (on demand) are reported but not stored. Returns (component,
    table, id) of every revision read.
    """
    last: dict[tuple[str, str, str], int] = {}
    keys: list[tuple[str, str, str]] = []
    for n, v in enumerate(values):
        key = (v.get("_component") or "", v.get("_table") or "", v["_id"])
        keys.append(key)
        last[key] = n
    run_key: tuple[str, str, bool] | None = None
    run: list = []
    for n, v in enumerate(values):
        key = keys[n]
        if last[key] != n or key[:2] in skip:
            continue
        deleted = bool(v.get("_deleted"))
        this = (key[0], key[1], deleted)
        if this != run_key:
            _apply_run(conn, run_key, run)
            run_key, run = this, []
        run.append((key[2], doc_ts(v)) if deleted else v)
    _apply_run(conn, run_key, run)
    return list(last)


def _apply_run(conn: Connection, kind: tuple[str, str, bool] | None, items: list) -> None:
    if kind is None or not items:
        return
    component, table, deleted = kind
    if deleted:
        delete_documents(conn, component, table, items)
        return
    spec = BY_SOURCE.get((component, table))
    if spec is None:
        upsert_raw(conn, component, table, items)
    else:
        upsert_documents(conn, spec, items)
