"""Call-rate panel: API call rates, errors, cache effect and latency, as charts engineers read."""

from __future__ import annotations

from console.ui.panel import PanelSpec


def _make(ctx):
    from console.ui.panels.callrates.panel import CallRatesPanel

    return CallRatesPanel(ctx)


SPEC = PanelSpec(key="callrates", title="Call rates", icon="callrates", factory=_make)
