"""Connecting to a deployment: the first-sync progress dialog, and the stand-in shortcut."""

from __future__ import annotations


from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QMessageBox, QProgressBar, QVBoxLayout, QWidget

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
            self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Close)
            self.adjustSize()  # the whole explanation, never cut off
        else:
            self.detail.setText(esc(s.message))
            self.adjustSize()

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


def remove_replica(path) -> None:
    """Delete a replica file and SQLite's side files (a replica nobody kept: rebuilt on the next connect)."""
    from pathlib import Path

    for p in (Path(path), Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal"), Path(f"{path}-changed")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            pass  # still open elsewhere (Windows): left for "Delete old replicas…"


def connect_live(window, deployment, *, show_dialog: bool = True) -> LiveController:
    """Sync the deployment into its own replica. The window stays on what it shows until the new replica's
    first page has committed (or it is live); a failure before that is explained in a dialog, and a replica
    file this attempt created is removed."""
    from console.store.db import make_engine, prepare_replica

    ctx = window.ctx
    path = replica_for(deployment.name)
    same = path == ctx.replica_path
    existed = path.exists()
    # A new replica's engine costs nothing here; creating or migrating its file runs on the writer thread.
    engine = ctx.engine if same else make_engine(path)
    controller = LiveController(ctx, deployment, on_demand=ctx.settings.on_demand(), engine=engine,
                                prepare=None if same else (lambda: prepare_replica(engine, path)))
    switched = {"done": False}

    def switch() -> None:
        if switched["done"]:
            return
        switched["done"] = True
        old = ctx.live
        ctx.live = controller
        if old is not None and old is not controller:
            ctx.tasks.spawn(old.aclose())
        if not same:
            ctx.replace_replica(engine, path)
        controller.state.connect(window.on_live_state)
        if controller.last_state is not None:
            window.on_live_state(controller.last_state)
            ctx.sync_state.emit(controller.last_state)
        window.show_deployment()
        controller.announce_figures()

    def on_progress(p) -> None:
        if p.documents > 0 or (p.phase == "snapshot" and p.tables_done > 0):
            switch()

    def on_state(st: LoopState) -> None:
        if st.status == "live":
            switch()
        elif st.status in ("error", "stopped") and not switched["done"]:
            controller.state.disconnect(on_state)
            controller.progress.disconnect(on_progress)
            failed(st)

    def failed(st: LoopState) -> None:
        async def forget() -> None:
            await controller.aclose()
            if not same:
                await ctx.tasks.awrite(engine.dispose)  # after the writes queued for it
                if not existed:
                    remove_replica(path)  # the user never kept it

        ctx.tasks.spawn(forget())
        dialog = getattr(window, "_sync_dialog", None)
        if dialog is None or not dialog.isVisible() or dialog.controller is not controller:
            if st.status == "error":  # not modal: the window goes on working on what it showed
                box = QMessageBox(QMessageBox.Icon.Warning, "Cannot connect",
                                  f"Could not connect to {deployment.base}:\n\n{st.message}\n\n"
                                  "The window still shows what it showed before.",
                                  QMessageBox.StandardButton.Close, window)
                box.setTextFormat(Qt.TextFormat.PlainText)  # the server's words, as plain text
                box.setObjectName("connect-error")
                box.open()
                window._connect_error = box

    controller.progress.connect(on_progress)
    controller.state.connect(on_state)
    if same:
        switch()
    def open_dialog() -> None:
        dialog = SyncDialog(controller, window)
        dialog.open()
        window._sync_dialog = dialog

    async def dialog_unless_live() -> None:  # a replica kept from before may be up to date: no dialog then
        await controller.prepared.wait()
        if not controller.running:
            return  # it failed preparing or checking: explained by `failed`
        try:
            live = (await controller.sync.astatus())["live"]
        except Exception:  # the replica could not be read: the sync says why, in its own words
            live = False
        if not live and controller.running:
            open_dialog()

    controller.start()
    if show_dialog:
        if not existed:
            open_dialog()  # a new replica: a first sync for certain
        else:
            ctx.tasks.spawn(dialog_unless_live())
    return controller


def back_to_demo(window) -> None:
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
        forget_standin_replica(window)
    else:
        from console.ui.demo_reset import reset_demo_replica

        reset_demo_replica(ctx)


def forget_standin_replica(window) -> None:
    """Remove the session's stand-in replica once the window no longer shows it (nobody kept it)."""
    path = getattr(window, "standin_replica", None)
    if path is not None and path != window.ctx.replica_path:
        remove_replica(path)
        window.standin_replica = None


def start_standin_and_connect(window):
    """A local stand-in deployment (demo data, loopback only, in its own process) and a live connection to
    it. The stand-in seeds its data while the window stays responsive; returns the task that connects."""
    return window.ctx.tasks.spawn(_standin_and_connect(window))


async def _standin_and_connect(window):
    from console.client.http import Deployment
    from console.secrets import DEPLOY_KEY
    from console.standin.process import StandinProcess, StandinStartError

    ctx = window.ctx
    standin = window.standin
    if standin is None:
        ctx.status_message.emit("Starting a local stand-in deployment with demo data…")
        try:
            standin = await StandinProcess.start()
        except (OSError, StandinStartError) as exc:
            window.show_message(f"The local stand-in deployment did not start: {exc}")
            return None
        window.standin = standin
    ctx.settings.deployment_url = standin.url
    ctx.secrets.set(DEPLOY_KEY, standin.admin_key, session_only=True)
    # The stand-in lives for this session only, and so does its replica: removed when left or at quit.
    window.standin_replica = replica_for(Deployment(standin.url).name)
    ctx.status_message.emit(f"Stand-in deployment running at {standin.url} (this session only)")
    return connect_live(window, Deployment(standin.url, standin.admin_key))
