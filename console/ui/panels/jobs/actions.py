"""Job actions, in demo mode on the local store, live through the console contract acting as the operator.

Each call returns at once; the work runs off the GUI thread (demo) or on the event loop (live), and
`done(message)` / `failed(message)` come back on the GUI thread.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from console.client import errors as E
from console.domain import roles as R
from console.store.jobs import STUCK, JobQuery
from console.store.jobstore import LocalJobStore, Refused
from console.ui.context import AppContext

Done = Callable[[str], None]


def contract_filter(q: JobQuery) -> dict[str, Any]:
    """The console contract's filter for a panel query (stuck jobs are running ones to the deployment)."""
    out: dict[str, Any] = {}
    if q.status:
        out["status"] = "running" if q.status == STUCK else q.status
    for field, name in (("type", "type"), ("key", "key"), ("id", "id"), ("created_from", "createdFrom"),
                        ("created_to", "createdTo")):
        value = getattr(q, field)
        if value not in (None, ""):
            out[name] = float(value) if name.startswith("created") else value  # v.number(): Float64
    if q.text.strip():
        out["text"] = q.text.strip()
    return out


class Progress(QObject):
    """Progress of a bulk retry, emitted on the GUI thread (the worker posts it there)."""

    changed = Signal(int, int)  # done, total


class JobActions:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._tasks: set[asyncio.Future] = set()

    @property
    def live(self) -> bool:
        return self.ctx.live is not None

    def operator_id(self) -> str | None:
        return self.ctx.operator_id()

    def refusal(self, actor: dict | None, permission: str, what: str) -> str | None:
        """Why the operator may not do this (None: allowed). The deployment or local store checks again."""
        if self.live and self.ctx.live.identity() is None:
            return "No operator identity: choose who is operating in Settings."
        return R.check_permission(actor, permission, what)

    # -- plumbing --------------------------------------------------------------------------------------
    def _local(self, work: Callable[[LocalJobStore], str], done: Done, failed: Done) -> None:
        engine = self.ctx.engine

        def run() -> str:
            return work(LocalJobStore(engine))

        def error(exc: BaseException) -> None:
            failed(str(exc) if isinstance(exc, Refused) else f"{type(exc).__name__}: {exc}")

        self.ctx.tasks.run(run, done, error)

    def _remote(self, coro_factory: Callable[[], Any], done: Done, failed: Done) -> None:
        async def run() -> None:
            try:
                message = await coro_factory()
            except E.FunctionError as exc:
                data = exc.error_data if isinstance(exc.error_data, dict) else {}
                failed(str(data.get("message") or exc))
            except E.ConvexRequestError as exc:
                failed(str(exc))
            else:
                done(message)

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- actions -----------------------------------------------------------------------------------------
    def retry(self, job_ids: list[str], reason: str, done: Done, failed: Done) -> None:
        self._each("retry", "console:retryJob", job_ids, reason, done, failed)

    def cancel(self, job_ids: list[str], reason: str, done: Done, failed: Done) -> None:
        self._each("cancel", "console:cancelJob", job_ids, reason, done, failed)

    def _each(self, verb: str, function: str, job_ids: list[str], reason: str, done: Done, failed: Done) -> None:
        actor = self.operator_id()
        if not reason.strip():  # every audit entry has a reason
            failed(R.check_reason(reason) or "")
            return
        if not self.live:
            def work(store: LocalJobStore) -> str:
                refused = []
                for job_id in job_ids:
                    try:
                        getattr(store, verb)(job_id, actor, reason)
                    except Refused as exc:
                        if len(job_ids) == 1:
                            raise
                        refused.append(str(exc))
                ok = len(job_ids) - len(refused)
                return f"{verb.capitalize()}: {ok} of {len(job_ids)} jobs" + (
                    f"; refused: {refused[0]}" if refused else "")

            self._local(work, done, failed)
            return
        client, identity = self.ctx.live.client, self.ctx.live.identity()

        async def remote() -> str:
            for job_id in job_ids:
                await client.mutation(function, {"jobId": job_id, "reason": reason}, identity=identity)
            return f"{verb.capitalize()}: {len(job_ids)} jobs (the deployment's answer arrives with the next sync)"

        self._remote(remote, done, failed)

    def retry_matching(self, query: JobQuery, cap: int, reason: str, progress: Progress, cancel: threading.Event,
                       done: Done, failed: Done) -> None:
        actor = self.operator_id()
        if not self.live:
            def work(store: LocalJobStore) -> str:
                tasks = self.ctx.tasks

                def report(done: int, total: int) -> None:  # from the worker: posted to the GUI thread
                    tasks.post(lambda: progress.changed.emit(done, total))

                r = store.retry_many(query, cap, actor, reason, progress=report, canceled=cancel.is_set)
                skipped = ", ".join(f"{n} {s}" for s, n in r["skipped"].items())
                return (f"Retried {r['retried']} of {r['selected']} matching jobs"
                        + (f" (skipped {skipped})" if skipped else "") + (" — stopped early" if r["stopped"] else ""))

            self._local(work, done, failed)
            return
        client, identity = self.ctx.live.client, self.ctx.live.identity()

        async def remote() -> str:
            r = await client.mutation("console:retryJobs", {"filter": contract_filter(query), "limit": float(cap),
                                                            "reason": reason}, identity=identity)
            return f"The deployment retried {int(r.get('retried', 0))} of {int(r.get('matched', 0))} matching jobs"

        self._remote(remote, done, failed)
