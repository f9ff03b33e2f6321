"""Keyboard paths between a search box and its results: Down in the box goes to the first result,
and Tab leaves a table instead of walking its cells."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QLineEdit


class _DownToResults(QObject):
    def __init__(self, box: QLineEdit, view: QAbstractItemView) -> None:
        super().__init__(box)
        self.view = view

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Down:  # type: ignore[attr-defined]
            model = self.view.model()
            if model is not None and model.rowCount() > 0:
                self.view.setFocus(Qt.FocusReason.OtherFocusReason)
                current = self.view.currentIndex()
                if not current.isValid() or not self.view.selectionModel().isSelected(current):
                    self.view.setCurrentIndex(model.index(0, 0))
                return True
        return False


def search_leads_to(box: QLineEdit, view: QAbstractItemView) -> None:
    """Down in `box` moves to `view`'s results; Tab in `view` moves on to the next control."""
    box.installEventFilter(_DownToResults(box, view))
    view.setTabKeyNavigation(False)
