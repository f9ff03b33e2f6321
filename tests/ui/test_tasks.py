import pytest

from console.ui.tasks import TaskRunner


def test_results_arrive_on_the_gui_thread(qtbot, qapp):
    import threading

    runner = TaskRunner()
    seen = []
    runner.run(lambda: threading.get_ident(), lambda worker: seen.append((worker, threading.get_ident())))
    qtbot.waitUntil(lambda: bool(seen))
    worker, gui = seen[0]
    assert worker != gui == threading.main_thread().ident
    runner.wait()
    runner.shutdown()


def test_errors_go_to_the_handler_or_the_failed_signal(qtbot):
    runner = TaskRunner()
    errors = []
    runner.run(lambda: 1 / 0, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], ZeroDivisionError)
    with qtbot.waitSignal(runner.failed) as blocker:
        runner.run(lambda: {}["missing"])
    assert "KeyError" in blocker.args[0]
    runner.wait()
    runner.shutdown()


def test_cancelled_results_are_dropped(qtbot):
    runner = TaskRunner()
    got = []
    task = runner.run(lambda: 42, got.append)
    task.cancel()
    qtbot.waitUntil(lambda: not runner.busy)
    assert got == []
    runner.wait()
    runner.shutdown()


def test_a_callback_into_a_closed_widget_is_dropped_quietly(qtbot):
    from PySide6.QtWidgets import QLabel

    runner = TaskRunner()
    label = QLabel()
    label.deleteLater()
    qtbot.wait(10)
    runner.run(lambda: "x", lambda v: label.setText(v))
    qtbot.waitUntil(lambda: not runner.busy)
    runner.wait()
    runner.shutdown()


def test_other_callback_errors_still_surface(qtbot):
    runner = TaskRunner()

    def boom(_v):
        raise RuntimeError("real bug")

    with pytest.raises(Exception):
        with qtbot.captureExceptions() as exceptions:
            runner.run(lambda: 1, boom)
            qtbot.waitUntil(lambda: not runner.busy)
        raise exceptions[0][1]
    runner.wait()
    runner.shutdown()


def test_worker_threads_never_touch_qt(qtbot):
    """Results and posts travel through a queue; the GUI thread delivers them (no cross-thread signals)."""
    import threading

    runner = TaskRunner()
    seen = []
    runner.run(lambda: runner.post(lambda: seen.append(threading.get_ident())))
    qtbot.waitUntil(lambda: bool(seen))
    assert seen == [threading.main_thread().ident]
    runner.wait()
    runner.shutdown()


def test_a_worker_thread_holds_the_gil_at_most_a_millisecond_while_the_gui_waits(qtbot):
    """Each Python call of a repaint (data(), a delegate) waits for the GIL anew; at Python's default 5 ms a
    busy writer made one repaint a 40-60 ms stall (tests/benchmarks/test_bench_gui_gap.py)."""
    import sys

    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.005)
        runner = TaskRunner()
        assert sys.getswitchinterval() <= 0.001
        runner.shutdown()
    finally:
        sys.setswitchinterval(before)
