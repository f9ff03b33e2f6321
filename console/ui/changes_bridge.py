"""The one place where the core's change sets become a Qt signal, on the GUI thread.

Writers return ChangeSets; whoever awaited the write hands it to `announce` (GUI thread). Change sets
of one event-loop turn and the short window after it are merged and emitted once, so a burst of sync
pages or a demo-worker tick and the action that caused it redraw each panel once (Electrum coalesces
its refreshes the same way). Commits by another process (a capture server, a headless sync) are noticed
by polling SQLite's data_version on the writer thread, where our own commits are already discounted.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QTimer

from console.changes import ChangeSet, DataVersion
from console.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

WINDOW_MS = 100  # merge what arrives this soon after the first change
POLL_MS = 1000  # how often another process's commits are looked for


class ChangeBridge(QObject):
    def __init__(self, tasks: TaskRunner, emit: Callable[[ChangeSet], None], parent: QObject | None = None,
                 window_ms: int = WINDOW_MS) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self._emit = emit
        self._pending: ChangeSet | None = None
        self.emitted = 0  # how many merged change sets went out (tests, diagnostics)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(window_ms)
        self._timer.timeout.connect(self.flush)
        self._version: DataVersion | None = None
        self._looking = False  # writer thread only
        self._polling = False
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._look_for_foreign)
        tasks.writer_hooks.append(self._absorb_own)
        tasks.shutdown_hooks.append(self.stop)

    def announce(self, changes: ChangeSet | None) -> None:
        """GUI thread: `changes` will be part of the next emission (within WINDOW_MS)."""
        if not changes:
            return
        if self._pending is None:
            self._pending = ChangeSet()
        self._pending.merge(changes)
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        self._timer.stop()
        pending, self._pending = self._pending, None
        if pending:
            self.emitted += 1
            self._emit(pending)

    # -- other processes ------------------------------------------------------------------------------
    def watch_file(self, path: Path | None) -> None:
        """Notice commits to `path` made outside the writer thread (None: stop watching)."""
        old, self._version = self._version, None
        if old is not None:
            if self.tasks.closed:
                old.close()
            else:
                self.tasks.write(old.close)
        if path is None:
            self._poll.stop()
            return
        self._version = DataVersion(path)
        self._poll.start()

    def _absorb_own(self) -> None:  # writer thread, after each of our writes
        if self._looking:  # (the look itself ran on the writer thread: it wrote nothing)
            self._looking = False
            return
        version = self._version
        if version is not None:
            version.mark_own()

    def _look_for_foreign(self) -> None:
        version = self._version
        if version is None or self._polling or self.tasks.closed:
            return
        self._polling = True

        def done(foreign: bool) -> None:
            self._polling = False
            if foreign:
                self.announce(ChangeSet.everything())

        def failed(exc: BaseException) -> None:
            self._polling = False
            log.debug("data_version poll failed: %s", exc)

        def look() -> bool:  # writer thread: one at a time with our writes, so `mark_own` is never lost
            self._looking = True
            return version.changed()

        self.tasks.write(look, done, failed)

    def stop(self) -> None:
        self._timer.stop()
        self._poll.stop()
        if self._version is not None:
            self._version.close()
            self._version = None
