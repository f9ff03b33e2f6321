"""Replays and deploy keys with proxies and plain HTTP (issue 14, low)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest

from console.webhooks.diagnose import Delivery
from console.webhooks.replay import prepare, proxy_for, send


class _Recorder(HTTPServer):
    def __init__(self, status: int):
        self.hits: list[str] = []
        status_ = status

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.server.hits.append(self.path)
                self.send_response(status_)
                self.send_header("Content-Length", "0")
                self.end_headers()

        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self):
        self.shutdown()
        self.server_close()
        self.thread.join(5)


@pytest.fixture
def servers(monkeypatch):
    proxy, target = _Recorder(502), _Recorder(200)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, proxy.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    yield proxy, target
    proxy.stop()
    target.stop()


def test_loopback_replays_never_go_through_the_environments_proxy(servers, loop):
    proxy, target = servers
    d = Delivery("stripe", "https://x.convex.site/stripe", {"Stripe-Signature": "t=1,v1=00"}, b"{}")

    async def go():
        async with httpx.AsyncClient() as client:  # as the Webhooks panel makes it: trust_env on
            for host in ("127.0.0.1", "localhost"):
                url = target.url.replace("127.0.0.1", host) + "/stripe"
                r = await send(client, prepare(d, "verbatim", url))
                assert r.status == 200, r

    loop.run_until_complete(go())  # the session's loop: asyncio.run would unset it for later tests
    assert proxy.hits == [] and target.hits == ["/stripe", "/stripe"]
    assert proxy_for(target.url + "/stripe") is None


def test_replays_that_leave_the_machine_name_the_proxy(servers):
    proxy, _ = servers
    assert proxy_for("https://hooks.example.com/stripe") == proxy.url


def test_deploy_key_over_plain_http_to_another_machine_asks_first(qtbot, ctx, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from console.secrets import DEPLOY_KEY
    from console.ui.settings_dialog import SettingsDialog

    asked: list[str] = []

    def answer(box):
        asked.append(box.text())
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "exec", answer)
    dialog = SettingsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.session_only.setChecked(True)
    dialog.url.setText("http://ops.example.com:3210")
    dialog.key.setText("prod:otter|secret")
    dialog.save()
    assert asked and "plain http://" in asked[0]
    assert ctx.settings.deployment_url != "http://ops.example.com:3210" and ctx.secrets.get(DEPLOY_KEY) is None
    asked.clear()
    dialog.url.setText("http://127.0.0.1:3210")  # a local deployment: nothing crosses the network
    dialog.save()
    assert not asked and ctx.settings.deployment_url == "http://127.0.0.1:3210"
    qtbot.waitUntil(lambda: not ctx.tasks.busy, timeout=5000)
