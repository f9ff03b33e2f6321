"""Delete old replicas: every replica file in the data folder but the open one, with its size and age."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.paths import data_dir
from console.store.db import file_size
from console.ui.format import size


def old_replicas(current: Path) -> list[Path]:
    """Replica files (*.sqlite) in the data folder other than the one open now, largest first."""
    folder = data_dir()
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob("*.sqlite") if p.resolve() != Path(current).resolve()]
    return sorted(found, key=lambda p: -file_size(p))


class ReplicasDialog(QDialog):
    def __init__(self, current: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Delete old replicas")
        self.setObjectName("replicas-dialog")
        self.setMinimumWidth(560)
        self.paths = old_replicas(current)
        intro = QLabel("Replicas are local copies, rebuilt from their deployment (or the demo data) when needed. "
                       "Tick the ones to delete; the open replica is not listed.")
        intro.setWordWrap(True)
        self.list = QListWidget()
        now = time.time()
        for p in self.paths:
            days = (now - p.stat().st_mtime) / 86400
            item = QListWidgetItem(f"{p.name} · {size(file_size(p))} · last used {days:.0f} days ago")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if p.name != "demo-replica.sqlite" else Qt.CheckState.Unchecked)
            item.setData(Qt.ItemDataRole.UserRole, str(p))
            item.setToolTip(str(p))
            self.list.addItem(item)
        if not self.paths:
            self.list.addItem("No other replica in " + str(data_dir()))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.delete = buttons.addButton("Delete ticked", QDialogButtonBox.ButtonRole.AcceptRole)
        self.delete.setEnabled(bool(self.paths))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)

    def ticked(self) -> list[Path]:
        return [Path(self.list.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked and self.list.item(i).data(
                    Qt.ItemDataRole.UserRole)]
