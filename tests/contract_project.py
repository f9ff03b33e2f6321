"""A Convex project for the contract's TypeScript tests: the files `ops-console contract install` writes,
plus the harness (tests/contract/harness: a schema merging the fragment, the `_generated` files codegen
would write, a locally installed Better Auth component) and the vitest suites, with the pinned npm
packages of tests/node linked in."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from console.contract.install import install
from tests.nodeenv import node_project

HERE = Path(__file__).parent
HARNESS = HERE / "contract" / "harness"
CASES = HERE / "contract" / "cases.json"
ARGS = HERE.parent / "console" / "contract" / "args.json"


def assemble(target: Path) -> Path:
    install(target / "convex")
    shutil.copytree(HARNESS, target, dirs_exist_ok=True)
    shutil.copy2(CASES, target / "cases.json")
    shutil.copy2(ARGS, target / "args.json")
    (target / "node_modules").symlink_to(node_project() / "node_modules", target_is_directory=True)
    return target


def run(project: Path, *cmd: str, env: dict[str, str] | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([str(project / "node_modules" / ".bin" / cmd[0]), *cmd[1:]], cwd=project,
                          capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


if __name__ == "__main__":  # python -m tests.contract_project --write-args: regenerate console/contract/args.json
    import sys
    import tempfile

    if sys.argv[1:] != ["--write-args"]:
        sys.exit("usage: python -m tests.contract_project --write-args")
    with tempfile.TemporaryDirectory() as tmp:
        project = assemble(Path(tmp))
        done = run(project, "vitest", "run", "--environment", "node", "convex/args.test.ts",
                   env={"WRITE_ARGS_JSON": str(ARGS.resolve())})
        print(f"wrote {ARGS}" if ARGS.read_text().strip() != "{}" else done.stdout + done.stderr)
