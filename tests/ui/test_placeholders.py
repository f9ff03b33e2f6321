"""Issue 15: no placeholder is cut at 1024x700 (they said "Search by ema" and "error or pa")."""

import pytest
from PySide6.QtWidgets import QLineEdit

from console.ui.elide import placeholder_room
from console.ui.panels import panel_specs
from tests.ui.conftest import wait_idle


@pytest.mark.parametrize("key", [s.key for s in panel_specs()])
def test_every_visible_placeholder_fits_at_1024(qtbot, ctx, window, key):
    window.resize(1024, 700)
    window.show_panel(key)
    wait_idle(qtbot, ctx)
    qtbot.wait(30)
    cut = [(e.placeholderText(), e.fontMetrics().horizontalAdvance(e.placeholderText()), placeholder_room(e))
           for e in window.panels[key].findChildren(QLineEdit)
           if e.isVisible() and e.placeholderText()
           and e.fontMetrics().horizontalAdvance(e.placeholderText()) > placeholder_room(e)]
    assert cut == []
