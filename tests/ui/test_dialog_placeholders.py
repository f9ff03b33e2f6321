"""Issue 15: dialog placeholders are not cut ("reason (required; goes into the au")."""

from PySide6.QtWidgets import QLineEdit

from console.store.jobs import JobQuery
from console.store.webhooks import DeliveryQuery
from console.ui.elide import placeholder_room
from tests.ui.conftest import wait_idle


def cut_placeholders(dialog) -> list[tuple[str, int, int]]:
    return [(e.placeholderText(), e.fontMetrics().horizontalAdvance(e.placeholderText()), placeholder_room(e))
            for e in dialog.findChildren(QLineEdit)
            if e.isVisible() and e.placeholderText()
            and e.fontMetrics().horizontalAdvance(e.placeholderText()) > placeholder_room(e)]


def dialogs(ctx, window):
    import httpx

    from console.ui.panels.jobs.bulk import BulkRetryDialog
    from console.ui.panels.jobs.confirm import ConfirmDialog
    from console.ui.panels.users.sessions import EndSessionsDialog
    from console.ui.panels.webhooks.bulk_replay import BulkReplayDialog
    from console.ui.panels.webhooks.secrets_dialog import SecretsDialog
    from console.ui.quickfind import QuickFindDialog
    from console.ui.settings_dialog import SettingsDialog
    from console.webhooks.secrets import WebhookSecrets
    from console.ui.panels import panel_specs

    secrets = WebhookSecrets(ctx.secrets, demo=True)
    client = httpx.AsyncClient()
    yield ConfirmDialog("Cancel jobs", "Cancel 3 jobs?", "Cancel jobs", window, destructive=True)
    yield BulkRetryDialog(JobQuery(status="failed"), 12, window)
    yield EndSessionsDialog("End all sessions", "End the 3 sessions of Kenji Bernard?", window)
    yield BulkReplayDialog(ctx, DeliveryQuery(verdict="mismatch"), 13, secrets, client, None, {}, window)
    yield SecretsDialog(secrets, window)
    yield QuickFindDialog(ctx, panel_specs(), window)
    yield SettingsDialog(ctx, window)


def test_no_dialog_cuts_its_placeholders(qtbot, ctx, window):
    cut = []
    for dialog in dialogs(ctx, window):
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.wait(20)
        cut += [(type(dialog).__name__, *c) for c in cut_placeholders(dialog)]
        dialog.close()
        wait_idle(qtbot, ctx)
    assert cut == []
