"""The demo generator's meter: rows counted as they are made, the estimate close to the count, the finishing
phase (indexes, search, rollups) counted step by step, and a time left from the pace so far."""

from console.demo.generator import DemoSizes, expected_rows, generate
from console.demo.progress import GenerationProgress
from tests.conftest import DEMO_NOW_MS


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_generation_counts_every_row_and_every_finishing_step(tmp_path):
    sizes = DemoSizes(users=300, messages=2000, jobs=1500)
    seen: list[float] = []
    meter = GenerationProgress()

    def progress(_table, _n):  # called on each chunk: the meter is already counting
        seen.append(meter.fraction())

    counts = generate(tmp_path / "d.sqlite", sizes, seed=3, now_ms=DEMO_NOW_MS, progress=progress, meter=meter)
    assert meter.rows == sum(counts.values())
    assert meter.finishing and meter.finish_done == meter.finish_steps
    assert meter.fraction() == 1.0
    assert seen == sorted(seen) and 0 < seen[0] < 1  # it moved forward, never back
    # The estimate made before the first row: within 10 % of what was written.
    assert abs(expected_rows(sizes) - meter.rows) / meter.rows < 0.10


def test_text_gives_the_count_of_the_total_and_the_time_left():
    clock = Clock()
    meter = GenerationProgress(clock)
    assert meter.text() == "Starting…" and meter.fraction() == 0
    meter.expect(200_000, cheap=100_000)
    clock.now += 0.2
    meter.add_rows(1_000)
    assert "estimating the time left" in meter.text()  # too early to tell
    clock.now += 1.8
    meter.add_rows(49_000)
    # Work: 100,000 documents + 100,000 cheap rows at a quarter each = 125,000, and the finishing phase half of
    # that again: 187,500. 50,000 of it took 2 s: 5.5 s left.
    assert meter.text() == "50,000 of about 200,000 rows · about 6 s left"
    meter.add_rows(100_000, cheap=True)
    meter.add_rows(50_000)
    meter.start_finishing(4)
    meter.step()
    assert meter.text().startswith("200,000 rows written; building indexes and search (1 of 4)")
    assert 0.66 < meter.fraction() < 0.9
    for _ in range(3):
        meter.step()
    assert meter.fraction() == 1.0 and "almost done" in meter.text()
