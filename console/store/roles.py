"""Roles: the users-by-roles matrix, the audit view, and the demo's local role store (Qt-free).

The local store applies the same rules as the deployment's contract (console/domain/roles.py), refuses
with the same reasons, writes one audit entry per change, and refuses an edit based on a stale view
(`expected_ts` is the `_ts` the console saw).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from console.changes import ChangeSet
from console.convex.ids import IdMinter
from console.store.numbers import TABLE_NUMBERS
from console.domain import roles as R
from console.store.ingest import upsert_documents
from console.store.jobstore import Refused, immediate
from console.store.mapping import BY_SOURCE
from console.store.users import UserQuery, search as search_users

USERS = BY_SOURCE[("", "users")]
MEMBERS = BY_SOURCE[("betterAuth", "member")]
AUDIT = BY_SOURCE[("", "auditLogs")]
ROLE_ACTIONS = ("user.set_roles", "user.activate", "user.deactivate", "member.set_role")


@dataclass(frozen=True)
class RoleQuery:
    text: str = ""
    role: str | None = None
    active: bool | None = None
    organization_id: str | None = None


@dataclass(frozen=True)
class RoleRow:
    pk: int
    id: str
    name: str
    email: str
    is_active: bool
    roles: tuple[str, ...]
    ts: int
    member_id: str | None  # in the filtered organization
    member_role: str | None
    member_ts: int | None
    sort_value: Any


@dataclass
class RolePage:
    rows: list[RoleRow]
    has_more: bool
    cursor: Any


def search(conn: Connection, q: RoleQuery, *, after: Any = None, limit: int = 200) -> RolePage:
    """Users with their app roles (and their role in one organization, when filtered by it)."""
    if q.organization_id:
        where = ["m.organization_id = :org"]
        p: dict[str, Any] = {"org": q.organization_id, "limit": limit + 1}
        if q.active is not None:
            where.append("u.is_active = :active")
            p["active"] = 1 if q.active else 0
        if q.role:
            where.append("(EXISTS (SELECT 1 FROM user_roles r WHERE r.user_pk = u.pk AND r.role = :role) "
                         "OR (',' || m.role || ',') LIKE :like)")
            p.update(role=q.role, like=f"%,{q.role},%")
        if q.text.strip():
            where.append("(instr(lower(u.name), :t) OR instr(lower(u.email), :t))")
            p["t"] = q.text.strip().lower()
        if after is not None:
            where.append("(u.name, u.pk) > (:av, :apk)")
            p.update(av=after[0], apk=after[1])
        raw = conn.execute(text(
            "SELECT u.pk, u.id, u.name, u.email, u.is_active, u.roles, u.role, u.ts, m.id, m.role, m.ts, u.name "
            "FROM members m JOIN users u ON u.id = m.user_id WHERE " + " AND ".join(where) +
            " ORDER BY u.name, u.pk LIMIT :limit"), p).fetchall()
        rows = [_role_row(r) for r in raw[:limit]]
        return RolePage(rows, len(raw) > limit, (rows[-1].sort_value, rows[-1].pk) if rows else None)
    page = search_users(conn, UserQuery(text=q.text, role=q.role, active=q.active), after=after, limit=limit)
    ts = _ts_of(conn, [r.id for r in page.rows])
    rows = [RoleRow(r.pk, r.id, r.name, r.email, r.is_active, r.roles, ts.get(r.id, 0), None, None, None, r.sort_value)
            for r in page.rows]
    return RolePage(rows, page.has_more, page.cursor)


def _role_row(r: Any) -> RoleRow:
    try:
        roles = [x for x in json.loads(r[5] or "[]") if isinstance(x, str)]
    except ValueError:
        roles = []
    if r[6] and r[6] not in roles and r[6] != "user":
        roles.append(r[6])
    return RoleRow(r[0], r[1], r[2] or "", r[3] or "", bool(r[4]), tuple(roles), int(r[7] or 0), r[8], r[9],
                   int(r[10] or 0), r[11])


def _ts_of(conn: Connection, ids: list[str]) -> dict[str, int]:
    if not ids:
        return {}
    marks = ", ".join(f":i{n}" for n in range(len(ids)))
    return {r[0]: int(r[1] or 0) for r in conn.execute(
        text(f"SELECT id, ts FROM users WHERE id IN ({marks})"), {f"i{n}": v for n, v in enumerate(ids)})}


def rows_by_id(conn: Connection, ids: list[str], organization_id: str | None = None) -> dict[str, RoleRow]:
    """The current rows of these users, whatever the filter says: an editor follows the document it edits."""
    if not ids:
        return {}
    marks = ", ".join(f":i{n}" for n in range(len(ids)))
    p: dict[str, Any] = {f"i{n}": v for n, v in enumerate(ids)}
    p["org"] = organization_id or ""
    raw = conn.execute(text(
        "SELECT u.pk, u.id, u.name, u.email, u.is_active, u.roles, u.role, u.ts, m.id, m.role, m.ts, u.name "
        "FROM users u LEFT JOIN members m ON m.user_id = u.id AND m.organization_id = :org "
        f"WHERE u.id IN ({marks})"), p).fetchall()
    return {r[1]: _role_row(r) for r in raw}


def member_rows(conn: Connection, member_ids: list[str]) -> dict[str, str]:
    """Membership id -> its role now."""
    if not member_ids:
        return {}
    marks = ", ".join(f":i{n}" for n in range(len(member_ids)))
    return {r[0]: r[1] for r in conn.execute(text(f"SELECT id, role FROM members WHERE id IN ({marks})"),
                                             {f"i{n}": v for n, v in enumerate(member_ids)})}


def active_admins(conn: Connection) -> int:
    return conn.execute(text("SELECT count(*) FROM user_roles r JOIN users u ON u.pk = r.user_pk "
                             "WHERE r.role = 'admin' AND u.is_active")).scalar() or 0


BETTER_AUTH_ROLES = ("owner", "admin", "member")


def org_known_roles(conn: Connection, organization_id: str) -> list[str]:
    """The roles an organization uses (Better Auth's defaults plus what its members hold), for a choice
    instead of free text."""
    found = {R.join_roles(R.member_roles(r[0])) for r in conn.execute(
        text("SELECT DISTINCT role FROM members WHERE organization_id = :o"), {"o": organization_id})}
    known = list(BETTER_AUTH_ROLES)
    return known + sorted(r for r in found if r and r not in known)


def editor_memberships(conn: Connection, user_id: str, actor_id: str | None) -> list[dict[str, Any]]:
    """A user's memberships with what the editor needs to offer only what may be done: the organization's
    known roles, the operator's roles in it and how many owners it has."""
    out = memberships(conn, user_id)
    for m in out:
        rows = conn.execute(text("SELECT user_id, role FROM members WHERE organization_id = :o"),
                            {"o": m["organization_id"]}).all()
        m["known_roles"] = org_known_roles(conn, m["organization_id"])
        m["actor_role"] = next((r.role for r in rows if r.user_id == actor_id), None)
        m["owners"] = sum(1 for r in rows if R.OWNER in R.member_roles(r.role))
    return out


def operators(conn: Connection, limit: int = 2000) -> list[dict[str, Any]]:
    """Every active user who may act in the console: app staff (any app role) and the owners and admins
    of organizations, who may change their members' roles. Staff first, then by name."""
    rows = conn.execute(text(
        "SELECT u.id, u.name, u.email, u.roles, u.role, "
        "(SELECT group_concat(o.name || ' (' || m.role || ')', ', ') FROM members m "
        " LEFT JOIN organizations o ON o.id = m.organization_id WHERE m.user_id = u.id "
        " AND ((',' || m.role || ',') LIKE '%,owner,%' OR (',' || m.role || ',') LIKE '%,admin,%')) AS orgs "
        "FROM users u WHERE u.is_active AND (EXISTS (SELECT 1 FROM user_roles r WHERE r.user_pk = u.pk "
        " AND r.role != 'user') OR EXISTS (SELECT 1 FROM members m WHERE m.user_id = u.id "
        " AND ((',' || m.role || ',') LIKE '%,owner,%' OR (',' || m.role || ',') LIKE '%,admin,%'))) "
        "ORDER BY u.name, u.pk LIMIT :limit"), {"limit": limit}).mappings().all()
    out = []
    for r in rows:
        roles = sorted(R.app_roles({"roles": json.loads(r["roles"] or "[]"), "role": r["role"]}))
        out.append({"id": r["id"], "name": r["name"] or "", "email": r["email"] or "", "roles": roles,
                    "orgs": r["orgs"] or ""})
    out.sort(key=lambda o: (not o["roles"], o["name"].lower()))
    return out


def app_roles_in_use(conn: Connection) -> list[str]:
    known = ["admin", "support"]
    found = [r[0] for r in conn.execute(text("SELECT DISTINCT role FROM user_roles WHERE role != 'user' ORDER BY 1"))]
    return known + [r for r in found if r not in known]


def organizations(conn: Connection) -> list[tuple[str, str]]:
    return [(r[0], r[1] or r[0]) for r in conn.execute(text("SELECT id, name FROM organizations ORDER BY name"))]


def memberships(conn: Connection, user_id: str) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(text(
        "SELECT m.id, m.role, m.ts, m.organization_id, o.name FROM members m LEFT JOIN organizations o "
        "ON o.id = m.organization_id WHERE m.user_id = :u ORDER BY o.name"), {"u": user_id}).mappings()]


# -- audit ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditQuery:
    actor_id: str | None = None
    target_id: str | None = None
    action: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    target_text: str = ""  # an id, or part of the target's name or email (or its organization's name)


def audit(conn: Connection, q: AuditQuery, limit: int = 300) -> list[dict[str, Any]]:
    where: list[str] = []
    p: dict[str, Any] = {"limit": limit}
    for field, col in (("actor_id", "a.actor_user_id"), ("target_id", "a.resource_id"), ("action", "a.action")):
        value = getattr(q, field)
        if value:
            where.append(f"{col} = :{field}")
            p[field] = value
    if q.target_text.strip():
        where.append("(a.resource_id = :tt OR instr(lower(target.name), :ttl) OR instr(lower(target.email), :ttl) "
                     "OR instr(lower(o.name), :ttl))")
        p.update(tt=q.target_text.strip(), ttl=q.target_text.strip().lower())
    if q.since_ms is not None:
        where.append("a.at >= :since")
        p["since"] = q.since_ms
    if q.until_ms is not None:
        where.append("a.at < :until")
        p["until"] = q.until_ms
    sql = ("SELECT a.id, a.at, a.action, a.resource, a.resource_id, a.changes, a.reason, a.actor_user_id, "
           "actor.name AS actor_name, coalesce(target.name, o.name) AS target_name, m.user_id AS member_user_id, "
           "target.email AS target_email FROM audit_logs a "
           "LEFT JOIN users actor ON actor.id = a.actor_user_id "
           "LEFT JOIN users target ON target.id = a.resource_id "
           "LEFT JOIN members m ON m.id = a.resource_id LEFT JOIN organizations o ON o.id = m.organization_id"
           + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY a.at DESC LIMIT :limit")
    return [dict(r) for r in conn.execute(text(sql), p).mappings()]


# -- the demo's local role store ------------------------------------------------------------------

class LocalRoleStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._ids = IdMinter()
        self.changes = ChangeSet()  # every document this store wrote (its callers announce it)

    @staticmethod
    def _doc(conn: Connection, table: str, doc_id: str) -> tuple[dict, int] | None:
        row = conn.execute(text(f"SELECT doc, ts FROM {table} WHERE id = :id"), {"id": doc_id}).first()
        return (json.loads(row[0]), int(row[1] or 0)) if row else None

    def _audit(self, conn: Connection, actor: dict, action: str, resource: str, resource_id: str, changes: dict,
               reason: str) -> None:
        now = int(time.time() * 1000)
        audit_id = self._ids.new(TABLE_NUMBERS["auditLogs"])
        upsert_documents(conn, AUDIT, [{
            "_id": audit_id, "_creationTime": now + 0.5, "_ts": time.time_ns(),
            "actorUserId": actor["_id"], "action": action, "resource": resource, "resourceId": resource_id,
            "timestamp": now, "changes": changes, "reason": reason}])
        self.changes.add(AUDIT.sql_table, audit_id)

    @staticmethod
    def _active_admins(conn: Connection) -> int:
        return conn.execute(text("SELECT count(*) FROM user_roles r JOIN users u ON u.pk = r.user_pk "
                                 "WHERE r.role = 'admin' AND u.is_active")).scalar() or 0

    def _actor(self, conn: Connection, actor_id: str | None) -> dict:
        found = self._doc(conn, "users", actor_id) if actor_id else None
        if found is None:
            raise Refused("No operator identity: choose who is operating in Settings.")
        if not found[0].get("isActive", True):
            raise Refused(R.OPERATOR_DEACTIVATED)  # as the contract: a deactivated operator changes nothing
        return found[0]

    def _checked_user(self, conn: Connection, user_id: str, reason: str, expected_ts: int | None,
                      rule) -> tuple[dict, int]:
        """The target user and its _ts, after the reason, freshness and `rule(active_admins)` checks."""
        found = self._doc(conn, "users", user_id)
        if found is None:
            raise Refused(f"No user with id {user_id}.")
        target, ts = found
        checks = (R.check_reason(reason), R.check_fresh(ts, expected_ts), rule(target, self._active_admins(conn)))
        for refusal in checks:
            if refusal:
                raise Refused(refusal)
        return target, ts

    def set_user_roles(self, user_id: str, roles: set[str], actor_id: str | None, reason: str,
                       expected_ts: int | None) -> dict:
        with immediate(self.engine) as conn:
            actor = self._actor(conn, actor_id)
            target, ts = self._checked_user(conn, user_id, reason, expected_ts,
                                            lambda t, admins: R.check_set_app_roles(actor, t, roles, admins))
            before = sorted(R.app_roles(target))
            new = dict(target, roles=sorted(roles))
            if new.get("role") in (R.ADMIN, R.SUPPORT) and new["role"] not in roles:
                new["role"] = "admin" if R.ADMIN in roles else "support" if R.SUPPORT in roles else "user"
            upsert_documents(conn, USERS, [{**new, "_ts": max(time.time_ns(), ts + 1)}])
            self.changes.add(USERS.sql_table, user_id)
            self._audit(conn, actor, "user.set_roles", "users", user_id,
                        {"roles": {"before": before, "after": sorted(roles)}}, reason)
            return new

    def set_user_active(self, user_id: str, active: bool, actor_id: str | None, reason: str,
                        expected_ts: int | None) -> dict:
        with immediate(self.engine) as conn:
            actor = self._actor(conn, actor_id)
            target, ts = self._checked_user(conn, user_id, reason, expected_ts,
                                            lambda t, admins: R.check_set_active(actor, t, active, admins))
            new = dict(target, isActive=active)
            upsert_documents(conn, USERS, [{**new, "_ts": max(time.time_ns(), ts + 1)}])
            self.changes.add(USERS.sql_table, user_id)
            self._audit(conn, actor, "user.activate" if active else "user.deactivate", "users", user_id,
                        {"isActive": {"before": target.get("isActive", True), "after": active}}, reason)
            return new

    def set_member_role(self, member_id: str, role: str, actor_id: str | None, reason: str,
                        expected_ts: int | None) -> dict:
        with immediate(self.engine) as conn:
            actor = self._actor(conn, actor_id)
            found = self._doc(conn, "members", member_id)
            if found is None:
                raise Refused(f"No membership with id {member_id}.")
            member, ts = found
            org = member.get("organizationId")
            rows = conn.execute(text("SELECT user_id, role FROM members WHERE organization_id = :o"), {"o": org}).all()
            mine = next((r.role for r in rows if r.user_id == actor["_id"]), None)
            owners = sum(1 for r in rows if R.OWNER in R.member_roles(r.role))
            new_roles = R.member_roles(role)
            for refusal in (R.check_reason(reason), R.check_fresh(ts, expected_ts),
                            R.check_set_member_role(R.member_roles(mine), R.member_roles(member.get("role")),
                                                    new_roles, owners)):
                if refusal:
                    raise Refused(refusal)
            joined = R.join_roles(new_roles)
            upsert_documents(conn, MEMBERS, [{**member, "role": joined, "_ts": max(time.time_ns(), ts + 1)}])
            self.changes.add(MEMBERS.sql_table, member_id)
            self._audit(conn, actor, "member.set_role", "members", member_id,
                        {"role": {"before": member.get("role"), "after": joined}, "organizationId": org}, reason)
            return dict(member, role=joined)
