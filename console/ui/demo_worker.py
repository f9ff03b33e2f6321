"""The offline demo's queue is alive: a local worker runs due jobs (with realistic failures) and new
jobs arrive, as they would from the product. Runs on the runner's writer thread; announces the change
set the local job store collected (the jobs written), so panels redraw only what shows them."""

from __future__ import annotations

import random
import time

from PySide6.QtCore import QObject, QTimer
from sqlalchemy import text

from console.changes import ChangeSet
from console.demo import incidents
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
        self.started: float | None = None  # the incidents' cycle counts from here (console.demo.incidents)
        self.incidents = True
        self._last_delivery = 0.0

    def start(self) -> None:
        if not self.timer.isActive():
            self.started = time.monotonic()
        self.timer.start()

    @property
    def phase(self) -> str:
        if not self.incidents or self.started is None:
            return "normal"
        return incidents.phase(time.monotonic() - self.started)

    def stop(self) -> None:
        self.timer.stop()

    def tick(self) -> None:
        if self._busy or not self.ctx.is_demo:
            return
        self._busy = True
        engine, rng, failure_rate = self.ctx.engine, self.rng, self.failure_rate
        customers = self._customers
        phase = self.phase
        if phase == "failing":
            failure_rate = incidents.FAILING_RATE
        deliver = phase == "failing" and time.monotonic() - self._last_delivery >= incidents.DELIVERY_EVERY_S
        if deliver:
            self._last_delivery = time.monotonic()
        secrets = self.ctx.secrets

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
            # notice and retry them (that is what the Stuck count is for). During an outage nothing is claimed.
            if phase != "outage":
                store.work_once("demo-worker", failure_rate, limit=10, errors=JOB_ERRORS, reclaim_stuck=False)
            changes = store.changes
            if deliver:  # signed with the old auth token: verified at once, so the alert sees it
                from console.webhooks.ingest import store_changes
                from console.webhooks.reverify import reverify_changes
                from console.webhooks.secrets import WebhookSecrets

                doc = incidents.twilio_delivery(rng, int(time.time() * 1000), "+14155550123", old_token=True)
                changes.merge(store_changes(engine, [doc]))
                changes.merge(reverify_changes(engine, WebhookSecrets(secrets, demo=True), only=[doc["_id"]]))
            return changes

        def done(changed: ChangeSet) -> None:
            self._busy = False
            self.ctx.announce(changed)

        def failed(exc: BaseException) -> None:
            self._busy = False
            self.ctx.status_message.emit(f"Demo worker: {exc}")

        self.ctx.tasks.write(work, done, failed)
