"""Any valid Convex value syncs, end to end (issue 14: "a fuzz test per surface ... sync values").

Fixed seed, bounded count: generated documents with every kind of Convex value (Float64 incl. NaN, ±Infinity,
-0.0, the extremes; Int64 incl. its bounds; bytes; strings of every plane, NUL, very long; arrays; objects
nested deep) are written into the stand-in, then the console's own SyncEngine takes them through the
streaming export over HTTP (list_snapshot, then document_deltas for patches, replacements and deletes) into a
replica. Every document must arrive whole (the replica keeps exactly what the deployment holds), every typed
column holds its type or NULL, and the status-bar counts match.
"""

import asyncio
import json
import math
import random

from sqlalchemy import text

from console.client.http import ConvexHttp, Deployment, RetryPolicy
from console.standin.values import Int64
from console.store.counts import row_counts
from console.store.db import open_replica
from console.store.mapping import SPECS
from console.sync.engine import SyncEngine
from tests.standin_helpers import KEY, replica_docs, scrubbed, server_docs, standin

SEED = 1214
DOCS_PER_TABLE = 40
FAST = RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.01)

FLOATS = [math.nan, math.inf, -math.inf, -0.0, 0.0, 1e308, -1e308, 5e-324, 2.0**53, 2.0**53 + 2, 1.5, -7.0,
          1741400033422.0, 9.3e18, 1e-300]
INT64S = [0, 1, -1, 2**31, 2**53 + 1, 2**63 - 1, -(2**63)]
STRINGS = ["", "plain", "😀", "\x00nul", "tab\tand\nnewline", "'; DROP TABLE users; --", "<b>markup</b>",
           "١٢٣", "\u202eRTL", "\U0010ffff", "x" * 20_000, "NaN", "12", "{\"$integer\":\"AAAAAAAAAAA=\"}"]
KEYS = ["a", "b c", "with-dash", "UPPER", "n0", "quote\"d", "back\\slash", "dotted.name", "_under", "end"]


def _value(rng, depth=0):
    kind = rng.randrange(9 if depth < 6 else 6)
    if kind == 0:
        return rng.choice(FLOATS)
    if kind == 1:
        return Int64(rng.choice(INT64S))
    if kind == 2:
        return rng.choice(STRINGS)
    if kind == 3:
        return rng.choice([None, True, False, b"", b"\x00\xff bytes", bytes(range(256))])
    if kind == 4:
        return rng.uniform(-1e15, 1e15)
    if kind == 5:
        return rng.randrange(-10**6, 10**6) * 1.0
    if kind in (6, 7):
        return {rng.choice(KEYS) + str(i): _value(rng, depth + 1) for i in range(rng.randrange(5))}
    return [_value(rng, depth + 1) for _ in range(rng.randrange(5))]


def _deep(levels):
    v = {"leaf": Int64(7)}
    for i in range(levels):
        v = {"d": v} if i % 2 else [v]
    return v


def _fields(spec):
    return sorted({s for c in spec.columns for s in c.sources}) if spec else ["a", "payload"]


def _document(rng, fields, n):
    doc = {f: _value(rng) for f in fields if rng.random() < 0.85}
    doc["extra"] = _value(rng)
    if n == 0:
        doc["deep"] = _deep(60)  # Convex allows 64 levels
        doc["wide"] = [_value(rng) for _ in range(2000)]
    return doc


TABLES = [(s.component, s.table, s) for s in SPECS] + [("workpool", "work", None), ("", "unmodelled", None)]


def _sync(url, engine, first):
    """What `ops-console sync` does: the initial snapshot (first run), then one poll of the deltas."""
    async def go():
        http = ConvexHttp(Deployment(url, KEY), retry=FAST)
        sync = SyncEngine(engine, http)
        try:
            if first:
                await sync.initial_sync()
            return await sync.poll()
        finally:
            await http.aclose()

    return asyncio.run(go())


TYPES = {"int": {"integer", "null"}, "float": {"real", "null", "integer"}, "str": {"text", "null"},
         "bool": {"integer"}, "bool_true": {"integer"}, "list": {"text"}, "object": {"text"}, "bytes": {"blob", "null"}}


def _check(store, engine):
    assert replica_docs(engine) == scrubbed(server_docs(store))
    with engine.connect() as conn:
        for spec in SPECS:
            for c in spec.columns:
                kinds = {r[0] for r in conn.execute(text(f"SELECT DISTINCT typeof({c.column}) FROM {spec.sql_table}"))}
                assert kinds <= TYPES[c.kind], (spec.table, c.column, kinds)
            conn.execute(text(f"SELECT * FROM {spec.sql_table}")).all()
    counts = row_counts(engine)
    for (component, table), docs in server_docs(store).items():
        spec = next((s for s in SPECS if (s.component, s.table) == (component, table)), None)
        if spec is not None and spec.sql_table in counts:
            assert counts[spec.sql_table] == len(docs), spec.sql_table


def test_any_valid_convex_value_syncs_through_the_export(tmp_path):
    rng = random.Random(SEED)
    s = standin(seed="none")
    db = tmp_path / "fuzz.sqlite"
    engine = open_replica(db)
    try:
        ids = {}
        with s.store.transaction() as tx:
            for component, table, spec in TABLES:
                ids[(component, table)] = [tx.insert(table, _document(rng, _fields(spec), n), component)
                                           for n in range(DOCS_PER_TABLE)]
        _sync(s.url, engine, first=True)
        _check(s.store, engine)
        total = sum(len(v) for v in server_docs(s.store).values())
        assert total == len(TABLES) * DOCS_PER_TABLE
        # The run really carried every kind of value through the wire into the replica.
        with engine.connect() as conn:
            held = "".join(r[0] for r in conn.execute(text("SELECT doc FROM jobs UNION ALL SELECT doc FROM users "
                                                            "UNION ALL SELECT doc FROM raw_documents")))
        for tag in ('"$integer"', '"$float"', '"$bytes"', "\\u0000", '"leaf"', "x" * 20_000):
            assert tag in held, tag
        assert "😀" in held or "\\ud83d\\ude00" in held

        # Deltas: patches with new hostile values, whole replacements, deletes and inserts, in several
        # transactions, some of them touching one document twice.
        for round_ in range(3):
            with s.store.transaction() as tx:
                for (component, table), doc_ids in ids.items():
                    spec = next((sp for c, t, sp in TABLES if (c, t) == (component, table)), None)
                    for doc_id in rng.sample(doc_ids, 6):
                        tx.patch(table, doc_id, {f: _value(rng) for f in rng.sample(_fields(spec), 1)}, component)
                    victim = doc_ids.pop(rng.randrange(len(doc_ids)))
                    tx.delete(table, victim, component)
                    doc_ids.append(tx.insert(table, _document(rng, _fields(spec), 1 + round_), component))
            _sync(s.url, engine, first=False)
            _check(s.store, engine)
    finally:
        engine.dispose()
        s.stop()
