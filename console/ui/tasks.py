"""Background work for the GUI: run a function on a worker thread, get the result on the GUI thread.

One runner for the whole app. Awaitable: `await tasks.aread(fn)` runs `fn` on the read pool (three
threads), `await tasks.awrite(fn)` on the ONE writer thread (writes are serialised, as Anki serialises
its collection; the sync engine writes its pages there too). `tasks.spawn(coro)` starts a coroutine on
the GUI loop, keeps a reference (an unreferenced task can be collected mid-flight) and logs its failure.
The older callback form (`run`, `write`) stays for slots that want it.

Database work never runs on the GUI thread. Each call returns a Task; a newer request can make an
older one stale (`Task.cancelled`), and the runner knows what is still in flight so tests and
shutdown can wait for it.

Worker threads never touch Qt: they put results in a queue that a timer on the GUI thread drains.
Emitting a Qt signal from a worker thread deadlocks now and then under PySide: the emit holds one of
Qt's signal-slot mutexes while it waits for the GIL, while the GUI thread holds the GIL and waits
for that same mutex inside a QObject::connect (seen here building a panel during a count query).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sys
import threading
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from typing import Any, Awaitable, Callable, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal

log = logging.getLogger(__name__)

BUSY_MS = 4  # drain interval while work is outstanding
IDLE_MS = 100  # and while nothing is (few wake-ups for an app that stays open all day)
READERS = 3
# How long a worker thread may keep the GIL while the GUI thread waits for it. Painting a table calls into
# Python for every cell (data(), a delegate), and each call waits for the GIL anew: at Python's default 5 ms,
# a writer busy mapping a sync page made one repaint of the Users table a 40-60 ms stall (the convoy
# effect). 1 ms bounds each wait at a cost the writer does not notice.
SWITCH_INTERVAL_S = 0.001

T = TypeVar("T")


class Task:
    def __init__(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None,
                 on_error: Callable[[BaseException], None] | None) -> None:
        self.fn = fn
        self.on_done = on_done
        self.on_error = on_error
        self.cancelled = False

    def cancel(self) -> None:
        """The result will be dropped (the work itself, once started, runs to the end)."""
        self.cancelled = True


class TaskRunner(QObject):
    failed = Signal(str)  # a task without its own error handler failed: message for the status bar

    def __init__(self, parent: QObject | None = None, max_threads: int = READERS) -> None:
        super().__init__(parent)
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        self._pool = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="console-task")
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="console-writer")
        self._coros: set[asyncio.Future] = set()
        self._short: set[asyncio.Future] = set()
        self._waiting: set[asyncio.Future] = set()  # awaitables handed out, not yet resolved
        self.writer_hooks: list[Callable[[], None]] = []  # run on the writer thread after each write
        self.shutdown_hooks: list[Callable[[], None]] = []  # run on the GUI thread when the runner stops
        self.closed = False
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._pending: set[Task] = set()
        self._outstanding = 0  # futures watched with `watch`, not yet delivered
        self._futures: set[Future] = set()
        self._lock = threading.Lock()
        self._timer = QTimer(self)
        self._timer.setInterval(IDLE_MS)
        self._timer.timeout.connect(self._drain)
        self._timer.start()

    # -- submitting (GUI thread) ---------------------------------------------------------------------
    def run(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None) -> Task:
        task = Task(fn, on_done, on_error)
        with self._lock:
            self._pending.add(task)
        self._timer.setInterval(BUSY_MS)
        future = self._pool.submit(self._work, task)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return task

    def write(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
              on_error: Callable[[BaseException], None] | None = None) -> Task:
        """As `run`, on the writer thread (one write at a time, in the order asked)."""
        task = Task(fn, on_done, on_error)
        with self._lock:
            self._pending.add(task)
        self._timer.setInterval(BUSY_MS)
        future = self._writer.submit(self._work, task, True)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return task

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """`fn(*args)` on the read pool, as a concurrent Future (for Qt-free code that takes a `submit`);
        hand it to `watch` for a callback on the GUI thread. Counted by `wait`."""
        future = self._pool.submit(fn, *args)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return future

    # -- awaitable (GUI thread, inside the qasync loop) --------------------------------------------------
    def aread(self, fn: Callable[[], T]) -> "asyncio.Future[T]":
        """`await tasks.aread(fn)`: `fn()` on the read pool, its result (or exception) on the GUI thread."""
        return self._awaitable(self._pool, fn, False)

    def awrite(self, fn: Callable[[], T]) -> "asyncio.Future[T]":
        """`await tasks.awrite(fn)`: `fn()` on the writer thread."""
        return self._awaitable(self._writer, fn, True)

    def _awaitable(self, pool: ThreadPoolExecutor, fn: Callable[[], Any], writes: bool) -> asyncio.Future:
        waiter = asyncio.get_event_loop().create_future()
        with self._lock:
            self._waiting.add(waiter)
        self._timer.setInterval(BUSY_MS)

        def work() -> None:  # worker thread: the result goes into the inbox, never into the loop
            try:
                result: tuple[bool, Any] = (True, fn())
            except BaseException as exc:
                result = (False, exc)
            if writes:
                self._after_write()
            self._inbox.put(("future", waiter, result))

        future = pool.submit(work)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return waiter

    def spawn(self, coro: Awaitable[Any], *, long: bool = False) -> asyncio.Future:
        """Run a coroutine on the GUI loop, keeping a reference until it ends; a failure is logged and shown.
        A short one (an action) counts as work in flight (`busy`); a `long` one (the sync loop) does not."""
        task = asyncio.ensure_future(coro)
        self._coros.add(task)
        if not long:
            self._short.add(task)
        task.add_done_callback(self._coro_done)
        return task

    def _coro_done(self, task: asyncio.Future) -> None:
        self._coros.discard(task)
        self._short.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("background coroutine failed:\n%s", "".join(traceback.format_exception(exc)))
            self.failed.emit(f"{type(exc).__name__}: {exc}")

    def cancel_coroutines(self) -> None:
        for task in list(self._coros):
            task.cancel()

    def _after_write(self) -> None:
        for hook in self.writer_hooks:
            try:
                hook()
            except Exception:  # a hook never fails the write it follows
                log.exception("writer hook failed")

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._futures.discard(future)

    def watch(self, future: Future, callback: Callable[[Future], None]) -> None:
        """Call `callback(future)` on the GUI thread once a future from elsewhere (another pool) is done."""
        with self._lock:
            self._outstanding += 1
        self._timer.setInterval(BUSY_MS)
        future.add_done_callback(lambda f: self._inbox.put(("watch", callback, f)))

    def post(self, fn: Callable[[], None]) -> None:
        """From any thread: run `fn` on the GUI thread soon (while work is outstanding: within milliseconds)."""
        self._inbox.put(("post", fn, None))

    # -- worker threads: no Qt here -------------------------------------------------------------------
    def _work(self, task: Task, writes: bool = False) -> None:
        try:
            result: tuple[bool, Any] = (True, task.fn())
        except BaseException as exc:  # delivered to on_error on the GUI thread
            result = (False, exc)
        if writes:
            self._after_write()
        self._inbox.put(("task", task, result))

    # -- delivering (GUI thread) ---------------------------------------------------------------------
    def _drain(self) -> None:
        while True:
            try:
                kind, first, second = self._inbox.get_nowait()
            except queue.Empty:
                break
            if kind == "task":
                self._finish(first, second)
            elif kind == "future":
                with self._lock:
                    self._waiting.discard(first)
                if not first.done():  # an awaiting coroutine that was cancelled no longer wants it
                    ok, value = second
                    if ok:
                        first.set_result(value)
                    else:
                        first.set_exception(value)
            elif kind == "watch":
                with self._lock:
                    self._outstanding -= 1
                self._call(first, second)
            else:
                self._call(lambda _none: first(), None)
        with self._lock:
            quiet = not self._pending and not self._outstanding and not self._waiting
        self._timer.setInterval(IDLE_MS if quiet else BUSY_MS)

    def _finish(self, task: Task, result: tuple[bool, Any]) -> None:
        with self._lock:
            self._pending.discard(task)
        if task.cancelled:
            return
        ok, value = result
        callback = task.on_done if ok else task.on_error
        if callback is None:
            if not ok:
                log.error("background task failed:\n%s", "".join(traceback.format_exception(value)))
                self.failed.emit(f"{type(value).__name__}: {value}")
            return
        self._call(callback, value)

    @staticmethod
    def _call(callback: Callable[[Any], None], value: Any) -> None:
        try:
            callback(value)
        except RuntimeError as exc:
            # The widget that asked was closed while the work ran: nobody is left to show the result.
            if "already deleted" not in str(exc):
                raise
            log.debug("dropped a result for a deleted widget: %s", exc)

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._pending) or self._outstanding > 0 or bool(self._waiting) or bool(self._short)

    @property
    def coroutines(self) -> int:
        """Coroutines started with `spawn` still running."""
        return len(self._coros)

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until the work submitted so far has run (shutdown and tests; results still arrive by the timer)."""
        with self._lock:
            futures = list(self._futures)
        _done, not_done = futures_wait(futures, timeout=timeout)
        return not not_done

    def shutdown(self) -> None:
        if self.closed:
            return
        self.closed = True
        for hook in self.shutdown_hooks:
            hook()
        self._timer.stop()
        self.cancel_coroutines()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._writer.shutdown(wait=True, cancel_futures=True)
