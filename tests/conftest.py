import os
import shutil
import threading
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.leaks import no_leaks  # noqa: E402,F401  (autouse: every test stops what it started)

# A fixed moment so generated data (and every assertion about "now") is reproducible.
DEMO_NOW_MS = 1_790_000_000_000


@pytest.fixture(autouse=True)
def private_home(tmp_path_factory, monkeypatch):
    """Every test gets its own settings/data directory: nothing touches the real home."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("OPS_CONSOLE_HOME", str(home))
    yield home
    # Replicas a test made here (a stand-in's, a live connection's) are tens of MB: free them now, not at
    # the end of the run (tmp_path_retention_policy only covers tmp_path).
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def demo_db_master(tmp_path_factory) -> Path:
    from console.demo.generator import DemoSizes, generate

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    generate(path, DemoSizes(users=600, messages=4000, jobs=3000), seed=11, now_ms=DEMO_NOW_MS)
    return path


@pytest.fixture
def demo_db(demo_db_master, tmp_path) -> Path:
    """A private copy of the session's demo replica, free to modify."""
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_db_master, path)
    return path


@pytest.fixture
def engine(demo_db):
    from console.store.db import open_replica

    eng = open_replica(demo_db)
    yield eng
    eng.dispose()


@pytest.fixture(autouse=True)
def no_leftover_threads():
    before = {t.ident for t in threading.enumerate()}
    yield
    extra = [t for t in threading.enumerate() if t.ident not in before and t.is_alive() and not t.daemon]
    assert not extra, f"test left threads running: {extra}"
