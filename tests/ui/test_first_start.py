"""The first start: the progress dialog says how many rows of about how many are done and the time left, updated
by its timer from the generator's meter; the generation runs on a worker thread behind it."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from console.demo.progress import GenerationProgress
from console.ui.first_start import STEPS, FirstStartDialog

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_the_dialog_shows_the_rows_done_of_the_total_and_the_time_left(qtbot):
    clock = Clock()
    meter = GenerationProgress(clock)
    dialog = FirstStartDialog(meter)
    qtbot.addWidget(dialog)
    dialog.start()
    assert "Starting…" in dialog.label.text() and dialog.value() == 0
    meter.expect(200_000, cheap=100_000)  # what the generator does first (on its thread)
    clock.now += 2.0
    meter.add_rows(50_000)
    qtbot.waitUntil(lambda: "50,000 of about 200,000 rows" in dialog.label.text(), timeout=2000)  # by its timer
    assert "about 6 s left" in dialog.label.text()
    assert dialog.value() == round(meter.fraction() * STEPS) > 0
    before = dialog.value()
    meter.add_rows(100_000, cheap=True)
    meter.add_rows(50_000)
    meter.start_finishing(10)
    meter.step()
    clock.now += 1.0
    qtbot.waitUntil(lambda: "building indexes and search (1 of 10)" in dialog.label.text(), timeout=2000)
    assert "200,000 rows written" in dialog.label.text() and " left" in dialog.label.text()
    assert dialog.value() > before
    assert dialog.label.textFormat().name == "PlainText"
    dialog.finish()
    assert not dialog.timer.isActive() and not dialog.isVisible()


SCRIPT = textwrap.dedent("""
    import json, threading, time
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    import console.ui.app as app
    import console.ui.first_start as first_start
    from console.demo import generator

    seen = {"labels": [], "threads": [], "windows": []}
    real_generate = generator.generate

    def small_generate(path, sizes=None, **kw):  # the real generator, smaller, a little slower
        seen["threads"].append(threading.current_thread() is threading.main_thread())
        meter = kw["meter"]
        real_add = meter.add_rows
        def add_rows(n, cheap=False):
            real_add(n, cheap)
            time.sleep(0.00002 * n)
        meter.add_rows = add_rows
        return real_generate(path, generator.DemoSizes(users=300, messages=3000, jobs=2000), **kw)

    generator.generate = small_generate
    real_refresh = first_start.FirstStartDialog.refresh

    def refresh(self):
        real_refresh(self)
        seen["labels"].append(self.label.text())

    first_start.FirstStartDialog.refresh = refresh

    def watch():
        for w in QApplication.topLevelWidgets():
            if type(w).__name__ == "MainWindow" and w.isVisible():
                seen["windows"].append(type(w).__name__)
                QApplication.instance().quit()
                return
        QTimer.singleShot(50, watch)

    real_make_app = app.make_app

    def make_app(argv=None):
        qapp = real_make_app(argv)
        QTimer.singleShot(50, watch)
        return qapp

    app.make_app = make_app
    seen["exit"] = app.run()
    print(json.dumps(seen))
""")


def test_a_fresh_start_generates_on_a_worker_thread_behind_the_dialog_then_opens_the_window(tmp_path):
    env = dict(os.environ, OPS_CONSOLE_HOME=str(tmp_path), QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["exit"] == 0 and seen["windows"] == ["MainWindow"]
    assert seen["threads"] == [False]  # generated off the GUI thread
    counts = [label for label in seen["labels"] if " of about " in label]
    assert counts, seen["labels"]
    assert any(" s left" in label for label in seen["labels"]), seen["labels"]
    assert any("building indexes and search" in label for label in seen["labels"]), seen["labels"]
    assert list(tmp_path.rglob("demo-replica.sqlite"))
