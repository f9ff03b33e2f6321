"""Background work for the GUI: run a function on a worker thread, get the result on the GUI thread.

Database work never runs on the GUI thread. Each call returns a Task; a newer request can make an
older one stale (`Task.cancelled`), and the runner knows what is still in flight so tests and
shutdown can wait for it.
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class _Relay(QObject):
    done = Signal(object, object)  # task, (ok, value)


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


class _Runnable(QRunnable):
    def __init__(self, task: Task, relay: _Relay) -> None:
        super().__init__()
        self.task = task
        self.relay = relay

    def run(self) -> None:
        try:
            result: tuple[bool, Any] = (True, self.task.fn())
        except BaseException as exc:  # delivered to on_error on the GUI thread
            result = (False, exc)
        self.relay.done.emit(self.task, result)


class TaskRunner(QObject):
    failed = Signal(str)  # a task without its own error handler failed: message for the status bar

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._relay = _Relay()
        self._relay.done.connect(self._finish)
        self._pending: set[Task] = set()
        self._lock = threading.Lock()

    def run(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None) -> Task:
        task = Task(fn, on_done, on_error)
        with self._lock:
            self._pending.add(task)
        self.pool.start(_Runnable(task, self._relay))
        return task

    @Slot(object, object)
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
            return bool(self._pending)

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until worker threads are idle (shutdown and tests only; results still arrive by signal)."""
        return self.pool.waitForDone(msecs)
