"""Quick find (Ctrl+K): one box; every panel contributes what it can find; Enter jumps there."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from console.ui.context import AppContext
from console.ui.panel import Hit, PanelSpec


class QuickFindDialog(QDialog):
    def __init__(self, ctx: AppContext, specs: list[PanelSpec], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.specs = [s for s in specs if s.finder]
        self.setWindowTitle("Quick find")
        self.setObjectName("quick-find")
        self.resize(560, 380)
        self.box = QLineEdit()
        self.box.setPlaceholderText("Find a user by email, name, phone, _id, Clerk id, Stripe customer or session token…")
        self.results = QListWidget()
        self.hint = QLabel("Enter opens the selected result · Esc closes")
        layout = QVBoxLayout(self)
        layout.addWidget(self.box)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.hint)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(120)
        self.timer.timeout.connect(self.search)
        self.box.textChanged.connect(lambda _t: self.timer.start())
        self.box.returnPressed.connect(self.accept_current)
        self.results.itemActivated.connect(lambda _item: self.accept_current())
        self.box.installEventFilter(self)
        self._generation = 0
        self._accept_when_ready = False
        self.hits: list[Hit] = []

    def popup(self) -> None:
        self.box.selectAll()
        self.show()
        self.raise_()
        self.activateWindow()
        self.box.setFocus()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        # Up/Down move through results while typing.
        if obj is self.box and event.type() == QEvent.Type.KeyPress:
            key = event.key()  # type: ignore[attr-defined]
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.results.count():
                step = 1 if key == Qt.Key.Key_Down else -1
                row = max(0, min(self.results.count() - 1, self.results.currentRow() + step))
                self.results.setCurrentRow(row)
                return True
        return super().eventFilter(obj, event)

    def search(self) -> None:
        self._generation += 1
        generation, text = self._generation, self.box.text().strip()
        if not text:
            self.show_hits([])
            return
        specs = self.specs

        def work(conn) -> list[Hit]:
            hits: list[Hit] = []
            for spec in specs:
                hits.extend(spec.finder(conn, text))  # type: ignore[misc]
            return hits

        def done(hits: list[Hit]) -> None:
            if generation == self._generation:
                self.show_hits(hits)
                if self._accept_when_ready:
                    self._accept_when_ready = False
                    self.accept_current()

        self.ctx.read(work, done)

    def show_hits(self, hits: list[Hit]) -> None:
        self.hits = hits
        self.results.clear()
        for hit in hits:
            item = QListWidgetItem(f"{hit.title}\n    {hit.kind} · {hit.subtitle}")
            self.results.addItem(item)
        if hits:
            self.results.setCurrentRow(0)
        self.hint.setText(f"{len(hits)} found · Enter opens the selected result · Esc closes"
                          if self.box.text().strip() else "Enter opens the selected result · Esc closes")

    def accept_current(self) -> None:
        if self.timer.isActive():  # typed and pressed Enter before the search ran: open its first hit
            self.timer.stop()
            self._accept_when_ready = True
            self.search()
            return
        row = self.results.currentRow()
        if 0 <= row < len(self.hits):
            hit = self.hits[row]
            self.hide()
            self.ctx.navigate(hit.panel, hit.target)
