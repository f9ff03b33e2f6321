"""Alerts: what fired, when, its value, a link to the matching jobs or deliveries, acknowledge; the rules'
thresholds."""

from __future__ import annotations

from console.ui.panel import PanelSpec


def _make(ctx):
    from console.ui.panels.alerts.panel import AlertsPanel

    return AlertsPanel(ctx)


SPEC = PanelSpec(key="alerts", title="Alerts", icon="alerts", factory=_make)
