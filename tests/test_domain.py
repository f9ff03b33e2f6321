"""Job-store and role rules (Qt-free)."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.domain import jobs as J
from console.domain import roles as R

NOW = 1_800_000_000_000


def run_and_fail(job, times, now=NOW):
    for i in range(times):
        now = max(now, job.get("nextRunAt") or now)  # wait until it is due
        job = J.claim(job, "w1", now)
        job = J.fail(job, f"error {i + 1}", now, rng=random.Random(i))
    return job


def test_backoff_schedule_is_the_workpool_default():
    p = J.RetryPolicy()
    rng = random.Random(0)
    for attempt in range(1, 6):
        base = 250 * 2 ** (attempt - 1)
        delays = [p.backoff_ms(attempt, rng) for _ in range(200)]
        assert base * 0.5 <= min(delays) and max(delays) < base * 1.5


def test_fail_retries_then_dies_keeping_every_error():
    job = J.new_job("k", "sms.send", {}, NOW)
    job = run_and_fail(job, 4)
    assert job["status"] == J.RETRYING and job["nextRunAt"] > NOW
    job = run_and_fail(job, 1)
    assert job["status"] == J.DEAD and job["attempts"] == 5
    assert [e["error"] for e in job["errors"]] == [f"error {i}" for i in (1, 2, 3, 4, 1)]
    assert [e["attempt"] for e in job["errors"]] == [1, 2, 3, 4, 5]


def test_manual_retry_runs_now_with_a_fresh_budget():
    dead = run_and_fail(J.new_job("k", "t", {}, NOW), 5)
    retried = J.manual_retry(dead, NOW + 100)
    assert retried["status"] == J.PENDING and retried["nextRunAt"] == NOW + 100
    assert retried["attempts"] == 5 and J.budget_used(retried) == 0
    again = run_and_fail(retried, 1, now=NOW + 200)
    assert again["status"] == J.RETRYING  # the automatic budget was not eaten by the manual retry


def test_claim_rules_and_stuck_jobs():
    job = J.new_job("k", "t", {}, NOW, run_at_ms=NOW + 1000)
    with pytest.raises(J.JobRuleError):
        J.claim(job, "w", NOW)
    running = J.claim(job, "w", NOW + 1000)
    assert not J.claimable(running, NOW + 2000)
    later = NOW + 1000 + 60_001
    assert J.is_stuck(running, later) and not J.claimable(running, later)
    with pytest.raises(J.JobRuleError, match="running now"):
        J.manual_retry(running, NOW + 1500)
    assert J.manual_retry(running, NOW + 1000 + 70_000)["status"] == J.PENDING
    expired = J.expire_lease(running, later)
    assert expired["status"] == J.RETRYING and "Lease expired" in expired["errors"][-1]["error"]
    with pytest.raises(J.JobRuleError):
        J.expire_lease(expired, later)


def test_cancel_and_finished_jobs():
    job = J.new_job("k", "t", {}, NOW)
    canceled = J.cancel(job, NOW)
    assert canceled["status"] == J.CANCELED
    with pytest.raises(J.JobRuleError):
        J.cancel(canceled, NOW)
    done = J.complete(J.claim(job, "w", NOW), NOW)
    with pytest.raises(J.JobRuleError, match="succeeded"):
        J.manual_retry(done, NOW)


@given(st.lists(st.sampled_from(["claim", "expire", "fail", "complete", "retry", "cancel"]), max_size=30))
def test_any_sequence_keeps_the_state_machine_consistent(ops):
    job = J.new_job("k", "t", {}, NOW)
    now = NOW
    for op in ops:
        now += 1_000_000
        try:
            job = {"claim": lambda j: J.claim(j, "w", now),
                   "expire": lambda j: J.expire_lease(j, now), "fail": lambda j: J.fail(j, "e", now),
                   "complete": lambda j: J.complete(j, now), "retry": lambda j: J.manual_retry(j, now),
                   "cancel": lambda j: J.cancel(j, now)}[op](job)
        except J.JobRuleError:
            pass
        assert job["status"] in J.STATES
        assert 0 <= J.budget_used(job) <= job["maxAttempts"]
        assert len(job["errors"]) <= job["attempts"]
        assert (job["status"] == J.RUNNING) == bool(job.get("claimedBy"))


ADMIN = {"_id": "a", "roles": ["admin"], "isActive": True}
SUPPORT = {"_id": "s", "roles": ["support"], "isActive": True}


def test_app_role_rules():
    target = {"_id": "t", "roles": [], "isActive": True}
    assert R.check_set_app_roles(ADMIN, target, {"support"}, 2) is None
    assert "Only admins" in R.check_set_app_roles(SUPPORT, target, {"support"}, 2)
    assert "deactivated" in R.check_set_app_roles(ADMIN, dict(target, isActive=False), {"support"}, 2)
    assert "last admin" in R.check_set_app_roles(ADMIN, ADMIN, set(), 1)
    assert R.check_set_app_roles(ADMIN, ADMIN, set(), 2) is None
    assert "No operator" in R.check_set_app_roles(None, target, set(), 2)
    assert "yourself" in R.check_set_active(ADMIN, ADMIN, False, 2)
    assert "last admin" in R.check_set_active(ADMIN, dict(ADMIN, _id="b"), False, 1)


def test_member_role_rules():
    assert R.member_roles("admin, member") == {"admin", "member"}
    assert R.join_roles({"member", "admin"}) == "admin,member"
    assert R.check_set_member_role({"owner"}, {"member"}, {"admin"}, 1) is None
    assert "owners and admins" in R.check_set_member_role({"member"}, {"member"}, {"admin"}, 1)
    assert "cannot demote" in R.check_set_member_role({"admin"}, {"owner"}, {"member"}, 2)
    assert "Only an owner" in R.check_set_member_role({"admin"}, {"member"}, {"owner"}, 2)
    assert "last owner" in R.check_set_member_role({"owner"}, {"owner"}, {"admin"}, 1)
    assert "at least one" in R.check_set_member_role({"owner"}, {"member"}, set(), 1)


def test_reason_and_staleness():
    assert R.check_reason("  ") and R.check_reason(None) and R.check_reason("ok") is None
    assert "Refresh" in R.check_fresh(5, 4) and R.check_fresh(5, 5) is None and R.check_fresh(5, None) is None


def test_up_front_rules_for_jobs():
    from console.domain import jobs as J

    assert "succeeded" in J.retry_refusal("succeeded")
    assert "running now" in J.retry_refusal("running", stuck=False)
    assert J.retry_refusal("running", stuck=True) is None  # a stuck job may be retried
    assert J.retry_refusal("dead") is None and J.retry_refusal("canceled") is None
    for finished in J.FINISHED:
        assert f"already {finished}" in J.cancel_refusal(finished)
    assert J.cancel_refusal("pending") is None and J.cancel_refusal("running") is None


def test_up_front_rules_for_roles():
    from console.domain import roles as R

    admin = {"_id": "a", "roles": ["admin"], "isActive": True}
    other = {"_id": "b", "roles": ["admin"], "isActive": True}
    assert "last admin" in R.toggle_app_role_refusal(admin, admin, "admin", active_admins=1)
    assert R.toggle_app_role_refusal(admin, other, "admin", active_admins=2) is None
    assert R.toggle_app_role_refusal(admin, admin, "support", active_admins=1) is None
    gone = {"_id": "c", "roles": [], "isActive": False}
    assert "reactivate them first" in R.toggle_app_role_refusal(admin, gone, "support", 2)
    assert "yourself" in R.check_set_active(admin, admin, False, 2)
    assert "Only admins" in R.toggle_app_role_refusal({"_id": "s", "roles": ["support"]}, other, "admin", 2)
    assert "not a member" in R.member_edit_refusal(None, {"member"})
    assert "owners and admins" in R.member_edit_refusal({"member"}, {"member"})
    assert "cannot demote" in R.member_edit_refusal({"admin"}, {"owner"})
    assert R.member_edit_refusal({"admin"}, {"member"}) is None
    choices = dict(R.member_role_choices({"admin"}, {"member"}, ["owner", "admin", "member", "billing,member"], 1))
    assert choices["member"] is None and choices["admin"] is None and choices["billing,member"] is None
    assert "Only an owner" in choices["owner"]
    last = dict(R.member_role_choices({"owner"}, {"owner"}, ["owner", "admin", "member"], 1))
    assert "last owner" in last["admin"] and last["owner"] is None


def test_optimistic_change_seen_before_the_answer_is_confirmed_by_it():
    from console.domain.optimistic import OptimisticState

    state = OptimisticState()
    key = ("roles", "u1")
    state.propose(key, ["admin"], ["support"])
    assert not state.observed(key, ["support"])  # the replica was faster than the server's answer
    state.accepted(key)
    assert key not in state.changes and state.shown(key, ["support"]) == (["support"], None)
