"""SQLModel tables of the replica.

Every replicated table carries the Convex system fields (`id` = `_id`, `creation_time` =
`_creationTime` in float ms, `ts` = `_ts` in int ns, `component` = `_component`) and `doc`, the
complete source document as JSON, so a field the console does not model is never lost.
`pk` is an explicit integer key: FTS5 external-content indexes point at it, and unlike a bare rowid
it survives VACUUM. Times the product stores (createdAt, ...) are int milliseconds since the epoch.
JSON-valued columns are TEXT holding JSON, serialised by the ingest code.
"""

from __future__ import annotations

from typing import Optional

from sqlalchemy import Column, Index, LargeBinary, String
from sqlmodel import Field, SQLModel

NOCASE = String(collation="NOCASE")


class Replicated(SQLModel):
    pk: Optional[int] = Field(default=None, primary_key=True)
    id: str  # unique: see the `<table>_id` indexes at the end of this module
    creation_time: float = 0.0
    ts: int = 0
    component: str = ""
    doc: str = "{}"


class User(Replicated, table=True):
    __tablename__ = "users"
    __table_args__ = (
        Index("by_email", "email"),
        Index("by_is_active", "is_active"),
        Index("by_phone", "phone"),
        Index("by_external_id", "external_id"),
        Index("by_name", "name"),
        Index("by_created", "created_at"),
    )
    # Sort and search keys are never NULL (missing = ""), so keyset paging stays simple.
    email: str = Field(default="", sa_type=NOCASE)
    name: str = Field(default="", sa_type=NOCASE)
    roles: str = "[]"
    role: Optional[str] = None
    permissions: str = "[]"
    is_active: bool = True
    phone: Optional[str] = None
    image: Optional[str] = None
    labels: str = "[]"
    email_verified: bool = False
    external_id: Optional[str] = None
    created_at: int = 0
    last_login: Optional[int] = None


class Session(Replicated, table=True):
    __tablename__ = "sessions"
    __table_args__ = (Index("by_user_active", "user_id", "active"),
                      # Support finds a user by a session token (its hash) or the hint the console shows.
                      Index("by_session_token_hint", "token_hint"), Index("by_session_token_sha", "token_sha256"))
    user_id: Optional[str] = None
    # The token itself is never stored: a replica on a support laptop must not hand out live sessions.
    token_hint: Optional[str] = None
    token_sha256: Optional[str] = None
    ip: Optional[str] = None
    user_agent: Optional[str] = None
    created_at: Optional[int] = None
    last_activity_at: Optional[int] = None
    active: bool = True
    expires_at: Optional[int] = None
    active_organization_id: Optional[str] = None


class SecurityEvent(Replicated, table=True):
    __tablename__ = "security_events"
    __table_args__ = (Index("by_user_occurred", "user_id", "occurred_at"),)
    user_id: Optional[str] = None
    type: Optional[str] = None
    ip: Optional[str] = None
    user_agent: Optional[str] = None
    occurred_at: Optional[int] = None
    details: str = "{}"
    severity: Optional[str] = None


class AuditLog(Replicated, table=True):
    __tablename__ = "audit_logs"
    __table_args__ = (
        Index("by_resource", "resource", "resource_id", "at"),
        Index("by_actor", "actor_user_id", "at"),
        Index("by_at", "at"),
    )
    actor_user_id: Optional[str] = None
    action: Optional[str] = None
    resource: Optional[str] = None
    resource_id: Optional[str] = None
    at: Optional[int] = None
    changes: str = "{}"
    reason: Optional[str] = None


class Organization(Replicated, table=True):
    __tablename__ = "organizations"
    # Not unique: Convex has no unique indexes, and a slug swap passes through a state with a duplicate.
    __table_args__ = (Index("by_slug", "slug"),)
    name: Optional[str] = None
    slug: Optional[str] = None
    logo: Optional[str] = None
    created_at: Optional[int] = None
    metadata_json: str = "{}"


class Member(Replicated, table=True):
    __tablename__ = "members"
    __table_args__ = (Index("by_user", "user_id"), Index("by_org", "organization_id"))
    organization_id: Optional[str] = None
    user_id: Optional[str] = None
    # Better Auth stores free text, several roles comma-separated ("admin,member").
    role: Optional[str] = None
    created_at: Optional[int] = None


class Invitation(Replicated, table=True):
    __tablename__ = "invitations"
    __table_args__ = (Index("by_org_status", "organization_id", "status"), Index("by_invite_email", "email"))
    organization_id: Optional[str] = None
    email: Optional[str] = Field(default=None, sa_type=NOCASE)
    role: Optional[str] = None
    status: Optional[str] = None
    expires_at: Optional[int] = None
    inviter_id: Optional[str] = None


class UserProfile(Replicated, table=True):
    __tablename__ = "user_profiles"
    __table_args__ = (
        Index("by_profile_user", "user_id"),
        Index("by_band_contact", "burnout_band", "last_contact_at"),
    )
    user_id: Optional[str] = None
    burnout_score: Optional[float] = None
    burnout_band: Optional[str] = None
    journey_stage: Optional[str] = None
    journey_day: Optional[int] = None
    goals: str = "[]"
    timezone: Optional[str] = None
    last_contact_at: Optional[int] = None


class ConversationState(Replicated, table=True):
    __tablename__ = "conversation_state"
    __table_args__ = (Index("by_conv_user", "user_id"),)
    user_id: Optional[str] = None
    channel: Optional[str] = None
    state: Optional[str] = None
    awaiting_reply: bool = False
    last_inbound_at: Optional[int] = None
    last_outbound_at: Optional[int] = None
    context: str = "{}"


class BillingAccount(Replicated, table=True):
    __tablename__ = "billing_accounts"
    __table_args__ = (Index("by_billing_user", "user_id"), Index("by_stripe_customer", "stripe_customer_id"),
                      Index("by_billing_last_event", "last_stripe_event_at"))
    user_id: Optional[str] = None
    stripe_customer_id: Optional[str] = None
    plan: Optional[str] = None
    status: Optional[str] = None
    current_period_end: Optional[int] = None
    # The Stripe event that last changed the record (products keep it to ignore out-of-order events): what the
    # console checks against captured deliveries for events that never arrived.
    last_stripe_event_id: Optional[str] = None
    last_stripe_event_at: Optional[int] = None


class Chat(Replicated, table=True):
    __tablename__ = "chats"
    __table_args__ = (Index("by_user_updated", "user_id", "updated_at"), Index("by_updated", "updated_at"))
    user_id: Optional[str] = None
    title: Optional[str] = None
    created_at: Optional[int] = None
    updated_at: Optional[int] = None


class Message(Replicated, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        Index("by_chat_created", "chat_id", "created_at"),
        Index("by_chat_client_message", "chat_id", "client_message_id"),  # not unique (see by_slug)
    )
    chat_id: Optional[str] = None
    role: Optional[str] = None
    body: Optional[str] = None
    created_at: Optional[int] = None
    client_message_id: Optional[str] = None


class Job(Replicated, table=True):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("by_key", "key"),  # not unique: a deleted job's key is reused by the next enqueue
        Index("by_status_next_run", "status", "next_run_at"),
        Index("by_type_status", "type", "status", "created_at"),
        Index("by_type_created", "type", "created_at"),
        Index("by_job_created", "created_at"),
        Index("by_job_updated", "updated_at"),
        Index("by_job_user", "user_id"),
        # Jobs panel: a state sorted by creation or by last change, and stuck jobs (running past the lease).
        Index("by_status_created", "status", "created_at"),
        Index("by_status_updated", "status", "updated_at"),
        Index("by_status_claimed", "status", "claimed_at", "lease_ms", "type"),  # type: stuck per type, covered
        # Queue by type: the oldest waiting job of a type; error groups: failed jobs by fingerprint.
        Index("by_type_status_next_run", "type", "status", "next_run_at"),
        Index("by_type_status_updated", "type", "status", "updated_at"),
        Index("by_type_updated", "type", "updated_at"),
        Index("by_status_fp", "status", "error_fp", "updated_at"),
        Index("by_fp_created", "error_fp", "created_at"),
    )
    key: Optional[str] = None
    type: Optional[str] = None
    payload: str = "{}"
    status: Optional[str] = None
    attempts: int = 0
    max_attempts: int = 5
    next_run_at: Optional[int] = None
    claimed_at: Optional[int] = None
    claimed_by: Optional[str] = None
    lease_ms: Optional[int] = None
    last_error: Optional[str] = None
    errors: str = "[]"
    user_id: Optional[str] = None
    delivery_id: Optional[str] = None
    created_at: Optional[int] = None
    updated_at: Optional[int] = None
    error_fp: Optional[str] = None  # console.domain.fingerprint of last_error, computed on every write


class WebhookDelivery(Replicated, table=True):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("by_provider_received", "provider", "received_at"),
        Index("by_provider_event", "provider", "provider_event_id"),
        Index("by_received", "received_at"),
    )
    provider: Optional[str] = None
    endpoint: Optional[str] = None
    method: str = "POST"
    headers: str = "{}"
    # The raw bytes exactly as received: every signature scheme is over these bytes.
    body: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False, default=b""))
    received_at: Optional[int] = None
    event_type: Optional[str] = None
    provider_event_id: Optional[str] = None
    job_id: Optional[str] = None


class DeliveryVerdict(SQLModel, table=True):
    """Local only: how each delivery verifies with the configured secrets (recomputed when they change)."""

    __tablename__ = "delivery_verdicts"
    __table_args__ = (Index("by_verdict", "valid", "reason"),)
    delivery_id: str = Field(primary_key=True)
    valid: bool = False
    reason: str = ""
    summary: str = ""
    secret_label: Optional[str] = None
    checked_at: float = 0.0


class ReplayAttempt(SQLModel, table=True):
    """Local only: every replay of a delivery, where to, how, and what came back."""

    __tablename__ = "replay_attempts"
    __table_args__ = (Index("by_replay_delivery", "delivery_id", "at"),)
    pk: Optional[int] = Field(default=None, primary_key=True)
    delivery_id: str = ""
    at: float = 0.0
    target: str = ""
    mode: str = ""  # verbatim | resigned | edited
    status: Optional[int] = None
    latency_ms: Optional[float] = None
    response_excerpt: str = ""
    error: str = ""


class RawDocument(SQLModel, table=True):
    """Documents of tables the console does not model, kept whole so nothing is lost."""

    __tablename__ = "raw_documents"
    component: str = Field(default="", primary_key=True)
    table_name: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    creation_time: float = 0.0
    ts: int = 0
    doc: str = "{}"


class CallLog(SQLModel, table=True):
    """Local only: one row per client call (network, cache hit or coalesced). Feeds the call-rate panel."""

    __tablename__ = "call_log"
    # by_call_cover holds every column the charts aggregate: binning reads the index, never the table.
    __table_args__ = (Index("by_call_cover", "at", "function", "kind", "source", "outcome", "latency_ms"),
                      Index("by_call_function_at", "function", "at"))
    pk: Optional[int] = Field(default=None, primary_key=True)
    at: float = 0.0  # unix seconds
    function: str = ""
    kind: str = ""  # query | mutation | action | http_action
    source: str = ""  # network | cache | coalesced
    outcome: str = ""  # success | error
    status: Optional[int] = None
    latency_ms: float = 0.0
    bytes: int = 0


class SyncState(SQLModel, table=True):
    __tablename__ = "sync_state"
    component: str = Field(default="", primary_key=True)
    table_name: str = Field(primary_key=True)
    phase: str = "snapshot"  # snapshot | deltas | on_demand
    snapshot_ts: Optional[int] = None
    snapshot_cursor: Optional[str] = None
    delta_cursor: Optional[int] = None
    updated_at: Optional[float] = None


class AppMeta(SQLModel, table=True):
    __tablename__ = "app_meta"
    key: str = Field(primary_key=True)
    value: str = ""


class FunctionLogEntry(SQLModel, table=True):
    """Local only: a bounded history of the deployment's function log stream, so logs survive a restart."""

    __tablename__ = "function_logs"
    __table_args__ = (Index("by_log_at", "at"), Index("by_log_request", "request_id"),
                      Index("by_log_function_at", "identifier", "at"),
                      Index("by_log_unique", "execution_id", "kind", "at", unique=True))
    pk: Optional[int] = Field(default=None, primary_key=True)
    at: float = 0.0  # unix seconds (the entry's timestamp)
    kind: str = ""  # Completion | Progress
    udf_type: str = ""  # Query | Mutation | Action | HttpAction
    identifier: str = ""
    component_path: str = ""
    request_id: str = ""
    execution_id: str = ""
    outcome: str = ""  # success | failure | progress
    error: str = ""
    lines: str = "[]"  # JSON list of the log lines as text
    execution_ms: Optional[float] = None
    cached: bool = False
    raw: str = "{}"  # the entry as received, so nothing the console does not show is lost


class ConsoleAction(SQLModel, table=True):
    """Local only: what the console itself did to a deployment (function runs), for the operator's own audit."""

    __tablename__ = "console_actions"
    __table_args__ = (Index("by_console_action_at", "at"),)
    pk: Optional[int] = Field(default=None, primary_key=True)
    at: float = 0.0  # unix seconds
    deployment: str = ""
    actor: str = ""  # "admin" (the deploy key) or the user acted as
    action: str = ""  # run_query | run_mutation | run_action
    target: str = ""  # the function path
    args: str = "{}"
    outcome: str = ""  # success | error | refused | canceled
    detail: str = ""


# A named unique index on `_id` for every replicated table (rather than an inline UNIQUE constraint)
# so that bulk loads can drop it and build it once, sorted, instead of inserting random ids one by one.
for _table in list(SQLModel.metadata.tables.values()):
    if "pk" in _table.c and "id" in _table.c:
        Index(f"{_table.name}_id", _table.c.id, unique=True)
