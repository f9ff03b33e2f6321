"""Opening, creating and migrating a replica file."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Callable

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from console.store import schema  # noqa: F401  (registers the tables)
from console.store.derived import DERIVED_DDL
from console.store.text import is_read, valid_params, valid_text

SCHEMA_VERSION = 9


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
    SQLModel.metadata.create_all(conn, tables=[schema.DeliveryVerdict.__table__,  # type: ignore[attr-defined]
                                               schema.ReplayAttempt.__table__])  # type: ignore[attr-defined]


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


def _v5_to_v6(conn: Connection) -> None:
    """Logs panel and function runner: the local function-log history and the audit of the console's own actions."""
    SQLModel.metadata.create_all(conn, tables=[schema.FunctionLogEntry.__table__,  # type: ignore[attr-defined]
                                               schema.ConsoleAction.__table__])  # type: ignore[attr-defined]


def _v6_to_v7(conn: Connection) -> None:
    """Call rates: per-function rollups of the function-log history (deployment metrics in the demo and offline)."""
    from console.store.derived import FUNCTION_ROLLUP_DDL, FUNCTION_ROLLUP_REBUILD

    for stmt in FUNCTION_ROLLUP_DDL + FUNCTION_ROLLUP_REBUILD:
        conn.exec_driver_sql(stmt)


def _v7_to_v8(conn: Connection) -> None:
    """Support: find a user by a session token (its SHA-256) or the token hint the console shows."""
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS by_session_token_hint ON sessions (token_hint)")
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS by_session_token_sha ON sessions (token_sha256)")


def _v8_to_v9(conn: Connection) -> None:
    """Operators' first day: jobs per (type, status) and per-minute finish rollups (triggers), error fingerprints
    (a column, backfilled here, computed by ingest from then on), the indexes of the queue-by-type table and of
    error groups, and full-text search over errors and payloads."""
    from console.domain.fingerprint import fingerprint
    from console.store.derived import (ERROR_GROUPS_DDL, ERROR_GROUPS_REBUILD, JOB_TYPE_COUNTS_DDL,
                                       JOB_TYPE_COUNTS_REBUILD, JOBS_FTS_DDL, JOBS_FTS_REBUILD)

    if not any(r[1] == "error_fp" for r in conn.exec_driver_sql("PRAGMA table_info(jobs)")):
        conn.exec_driver_sql("ALTER TABLE jobs ADD COLUMN error_fp VARCHAR")
    rows = conn.exec_driver_sql("SELECT pk, last_error FROM jobs WHERE last_error IS NOT NULL").fetchall()
    if rows:
        conn.exec_driver_sql("UPDATE jobs SET error_fp = ? WHERE pk = ?", [(fingerprint(e), pk) for pk, e in rows])
    conn.exec_driver_sql("DROP INDEX IF EXISTS by_status_claimed")  # now with the type: stuck per type, covered
    for name, cols in (("by_status_claimed", "status, claimed_at, lease_ms, type"),
                       ("by_type_status_next_run", "type, status, next_run_at"),
                       ("by_type_status_updated", "type, status, updated_at"), ("by_type_updated", "type, updated_at"),
                       ("by_status_fp", "status, error_fp, updated_at"), ("by_fp_created", "error_fp, created_at")):
        conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {name} ON jobs ({cols})")
    for stmt in (JOB_TYPE_COUNTS_DDL + JOB_TYPE_COUNTS_REBUILD + ERROR_GROUPS_DDL + ERROR_GROUPS_REBUILD
                 + JOBS_FTS_DDL + JOBS_FTS_REBUILD):
        conn.exec_driver_sql(stmt)


# version -> step that upgrades a replica from that version to version + 1.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4, 4: _v4_to_v5, 5: _v5_to_v6,
                                                       6: _v6_to_v7, 7: _v7_to_v8, 8: _v8_to_v9}


class ReplicaError(Exception):
    """A replica file that cannot be opened as it is; the message says what to do."""


class ReplicaBroken(ReplicaError):
    """The file is not a readable replica: truncated, corrupt, a bad schema version, another kind of file.
    Moving it aside and rebuilding it (from the deployment or demo data) loses nothing of the deployment's."""


class ReplicaNotWritable(ReplicaError):
    """The path cannot hold a replica: a directory, a read-only place, no permission."""


class ReplicaTooNew(ReplicaError):
    """Written by a newer console."""


class ReplicaMismatch(ReplicaError):
    """The replica mirrors another deployment (or holds demo data): syncing into it would mix them."""


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
    event.listen(engine, "before_cursor_execute", _valid_text_in_reads, retval=True)
    return engine


def _valid_text_in_reads(conn, cursor, statement, parameters, context, executemany):
    """A lone surrogate in what a read binds (a search typed or pasted, an id from hostile data) would make
    sqlite3 raise in every store query; reads bind valid text instead. Writes keep their own rule
    (ingest.upsert_rows: the column gets NULL, the document keeps the value)."""
    if is_read(statement):
        statement = valid_text(statement)  # a field name typed into a filter is part of the SQL (a JSON path)
        parameters = valid_params(parameters)
    return statement, parameters


def _check_header(path: Path) -> None:
    """The file starts as an SQLite database and is as long as its header says (a cheap truncation check)."""
    with open(path, "rb") as fh:
        head = fh.read(100)
    if head[:16] != b"SQLite format 3\x00":
        raise ReplicaBroken(f"{path} is not a replica (not an SQLite file). Choose another file with --db.")
    if len(head) < 100:
        raise ReplicaBroken(f"{path} is truncated ({len(head)} bytes): not a readable replica.")
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    valid = head[24:28] == head[92:96]  # the in-header size counts only when the change counters agree
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return  # pages may still be in the write-ahead log
    size = path.stat().st_size
    if valid and pages and size < pages * page_size:
        raise ReplicaBroken(f"{path} is truncated: {size:,} bytes of the {pages * page_size:,} it should have.")


def _read_version(conn: Connection) -> int | None:
    has_meta = conn.execute(
        text("SELECT 1 FROM sqlite_master WHERE type='table' AND name='app_meta'")
    ).first()
    if not has_meta:
        return None
    row = conn.execute(text("SELECT value FROM app_meta WHERE key='schema_version'")).first()
    if row is None:
        return None
    try:
        return int(row[0])
    except (TypeError, ValueError):
        raise ReplicaBroken(f"has a schema_version the console cannot read ({str(row[0])[:40]!r})") from None


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


_REBUILD_ADVICE = ("It is a replica: move it aside and rebuild it from the deployment (ops-console sync) "
                   "or with demo data (ops-console demo-data).")


def _classify(path: Path, exc: BaseException) -> ReplicaError:
    """A clear, typed error for what SQLite or the OS said while opening `path`."""
    msg = str(getattr(exc, "orig", None) or exc)
    low = msg.lower()
    if isinstance(exc, OSError) or any(s in low for s in ("readonly", "read-only", "unable to open", "permission",
                                                          "not permitted", "disk i/o")):
        return ReplicaNotWritable(
            f"Cannot write the replica {path} ({msg}). The console writes the file and its -wal and -shm "
            f"files next to it: check the folder's permissions and free space, or choose another file with --db.")
    return ReplicaBroken(f"{path} is damaged and cannot be read ({msg}). {_REBUILD_ADVICE}")


def open_replica(path: Path | str, *, create: bool = True) -> Engine:
    """Open (and create or migrate) the replica at `path`. Raises a ReplicaError subclass with advice."""
    engine = make_engine(path)  # lazy: no file is touched before prepare_replica
    prepare_replica(engine, path, create=create)
    return engine


def prepare_replica(engine: Engine, path: Path | str, *, create: bool = True) -> None:
    """Check, create or migrate the replica behind `engine` (open_replica's disk work, for a worker thread).
    On failure the engine is disposed and a ReplicaError subclass with advice raised."""
    path = Path(path)
    if path.is_dir():
        engine.dispose()
        raise ReplicaNotWritable(f"{path} is a folder, not a replica file. Give a file path, "
                                 f"e.g. {path / 'replica.sqlite'}.")
    try:
        exists = path.exists() and path.stat().st_size > 0
        if exists:
            _check_header(path)
        if not exists and not create:
            raise ReplicaError(f"{path} does not exist.")
        path.parent.mkdir(parents=True, exist_ok=True)
    except ReplicaError:
        engine.dispose()
        raise
    except OSError as exc:
        engine.dispose()
        raise _classify(path, exc) from exc
    try:
        with engine.begin() as conn:
            try:
                version = _read_version(conn) if exists else None
            except ReplicaBroken as exc:
                raise ReplicaBroken(f"{path} {exc}. {_REBUILD_ADVICE}") from None
            if version is None:
                tables = conn.execute(text("SELECT count(*) FROM sqlite_master WHERE type='table'")).scalar()
                if tables:
                    raise ReplicaBroken(
                        f"{path} is an SQLite file but not a console replica. Choose another file with --db."
                    )
                _create(conn)
            elif version > SCHEMA_VERSION:
                raise ReplicaTooNew(
                    f"{path} was written by a newer console (replica schema {version}, this console "
                    f"understands up to {SCHEMA_VERSION}). Update the console, or open another replica."
                )
            elif version < SCHEMA_VERSION:
                _migrate(conn, version, path)
            # Read what every panel's first query reads: a damaged page there fails now, not in a panel.
            for table in ("app_meta", "sync_state", "table_counts"):
                conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
    except ReplicaError:
        engine.dispose()
        raise
    except (DBAPIError, sqlite3.Error) as exc:
        engine.dispose()
        raise _classify(path, exc) from exc


def move_aside(path: Path | str) -> Path:
    """Rename a broken replica (and its -wal/-shm) to `<name>.broken-<time>`; returns the new path."""
    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.broken-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.broken-{stamp}-{n}")
    os.replace(path, target)
    for suffix in ("-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        if side.exists():
            os.replace(side, Path(f"{target}{suffix}"))
    return target


def replace_file(new: Path | str, target: Path | str) -> None:
    """Move a complete replica over `target`, dropping the old write-ahead log with it."""
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(new, target)


def _same_deployment(a: str, b: str) -> bool:
    return a.strip().rstrip("/").lower() == b.strip().rstrip("/").lower()


def claim_replica(engine: Engine, deployment: str) -> None:
    """Record that this replica mirrors `deployment` (its URL), or refuse with ReplicaMismatch when it
    mirrors another one or holds demo data. Call before every sync into a replica."""
    path = engine.url.database
    with engine.begin() as conn:
        mode, mirrored = get_meta(conn, "mode"), get_meta(conn, "deployment")
        if mode == "demo":
            raise ReplicaMismatch(
                f"{path} holds demo data; syncing {deployment} into it would mix live data with the demo. "
                f"Sync into the deployment's own replica (the default) or another file with --db.")
        if mirrored and not _same_deployment(mirrored, deployment):
            raise ReplicaMismatch(
                f"{path} is the replica of {mirrored}; syncing {deployment} into it would mix two deployments. "
                f"Sync into the deployment's own replica (the default) or another file with --db.")
        set_meta(conn, "mode", "live")
        if not mirrored:
            set_meta(conn, "deployment", deployment.strip().rstrip("/"))


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
