"""The desktop bundle's smoke test (slow: builds with PyInstaller). Run: python -m pytest -m slow tests/test_bundle.py"""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a PyInstaller build takes minutes
def test_bundle_renders_every_panel(tmp_path):
    existing = os.environ.get("OPS_CONSOLE_BUNDLE")
    if existing:
        binary = Path(existing) / "ops-console"
    else:
        build = subprocess.run(["bash", str(ROOT / "packaging" / "build.sh")], capture_output=True, text=True,
                               timeout=1800)
        print(build.stdout)
        assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
        binary = ROOT / "dist" / "ops-console" / "ops-console"
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("ops-console ")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "OPS_CONSOLE_HOME": str(tmp_path / "home")}
    shots = tmp_path / "shots"
    run = subprocess.run([str(binary), "screenshot", "--out", str(shots)], capture_output=True, text=True, env=env,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    names = {p.stem for p in shots.glob("*.png")}
    assert {"users", "chats", "jobs", "webhooks", "roles", "callrates"} <= names
