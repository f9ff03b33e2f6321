"""Starting and stopping a stand-in deployment (CLI, tests, the GUI's "try live mode")."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from console.demo.generator import DemoSizes, documents
from console.standin.server import Faults, StandinServer, StandinState
from console.standin.store import DEFAULT_RETENTION_NS, DocStore
from console.standin.worker import Worker

DEFAULT_PORT = 8187


@dataclass
class Standin:
    server: StandinServer
    thread: threading.Thread
    worker: Worker | None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def state(self) -> StandinState:
        return self.server.state

    @property
    def store(self) -> DocStore:
        return self.server.state.store

    def stop(self) -> None:
        if self.worker:
            self.worker.stop()
        self.server.stop()
        self.thread.join(timeout=5)


def new_admin_key() -> str:
    return f"standin|{secrets.token_hex(24)}"


def start_standin(*, host: str = "127.0.0.1", port: int = 0, db: Path | None = None, seed: str = "demo",
                  sizes: DemoSizes | None = None, admin_key: str | None = None, fault_rate: float = 0.0,
                  latency_ms: int = 0, worker: bool = True, failure_rate: float = 0.1, export_enabled: bool = True,
                  retention_ns: int = DEFAULT_RETENTION_NS, log_poll_s: float = 60.0, demo_seed: int = 7,
                  now_ms: int | None = None, production: bool = False, clock=time.time_ns) -> Standin:
    """`production` redacts function errors as Cloud production does; `clock` (ns) ages snapshots and
    cursors, so tests can expire them without waiting."""
    store = DocStore(db, retention_ns=retention_ns, seed=demo_seed, clock=clock)
    if seed == "demo" and store.last_ts == 0:
        store.bulk_load(documents(sizes or DemoSizes(), demo_seed, now_ms))
    state = StandinState(store, admin_key=admin_key or new_admin_key(),
                         faults=Faults(rate=fault_rate, latency_ms=latency_ms), export_enabled=export_enabled,
                         log_poll_s=log_poll_s, production=production)
    server = StandinServer((host, port), state)
    thread = threading.Thread(target=server.serve_forever, name="standin-http", daemon=True)
    thread.start()
    w = Worker(store, failure_rate=failure_rate) if worker else None
    if w:
        w.start()
    return Standin(server, thread, w)
