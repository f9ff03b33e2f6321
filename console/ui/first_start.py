"""The first start's progress dialog: the demo replica is being generated on a worker thread; the dialog reads
the generator's meter (console/demo/progress.py) on a timer and shows the rows done of about how many and the
time left. Nothing crosses threads but plain numbers."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QProgressDialog, QWidget

from console.demo.progress import GenerationProgress
from console.ui.plain import plain

REFRESH_MS = 100
STEPS = 1000  # the bar's resolution
TITLE = "Generating demo data (first start only)"


class FirstStartDialog(QProgressDialog):
    def __init__(self, meter: GenerationProgress, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.meter = meter
        self.setWindowTitle("Convex Ops Console")
        self.label = plain(QLabel())
        self.label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setLabel(self.label)
        self.setCancelButton(None)
        self.setRange(0, STEPS)
        self.setMinimumDuration(0)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.setMinimumWidth(460)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.refresh()

    def start(self) -> None:
        self.show()
        self.timer.start()

    def refresh(self) -> None:
        self.setValue(round(self.meter.fraction() * STEPS))
        self.label.setText(f"{TITLE}…\n{self.meter.text()}")

    def finish(self) -> None:
        self.timer.stop()
        self.close()
