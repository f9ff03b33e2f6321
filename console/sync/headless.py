"""`ops-console sync`: build or update a replica from a deployment, with a terminal progress bar.

Exit codes: 0 done; 2 configuration (no URL or key); 3 key rejected; 4 streaming export not enabled;
5 deployment unreachable or failing; 6 the deployment answered something unexpected (a malformed or
oversized page, a cursor that does not advance, a resync that keeps failing, a client version it refuses);
7 the replica could not be written (disk full, read-only); 130 interrupted. Whatever the code, every page
committed before stays, and a page is applied whole or not at all.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError

from console.changes import note_foreign_write
from console.client import errors as E
from console.client.calllog import CallLog
from console.client.http import ConvexHttp, Deployment
from console.store.db import ReplicaError, claim_replica, open_replica
from console.sync.engine import Progress, ReplicaWriteError, ResyncNeeded, SyncEngine
from console.sync.loop import LoopState, SyncLoop

EXIT_CODES: list[tuple[type[E.ConvexRequestError], int]] = [
    (E.AuthRejected, 3), (E.NotPermitted, 3), (E.StreamingExportNotEnabled, 4), (E.NetworkError, 5),
    (E.Overloaded, 5), (E.ServerError, 5), (E.MalformedResponse, 6), (E.ResponseTooLarge, 6),
    (E.ClientUnsupported, 6),
]
EXIT_REPLICA = 7


def _bar(p: Progress, width: int = 28) -> str:
    filled = int(p.fraction * width)
    eta = f", about {p.eta_s:.0f} s left" if p.eta_s is not None else ""
    return (f"[{'#' * filled}{'.' * (width - filled)}] {p.tables_done}/{p.tables_total} tables, "
            f"{p.documents:,} documents, {p.rate:,.0f}/s{eta}  {p.table[:24]}")


async def _run(url: str, key: str, db: Path, follow: bool, out: TextIO) -> int:
    engine = open_replica(db)
    call_log = CallLog(engine)
    http = ConvexHttp(Deployment(url, key), on_call=call_log.record)
    tty = out.isatty()
    last = [0.0]

    def progress(p: Progress) -> None:
        now = time.monotonic()
        if now - last[0] < (0.1 if tty else 2.0):
            return
        last[0] = now
        out.write(("\r" + _bar(p) + " " * 4) if tty else (_bar(p) + "\n"))
        out.flush()

    # A console window with this replica open cannot tell our commits from its own: say so after each.
    sync = SyncEngine(engine, http, on_progress=progress, on_changes=lambda _changes: note_foreign_write(db))
    cancel = asyncio.Event()
    try:
        await sync.check()
        claim_replica(engine, url)  # refuses a replica of another deployment, or a demo replica
        if follow:
            def state(s: LoopState) -> None:
                out.write(f"\n{time.strftime('%H:%M:%S')} {s.status}: {s.message}")
                out.flush()
                call_log.flush()
            await SyncLoop(sync, on_state=state).run(cancel)
            return 0
        for attempt in range(2):
            try:
                docs = await sync.initial_sync(cancel)
                changes = await sync.poll(cancel)
                break
            except ResyncNeeded as exc:
                if attempt:
                    raise
                out.write(f"\nThe replica fell behind what the deployment keeps ({exc}); rebuilding it.\n")
                sync.wipe()
        if tty:
            out.write("\r" + _bar(sync.progress) + "\n")
        changed = sum(len(v) for v in changes.tables.values())
        out.write(f"Replica {db} is current: {docs:,} documents from the snapshot, {changed:,} changed since, "
                  f"in {sync.progress.elapsed:.1f} s.\n")
        return 0
    except E.ConvexRequestError as exc:
        out.write(f"\nops-console sync: {exc}\n")
        return next((code for cls, code in EXIT_CODES if isinstance(exc, cls)), 6)
    except ResyncNeeded as exc:
        out.write(f"\nops-console sync: a fresh snapshot could not be continued from either ({exc}). The deployment's "
                  f"clock or retention looks wrong; nothing more was applied.\n")
        return 6
    except (ReplicaWriteError, SQLAlchemyError, OSError) as exc:
        out.write(f"\nops-console sync: cannot write the replica {db}: {str(exc)[:300].rstrip('.')}. Free disk space or check the "
                  f"file's permissions; every page committed before is kept and the next run resumes there.\n")
        return EXIT_REPLICA
    finally:
        try:
            call_log.flush()
        except SQLAlchemyError:
            pass  # the call log is local bookkeeping; the exit code already says the replica can't be written
        await http.aclose()
        engine.dispose()


def run_sync(url: str, key: str | None, db: Path, *, follow: bool = False, out: TextIO = sys.stderr) -> int:
    if not url.startswith(("http://", "https://")):
        out.write("ops-console sync: --url must be the deployment URL, e.g. https://happy-otter-123.convex.cloud\n")
        return 2
    if not key:
        out.write("ops-console sync: no deploy key. Put it in the keyring through Settings, or set CONVEX_DEPLOY_KEY.\n")
        return 2
    try:
        return asyncio.run(_run(url, key, db, follow, out))
    except ReplicaError as exc:  # broken, unwritable, or the replica of something else
        out.write(f"ops-console sync: {exc}\n")
        return 2
    except KeyboardInterrupt:
        out.write("\nInterrupted; the replica keeps every page committed so far and resumes from there.\n")
        return 130
