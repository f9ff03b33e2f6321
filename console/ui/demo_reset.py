"""Replacing the demo data with fresh data while the window stays open.

The demo replica is reset in place (store.local.reset_in_place): captured and imported deliveries stay,
and an `ops-console capture` writing into the same file meanwhile loses nothing (a replaced file would
leave it writing into a deleted one).
"""

from __future__ import annotations

from console.domain.counts import count
from console.demo.generator import generate
from console.paths import default_demo_replica
from console.store.db import open_replica, replace_file
from console.store.local import reset_in_place
from console.ui.context import AppContext

__all__ = ["replace_file", "reset_demo_replica"]


def reset_demo_replica(ctx: AppContext) -> None:
    in_place = ctx.is_demo and ctx.replica_path.exists()
    target = ctx.replica_path if in_place else default_demo_replica()
    fresh = target.with_name(target.name + ".new")

    def work() -> int:
        generate(fresh)  # complete or not there at all
        if not in_place:
            replace_file(fresh, target)
            return 0
        engine = open_replica(target)
        try:
            return reset_in_place(engine, fresh)
        finally:
            engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                fresh.with_name(fresh.name + suffix).unlink(missing_ok=True)

    def done(kept: int) -> None:
        ctx.tasks.wait()
        ctx.replace_replica(open_replica(target), target)  # panels reload everything
        if kept:
            ctx.status_message.emit(f"Fresh demo data; {count(kept)} captured or imported deliveries kept.")

    def failed(exc: BaseException) -> None:
        fresh.unlink(missing_ok=True)
        ctx.status_message.emit(f"Could not generate demo data: {exc}")

    ctx.tasks.run(work, done, failed)
