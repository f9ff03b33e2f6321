"""Realtime: the delay from a commit on the stand-in to the console having it, over a subscription (the
sync protocol) and over the 2 s polling of document_deltas; and what each costs an idle console.

Subscription: console/client/subscriptions.py subscribed to messages:list; "has it" = its callback ran with
the new message. Polling: the console's SyncEngine + SyncLoop (interval 2 s, and the shipped idle backoff to
10 s for the idle cost); "has it" = the replica applied the delta (on_changes). 50 changes each, at random
spacing so the commit falls anywhere in the poll period.
"""

import asyncio
import random
import statistics
import time

from console.client.http import ConvexHttp, Deployment
from console.client.subscriptions import Subscriptions
from console.store.db import open_replica
from console.sync.engine import SyncEngine
from console.sync.loop import SyncLoop
from tests.standin_helpers import KEY, standin

CHANGES = 50
IDLE_S = 30.0


def _p95(values):
    return statistics.quantiles(values, n=20)[18]


def _commit(s, chat, n):
    with s.store.transaction() as tx:
        doc_id = tx.insert("messages", {"chatId": chat, "role": "user", "body": f"bench {n}",
                                        "createdAt": time.time() * 1000})
    return doc_id, time.perf_counter()


def _figures(name, delays):
    ms = [d * 1000 for d in delays]
    print(f"[bench] {name}: commit -> console, {len(ms)} changes: median {statistics.median(ms):.1f} ms, "
          f"p95 {_p95(ms):.1f} ms, max {max(ms):.1f} ms")
    return statistics.median(ms), _p95(ms)


def test_subscription_vs_polling_delay_and_idle_cost(tmp_path):
    s = standin()
    rng = random.Random(18)
    chat = s.store.scan("chats", limit=1)[0]["_id"]
    results = {}

    async def subscription():
        arrived = {}
        subs = Subscriptions(Deployment(s.url, KEY))
        subs.subscribe("messages:list", {"chatId": chat, "limit": 1.0},
                       lambda v, e: v and arrived.setdefault(v["page"][-1]["_id"], time.perf_counter()))
        subs.start()
        while subs.transitions == 0:
            await asyncio.sleep(0.01)
        delays = []
        for n in range(CHANGES):
            doc_id, committed = _commit(s, chat, n)
            while doc_id not in arrived:
                await asyncio.sleep(0.001)
            delays.append(arrived[doc_id] - committed)
            await asyncio.sleep(rng.uniform(0.05, 0.3))
        results["subscription"] = _figures("subscription (sync protocol)", delays)
        requests, messages = s.state.requests, subs.messages_in
        await asyncio.sleep(IDLE_S)
        results["subscription_idle"] = ((s.state.requests - requests) * 60 / IDLE_S,
                                        (subs.messages_in - messages) * 60 / IDLE_S)
        await subs.aclose()

    async def polling(idle_max):
        engine = open_replica(tmp_path / f"replica-{idle_max}.sqlite")
        http = ConvexHttp(Deployment(s.url, KEY))
        seen = {}

        def changes(c):
            now = time.perf_counter()
            for ids in c.tables.values():
                for doc_id in ids:
                    seen.setdefault(doc_id, now)

        sync = SyncEngine(engine, http, on_changes=changes)
        loop = SyncLoop(sync, interval=2.0, idle_max=idle_max)
        cancel = asyncio.Event()
        task = asyncio.ensure_future(loop.run(cancel))
        while not sync.status()["live"]:
            await asyncio.sleep(0.05)
        delays = []
        if idle_max == 2.0:
            for n in range(CHANGES):
                doc_id, committed = _commit(s, chat, 1000 + n)
                while doc_id not in seen:
                    await asyncio.sleep(0.002)
                delays.append(seen[doc_id] - committed)
                await asyncio.sleep(rng.uniform(0.0, 2.0))
            results["polling"] = _figures("polling document_deltas every 2 s", delays)
        await asyncio.sleep(12)  # let the idle backoff settle
        requests = s.state.requests
        await asyncio.sleep(IDLE_S)
        results[f"polling_idle_{idle_max:g}"] = (s.state.requests - requests) * 60 / IDLE_S
        cancel.set()
        await task
        await http.aclose()
        engine.dispose()

    try:
        asyncio.run(subscription())
        asyncio.run(polling(2.0))
        asyncio.run(polling(10.0))
    finally:
        s.stop()
    http_rpm, msgs_rpm = results["subscription_idle"]
    print(f"[bench] idle console, per minute: subscription {http_rpm:.1f} HTTP requests and {msgs_rpm:.1f} sync "
          f"messages (Pings) on one open socket; polling every 2 s {results['polling_idle_2']:.1f} requests; "
          f"polling as shipped (2 s, idle backoff to 10 s) {results['polling_idle_10']:.1f} requests")
    sub_median, sub_p95 = results["subscription"]
    poll_median, _ = results["polling"]
    assert sub_p95 < 1000, "a subscription must see a commit within a second"
    assert sub_median < poll_median
    assert http_rpm == 0
