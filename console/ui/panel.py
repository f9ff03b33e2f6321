"""What a panel is to the shell: a widget with a key, told when it is shown, hidden or navigated to."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QSettings
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QWidget
from sqlalchemy.engine import Connection

from console.ui.context import AppContext


class Panel(QWidget):
    key = ""
    title = ""

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setObjectName(f"panel-{self.key}")
        self._state_restored = False
        self._when_seen: dict[str, Callable[[], None]] = {}
        # What this panel redrew because data changed: part ("list", "detail", ...) -> times. Read by the
        # tests that prove a write reaches exactly the panels that show it, and handy when profiling.
        self.redraws: Counter[str] = Counter()

    def showEvent(self, event: QShowEvent) -> None:
        # Splitter and header state only sticks once the panel has its real size, i.e. when first shown.
        if not self._state_restored:
            self._state_restored = True
            self.restore_state(self.ctx.ui_state())
        super().showEvent(event)
        pending, self._when_seen = self._when_seen, {}
        for redraw in pending.values():
            redraw()

    def when_seen(self, key: str, redraw: Callable[[], None]) -> None:
        """Redraw now if the panel is visible, else once when it is next shown (stale until then).
        `key` names the part redrawn; it is counted in `redraws` when the redraw runs."""
        def counted() -> None:
            self.redraws[key] += 1
            redraw()

        if self.isVisible():
            self._when_seen.pop(key, None)
            counted()
        else:
            self._when_seen[key] = counted

    @property
    def stale(self) -> bool:
        return bool(self._when_seen)

    def on_shown(self) -> None:
        """Became the visible panel (start refresh timers here)."""

    def on_hidden(self) -> None:
        """Another panel is visible now (pause timers here)."""

    def focus_search(self) -> None:
        """Ctrl+F: put the cursor in this panel's search box."""

    def navigate(self, target: Any) -> None:
        """Show `target` (for Users, a user id)."""

    def reload(self) -> None:
        """The replica was replaced: drop everything shown and query again."""

    def shutdown(self) -> None:
        """The window is closing: stop threads and timers this panel owns."""

    def save_state(self, state: QSettings) -> None:
        """Remember splitter positions and header layouts."""

    def restore_state(self, state: QSettings) -> None:
        pass


@dataclass(frozen=True)
class Hit:
    """One quick-find result: what it is, and where to go."""

    title: str
    subtitle: str
    panel: str
    target: Any
    kind: str = ""


@dataclass(frozen=True)
class PanelSpec:
    key: str
    title: str
    icon: str
    factory: Callable[[AppContext], Panel]
    # Qt-free: runs on a worker thread with a replica connection; returns hits for the Ctrl+K box.
    finder: Callable[[Connection, str], list[Hit]] | None = None
