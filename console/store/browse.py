"""The data browser's reads: every replicated table, modelled or kept raw, as documents.

Tables the console models live in their own SQL tables (`doc` holds the whole document); the others sit
in `raw_documents`. Both are read the same way here: keyset pages ordered by a sort key and `_id`,
filters on document fields through SQLite's JSON functions, and a lookup of any `_id` through the table
number every Convex id carries. Qt-free; every function takes an open connection and runs off the GUI
thread.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from console.convex.ids import decode_id
from console.domain.counts import whole
from console.store.mapping import SPECS

OPS = ("equals", "contains", "exists")
SYSTEM = ("_id", "_creationTime")
_ID_TEXT = re.compile(r"^[0-9a-hjkmnp-tv-z]{31,37}$")


@dataclass(frozen=True)
class TableRef:
    component: str
    name: str
    sql_table: str | None = None  # None: the table is kept in raw_documents

    @property
    def label(self) -> str:
        return f"{self.component}/{self.name}" if self.component else self.name


@dataclass(frozen=True)
class TableInfo:
    ref: TableRef
    count: int


@dataclass(frozen=True)
class FieldFilter:
    field: str
    op: str = "equals"  # equals | contains | exists
    value: str = ""


@dataclass(frozen=True)
class BrowseQuery:
    table: TableRef | None = None
    filters: tuple[FieldFilter, ...] = ()
    sort: str = "_id"
    descending: bool = False


@dataclass(frozen=True)
class DocRow:
    id: str
    creation_time: float
    doc: dict
    sort_value: Any = None


@dataclass
class Page:
    rows: list[DocRow] = field(default_factory=list)
    has_more: bool = False
    cursor: Any = None


def modelled_tables() -> list[TableRef]:
    return [TableRef(s.component, s.table, s.sql_table) for s in SPECS]


def list_tables(conn: Connection) -> list[TableInfo]:
    """Every table the replica holds or knows of (sync state), modelled ones first, with row counts."""
    out: list[TableInfo] = []
    known: set[tuple[str, str]] = set()
    for ref in modelled_tables():
        n = conn.execute(text(f"SELECT count(*) FROM {ref.sql_table}")).scalar() or 0
        out.append(TableInfo(ref, int(n)))
        known.add((ref.component, ref.name))
    for component, name in raw_tables(conn):
        n = conn.execute(text("SELECT count(*) FROM raw_documents WHERE component = :c AND table_name = :t"),
                         {"c": component, "t": name}).scalar() or 0
        out.append(TableInfo(TableRef(component, name), int(n)))
        known.add((component, name))
    for component, name in conn.execute(text("SELECT component, table_name FROM sync_state")).all():
        if (component, name) not in known:  # replicated but empty, or read on demand
            out.append(TableInfo(TableRef(component, name), 0))
            known.add((component, name))
    return out


def raw_tables(conn: Connection) -> list[tuple[str, str]]:
    """(component, table) of every table kept raw: one index probe per table, never a scan of the documents.

    (A row-value seek `(component, table_name) > (?, ?)` walks every row of the previous table in SQLite;
    an equality on the component and a range on the name seeks.)"""
    out: list[tuple[str, str]] = []
    component = conn.execute(text("SELECT min(component) FROM raw_documents")).scalar()
    while component is not None:
        name = conn.execute(text("SELECT min(table_name) FROM raw_documents WHERE component = :c"),
                            {"c": component}).scalar()
        while name is not None:
            out.append((component, name))
            name = conn.execute(text("SELECT table_name FROM raw_documents WHERE component = :c AND table_name > :t "
                                     "ORDER BY table_name LIMIT 1"), {"c": component, "t": name}).scalar()
        component = conn.execute(text("SELECT component FROM raw_documents WHERE component > :c ORDER BY component "
                                      "LIMIT 1"), {"c": component}).scalar()
    return out


def grouped(tables: list[TableInfo]) -> dict[str, list[TableInfo]]:
    """Tables by component ("" = the app's own), each group sorted by name."""
    groups: dict[str, list[TableInfo]] = {}
    for t in tables:
        groups.setdefault(t.ref.component, []).append(t)
    return {c: sorted(ts, key=lambda t: t.ref.name.lower()) for c, ts in sorted(groups.items())}


def json_path(name: str) -> str:
    """A SQLite JSON path for a field name, dotted for nested fields ("address.city"); quoted, so any name works."""
    parts = [p for p in name.split(".") if p] or [name]
    return "$" + "".join('."' + p.replace('"', '""') + '"' for p in parts)


def _source(ref: TableRef) -> tuple[str, str, dict[str, Any]]:
    """FROM clause, WHERE prefix and parameters that select one table's rows."""
    if ref.sql_table:
        return ref.sql_table, "1=1", {}
    return "raw_documents", "component = :component AND table_name = :table", {
        "component": ref.component, "table": ref.name}


def _sort_expr(sort: str) -> str:
    if sort == "_id":
        return "id"
    if sort == "_creationTime":
        return "creation_time"
    # Missing fields sort first, as null does in Convex's value order.
    return f"coalesce(json_extract(doc, '{_escape(json_path(sort))}'), -1e308)"


def _escape(literal: str) -> str:
    return literal.replace("'", "''")


def _filter_sql(f: FieldFilter, i: int, params: dict[str, Any]) -> str:
    if f.op not in OPS:
        raise ValueError(f"unknown filter {f.op!r} (use equals, contains or exists)")
    if f.field == "_id" and f.op == "equals":
        params[f"f{i}"] = f.value.strip()
        return f"id = :f{i}"
    path = _escape(json_path(f.field))
    if f.op == "exists":
        return f"json_type(doc, '{path}') IS NOT NULL"
    if f.op == "contains":
        params[f"f{i}"] = f.value.lower()
        return f"instr(lower(CAST(json_extract(doc, '{path}') AS TEXT)), :f{i}) > 0"
    value = parse_literal(f.value)
    if value is True or value is False:
        return f"json_type(doc, '{path}') = '{'true' if value else 'false'}'"
    if value is None:
        return f"json_type(doc, '{path}') = 'null'"
    params[f"f{i}"] = value if isinstance(value, (int, float, str)) else json.dumps(value, separators=(",", ":"))
    return f"json_extract(doc, '{path}') = :f{i}"


def parse_literal(typed: str) -> Any:
    """What an operator typed as a value: JSON when it parses (42, true, null, "x"), else the text itself."""
    typed = typed.strip()
    try:
        return json.loads(typed)
    except ValueError:
        return typed


def page(conn: Connection, query: BrowseQuery, after: Any = None, limit: int = 200) -> Page:
    """One keyset page of documents. `after` is the previous page's cursor (sort value, id)."""
    if query.table is None:
        return Page()
    source, where, params = _source(query.table)
    expr = _sort_expr(query.sort)
    clauses = [where] + [_filter_sql(f, i, params) for i, f in enumerate(query.filters)]
    if after is not None:
        params["after_v"], params["after_id"] = after
        cmp = "<" if query.descending else ">"
        clauses.append(f"({expr}, id) {cmp} (:after_v, :after_id)" if expr != "id" else f"id {cmp} :after_id")
    order = "DESC" if query.descending else "ASC"
    order_by = "id " + order if expr == "id" else f"{expr} {order}, id {order}"
    params["limit"] = limit + 1
    sql = (f"SELECT id, creation_time, doc, {expr} AS sort_value FROM {source} WHERE {' AND '.join(clauses)} "
           f"ORDER BY {order_by} LIMIT :limit")
    rows = conn.execute(text(sql), params).all()
    more = len(rows) > limit
    rows = rows[:limit]
    docs = [DocRow(r.id, r.creation_time or 0.0, _load(r.doc), r.sort_value) for r in rows]
    cursor = (docs[-1].sort_value, docs[-1].id) if docs else None
    return Page(docs, more, cursor)


def count_matching(conn: Connection, query: BrowseQuery, cap: int = 100_000) -> int:
    """How many documents of the table pass the filters, counting at most `cap + 1`."""
    if query.table is None:
        return 0
    source, where, params = _source(query.table)
    clauses = [where] + [_filter_sql(f, i, params) for i, f in enumerate(query.filters)]
    params["cap"] = cap + 1
    return int(conn.execute(text(
        f"SELECT count(*) FROM (SELECT 1 FROM {source} WHERE {' AND '.join(clauses)} LIMIT :cap)"), params).scalar() or 0)


def _load(raw: str) -> dict:
    try:
        doc = json.loads(raw)
    except ValueError:
        return {"_unreadable": raw}
    return doc if isinstance(doc, dict) else {"_value": doc}


def columns(conn: Connection, ref: TableRef, sample: int = 300) -> list[str]:
    """Column names inferred from the documents: system fields first, then fields in order of appearance."""
    source, where, params = _source(ref)
    params["n"] = sample
    seen: dict[str, None] = dict.fromkeys(SYSTEM)
    for (raw,) in conn.execute(text(f"SELECT doc FROM {source} WHERE {where} ORDER BY id LIMIT :n"), params):
        for key in _load(raw):
            seen.setdefault(key, None)
    return list(seen)


def looks_like_id(value: Any) -> bool:
    if not isinstance(value, str) or not _ID_TEXT.match(value):
        return False
    try:
        decode_id(value)
    except ValueError:
        return False
    return True


def id_fields(doc: dict, prefix: str = "") -> list[tuple[str, str]]:
    """(field path, id) for every value of the document that is a Convex id (nested ones too), except its own `_id`."""
    out: list[tuple[str, str]] = []
    items = doc.items() if isinstance(doc, dict) else enumerate(doc)
    for key, value in items:
        path = f"{prefix}.{key}" if prefix else str(key)
        if path == "_id":
            continue
        if isinstance(value, (dict, list)):
            out.extend(id_fields(value, path))  # type: ignore[arg-type]
        elif looks_like_id(value):
            out.append((path, value))
    return out


def table_numbers(conn: Connection, tables: list[TableInfo] | None = None) -> dict[int, list[TableRef]]:
    """Table number -> tables, learnt from one id per table (numbers repeat across components). Index probes only."""
    out: dict[int, list[TableRef]] = {}
    refs = [t.ref for t in tables if t.count] if tables is not None else (
        modelled_tables() + [TableRef(c, n) for c, n in raw_tables(conn)])
    for ref in refs:
        source, where, params = _source(ref)
        sample = conn.execute(text(f"SELECT id FROM {source} WHERE {where} LIMIT 1"), params).scalar()
        try:
            number, _ = decode_id(sample or "")
        except ValueError:
            continue
        out.setdefault(number, []).append(ref)
    return out


@dataclass(frozen=True)
class Found:
    ref: TableRef
    row: DocRow


def find_document(conn: Connection, typed: str, numbers: dict[int, list[TableRef]] | None = None) -> Found | None:
    """The document with this `_id`, in whichever table holds it (None if it is not a Convex id or not here)."""
    typed = typed.strip()
    try:
        number, _ = decode_id(typed)
    except ValueError:
        return None
    numbers = numbers if numbers is not None else table_numbers(conn)
    for ref in numbers.get(number, []):
        source, where, params = _source(ref)
        params["id"] = typed
        r = conn.execute(text(f"SELECT id, creation_time, doc FROM {source} WHERE {where} AND id = :id"), params).first()
        if r:
            return Found(ref, DocRow(r.id, r.creation_time or 0.0, _load(r.doc)))
    return None


def cell_text(value: Any, width: int = 120) -> str:
    """A document value in one line of plain text (strings bare, everything else as compact JSON)."""
    if value is None:
        return ""
    if isinstance(value, str):
        out = value
    else:
        out = json.dumps(value, separators=(", ", ": "), ensure_ascii=False)
    out = out.replace("\n", " ")
    return out if len(out) <= width else out[: width - 1] + "…"


def pretty(doc: Any) -> str:
    """A value as people read it. A whole Float64 is written without ".0", as the Convex dashboard writes it
    (a function answered "retrying": 1000.0, "opsVersion": 1.0)."""
    return json.dumps(_whole(doc), indent=2, ensure_ascii=False, sort_keys=False)


def _whole(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _whole(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole(v) for v in value]
    return whole(value)
