"""Role editing: every rule with its refusal, no lost update between two consoles, complete audit."""

import asyncio
import json

import pytest
from sqlalchemy import text

from console.client import errors as E
from console.client.client import ConvexClient
from console.client.http import Deployment
from console.convex.values import Int64
from console.domain.optimistic import ACCEPTED, PENDING, OptimisticState
from console.store.jobstore import Refused
from console.store.roles import AuditQuery, LocalRoleStore, RoleQuery, audit, search
from tests.standin_helpers import KEY, standin


@pytest.fixture
def conn(engine):
    with engine.connect() as c:
        yield c


def one(conn, where):
    return conn.execute(text(f"SELECT id, ts FROM users WHERE {where} ORDER BY pk LIMIT 1")).one()


def test_local_store_rules_and_audit(engine, conn):
    store = LocalRoleStore(engine)
    admin = one(conn, "roles = '[\"admin\",\"support\"]' AND is_active")
    support = one(conn, "roles = '[\"support\"]'")
    customer = one(conn, "role = 'user' AND is_active")
    with pytest.raises(Refused, match="needs a reason"):
        store.set_user_roles(customer.id, {"support"}, admin.id, "", customer.ts)
    with pytest.raises(Refused, match="Only admins"):
        store.set_user_roles(customer.id, {"support"}, support.id, "why", customer.ts)
    with pytest.raises(Refused, match="changed since you loaded"):
        store.set_user_roles(customer.id, {"support"}, admin.id, "why", customer.ts - 1)
    store.set_user_roles(customer.id, {"support"}, admin.id, "joins support", customer.ts)
    row = conn.execute(text("SELECT roles, ts FROM users WHERE id=:u"), {"u": customer.id}).one()
    assert json.loads(row.roles) == ["support"] and row.ts > customer.ts
    assert conn.execute(text("SELECT count(*) FROM user_roles r JOIN users u ON u.pk=r.user_pk "
                             "WHERE u.id=:u AND r.role='support'"), {"u": customer.id}).scalar() == 1
    entry = audit(conn, AuditQuery(target_id=customer.id, action="user.set_roles"))[0]
    assert entry["actor_user_id"] == admin.id and entry["reason"] == "joins support"
    assert json.loads(entry["changes"]) == {"roles": {"before": [], "after": ["support"]}}
    store.set_user_active(customer.id, False, admin.id, "left the company", row.ts)
    ts = conn.execute(text("SELECT ts FROM users WHERE id=:u"), {"u": customer.id}).scalar()
    with pytest.raises(Refused, match="deactivated user cannot be granted"):
        store.set_user_roles(customer.id, {"support", "admin"}, admin.id, "x", ts)
    with pytest.raises(Refused, match="yourself"):
        store.set_user_active(admin.id, False, admin.id, "x", admin.ts)


def test_the_last_admin_keeps_the_role(engine, conn):
    store = LocalRoleStore(engine)
    admins = conn.execute(text("SELECT u.id, u.ts FROM user_roles r JOIN users u ON u.pk=r.user_pk "
                               "WHERE r.role='admin' AND u.is_active ORDER BY u.pk")).all()
    first = admins[0]
    for other in admins[1:]:
        store.set_user_roles(other.id, {"support"}, first.id, "consolidating", other.ts)
    with pytest.raises(Refused, match="last admin"):
        store.set_user_roles(first.id, {"support"}, first.id, "oops", first.ts)


def test_member_role_rules(engine, conn):
    store = LocalRoleStore(engine)
    org = conn.execute(text("SELECT organization_id FROM members GROUP BY 1 HAVING count(*) >= 3 "
                            "AND sum(role LIKE '%owner%') = 1 LIMIT 1")).scalar()
    rows = conn.execute(text("SELECT id, user_id, role, ts FROM members WHERE organization_id=:o"), {"o": org}).all()
    owner = next(r for r in rows if "owner" in r.role)
    member = next(r for r in rows if r.role == "member")
    with pytest.raises(Refused, match="last owner"):
        store.set_member_role(owner.id, "admin", owner.user_id, "stepping down", owner.ts)
    with pytest.raises(Refused, match="owners and admins"):
        store.set_member_role(owner.id, "member", member.user_id, "coup", owner.ts)
    store.set_member_role(member.id, "admin,member", owner.user_id, "promotion", member.ts)
    with pytest.raises(Refused, match="cannot demote"):
        store.set_member_role(owner.id, "member", member.user_id, "coup", owner.ts)
    page = search(conn, RoleQuery(organization_id=org))
    assert {r.member_role for r in page.rows if r.id == member.user_id} == {"admin,member"}


def test_two_consoles_one_wins_the_other_is_refused_nothing_lost():
    s = standin()
    try:
        admin = s.store.scan("users", where="json_extract(doc,'$.role') = 'admin'", limit=1)[0]
        support = s.store.scan("users", where="json_extract(doc,'$.role') = 'support'", limit=1)[0]
        with s.store.transaction() as tx:  # a second admin, for the second console
            tx.patch("users", support["_id"], {"roles": ["admin", "support"], "role": "admin"})
        admins = [admin, s.store.get("users", support["_id"])]
        target = s.store.scan("users", where="json_extract(doc,'$.role') = 'user'", limit=1)[0]
        seen = float(target.get("opsVersion") or 0)  # both consoles loaded the same version (a v.number())

        async def edit(admin, roles):
            c = ConvexClient(Deployment(s.url, KEY))
            try:
                return await c.mutation("console:setUserRoles", {"userId": target["_id"], "roles": roles,
                                                                 "reason": f"by {admin['email']}", "expectedVersion": seen},
                                        identity={"subject": admin["_id"], "issuer": "ops-console"})
            finally:
                await c.aclose()

        async def both():
            return await asyncio.gather(edit(admins[0], ["support"]), edit(admins[1], ["beta"]),
                                        return_exceptions=True)

        results = asyncio.run(both())
        wins = [r for r in results if not isinstance(r, Exception)]
        losses = [r for r in results if isinstance(r, E.FunctionError)]
        assert len(wins) == 1 and len(losses) == 1
        assert losses[0].error_data["code"] == "stale" and "Refresh" in losses[0].error_data["message"]
        final = s.store.get("users", target["_id"])
        assert final["roles"] == wins[0]["roles"]
        entries = s.store.scan("auditLogs", where="json_extract(doc,'$.resourceId') = ?", params=(target["_id"],))
        assert len(entries) == 1 and entries[0]["changes"]["roles"]["after"] == wins[0]["roles"]
    finally:
        s.stop()


def test_optimistic_state():
    state = OptimisticState()
    key = ("roles", "u1")
    state.propose(key, ["support"], ["support", "admin"])
    assert state.shown(key, ["support"]) == (["support", "admin"], PENDING)
    state.propose(key, ["support", "admin"], ["admin"])  # edited again before the first landed
    assert state.changes[key].previous == ["support"]
    state.accepted(key)
    assert state.shown(key, ["support"]) == (["admin"], ACCEPTED)  # accepted, replica not caught up yet
    assert not state.observed(key, ["support"])
    assert state.observed(key, ["admin"]) and state.shown(key, ["admin"]) == (["admin"], None)
    state.propose(key, ["admin"], [])
    refused = state.refused(key, "This is the last admin of the app")
    assert refused.previous == ["admin"] and state.shown(key, ["admin"]) == (["admin"], None)


def test_a_deactivated_admin_can_do_nothing_in_the_demo(engine, conn):
    """Issue 14: in the demo a deactivated admin could still deactivate others and reactivate themself, where
    the contract (console.ts requireOperator, parity case "setUserActive: a deactivated operator") refuses
    every call of a deactivated operator with the same words."""
    from console.domain import roles as R
    from console.store.jobs import JobQuery
    from console.store.jobstore import LocalJobStore

    cases = json.loads((__import__("pathlib").Path(__file__).parent / "contract" / "cases.json").read_text())
    expected = next(c["expect"]["message"] for c in cases["cases"] if c["expect"].get("code") == "operator_deactivated"
                    and "message" in c["expect"])
    store = LocalRoleStore(engine)
    admin, other = conn.execute(text("SELECT id, ts FROM users WHERE roles LIKE '%\"admin\"%' AND is_active "
                                     "ORDER BY pk LIMIT 2")).all()
    customer = one(conn, "role = 'user' AND is_active")
    store.set_user_active(other.id, False, admin.id, "left", other.ts)
    ts = conn.execute(text("SELECT ts FROM users WHERE id=:u"), {"u": other.id}).scalar()
    with pytest.raises(Refused) as refused:
        store.set_user_active(customer.id, False, other.id, "revenge", customer.ts)
    assert str(refused.value) == expected
    with pytest.raises(Refused, match="deactivated"):
        store.set_user_active(other.id, True, other.id, "let me back in", ts)
    with pytest.raises(Refused, match="deactivated"):
        store.set_user_roles(customer.id, {"admin"}, other.id, "accomplice", customer.ts)
    member = conn.execute(text("SELECT m.id, m.ts FROM members m JOIN users u ON u.id = m.user_id "
                               "WHERE m.user_id != :o LIMIT 1"), {"o": other.id}).one()
    with pytest.raises(Refused, match="deactivated"):
        store.set_member_role(member.id, "owner", other.id, "takeover", member.ts)
    jobs = LocalJobStore(engine)
    dead = conn.execute(text("SELECT id FROM jobs WHERE status='dead' LIMIT 1")).scalar()
    with pytest.raises(Refused, match="deactivated"):
        jobs.retry(dead, other.id, "x")
    with pytest.raises(Refused, match="deactivated"):
        jobs.retry_many(JobQuery(status="dead"), 5, other.id, "x")
    assert conn.execute(text("SELECT is_active FROM users WHERE id=:u"), {"u": other.id}).scalar() == 0
    assert conn.execute(text("SELECT is_active FROM users WHERE id=:u"), {"u": customer.id}).scalar() == 1
    # The UI mirrors the rule: the domain check refuses too, for every edit.
    actor = {"_id": other.id, "roles": ["admin", "support"], "isActive": False}
    assert R.check_set_active(actor, {"_id": other.id}, True, 5) == expected
    assert R.check_set_active(actor, {"_id": customer.id}, False, 5) == expected
