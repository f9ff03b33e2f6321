"""Any valid Convex value in any field syncs: the document keeps it, the column gets it or NULL.

A fixed-seed, bounded fuzz run feeds generated documents of every table (modelled and raw) through
the page apply that sync uses, then checks every document is stored, its JSON parses back to what was
sent, and every typed column holds its type or NULL.
"""

import json
import math
import random

import pytest
from sqlalchemy import text

from console.convex.values import Int64, encode
from console.store.counts import row_counts
from console.store.db import open_replica
from console.store.mapping import _EXPORT_ONLY, SPECS, scrub_secrets
from console.sync.engine import SyncEngine

SEED = 1414
DOCS_PER_TABLE = 120
PAGE = 40

ODD_FLOATS = [math.nan, math.inf, -math.inf, -0.0, 1e308, -1e308, 5e-324, 1.5, 9.3e18, -9.3e18]
ODD_INTS = [0, -1, 2**63 - 1, -(2**63), 10**30, -(10**30), 2**64]  # the last three only as plain JSON numbers
ODD_STRINGS = ["", "plain", "\ud800", "a\udfffb", "\udc00\ud800", "😀", "\x00nul", "'; DROP TABLE users; --",
               "x" * 5000, "١٢٣", "NaN", "12"]


def _value(rng, depth=0):
    kind = rng.randrange(10 if depth < 3 else 6)
    if kind == 0:
        return rng.choice(ODD_FLOATS)
    if kind == 1:
        return ("int64", rng.choice(ODD_INTS[:4]))
    if kind == 2:
        return ("json_int", rng.choice(ODD_INTS))
    if kind == 3:
        return rng.choice(ODD_STRINGS)
    if kind == 4:
        return rng.choice([None, True, False, b"", b"\xff\x00bytes"])
    if kind == 5:
        return rng.uniform(-1e15, 1e15)
    if kind in (6, 7):
        return {rng.choice(["a", "$b", "k\ud800", "😀", "_x"]) + str(i): _value(rng, depth + 1)
                for i in range(rng.randrange(4))}
    return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]


def _wire(v):
    """Convex wire form; JSON numbers stay plain (a deployment writes integral floats like 5 as such)."""
    if isinstance(v, tuple) and v[0] == "int64":
        return encode(Int64(v[1]))
    if isinstance(v, tuple) and v[0] == "json_int":
        return v[1]
    if isinstance(v, dict):
        return {k.replace("$", "d"): _wire(x) for k, x in v.items()}  # '$' keys are reserved in Convex
    if isinstance(v, list):
        return [_wire(x) for x in v]
    return encode(v)


def _documents(rng, spec_fields, table, component):
    docs = []
    for n in range(DOCS_PER_TABLE):
        doc = {"_id": f"{table[:4]}{n:05d}", "_creationTime": 1.7e12 + n + 0.5, "_ts": {"$integer": ""},
               "_table": table, "_component": component}
        if n % 7 == 0:
            doc["_creationTime"] = _wire(rng.choice(ODD_FLOATS + [("int64", 2**62), ("json_int", 10**30)]))
        for f in spec_fields:
            if rng.random() < 0.8:
                doc[f] = _wire(_value(rng))
        doc["extra" + str(n % 3)] = _wire(_value(rng))
        doc["_ts"] = 1_000 + n  # a plain JSON integer, as every export format prints it
        docs.append(doc)
    return docs


def _stored_form(spec, doc):
    d = scrub_secrets(doc)
    if spec is not None and spec.scrub:
        d = spec.scrub(d)
    return {k: v for k, v in d.items() if k not in _EXPORT_ONLY}


TYPES = {"int": {"integer", "null"}, "float": {"real", "null"}, "str": {"text", "null"}, "bool": {"integer"},
         "bool_true": {"integer"}, "list": {"text"}, "object": {"text"}, "bytes": {"blob"}}


@pytest.mark.parametrize("spec", SPECS + [None], ids=[s.table for s in SPECS] + ["raw"])
def test_fuzzed_documents_of_every_table_sync_whole(tmp_path, spec):
    rng = random.Random(f"{SEED}-{spec.table if spec else 'raw'}")
    table, component = (spec.table, spec.component) if spec else ("workpool_work", "workpool")
    fields = sorted({s for c in spec.columns for s in c.sources}) if spec else ["a", "b"]
    docs = _documents(rng, fields, table, component)
    engine = open_replica(tmp_path / "fuzz.sqlite")
    try:
        sync = SyncEngine(engine, None)
        for i in range(0, len(docs), PAGE):
            with engine.begin() as conn:
                sync._apply(conn, docs[i:i + PAGE])
        with engine.connect() as conn:
            if spec:
                stored = {r[0]: r[1] for r in conn.execute(text(f"SELECT id, doc FROM {spec.sql_table}"))}
            else:
                stored = {r[0]: r[1] for r in conn.execute(text("SELECT id, doc FROM raw_documents"))}
            assert len(stored) == len(docs)
            for d in docs:
                assert json.loads(stored[d["_id"]]) == _stored_form(spec, d), d["_id"]
            if spec:
                for c in spec.columns:
                    kinds = {r[0] for r in conn.execute(text(f"SELECT DISTINCT typeof({c.column}) FROM {spec.sql_table}"))}
                    assert kinds <= TYPES[c.kind], (c.column, kinds)
                # Every row is readable back through the queries' plain SELECT * path.
                conn.execute(text(f"SELECT * FROM {spec.sql_table}")).all()
        # Deleting them all, in pages as deltas would, leaves nothing behind and the counts at zero.
        gone = [{"_id": d["_id"], "_ts": 5_000, "_table": table, "_component": component, "_deleted": True}
                for d in docs]
        for i in range(0, len(gone), PAGE):
            with engine.begin() as conn:
                sync._apply(conn, gone[i:i + PAGE])
        with engine.connect() as conn:
            name = spec.sql_table if spec else "raw_documents"
            assert conn.execute(text(f"SELECT count(*) FROM {name}")).scalar() == 0
        assert set(row_counts(engine).values()) == {0}
    finally:
        engine.dispose()


def test_named_hostile_values_map_to_null_and_keep_the_document(tmp_path):
    engine = open_replica(tmp_path / "r.sqlite")
    try:
        doc = {"_id": "j1", "_creationTime": 1.0, "_ts": 5, "_table": "jobs", "_component": "",
               "createdAt": encode(math.nan), "updatedAt": encode(math.inf), "nextRunAt": 10**30,
               "attempts": "three", "key": {"nested": "object"}, "lastError": "bad \ud800 surrogate",
               "claimedAt": encode(-0.0), "leaseMs": 1e300}
        with engine.begin() as conn:
            SyncEngine(engine, None)._apply(conn, [doc])
        with engine.connect() as conn:
            row = conn.execute(text("SELECT * FROM jobs")).mappings().one()
        assert (row["created_at"], row["updated_at"], row["next_run_at"], row["key"], row["lease_ms"]) == \
            (None, None, None, None, None)
        assert row["attempts"] == 0 and row["claimed_at"] == 0 and row["last_error"] is None
        assert json.loads(row["doc"])["lastError"] == "bad \ud800 surrogate"
        assert json.loads(row["doc"])["nextRunAt"] == 10**30
    finally:
        engine.dispose()
