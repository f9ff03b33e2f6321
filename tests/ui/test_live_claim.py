"""The GUI never syncs a deployment into a replica that is not its own (here: the demo replica)."""

from console.client.http import Deployment
from console.store.db import get_meta
from console.ui.live import LiveController
from tests.standin_helpers import KEY, standin
from tests.ui.conftest import wait_idle
from tests.ui.test_live import run_until


def test_live_sync_into_the_demo_replica_is_refused_with_a_message(qtbot, ctx, loop):
    s = standin(seed="empty")
    controller = LiveController(ctx, Deployment(s.url, KEY))
    try:
        controller.start()
        run_until(loop, lambda: controller.last_state is not None and controller.last_state.status == "error")
        assert "demo data" in controller.last_state.message
        with ctx.engine.connect() as c:
            assert get_meta(c, "mode") == "demo" and get_meta(c, "deployment") is None
    finally:
        loop.run_until_complete(controller.aclose())
        wait_idle(qtbot, ctx)
        s.stop()
