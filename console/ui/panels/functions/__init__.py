"""Function runner: pick a function, edit its arguments as Convex JSON, run it as admin or as a user."""

from __future__ import annotations

from console.ui.panel import PanelSpec


def _make(ctx):
    from console.ui.panels.functions.panel import FunctionsPanel

    return FunctionsPanel(ctx)


SPEC = PanelSpec(key="functions", title="Functions", icon="functions", factory=_make)
