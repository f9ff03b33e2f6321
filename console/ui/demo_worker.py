"""The offline demo's queue is alive: a local worker runs due jobs (with realistic failures) and new
jobs arrive, as they would from the product. Runs on the runner's writer thread; announces the change
set the local job store collected (the jobs written), so panels redraw only what shows them."""

from __future__ import annotations

import random
import time

from PySide6.QtCore import QObject, QTimer
from sqlalchemy import text

from console.changes import ChangeSet
from console.demo.words import JOB_ERRORS, JOB_TYPES
from console.store.jobstore import LocalJobStore
from console.ui.context import AppContext


class DemoWorker(QObject):
    def __init__(self, ctx: AppContext, interval_ms: int = 1500, failure_rate: float = 0.15) -> None:
        super().__init__()
        self.ctx = ctx
        self.failure_rate = failure_rate
        self.rng = random.Random()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.tick)
        self._busy = False
        self._customers: list[str] = []

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def tick(self) -> None:
        if self._busy or not self.ctx.is_demo:
            return
        self._busy = True
        engine, rng, failure_rate = self.ctx.engine, self.rng, self.failure_rate
        customers = self._customers

        def work() -> ChangeSet:
            store = LocalJobStore(engine, rng=rng)
            if not customers:
                with engine.connect() as conn:
                    customers.extend(conn.execute(text(
                        "SELECT id FROM users WHERE role = 'user' AND is_active LIMIT 500")).scalars())
            for _ in range(rng.choice((0, 1, 1, 2, 3))):  # new work arrives
                jtype = rng.choices([t for t in JOB_TYPES if not t.startswith("webhook.")])[0]
                user = rng.choice(customers) if customers else None
                store.enqueue(f"{jtype}:{time.time_ns():x}", jtype, {"userId": user}, user_id=user)
            # The demo's stuck jobs stay stuck, as with a workpool whose workers died: an operator has to
            # notice and retry them (that is what the Stuck count is for).
            store.work_once("demo-worker", failure_rate, limit=10, errors=JOB_ERRORS, reclaim_stuck=False)
            return store.changes

        def done(changed: ChangeSet) -> None:
            self._busy = False
            self.ctx.announce(changed)

        def failed(exc: BaseException) -> None:
            self._busy = False
            self.ctx.status_message.emit(f"Demo worker: {exc}")

        self.ctx.tasks.write(work, done, failed)
