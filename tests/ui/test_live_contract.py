"""The console's contract calls against a stand-in, which checks every argument with the validators the
TypeScript contract exports (console/contract/args.json): numbers go as Float64, stale views are refused."""

import threading

from console.client.http import Deployment
from console.store.jobs import JobQuery
from console.ui.connect import connect_live
from console.ui.main_window import MainWindow
from console.ui.panels.jobs.actions import JobActions, Progress
from console.ui.user_actions import user_actions
from tests.standin_helpers import KEY, standin
from tests.ui.test_live import close, run_until


def _replica_ts(ctx, table, doc_id):
    from sqlalchemy import text

    with ctx.engine.connect() as conn:
        return conn.execute(text(f"SELECT ts FROM {table} WHERE id = :id"), {"id": doc_id}).scalar()


def test_role_member_and_bulk_retry_edits_pass_the_contract_validators(qtbot, ctx, loop):
    s = standin()
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    try:
        admin = s.store.scan("users", where="json_extract(doc,'$.role') = 'admin'", limit=1)[0]
        ctx.settings.operator_user_id, ctx.settings.operator_email = admin["_id"], admin["email"]
        controller = connect_live(window, Deployment(s.url, KEY))
        run_until(loop, lambda: controller.last_state is not None and controller.last_state.status == "live")
        actions = user_actions(ctx)
        refusals = []
        actions.refused.connect(lambda key, reason: refusals.append(reason))

        # an app-role edit: expectedVersion is the replica's opsVersion, sent as a v.number()
        target = s.store.scan("users", where="json_extract(doc,'$.role') = 'user' AND "
                              "json_extract(doc,'$.isActive') = 1", limit=1)[0]
        seen = _replica_ts(ctx, "users", target["_id"])
        done = []
        actions.set_roles(target["_id"], [], ["beta"], "beta tester", seen, lambda: done.append(1))
        run_until(loop, lambda: done or refusals)
        assert not refusals, refusals
        assert s.store.get("users", target["_id"])["roles"] == ["beta"]
        assert s.store.get("users", target["_id"])["opsVersion"] == 1
        # the same stale view again: the replica has the new version by now, so the console refuses it
        run_until(loop, lambda: _replica_ts(ctx, "users", target["_id"]) != seen)
        actions.set_roles(target["_id"], [], ["support"], "again", seen)
        run_until(loop, lambda: refusals)
        assert "Refresh and try again" in refusals[-1]
        assert s.store.get("users", target["_id"])["roles"] == ["beta"]

        # a member-role edit based on the role the console saw; one based on an old role is stale
        owned = s.store.scan("member", "betterAuth", where="json_extract(doc,'$.role') = 'owner'", limit=1)[0]
        org = owned["organizationId"]
        other = s.store.scan("member", "betterAuth", where="json_extract(doc,'$.organizationId') = ? AND "
                             "json_extract(doc,'$.role') = 'member'", params=(org,), limit=1)[0]
        owner = s.store.get("users", owned["userId"])
        ctx.settings.operator_user_id, ctx.settings.operator_email = owner["_id"], owner["email"]
        done.clear()
        actions.set_member_role(other["_id"], "member", "admin", "team lead", 0, lambda: done.append(1))
        run_until(loop, lambda: done or len(refusals) > 1)
        assert len(refusals) == 1, refusals
        assert s.store.get("member", other["_id"], "betterAuth")["role"] == "admin"
        actions.set_member_role(other["_id"], "member", "billing", "stale view", 0)
        run_until(loop, lambda: len(refusals) > 1)
        assert "changed since you loaded" in refusals[-1]

        # retry all matching: limit and the created range are numbers, not Int64
        ctx.settings.operator_user_id, ctx.settings.operator_email = admin["_id"], admin["email"]
        results = []
        JobActions(ctx).retry_matching(JobQuery(status="dead", created_from=0, created_to=2_000_000_000_000), 1000,
                                       "incident", Progress(), threading.Event(), results.append,
                                       lambda m: results.append("FAILED " + m))
        run_until(loop, lambda: results)
        assert results[0].startswith("The deployment retried"), results
    finally:
        close(window, loop, qtbot, ctx, s)
