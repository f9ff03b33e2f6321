"""`ops-console screenshot --out DIR`: render every panel of the demo to PNG, then exit.

This is how the README's pictures are made and how the UI is looked at on a machine with no display.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import text


# With the demo worker running on a real display the app is never quiet for long: wait less for it.
SETTLE_S = 20.0


def settle(app, ctx, timeout: float | None = None, quiet_ms: int = 300) -> None:
    """Process events until background work is done and the UI has been quiet for `quiet_ms`."""
    deadline = time.monotonic() + (SETTLE_S if timeout is None else timeout)
    quiet_since = None
    while time.monotonic() < deadline:
        app.processEvents()
        if ctx.tasks.busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif (time.monotonic() - quiet_since) * 1000 >= quiet_ms:
            return
        time.sleep(0.01)


def _interesting_users(ctx) -> tuple[str | None, str | None]:
    """An active customer with organizations and sessions, and a deactivated one, for the pictures."""
    with ctx.engine.connect() as conn:
        active = conn.execute(text(
            "SELECT u.id FROM users u JOIN members m ON m.user_id = u.id JOIN billing_accounts b ON b.user_id = u.id "
            "WHERE u.is_active AND u.role = 'user' AND m.role LIKE '%admin%' AND u.phone IS NOT NULL "
            "AND EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id AND s.active) "
            "AND EXISTS (SELECT 1 FROM chats c WHERE c.user_id = u.id) ORDER BY u.pk LIMIT 1"
        )).scalar()
        inactive = conn.execute(text(
            "SELECT u.id FROM users u WHERE NOT u.is_active AND EXISTS (SELECT 1 FROM sessions s "
            "WHERE s.user_id = u.id) ORDER BY u.pk LIMIT 1"
        )).scalar()
    return active, inactive


def _live_shots(app, ctx, window, shot) -> None:
    """Live mode against a local stand-in: the first-sync dialog part-way, then the live window."""
    import asyncio

    import qasync  # noqa: F401

    from console.ui.eventloop import GuiEventLoop

    from console.client.http import Deployment
    from console.standin.app import start_standin
    from console.ui.connect import connect_live

    app.setQuitOnLastWindowClosed(False)
    loop = GuiEventLoop(app, already_running=False)
    asyncio.set_event_loop(loop)
    standin = start_standin(latency_ms=40, worker=False)

    async def go() -> None:
        controller = connect_live(window, Deployment(standin.url, standin.state.admin_key))
        while controller.sync.progress.fraction < 0.3 and not (controller.last_state and
                                                                controller.last_state.status in ("live", "error")):
            await asyncio.sleep(0.05)
        window._sync_dialog.grab().save(str(shot.out / "live-sync.png"))
        shot.saved.append(shot.out / "live-sync.png")
        while not (controller.last_state and controller.last_state.status in ("live", "error")):
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        window.grab().save(str(shot.out / "live.png"))
        shot.saved.append(shot.out / "live.png")
        ctx.live = None
        await controller.aclose()

    try:
        loop.run_until_complete(go())
    finally:
        standin.stop()
        asyncio.set_event_loop(None)


SIZES = ((1440, 900), (1024, 700))


def _prepare_new_panel(app, ctx, window, key: str) -> None:
    """Data, Functions and Logs (issue 17): something worth looking at in each."""
    panel = window.panels[key]
    if key == "data":
        with ctx.engine.connect() as conn:
            job = conn.execute(text("SELECT id FROM jobs WHERE user_id IS NOT NULL AND status = 'dead' "
                                    "ORDER BY created_at DESC LIMIT 1")).scalar()
        from console.store.browse import TableRef

        settle(app, ctx)
        panel.open_table(TableRef("", "jobs", "jobs"), remember=False, select=job)
        settle(app, ctx)
        if panel.model.rowCount() and not panel.table.selectionModel().hasSelection():
            panel.table.selectRow(0)
    elif key == "functions":
        with ctx.engine.connect() as conn:
            job = conn.execute(text("SELECT id FROM jobs WHERE status = 'dead' LIMIT 1")).scalar()
        panel.function.setCurrentText("jobs:get")
        panel.args.setPlainText('{\n  "jobId": "%s"\n}' % job)
        panel.run()
    elif key == "logs":
        panel.on_shown()
        settle(app, ctx)
        panel.tail.stop()  # a still picture
        for i, r in enumerate(panel.model.rows):
            if r.outcome == "failure":
                panel.table.selectRow(i)
                break
    settle(app, ctx)


def _screen_capture(path: Path) -> None:
    """What the X server shows (`import -window root`): a real window's pixels, not a widget's render."""
    import shutil
    import subprocess

    if shutil.which("import"):
        subprocess.run(["import", "-window", "root", str(path)], check=True, timeout=60)
    else:
        from PySide6.QtGui import QGuiApplication

        QGuiApplication.primaryScreen().grabWindow(0).save(str(path))


def take_screenshots(out: Path, db: Path | None = None, theme: str = "light", live: bool = False,
                     size: tuple[int, int] | None = None, screen: bool = False,
                     panels: set[str] | None = None) -> list[Path]:
    """Every panel's picture (or those in `panels`, by key; "quick-find" and "settings" count as panels). With
    `size`, the window has that size and each name ends in -<theme>-<W>x<H>; with `screen` (a real display, such
    as Xvfb sized to match), the pictures are of the screen."""
    global SETTLE_S
    SETTLE_S = 4.0 if screen else 20.0
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ops-console-shots-") as tmp:
        # A private home: the pictures never depend on (or change) this machine's settings.
        os.environ["OPS_CONSOLE_HOME"] = tmp
        from console.settings import Settings

        Settings(theme=theme).save()
        if db is None:
            from console.demo.generator import generate

            db = Path(tmp) / "demo.sqlite"
            generate(db)
        from console.ui.app import build_window, make_app

        app = make_app([])
        ctx, window = build_window(app, db)
        window.resize(*(size or (1440, 880)))
        window.move(0, 0)
        window.show()
        settle(app, ctx)
        saved: list[Path] = []

        def shot(name: str, widget=None) -> None:
            if size is not None:  # a window widened by an earlier screen does not shrink back by itself
                window.resize(*size)
            settle(app, ctx)
            if size is not None:
                name = f"{name}-{theme}-{size[0]}x{size[1]}"
            path = out / f"{name}.png"
            if screen:
                if widget is not None and widget is not window:
                    widget.raise_()
                settle(app, ctx, quiet_ms=600)  # what moves (the demo worker, charts) has painted
                _screen_capture(path)
            else:
                (widget or window).grab().save(str(path))
            saved.append(path)

        shot.out, shot.saved = out, saved  # type: ignore[attr-defined]

        for spec in window.specs:
            if panels is not None and spec.key not in panels:
                continue
            window.show_panel(spec.key)
            if spec.key == "users":
                active, inactive = _interesting_users(ctx)
                if active:
                    window.navigate("users", active)
                shot("users")
                detail = window.panels["users"].detail
                detail.tabs.setCurrentWidget(detail.timeline)  # everything about the user, in time order
                shot("users-timeline")
                detail.tabs.setCurrentIndex(0)
                if inactive:
                    window.navigate("users", inactive)
                    shot("users-deactivated")
            elif spec.key == "jobs":
                panel = window.panels["jobs"]
                for button in panel.state_buttons.buttons():  # triage: the dead jobs, the first selected
                    if button.property("state") == "dead":
                        button.setChecked(True)
                panel.apply_query()
                settle(app, ctx)
                if panel.model.rowCount():
                    panel.table.selectRow(0)  # selected, so it stays through the auto-refresh
                shot("jobs")
                panel.state_buttons.button(0).setChecked(True)
                panel.apply_query()
                panel.bottom.setCurrentWidget(panel.types)  # the queue by type
                panel.tick()
                shot("jobs-types")
                panel.bottom.setCurrentWidget(panel.groups)
                panel.tick()
                settle(app, ctx)
                if panel.groups.model.rowCount():
                    panel.groups.table.selectRow(0)  # a group's jobs in the table above
                shot("jobs-error-groups")
                panel.set_error_group(None)
                panel.bottom.setCurrentWidget(panel.health)
            elif spec.key == "chats":
                panel = window.panels["chats"]
                settle(app, ctx)
                panel.list.selectRow(1)
                settle(app, ctx)
                shot("chats")
            elif spec.key == "roles":
                panel = window.panels["roles"]
                settle(app, ctx)
                with ctx.engine.connect() as conn:
                    org = conn.execute(text("SELECT organization_id FROM members GROUP BY 1 "
                                            "ORDER BY count(*) DESC LIMIT 1")).scalar()
                if org:
                    panel.org.setCurrentIndex(panel.org.findData(org))
                    settle(app, ctx)
                    panel.table.selectRow(0)
                shot("roles")
                panel.tabs.setCurrentIndex(1)
                shot("roles-audit")
                panel.tabs.setCurrentIndex(0)
            elif spec.key == "callrates":
                panel = window.panels["callrates"]
                shot("callrates")
                panel.range_buttons.button(3).click()  # 7 days: the session-fetch fix shows as a drop
                shot("callrates-7d")
            elif spec.key == "webhooks":
                settle(app, ctx)  # verdicts are computed in the background when the panel opens
                with ctx.engine.connect() as conn:
                    delivery = conn.execute(text(
                        "SELECT d.id FROM webhook_deliveries d JOIN delivery_verdicts v ON v.delivery_id = d.id "
                        "WHERE d.provider = 'twilio' AND NOT v.valid AND v.summary LIKE '%would verify with URL%' "
                        "LIMIT 1")).scalar()
                if delivery:
                    window.navigate("webhooks", delivery)
                shot("webhooks")
                panel = window.panels["webhooks"]
                panel.open_bulk_replay()  # counts in the background, then opens the dialog
                settle(app, ctx)
                dialog = getattr(panel, "_bulk_dialog", None)
                if dialog is not None and dialog.isVisible():
                    shot("webhooks-bulk-replay", dialog)
                    dialog.reject()
                window.navigate("webhooks", "missing")  # Stripe events the product referenced that never came
                settle(app, ctx)
                shot("webhooks-missing")
                panel.tabs.setCurrentIndex(0)
            elif spec.key in ("data", "functions", "logs"):
                _prepare_new_panel(app, ctx, window, spec.key)
                shot(spec.key)
                if size is not None:
                    continue
                # The stack is as wide as its widest panel's minimum (Chats: about 1300 px with the panel
                # list); for these pictures only the panel shown counts.
                window.stack.setMinimumWidth(1)
                for w, h in SIZES:
                    window.resize(w, h)
                    settle(app, ctx)
                    shot(f"{spec.key}-{theme}-{w}x{h}")
                window.stack.setMinimumWidth(0)
                window.resize(1440, 880)
                settle(app, ctx)
            else:
                shot(spec.key)

        if panels is None or "quick-find" in panels:
            window.show_panel("users")
            window.open_quick_find()
            window.quick_find.box.setText("olivia")
            window.quick_find.search()
            shot("quick-find", window.quick_find)
            window.quick_find.hide()

        if panels is None or "settings" in panels:
            window.open_settings()
            shot("settings", window._settings_dialog)
            window._settings_dialog.reject()

        if live:
            _live_shots(app, ctx, window, shot)

        window.close()
        settle(app, ctx, timeout=5, quiet_ms=50)
        ctx.tasks.wait()
        ctx.tasks.shutdown()
        ctx.engine.dispose()
        os.environ.pop("OPS_CONSOLE_HOME", None)
    return saved
