"""Replacing the demo replica with fresh data while the window stays open."""

from __future__ import annotations

from pathlib import Path

from console.demo.generator import generate
from console.store.db import open_replica, replace_file
from console.ui.context import AppContext

__all__ = ["replace_file", "reset_demo_replica"]


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
