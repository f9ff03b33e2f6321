"""The call-rate panel: ranges, legend toggles, exports."""

import csv

import pytest

from console.ui.main_window import MainWindow
from tests.ui.conftest import wait_idle


@pytest.fixture
def panel(qtbot, ctx):
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    w.show_panel("callrates")
    wait_idle(qtbot, ctx)
    yield w.panels["callrates"]
    w.close()
    wait_idle(qtbot, ctx)


def test_switch_ranges_and_toggle_a_series(qtbot, panel, ctx):
    # the test replica's traffic is generated around its own fixed moment: look at that week
    from console.store.db import get_meta

    with ctx.engine.connect() as c:
        now = int(get_meta(c, "demo_now_ms")) / 1000
    from PySide6.QtCore import QDateTime

    panel.range_buttons.button(4).click()  # custom
    panel.custom_from.setDateTime(QDateTime.fromSecsSinceEpoch(int(now - 7 * 86400)))
    panel.custom_to.setDateTime(QDateTime.fromSecsSinceEpoch(int(now)))
    wait_idle(qtbot, ctx)
    panel.refresh()
    wait_idle(qtbot, ctx)
    assert panel.charts["rates"].series and "calls saved" in panel.summary.text()
    curve = panel.curves["rates"]["auth:getSession"]
    legend = panel.rows["rates"].legend  # the legend table beside the chart
    row = [r.name for r in legend.legend.rows].index("auth:getSession")
    rect = legend.visualRect(legend.model().index(row, 0))
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    QTest.mouseClick(legend.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
    assert not curve.isVisible()
    QTest.mouseClick(legend.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
    assert curve.isVisible()
    for i in range(4):
        panel.range_buttons.button(i).click()
        wait_idle(qtbot, ctx)
    assert panel.timer.isActive() is False  # 7 d: no live refresh
    panel.range_buttons.button(0).click()
    assert panel.timer.isActive()  # live: rolling refresh while visible
    panel.on_hidden()
    assert not panel.timer.isActive()


def test_exports(qtbot, panel, ctx, tmp_path):
    panel.export_csv(tmp_path / "rates.csv")
    panel.export_png(tmp_path / "rates.png")
    rows = list(csv.reader((tmp_path / "rates.csv").open()))
    assert rows[0][0] == "time" and any(h.startswith("latency ms: p99") for h in rows[0])
    assert len(rows) == panel.charts["rates"].buckets + 1
    assert (tmp_path / "rates.png").stat().st_size > 5000


def test_the_charts_paint_one_turn_after_the_panel_on_first_open_and_then_stay_live(qtbot, ctx):
    """The first open splits building from the charts' first paint (the GUI froze 110-150 ms in one turn);
    the charts must come back to painting, or the panel would show blank charts."""
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    w.show_panel("callrates")
    panel = w.panels["callrates"]
    assert not panel.graphics.updatesEnabled()  # this turn: the rest of the panel
    qtbot.waitUntil(panel.graphics.updatesEnabled, timeout=2000)
    wait_idle(qtbot, ctx)
    w.show_panel("users")
    w.show_panel("callrates")
    assert panel.graphics.updatesEnabled()  # only the first open defers
    image = panel.rows["rates"].widget.grab().toImage()
    assert len({image.pixel(x, image.height() // 2) for x in range(0, image.width(), 7)}) > 1  # drawn, not blank
    w.close()
    wait_idle(qtbot, ctx)
