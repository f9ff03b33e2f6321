"""Job actions, through the context's backend (the demo's local store or the deployment as the operator).

Each call returns at once; the work runs on the runner, and `done(message)` / `failed(message)` come
back on the GUI thread. What a local action changed is announced, so panels redraw what it touched.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Awaitable, Callable

from PySide6.QtCore import QObject, Signal

from console.backend.base import Backend, Outcome, Refused
from console.backend.deployment import contract_filter
from console.domain import roles as R
from console.store.jobs import JobQuery
from console.ui.context import AppContext
from console.ui.failures import failure

log = logging.getLogger(__name__)
Done = Callable[[str], None]
__all__ = ["JobActions", "Progress", "contract_filter"]




class Progress(QObject):
    """Progress of a bulk retry, emitted on the GUI thread (the worker posts it there)."""

    changed = Signal(int, int)  # done, total


class JobActions:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    @property
    def live(self) -> bool:
        return self.ctx.live is not None

    def operator_id(self) -> str | None:
        return self.ctx.operator_id()

    def refusal(self, actor: dict | None, permission: str, what: str) -> str | None:
        """Why the operator may not do this (None: allowed). The deployment or local store checks again."""
        return self.ctx.backend.refusal() or R.check_permission(actor, permission, what)

    # -- plumbing --------------------------------------------------------------------------------------
    def _call(self, action: Callable[[Backend], Awaitable[Outcome]], done: Done, failed: Done) -> None:
        backend = self.ctx.backend

        async def run() -> None:
            try:
                outcome = await action(backend)
            except Refused as exc:
                failed(failure(str(exc), exc))  # keeps the deployment's request id, for "Show in Logs"
            except Exception as exc:  # noqa: BLE001  (a failure is said in the panel, not lost)
                log.warning("job action failed", exc_info=True)
                failed(failure(f"{type(exc).__name__}: {exc}", exc))
            else:
                self.ctx.announce(outcome.changes)
                done(outcome.message)

        self.ctx.tasks.spawn(run())

    # -- actions -----------------------------------------------------------------------------------------
    def retry(self, job_ids: list[str], reason: str, done: Done, failed: Done) -> None:
        if not reason.strip():  # every audit entry has a reason
            failed(R.check_reason(reason) or "")
            return
        self._call(lambda b: b.retry(job_ids, reason), done, failed)

    def cancel(self, job_ids: list[str], reason: str, done: Done, failed: Done) -> None:
        if not reason.strip():
            failed(R.check_reason(reason) or "")
            return
        self._call(lambda b: b.cancel(job_ids, reason), done, failed)

    def retry_matching(self, query: JobQuery, cap: int, reason: str, progress: Progress, cancel: threading.Event,
                       done: Done, failed: Done) -> None:
        self.bulk_matching("retry", query, cap, reason, progress, cancel, done, failed)

    def bulk_matching(self, verb: str, query: JobQuery, cap: int, reason: str, progress: Progress,
                      cancel: threading.Event, done: Done, failed: Done) -> None:
        """Retry, cancel or purge (delete finished) up to `cap` jobs matching `query`: in the demo in chunks with
        progress and Stop, live in one contract call; one audit entry either way."""
        tasks = self.ctx.tasks

        def report(n: int, total: int) -> None:  # from the worker: posted to the GUI thread
            tasks.post(lambda: progress.changed.emit(n, total))

        self._call(lambda b: b.bulk_matching(verb, query, cap, reason, report, cancel.is_set), done, failed)
