"""The demo's incident cycle makes every alert rule fire: stuck jobs from the start, a worker outage (worker
down, oldest waiting), a bad deploy (a type's failure rate, dead jobs, signature failures from deliveries
signed with an old token). The phases are entered by moving the cycle's start back, not by waiting."""

import time

from sqlalchemy import text

from console.alerts import evaluate
from console.demo import incidents
from console.ui.demo_worker import DemoWorker
from tests.ui.conftest import wait_idle


def fired(ctx, now_ms=None):
    with ctx.engine.connect() as conn:
        return {r.rule for r in evaluate(conn, now_ms) if r.firing}


def test_the_cycle_fires_every_rule(qtbot, ctx, monkeypatch):
    assert incidents.phase(60) == "normal" and incidents.phase(200) == "outage" and incidents.phase(400) == "failing"
    assert incidents.phase(incidents.CYCLE_S + 200) == "outage"
    worker = DemoWorker(ctx)
    worker.start()
    worker.timer.stop()  # ticks by hand
    seen = set(fired(ctx))
    assert "stuck" in seen  # the generated data has stuck jobs
    for _ in range(5):  # normal: the worker drains what is due
        worker.tick()
        wait_idle(qtbot, ctx)

    worker.started = time.monotonic() - 200  # the outage: jobs arrive, nothing is claimed
    assert worker.phase == "outage"
    with ctx.engine.connect() as conn:
        claimed_before = conn.execute(text("SELECT count(*) FROM jobs WHERE status = 'running'")).scalar()
    for _ in range(8):
        worker.tick()
        wait_idle(qtbot, ctx)
    with ctx.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM jobs WHERE status = 'running'")).scalar() == claimed_before
    later = int(time.time() * 1000) + 150_000  # two and a half minutes into the outage
    seen |= fired(ctx, later)
    assert {"worker_down", "oldest_waiting"} <= seen

    worker.started = time.monotonic() - 400  # the bad deploy
    assert worker.phase == "failing"
    monkeypatch.setattr(incidents, "DELIVERY_EVERY_S", 0)  # a delivery every tick instead of every 15 s
    deadline = time.monotonic() + 25
    while time.monotonic() < deadline and not {"type_failure_15m", "dead_15m", "signature_failures_1h"} <= seen:
        worker.tick()
        wait_idle(qtbot, ctx)
        qtbot.wait(300)  # retries come due after their backoff
        seen |= fired(ctx)
    worker.stop()
    assert {"type_failure_15m", "dead_15m", "signature_failures_1h"} <= seen, seen
    assert seen == {"stuck", "worker_down", "oldest_waiting", "type_failure_15m", "dead_15m", "signature_failures_1h"}
