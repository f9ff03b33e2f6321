"""Issue 15: Tab is not trapped inside tables, Down in a search box reaches the results, Help lists the
shortcuts and links the README."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from console.ui.main_window import MainWindow
from tests.ui.conftest import wait_idle


@pytest.fixture
def window(qtbot, ctx):
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    wait_idle(qtbot, ctx)
    yield w
    w.close()
    wait_idle(qtbot, ctx)


@pytest.mark.parametrize("key,box", [("users", "search"), ("jobs", "text_edit"), ("roles", "search"),
                                     ("webhooks", "text")])
def test_down_reaches_the_results_and_tab_leaves_the_table(qtbot, ctx, window, key, box):
    window.show_panel(key)
    wait_idle(qtbot, ctx)
    panel = window.panels[key]
    search = getattr(panel, box)
    search.setFocus()
    qtbot.waitUntil(search.hasFocus)
    assert panel.table.model().rowCount() > 0
    qtbot.keyClick(search, Qt.Key.Key_Down)
    assert panel.table.hasFocus() and panel.table.currentIndex().row() == 0
    assert not panel.table.tabKeyNavigation()
    qtbot.keyClick(panel.table, Qt.Key.Key_Tab)
    assert not panel.table.hasFocus(), "Tab left the table"
    wait_idle(qtbot, ctx)


def test_help_lists_the_shortcuts_and_links_the_readme(qtbot, window):
    shortcuts = dict(window.shortcuts())
    assert "Quick find" in shortcuts.values() and any("Ctrl+K" in k for k in shortcuts)
    window.show_shortcuts()
    box = window._shortcuts_box
    assert box.isVisible() and "Quick find" in box.text()
    box.close()
    url = window.readme_url()
    assert "README" in url.toString() or "pypi.org" in url.toString()
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    assert [a.text() for a in help_menu.actions() if a.text()][:2] == ["&Keyboard shortcuts",
                                                                        "&README (how the console works)"]
