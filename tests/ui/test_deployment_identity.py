"""Issue 15: once connected, which deployment you're on is plain: its name in the title, a production or
development band, and writes on production are confirmed first."""

import pytest

from console.client.http import Deployment
from console.ui.connect import connect_live
from console.ui.main_window import MainWindow
from tests.standin_helpers import standin
from tests.ui.conftest import wait_idle
from tests.ui.test_live import close, run_until


@pytest.mark.parametrize("key", ["prod:standin|test-admin-key", "dev:standin|test-admin-key"])
def test_title_band_and_production_confirmation(qtbot, ctx, loop, key, monkeypatch):
    s = standin(admin_key=key)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    try:
        assert not window.band.isVisible() and "offline demo" in window.windowTitle()
        deployment = Deployment(s.url, key)
        controller = connect_live(window, deployment)
        run_until(loop, lambda: controller.last_state is not None and controller.last_state.status == "live")
        prod = key.startswith("prod:")
        assert deployment.name in window.windowTitle()
        assert ("PRODUCTION" in window.windowTitle()) == prod
        assert window.band.isVisible() and ("PRODUCTION" in window.band.label.text()) == prod
        admin = s.store.scan("users", where="json_extract(doc,'$.role') = 'admin'", limit=1)[0]
        ctx.settings.operator_user_id, ctx.settings.operator_email = admin["_id"], admin["email"]
        window.show_panel("jobs")
        panel = window.panels["jobs"]
        panel.findChild(type(panel.state_buttons.button(0)), "state-dead").click()
        panel.load_actor()
        run_until(loop, lambda: not ctx.tasks.busy and panel.model.rowCount() > 0 and panel.actor is not None)
        panel.table.selectRow(0)
        panel.retry_selected()
        dialog = panel._confirm_dialog
        assert ("PRODUCTION" in dialog.windowTitle()) == prod
        dialog.reject()
        # the Roles editor asks before saving on production (and only there)
        asked = []
        import console.ui.production as P

        monkeypatch.setattr(P, "question", lambda *a: asked.append(a[2]) or P.QMessageBox.StandardButton.No)
        window.show_panel("roles")
        roles = window.panels["roles"]
        run_until(loop, lambda: not ctx.tasks.busy and roles.model.rowCount() > 0)
        roles.load_actor()
        run_until(loop, lambda: not ctx.tasks.busy and roles.actor is not None)
        roles.table.selectRow(0)
        run_until(loop, lambda: roles.editor.row is not None and not ctx.tasks.busy)
        roles.editor.reason.setText("check")
        roles.editor.save()
        assert bool(asked) == prod and (not prod or "PRODUCTION" in asked[0])
        wait_idle(qtbot, ctx)
        # Users: deactivating and ending sessions say PRODUCTION in their confirmation (and only there)
        window.show_panel("users")
        users = window.panels["users"]
        run_until(loop, lambda: not ctx.tasks.busy and users.model.rowCount() > 0)
        users.table.selectRow(0)
        run_until(loop, lambda: users.detail.detail is not None and not ctx.tasks.busy)
        users.toggle_active()
        for dialog in (users.active_dialog,):
            assert ("PRODUCTION" in dialog.windowTitle()) == prod and ("PRODUCTION" in dialog.text.text()) == prod
            dialog.reject()
        users.end_all_sessions()
        assert ("PRODUCTION" in users.end_dialog.windowTitle()) == prod
        users.end_dialog.reject()
    finally:
        close(window, loop, qtbot, ctx, s)
