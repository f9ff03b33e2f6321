"""Benchmarks: out of the default run (`-m benchmark` selects them); each prints its figures.

The large demo replica (100k users, 1M messages, 1M jobs) is generated once per run; generating it is
itself the demo-data benchmark.
"""

import time

import pytest

from console.demo.generator import LARGE, generate


def pytest_collection_modifyitems(items):
    for item in items:
        if "benchmarks" in str(item.fspath):
            item.add_marker(pytest.mark.benchmark)
            # The first benchmark also generates the 1M-job replica (its indexes, FTS and derived tables):
            # minutes on a busy machine, past the suite's 300 s per test.
            item.add_marker(pytest.mark.timeout(1800))


@pytest.fixture(scope="session")
def large_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("large") / "large.sqlite"
    started = time.perf_counter()
    counts = generate(path, LARGE)
    elapsed = time.perf_counter() - started
    return path, counts, elapsed
