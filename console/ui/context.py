"""What every panel gets: the replica, settings, secrets, background tasks, theme and navigation.

Panels never import each other. They reach one another through `navigate(panel, target)`, and learn
about changed data through `data_changed(ChangeSet)` (which tables and documents, merged over a short
window by the change bridge), and refresh only what they show. Whoever writes hands the write's
ChangeSet to `announce`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import json

from PySide6.QtCore import QObject, QSettings, Signal
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from console.backend.base import Backend
from console.changes import ChangeSet
from console.paths import config_dir
from console.secrets import SecretStore
from console.settings import Settings
from console.store.db import get_meta
from console.ui.changes_bridge import ChangeBridge
from console.ui.tasks import Task, TaskRunner
from console.ui.theme import Theme


class AppContext(QObject):
    navigate_requested = Signal(str, object)  # panel key, target (e.g. a user id)
    data_changed = Signal(ChangeSet)  # what changed: table -> document ids (see console/changes.py)
    replica_replaced = Signal()  # a different replica file is open (demo reset, --db)
    status_message = Signal(str)
    live_figures = Signal(str, object)  # a standing subscription's new value: (function path, value)
    sync_state = Signal(object)  # the shown replica's sync loop state (LoopState), live mode only
    operator_changed = Signal()  # Settings chose another operator (who the console acts as)
    call_failed = Signal(object)  # a Refused: a console call the deployment refused or failed (its request id)

    def __init__(self, engine: Engine, replica_path: Path, settings: Settings, secrets: SecretStore,
                 theme: Theme, tasks: TaskRunner | None = None) -> None:
        super().__init__()
        self.engine = engine
        self.replica_path = replica_path
        self.settings = settings
        self.secrets = secrets
        self.theme = theme
        self.tasks = tasks or TaskRunner(self)
        self.tasks.failed.connect(self.status_message)
        self.changes = ChangeBridge(self.tasks, self.data_changed.emit, self)
        self.changes.watch_file(replica_path)
        self.mode = self._read_mode()
        self.live: Any = None  # the LiveController while connected to a deployment
        self._backend: Backend | None = None
        self._backend_for: tuple[Any, Engine] | None = None
        self.alerts: Any = None  # the AlertMonitor of the main window (console.ui.alert_monitor)
        self.log_tail: Any = None  # the main window's LogTail (console.ui.logtail): feeds the function-log history

    def _read_mode(self) -> str:
        with self.engine.connect() as conn:
            self._demo_operator = get_meta(conn, "demo_operator")
            return get_meta(conn, "mode") or "live"

    def operator_id(self) -> str | None:
        """Who operates: the user chosen in Settings; in the demo, until then, the demo's first admin."""
        if self.settings.operator_read_only:
            return None
        if self.settings.operator_user_id:
            return self.settings.operator_user_id
        return self._demo_operator if self.is_demo else None

    @property
    def copying(self) -> bool:
        """The shown replica is still being built by a first sync (or a resync): an empty list may fill yet."""
        return self.live is not None and self.live.building

    @property
    def is_demo(self) -> bool:
        return self.mode == "demo"

    def load_operator(self, on_done: Callable[[dict | None], None]) -> Task:
        """The operator's user document from the replica (None when nobody is chosen or not found)."""
        user_id = self.operator_id()

        def work(conn: Connection) -> dict | None:
            if not user_id:
                return None
            row = conn.execute(text("SELECT doc FROM users WHERE id = :id"), {"id": user_id}).first()
            return json.loads(row[0]) if row else None

        return self.read(work, on_done)

    def read(self, fn: Callable[[Connection], Any], on_done: Callable[[Any], None] | None = None,
             on_error: Callable[[BaseException], None] | None = None) -> Task:
        """Run `fn(connection)` on a worker thread; `on_done(result)` runs on the GUI thread."""
        engine = self.engine

        def work() -> Any:
            with engine.connect() as conn:
                return fn(conn)

        return self.tasks.run(work, on_done, on_error)

    def latest(self) -> "LatestRead":
        """A read slot where only the newest read counts (the detail of whatever is selected now)."""
        return LatestRead(self)

    @property
    def backend(self) -> Backend:
        """Where operator actions go: the one place that picks local (demo) or deployment (live)."""
        key = (self.live, self.engine)
        if self._backend is None or self._backend_for != key:
            runners = dict(read=self.tasks.aread, write=self.tasks.awrite, operator=self.operator_id)
            if self.live is not None:
                from console.backend.deployment import DeploymentBackend

                self._backend = DeploymentBackend(self.engine, self.live.client, identity=self.live.identity,
                                                  on_failure=self.call_failed.emit, **runners)
            else:
                from console.backend.local import LocalBackend

                self._backend = LocalBackend(self.engine, **runners)
            self._backend_for = key
        return self._backend

    def announce(self, changes: ChangeSet | None) -> None:
        """A write of ours changed this (GUI thread); panels hear of it once per short window."""
        self.changes.announce(changes)

    def write(self, fn: Callable[[Connection], Any], on_done: Callable[[Any], None] | None = None,
              on_error: Callable[[BaseException], None] | None = None) -> Task:
        """Run `fn(connection)` in one transaction on the writer thread. When it returns a ChangeSet, that is
        announced before `on_done` runs."""
        engine = self.engine

        def work() -> Any:
            with engine.begin() as conn:
                return fn(conn)

        def done(result: Any) -> None:
            if isinstance(result, ChangeSet):
                self.announce(result)
            if on_done is not None:
                on_done(result)

        return self.tasks.write(work, done, on_error)

    async def aread(self, fn: Callable[[Connection], Any]) -> Any:
        engine = self.engine

        def work() -> Any:
            with engine.connect() as conn:
                return fn(conn)

        return await self.tasks.aread(work)

    async def awrite(self, fn: Callable[[Connection], Any]) -> Any:
        """As `write`, awaitable: the ChangeSet a write returns is announced."""
        engine = self.engine

        def work() -> Any:
            with engine.begin() as conn:
                return fn(conn)

        result = await self.tasks.awrite(work)
        if isinstance(result, ChangeSet):
            self.announce(result)
        return result

    def close(self) -> None:
        """Stop the bridge and the runner (app exit, tests)."""
        self.changes.stop()
        self.tasks.shutdown()

    def navigate(self, panel: str, target: Any = None) -> None:
        self.navigate_requested.emit(panel, target)

    def replace_replica(self, engine: Engine, path: Path) -> None:
        old = self.engine
        self.engine, self.replica_path = engine, path
        self.mode = self._read_mode()
        self.changes.watch_file(path)
        self.replica_replaced.emit()
        # Closing the old file checkpoints its log: on the writer thread, after what was queued for it.
        self.tasks.write(old.dispose)

    @staticmethod
    def ui_state() -> QSettings:
        """UI state only (geometry, splitters, header layouts); settings proper live in Settings."""
        return QSettings(str(config_dir() / "ui-state.ini"), QSettings.Format.IniFormat)


class LatestRead:
    """Each read() drops the result of the one before it, so a slow older read never overwrites a newer one."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._task: Task | None = None

    def read(self, fn: Callable[[Connection], Any], on_done: Callable[[Any], None],
             on_error: Callable[[BaseException], None] | None = None) -> Task:
        if self._task is not None:
            self._task.cancel()
        self._task = self.ctx.read(fn, on_done, on_error)
        return self._task
