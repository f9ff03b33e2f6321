"""The Jobs panel's health chart is painted directly: building a pyqtgraph plot there was most of the 390-510 ms the
panel's first open froze the GUI thread."""

import pyqtgraph as pg
from PySide6.QtGui import QColor

from console.store.jobs import Health
from console.ui.panels.jobs.health import HealthView
from console.ui.panels.jobs.rate_chart import MINUTE_MS, RateChart, nice_ceiling


def colours_in(widget) -> set[str]:
    image = widget.grab().toImage()
    return {QColor(image.pixel(x, y)).name() for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)}


def test_the_jobs_panel_builds_no_pyqtgraph_plot(qtbot, window):
    panel = window.show_panel("jobs")
    assert panel.findChildren(RateChart)
    assert not panel.findChildren(pg.GraphicsView)


def test_the_chart_draws_succeeded_and_failed_per_minute_in_their_colours(qtbot, ctx):
    view = HealthView(ctx)
    qtbot.addWidget(view)
    view.resize(900, 200)
    view.show()
    ok, bad = ctx.theme.color("ok").name(), ctx.theme.color("danger").name()
    view.show_health(Health(oldest_pending_ms=None, stuck=0, per_minute=[], permanent_failure_rate=None,
                            finished_24h=0))
    empty = colours_in(view.plot)
    start = 1_796_000_000_000
    minutes = [(start + i * MINUTE_MS, 10 + i % 7, i % 3) for i in range(40)]
    view.show_health(Health(oldest_pending_ms=1000, stuck=0, per_minute=minutes, permanent_failure_rate=0.01,
                            finished_24h=500))
    drawn = colours_in(view.plot)
    assert view.plot.per_minute == minutes
    assert ok in drawn and bad in drawn  # the outlines of both series
    assert len(drawn - empty) > len(empty - drawn)  # the fills added colours


def test_the_y_axis_ends_on_a_round_number():
    assert [nice_ceiling(v) for v in (1, 3, 7, 11, 150, 999)] == [1, 5, 10, 20, 200, 1000]
