"""Starting the GUI: QApplication, theme, qasync event loop, replica, main window."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Callable

from console import __version__
from console.paths import default_demo_replica


class PlatformError(Exception):
    pass


def _check_xcb() -> None:
    """Qt's X11 plugin needs system libraries that minimal installs lack; Qt's own message for that
    is cryptic, so load the plugin first and name what is missing."""
    import ctypes

    import PySide6

    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if not plugin.exists():
        return
    try:
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        missing = str(exc).split(":")[0].strip() if ".so" in str(exc) else str(exc)
        raise PlatformError(
            f"Qt cannot use the X11 display: the system library {missing} is missing. On Debian or Ubuntu: "
            "sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 "
            "libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0"
        ) from exc


def ensure_platform() -> None:
    """With no display on Linux, fall back to the offscreen platform and say so, rather than abort;
    with an X11 display whose Qt plugin cannot load, say which system library is missing."""
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return
    if os.environ.get("WAYLAND_DISPLAY"):
        return
    if os.environ.get("DISPLAY"):
        _check_xcb()
        return
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    print(
        "ops-console: no display found (DISPLAY and WAYLAND_DISPLAY are unset); running offscreen, so no "
        "window is visible. Run it under a desktop session or `xvfb-run ops-console`, or render the panels "
        "to PNG with `ops-console screenshot --out DIR`. Ctrl+C quits.",
        file=sys.stderr,
    )


def make_app(argv: list[str] | None = None):
    from PySide6.QtWidgets import QApplication

    from console.ui.theme import app_icon

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("Convex Ops Console")
    app.setOrganizationName("convex-ops-console")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    from console.ui.gc_guard import install

    install(app)  # garbage collection on the GUI thread only (see gc_guard)
    return app


def build_window(app, replica: Path):
    """Context and main window for an existing replica (no event loop needed: used by screenshots)."""
    from console.secrets import SecretStore
    from console.settings import Settings
    from console.store.db import open_replica
    from console.ui.context import AppContext
    from console.ui.main_window import MainWindow
    from console.ui.theme import Theme

    settings = Settings.load()
    theme = Theme(app, settings.theme)
    ctx = AppContext(open_replica(replica), replica, settings, SecretStore(), theme)
    return ctx, MainWindow(ctx)


def check_replica(replica: Path, *, default_demo: bool, ask: Callable[[str], bool],
                  tell: Callable[[str], None]) -> str:
    """Before the window opens: "ok" (the replica opens), "rebuild" (the default demo replica was broken and,
    as the user agreed, moved aside to `<name>.broken-<time>`: generate a fresh one) or "fail" (told why)."""
    from sqlalchemy.exc import DBAPIError

    from console.store.db import ReplicaBroken, ReplicaError, move_aside, open_replica

    try:
        open_replica(replica).dispose()
        return "ok"
    except ReplicaBroken as exc:
        if default_demo and ask(f"{exc}\n\nMove the broken file aside (it is kept, renamed "
                                f"{replica.name}.broken-<time>) and generate fresh demo data?"):
            try:
                moved = move_aside(replica)
            except OSError as move_exc:
                tell(f"Could not move {replica} aside: {move_exc}")
                return "fail"
            print(f"ops-console: moved the broken demo replica to {moved}", file=sys.stderr)
            return "rebuild"
        tell(str(exc))
    except (ReplicaError, DBAPIError) as exc:
        tell(str(exc))
    return "fail"


def _ask(message: str) -> bool:
    from PySide6.QtWidgets import QMessageBox

    from console.ui.plain import question

    answer = question(None, "Broken demo replica", message)
    return answer == QMessageBox.StandardButton.Yes


def _tell(message: str) -> None:
    from console.ui.plain import critical

    print(f"ops-console: {message}", file=sys.stderr)
    critical(None, "Cannot open replica", message)


def run(db: Path | None = None, fresh_demo: bool = False) -> int:
    try:
        ensure_platform()
    except PlatformError as exc:
        print(f"ops-console: {exc}", file=sys.stderr)
        return 3
    import qasync  # noqa: F401

    from console.ui.eventloop import GuiEventLoop
    from PySide6.QtCore import QTimer

    from console.ui.plain import critical
    from console.ui.tasks import TaskRunner

    # The generator, the store and the main window load later (on the worker thread at a first start): the first
    # window, the progress dialog, comes up before them.
    app = make_app()
    replica = db or default_demo_replica()
    if not (db is None and (fresh_demo or not replica.exists())):
        # A broken replica is said in a dialog (and the default demo one offered a rebuild), not a traceback.
        if check_replica(replica, default_demo=db is None, ask=_ask, tell=_tell) == "fail":
            return 2
    loop = GuiEventLoop(app)
    asyncio.set_event_loop(loop)
    # Let Python see Ctrl+C while Qt's loop runs.
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    tick = QTimer()
    tick.start(250)
    tick.timeout.connect(lambda: None)

    state: dict = {}

    def open_window() -> None:
        from sqlalchemy.exc import DBAPIError

        from console.store.db import ReplicaError

        try:
            ctx, window = build_window(app, replica)
        except (ReplicaError, DBAPIError) as exc:
            _tell(str(exc))
            state["exit"] = 2
            QTimer.singleShot(0, app.quit)  # also when the event loop has not started yet
            return
        state["ctx"], state["window"] = ctx, window
        window.show()
        if db is None and not fresh_demo:
            _connect_if_configured(window)

    needs_demo = db is None and (fresh_demo or not replica.exists())
    if needs_demo:
        from console.demo.progress import GenerationProgress
        from console.ui.first_start import FirstStartDialog

        meter = GenerationProgress()
        progress = FirstStartDialog(meter)
        progress.start()
        runner = TaskRunner()
        replica.parent.mkdir(parents=True, exist_ok=True)

        def made(_counts) -> None:
            progress.finish()
            open_window()  # generate() wrote a temporary file and renamed it into place once complete

        def failed(exc: BaseException) -> None:
            progress.finish()
            critical(None, "Demo data", f"Could not generate demo data: {exc}")
            state["exit"] = 1
            app.quit()

        runner.run(lambda: generate_for_first_start(replica, meter), made, failed)
        state["runner"] = runner
    else:
        open_window()

    if "runner" in state:
        app.aboutToQuit.connect(state["runner"].shutdown)
    closing = asyncio.Event()
    app.aboutToQuit.connect(closing.set)
    with loop:
        loop.run_until_complete(closing.wait())
        if "ctx" in state:
            # Close the deployment's connection cleanly, while the loop is still open (`with loop` closes it).
            finish_closing(loop, getattr(state["window"], "_closing", None))
    if "ctx" in state:
        state["ctx"].tasks.wait()
        state["ctx"].tasks.shutdown()
        state["ctx"].engine.dispose()
        leftover = getattr(state["window"], "standin_replica", None)
        if leftover is not None:  # the stand-in's replica lived for this session only
            from console.ui.connect import remove_replica

            remove_replica(leftover)
    return state.get("exit", 0)


def generate_for_first_start(replica: Path, meter) -> dict[str, int]:
    """On the worker thread: the demo replica, then the main window's modules (0.3-0.5 s of imports that
    would otherwise freeze the GUI thread just as the window opens; importing creates no QObject)."""
    from console.demo.generator import generate
    from console.ui.panels import panel_specs
    from console.ui.preload import WINDOW, import_all, panel_modules

    counts = generate(replica, meter=meter)
    import_all(WINDOW + panel_modules(panel_specs()[:1]))
    return counts


def finish_closing(loop, closing_task) -> None:
    """Wait for the window's closing work (the live connection's aclose) on a loop that is still open."""
    if closing_task is None or closing_task.done() or loop.is_closed():
        return
    try:
        loop.run_until_complete(closing_task)
    except Exception as exc:  # closing is best effort: a failure here must not turn quitting into a crash
        print(f"ops-console: closing the live connection: {exc}", file=sys.stderr)


def _connect_if_configured(window) -> None:
    """With a deployment URL in Settings and its key in the keyring, start in live mode."""
    from console.client.http import Deployment
    from console.secrets import DEPLOY_KEY

    ctx = window.ctx
    url = ctx.settings.deployment_url
    key = ctx.secrets.get(DEPLOY_KEY) if url else None
    if url and key:
        from console.ui.connect import connect_live

        connect_live(window, Deployment(url, key))
