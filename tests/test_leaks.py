"""The leak check itself sees what a test leaves running: a timer, an asyncio task, a used httpx client."""

import asyncio

import httpx
from PySide6.QtCore import QTimer

from tests import leaks


def test_the_leak_check_names_a_running_timer_a_pending_task_and_an_open_client(qapp):
    previous = leaks._gui_loop()  # (the session's GUI loop, if a UI test made it: put back after)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        before = leaks.begin()
        timer = QTimer()
        timer.start(1000)
        task = loop.create_task(asyncio.sleep(30))

        def answer(request):
            return httpx.Response(200, text="ok")

        client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
        loop.run_until_complete(client.get("http://example.invalid/"))
        found = leaks.leftovers(before)
        assert any("timer still running" in p for p in found)
        assert any("asyncio task still pending" in p for p in found)
        assert any("httpx.AsyncClient used and never closed" in p for p in found)
        timer.stop()
        task.cancel()
        loop.run_until_complete(asyncio.sleep(0))
        loop.run_until_complete(client.aclose())
        assert leaks.leftovers(before) == []
    finally:
        asyncio.set_event_loop(previous)
        loop.close()
