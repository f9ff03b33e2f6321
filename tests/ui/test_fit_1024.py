"""Issue 15: every panel fits a 1024x700 window (no panel forces a wider window; the Jobs detail and
Refresh stay on screen)."""

import pytest
from PySide6.QtCore import QPoint

from console.ui.main_window import MainWindow
from console.ui.panels import panel_specs
from tests.ui.conftest import wait_idle


@pytest.fixture
def window(qtbot, ctx):
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.resize(1024, 700)
    w.show()
    wait_idle(qtbot, ctx)
    yield w
    w.close()
    wait_idle(qtbot, ctx)


def on_screen(window, widget):
    top_left = widget.mapTo(window, QPoint(0, 0))
    return (widget.isVisible() and top_left.x() >= 0 and top_left.y() >= 0
            and top_left.x() + widget.width() <= 1024 and top_left.y() + widget.height() <= 700)


@pytest.mark.parametrize("key", [s.key for s in panel_specs()])
def test_every_panel_fits_1024x700(qtbot, ctx, window, key):
    window.show_panel(key)
    wait_idle(qtbot, ctx)
    qtbot.wait(50)
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 700, (key, hint)
    window.resize(1024, 700)
    qtbot.wait(50)
    assert window.width() <= 1024 and window.height() <= 700, (key, window.size())


def test_jobs_detail_and_refresh_are_on_screen_at_1024(qtbot, ctx, window):
    window.show_panel("jobs")
    wait_idle(qtbot, ctx)
    panel = window.panels["jobs"]
    qtbot.wait(50)
    assert on_screen(window, panel.refresh_now)
    assert on_screen(window, panel.detail) and panel.detail.width() >= 250


def test_jobs_triage_fits_1024x700(qtbot, ctx, window):
    """At 1024x700 the whole Last error column shows beside the detail, the detail's title shows the whole type, and the
    table keeps more height than the charts below it."""
    from console.ui.panels.jobs.model import LAST_ERROR

    window.show_panel("jobs")
    wait_idle(qtbot, ctx)
    panel = window.panels["jobs"]
    panel.table.selectRow(0)
    qtbot.waitUntil(lambda: panel.detail.detail is not None, timeout=5000)
    qtbot.wait(50)
    header = panel.table.horizontalHeader()
    right = header.sectionViewportPosition(LAST_ERROR) + header.sectionSize(LAST_ERROR)
    assert right <= panel.table.viewport().width(), (right, panel.table.viewport().width())
    job_type = panel.detail.detail.job["type"]
    assert panel.detail.title.shown().startswith(job_type), panel.detail.title.shown()  # the type whole
    assert panel.splitter.height() > panel.bottom.height(), (panel.splitter.height(), panel.bottom.height())


def test_a_long_error_group_filter_does_not_widen_the_window(qtbot, ctx, window):
    window.show_panel("jobs")
    wait_idle(qtbot, ctx)
    panel = window.panels["jobs"]
    title = "Twilio error <n>: Attempt to send to unsubscribed recipient " * 4
    panel.set_error_group(("fingerprint", title))
    wait_idle(qtbot, ctx)
    qtbot.wait(50)
    assert window.minimumSizeHint().width() <= 1024, window.minimumSizeHint()
    assert panel.group_chip.label.text() == f"Error group: {title}"  # whole, for the tooltip
    assert panel.group_chip.label.is_elided()
