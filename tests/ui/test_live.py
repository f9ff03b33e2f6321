"""Live mode in the GUI: connect to a stand-in, first sync with progress, changes flow to the panels."""

import asyncio
import time

from console.client.http import Deployment
from console.ui.connect import connect_live
from console.ui.main_window import MainWindow
from tests.standin_helpers import KEY, standin
from tests.ui.conftest import wait_idle


def run_until(loop, condition, timeout=20.0):
    async def wait():
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.02)

    loop.run_until_complete(wait())


def close(window, loop, qtbot, ctx, standin_):
    window.close()
    if getattr(window, "_closing", None):
        loop.run_until_complete(window._closing)
    wait_idle(qtbot, ctx)
    standin_.stop()


def test_connect_sync_and_follow_changes(qtbot, ctx, loop):
    s = standin()
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    try:
        states, changes = [], []
        controller = connect_live(window, Deployment(s.url, KEY))
        controller.state.connect(states.append)
        ctx.data_changed.connect(changes.append)
        dialog = window._sync_dialog
        assert dialog.isVisible()
        run_until(loop, lambda: any(st.status == "live" for st in states))
        assert not dialog.isVisible()
        assert not ctx.is_demo and not window.banner.isVisible()
        assert "Live · up to date" in window.mode_label.text()
        users = window.panels["users"]
        run_until(loop, lambda: not ctx.tasks.busy and users.model.rowCount() > 0)
        assert users.model.rowCount() == 150

        target = s.store.scan("users", limit=1)[0]
        with s.store.transaction() as tx:
            tx.patch("users", target["_id"], {"name": "Aaaa Changed Live"})
        run_until(loop, lambda: any(target["_id"] in c.get("users", ()) for c in changes))
        run_until(loop, lambda: not ctx.tasks.busy and users.model.rows
                  and users.model.rows[0].name == "Aaaa Changed Live")
        assert controller.call_log.recorded > 0
    finally:
        close(window, loop, qtbot, ctx, s)


def test_a_rejected_key_is_explained_in_the_dialog(qtbot, ctx, loop):
    s = standin(seed="empty")
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    try:
        controller = connect_live(window, Deployment(s.url, "standin|wrong"))
        run_until(loop, lambda: controller.last_state is not None and controller.last_state.status == "error")
        assert "deploy key was rejected" in window._sync_dialog.detail.text()
        assert "stopped" in window.mode_label.text()
    finally:
        close(window, loop, qtbot, ctx, s)
