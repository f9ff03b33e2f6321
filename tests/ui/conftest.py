import pytest

from console.secrets import SecretStore
from console.settings import Settings
from console.store.db import open_replica
from console.ui.context import AppContext
from console.ui.theme import Theme


@pytest.fixture(scope="session")
def loop(qapp):
    """One qasync event loop for the whole session, closed at its end: a qasync loop closed earlier leaves
    socket notifiers behind in Qt that fire into freed objects once their descriptors are reused."""
    import asyncio

    import qasync

    from console.ui.eventloop import GuiEventLoop

    event_loop = GuiEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(event_loop)
    yield event_loop
    event_loop.run_until_complete(asyncio.sleep(0.05))
    event_loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture(scope="session", autouse=True)
def gui_thread_gc(qapp):
    """As in the app: collect garbage on the GUI thread only (a worker thread destroying a Qt object deadlocks)."""
    from console.ui.gc_guard import install

    install(qapp)


@pytest.fixture(scope="session")
def theme(qapp):
    return Theme(qapp, "light")


@pytest.fixture
def ctx(qapp, theme, demo_db, loop):
    context = AppContext(open_replica(demo_db), demo_db, Settings(search_debounce_ms=50, demo_worker=False), SecretStore(), theme)
    yield context
    settle(qapp, context)
    assert not context.tasks.busy, "a background task was still in flight"
    context.close()
    context.engine.dispose()


def settle(qapp, context, timeout=5.0):
    """Let the work submitted so far finish and its results reach the GUI thread (they go by a timer)."""
    import time

    context.tasks.wait(timeout)
    deadline = time.monotonic() + timeout
    while context.tasks.busy and time.monotonic() < deadline:
        qapp.processEvents()
        context.tasks.wait(0.05)
        time.sleep(0.005)


def bulk_dialog(qtbot, panel):
    """The Jobs panel's "… all matching" dialog, once the count behind it has been read and it is open."""
    qtbot.waitUntil(lambda: getattr(panel, "_bulk_dialog", None) is not None and panel._bulk_dialog.isVisible())
    return panel._bulk_dialog


def wait_idle(qtbot, ctx, timeout=10_000):
    """Until no background task is in flight (results have been delivered to the GUI thread)."""
    qtbot.waitUntil(lambda: not ctx.tasks.busy, timeout=timeout)


@pytest.fixture
def window(qtbot, ctx):
    """The main window on the test demo replica, shown; closed (and its work drained) at the end."""
    from console.ui.main_window import MainWindow

    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    wait_idle(qtbot, ctx)
    yield w
    import shiboken6

    if shiboken6.isValid(w):  # pytest-qt may have closed and deleted it already (fixtures of the test ran loops)
        w.close()
    wait_idle(qtbot, ctx)


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch):
    """A modal message box in a test would wait for a click forever, and a hang inside Qt's nested event loop
    is out of pytest-timeout's reach (CI stalled on one). Any box a test did not answer itself is dismissed
    at once and fails the test with its text. Tests that expect a box patch QMessageBox themselves."""
    from PySide6.QtWidgets import QMessageBox

    shown: list[str] = []

    def dismiss(box):
        shown.append(f"{box.windowTitle()}: {box.text()}")
        return int(QMessageBox.StandardButton.Cancel)

    def static(name):
        def answer(parent, title, text, *args, **kwargs):
            shown.append(f"{title}: {text}")
            return QMessageBox.StandardButton.No if name == "question" else QMessageBox.StandardButton.Ok
        return staticmethod(answer)

    monkeypatch.setattr(QMessageBox, "exec", dismiss)
    from PySide6.QtWidgets import QInputDialog  # a reason asked (console/ui/reason.py): declined, and reported

    def decline(dialog):
        shown.append(f"{dialog.windowTitle()}: {dialog.labelText()}")
        return 0

    monkeypatch.setattr(QInputDialog, "exec", decline)
    for name in ("question", "warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, name, static(name))
    yield shown
    assert not shown, f"a modal message box opened that the test did not expect: {shown}"
