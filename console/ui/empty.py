"""An empty list says why it is empty and what to do: a note over the view while it has no rows."""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel


class EmptyState(QLabel):
    """Plain-text note centred over `view`'s viewport, shown while its model has no rows and `busy()` is false
    (a page still loading is not "nothing matches"). `why()` words it from the panel's filters; call
    `refresh()` when they change without the model saying so. Given the app context, it adds while a first
    sync is still copying the deployment that more may arrive (an empty list then is not the deployment's)."""

    def __init__(self, view: QAbstractItemView, why: Callable[[], str], busy: Callable[[], bool] = lambda: False,
                 ctx: Any = None) -> None:
        super().__init__(view.viewport())
        self.view, self.why, self.busy, self.ctx = view, why, busy, ctx
        self.setObjectName("empty-state")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setEnabled(False)  # drawn in the theme's muted (disabled) text colour, dark or light
        model = view.model()
        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved, model.layoutChanged):
            signal.connect(self.refresh)
        loading = getattr(model, "loading_changed", None)
        if loading is not None:
            loading.connect(self._on_loading)  # a bound slot: disconnected when the note goes
        if ctx is not None:
            ctx.sync_state.connect(self._on_loading)
        view.viewport().installEventFilter(self)
        self.refresh()

    def refresh(self, *_args: object) -> None:
        empty = self.view.model().rowCount() == 0 and not self.busy()
        if empty:
            self.setText(with_copying(self.why(), self.ctx))
            self._place()
        self.setVisible(empty)

    def _on_loading(self, _state: object) -> None:
        self.refresh()

    def _place(self) -> None:
        area = self.view.viewport().rect()
        width = max(120, min(area.width() - 24, 520))
        height = min(area.height(), max(self.heightForWidth(width), 40))
        self.setGeometry(area.x() + (area.width() - width) // 2, area.y() + min(40, area.height() // 4), width, height)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False


def quoted(text: str) -> str:
    return f"“{text}”"


def no_match(things: str, filters: list[str], hint: str, nothing: str) -> str:
    """"No job matches state failed, text “x”. <hint>" with filters on; `nothing` with none (the list is empty)."""
    shown = [f for f in filters if f]
    if not shown:
        return nothing
    return f"No {things} matches {', '.join(shown)}. {hint}"


COPYING = "The first sync is still copying the deployment: more arrives as each table is copied."


def with_copying(why: str, ctx: Any) -> str:
    return f"{why} {COPYING}" if ctx is not None and ctx.copying else why
