"""Starting stand-ins for tests, and comparing a replica with one."""

import json

from sqlalchemy import text

from console.demo.generator import DemoSizes
from console.standin.app import start_standin
from console.store.mapping import SPECS

SMALL = DemoSizes(users=150, messages=1500, jobs=800)
KEY = "standin|test-admin-key"


def standin(**kw):
    kw.setdefault("sizes", SMALL)
    kw.setdefault("worker", False)
    kw.setdefault("admin_key", KEY)
    kw.setdefault("now_ms", 1_790_000_000_000)
    return start_standin(**kw)


def server_docs(store):
    """{(component, table): {id: doc without _ts}} of everything the stand-in holds."""
    out = {}
    for component, table in store.tables():
        docs = store.scan(table, component)
        if not docs:
            continue  # a schema table with no documents: the replica has no rows for it either
        out[(component, table)] = {d["_id"]: {k: v for k, v in d.items() if k != "_ts"} for d in docs}
    return out


def replica_docs(engine):
    out = {}
    with engine.connect() as c:
        for spec in SPECS:
            rows = c.execute(text(f"SELECT id, doc FROM {spec.sql_table}")).all()
            if rows:
                out[(spec.component, spec.table)] = {r.id: json.loads(r.doc) for r in rows}
        for r in c.execute(text("SELECT component, table_name, id, doc FROM raw_documents")):
            out.setdefault((r.component, r.table_name), {})[r.id] = json.loads(r.doc)
    return out


def scrubbed(docs):
    """What the replica keeps of server documents: secrets dropped, session tokens reduced."""
    from console.store.mapping import BY_SOURCE, scrub_secrets

    out = {}
    for key, by_id in docs.items():
        spec = BY_SOURCE.get(key)
        table = {}
        for doc_id, d in by_id.items():
            d = scrub_secrets(d)
            if spec and spec.scrub:
                d = spec.scrub(d)
            table[doc_id] = d
        out[key] = table
    return out
