"""Leak checks, as napari has them: every QTimer and QThread a test starts, every QThreadPool task, every
asyncio task on the GUI loop and every httpx client it creates is stopped (closed) by the test's end.
A timer left running fires into a closed window; a client never closed keeps its sockets (the replay
client that was never closed went unnoticed while only visible widgets' timers were checked).

Whatever existed before the test (the session's loop, the app-wide collector timer) is not its to stop,
nor are the threads of the session loop's default executor (qasync starts them for getaddrinfo).
"""

from __future__ import annotations

import asyncio
import weakref

import httpx
import pytest
from PySide6.QtCore import QThread, QThreadPool, QTimer

_timers: list[weakref.ref] = []
_threads: list[weakref.ref] = []
_clients: list[tuple[weakref.ref, str]] = []


def _install() -> None:
    if getattr(QTimer, "_leak_tracked", False):
        return
    timer_start, thread_start, client_init = QTimer.start, QThread.start, httpx.AsyncClient.__init__

    def start_timer(self, *args):
        _timers.append(weakref.ref(self))
        return timer_start(self, *args)

    def start_thread(self, *args):
        _threads.append(weakref.ref(self))
        return thread_start(self, *args)

    def init_client(self, *args, **kwargs):
        import traceback

        client_init(self, *args, **kwargs)
        where = "".join(traceback.format_stack(limit=6)[:-1])
        _clients.append((weakref.ref(self), where))

    QTimer.start, QThread.start, httpx.AsyncClient.__init__ = start_timer, start_thread, init_client
    QTimer._leak_tracked = True


def _alive(ref: weakref.ref, test) -> bool:
    obj = ref()
    if obj is None:
        return False
    try:
        return bool(test(obj))
    except RuntimeError:  # its C++ object was deleted with its parent: stopped
        return False


def _gui_loop() -> asyncio.AbstractEventLoop | None:
    policy = asyncio.get_event_loop_policy()
    local = getattr(policy, "_local", None)
    loop = getattr(local, "_loop", None)
    return loop if loop is not None and not loop.is_closed() else None


def _describe_timer(t: QTimer) -> str:
    parent = t.parent()
    owner = type(parent).__name__ if parent is not None else "no parent"
    return f"{t.objectName() or 'QTimer'} ({t.interval()} ms) of {owner}"


def begin() -> set:
    """Start watching: forget what earlier tests started; returns the tasks already on the loop."""
    _install()
    _timers.clear()
    _threads.clear()
    _clients.clear()
    loop = _gui_loop()
    return set(asyncio.all_tasks(loop)) if loop is not None else set()


def leftovers(tasks_before: set) -> list[str]:
    """What was started since `begin` and is still running (or open)."""
    problems = []
    try:
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        if app is not None:
            app.processEvents()  # deferred deletes and last deliveries
    except ImportError:
        pass
    timers = [r() for r in _timers if _alive(r, lambda t: t.isActive())]
    problems += [f"timer still running: {_describe_timer(t)}" for t in {id(t): t for t in timers}.values()]
    problems += [f"QThread still running: {r()}" for r in _threads
                 if _alive(r, lambda t: t.isRunning() and type(t).__name__ != "_QThreadWorker")]
    if QThreadPool.globalInstance().activeThreadCount():
        problems.append(f"{QThreadPool.globalInstance().activeThreadCount()} QThreadPool task(s) still running")
    loop = _gui_loop()
    if loop is not None:
        pending = [t for t in asyncio.all_tasks(loop) if t not in tasks_before and not t.done()]
        problems += [f"asyncio task still pending: {t.get_coro()!r}" for t in pending]
    for ref, where in _clients:
        client = ref()
        if client is not None and not client.is_closed and client._state.name == "OPENED":
            problems.append(f"httpx.AsyncClient used and never closed, created at:\n{where}")
    return problems


@pytest.fixture(autouse=True)
def no_leaks():
    before = begin()
    yield
    problems = leftovers(before)
    assert not problems, "the test left things running:\n" + "\n".join(problems)
