"""One theme source: Fusion with a light and a dark palette, following the system colour scheme."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from console.paths import resource

ICON_GREY = "#808080"  # the placeholder colour in resources/icons/*.svg, replaced per theme


def _palette(dark: bool) -> QPalette:
    p = QPalette()
    if dark:
        base, window, text, mid = QColor("#1e1f24"), QColor("#26272d"), QColor("#e6e6ea"), QColor("#3a3b42")
        highlight = QColor("#4f7cff")
    else:
        base, window, text, mid = QColor("#ffffff"), QColor("#f3f3f6"), QColor("#1d1d22"), QColor("#d4d4da")
        highlight = QColor("#2f62e8")
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, window if dark else QColor("#f7f7fa"))
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, window)
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.ToolTipBase, base)
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor("#8a8a94"))
    p.setColor(QPalette.ColorRole.Mid, mid)
    p.setColor(QPalette.ColorRole.Highlight, highlight)
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    # Links on the dark base need a lighter blue than the selection: #4f7cff read at 4.0-4.4:1, under the
    # 4.5:1 that text needs; #7c9dff is 6.4:1.
    p.setColor(QPalette.ColorRole.Link, QColor("#7c9dff") if dark else highlight)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#8a8a94"))
    return p


class Theme(QObject):
    """Applies the palette and tells plots and icons when it changes."""

    changed = Signal(bool)  # dark?

    def __init__(self, app: QApplication, preference: str = "system") -> None:
        super().__init__(app)
        self.app = app
        self.preference = preference
        app.setStyle("Fusion")
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):
            hints.colorSchemeChanged.connect(lambda _scheme: self.apply())
        self.dark = False
        self.apply()

    def system_is_dark(self) -> bool:
        hints = QGuiApplication.styleHints()
        scheme = getattr(hints, "colorScheme", lambda: Qt.ColorScheme.Unknown)()
        return scheme == Qt.ColorScheme.Dark

    def set_preference(self, preference: str) -> None:
        self.preference = preference
        self.apply()

    def apply(self) -> None:
        dark = self.preference == "dark" or (self.preference == "system" and self.system_is_dark())
        self.dark = dark
        self.app.setPalette(_palette(dark))
        self.changed.emit(dark)

    def color(self, name: str) -> QColor:
        """Semantic colours used by panels (status badges, banners)."""
        light = {"danger": "#c62828", "warning": "#b26a00", "ok": "#2e7d32", "muted": "#6b6b76",
                 "banner": "#fff4cc", "banner_text": "#5a4300", "danger_bg": "#fde7e7"}
        dark = {"danger": "#ff6b6b", "warning": "#ffb74d", "ok": "#66bb6a", "muted": "#9a9aa6",
                "banner": "#4a3d10", "banner_text": "#ffe9a8", "danger_bg": "#4a1f22"}
        return QColor((dark if self.dark else light)[name])

    def icon(self, name: str, size: int = 24) -> QIcon:
        svg = resource(f"icons/{name}.svg").read_text(encoding="utf-8")
        colour = self.app.palette().color(QPalette.ColorRole.WindowText).name()
        renderer = QSvgRenderer(QByteArray(svg.replace(ICON_GREY, colour).encode()))
        pix = QPixmap(size * 2, size * 2)
        pix.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pix)
        renderer.render(painter)
        painter.end()
        return QIcon(pix)


def app_icon() -> QIcon:
    return QIcon(str(resource("app-icon.svg")))
