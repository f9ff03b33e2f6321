"""The pinned npm packages of tests/node, installed once per lockfile into a cache the test run owns.

Tests that drive the official Convex clients or the contract's vitest suite call `node_project()`:
it runs `npm ci` (from tests/node/package-lock.json) into ~/.cache/ops-console/node-<lock hash> the
first time and returns that folder. Node and npm are on every machine of ours, CI included, so a
missing node is a failure, not a skip.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SOURCE = Path(__file__).parent / "node"


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ops-console"


def node_project() -> Path:
    """The folder holding package.json and an installed node_modules of tests/node."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not on PATH: the suite needs Node 20 and npm (see README)")
    lock = (SOURCE / "package-lock.json").read_bytes()
    digest = hashlib.sha256(lock + (SOURCE / "package.json").read_bytes()).hexdigest()[:16]
    target = _cache_root() / f"node-{digest}"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"node-{digest}.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)  # parallel test processes install once
        if (target / ".installed").exists():
            return target
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(SOURCE / name, target / name)
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            pytest.fail(f"npm ci failed in {target}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
        (target / ".installed").write_text(digest)
    return target


def bin_path(name: str) -> Path:
    """An installed package's executable, e.g. bin_path('convex') or bin_path('vitest')."""
    return node_project() / "node_modules" / ".bin" / name
