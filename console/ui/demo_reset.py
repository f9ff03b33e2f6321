"""Replacing the demo replica with fresh data while the window stays open."""

from __future__ import annotations

import os
from pathlib import Path

from console.demo.generator import generate
from console.store.db import open_replica
from console.ui.context import AppContext


def replace_file(new: Path, target: Path) -> None:
    """Move a freshly written replica over `target`, dropping the old write-ahead log with it."""
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(new, target)


def reset_demo_replica(ctx: AppContext) -> None:
    target = ctx.replica_path
    fresh = target.with_name(target.name + ".new")
    fresh.unlink(missing_ok=True)

    def work() -> Path:
        generate(fresh)
        return fresh

    def done(path: Path) -> None:
        ctx.tasks.wait()  # no reader may hold the old file while it is replaced
        ctx.engine.dispose()
        replace_file(path, target)
        ctx.replace_replica(open_replica(target), target)

    def failed(exc: BaseException) -> None:
        fresh.unlink(missing_ok=True)
        ctx.status_message.emit(f"Could not generate demo data: {exc}")

    ctx.tasks.run(work, done, failed)
