"""The panel registry. Each panel is a folder; the shell knows panels only through this list."""

from __future__ import annotations

from console.ui.panel import PanelSpec


def panel_specs() -> list[PanelSpec]:
    from console.ui.panels.alerts import SPEC as ALERTS
    from console.ui.panels.callrates import SPEC as CALLRATES
    from console.ui.panels.chats import SPEC as CHATS
    from console.ui.panels.data import SPEC as DATA
    from console.ui.panels.functions import SPEC as FUNCTIONS
    from console.ui.panels.jobs import SPEC as JOBS
    from console.ui.panels.logs import SPEC as LOGS
    from console.ui.panels.roles import SPEC as ROLES
    from console.ui.panels.users import SPEC as USERS
    from console.ui.panels.webhooks import SPEC as WEBHOOKS

    return [USERS, CHATS, JOBS, WEBHOOKS, ROLES, CALLRATES, DATA, FUNCTIONS, LOGS, ALERTS]
