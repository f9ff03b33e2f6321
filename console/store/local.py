"""Local-only data: rows with no source document on the deployment. Resyncs and demo resets keep them.

- Webhook deliveries captured by `ops-console capture` or imported from a file (their document says
  `capturedBy`), with their verdicts and replay attempts.
- The call log (in live mode; the demo's is generated traffic, replaced on a reset).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from console.store.derived import DERIVED_DDL, REBUILD, TRIGGERS
from console.store.mapping import SPECS

LOCAL_DELIVERY = "json_extract(doc, '$.capturedBy') IS NOT NULL"
_LOCAL_IDS = f"SELECT id FROM webhook_deliveries WHERE {LOCAL_DELIVERY}"
_DEMO_META = ("mode", "demo_operator", "demo_seed", "demo_now_ms", "generated_at")


def wipe_replicated(conn: Connection) -> None:
    """Forget every replicated row (before a full resync); local-only rows and tables stay."""
    for spec in SPECS:
        local = f" WHERE NOT ({LOCAL_DELIVERY})" if spec.sql_table == "webhook_deliveries" else ""
        conn.exec_driver_sql(f"DELETE FROM {spec.sql_table}{local}")
    conn.exec_driver_sql("DELETE FROM raw_documents")
    conn.exec_driver_sql("DELETE FROM sync_state")


def local_delivery_count(conn: Connection) -> int:
    return conn.exec_driver_sql(f"SELECT count(*) FROM webhook_deliveries WHERE {LOCAL_DELIVERY}").scalar() or 0


def _columns(table: str) -> str:
    return ", ".join(c.name for c in SQLModel.metadata.tables[table].columns if c.name != "pk")


def reset_in_place(engine: Engine, fresh: Path | str) -> int:
    """Replace the demo data in the replica behind `engine` with that of the freshly generated file `fresh`,
    in one transaction, keeping local-only rows. The replica stays the same file, so a capture process
    writing into it meanwhile loses nothing (it waits for the lock). Returns how many local deliveries stayed.

    The derived indexes are dropped and rebuilt once, as the generator does: faster than row by row.
    """
    with engine.connect() as conn:
        conn.exec_driver_sql("ATTACH DATABASE ? AS fresh", (str(fresh),))
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            for trig in TRIGGERS:
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS main.{trig}")
            conn.exec_driver_sql(f"DELETE FROM main.delivery_verdicts WHERE delivery_id NOT IN ({_LOCAL_IDS})")
            conn.exec_driver_sql(f"DELETE FROM main.replay_attempts WHERE delivery_id NOT IN ({_LOCAL_IDS})")
            wipe_replicated(conn)
            for table in [s.sql_table for s in SPECS] + ["raw_documents", "call_log"]:
                if table == "call_log":
                    conn.exec_driver_sql("DELETE FROM main.call_log")
                cols = _columns(table)
                conn.exec_driver_sql(f"INSERT OR IGNORE INTO main.{table} ({cols}) SELECT {cols} FROM fresh.{table}")
            for key in _DEMO_META:
                conn.exec_driver_sql("DELETE FROM main.app_meta WHERE key = ?", (key,))
                conn.exec_driver_sql("INSERT INTO main.app_meta (key, value) SELECT key, value FROM fresh.app_meta "
                                     "WHERE key = ?", (key,))
            for stmt in DERIVED_DDL + REBUILD:
                conn.exec_driver_sql(stmt)
            kept = local_delivery_count(conn)
            conn.exec_driver_sql("COMMIT")
        except BaseException:
            conn.exec_driver_sql("ROLLBACK")
            raise
        finally:
            conn.exec_driver_sql("DETACH DATABASE fresh")
    return kept
