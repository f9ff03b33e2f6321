"""Issue 15, live connection failures: explained in a dialog, the window stays on what was open until the
new replica's first page commits, "not a Convex deployment" recognised, no replica file left behind."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from console.client.http import Deployment
from console.ui.connect import connect_live, replica_for
from console.ui.main_window import MainWindow
from tests.standin_helpers import KEY, standin
from tests.ui.conftest import wait_idle
from tests.ui.test_live import close, run_until


class _Close:
    def stop(self):
        pass


@pytest.fixture
def window(qtbot, ctx, loop):
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    wait_idle(qtbot, ctx)
    yield w
    close(w, loop, qtbot, ctx, _Close())


def failed(controller):
    return controller.last_state is not None and controller.last_state.status in ("error", "stopped")


def fits(label):
    return label.height() >= label.heightForWidth(label.width())


def test_a_rejected_key_on_a_known_replica_stays_and_explains(qtbot, ctx, loop, window):
    s = standin()
    try:
        good = connect_live(window, Deployment(s.url, KEY))
        run_until(loop, lambda: good.last_state is not None and good.last_state.status == "live")
        assert not ctx.is_demo
        window.back_to_demo()
        run_until(loop, lambda: not ctx.tasks.busy and ctx.is_demo, timeout=60)
        demo_path = ctx.replica_path
        bad = connect_live(window, Deployment(s.url, "standin|wrong"))  # its replica is complete: no sync dialog
        run_until(loop, lambda: failed(bad))
        run_until(loop, lambda: getattr(window, "_connect_error", None) is not None)
        assert ctx.replica_path == demo_path and ctx.is_demo  # not the old replica's stale data
        box = window._connect_error
        assert box.isVisible() and "deploy key was rejected" in box.text()
        box.close()
        assert replica_for(Deployment(s.url).name).exists()  # a replica the user kept is kept
    finally:
        s.stop()


def test_an_unreachable_url_is_explained_in_full_and_leaves_no_file(qtbot, ctx, loop, window):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    deployment = Deployment(f"http://127.0.0.1:{port}", KEY)
    demo_path = ctx.replica_path
    controller = connect_live(window, deployment)
    run_until(loop, lambda: failed(controller), timeout=60)
    dialog = window._sync_dialog
    qtbot.waitUntil(lambda: "Cannot reach" in dialog.detail.text() and "npx convex dev" in dialog.detail.text())
    qtbot.waitUntil(lambda: fits(dialog.detail))
    assert ctx.replica_path == demo_path and ctx.is_demo  # no empty replica on screen
    run_until(loop, lambda: not replica_for(deployment.name).exists())
    dialog.reject()


class NotConvex(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<html><body><h1>404 Not Found</h1>nginx</body></html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_url_that_is_not_a_deployment_is_recognised(qtbot, ctx, loop, window):
    server = HTTPServer(("127.0.0.1", 0), NotConvex)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        deployment = Deployment(f"http://127.0.0.1:{server.server_port}", KEY)
        controller = connect_live(window, deployment)
        run_until(loop, lambda: failed(controller), timeout=30)
        text = window._sync_dialog.detail.text()
        assert "is not a Convex deployment" in text and "console contract" not in text
        run_until(loop, lambda: not replica_for(deployment.name).exists())
        assert ctx.is_demo
        window._sync_dialog.reject()
    finally:
        server.shutdown()
        server.server_close()


def test_old_replicas_are_offered_for_deletion(qtbot, ctx, window):
    from console.paths import data_dir
    from console.ui.replicas_dialog import ReplicasDialog

    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    old = folder / "happy-otter-123.sqlite"
    old.write_bytes(b"x" * 4096)
    (folder / "happy-otter-123.sqlite-wal").write_bytes(b"x")
    window.delete_old_replicas()
    dialog = window._replicas_dialog
    assert isinstance(dialog, ReplicasDialog) and dialog.ticked() == [old]
    assert ctx.replica_path not in dialog.paths
    dialog.accept()
    assert not old.exists() and not (folder / "happy-otter-123.sqlite-wal").exists()
