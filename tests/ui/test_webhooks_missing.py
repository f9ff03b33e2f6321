"""The Webhooks panel's "Missing events" tab: the Stripe events that never arrived, the customer linked to the
Users panel, plain text, an empty state that says what was checked; demo and live (stand-in)."""

from sqlalchemy import text

from console.client.http import Deployment
from console.ui.connect import connect_live
from console.ui.main_window import MainWindow
from console.ui.panels.webhooks.missing_view import COLUMNS, NO_ID
from console.webhooks.missing import missing_stripe_events
from tests.standin_helpers import KEY, SMALL, standin
from tests.test_missing_events import dropped, expected, found
from tests.ui.conftest import wait_idle
from tests.ui.test_live import close, run_until


def _open_missing(window, loop, ctx):
    window.show_panel("webhooks")
    panel = window.panels["webhooks"]
    panel.navigate("missing")
    run_until(loop, lambda: not ctx.tasks.busy and panel.missing.report is not None)
    return panel, panel.missing


def _cells(view):
    m = view.model
    return [[m.data(m.index(r, c)) for c in range(len(COLUMNS))] for r in range(m.rowCount())]


def test_missing_events_listed_and_the_user_opens(qtbot, ctx, loop):
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    panel, view = _open_missing(window, loop, ctx)
    with ctx.engine.connect() as c:
        want = missing_stripe_events(c)
    assert view.model.rowCount() == len(want.missing) >= 3
    cells = _cells(view)
    assert any(row[0].startswith("evt_") and row[2].startswith("billing record of ") for row in cells)
    assert any(row[0] == NO_ID and row[1] == "invoice.created" and row[2].startswith("event evt_") for row in cells)
    assert all(row[4].startswith("cus_") and "@" in row[5] for row in cells)
    summary = view.summary.text()
    assert f"{len(want.missing)} Stripe events never arrived" in summary and "Checked " in summary
    assert view.summary.textFormat().name == "PlainText"

    assert not view.open_user.isEnabled()  # nothing selected
    view.table.selectRow(0)
    assert view.open_user.isEnabled()
    user_id = view.model.rows[0].user_id
    view.open_selected_user()
    run_until(loop, lambda: window.current is window.panels.get("users"))
    users = window.panels["users"]
    run_until(loop, lambda: users.detail.detail is not None and users.detail.detail.user["id"] == user_id)
    wait_idle(qtbot, ctx)


def test_empty_state_says_what_was_checked(qtbot, ctx, loop):
    with ctx.engine.begin() as c:  # every invoice event and every billing change inside the week gone
        c.execute(text("DELETE FROM webhook_deliveries WHERE provider = 'stripe' AND event_type LIKE 'invoice.%'"))
        c.execute(text("UPDATE billing_accounts SET last_stripe_event_at = 1"))
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    panel, view = _open_missing(window, loop, ctx)
    assert view.model.rowCount() == 0
    summary = view.summary.text()
    assert "Checked " in summary and "Stripe deliveries" in summary and "0 billing records" in summary
    assert "every event they reference arrived" in summary
    wait_idle(qtbot, ctx)


def test_missing_events_live_from_the_standin(qtbot, ctx, loop):
    s = standin()
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    try:
        controller = connect_live(window, Deployment(s.url, KEY))
        run_until(loop, lambda: controller.last_state is not None and controller.last_state.status == "live")
        # the stand-in serves the demo's documents: the same events never arrived
        want = expected(dropped(SMALL, 7, 1_790_000_000_000))
        with ctx.engine.connect() as c:
            assert found(missing_stripe_events(c)) == want
        panel, view = _open_missing(window, loop, ctx)
        run_until(loop, lambda: not ctx.tasks.busy and view.model.rowCount() == len(want))
        assert {m.event_id for m in view.model.rows if m.event_id} == {i for i, *_ in want if i}
    finally:
        close(window, loop, qtbot, ctx, s)
