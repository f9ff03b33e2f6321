"""The stand-in's functions: the console contract, and a few product functions the demo uses.

The contract is what a real deployment runs (console/contract/convex/console.ts, README "The console
contract"); these are its Python twin, held to the same rule cases (tests/contract/cases.json). Every
`console:*` function is internal (only the deploy key reaches it), its arguments are checked against the
validators the TypeScript exports (console/contract/args.json) before it runs, and every write checks
the acting identity against the domain rules in console/domain, refuses with a ConvexError whose data
says why, writes one audit entry and bumps the user's `opsVersion`. No function returns `_ts` (a real
`ctx.db.get` never does).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from console.contract.install import arg_spec
from console.convex import validators
from console.convex.values import ValueError_, decode
from console.demo.generator import TABLE_NUMBERS
from console.domain import jobs as J
from console.domain import roles as R
from console.domain import jobtext
from console.domain.fingerprint import fingerprint
from console.domain import sessions as S
from console.standin.store import DocStore, Tx

COMPONENT_TABLES = {"organization", "member", "invitation"}  # the betterAuth component's


class FunctionThrew(Exception):
    """A ConvexError: `data` is sent to the client as errorData."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.data = {"code": code, "message": message}


@dataclass
class Call:
    store: DocStore
    identity: dict[str, Any] | None
    admin: bool
    tx: Tx

    @property
    def now_ms(self) -> int:
        return int(time.time() * 1000)

    def actor(self) -> dict | None:
        """The product's user the identity stands for (by _id or by externalId)."""
        if not self.identity:
            return None
        subject = str(self.identity.get("subject") or "")
        user = self.tx.get("users", subject)
        if user is None:
            found = self.store.scan("users", where="json_extract(doc, '$.externalId') = ?", params=(subject,), limit=1)
            user = found[0] if found else None
        return user

    def require_actor(self) -> dict:
        # Only the deploy key reaches console functions (they are internal), so no admin check here.
        user = self.actor()
        if user is None:
            raise FunctionThrew("no_operator", "No operator identity, or it matches no user of this deployment.")
        if not user.get("isActive", True):
            raise FunctionThrew("operator_deactivated", "The operator's own account is deactivated.")
        return user

    def audit(self, actor: dict, action: str, resource: str, resource_id: str, changes: dict, reason: str | None) -> None:
        self.tx.insert("auditLogs", {
            "actorUserId": actor["_id"], "action": action, "resource": resource, "resourceId": resource_id,
            "timestamp": self.now_ms, "changes": changes, "reason": reason or "",
        })


permissions = R.permissions


def _need(user: dict, permission: str, what: str) -> None:
    _refuse(R.check_permission(user, permission, what), "forbidden")


def _refuse(reason: str | None, code: str = "refused") -> None:
    if reason:
        raise FunctionThrew(code, reason)


def _get(call: Call, table: str, doc_id: Any, what: str, component: str = "") -> dict:
    doc = call.tx.get(table, str(doc_id or ""), component)
    if doc is None:
        raise FunctionThrew("not_found", f"No {what} with id {doc_id}.")
    return doc


def _strip(doc: dict) -> dict:
    """A document as a function returns it (functions never see the export-only `_ts`)."""
    return {k: v for k, v in doc.items() if k != "_ts"}


def _no_ts(value: Any) -> Any:
    """A function's result without `_ts` anywhere (no document field can be named so)."""
    if isinstance(value, list):
        return [_no_ts(v) for v in value]
    if isinstance(value, dict):
        return {k: _no_ts(v) for k, v in value.items() if k != "_ts"}
    return value


_SPEC: dict[str, dict] | None = None


def _app_table(number: int) -> str | None:
    for name, n in TABLE_NUMBERS.items():
        if n == number and name not in COMPONENT_TABLES:
            return name
    return None


def check_args(path: str, args: Any) -> str | None:
    """Arguments as they arrived (convex_encoded_json) against the contract's validators: None, or the
    error message a deployment answers (e.g. an `$integer` where the contract says v.number())."""
    global _SPEC
    if _SPEC is None:
        _SPEC = arg_spec()
    validator = _SPEC.get(path)
    if validator is None:
        return None
    try:
        value = decode(args)
    except (ValueError_, ValueError) as exc:
        return f"Invalid argument: {exc}"
    return validators.check_args(value, validator, _app_table)


# -- reads ---------------------------------------------------------------------------------------------

def whoami(call: Call, args: dict) -> Any:
    user = call.actor()
    if user is None:
        return None
    return {"userId": user["_id"], "email": user.get("email"), "name": user.get("name"),
            "roles": sorted(R.app_roles(user)), "permissions": sorted(permissions(user)),
            "isActive": user.get("isActive", True), "opsVersion": user.get("opsVersion") or 0}


SECRET_FIELDS = ("password", "passwordHash", "hashedPassword", "password_hash", "hash")


def get_user(call: Call, args: dict) -> Any:
    doc = call.tx.get("users", str(args.get("userId") or ""))
    return None if doc is None else {k: v for k, v in doc.items() if k not in SECRET_FIELDS}


STATS_CAP = 1000


def job_stats(call: Call, args: dict) -> Any:
    """Counts per state up to STATS_CAP, as the contract counts them (Convex has no count())."""
    counts = {s: 0 for s in J.STATES}
    call.store.note_read("jobs")  # a whole-table read: any job write re-runs a subscription to this
    for status, n in call.store._db.execute(
            "SELECT json_extract(doc, '$.status'), count(*) FROM docs WHERE component='' AND tbl='jobs' GROUP BY 1"):
        if status in counts:
            counts[status] = min(n, STATS_CAP)
    return {"counts": counts, "capped": [s for s in J.STATES if counts[s] >= STATS_CAP]}


def list_organizations(call: Call, args: dict) -> Any:
    limit = max(1, min(int(args.get("limit") or 100), 1000))
    return call.store.scan("organization", "betterAuth", limit=limit)


def users_get(call: Call, args: dict) -> Any:
    doc = call.tx.get("users", str(args.get("userId") or ""))
    return None if doc is None else {k: v for k, v in doc.items() if k not in ("passwordHash", "password")}


def messages_list(call: Call, args: dict) -> Any:
    """The newest `limit` messages of a chat before `before` (ms), oldest first; `isDone` when no older ones."""
    chat = str(args.get("chatId") or "")
    limit = max(1, min(int(args.get("limit") or 50), 200))
    before = args.get("before")
    where, params = "json_extract(doc, '$.chatId') = ?", [chat]
    if before is not None:
        where += " AND json_extract(doc, '$.createdAt') < ?"
        params.append(before)
    rows = call.store.scan("messages", where=where, params=tuple(params), limit=limit + 1,
                           order="json_extract(doc, '$.createdAt') DESC")
    page = list(reversed(rows[:limit]))
    return {"page": page, "isDone": len(rows) <= limit}


def jobs_get(call: Call, args: dict) -> Any:
    return call.tx.get("jobs", str(args.get("jobId") or ""))


def jobs_stats(call: Call, args: dict) -> Any:
    out = {s: 0 for s in J.STATES}
    call.store.note_read("jobs")  # a whole-table read: any job write re-runs a subscription to this
    for status, n in call.store._db.execute(
            "SELECT json_extract(doc, '$.status'), count(*) FROM docs WHERE component='' AND tbl='jobs' GROUP BY 1"):
        out[str(status)] = n
    return out


def organizations_get(call: Call, args: dict) -> Any:
    return call.tx.get("organization", str(args.get("organizationId") or ""), "betterAuth")


def organizations_list(call: Call, args: dict) -> Any:
    return call.store.scan("organization", "betterAuth", limit=int(args.get("limit") or 100))


# -- writes: jobs --------------------------------------------------------------------------------------

def enqueue(call: Call, args: dict) -> Any:
    """Idempotent by key: enqueueing an existing key returns the existing job."""
    key = str(args.get("key") or "")
    if not key:
        raise FunctionThrew("bad_args", "A job needs an idempotency key.")
    found = call.store.scan("jobs", where="json_extract(doc, '$.key') = ?", params=(key,), limit=1)
    if found:
        return {"jobId": found[0]["_id"], "created": False}
    doc = J.new_job(key, str(args.get("type") or "unknown"), args.get("payload") or {}, call.now_ms)
    for extra in ("userId", "deliveryId"):
        if args.get(extra):
            doc[extra] = args[extra]
    return {"jobId": call.tx.insert("jobs", doc), "created": True}


def _change_job(call: Call, args: dict, permission: str, what: str, action: str,
                transition: Callable[[dict, int], dict]) -> Any:
    """One job through one rule of console/domain/jobs.py, checked, stored and audited."""
    actor = call.require_actor()
    _need(actor, permission, what)
    _refuse(R.check_reason(args.get("reason")), "reason_required")  # every audit entry has a reason
    job = _get(call, "jobs", args.get("jobId"), "job")
    try:
        new = transition(job, call.now_ms)
    except J.JobRuleError as exc:
        raise FunctionThrew("refused", str(exc)) from exc
    call.tx.replace("jobs", new)
    call.audit(actor, action, "jobs", job["_id"], {"status": {"before": job.get("status"), "after": new["status"]}},
               args.get("reason"))
    return _strip(new)


def retry_job(call: Call, args: dict) -> Any:
    return _change_job(call, args, "jobs:retry", "retry jobs", "job.retry", J.manual_retry)


JOB_FILTERS: dict[str, Callable[[dict, Any], bool]] = {
    "status": lambda j, v: j.get("status") in (v if isinstance(v, list) else [v]),
    "type": lambda j, v: j.get("type") == v,
    "key": lambda j, v: j.get("key") == v,
    "id": lambda j, v: j.get("_id") == v,
    "userId": lambda j, v: j.get("userId") == v,
    "createdFrom": lambda j, v: (j.get("createdAt") or 0) >= v,
    "createdTo": lambda j, v: (j.get("createdAt") or 0) < v,
    "text": lambda j, v: jobtext.matches(str(v), j),
    "errorGroup": lambda j, v: fingerprint(j.get("lastError")) == v,
}


_BULK_DONE = {"retry": "retried", "cancel": "canceled", "purge": "purged"}


def _bulk_jobs(call: Call, args: dict, verb: str) -> Any:
    """Every job matching `filter`, at most `limit` (default 1000) changed. One audit entry for the batch."""
    permission, what = R.BULK[verb]
    actor = call.require_actor()
    _need(actor, permission, what)
    _refuse(R.check_reason(args.get("reason")), "reason_required")
    flt = args.get("filter") or {}
    unknown = set(flt) - set(JOB_FILTERS)
    if unknown:
        raise FunctionThrew("bad_args", f"Unknown filter fields: {', '.join(sorted(unknown))}.")
    limit = 1000 if args.get("limit") is None else max(0, int(args["limit"]))
    done_key = _BULK_DONE[verb]
    matched = done = 0
    skipped: dict[str, int] = {}
    for job in call.store.scan("jobs"):
        if not all(JOB_FILTERS[k](job, v) for k, v in flt.items()):
            continue
        if "errorGroup" in flt and "status" not in flt and job.get("status") not in J.FAILED_STATES:
            continue
        matched += 1
        if done >= limit:
            continue
        try:
            if verb == "purge":
                J.check_purge(job)
                call.tx.delete("jobs", job["_id"])
            else:
                call.tx.replace("jobs", (J.manual_retry if verb == "retry" else J.cancel)(job, call.now_ms))
            done += 1
        except J.JobRuleError:
            skipped[job.get("status") or "?"] = skipped.get(job.get("status") or "?", 0) + 1
    call.audit(actor, f"job.{verb}_many", "jobs", "*", {"filter": flt, "matched": matched, done_key: done,
                                                        "limit": limit}, args.get("reason"))
    return {"matched": matched, done_key: done, "skipped": skipped,
            "capped": matched - sum(skipped.values()) > done}


def retry_jobs(call: Call, args: dict) -> Any:
    return _bulk_jobs(call, args, "retry")


def cancel_jobs(call: Call, args: dict) -> Any:
    return _bulk_jobs(call, args, "cancel")


def purge_jobs(call: Call, args: dict) -> Any:
    return _bulk_jobs(call, args, "purge")


def cancel_job(call: Call, args: dict) -> Any:
    return _change_job(call, args, "jobs:cancel", "cancel jobs", "job.cancel", J.cancel)


# -- writes: users and roles -------------------------------------------------------------------------------

def _active_admins(call: Call) -> int:
    return sum(1 for u in call.store.scan("users", where="json_extract(doc, '$.isActive') IS NOT 0")
               if R.ADMIN in R.app_roles(u))


def set_user_roles(call: Call, args: dict) -> Any:
    actor = call.require_actor()
    target = _get(call, "users", args.get("userId"), "user")
    roles = {r for r in args.get("roles") or [] if isinstance(r, str) and r}
    _refuse(R.check_reason(args.get("reason")), "reason_required")
    _refuse(R.check_version(target.get("opsVersion"), args.get("expectedVersion"), "user"), "stale")
    _refuse(R.check_set_app_roles(actor, target, roles, _active_admins(call)))
    before = sorted(R.app_roles(target))
    version = int(target.get("opsVersion") or 0) + 1
    new = dict(target, roles=sorted(roles), opsVersion=version)
    if new.get("role") in (R.ADMIN, R.SUPPORT) and new["role"] not in roles:
        new["role"] = "admin" if R.ADMIN in roles else "support" if R.SUPPORT in roles else "user"
    call.tx.replace("users", new)
    call.audit(actor, "user.set_roles", "users", target["_id"], {"roles": {"before": before, "after": sorted(roles)}},
               args.get("reason"))
    return {"userId": target["_id"], "roles": sorted(roles), "opsVersion": version}


def set_user_active(call: Call, args: dict) -> Any:
    actor = call.require_actor()
    target = _get(call, "users", args.get("userId"), "user")
    active = bool(args.get("active"))
    _refuse(R.check_reason(args.get("reason")), "reason_required")
    _refuse(R.check_version(target.get("opsVersion"), args.get("expectedVersion"), "user"), "stale")
    _refuse(R.check_set_active(actor, target, active, _active_admins(call)))
    version = int(target.get("opsVersion") or 0) + 1
    call.tx.replace("users", dict(target, isActive=active, opsVersion=version))
    call.audit(actor, "user.activate" if active else "user.deactivate", "users", target["_id"],
               {"isActive": {"before": target.get("isActive", True), "after": active}}, args.get("reason"))
    return {"userId": target["_id"], "isActive": active, "opsVersion": version}


def set_member_role(call: Call, args: dict) -> Any:
    actor = call.require_actor()
    member = _get(call, "member", args.get("memberId"), "member", "betterAuth")
    org_id = member.get("organizationId")
    members = call.store.scan("member", "betterAuth", where="json_extract(doc, '$.organizationId') = ?", params=(org_id,))
    mine = next((m for m in members if m.get("userId") == actor["_id"]), None)
    new_roles = R.member_roles(args.get("role"))
    _refuse(R.check_reason(args.get("reason")), "reason_required")
    _refuse(R.check_expected_role(member.get("role"), args.get("expectedRole")), "stale")
    owners = sum(1 for m in members if R.OWNER in R.member_roles(m.get("role")))
    _refuse(R.check_set_member_role(R.member_roles(mine.get("role")) if mine else set(),
                                    R.member_roles(member.get("role")), new_roles, owners))
    role = R.join_roles(new_roles)
    call.tx.replace("member", dict(member, role=role), "betterAuth")
    call.audit(actor, "member.set_role", "members", member["_id"],
               {"role": {"before": member.get("role"), "after": role}, "organizationId": org_id}, args.get("reason"))
    return {"memberId": member["_id"], "organizationId": org_id, "role": role}


# -- writes: sessions -----------------------------------------------------------------------------------

def end_session(call: Call, args: dict) -> Any:
    actor = call.require_actor()
    _need(actor, S.PERMISSION, S.WHAT)
    session = _get(call, "sessions", args.get("sessionId"), "session")
    _refuse(R.check_reason(args.get("reason")), "reason_required")
    now = call.now_ms
    _refuse(S.check_end_session(session, now))
    call.tx.replace("sessions", S.end(session, now))
    call.audit(actor, "session.end", "users", session.get("userId") or "",
               {"sessions": [session["_id"]], "isActive": {"before": True, "after": False}}, args.get("reason"))
    return {"sessionId": session["_id"], "userId": session.get("userId"), "ended": 1}


def end_user_sessions(call: Call, args: dict) -> Any:
    actor = call.require_actor()
    _need(actor, S.PERMISSION, S.WHAT)
    user = _get(call, "users", args.get("userId"), "user")
    _refuse(R.check_reason(args.get("reason")), "reason_required")
    now = call.now_ms
    live = sorted((s for s in call.store.scan("sessions", where="json_extract(doc, '$.userId') = ?",
                                              params=(user["_id"],)) if S.is_live(s, now)), key=lambda s: s["_id"])
    _refuse(S.check_end_user_sessions(len(live)))
    for s in live:
        call.tx.replace("sessions", S.end(s, now))
    ids = [s["_id"] for s in live]
    call.audit(actor, "user.end_sessions", "users", user["_id"], {"sessions": ids, "ended": len(live)},
               args.get("reason"))
    return {"userId": user["_id"], "ended": len(live), "sessionIds": ids}


def send_message(call: Call, args: dict) -> Any:
    """Idempotent by (chatId, clientMessageId): sending twice yields one message."""
    chat = _get(call, "chats", args.get("chatId"), "chat")
    client_id = args.get("clientMessageId")
    if client_id:
        found = call.store.scan("messages", where="json_extract(doc, '$.chatId') = ? AND "
                                "json_extract(doc, '$.clientMessageId') = ?", params=(chat["_id"], client_id), limit=1)
        if found:
            return {"messageId": found[0]["_id"], "created": False}
    now = call.now_ms
    doc = {"chatId": chat["_id"], "role": args.get("role") or "user", "body": str(args.get("body") or ""),
           "createdAt": now}
    if client_id:
        doc["clientMessageId"] = client_id
    message_id = call.tx.insert("messages", doc)
    call.tx.replace("chats", dict(chat, updatedAt=now))
    return {"messageId": message_id, "created": True}


QUERIES: dict[str, Callable[[Call, dict], Any]] = {
    "console:whoami": whoami,
    "console:getUser": get_user,
    "console:getJob": lambda call, args: jobs_get(call, args),
    "console:jobStats": job_stats,
    "console:listMessages": lambda call, args: messages_list(call, args),
    "console:getOrganization": lambda call, args: organizations_get(call, args),
    "console:listOrganizations": list_organizations,
    # product functions the demo and older tests call
    "users:get": users_get,
    "messages:list": messages_list,
    "jobs:get": jobs_get,
    "jobs:stats": jobs_stats,
    "organizations:get": organizations_get,
    "organizations:list": organizations_list,
}

MUTATIONS: dict[str, Callable[[Call, dict], Any]] = {
    "console:retryJob": retry_job,
    "console:retryJobs": retry_jobs,
    "console:cancelJobs": cancel_jobs,
    "console:purgeJobs": purge_jobs,
    "console:cancelJob": cancel_job,
    "console:setUserRoles": set_user_roles,
    "console:setUserActive": set_user_active,
    "console:setMemberRole": set_member_role,
    "console:endSession": end_session,
    "console:endUserSessions": end_user_sessions,
    "jobs:enqueue": enqueue,
    "messages:send": send_message,
}
# Internal functions are reachable only with the deploy key (as on a deployment): every console function.
INTERNAL = {"jobs:enqueue"} | {path for path in (*QUERIES, *MUTATIONS) if path.startswith("console:")}


def _returning_no_ts(fn: Callable[[Call, dict], Any]) -> Callable[[Call, dict], Any]:
    def call(c: Call, args: dict) -> Any:
        return _no_ts(fn(c, args))
    call.__name__ = getattr(fn, "__name__", "function")
    return call


QUERIES = {path: _returning_no_ts(fn) for path, fn in QUERIES.items()}
MUTATIONS = {path: _returning_no_ts(fn) for path, fn in MUTATIONS.items()}
