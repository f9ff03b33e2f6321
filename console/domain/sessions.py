"""Ending sessions: the usual answer to a suspicious security event. Mirrored in consoleRules.ts, enforced by
the stand-in, the contract and the demo's local store, with the same refusal texts.

A session is live unless marked inactive (`isActive` or `active` false) or past `expiresAt`. Ending one marks it
inactive and expires it now; the product's middleware refuses it from then on, as it does for deactivated users.
"""

from __future__ import annotations

PERMISSION = "sessions:revoke"
WHAT = "end sessions"


def is_live(session: dict, now_ms: int) -> bool:
    if session.get("isActive") is False or session.get("active") is False:
        return False
    expires = session.get("expiresAt")
    return not (isinstance(expires, (int, float)) and not isinstance(expires, bool) and expires <= now_ms)


def check_end_session(session: dict, now_ms: int) -> str | None:
    return None if is_live(session, now_ms) else "The session has already ended."


def check_end_user_sessions(live: int) -> str | None:
    return None if live > 0 else "The user has no active sessions."


def end(session: dict, now_ms: int) -> dict:
    out = dict(session, isActive=False, endedAt=now_ms)
    if "active" in session:
        out["active"] = False
    expires = session.get("expiresAt")
    if not isinstance(expires, (int, float)) or isinstance(expires, bool) or expires > now_ms:
        out["expiresAt"] = now_ms
    return out
