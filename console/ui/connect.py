"""Connecting to a deployment: the first-sync progress dialog, and the stand-in shortcut."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QProgressBar, QVBoxLayout, QWidget

from console.sync.engine import Progress
from console.sync.loop import LoopState
from console.ui.live import LiveController, describe
from console.ui.plain import esc


class SyncDialog(QDialog):
    """First sync: tables, documents, rate, time left, and Cancel. Closes itself once the replica is live."""

    def __init__(self, controller: LiveController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle("Building the replica")
        self.setObjectName("sync-dialog")
        self.setMinimumWidth(520)
        self.title = QLabel(f"Reading <b>{esc(controller.deployment.base)}</b> into the local replica…")
        self.title.setTextFormat(Qt.TextFormat.RichText)  # our markup, the data escaped
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.detail = QLabel("Connecting…")
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.RichText)  # our markup, the data escaped
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.bar)
        layout.addWidget(self.detail)
        layout.addWidget(self.buttons)
        controller.progress.connect(self.on_progress)
        controller.state.connect(self.on_state)

    def on_progress(self, p: Progress) -> None:
        if p.phase == "snapshot":
            self.bar.setValue(int(p.fraction * 1000))
        self.detail.setText(esc(describe(p)))

    def on_state(self, s: LoopState) -> None:
        if s.status == "live":
            self.bar.setValue(1000)
            self.accept()
        elif s.status in ("error", "stopped"):
            self.bar.setRange(0, 1000)
            self.detail.setText(f"<b>{'Stopped' if s.status == 'stopped' else 'Cannot sync'}:</b> {esc(s.message)}")
            self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Close)
        else:
            self.detail.setText(esc(s.message))

    def cancel(self) -> None:
        if self.controller.running:
            self.controller.cancel()
            self.detail.setText("Canceling… (every page read so far is kept; the next connect resumes there)")
        else:
            self.reject()


# -- switching what the window shows ---------------------------------------------------------------

def replica_for(deployment_name: str):
    from console.paths import data_dir

    return data_dir() / f"{deployment_name}.sqlite"


def connect_live(window, deployment, *, show_dialog: bool = True) -> LiveController:
    """Open the deployment's own replica, start syncing, show first-sync progress if it is not live yet."""
    import asyncio

    from console.store.db import open_replica

    ctx = window.ctx
    if ctx.live is not None:
        old = ctx.live
        ctx.live = None
        ctx.tasks.spawn(old.aclose())
    path = replica_for(deployment.name)
    if path != ctx.replica_path:
        ctx.tasks.wait()
        ctx.replace_replica(open_replica(path), path)
    controller = LiveController(ctx, deployment, on_demand=ctx.settings.on_demand())
    ctx.live = controller
    controller.state.connect(window.on_live_state)
    controller.start()
    if show_dialog and not controller.sync.status()["live"]:
        dialog = SyncDialog(controller, window)
        dialog.open()
        window._sync_dialog = dialog
    return controller


def back_to_demo(window) -> None:
    import asyncio

    from console.paths import default_demo_replica
    from console.store.db import open_replica

    ctx = window.ctx
    if ctx.live is not None:
        old = ctx.live
        ctx.live = None
        ctx.tasks.spawn(old.aclose())
    path = default_demo_replica()
    if path.exists():
        ctx.tasks.wait()
        ctx.replace_replica(open_replica(path), path)
    else:
        from console.ui.demo_reset import reset_demo_replica

        reset_demo_replica(ctx)


def start_standin_and_connect(window):
    """A local stand-in deployment (demo data, loopback only) and a live connection to it."""
    from console.client.http import Deployment
    from console.secrets import DEPLOY_KEY
    from console.standin.app import start_standin

    ctx = window.ctx
    standin = window.standin
    if standin is None:
        standin = start_standin()
        window.standin = standin
    ctx.settings.deployment_url = standin.url
    ctx.secrets.set(DEPLOY_KEY, standin.state.admin_key, session_only=True)
    ctx.status_message.emit(f"Stand-in deployment running at {standin.url} (this session only)")
    return connect_live(window, Deployment(standin.url, standin.state.admin_key))
