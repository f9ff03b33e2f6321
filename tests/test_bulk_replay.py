"""Bulk replay (Qt-free): pacing by a rate, Stop between two sends, what is skipped and why, counts."""

import asyncio

from console.webhooks.bulk import replay_all
from console.webhooks.replay import Prepared, ReplayError, Result


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def run(ids, *, rate=10, stop_after=None, fail=(), gone=(), unpreparable=()):
    clock = Clock()
    sent, recorded = [], []
    stop = asyncio.Event()

    async def load(i):
        return None if i in gone else {"id": i}

    def prepare(d):
        if d["id"] in unpreparable:
            raise ReplayError("no twilio secret to re-sign with")
        return Prepared("http://127.0.0.1:1/x", {}, d["id"].encode(), [])

    async def send(p):
        sent.append((clock.t, p.body.decode()))
        clock.t += 0.01  # a fast receiver
        if stop_after is not None and len(sent) == stop_after:
            stop.set()
        return Result(500 if p.body.decode() in fail else 200, 10.0, "")

    async def record(d, p, r):
        recorded.append((d["id"], r.status))

    real_wait_for = asyncio.wait_for

    async def wait_for(aw, timeout):  # the clock moves instead of the test waiting
        if stop.is_set():
            return await real_wait_for(aw, 1)
        clock.t += timeout
        aw.close()
        raise asyncio.TimeoutError

    async def go():
        asyncio.wait_for = wait_for
        try:
            return await replay_all(ids, load=load, prepare=prepare, send=send, record=record, rate_per_s=rate,
                                    stop=stop, clock=clock)
        finally:
            asyncio.wait_for = real_wait_for

    return asyncio.run(go()), sent, recorded


def test_every_one_is_sent_recorded_and_paced_by_the_rate():
    progress, sent, recorded = run([f"d{i}" for i in range(20)], rate=10, fail={"d3"})
    assert progress.done == 20 and progress.ok == 19 and progress.failed == 1 and not progress.stopped
    assert [b for _t, b in sent] == [f"d{i}" for i in range(20)] and len(recorded) == 20
    gaps = [b - a for (a, _), (b, _) in zip(sent, sent[1:])]
    assert min(gaps) >= 0.1 - 1e-9  # ten per second at most


def test_stop_ends_the_run_between_two_sends():
    progress, sent, recorded = run([f"d{i}" for i in range(50)], stop_after=7)
    assert progress.stopped and len(sent) == 7 and progress.done == 7 and progress.remaining == 43


def test_what_cannot_be_sent_is_skipped_with_the_reason_and_nothing_is_recorded_for_it():
    progress, sent, recorded = run(["a", "b", "c"], gone={"a"}, unpreparable={"b"})
    assert progress.skipped == 2 and progress.ok == 1 and [r[0] for r in recorded] == ["c"]
    assert len(sent) == 1
