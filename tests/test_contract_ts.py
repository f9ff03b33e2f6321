"""The TypeScript contract, tested with the real `convex` package, `convex-test`, `vitest` and `tsc`.

The project is what `ops-console contract install` writes plus the harness of tests/contract_project.py;
vitest runs the shared rule cases (parity.test.ts), the contract's own tests (console.test.ts) and the
check that console/contract/args.json is what the functions export (args.test.ts). Missing node fails.
"""

from __future__ import annotations

import pytest

from tests.contract_project import assemble, run


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return assemble(tmp_path_factory.mktemp("contract") / "project")


def _report(done) -> str:
    return f"exit {done.returncode}\n{done.stdout[-20000:]}\n{done.stderr[-5000:]}"


def test_vitest_suite_passes(project):
    done = run(project, "vitest", "run", "--reporter=dot", env={"NO_COLOR": "1", "CI": "1"})
    assert done.returncode == 0, _report(done)
    assert "Test Files  3 passed (3)" in done.stdout and " failed" not in done.stdout, _report(done)


def test_contract_typechecks(project):
    done = run(project, "tsc", "--noEmit", "-p", ".")
    assert done.returncode == 0, _report(done)


def test_a_failing_case_fails_the_suite(project, tmp_path):
    """The suite can fail: a case expecting the wrong refusal code is reported."""
    import json
    import shutil

    broken = tmp_path / "p"
    shutil.copytree(project, broken, symlinks=True)
    cases = json.loads((broken / "cases.json").read_text())
    cases["cases"] = [dict(cases["cases"][0], expect={"code": "forbidden"})]
    (broken / "cases.json").write_text(json.dumps(cases))
    done = run(broken, "vitest", "run", "convex/parity.test.ts", env={"NO_COLOR": "1", "CI": "1"})
    assert done.returncode != 0 and "1 failed" in done.stdout, _report(done)
