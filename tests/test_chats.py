import pytest
"""The chat prefetch cache and loader, and chat queries (no Qt)."""

from concurrent.futures import Future

from sqlalchemy import text

from console.chats.cache import PrefetchCache
from console.chats.loader import ChatLoader, SimulatedOnDemand
from console.store.chats import MessagePage, all_messages, export_json, export_markdown, latest, list_chats, search_messages


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def page(n=3):
    from console.store.chats import Message

    return MessagePage([Message(f"m{i}", "c", "user", "hello", i, None) for i in range(n)], False)


def test_ttl():
    clock = Clock()
    cache = PrefetchCache(ttl=30, clock=clock)
    cache.put("c1", page(), 100, prefetched=True)
    clock.t = 29
    assert cache.get("c1") is not None
    clock.t = 31
    assert cache.get("c1") is None
    s = cache.stats
    assert (s.hits, s.misses, s.prefetches, s.expired) == (1, 1, 1, 1)
    assert cache.bytes == 0


def test_lru_bounds_by_entries_and_bytes():
    cache = PrefetchCache(max_entries=3, max_bytes=1000)
    for i in range(3):
        cache.put(f"c{i}", page(), 100)
    cache.get("c0")  # now the most recently used
    cache.put("c3", page(), 100)
    assert "c1" not in cache and "c0" in cache and len(cache) == 3
    cache.put("big", page(), 800)  # over the byte budget: the least recently used go
    assert cache.bytes <= 1000 and "big" in cache
    assert cache.stats.evictions >= 2
    cache.put("huge", page(), 5000)  # larger than everything: not cached at all
    assert "huge" not in cache


def test_invalidation():
    cache = PrefetchCache()
    cache.put("c1", page(), 10)
    assert cache.invalidate("c1") and not cache.invalidate("c1")
    assert cache.get("c1") is None and cache.stats.invalidations == 1


def chat_ids(engine, n):
    with engine.connect() as c:
        return [r.id for r in list_chats(c, limit=n).rows]


def test_prefetch_then_open_makes_no_second_call(engine):
    source = SimulatedOnDemand(engine, latency=0.02)
    loader = ChatLoader(source)
    try:
        chat = chat_ids(engine, 1)[0]
        loader.prefetch(chat).result(5)
        opened = loader.open(chat)
        assert isinstance(opened, MessagePage) and opened.messages
        assert source.calls == 1 and loader.cache.stats.hits == 1
        # opening while the prefetch is still on its way joins it
        other = chat_ids(engine, 2)[1]
        loader.prefetch(other)
        joined = loader.open(other)
        assert isinstance(joined, Future) and joined.result(5).messages
        assert source.calls == 2
        # with prefetch off, hovering does nothing and opening reads the source
        loader.prefetch_enabled = False
        third = chat_ids(engine, 3)[2]
        assert loader.prefetch(third) is None
        opened_third = loader.open(third)
        assert isinstance(opened_third, Future)
        opened_third.result(5)
    finally:
        loader.close(wait=True)  # the leftover-thread check caught the pool's idle thread still winding down


def test_an_on_demand_source_runs_on_the_event_loop_never_on_a_worker_thread():
    """The deployment is reached through the client on the loop: no worker thread blocks on the loop
    (run_coroutine_threadsafe from a worker is the deadlock pattern f711f49 fixed elsewhere)."""
    import asyncio
    import threading

    from console.chats.loader import OnDemandSource

    threads = []

    class Client:
        async def query(self, path, args):
            threads.append(threading.get_ident())
            await asyncio.sleep(0.01)
            assert path == "console:listMessages" and isinstance(args["limit"], float)
            return {"page": [{"_id": "m1", "chatId": args["chatId"], "role": "user", "body": "hi", "createdAt": 5}],
                    "isDone": "before" in args}

    async def scenario():
        loader = ChatLoader(OnDemandSource(Client()), submit=lambda *a: pytest.fail("no worker thread"))
        opened = loader.open("c1")
        assert isinstance(opened, asyncio.Future)
        page = await opened
        assert page.messages[0].body == "hi" and page.has_older
        assert loader.open("c1") is not None and loader.cache.stats.hits == 1  # cached after landing
        older = await loader.older("c1", 5)
        assert not older.has_older
        loader.close()

    asyncio.run(scenario())
    assert threads and set(threads) == {threading.get_ident()}


def test_closing_a_loader_never_waits_for_a_read_in_flight(engine):
    import threading
    import time

    release = threading.Event()

    def slow(chat_id, limit=50, before=None):
        release.wait(5)
        return MessagePage([], False)

    loader = ChatLoader(slow)
    pending = loader.open("c1")
    started = time.perf_counter()
    loader.close()
    assert time.perf_counter() - started < 0.5
    release.set()
    assert pending.cancelled() or pending.result(5) is not None


def test_pages_and_older_messages(engine):
    with engine.connect() as c:
        chat = c.execute(text("SELECT chat_id FROM messages GROUP BY 1 HAVING count(*) > 12 LIMIT 1")).scalar()
        first = latest(c, chat, limit=5)
        older = latest(c, chat, limit=5, before=first.messages[0].created_at)
        every = all_messages(c, chat)
    assert first.has_older and [m.created_at for m in first.messages] == sorted(m.created_at for m in first.messages)
    assert [m.id for m in older.messages + first.messages] == [m.id for m in every[-10:]]


def test_search_across_messages_with_snippets(engine):
    with engine.connect() as c:
        hits = search_messages(c, "boundary")
        chat = hits[0].chat_id
        inside = search_messages(c, "boundary", chat_id=chat)
    assert hits and all("[[" in h.snippet for h in hits)
    assert inside and all(h.chat_id == chat for h in inside)


def test_exports(engine):
    with engine.connect() as c:
        chat = chat_ids(engine, 1)[0]
        from console.store.chats import chat_header

        header = chat_header(c, chat)
        msgs = all_messages(c, chat)
    md = export_markdown(header, msgs, lambda ms: str(ms))
    assert md.startswith("# ") and msgs[0].body in md and "**User**" in md
    import json

    data = json.loads(export_json(header, msgs))
    assert [m["id"] for m in data["messages"]] == [m.id for m in msgs]
