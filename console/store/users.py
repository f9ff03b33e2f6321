"""User search and the everything-about-a-user view. Qt-free; every query is bounded and indexed.

Search: an email prefix goes through the `by_email` index; names, email words and phone numbers
through FTS5 (`users_fts`); digits typed as a phone number match the stored digits; a `_id`, external
(Clerk) id, Stripe customer id or session token (or its hint) matches exactly, each through an index. Results page by
keyset on (sort key, pk), so page 500 costs what page 1 costs.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Literal, Mapping

from sqlalchemy import text
from sqlalchemy.engine import Connection

from console.changes import ANY
from console.store.derived import fts_query

SortKey = Literal["name", "email", "created"]
SORTS: dict[str, tuple[str, str]] = {
    # key: (column expression, direction)
    "name": ("u.name", "ASC"),
    "email": ("u.email", "ASC"),
    "created": ("u.created_at", "DESC"),
}
_PHONE_LIKE = re.compile(r"^[\d\s+()\-.]+$")
_MAX_CODEPOINT = "\U0010ffff"


@dataclass(frozen=True)
class UserQuery:
    text: str = ""
    role: str | None = None  # an app role ("admin", "support", "user"): matches roles[] or role
    active: bool | None = None  # None = everyone
    sort: SortKey = "name"


@dataclass(frozen=True)
class UserRow:
    pk: int
    id: str
    name: str
    email: str
    phone: str | None
    roles: tuple[str, ...]
    is_active: bool
    created_at: int
    last_login: int | None
    sort_value: Any


@dataclass
class Page:
    rows: list[UserRow]
    has_more: bool

    @property
    def cursor(self) -> tuple[Any, int] | None:
        return (self.rows[-1].sort_value, self.rows[-1].pk) if self.rows else None


# A role held by more users than this filters while scanning in sort order (a probe per row);
# a rarer one is a candidate set (an index range), which avoids scanning the whole table for 3 admins.
RARE_ROLE = 5_000


def _text_filter(q: str) -> tuple[str, str, dict[str, Any]] | None:
    """How the typed text narrows the users: ("cand", SQL of candidate pks) or ("where", predicate)."""
    q = q.strip()
    if not q:
        return None
    params: dict[str, Any] = {"lo": q, "hi": q + _MAX_CODEPOINT}
    if len(q) == 1:
        # One character matches a large share of all users: filter while scanning in sort order
        # (stops after a page) rather than collecting and sorting every match.
        return "where", "((u.name >= :lo AND u.name < :hi) OR (u.email >= :lo AND u.email < :hi))", params
    parts: list[str] = []
    digits = re.sub(r"\D", "", q)
    if _PHONE_LIKE.match(q) and len(digits) >= 3:
        parts.append("SELECT rowid AS pk FROM users_fts WHERE users_fts MATCH :digits")
        params = {"digits": f'phone_digits : "{digits}"*'}
    else:
        if "@" in q or "." in q or " " not in q:
            parts.append("SELECT pk FROM users WHERE email >= :lo AND email < :hi")
        else:
            params = {}
        match = fts_query(q)
        if match:
            parts.append("SELECT rowid AS pk FROM users_fts WHERE users_fts MATCH :match")
            params["match"] = match
    exact = _exact_candidates(q)
    if exact:
        parts.append(exact[0])
        params.update(exact[1])
    if not parts:
        return "where", "0", {}
    return "cand", " UNION ".join(parts), params


def _exact_candidates(q: str) -> tuple[str, dict[str, Any]] | None:
    """Identifiers support is handed: a users `_id`, the external (Clerk) id, a Stripe customer id, a session
    token (matched by its SHA-256, the replica never holds tokens) or its hint as the console shows it.
    Each is one indexed equality, so these cost nothing on a large replica."""
    if len(q) < 4 or any(c.isspace() for c in q):
        return None
    hint = q.replace("...", "\u2026")
    sql = ("SELECT pk FROM users WHERE id = :exact UNION SELECT pk FROM users WHERE external_id = :exact "
           "UNION SELECT u.pk FROM billing_accounts b CROSS JOIN users u ON u.id = b.user_id "
           "WHERE b.stripe_customer_id = :exact "
           "UNION SELECT u.pk FROM sessions s CROSS JOIN users u ON u.id = s.user_id "
           "WHERE s.token_hint = :hint OR s.token_sha256 = :sha")
    return sql, {"exact": q, "hint": hint,
                 "sha": hashlib.sha256(q.encode("utf-8", "surrogatepass")).hexdigest()}


def search(conn: Connection, query: UserQuery, *, after: tuple[Any, int] | None = None, limit: int = 200) -> Page:
    col, direction = SORTS[query.sort]
    cand, where, params = _plan(conn, query)
    params["limit"] = limit + 1
    if after is not None:
        cmp = ">" if direction == "ASC" else "<"
        where.append(f"({col}, u.pk) {cmp} (:after_v, :after_pk)")
        params["after_v"], params["after_pk"] = after
    select = (
        f"u.pk, u.id, u.name, u.email, u.phone, u.roles, u.role, u.is_active, u.created_at, u.last_login, {col}"
    )
    sql = f"SELECT {select} " + _from(cand, where)
    sql += f" ORDER BY {col} {direction}, u.pk {direction} LIMIT :limit"
    raw = conn.execute(text(sql), params).fetchall()
    return Page(rows=[_row(r) for r in raw[:limit]], has_more=len(raw) > limit)


def count_matching(conn: Connection, query: UserQuery, cap: int = 100_000) -> int:
    """How many users the query matches, exactly up to `cap` (then cap + 1): the summary says "2,000 users"."""
    cand, where, params = _plan(conn, query)
    params["cap"] = cap + 1
    return conn.execute(text(f"SELECT count(*) FROM (SELECT 1 {_from(cand, where)} LIMIT :cap)"), params).scalar() or 0


def _from(cand: str | None, where: list[str]) -> str:
    # Candidates first (CROSS JOIN fixes the join order): a search never scans the whole table.
    sql = "FROM users u" if cand is None else f"FROM ({cand}) c CROSS JOIN users u ON u.pk = c.pk"
    return sql + (" WHERE " + " AND ".join(where) if where else "")


def _plan(conn: Connection, query: UserQuery) -> tuple[str | None, list[str], dict[str, Any]]:
    """The candidate set, predicates and parameters a query means (shared by search and count)."""
    where: list[str] = []
    params: dict[str, Any] = {}
    cand: str | None = None
    narrowed = _text_filter(query.text)
    if narrowed:
        kind, sql, text_params = narrowed
        params.update(text_params)
        if kind == "cand":
            cand = sql
        else:
            where.append(sql)
    if query.role:
        params["role"] = query.role
        held_by = conn.execute(
            text("SELECT count(*) FROM user_roles WHERE role = :role"), {"role": query.role}
        ).scalar() or 0
        if held_by <= RARE_ROLE:
            role_sql = "SELECT user_pk AS pk FROM user_roles WHERE role = :role"
            cand = role_sql if cand is None else f"SELECT pk FROM ({cand}) INTERSECT {role_sql}"
        else:
            where.append("EXISTS (SELECT 1 FROM user_roles r WHERE r.role = :role AND r.user_pk = u.pk)")
    if query.active is not None:
        where.append("u.is_active = :active")
        params["active"] = 1 if query.active else 0
    return cand, where, params


def _roles(roles_json: str, role: str | None) -> tuple[str, ...]:
    try:
        roles = [r for r in json.loads(roles_json or "[]") if isinstance(r, str)]
    except ValueError:
        roles = []
    if role and role not in roles and role != "user":
        roles.append(role)
    return tuple(roles)


def _row(r: Any) -> UserRow:
    return UserRow(
        pk=r[0], id=r[1], name=r[2] or "", email=r[3] or "", phone=r[4], roles=_roles(r[5], r[6]),
        is_active=bool(r[7]), created_at=r[8] or 0, last_login=r[9], sort_value=r[10],
    )


def quick_find(conn: Connection, text_: str, limit: int = 8) -> list[UserRow]:
    """Best matches for the Ctrl+K box: an exact email first, then the search order."""
    text_ = text_.strip()
    if not text_:
        return []
    exact = conn.execute(
        text("SELECT pk, id, name, email, phone, roles, role, is_active, created_at, last_login, name "
             "FROM users WHERE email = :e LIMIT 1"),
        {"e": text_},
    ).fetchall()
    rows = [_row(r) for r in exact]
    for r in search(conn, UserQuery(text=text_), limit=limit).rows:
        if all(r.pk != x.pk for x in rows):
            rows.append(r)
    return rows[:limit]


# -- detail -------------------------------------------------------------------------------------

@dataclass
class UserDetail:
    user: dict[str, Any]
    doc: dict[str, Any]
    organizations: list[dict[str, Any]] = field(default_factory=list)
    profile: dict[str, Any] | None = None
    billing: dict[str, Any] | None = None
    conversation: dict[str, Any] | None = None
    sessions: list[dict[str, Any]] = field(default_factory=list)
    security_events: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    chats_count: int = 0
    last_chat_at: int | None = None
    jobs_by_status: dict[str, int] = field(default_factory=dict)
    roles: tuple[str, ...] = ()


def _dicts(conn: Connection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(text(sql), params)]


def _load(value: str | None, default: Any) -> Any:
    try:
        return json.loads(value) if value else default
    except ValueError:
        return default


DETAIL_LIMIT = 50


def detail(conn: Connection, user_id: str) -> UserDetail | None:
    users = _dicts(conn, "SELECT * FROM users WHERE id = :id", {"id": user_id})
    if not users:
        return None
    user = users[0]
    p = {"id": user_id, "lim": DETAIL_LIMIT}
    out = UserDetail(user=user, doc=_load(user["doc"], {}), roles=_roles(user["roles"], user["role"]))
    out.user["labels_list"] = _load(user["labels"], [])
    out.user["permissions_list"] = _load(user["permissions"], [])
    out.organizations = _dicts(
        conn,
        "SELECT o.id AS organization_id, o.name, o.slug, m.role, m.created_at AS joined_at "
        "FROM members m LEFT JOIN organizations o ON o.id = m.organization_id WHERE m.user_id = :id "
        "ORDER BY m.created_at",
        p,
    )
    for table, attr in (("user_profiles", "profile"), ("billing_accounts", "billing"),
                        ("conversation_state", "conversation")):
        rows = _dicts(conn, f"SELECT * FROM {table} WHERE user_id = :id ORDER BY ts DESC LIMIT 1", p)
        setattr(out, attr, rows[0] if rows else None)
    if out.profile:
        out.profile["goals_list"] = _load(out.profile.get("goals"), [])
    if out.conversation:
        out.conversation["context_obj"] = _load(out.conversation.get("context"), {})
    out.sessions = _dicts(
        conn,
        "SELECT id, token_hint, ip, user_agent, created_at, last_activity_at, active, expires_at, "
        "active_organization_id FROM sessions WHERE user_id = :id "
        "ORDER BY active DESC, last_activity_at DESC LIMIT :lim",
        p,
    )
    out.security_events = _dicts(
        conn,
        "SELECT id, type, severity, ip, user_agent, occurred_at, details FROM security_events "
        "WHERE user_id = :id ORDER BY occurred_at DESC LIMIT :lim",
        p,
    )
    out.audit = _dicts(
        conn,
        "SELECT a.id, a.action, a.at, a.changes, a.reason, a.actor_user_id, "
        "actor.name AS actor_name, actor.email AS actor_email FROM audit_logs a "
        "LEFT JOIN users actor ON actor.id = a.actor_user_id "
        "WHERE a.resource = 'users' AND a.resource_id = :id ORDER BY a.at DESC LIMIT :lim",
        p,
    )
    chats = conn.execute(
        text("SELECT count(*), max(updated_at) FROM chats WHERE user_id = :id"), p
    ).first()
    out.chats_count, out.last_chat_at = (chats[0], chats[1]) if chats else (0, None)
    out.jobs_by_status = {
        r[0]: r[1]
        for r in conn.execute(text("SELECT status, count(*) FROM jobs WHERE user_id = :id GROUP BY status"), p)
    }
    return out


# What a user's detail shows, by table: the column that names the user (audit entries: what they are about).
DETAIL_OWNER = {"users": "id", "sessions": "user_id", "security_events": "user_id", "members": "user_id",
                "user_profiles": "user_id", "billing_accounts": "user_id", "conversation_state": "user_id",
                "chats": "user_id", "jobs": "user_id", "audit_logs": "resource_id"}
_CHUNK = 500


def detail_touched(conn: Connection, user_id: str, changes: Mapping[str, Iterable[str]],
                   whole: Iterable[str] = ()) -> bool:
    """Whether written documents change what `user_id`'s detail shows: one of theirs, an organization they
    belong to, or a document that is gone (a delete: it may have been theirs). A table rewritten whole
    (`whole`) counts as touched."""
    whole = set(whole)
    if ANY in whole:
        return True  # another process wrote: anything may have changed
    for table, ids in changes.items():
        column = DETAIL_OWNER.get(table)
        if table == "organizations":
            if table in whole:
                return True
            for part in _chunks(list(ids)):
                names = ",".join(f":i{n}" for n in range(len(part)))
                params = {f"i{n}": v for n, v in enumerate(part)} | {"u": user_id}
                if conn.execute(text(f"SELECT 1 FROM members WHERE user_id = :u AND organization_id IN ({names}) "
                                     "LIMIT 1"), params).first():
                    return True
        if column is None:
            continue
        if table in whole:
            return True
        for part in _chunks(list(ids)):
            names = ",".join(f":i{n}" for n in range(len(part)))
            params = {f"i{n}": v for n, v in enumerate(part)}
            rows = conn.execute(text(f"SELECT {column} FROM {table} WHERE id IN ({names})"), params).all()
            if len(rows) < len(part) or any(r[0] == user_id for r in rows):
                return True
    return False


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


def counts(conn: Connection) -> dict[str, int]:
    """Row counts for the status bar: cheap estimates would lie, exact counts on indexed tables are fast."""
    out = {}
    for table in ("users", "chats", "messages", "jobs", "webhook_deliveries"):
        out[table] = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0
    return out
