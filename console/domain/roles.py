"""Who may change whose roles. Mirrored in the UI, enforced by the stand-in and the contract.

Each check returns None when allowed, or the refusal reason a person can read.
"""

from __future__ import annotations

from typing import Iterable

ADMIN, SUPPORT = "admin", "support"
OWNER = "owner"
ORG_ADMIN = "admin"
# The contract's `operator_deactivated` refusal (console.ts requireOperator), word for word.
OPERATOR_DEACTIVATED = "The operator's own account is deactivated."


def member_roles(role: str | None) -> set[str]:
    """Better Auth stores free text, several roles comma-separated ("admin,member")."""
    return {r.strip() for r in (role or "").split(",") if r.strip()}


def join_roles(roles: Iterable[str]) -> str:
    return ",".join(sorted(set(r.strip() for r in roles if r.strip())))


def app_roles(user: dict) -> set[str]:
    roles = {r for r in user.get("roles") or [] if isinstance(r, str)}
    if user.get("role") and user.get("role") != "user":
        roles.add(user["role"])
    return roles


def check_reason(reason: str | None) -> str | None:
    return None if reason and reason.strip() else "Every change needs a reason (it goes into the audit log)."


def check_fresh(current_ts: int | float | None, expected_ts: int | float | None) -> str | None:
    """No lost update: refuse an edit based on a stale view of the document."""
    # _ts is an Int64 in nanoseconds: compare as integers (a float cannot tell neighbouring values apart).
    if expected_ts is not None and current_ts is not None and int(current_ts) != int(expected_ts):
        return "The user changed since you loaded them (someone else edited first). Refresh and try again."
    return None


def check_version(current: int | float | None, expected: int | float | None, what: str = "user") -> str | None:
    """No lost update on a real deployment: the contract bumps `opsVersion` on every write it makes and
    refuses an edit based on an older version (functions cannot read `_ts`)."""
    if expected is None:
        return None
    if (current or 0) != expected:
        return f"The {what} changed since you loaded them (someone else edited first). Refresh and try again."
    return None


def check_expected_role(current: str | None, expected: str | None) -> str | None:
    """Better Auth member rows have no version field: an edit is based on the role the console saw."""
    if expected is None:
        return None
    if join_roles(member_roles(current)) != join_roles(member_roles(expected)):
        return "The member changed since you loaded them (someone else edited first). Refresh and try again."
    return None


def check_set_app_roles(actor: dict | None, target: dict, new_roles: set[str], active_admins: int) -> str | None:
    if actor is None:
        return "No operator identity: set who is operating in Settings."
    if not actor.get("isActive", True):
        return "Your own account is deactivated."
    if ADMIN not in app_roles(actor):
        return "Only admins can change app roles."
    added = new_roles - app_roles(target)
    if added and not target.get("isActive", True):
        return "A deactivated user cannot be granted roles; reactivate them first."
    if ADMIN in app_roles(target) and ADMIN not in new_roles and target.get("isActive", True) and active_admins <= 1:
        return "This is the last admin of the app; make someone else admin first."
    return None


def check_set_active(actor: dict | None, target: dict, active: bool, active_admins: int) -> str | None:
    if actor is None:
        return "No operator identity: set who is operating in Settings."
    if not actor.get("isActive", True):
        return OPERATOR_DEACTIVATED  # nor reactivate themself: the contract refuses every call of theirs
    if ADMIN not in app_roles(actor):
        return "Only admins can deactivate or reactivate users."
    if not active and actor.get("_id") == target.get("_id"):
        return "You cannot deactivate yourself."
    if not active and ADMIN in app_roles(target) and target.get("isActive", True) and active_admins <= 1:
        return "This is the last admin of the app; make someone else admin first."
    return None


def check_set_member_role(actor_roles: set[str], target_roles: set[str], new_roles: set[str],
                          owners: int) -> str | None:
    """`actor_roles`: the operator's roles in that organization; `owners`: how many owners it has now.
    App admins get no bypass: an organization's roles are its owners' and admins' business."""
    if not new_roles:
        return "A member needs at least one role."
    if not actor_roles & {OWNER, ORG_ADMIN}:
        return "Only the organization's owners and admins can change member roles."
    if OWNER not in actor_roles:
        if OWNER in target_roles:
            return "An admin cannot demote or remove an owner."
        if OWNER in new_roles:
            return "Only an owner can make someone an owner."
    if OWNER in target_roles and OWNER not in new_roles and owners <= 1:
        return "This is the organization's last owner; make someone else owner first."
    return None


def permissions(user: dict) -> set[str]:
    """What a user of the product may do in the console: explicit permissions plus their roles' defaults."""
    perms = {p for p in user.get("permissions") or [] if isinstance(p, str)}
    roles = app_roles(user)
    if ADMIN in roles:
        perms |= {"jobs:retry", "jobs:cancel", "jobs:purge", "roles:write", "users:write", "webhooks:replay", "sessions:revoke"}
    if SUPPORT in roles:
        # Ending a session is support's answer to a suspicious security event (console/domain/sessions.py).
        perms |= {"jobs:retry", "sessions:revoke"}
    return perms


def check_permission(actor: dict | None, permission: str, what: str) -> str | None:
    if actor is None:
        return "No operator identity: choose who is operating in Settings."
    if not actor.get("isActive", True):
        return OPERATOR_DEACTIVATED
    if permission not in permissions(actor):
        return f"{actor.get('email') or 'The operator'} may not {what} (needs {permission})."
    return None


# Bulk job actions: the permission each needs and what a refusal calls it. Purging (deleting finished jobs) is
# admin-only, as canceling is: support may retry.
BULK = {
    "retry": ("jobs:retry", "retry jobs"),
    "cancel": ("jobs:cancel", "cancel jobs"),
    "purge": ("jobs:purge", "purge jobs"),
}


# -- asked up front: what the editor offers, disabled with the reason ---------------------------------------

def toggle_app_role_refusal(actor: dict | None, target: dict, role: str, active_admins: int) -> str | None:
    """Why ticking or unticking `role` for `target` would be refused (None: allowed)."""
    current = app_roles(target)
    new = current - {role} if role in current else current | {role}
    return check_set_app_roles(actor, target, new, active_admins)


def member_edit_refusal(actor_roles: set[str] | None, target_roles: set[str]) -> str | None:
    """Why the operator may not change this member's role at all (None: some change is allowed)."""
    if actor_roles is None or not actor_roles:
        return "You are not a member of this organization: only its owners and admins can change member roles."
    if not actor_roles & {OWNER, ORG_ADMIN}:
        return "Only the organization's owners and admins can change member roles."
    if OWNER not in actor_roles and OWNER in target_roles:
        return "An admin cannot demote or remove an owner."
    return None


def member_role_choices(actor_roles: set[str] | None, target_roles: set[str], known: list[str],
                        owners: int) -> list[tuple[str, str | None]]:
    """Each known role (comma-joined set) with why choosing it would be refused; the current role first."""
    current = join_roles(target_roles)
    out: list[tuple[str, str | None]] = [(current, None)] if current else []
    for choice in known:
        joined = join_roles(member_roles(choice))
        if joined and joined != current and joined not in (c for c, _ in out):
            out.append((joined, check_set_member_role(actor_roles or set(), target_roles, member_roles(joined),
                                                      owners)))
    return out
