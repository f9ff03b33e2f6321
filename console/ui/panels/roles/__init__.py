"""Roles panel: app roles and organization member roles, edited safely and audited."""

from __future__ import annotations

from console.ui.panel import PanelSpec


def _make(ctx):
    from console.ui.panels.roles.panel import RolesPanel

    return RolesPanel(ctx)


SPEC = PanelSpec(key="roles", title="Roles", icon="roles", factory=_make)
