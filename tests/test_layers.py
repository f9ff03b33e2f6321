"""The layers hold: import-linter's contracts (pyproject [tool.importlinter]: the core imports no Qt, the
store imports neither webhooks nor the demo, panels do not import each other) and mypy over the Qt-free
core ([tool.mypy]) with zero errors."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_import_contracts_are_kept():
    r = run(str(BIN / "lint-imports"), "--no-cache")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "3 kept, 0 broken" in r.stdout


def test_the_core_type_checks_with_zero_errors(tmp_path):
    r = run(sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy-cache"))
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "Success: no issues found" in r.stdout


def test_a_qt_import_into_the_core_would_break_the_contract(tmp_path):
    """The contract is not vacuous: the same check over a copy of the package with one Qt import fails."""
    import shutil

    copy = tmp_path / "src"
    shutil.copytree(ROOT / "console", copy / "console", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    (copy / "console" / "store" / "qt_leak.py").write_text("from PySide6.QtCore import QObject\n")
    r = subprocess.run([str(BIN / "lint-imports"), "--no-cache"], cwd=copy, capture_output=True, text=True,
                       timeout=600, env={"PYTHONPATH": str(copy), "PATH": str(BIN)})
    assert r.returncode != 0 and "console.store.qt_leak" in r.stdout, r.stdout[-3000:]
