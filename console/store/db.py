"""Opening, creating and migrating a replica file."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Callable

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from console.store import schema  # noqa: F401  (registers the tables)
from console.store.derived import DERIVED_DDL

SCHEMA_VERSION = 5


def _v1_to_v2(conn: Connection) -> None:
    """Jobs panel: per-status counts kept by triggers, and the indexes its sorts and filters need."""
    from console.store.derived import JOB_COUNTS_DDL, JOB_COUNTS_REBUILD

    conn.exec_driver_sql("DROP INDEX IF EXISTS by_type_status")
    for name, cols in (("by_type_status", "type, status, created_at"), ("by_type_created", "type, created_at"),
                       ("by_status_created", "status, created_at"), ("by_job_updated", "updated_at"),
                       ("by_status_updated", "status, updated_at"),
                       ("by_status_claimed", "status, claimed_at, lease_ms")):
        conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {name} ON jobs ({cols})")
    for stmt in JOB_COUNTS_DDL + JOB_COUNTS_REBUILD:
        conn.exec_driver_sql(stmt)


def _v2_to_v3(conn: Connection) -> None:
    """Webhooks panel: local verdicts and replay attempts."""
    SQLModel.metadata.create_all(conn, tables=[schema.DeliveryVerdict.__table__, schema.ReplayAttempt.__table__])


def _v3_to_v4(conn: Connection) -> None:
    """Call-rate panel: a covering index for short ranges, per-minute rollups (kept by a trigger) for long ones."""
    from console.store.derived import CALL_ROLLUP_DDL, CALL_ROLLUP_REBUILD

    conn.exec_driver_sql("DROP INDEX IF EXISTS by_call_at")
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS by_call_cover ON call_log "
                         "(at, function, kind, source, outcome, latency_ms)")
    for stmt in CALL_ROLLUP_DDL + CALL_ROLLUP_REBUILD:
        conn.exec_driver_sql(stmt)


def _v4_to_v5(conn: Connection) -> None:
    """No unique indexes on product fields (Convex has none: a reused job key or swapped slug froze sync),
    and the status bar's row counts kept by triggers."""
    from console.store.derived import TABLE_COUNTS_DDL, TABLE_COUNTS_REBUILD

    for name, table, cols in (("by_key", "jobs", "key"), ("by_slug", "organizations", "slug"),
                              ("by_chat_client_message", "messages", "chat_id, client_message_id")):
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE INDEX {name} ON {table} ({cols})")
    for stmt in TABLE_COUNTS_DDL + TABLE_COUNTS_REBUILD:
        conn.exec_driver_sql(stmt)


# version -> step that upgrades a replica from that version to version + 1.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4, 4: _v4_to_v5}


class ReplicaError(Exception):
    """A replica file that cannot be opened as it is; the message says what to do."""


def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA cache_size=-16000")  # 16 MB per connection; a few connections at most
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def make_engine(path: Path | str) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False},
        pool_size=3,
        max_overflow=2,
    )
    event.listen(engine, "connect", _on_connect)
    return engine


def _is_sqlite(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(16) == b"SQLite format 3\x00"


def _read_version(conn: Connection) -> int | None:
    has_meta = conn.execute(
        text("SELECT 1 FROM sqlite_master WHERE type='table' AND name='app_meta'")
    ).first()
    if not has_meta:
        return None
    row = conn.execute(text("SELECT value FROM app_meta WHERE key='schema_version'")).first()
    return int(row[0]) if row else None


def _create(conn: Connection) -> None:
    SQLModel.metadata.create_all(conn)
    for stmt in DERIVED_DDL:
        conn.exec_driver_sql(stmt)
    set_meta(conn, "schema_version", str(SCHEMA_VERSION))


def set_meta(conn: Connection, key: str, value: str) -> None:
    conn.execute(
        text("INSERT INTO app_meta(key, value) VALUES (:k, :v) ON CONFLICT(key) DO UPDATE SET value=:v"),
        {"k": key, "v": value},
    )


def get_meta(conn: Connection, key: str) -> str | None:
    row = conn.execute(text("SELECT value FROM app_meta WHERE key=:k"), {"k": key}).first()
    return row[0] if row else None


def open_replica(path: Path | str, *, create: bool = True) -> Engine:
    """Open (and create or migrate) the replica at `path`. Raises ReplicaError with advice."""
    path = Path(path)
    exists = path.exists() and path.stat().st_size > 0
    if exists and not _is_sqlite(path):
        raise ReplicaError(f"{path} is not a replica (not an SQLite file). Choose another file with --db.")
    if not exists and not create:
        raise ReplicaError(f"{path} does not exist.")
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(path)
    try:
        with engine.begin() as conn:
            version = _read_version(conn) if exists else None
            if version is None:
                tables = conn.execute(text("SELECT count(*) FROM sqlite_master WHERE type='table'")).scalar()
                if tables:
                    raise ReplicaError(
                        f"{path} is an SQLite file but not a console replica. Choose another file with --db."
                    )
                _create(conn)
            elif version > SCHEMA_VERSION:
                raise ReplicaError(
                    f"{path} was written by a newer console (replica schema {version}, this console "
                    f"understands up to {SCHEMA_VERSION}). Update the console, or open another replica."
                )
            elif version < SCHEMA_VERSION:
                _migrate(conn, version, path)
    except Exception:
        engine.dispose()
        raise
    return engine


def _migrate(conn: Connection, version: int, path: Path) -> None:
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise ReplicaError(
                f"{path} uses replica schema {version}, which this console cannot upgrade. "
                f"Delete the file (it is a replica: it is rebuilt from the deployment or demo data) "
                f"or open it with the console version that wrote it."
            )
        step(conn)
        version += 1
        set_meta(conn, "schema_version", str(version))


def file_size(path: Path | str) -> int:
    """Replica size on disk including its write-ahead log."""
    total = 0
    for suffix in ("", "-wal"):
        try:
            total += os.path.getsize(f"{path}{suffix}")
        except OSError:
            pass
    return total
