"""The Jobs panel's By type and Error groups tabs, bulk cancel / purge, and the full-text search box, offscreen
on the demo replica."""

import json

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import text

from console.domain.fingerprint import fingerprint
from console.ui.format import count
from console.ui.main_window import MainWindow
from console.ui.panels.jobs.groups import GroupsModel
from console.ui.panels.jobs.types import COLUMNS, TypesModel
from tests.ui.conftest import bulk_dialog, wait_idle


@pytest.fixture
def window(qtbot, ctx):
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.resize(1300, 860)
    w.show()
    w.show_panel("jobs")
    wait_idle(qtbot, ctx)
    yield w
    w.close()
    wait_idle(qtbot, ctx)


def show_tab(qtbot, ctx, panel, widget):
    panel.bottom.setCurrentWidget(widget)
    wait_idle(qtbot, ctx)


def click_cell(qtbot, table, row, col):
    rect = table.visualRect(table.model().index(row, col))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_models_pass_qtmodeltester(qtmodeltester, qtbot, ctx, window):
    panel = window.panels["jobs"]
    show_tab(qtbot, ctx, panel, panel.types)
    qtmodeltester.check(panel.types.model)
    show_tab(qtbot, ctx, panel, panel.groups)
    qtmodeltester.check(panel.groups.model)
    assert isinstance(panel.types.model, TypesModel) and isinstance(panel.groups.model, GroupsModel)


def test_type_table_shows_counts_and_a_click_filters_the_jobs(qtbot, ctx, window):
    panel = window.panels["jobs"]
    show_tab(qtbot, ctx, panel, panel.types)
    model = panel.types.model
    assert model.rowCount() > 3
    row = next(i for i, r in enumerate(model.rows) if r.type == "sms.send")
    with ctx.engine.connect() as c:
        dead = c.execute(text("SELECT count(*) FROM jobs WHERE type='sms.send' AND status='dead'")).scalar()
    dead_col = next(i for i, c in enumerate(COLUMNS) if c[0] == "Dead")
    assert model.index(row, dead_col).data().replace("\u202f", "") == str(dead)
    click_cell(qtbot, panel.types.table, row, dead_col)
    wait_idle(qtbot, ctx)
    q = panel.model.query
    assert (q.type, q.status) == ("sms.send", "dead")
    assert panel.model.rows and all(r.type == "sms.send" and r.status == "dead" for r in panel.model.rows)
    # the state buttons now count this type only
    qtbot.waitUntil(lambda: panel.state_buttons.button(5).text().replace("\u202f", "") == f"Dead {dead}")
    click_cell(qtbot, panel.types.table, row, 0)  # the type name: every state of that type
    wait_idle(qtbot, ctx)
    assert (panel.model.query.type, panel.model.query.status) == ("sms.send", None)


def test_error_groups_select_lists_the_jobs_and_retry_the_group(qtbot, ctx, window):
    panel = window.panels["jobs"]
    show_tab(qtbot, ctx, panel, panel.groups)
    model = panel.groups.model
    assert model.rowCount() > 1
    g = model.rows[0]
    from console.ui.panels.jobs.groups import SPARK, HourlyRole

    assert g.title and len(model.index(0, SPARK).data(HourlyRole)) == 24
    panel.groups.table.grab()  # paints the sparkline delegate
    panel.groups.table.selectRow(0)
    wait_idle(qtbot, ctx)
    assert panel.model.query.error_group == g.fingerprint and panel.group_chip.isVisible()
    assert g.title in panel.group_chip.label.text() or panel.group_chip.label.text().startswith("Error group:")
    shown = panel.model.rows
    assert shown and all(r.status in ("retrying", "dead") and fingerprint(r.last_error) == g.fingerprint for r in shown)
    assert panel.groups.retry.isEnabled()
    qtbot.mouseClick(panel.groups.retry, Qt.MouseButton.LeftButton)
    dialog = bulk_dialog(qtbot, panel)
    assert dialog.matching == g.count
    dialog.cap.setValue(100_000)
    dialog.reason.setText("provider fixed")
    dialog.accept()
    qtbot.waitUntil(lambda: f"Retried {g.count:,} of {g.count:,}".replace(",", "\u202f") in window.statusBar().currentMessage(), timeout=15_000)
    with ctx.engine.connect() as c:
        entry = c.execute(text("SELECT changes FROM audit_logs WHERE action='job.retry_many'")).one()
    assert json.loads(entry.changes)["filter"]["error_group"] == g.fingerprint
    qtbot.mouseClick(panel.group_chip.clear, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, ctx)
    assert panel.model.query.error_group is None and not panel.group_chip.isVisible()


def test_cancel_all_matching_needs_a_reason(qtbot, ctx, window):
    panel = window.panels["jobs"]
    panel.pick_type("ai.generate_reply", "retrying")
    wait_idle(qtbot, ctx)
    with ctx.engine.connect() as c:
        n = c.execute(text("SELECT count(*) FROM jobs WHERE type='ai.generate_reply' AND status='retrying'")).scalar()
    assert n > 3
    qtbot.mouseClick(panel.cancel_all_button, Qt.MouseButton.LeftButton)
    dialog = bulk_dialog(qtbot, panel)
    assert dialog.objectName() == "bulk-cancel-dialog" and dialog.matching == n
    dialog.cap.setValue(3)
    assert not dialog.ok.isEnabled() and "reason is required" in dialog.will.text()
    dialog.reason.setText("model outage")
    assert dialog.ok.isEnabled() and dialog.ok.text() == "Cancel 3 jobs"
    dialog.accept()
    qtbot.waitUntil(lambda: "Canceled 3 of 3" in window.statusBar().currentMessage(), timeout=10_000)
    with ctx.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM jobs WHERE type='ai.generate_reply' AND status='retrying'")).scalar() == n - 3
        assert c.execute(text("SELECT reason FROM audit_logs WHERE action='job.cancel_many'")).scalar() == "model outage"


def test_purge_finished_matching(qtbot, ctx, window):
    panel = window.panels["jobs"]
    panel.pick_type("crm.sync_contact", None)
    wait_idle(qtbot, ctx)
    with ctx.engine.connect() as c:
        finished = c.execute(text("SELECT count(*) FROM jobs WHERE type='crm.sync_contact' AND status IN "
                                  "('succeeded','canceled','dead')")).scalar()
        waiting = c.execute(text("SELECT count(*) FROM jobs WHERE type='crm.sync_contact' AND status NOT IN "
                                 "('succeeded','canceled','dead')")).scalar()
    assert finished
    qtbot.mouseClick(panel.purge_button, Qt.MouseButton.LeftButton)
    dialog = bulk_dialog(qtbot, panel)
    assert dialog.objectName() == "bulk-purge-dialog"
    dialog.cap.setValue(100_000)
    dialog.reason.setText("housekeeping")
    dialog.accept()
    qtbot.waitUntil(lambda: f"Purged {finished:,} of ".replace(",", "\u202f") in window.statusBar().currentMessage(), timeout=10_000)
    with ctx.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM jobs WHERE type='crm.sync_contact'")).scalar() == waiting


def test_purge_is_disabled_for_support(qtbot, ctx, window):
    with ctx.engine.connect() as c:
        support = c.execute(text("SELECT id FROM users WHERE roles = '[\"support\"]' LIMIT 1")).scalar()
    ctx.settings.operator_user_id = support
    panel = window.panels["jobs"]
    panel.load_actor()
    wait_idle(qtbot, ctx)
    assert not panel.purge_button.isEnabled() and "needs jobs:purge" in panel.purge_button.toolTip()
    assert not panel.cancel_all_button.isEnabled()
    assert panel.retry_all_button.isEnabled()


@pytest.mark.parametrize("typed", ['"unbalanced', "AND OR NOT", "col:x ^y*", "NEAR(a b)", "<img src=x>"])
def test_search_box_takes_fts_syntax_as_text(qtbot, ctx, window, typed):
    panel = window.panels["jobs"]
    messages = []
    ctx.status_message.connect(messages.append)
    panel.text_edit.setText(typed)
    panel.apply_query()
    wait_idle(qtbot, ctx)
    assert not any("rror" in m for m in messages), messages
    assert "full-text match" in panel.summary.text()


def test_a_chosen_error_group_stays_as_the_operator_set_it_through_refreshes(qtbot, ctx, window):
    """The groups table reselected the chosen group after each refresh and so chose it again: the jobs table went
    back to every state of the group, losing the operator's state filter, selection and detail; after ✕ the filter
    came back by itself."""
    panel = window.panels["jobs"]
    show_tab(qtbot, ctx, panel, panel.groups)
    groups = panel.groups
    assert groups.model.rowCount() > 1
    picked = []
    groups.picked.connect(lambda fp, _t: picked.append(fp))
    groups.table.selectRow(0)
    chosen = groups.model.rows[0].fingerprint
    wait_idle(qtbot, ctx)
    dead = next(b for b in panel.state_buttons.buttons() if b.property("state") == "dead")
    dead.click()
    wait_idle(qtbot, ctx)
    assert panel.model.query.error_group == chosen and panel.model.query.status == "dead"
    reordered = list(reversed(groups.model.rows))  # a refresh in which the groups' order changed
    groups.show_groups(reordered, panel.now_ms() if hasattr(panel, "now_ms") else 0)
    wait_idle(qtbot, ctx)
    assert picked == [chosen]  # not chosen again by the refresh
    assert groups.current().fingerprint == chosen  # still highlighted
    assert panel.model.query.error_group == chosen and panel.model.query.status == "dead"
    qtbot.mouseClick(panel.group_chip.clear, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, ctx)
    assert groups.current() is None
    groups.show_groups(list(reversed(groups.model.rows)), 0)
    wait_idle(qtbot, ctx)
    assert panel.model.query.error_group is None and not panel.group_chip.isVisible()


def test_a_bulk_action_counts_and_caps_only_the_jobs_it_may_act_on(qtbot, ctx, window):
    """"Delete 20 000 jobs" over every state purged 18,781 and skipped the waiting ones, and a capped retry spent
    its cap on succeeded jobs it skipped: the count, the button and the cap are about what the action acts on."""
    panel = window.panels["jobs"]
    panel.pick_type("crm.sync_contact", None)
    wait_idle(qtbot, ctx)
    with ctx.engine.connect() as c:
        by = dict(c.execute(text("SELECT status, count(*) FROM jobs WHERE type='crm.sync_contact' GROUP BY 1")).all())
    finished = sum(n for s, n in by.items() if s in ("succeeded", "canceled", "dead"))
    assert finished and finished < sum(by.values())
    qtbot.mouseClick(panel.purge_button, Qt.MouseButton.LeftButton)
    dialog = bulk_dialog(qtbot, panel)
    assert dialog.matching == finished
    dialog.cap.setValue(5)
    dialog.reason.setText("housekeeping")
    assert dialog.ok.text() == "Delete 5 jobs"
    dialog.accept()
    qtbot.waitUntil(lambda: "Purged 5 of " in window.statusBar().currentMessage(), timeout=10_000)
    assert "skipped" not in window.statusBar().currentMessage()
    with ctx.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM jobs WHERE type='crm.sync_contact'")).scalar() == \
            sum(by.values()) - 5


def test_the_bulk_dialog_names_the_user_and_the_error_group_and_counts_in_words(qtbot, ctx, window):
    from console.store.jobs import JobQuery
    from console.ui.panels.jobs.bulk import BulkRetryDialog

    d = BulkRetryDialog(JobQuery(user_id="u123", error_group="fp"), 1, window, verb="cancel",
                        skipped={"dead": 3}, group_title="Twilio 429")
    qtbot.addWidget(d)
    text_ = " ".join(label.text() for label in d.findChildren(type(d.will)))
    assert "about user u123" in text_ and "“Twilio 429”" in text_ and "3 dead" in text_
    assert d.ok.text() == "Cancel 1 job"


def test_the_state_counts_follow_the_chosen_error_group(qtbot, ctx, window):
    """With an error group chosen, the state buttons counted every job of the replica (Dead 412 over a list of
    9): they count the group's jobs, and All is what the list shows."""
    panel = window.panels["jobs"]
    show_tab(qtbot, ctx, panel, panel.groups)
    groups = panel.groups
    groups.table.selectRow(0)
    chosen = groups.model.rows[0].fingerprint
    wait_idle(qtbot, ctx)
    panel.tick()
    wait_idle(qtbot, ctx)
    with ctx.engine.connect() as c:
        by = dict(c.execute(text("SELECT status, count(*) FROM jobs WHERE error_fp = :fp GROUP BY 1"),
                            {"fp": chosen}).all())
    labels = {b.property("state"): b.text() for b in panel.state_buttons.buttons()}
    assert labels["dead"].endswith(f" {count(by.get('dead', 0))}")
    assert labels["retrying"].endswith(f" {count(by.get('retrying', 0))}")
    assert labels[None].endswith(f" {count(by.get('dead', 0) + by.get('retrying', 0))}")
    assert count_matching_list(qtbot, ctx, panel) == by.get("dead", 0) + by.get("retrying", 0)
    qtbot.mouseClick(panel.group_chip.clear, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, ctx)
    panel.tick()
    wait_idle(qtbot, ctx)
    with ctx.engine.connect() as c:
        dead = c.execute(text("SELECT count(*) FROM jobs WHERE status = 'dead'")).scalar()
    assert next(b for b in panel.state_buttons.buttons() if b.property("state") == "dead").text().endswith(
        f" {count(dead)}")


def count_matching_list(qtbot, ctx, panel):
    from console.store.jobs import count_matching

    with ctx.engine.connect() as c:
        return count_matching(c, panel.model.query, cap=100_000)
