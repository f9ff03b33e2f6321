"""How a Convex document of the product maps onto a replica row.

One `TableSpec` per source table: which SQL table it lands in and, per modelled column, which
document field(s) feed it and how the value is converted. Demo data and live sync go through the
same specs, so the demo exercises exactly the code that live ingest uses.
"""

from __future__ import annotations

import hashlib
import json

import orjson
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlmodel import SQLModel

from console.convex.values import decode_scalar
from console.domain.fingerprint import fingerprint
from console.store import schema

# Fields that must never reach the replica, whatever table they appear in.
SECRET_FIELDS = frozenset({"password", "passwordHash", "hashedPassword", "password_hash", "hash"})


_std_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
FLOAT_MAX = 1.7976931348623157e308


def _json(value: Any) -> str:
    # orjson is about five times faster than the standard library here, and ingest encodes every
    # document; the standard library takes what orjson refuses (integers beyond 64 bits, lone
    # surrogates), escaping non-ASCII so the text is always valid UTF-8 and parses back the same.
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return _std_json(value)


json_text = _json

# Export metadata that is not part of the document itself.
_EXPORT_ONLY = frozenset({"_ts", "_table", "_component", "_deleted"})


def _decoded(value: Any) -> Any:
    try:
        return decode_scalar(value)
    except ValueError:  # not a valid encoded value: the document keeps it, the column does not
        return None


# Column converters: any value maps to the column's type or to None (the document keeps what it was).
def _as_int(value: Any) -> int | None:
    value = _decoded(value)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if INT64_MIN <= value <= INT64_MAX else None
    if isinstance(value, float) and -9.2e18 < value < 9.2e18:  # finite and within Int64
        return int(value)
    return None


def _as_float(value: Any) -> float | None:
    value = _decoded(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and -FLOAT_MAX <= value <= FLOAT_MAX:
        return float(value)  # NaN fails the comparison; SQLite would store it as NULL anyway
    return None


def _as_str(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    value = _decoded(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (isinstance(value, float) and -FLOAT_MAX <= value <= FLOAT_MAX):
        return str(value)
    return None  # objects, arrays, bytes, NaN: not text


as_int, as_float, as_str = _as_int, _as_float, _as_str


def _as_bytes(value: Any) -> bytes:
    value = _decoded(value)
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return b"" if value is None else _json(value).encode()


def bindable(value: Any) -> Any:
    """`value` as SQLite can take it: text that UTF-8 can encode, integers within 64 bits; else None."""
    if value.__class__ is str:
        try:
            value.encode()
        except UnicodeEncodeError:
            return None
        return value
    if value.__class__ is int and not INT64_MIN <= value <= INT64_MAX:
        return None
    return value


@dataclass(frozen=True)
class Col:
    column: str
    sources: tuple[str, ...]
    kind: str = "str"
    default: Any = None


def col(column: str, *sources: str, kind: str = "str", default: Any = None) -> Col:
    return Col(column, sources, kind, default)


# Fast paths per kind: the common case (value already of the right Python type) stays inline.
_INLINE = {
    "str": "(v if (v := {get}).__class__ is str else _as_str(v))",
    "int": "(v if (v := {get}).__class__ is int and -9223372036854775808 <= v <= 9223372036854775807 "
           "else _as_int(v))",
    "float": "(float(v) if (v := {get}).__class__ in (int, float) and -1.7976931348623157e308 <= v "
             "<= 1.7976931348623157e308 else _as_float(v))",
    "bool": "bool({get})",
    "bool_true": "(True if (v := {get}) is None else bool(v))",
    "list": "('[]' if (v := {get}) is None else _json(v))",
    "object": "('{{}}' if (v := {get}) is None else _json(v))",
    "bytes": "_as_bytes({get})",
    "fingerprint": "_fingerprint({get})",
}


def _compile_row(columns: list[Col]) -> Callable[[dict], tuple]:
    """Build the per-table column extractor as straight-line code.

    Ingest maps millions of documents; a generic loop over converters costs about three times as
    much per row as this generated function, which is the same logic unrolled.
    """
    exprs = []
    for c in columns:
        if len(c.sources) == 1:
            get = f"get({c.sources[0]!r})"
        else:
            get = "_first(get, " + repr(c.sources) + ")"
        expr = _INLINE[c.kind].format(get=get)
        if c.default is not None:
            expr = f"_default({expr}, {c.default!r})"
        exprs.append(expr)
    src = "def extract(doc):\n    get = doc.get\n    return (" + ", ".join(exprs) + ",)\n"
    namespace: dict[str, Any] = {
        "_as_str": _as_str, "_as_int": _as_int, "_as_float": _as_float, "_as_bytes": _as_bytes,
        "_json": _json, "_first": _first, "_default": _default, "_fingerprint": fingerprint,
    }
    exec(compile(src, "<console.store.mapping>", "exec"), namespace)
    return namespace["extract"]


def _first(get: Callable[[str], Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = get(key)
        if value is not None:
            return value
    return None


def _default(value: Any, default: Any) -> Any:
    return default if value is None else value


@dataclass
class TableSpec:
    component: str
    table: str
    model: type[SQLModel]
    columns: list[Col]
    scrub: Callable[[dict], dict] | None = None
    _extract: Callable[[dict], tuple] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._extract = _compile_row(self.columns)

    @property
    def sql_table(self) -> str:
        return self.model.__tablename__  # type: ignore[attr-defined,return-value]

    @property
    def column_names(self) -> list[str]:
        return ["id", "creation_time", "ts", "component", "doc"] + [c.column for c in self.columns]

    def row(self, doc: dict, ts: int) -> tuple:
        """The row tuple for a document in wire form (convex_encoded_json, parsed).

        `doc` keeps the wire form, which round-trips exactly; columns get decoded values.
        """
        if not SECRET_FIELDS.isdisjoint(doc):
            doc = scrub_secrets(doc)
        if self.scrub:
            doc = self.scrub(doc)
        if not _EXPORT_ONLY.isdisjoint(doc):
            doc = {k: v for k, v in doc.items() if k not in _EXPORT_ONLY}
        ct = doc.get("_creationTime")
        head = (doc["_id"], ct if ct.__class__ is float and -FLOAT_MAX <= ct <= FLOAT_MAX else (_as_float(ct) or 0.0), ts,
                self.component, _json(doc))
        return head + self._extract(doc)

    def bindable_row(self, row: tuple) -> tuple:
        """`row` with every value SQLite cannot take replaced by the column's default (or NULL)."""
        fallback = (None, 0.0, 0, "", "{}") + tuple(c.default for c in self.columns)
        out = []
        for value, default in zip(row, fallback):
            ok = bindable(value)
            out.append(default if ok is None and value is not None else ok)
        if out[0] is None:  # an id is never dropped: keep it readable
            out[0] = row[0].encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        return tuple(out)


def scrub_secrets(doc: dict) -> dict:
    if SECRET_FIELDS.isdisjoint(doc):
        return doc
    return {k: v for k, v in doc.items() if k not in SECRET_FIELDS}


def mask_token(token: str) -> str:
    return f"{token[:4]}…{token[-4:]}" if len(token) > 12 else "…"


def _scrub_session(doc: dict) -> dict:
    token = doc.get("token")
    if not isinstance(token, str):
        return doc
    if isinstance(doc.get("tokenSha256"), str) and "…" in token:
        return doc  # masked already (a replica document written back, e.g. by the demo's local store)
    out = dict(doc)
    out["token"] = mask_token(token)
    out["tokenSha256"] = hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
    return out


SPECS: list[TableSpec] = [
    TableSpec("", "users", schema.User, [
        col("email", "email", default=""), col("name", "name", default=""), col("roles", "roles", kind="list"),
        col("role", "role"), col("permissions", "permissions", kind="list"),
        col("is_active", "isActive", kind="bool_true"), col("phone", "phone", "phoneNumber"),
        col("image", "image", "avatar", "avatarUrl"), col("labels", "labels", kind="list"),
        col("email_verified", "emailVerified", kind="bool"), col("external_id", "externalId"),
        col("created_at", "createdAt", "_creationTime", kind="int", default=0),
        col("last_login", "lastLogin", "lastLoginAt", kind="int"),
    ]),
    TableSpec("", "sessions", schema.Session, [
        col("user_id", "userId"), col("token_hint", "token"), col("token_sha256", "tokenSha256"),
        col("ip", "ipAddress", "ip"), col("user_agent", "userAgent"),
        col("created_at", "createdAt", kind="int"), col("last_activity_at", "lastActivityAt", "updatedAt", kind="int"),
        col("active", "isActive", "active", kind="bool_true"), col("expires_at", "expiresAt", kind="int"),
        col("active_organization_id", "activeOrganizationId"),
    ], scrub=_scrub_session),
    TableSpec("", "securityEvents", schema.SecurityEvent, [
        col("user_id", "userId"), col("type", "type"), col("ip", "ipAddress", "ip"),
        col("user_agent", "userAgent"), col("occurred_at", "occurredAt", "timestamp", kind="int"),
        col("details", "details", kind="object"), col("severity", "severity"),
    ]),
    TableSpec("", "auditLogs", schema.AuditLog, [
        col("actor_user_id", "actorUserId", "userId"), col("action", "action"), col("resource", "resource"),
        col("resource_id", "resourceId"), col("at", "timestamp", "at", kind="int"),
        col("changes", "changes", kind="object"), col("reason", "reason"),
    ]),
    TableSpec("betterAuth", "organization", schema.Organization, [
        col("name", "name"), col("slug", "slug"), col("logo", "logo"),
        col("created_at", "createdAt", kind="int"), col("metadata_json", "metadata", kind="object"),
    ]),
    TableSpec("betterAuth", "member", schema.Member, [
        col("organization_id", "organizationId"), col("user_id", "userId"), col("role", "role"),
        col("created_at", "createdAt", kind="int"),
    ]),
    TableSpec("betterAuth", "invitation", schema.Invitation, [
        col("organization_id", "organizationId"), col("email", "email"), col("role", "role"),
        col("status", "status"), col("expires_at", "expiresAt", kind="int"), col("inviter_id", "inviterId"),
    ]),
    TableSpec("", "userProfiles", schema.UserProfile, [
        col("user_id", "userId"), col("burnout_score", "burnoutScore", kind="float"),
        col("burnout_band", "burnoutBand"), col("journey_stage", "journeyStage"),
        col("journey_day", "journeyDay", kind="int"), col("goals", "goals", kind="list"),
        col("timezone", "timezone"), col("last_contact_at", "lastContactAt", kind="int"),
    ]),
    TableSpec("", "conversationState", schema.ConversationState, [
        col("user_id", "userId"), col("channel", "channel"), col("state", "state"),
        col("awaiting_reply", "awaitingReply", kind="bool"), col("last_inbound_at", "lastInboundAt", kind="int"),
        col("last_outbound_at", "lastOutboundAt", kind="int"), col("context", "context", kind="object"),
    ]),
    TableSpec("", "billingAccounts", schema.BillingAccount, [
        col("user_id", "userId"), col("stripe_customer_id", "stripeCustomerId"), col("plan", "plan"),
        col("status", "status"), col("current_period_end", "currentPeriodEnd", kind="int"),
        col("last_stripe_event_id", "lastStripeEventId"), col("last_stripe_event_at", "lastStripeEventAt", kind="int"),
    ]),
    TableSpec("", "chats", schema.Chat, [
        col("user_id", "userId"), col("title", "title"),
        col("created_at", "createdAt", kind="int"), col("updated_at", "updatedAt", kind="int"),
    ]),
    TableSpec("", "messages", schema.Message, [
        col("chat_id", "chatId"), col("role", "role"), col("body", "body", "content"),
        col("created_at", "createdAt", kind="int"), col("client_message_id", "clientMessageId"),
    ]),
    TableSpec("", "jobs", schema.Job, [
        col("key", "key", "idempotencyKey"), col("type", "type"), col("payload", "payload", kind="object"),
        col("status", "status"), col("attempts", "attempts", kind="int", default=0),
        col("max_attempts", "maxAttempts", kind="int", default=5), col("next_run_at", "nextRunAt", kind="int"),
        col("claimed_at", "claimedAt", kind="int"), col("claimed_by", "claimedBy"),
        col("lease_ms", "leaseMs", kind="int"), col("last_error", "lastError"),
        col("errors", "errors", kind="list"), col("user_id", "userId"), col("delivery_id", "deliveryId"),
        col("created_at", "createdAt", kind="int"), col("updated_at", "updatedAt", kind="int"),
        col("error_fp", "lastError", kind="fingerprint"),
    ]),
    TableSpec("", "webhookDeliveries", schema.WebhookDelivery, [
        col("provider", "provider"), col("endpoint", "endpoint"), col("method", "method", default="POST"),
        col("headers", "headers", kind="object"), col("body", "body", kind="bytes"),
        col("received_at", "receivedAt", kind="int"), col("event_type", "eventType"),
        col("provider_event_id", "providerEventId"), col("job_id", "jobId"),
    ]),
]

BY_SOURCE: dict[tuple[str, str], TableSpec] = {(s.component, s.table): s for s in SPECS}
BY_SQL: dict[str, TableSpec] = {s.sql_table: s for s in SPECS}
