"""Confirming "retry / cancel / purge all matching": how many match, the cap, and a reason for the audit log
(required for cancel and purge, which cannot be undone)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QSpinBox, QVBoxLayout, QWidget

from console.store.jobs import JobQuery
from console.ui.format import count
from console.ui.plain import esc

DEFAULT_CAP = 1000


def jobs(n: int) -> str:
    return f"{count(n)} job{'' if n == 1 else 's'}"


def describe(q: JobQuery, group_title: str | None = None) -> str:
    parts = [f"state {q.status}" if q.status else "every state"]
    if q.type:
        parts.append(f"type {q.type}")
    if q.created_from or q.created_to:
        parts.append("created in the chosen range")
    if q.key:
        parts.append(f"key {q.key}")
    if q.id:
        parts.append(f"id {q.id}")
    if q.text.strip():
        parts.append(f"error or payload containing “{q.text.strip()}”")
    if q.user_id:
        parts.append(f"about user {q.user_id}")
    if q.error_group:
        parts.append(f"in the error group “{group_title}”" if group_title else "in the chosen error group")
    return ", ".join(parts)


VERBS = {
    "retry": ("Retry", "retried", "Jobs that cannot be retried (running, succeeded) are skipped and counted."),
    "cancel": ("Cancel", "canceled", "Finished jobs (succeeded, canceled, dead) are skipped and counted. "
               "Canceling cannot be undone."),
    "purge": ("Delete", "deleted", "Only finished jobs (succeeded, canceled, dead) are deleted; waiting and running "
              "ones are skipped and counted. Deleting cannot be undone."),
}


class BulkRetryDialog(QDialog):
    def __init__(self, query: JobQuery, matching: int, parent: QWidget | None = None, verb: str = "retry",
                 production: str | None = None, skipped: dict[str, int] | None = None,
                 group_title: str | None = None) -> None:
        """`matching`: the jobs the action may act on; `skipped`: the other matching jobs, by state (the action
        leaves them alone, and the cap is not spent on them)."""
        super().__init__(parent)
        self.verb = verb
        self.word, self.past, rule = VERBS[verb]
        self.setWindowTitle(f"{self.word} all matching jobs" + (" on PRODUCTION" if production else ""))
        self.setObjectName(f"bulk-{verb}-dialog")
        self.setMinimumWidth(560)  # room for the title, the filter description and "Retry 1,000 jobs"
        more = "+" if matching > 100_000 else ""
        self.matching = matching
        prod = (f"<b style='color:#c62828'>PRODUCTION deployment {esc(production)}: this acts on real jobs.</b><br>"
                if production else "")
        skipped = {k: v for k, v in (skipped or {}).items() if v}
        also = ("; " + ", ".join(f"{count(n)} {state}" for state, n in sorted(skipped.items())) +
                f" {'match too and are' if sum(skipped.values()) > 1 else 'matches too and is'} left alone"
                if skipped else "")
        intro = QLabel(f"{prod}<b>{jobs(min(matching, 100_000))}{more}</b> to {self.word.lower()} match: "
                       f"{esc(describe(query, group_title))}{esc(also)}.<br>{esc(rule)}")
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)  # our markup, the data escaped
        self.cap = QSpinBox()
        self.cap.setRange(1, 100_000)
        self.cap.setValue(DEFAULT_CAP)
        self.cap.setSuffix(" jobs at most")
        self.reason = QLineEdit(placeholderText="reason (required; goes into the audit log)")
        self.will = QLabel()
        self.will.setWordWrap(True)
        self.cap.valueChanged.connect(self._update)
        self.reason.textChanged.connect(lambda _t: self._update())
        form = QFormLayout()
        form.addRow("Cap", self.cap)
        form.addRow("Reason", self.reason)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.will)
        layout.addWidget(buttons)
        self._update()

    def _update(self) -> None:
        n = min(self.matching, self.cap.value())
        self.ok.setText(f"{self.word} {jobs(n)}")
        needs_reason = not self.reason.text().strip()  # a bulk action always has a reason
        self.ok.setEnabled(n > 0 and not needs_reason)
        self.will.setText(f"At most {jobs(n)} will be {self.past}" + (
            f"; {count(self.matching - n)} more match beyond the cap." if self.matching > n else ".")
            + (" A reason is required." if needs_reason else ""))
