"""The shell: panel list, lazily built panels, demo banner, status bar, menus and shortcuts.

It knows panels only through the registry (console.ui.panels) and the Panel interface.
"""

from __future__ import annotations

from typing import Any

import platform

from PySide6.QtCore import QSize, Qt, QTimer, QUrl, qVersion
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QFontMetrics, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console import __version__
from console.store.db import file_size
from console.store.counts import row_counts
from console.ui.context import AppContext
from console.ui.failures import FailedCallLink
from console.ui.format import count, size
from console.ui.panel import Panel, PanelSpec
from console.ui.panels import panel_specs
from console.ui.plain import esc, plain, question, tip
from console.ui.quickfind import QuickFindDialog
from console.ui.settings_dialog import SettingsDialog
from console.ui.theme import app_icon


class DemoBanner(QFrame):
    def __init__(self, ctx: AppContext, on_reset) -> None:
        super().__init__()
        self.setObjectName("demo-banner")
        self.ctx = ctx
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 5, 10, 5)
        self.label = QLabel(
            "<b>OFFLINE DEMO</b> — generated data for a fictional product (Tidewell). "
            "Nothing here reaches a deployment; every action works on the local replica."
        )
        self.label.setWordWrap(True)
        layout.addWidget(self.label, 1)
        self.reset = QPushButton("Reset demo data…")
        self.reset.clicked.connect(on_reset)
        layout.addWidget(self.reset)
        self.restyle()
        # Bound methods, not lambdas: Qt drops the connection when this widget is destroyed.
        ctx.theme.changed.connect(self.restyle)

    def restyle(self, _dark: bool = False) -> None:
        t = self.ctx.theme
        self.setStyleSheet(
            f"QFrame#demo-banner {{ background: {t.color('banner').name()}; }}"
            f" QFrame#demo-banner QLabel {{ color: {t.color('banner_text').name()}; }}"
        )


class DeploymentBand(QFrame):
    """Which deployment the window shows, impossible to miss: red for production, blue for development."""

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.setObjectName("deployment-band")
        self.ctx = ctx
        self.production = False
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 3, 10, 3)
        self.label = plain(QLabel())
        layout.addWidget(self.label, 1)
        self.hide()
        ctx.theme.changed.connect(self.restyle)

    def show_deployment(self, deployment) -> None:
        from console.runner import is_production

        if deployment is None:
            self.hide()
            return
        self.production = is_production(deployment.key)
        kind = "PRODUCTION" if self.production else "Development"
        note = " — writes ask for confirmation" if self.production else ""
        self.label.setText(f"{kind} · {deployment.name} · {deployment.base}{note}")
        self.restyle()
        self.show()

    def restyle(self, _dark: bool = False) -> None:
        # Fixed colours with white text: readable on light and dark themes alike.
        bg = "#b71c1c" if self.production else "#1565c0"
        self.setStyleSheet(f"QFrame#deployment-band {{ background: {bg}; }}"
                           f" QFrame#deployment-band QLabel {{ color: white; font-weight: bold; }}")


PRELOAD_AFTER_MS = 200  # after the first show: the first paint and the first panel's queries go first


DEFAULT_SIZE = (1400, 860)


def first_size(available: QSize | None) -> tuple[int, int]:
    """The window's size before any is remembered: 1400x860, within the screen's free area (on a 1024x700
    screen it opened with its right part off-screen)."""
    if available is None or available.width() <= 0:
        return DEFAULT_SIZE
    return min(DEFAULT_SIZE[0], available.width()), min(DEFAULT_SIZE[1], available.height())


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext, specs: list[PanelSpec] | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.specs = specs if specs is not None else panel_specs()
        self.panels: dict[str, Panel] = {}
        self.current: Panel | None = None
        self.standin = None  # a local stand-in deployment started from the File menu
        self.standin_replica = None  # its replica: removed when left or at quit
        self.setWindowTitle("Convex Ops Console")
        self.setWindowIcon(app_icon())
        self.resize(*first_size(self.screen().availableGeometry().size() if self.screen() else None))

        self.nav = QListWidget()
        self.nav.setObjectName("panel-list")
        self.nav.setIconSize(QSize(22, 22))
        self.nav.setFixedWidth(150)
        self.nav.setFrameShape(QFrame.Shape.NoFrame)
        for i, spec in enumerate(self.specs):
            item = QListWidgetItem(ctx.theme.icon(spec.icon), spec.title)
            item.setToolTip(f"{spec.title}  (Ctrl+{(i + 1) % 10})")
            self.nav.addItem(item)
        self.stack = QStackedWidget()

        self.banner = DemoBanner(ctx, self.reset_demo)
        body = QWidget()
        body_layout = QHBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.setSpacing(0)
        body_layout.addWidget(self.nav)
        body_layout.addWidget(self.stack, 1)
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.banner)
        self.band = DeploymentBand(ctx)
        outer.addWidget(self.band)
        outer.addWidget(body, 1)
        self.setCentralWidget(central)

        self.mode_label = QLabel()
        self.replica_label = plain(QLabel())
        self.counts_label = plain(QLabel())
        self.operator_label = plain(QLabel())  # live: who the console acts as, from console:whoami
        self.failed_call = FailedCallLink(ctx)  # the last console call the deployment refused: to its log entries
        self.permanent = (self.failed_call, self.mode_label, self.operator_label, self.replica_label,
                          self.counts_label)
        for w in self.permanent:
            self.statusBar().addPermanentWidget(w)
        ctx.call_failed.connect(self.failed_call.show_failure)
        ctx.operator_changed.connect(self.on_operator_changed)
        ctx.replica_replaced.connect(self.failed_call.clear)
        ctx.live_figures.connect(self.on_live_figure)
        ctx.status_message.connect(self.show_message)
        self.statusBar().messageChanged.connect(self._message_changed)

        self._build_menus()
        self.nav.currentRowChanged.connect(self._on_nav)
        ctx.navigate_requested.connect(self.navigate)
        # Bound methods, not lambdas: Qt drops these connections when the window is destroyed.
        ctx.data_changed.connect(self.refresh_status)
        ctx.replica_replaced.connect(self._on_replica_replaced)
        ctx.theme.changed.connect(self._restyle_nav)

        self.quick_find = QuickFindDialog(ctx, self.specs, self)
        from console.ui.demo_worker import DemoWorker

        self.demo_worker = DemoWorker(ctx)
        # Alerts: evaluated on the replica for every panel; badges on the panel list, a tray notification.
        from console.ui.alert_monitor import AlertMonitor

        self.alerts = AlertMonitor(ctx)
        ctx.alerts = self.alerts  # the Alerts panel reads the same book
        self.alerts.changed.connect(self.update_badges)
        self.alerts.fired.connect(self.notify)
        self.tray = None
        # One tail of the deployment's function log (generated traffic in the demo) for the whole app: the Logs
        # panel shows it, Call rates aggregates it.
        from console.ui.logtail import LogTail

        self.log_tail = LogTail(ctx)
        ctx.log_tail = self.log_tail
        self.notified: list[str] = []  # what was notified (the tray may be missing: offscreen, some desktops)
        self._restore()
        self._update_mode()
        self.refresh_status()
        if self.specs:
            self.nav.setCurrentRow(0)
        # Watching (the alert rules' queries, the demo's log batches) starts a moment after the window: at once,
        # they competed with the first panel's first page for the GIL and the readers.
        self._closed = False
        QTimer.singleShot(PRELOAD_AFTER_MS, self, self._start_watching)
        self._preloading = False

    def _start_watching(self) -> None:
        if not self._closed and not self.ctx.tasks.closed:
            self.alerts.start()
            self.log_tail.start()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._preloading:
            # Once the window has painted: the libraries of the chart panels load in the background.
            self._preloading = True
            QTimer.singleShot(PRELOAD_AFTER_MS, self, self._preload)

    def _preload(self) -> None:
        from console.client.tls import warm
        from console.ui.gc_guard import freeze_survivors
        from console.ui.preload import HEAVY, LIVE, panel_modules, preload

        if not self.ctx.tasks.closed:
            # A later connect builds no TLS context (a CA bundle load) on the GUI thread. Not at start: its
            # ~100 ms of imports on a worker took the GIL from building the window (Users' first rows on the
            # large replica 183-202 ms with it there, 152-173 ms here).
            self.ctx.tasks.run(warm)
            if preload(self.ctx.tasks, HEAVY + panel_modules(self.specs) + LIVE,
                       lambda _r: freeze_survivors()) is None:
                freeze_survivors()

    # -- menus and shortcuts --------------------------------------------------------------------
    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(QAction("&Connect to the deployment in Settings", self, triggered=self.connect_configured))
        file_menu.addAction(QAction("Try live mode with a local &stand-in deployment", self,
                                    triggered=self.connect_standin))
        self.demo_action = QAction("Back to the offline &demo", self, triggered=self.back_to_demo)
        file_menu.addAction(self.demo_action)
        file_menu.addSeparator()
        self.reset_action = QAction("&Reset demo data…", self, triggered=self.reset_demo)
        file_menu.addAction(self.reset_action)
        file_menu.addAction(QAction("Delete old &replicas…", self, triggered=self.delete_old_replicas))
        file_menu.addSeparator()
        file_menu.addAction(QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close))

        go = bar.addMenu("&Go")
        for i, spec in enumerate(self.specs):
            act = QAction(spec.title, self, triggered=lambda _c=False, k=spec.key: self.show_panel(k))
            if i < 10:
                act.setShortcut(QKeySequence(f"Ctrl+{(i + 1) % 10}"))  # the tenth panel is Ctrl+0
            go.addAction(act)
        go.addSeparator()
        self.quick_find_action = QAction("Quick &find…", self, shortcut=QKeySequence("Ctrl+K"),
                                         triggered=self.open_quick_find)
        go.addAction(self.quick_find_action)
        go.addAction(QAction("Search in this panel", self, shortcut=QKeySequence.StandardKey.Find,
                             triggered=lambda: self.current and self.current.focus_search()))

        settings = bar.addMenu("&Settings")
        settings.addAction(QAction("&Settings…", self, shortcut=QKeySequence("Ctrl+,"), triggered=self.open_settings))

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(QAction("&Keyboard shortcuts", self, shortcut=QKeySequence("F1"),
                                    triggered=self.show_shortcuts))
        help_menu.addAction(QAction("&README (how the console works)", self, triggered=self.open_readme))
        help_menu.addSeparator()
        help_menu.addAction(QAction("&About", self, triggered=self.about))

    def shortcuts(self) -> list[tuple[str, str]]:
        """Every shortcut of the menus, as (keys, what), read from the actions themselves."""
        out = []
        for menu_action in self.menuBar().actions():
            menu = menu_action.menu()
            for act in menu.actions() if menu else ():
                if not act.shortcut().isEmpty():
                    keys = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                    out.append((keys, act.text().replace("&", "").rstrip("…")))
        out += [("Down (in a search box)", "Move to the results"), ("Tab (in a table)", "Move to the next control"),
                ("Enter (on a result)", "Open it"), ("Esc", "Close a dialog")]
        return out

    def show_shortcuts(self) -> None:
        from console.ui.plain import esc as _esc

        rows = "".join(f"<tr><td><b>{_esc(k)}</b></td><td>{_esc(w)}</td></tr>" for k, w in self.shortcuts())
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", f"<table cellpadding='3'>{rows}</table>",
                          QMessageBox.StandardButton.Close, self)
        box.setTextFormat(Qt.TextFormat.RichText)  # our markup, the labels escaped
        box.setObjectName("shortcuts-dialog")
        box.open()
        self._shortcuts_box = box

    def readme_url(self) -> QUrl:
        from pathlib import Path

        local = Path(__file__).resolve().parents[2] / "README.md"
        return QUrl.fromLocalFile(str(local)) if local.exists() else \
            QUrl("https://pypi.org/project/convex-ops-console/")

    def open_readme(self) -> None:
        QDesktopServices.openUrl(self.readme_url())

    # -- live mode ----------------------------------------------------------------------------------------
    def connect_configured(self) -> None:
        from console.client.http import Deployment
        from console.secrets import DEPLOY_KEY
        from console.ui.connect import connect_live

        url, key = self.ctx.settings.deployment_url, self.ctx.secrets.get(DEPLOY_KEY)
        if not url or not key:
            self.show_message("Set the deployment URL and deploy key in Settings first.")
            self.open_settings()
            return
        connect_live(self, Deployment(url, key))

    def connect_standin(self) -> None:
        from console.ui.connect import start_standin_and_connect

        start_standin_and_connect(self)

    def back_to_demo(self) -> None:
        from console.ui.connect import back_to_demo

        back_to_demo(self)

    def delete_old_replicas(self) -> None:
        from console.ui.connect import remove_replica
        from console.ui.replicas_dialog import ReplicasDialog

        dialog = ReplicasDialog(self.ctx.replica_path, self)

        def delete() -> None:
            paths = dialog.ticked()
            for p in paths:
                remove_replica(p)
            self.show_message(f"Deleted {len(paths)} replica file(s)")

        dialog.accepted.connect(delete)
        dialog.open()
        self._replicas_dialog = dialog

    def on_live_state(self, state) -> None:
        self.show_deployment()
        colour = {"live": "ok", "syncing": "warning", "resync": "warning", "waiting": "warning"}.get(state.status,
                                                                                                "danger")
        words = {"live": "up to date", "syncing": "syncing", "resync": "rebuilding", "offline": "offline",
                 "waiting": "waiting", "error": "stopped", "stopped": "stopped"}.get(state.status, state.status)
        self.mode_label.setText(f"<b style='color:{self.ctx.theme.color(colour).name()}'>Live · {words}</b>")
        self.mode_label.setToolTip(tip(state.message))
        if state.status in ("offline", "waiting", "error", "resync"):
            self.show_message(state.message)

    def on_live_figure(self, path: str, value) -> None:
        """The operator's identity and roles as the deployment sees them, kept current by a subscription."""
        if path != "console:whoami":
            return
        if not isinstance(value, dict):
            self.operator_label.setText("Operator: not a user of this deployment")
            return
        roles = ", ".join(str(r) for r in value.get("roles") or []) or "no roles"
        inactive = "" if value.get("isActive", True) else " (deactivated)"
        self.operator_label.setText(f"Operator: {value.get('name') or value.get('email') or value.get('userId')}"
                                    f" · {roles}{inactive}")

    def on_operator_changed(self) -> None:
        """Another operator: the status bar says so at once (the deployment's answer follows through
        console:whoami), and live mode watches the figures as that user."""
        s = self.ctx.settings
        if self.ctx.live is not None:
            self.operator_label.setText(f"Operator: {s.operator_email} · checking…" if s.operator_user_id
                                        else "Operator: none chosen (read-only)")
            self.ctx.live.operator_changed()

    def open_quick_find(self) -> None:
        self.quick_find.popup()

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.ctx, self)
        dialog.open()
        self._settings_dialog = dialog  # keep a reference while it is open

    def about(self) -> None:
        QMessageBox.about(
            self,
            "About Convex Ops Console",
            f"<h3>Convex Ops Console {__version__}</h3>"
            f"<p>Version {__version__} · Qt {qVersion()} · Python {platform.python_version()}</p>"
            "<p>A desktop operations console for SaaS products whose backend runs on Convex: "
            "users, jobs, webhooks, roles and call rates, on a local replica.</p>"
            f"<p>Replica: {esc(self.ctx.replica_path)}</p>",
        )

    # -- panels ---------------------------------------------------------------------------------
    def _spec_index(self, key: str) -> int:
        return next((i for i, s in enumerate(self.specs) if s.key == key), -1)

    def panel(self, key: str) -> Panel | None:
        """The panel for `key`, built on first use."""
        if key in self.panels:
            return self.panels[key]
        i = self._spec_index(key)
        if i < 0:
            return None
        panel = self.specs[i].factory(self.ctx)
        self.panels[key] = panel
        self.stack.addWidget(panel)
        return panel

    def show_panel(self, key: str) -> Panel | None:
        i = self._spec_index(key)
        if i >= 0 and self.nav.currentRow() != i:
            self.nav.setCurrentRow(i)  # _on_nav does the switch
        return self.panels.get(key)

    def _on_nav(self, row: int) -> None:
        if not 0 <= row < len(self.specs):
            return
        panel = self.panel(self.specs[row].key)
        if panel is None or panel is self.current:
            return
        if self.current:
            self.current.on_hidden()
        self.current = panel
        self.stack.setCurrentWidget(panel)
        panel.on_shown()

    def navigate(self, key: str, target: Any) -> None:
        panel = self.show_panel(key) or self.panel(key)
        if panel is not None:
            panel.navigate(target)

    def show_message(self, message: str) -> None:
        """A message for 8 s, elided to the room left of the permanent widgets ("Live · up to date", the
        counts), where Qt cuts it without a sign; the whole message is the status bar's tooltip meanwhile."""
        bar = self.statusBar()
        right = min((w.geometry().left() for w in self.permanent if w.isVisible()), default=bar.width())
        room = right - 16  # the message's own margin and the gap before the first permanent widget
        shown = QFontMetrics(bar.font()).elidedText(message, Qt.TextElideMode.ElideRight, room) \
            if room > 0 else message
        bar.showMessage(shown, 8000)
        bar.setToolTip(tip(message) if shown != message else "")

    def _message_changed(self, text: str) -> None:
        if not text:  # the message timed out or a menu's status tip replaced it
            self.statusBar().setToolTip("")

    # -- alerts -------------------------------------------------------------------------------------------
    def update_badges(self, restyle: bool = False) -> None:
        """A panel with unacknowledged alerts reads "Jobs ● 2" in the theme's danger colour. `restyle`: the
        theme changed, so the colour is set again (it kept the old theme's red: 2.5-3:1 on the new background)."""
        book = self.alerts.book
        for i, spec in enumerate(self.specs):
            n = len(book.unacknowledged() if spec.key == "alerts" else book.unacknowledged(spec.key))
            item = self.nav.item(i)
            text = f"{spec.title}  ● {n}" if n else spec.title
            if item.text() != text or restyle:
                item.setText(text)
                # No colour of our own without a badge: the item follows the palette, whatever the theme.
                item.setData(Qt.ItemDataRole.ForegroundRole, self.ctx.theme.color("danger") if n else None)

    def notify(self, alerts: list) -> None:
        if not self.ctx.settings.alert_notifications or self.isActiveWindow():
            return
        for a in alerts:
            self.notified.append(f"{a.title}: {a.detail}")
        from PySide6.QtWidgets import QSystemTrayIcon

        if self.tray is None and QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(app_icon(), self)
            self.tray.setToolTip("Convex Ops Console")
            self.tray.messageClicked.connect(lambda: (self.show_panel("alerts"), self.raise_(), self.activateWindow()))
            self.tray.show()
        if self.tray is not None:
            text = "\n".join(f"{a.title}: {a.detail}" for a in alerts)  # plain text in the notification
            self.tray.showMessage("Alert" if len(alerts) == 1 else f"{len(alerts)} alerts", text,
                                  QSystemTrayIcon.MessageIcon.Warning, 10_000)

    def _restyle_nav(self, _dark: bool = False) -> None:
        for i, spec in enumerate(self.specs):
            self.nav.item(i).setIcon(self.ctx.theme.icon(spec.icon))
        if getattr(self, "alerts", None) is not None:
            self.update_badges(restyle=True)

    # -- status -------------------------------------------------------------------------------------
    def _update_mode(self) -> None:
        demo = self.ctx.is_demo
        if demo and self.ctx.settings.demo_worker:
            self.demo_worker.start()
        else:
            self.demo_worker.stop()
        self.banner.setVisible(demo)
        self.reset_action.setEnabled(demo)
        self.demo_action.setEnabled(not demo)
        colour = self.ctx.theme.color("warning" if demo else "ok").name()
        self.mode_label.setText(f"<b style='color:{colour}'>{'Demo' if demo else 'Live'}</b>")
        self.show_deployment()

    def show_deployment(self) -> None:
        """The deployment in the title and in the band (production or development)."""
        live = self.ctx.live
        deployment = live.deployment if live is not None else None
        self.band.show_deployment(deployment)
        if deployment is None:
            self.setWindowTitle("Convex Ops Console" + (" — offline demo" if self.ctx.is_demo else ""))
        else:
            kind = "PRODUCTION" if self.band.production else "dev"
            self.setWindowTitle(f"{deployment.name} ({kind}) — Convex Ops Console")

    def refresh_status(self, _tables: object = None) -> None:
        path = self.ctx.replica_path
        self.replica_label.setText(f"{path.name} · {size(file_size(path))}")
        self.replica_label.setToolTip(tip(path))

        def show(c: dict[str, int]) -> None:
            self.counts_label.setText(
                f"{count(c['users'])} users · {count(c['chats'])} chats · {count(c['messages'])} messages · "
                f"{count(c['jobs'])} jobs · {count(c['webhook_deliveries'])} deliveries"
            )

        engine = self.ctx.engine  # trigger-kept counts (table_counts): one read of a five-row table
        self.ctx.tasks.run(lambda: row_counts(engine), show)

    # -- demo reset ---------------------------------------------------------------------------------
    def reset_demo(self) -> None:
        if not self.ctx.is_demo:
            return
        answer = question(
            self, "Reset demo data",
            "Replace the demo replica with freshly generated data? Changes made in the demo are lost.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        from console.ui.demo_reset import reset_demo_replica

        self.statusBar().showMessage("Generating fresh demo data…")
        reset_demo_replica(self.ctx)

    def _on_replica_replaced(self) -> None:
        self._update_mode()
        self.refresh_status()
        for panel in self.panels.values():
            panel.reload()
        self.statusBar().showMessage("Replica reloaded", 5000)

    # -- geometry -----------------------------------------------------------------------------------
    def _restore(self) -> None:
        state = self.ctx.ui_state()
        if (geometry := state.value("window/geometry")) is not None:
            self.restoreGeometry(geometry)
        if (window_state := state.value("window/state")) is not None:
            self.restoreState(window_state)

    def closeEvent(self, event: QCloseEvent) -> None:
        state = self.ctx.ui_state()
        state.setValue("window/geometry", self.saveGeometry())
        state.setValue("window/state", self.saveState())
        for panel in self.panels.values():
            panel.save_state(state)
            panel.on_hidden()
            panel.shutdown()
        state.sync()
        self.quick_find.close()
        self.demo_worker.stop()
        self._closed = True
        self.alerts.stop()
        self.log_tail.stop()
        if self.tray is not None:
            self.tray.hide()
        if self.ctx.live is not None:
            import asyncio

            live, self.ctx.live = self.ctx.live, None
            self._closing = self.ctx.tasks.spawn(live.aclose())
        if self.standin is not None:
            self.standin.stop()
            self.standin = None
        super().closeEvent(event)
