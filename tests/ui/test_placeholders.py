"""Issue 15: no placeholder is cut at 1024x700 (they said "Search by ema" and "error or pa")."""

import pytest
from PySide6.QtWidgets import QLineEdit, QTabWidget

from console.ui.elide import placeholder_room
from console.ui.panels import panel_specs
from tests.ui.conftest import wait_idle


@pytest.mark.parametrize("key", [s.key for s in panel_specs()])
def test_every_visible_placeholder_fits_at_1024(qtbot, ctx, window, key):
    window.resize(1024, 700)
    window.show_panel(key)
    wait_idle(qtbot, ctx)
    qtbot.wait(30)
    panel = window.panels[key]
    cut = set()
    for tabs in [None] + panel.findChildren(QTabWidget):  # every tab's edits too (the audit log's filter)
        for i in range(tabs.count() if tabs is not None else 1):
            if tabs is not None:
                tabs.setCurrentIndex(i)
                qtbot.wait(20)
            cut |= {(e.placeholderText(), e.fontMetrics().horizontalAdvance(e.placeholderText()), placeholder_room(e))
                    for e in panel.findChildren(QLineEdit)
                    if e.isVisible() and e.placeholderText()
                    and e.fontMetrics().horizontalAdvance(e.placeholderText()) > placeholder_room(e)}
    wait_idle(qtbot, ctx)
    assert cut == set()
