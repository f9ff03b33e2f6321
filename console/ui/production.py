"""Writes on a production deployment are confirmed first: which deployment, if it is production."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from console.runner import is_production
from console.ui.context import AppContext
from console.ui.plain import question


def production_name(ctx: AppContext) -> str | None:
    """The deployment's name when the window is live on a production deployment (its key says prod:)."""
    live = ctx.live
    if live is None or not is_production(live.deployment.key):
        return None
    return live.deployment.name


def confirm_production_write(ctx: AppContext, parent: QWidget, what: str) -> bool:
    """True when the write may go: not production, or the operator confirmed it."""
    name = production_name(ctx)
    if name is None:
        return True
    answer = question(parent, "Production deployment",
                      f"{what}\n\nThis changes the PRODUCTION deployment {name}, for real users. Go ahead?")
    return answer == QMessageBox.StandardButton.Yes
