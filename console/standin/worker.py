"""The stand-in's job worker: claims due jobs, runs them, completes or fails them with backoff, so the
queue looks alive. Failure rate is configurable; errors are realistic ones from the demo's vocabulary."""

from __future__ import annotations

import random
import threading
import time

from console.demo.words import JOB_ERRORS
from console.domain import jobs as J
from console.standin.store import DocStore


class Worker(threading.Thread):
    def __init__(self, store: DocStore, *, failure_rate: float = 0.1, interval: float = 0.25, batch: int = 20,
                 name: str = "standin-worker", seed: int = 3) -> None:
        super().__init__(name=name, daemon=True)
        self.store = store
        self.failure_rate = failure_rate
        self.interval = interval
        self.batch = batch
        self.rng = random.Random(seed)
        self._stop_event = threading.Event()
        self.completed = self.failed = 0

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            self.tick()

    def tick(self) -> int:
        now = int(time.time() * 1000)
        due = self.store.scan(
            "jobs",
            where="(json_extract(doc, '$.status') IN ('pending', 'retrying') AND "
                  "coalesce(json_extract(doc, '$.nextRunAt'), 0) <= ?) OR (json_extract(doc, '$.status') = 'running' "
                  "AND json_extract(doc, '$.claimedAt') + coalesce(json_extract(doc, '$.leaseMs'), 60000) < ?)",
            params=(now, now), limit=self.batch)
        for job in due:
            with self.store.transaction() as tx:
                current = tx.get("jobs", job["_id"])
                if current is not None and J.is_stuck(current, now):
                    tx.replace("jobs", J.expire_lease(current, now, rng=self.rng))  # back to the queue
                    continue
                if current is None or not J.claimable(current, now):
                    continue  # somebody else claimed or changed it meanwhile
                claimed = J.claim(current, self.name, now)
                tx.replace("jobs", claimed)
            with self.store.transaction() as tx:
                current = tx.get("jobs", job["_id"])
                if current is None or current.get("status") != J.RUNNING or current.get("claimedBy") != self.name:
                    continue  # canceled or retried while it ran
                done = int(time.time() * 1000)
                if self.rng.random() < self.failure_rate:
                    errors = JOB_ERRORS.get(current.get("type") or "", ["Error: simulated failure"])
                    tx.replace("jobs", J.fail(current, self.rng.choice(errors), done, rng=self.rng))
                    self.failed += 1
                else:
                    tx.replace("jobs", J.complete(current, done))
                    self.completed += 1
        return len(due)
