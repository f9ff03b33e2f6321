"""Live mode against a stand-in: cancel all matching, purge finished matching and an error group's bulk retry go
through the contract (console:cancelJobs / purgeJobs / retryJobs with errorGroup), each one audit entry; the
replica synced from the stand-in has the same error groups and type counts as the stand-in's documents."""

import threading
from collections import Counter

from sqlalchemy import text

from console.client.http import Deployment
from console.domain.fingerprint import fingerprint
from console.store.errorgroups import error_groups
from console.store.jobs import JobQuery
from console.store.jobtypes import type_table
from console.ui.connect import connect_live
from console.ui.main_window import MainWindow
from console.ui.panels.jobs.actions import JobActions, Progress
from tests.standin_helpers import KEY, standin
from tests.ui.test_live import close, run_until


def _bulk(loop, ctx, verb, query, reason):
    results = []
    JobActions(ctx).bulk_matching(verb, query, 1000, reason, Progress(), threading.Event(), results.append,
                                  lambda m: results.append("FAILED " + m))
    run_until(loop, lambda: results)
    return results[0]


def _audits(s, action):
    return s.store.scan("auditLogs", where="json_extract(doc,'$.action') = ?", params=(action,))


def test_live_bulk_cancel_purge_and_error_groups(qtbot, ctx, loop):
    s = standin()
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    try:
        admin = s.store.scan("users", where="json_extract(doc,'$.role') = 'admin'", limit=1)[0]
        ctx.settings.operator_user_id, ctx.settings.operator_email = admin["_id"], admin["email"]
        controller = connect_live(window, Deployment(s.url, KEY))
        run_until(loop, lambda: controller.last_state is not None and controller.last_state.status == "live")
        jobs = s.store.scan("jobs")

        # the replica's groups and type counts are the stand-in's documents, grouped here independently
        failed = Counter(fingerprint(j.get("lastError")) for j in jobs
                         if j.get("status") in ("retrying", "dead") and j.get("lastError"))
        with ctx.engine.connect() as c:
            groups = {g.fingerprint: g.count for g in error_groups(c)}
            types = {r.type: r.counts for r in type_table(c)}
        assert groups == dict(failed) and groups
        by_type = Counter((j.get("type"), j.get("status")) for j in jobs)
        assert all(types[t][st] == n for (t, st), n in by_type.items())

        # an error group's retry: the deployment selects the same jobs by fingerprint
        fp, n = failed.most_common(1)[0]
        message = _bulk(loop, ctx, "retry", JobQuery(error_group=fp), "provider fixed")
        assert message == f"The deployment retried {n} of {n} matching jobs", message
        assert all(j.get("status") == "pending" for j in s.store.scan("jobs")
                   if fingerprint(j.get("lastError")) == fp and j["_id"] in {x["_id"] for x in jobs
                                                                             if x.get("status") in ("retrying", "dead")})

        # cancel all matching a type: finished jobs are skipped, one audit entry with the reason
        jtype = "sms.send"
        cancellable = sum(1 for j in s.store.scan("jobs") if j.get("type") == jtype
                          and j.get("status") not in ("succeeded", "canceled", "dead"))
        message = _bulk(loop, ctx, "cancel", JobQuery(type=jtype), "carrier outage")
        assert message.startswith(f"The deployment canceled {cancellable} of "), message
        assert [a["reason"] for a in _audits(s, "job.cancel_many")] == ["carrier outage"]
        assert not [j for j in s.store.scan("jobs") if j.get("type") == jtype and j.get("status") in ("pending", "retrying")]

        # purge finished matching: only finished jobs go
        succeeded = [j["_id"] for j in s.store.scan("jobs") if j.get("status") == "succeeded"]
        message = _bulk(loop, ctx, "purge", JobQuery(status="succeeded"), "housekeeping")
        assert message == f"The deployment purged {len(succeeded)} of {len(succeeded)} matching jobs", message
        assert all(s.store.get("jobs", i) is None for i in succeeded)
        assert len(_audits(s, "job.purge_many")) == 1
        # ... and the replica follows (deletes sync too)
        def replica_succeeded():
            with ctx.engine.connect() as c:
                return c.execute(text("SELECT count(*) FROM jobs WHERE status = 'succeeded'")).scalar()
        run_until(loop, lambda: replica_succeeded() == 0)

        # a support operator may not purge: the deployment refuses
        support = s.store.scan("users", where="json_extract(doc,'$.role') = 'support'", limit=1)[0]
        ctx.settings.operator_user_id, ctx.settings.operator_email = support["_id"], support["email"]
        message = _bulk(loop, ctx, "purge", JobQuery(status="dead"), "nope")
        assert message.startswith("FAILED ") and "needs jobs:purge" in message, message
    finally:
        close(window, loop, qtbot, ctx, s)
