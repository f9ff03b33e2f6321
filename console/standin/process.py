"""A stand-in deployment in its own process: what the GUI's "Try live mode with a local stand-in" and the
GUI benchmarks start. A real deployment is another process; a stand-in on a thread of the GUI's process
would seed its demo data on the GUI thread (a 1.9 s freeze) and compete with the GUI for the GIL on
every answer, so the GUI's responsiveness would be measured against a server that does not exist.

Starting never blocks: `await StandinProcess.start()` polls for the ready file the child writes once it
listens. The deploy key goes to the child in its environment, never on its command line.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from console.standin.app import new_admin_key

KEY_ENV = "OPS_CONSOLE_STANDIN_ADMIN_KEY"  # the CLI's STANDIN_KEY_ENV (the CLI imports this module's peers)
START_TIMEOUT_S = 120.0


class StandinStartError(RuntimeError):
    pass


@dataclass
class StandinProcess:
    url: str
    admin_key: str
    proc: subprocess.Popen
    folder: Path
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.folder / "standin.log"

    @classmethod
    def spawn(cls, *args: str, admin_key: str | None = None) -> tuple[subprocess.Popen, Path, str]:
        """Start the child (returns at once): (process, its folder, the deploy key)."""
        key = admin_key or new_admin_key()
        folder = Path(tempfile.mkdtemp(prefix="ops-console-standin-"))
        env = dict(os.environ, **{KEY_ENV: key})
        with open(folder / "standin.log", "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "console", "standin", "--port", "0", "--ready-file", str(folder / "ready"),
                 *args], env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)  # Ctrl+C in the GUI's terminal is the GUI's, not the stand-in's
        return proc, folder, key

    @classmethod
    async def start(cls, *args: str, admin_key: str | None = None,
                    timeout: float = START_TIMEOUT_S) -> "StandinProcess":
        proc, folder, key = cls.spawn(*args, admin_key=admin_key)
        ready = folder / "ready"
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if proc.poll() is not None:
                message = (f"the stand-in stopped as it started (exit code {proc.returncode}): "
                           f"{_tail(folder / 'standin.log')}")
                _remove(folder)
                raise StandinStartError(message)
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait(timeout=10)
                _remove(folder)
                raise StandinStartError(f"the stand-in was not ready after {timeout:.0f} s")
            await asyncio.sleep(0.05)
        return cls(ready.read_text(encoding="utf-8").strip(), key, proc, folder)

    @classmethod
    def start_blocking(cls, *args: str, admin_key: str | None = None,
                       timeout: float = START_TIMEOUT_S) -> "StandinProcess":
        """For scripts and tests without a running loop (a private loop: the caller's current loop stays set)."""
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(cls.start(*args, admin_key=admin_key, timeout=timeout))
        finally:
            loop.close()

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # the CLI stops its server and worker on SIGTERM
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        _remove(self.folder)


def _remove(folder: Path) -> None:
    """The child's folder holds only its log and ready file: nothing to keep once it has stopped."""
    shutil.rmtree(folder, ignore_errors=True)


def _tail(path: Path, chars: int = 800) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-chars:].strip() or "(no output)"
    except OSError:
        return "(no output)"
