"""The console's subscription client (console/client/subscriptions.py) against the stand-in: updates as they
commit, acting as the operator, reconnect after a killed socket without losing the latest value, the
polling fallback when the protocol is refused, and the call log."""

import asyncio
import time

import pytest

from console.client.calllog import CallLog
from console.client.client import ConvexClient
from console.client.http import Deployment
from console.client.subscriptions import Backoff, Subscriptions, sync_url
from tests.standin_helpers import KEY, standin


@pytest.fixture(scope="module")
def s():
    server = standin()
    yield server
    server.stop()


def _send(s, chat, body):
    with s.store.transaction() as tx:
        tx.insert("messages", {"chatId": chat, "body": body, "role": "user", "createdAt": time.time() * 1000})
    return tx.ts


async def _until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)


def test_updates_arrive_as_they_commit_and_survive_a_killed_socket(s):
    chat = s.store.scan("chats", limit=1)[0]["_id"]
    operator = s.store.scan("users", where="json_extract(doc,'$.role') = 'admin'", limit=1)[0]["_id"]
    log = CallLog(None)
    seen = []

    async def main():
        subs = Subscriptions(Deployment(s.url, KEY), call_log=log,
                             identity={"subject": operator, "issuer": "ops-console"},
                             backoff=Backoff(base=0.05, cap=0.2))
        subs.subscribe("messages:list", {"chatId": chat, "limit": 5},
                       lambda v, e: seen.append(v["page"][-1]["body"] if v else e))
        me = subs.subscribe("console:whoami", {})
        subs.start()
        await _until(lambda: seen and me.value is not None)
        assert me.value["userId"] == operator  # the admin key acting as the operator
        _send(s, chat, "live one")
        await _until(lambda: seen[-1] == "live one", 1.0)
        # Kill the socket from the server side; commit while the console is away.
        connections = subs.connections
        assert s.server.sync.drop_all() >= 1
        _send(s, chat, "while away")
        await _until(lambda: seen[-1] == "while away", 5.0)
        assert subs.connections == connections + 1
        subs.drop_connection()  # and from the client side
        _send(s, chat, "after the client dropped")
        await _until(lambda: seen[-1] == "after the client dropped", 5.0)
        await subs.aclose()
        return subs

    subs = asyncio.run(main())
    assert subs.mode == "stopped"
    kinds = {(r.kind, r.function, r.outcome) for r in log._buffer}
    assert ("subscription", "messages:list", "subscribed") in kinds
    assert ("subscription", "messages:list", "success") in kinds
    assert ("subscription", "sync/connect", "success") in kinds


def test_a_refused_protocol_falls_back_to_polling(s):
    """A deployment without the sync route (404 on the upgrade): the same subscription, read over HTTP."""
    chat = s.store.scan("chats", limit=1)[0]["_id"]
    seen = []

    async def main():
        client = ConvexClient(Deployment(s.url, KEY))
        modes = []
        subs = Subscriptions(Deployment(s.url + "/no-sync-here", KEY), poll=lambda p, a: client.query(p, a, cache=False),
                             poll_interval=0.1, on_mode=modes.append)
        subs.subscribe("messages:list", {"chatId": chat, "limit": 1},
                       lambda v, e: seen.append(v["page"][-1]["body"] if v else repr(e)))
        subs.start()
        await _until(lambda: subs.mode == "polling" and seen)
        _send(s, chat, "seen by polling")
        await _until(lambda: seen[-1] == "seen by polling", 2.0)
        await subs.aclose()
        await client.aclose()
        return modes

    modes = asyncio.run(main())
    assert "polling" in modes


def test_sync_url():
    assert sync_url("https://happy-otter-123.convex.cloud").startswith("wss://happy-otter-123.convex.cloud/api/")
    assert sync_url("http://127.0.0.1:8187/").endswith("/sync")
