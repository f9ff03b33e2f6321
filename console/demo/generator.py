"""Generate a demo replica: deterministic for a seed and a `now`, realistic, and fast.

Documents are produced in the wire form a deployment exports and go through the same mapping and
ingest code as live sync. Bulk mode: secondary indexes and FTS triggers are dropped during the load
and rebuilt once at the end, which is several times faster than maintaining them row by row.
"""

from __future__ import annotations

import base64
import json
import multiprocessing
import random
import time
import unicodedata
import urllib.parse
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

from console.convex.ids import IdMinter
from console.demo import stripe_story
from console.demo.progress import GenerationProgress
from console.demo import words as W
from console.demo.secrets import (
    DEMO_CLERK_SECRET,
    DEMO_ENDPOINTS,
    DEMO_STRIPE_OLD_SECRET,
    DEMO_STRIPE_SECRET,
    DEMO_TWILIO_AUTH_TOKEN,
)
from console.signatures import sign_standard_webhook, sign_stripe, sign_twilio
from console.store.numbers import TABLE_NUMBERS
from console.store.db import open_replica, replace_file, set_meta
from console.store.derived import DERIVED_DDL, REBUILD, TRIGGERS
from console.store.ingest import insert_sql
from console.store.mapping import BY_SOURCE

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
CHUNK = 20_000
LONG_CHATS = 3
LONG_CHAT_MESSAGES = 240  # almost five pages of 50

# Table numbers as a deployment would assign them (user tables from 10001).


_ALNUM = bytes.maketrans(b"+/", b"Xz")


@dataclass
class DemoSizes:
    users: int = 2_000
    messages: int = 30_000
    jobs: int = 20_000


LARGE = DemoSizes(users=100_000, messages=1_000_000, jobs=1_000_000)

Progress = Callable[[str, int], None]


def _ascii(text_: str) -> str:
    return unicodedata.normalize("NFKD", text_).encode("ascii", "ignore").decode().lower().replace("'", "")


class _Writer:
    """Accumulates rows per source table and flushes them in chunks through the ingest code."""

    def __init__(self, conn: Connection, progress: Progress | None, meter: GenerationProgress | None = None) -> None:
        self.conn = conn
        self.progress = progress
        self.meter = meter
        self.pending: dict[tuple[str, str], list[tuple]] = {}
        self.counts: dict[str, int] = {}
        self.ts = 1

    def add(self, component: str, table: str, doc: dict) -> None:
        spec = BY_SOURCE[(component, table)]
        self.ts += 1
        rows = self.pending.setdefault((component, table), [])
        rows.append(spec.row(doc, self.ts))
        if self.meter is not None:
            self.meter.add_rows(1)
        if len(rows) >= CHUNK:
            self.flush(component, table)

    def flush(self, component: str | None = None, table: str | None = None) -> None:
        keys = [(component, table)] if component is not None else list(self.pending)
        for key in keys:
            rows = self.pending.get(key) or []
            if rows:
                self.conn.exec_driver_sql(insert_sql(BY_SOURCE[key]), rows)  # type: ignore[index]
                self.counts[key[1]] = self.counts.get(key[1], 0) + len(rows)
                if self.progress:
                    self.progress(key[1], self.counts[key[1]])
            self.pending[key] = []  # type: ignore[index]


def _inviters(org: dict) -> list[str]:
    """Who may invite to an organization: its owners and admins."""
    return [m for m, role in org["members"] if "owner" in role or "admin" in role]


class DemoGenerator:
    def __init__(self, sizes: DemoSizes, seed: int, now_ms: int) -> None:
        self.sizes = sizes
        self.rng = random.Random(seed)
        self.story_seed = seed  # the Stripe story's seed: the outbox generator (seed + 1) is told the demo's
        self.ids = IdMinter(seed)
        self.now = now_ms
        self.users: list[dict] = []
        self.staff: list[dict] = []
        self.orgs: list[dict] = []
        self.memberships: dict[str, list[tuple[str, str]]] = {}

    # -- helpers ---------------------------------------------------------------------------
    def _ct(self, ms: int) -> float:
        """A _creationTime: float ms with a fraction, as Convex stores it."""
        return ms + self.rng.random()

    def _hex(self, n: int) -> str:
        return self.rng.randbytes((n + 1) // 2).hex()[:n]

    def _alnum(self, n: int) -> str:
        return base64.b64encode(self.rng.randbytes(n)).translate(_ALNUM)[:n].decode()

    def _ip(self) -> str:
        r = self.rng.getrandbits(32)
        return f"{(r >> 24) % 223 + 1}.{(r >> 16) & 255}.{(r >> 8) & 255}.{r & 255}"

    def _phone(self) -> str:
        r = self.rng
        kind = r.random()
        if kind < 0.75:
            return f"+1{r.choice(['415', '646', '312', '206', '512', '617', '303', '503'])}555{r.randrange(10000):04d}"
        if kind < 0.9:
            return f"+447700900{r.randrange(1000):03d}"
        return f"+4915{r.randrange(10**8, 10**9)}"

    # -- users and what hangs off them ---------------------------------------------------------
    def users_docs(self) -> Iterator[tuple[str, dict]]:
        r = self.rng
        n = self.sizes.users
        ids = self.ids.batch(TABLE_NUMBERS["users"], n)
        seen_emails: set[str] = set()
        staff_n = min(12, max(2, n // 50))
        start = self.now - 730 * DAY
        for i in range(n):
            first, last = r.choice(W.FIRST_NAMES), r.choice(W.LAST_NAMES)
            created = start + (730 * DAY - DAY) * i // max(1, n) + r.randrange(HOUR)
            if i < staff_n:
                role = "admin" if i < max(1, staff_n // 4) else "support"
                roles = ["admin", "support"] if role == "admin" else ["support"]
                base = f"{_ascii(first)}.{_ascii(last)}"
                email = f"{base}@tidewell.app"
                perms = (["users:read", "users:write", "roles:write", "jobs:retry", "jobs:cancel", "webhooks:replay"]
                         if role == "admin" else ["users:read", "jobs:retry"])
            else:
                role, perms = "user", []
                roles = ["beta"] if r.random() < 0.03 else []  # a custom app role: beta testers
                f_, l_ = _ascii(first), _ascii(last)
                pattern = r.random()
                if pattern < 0.45:
                    local = f"{f_}.{l_}"
                elif pattern < 0.7:
                    local = f"{f_}{l_}{r.randrange(1, 99)}"
                elif pattern < 0.85:
                    local = f"{f_[0]}{l_}"
                else:
                    local = f"{f_}_{r.randrange(1970, 2006)}"
                email = f"{local}@{r.choice(W.EMAIL_DOMAINS)}"
            while email in seen_emails:
                local, _, dom = email.partition("@")
                email = f"{local}{r.randrange(10, 999)}@{dom}"
            seen_emails.add(email)
            display_email = email if r.random() > 0.03 else email.capitalize()  # some mixed case in the wild
            active = i < staff_n or r.random() > 0.03
            # Deactivated some time after sign-up; logins stop then. Active people log in often.
            deactivated = None if active else r.randrange(created, self.now)
            until = deactivated or self.now
            last_login = None if r.random() < 0.06 else max(created, until - int(r.expovariate(1 / (9 * DAY))))
            doc = {
                "_id": ids[i],
                "_creationTime": self._ct(created),
                "email": display_email,
                "name": f"{first} {last}",
                "roles": roles,
                "role": role,
                "permissions": perms,
                "isActive": active,
                "phoneNumber": self._phone() if r.random() < 0.85 else None,
                "emailVerified": r.random() < 0.9,
                "externalId": "user_2" + self._alnum(26),
                "createdAt": created,
                "labels": r.sample(W.LABELS, k=r.choice((0, 0, 0, 1, 1, 2))),
            }
            if r.random() < 0.4:
                doc["image"] = f"https://img.clerk.com/{self._alnum(20).lower()}.png"
            if last_login is not None:
                doc["lastLogin"] = last_login
            if r.random() < 0.1:
                doc["passwordHash"] = "$argon2id$v=19$m=65536,t=3,p=4$" + self._alnum(22)  # dropped on ingest
            if r.random() < 0.05:
                doc["marketingOptIn"] = r.random() < 0.5  # a field the console does not model
            doc = {k: v for k, v in doc.items() if v is not None}
            user = {"id": ids[i], "first": first, "email": email, "created": created, "active": active,
                    "deactivated": deactivated, "beta": roles == ["beta"],
                    "phone": doc.get("phoneNumber"), "role": role, "name": doc["name"],
                    "external_id": doc["externalId"]}
            self.users.append(user)
            if role != "user":
                self.staff.append(user)
            yield "users", doc

    def orgs_docs(self) -> Iterator[tuple[str, dict]]:
        r = self.rng
        customers = [u for u in self.users if u["role"] == "user"]
        n_orgs = max(3, len(customers) // 25)
        org_ids = self.ids.batch(TABLE_NUMBERS["organization"], n_orgs)
        slugs: set[str] = set()
        for i in range(n_orgs):
            name = f"{r.choice(W.COMPANY_WORDS)} {r.choice(W.COMPANY_SUFFIX)}"
            slug = name.lower().replace(" ", "-")
            while slug in slugs:
                slug = f"{name.lower().replace(' ', '-')}-{r.randrange(2, 999)}"
            slugs.add(slug)
            created = self.now - r.randrange(30 * DAY, 700 * DAY)
            doc = {"_id": org_ids[i], "_creationTime": self._ct(created), "name": name, "slug": slug,
                   "createdAt": created, "metadata": {"seats": r.choice([5, 10, 25, 50, 100]),
                                                       "industry": r.choice(W.COMPANY_SUFFIX).lower()}}
            if r.random() < 0.5:
                doc["logo"] = f"https://logo.tidewell.app/{slug}.png"
            self.orgs.append({"id": org_ids[i], "members": [], "created": created, "slug": slug})
            yield "organization", doc
        # memberships: about 60% of customers in one organization, some in two
        member_docs = []
        for u in customers:
            roll = r.random()
            k = 0 if roll < 0.4 else (1 if roll < 0.92 else 2)
            for org in r.sample(self.orgs, k=min(k, len(self.orgs))):
                member_docs.append((org, u))
        for org, u in member_docs:
            if not org["members"]:
                role = "owner"
            else:
                x = r.random()
                role = ("admin" if x < 0.1 else "admin,member" if x < 0.13 else "billing,member" if x < 0.15
                        else "owner" if x < 0.16 else "member")
            org["members"].append((u["id"], role))
            self.memberships.setdefault(u["id"], []).append((org["id"], role))
            created = max(org["created"], u["created"]) + r.randrange(DAY)
            yield "member", {"_id": self.ids.new(TABLE_NUMBERS["member"]), "_creationTime": self._ct(created),
                             "organizationId": org["id"], "userId": u["id"], "role": role, "createdAt": created}
        # Staff belong to organizations too (the demo's operator is an admin of a few, so member roles can be
        # changed): their own random stream, so the customers' data stays as it was.
        sr = random.Random(f"staff-orgs-{self.sizes.users}")
        for i, u in enumerate(self.staff):
            k = 3 if i == 0 else sr.choice((1, 2))
            for j, org in enumerate(self.orgs[:k] if i == 0 else sr.sample(self.orgs, k=min(k, len(self.orgs)))):
                if any(m == u["id"] for m, _ in org["members"]):
                    continue
                role = "admin" if i == 0 or u["role"] == "admin" else sr.choice(("member", "admin"))
                org["members"].append((u["id"], role))
                self.memberships.setdefault(u["id"], []).append((org["id"], role))
                created = max(org["created"], u["created"]) + sr.randrange(DAY)
                yield "member", {"_id": self.ids.new(TABLE_NUMBERS["member"]), "_creationTime": created + sr.random(),
                                 "organizationId": org["id"], "userId": u["id"], "role": role, "createdAt": created}
        for org in self.orgs:
            inviters = _inviters(org)
            for _ in range(r.choice((0, 0, 1, 2, 3))):
                if not inviters:
                    break
                status = r.choice(["pending", "pending", "accepted", "rejected", "canceled"])
                created = self.now - r.randrange(40 * DAY)
                yield "invitation", {
                    "_id": self.ids.new(TABLE_NUMBERS["invitation"]), "_creationTime": self._ct(created),
                    "organizationId": org["id"],
                    "email": f"{_ascii(r.choice(W.FIRST_NAMES))}.{_ascii(r.choice(W.LAST_NAMES))}@{org['slug']}.com",
                    "role": r.choice(["member", "member", "admin"]), "status": status,
                    "expiresAt": created + 7 * DAY, "inviterId": r.choice(inviters),
                }
        yield from self._invitations_of_users()

    def _invitations_of_users(self) -> Iterator[tuple[str, dict]]:
        """Members joined by accepting an invitation (Better Auth's way in), and some users have one waiting
        for another organization: a user's timeline shows them. Their own random stream and ids, so the rest of
        the demo's data stays as it was."""
        sr = random.Random(f"user-invitations-{self.sizes.users}")
        ids = IdMinter(sr.getrandbits(64))
        by_id = {u["id"]: u for u in self.users}
        for org in self.orgs:
            inviters = _inviters(org)
            for member, role in org["members"]:
                user = by_id.get(member)
                if user is None or "owner" in role or not inviters or sr.random() > 0.5:
                    continue
                inviter = sr.choice([i for i in inviters if i != member] or inviters)
                created = max(org["created"], user["created"]) + sr.randrange(max(1, DAY // 2))
                yield "invitation", {
                    "_id": ids.new(TABLE_NUMBERS["invitation"]), "_creationTime": created + sr.random(),
                    "organizationId": org["id"], "email": user["email"], "role": role.split(",")[0],
                    "status": "accepted", "expiresAt": created + 7 * DAY, "inviterId": inviter}
        customers = [u for u in self.users if u["role"] == "user" and u["active"]]
        for user in sr.sample(customers, k=min(len(customers), max(1, len(customers) // 25))):
            org = sr.choice(self.orgs) if self.orgs else None
            inviters = _inviters(org) if org else []
            if org is None or not inviters or any(m == user["id"] for m, _ in org["members"]):
                continue
            created = self.now - sr.randrange(6 * DAY)
            yield "invitation", {
                "_id": ids.new(TABLE_NUMBERS["invitation"]), "_creationTime": created + sr.random(),
                "organizationId": org["id"], "email": user["email"], "role": sr.choice(("member", "member", "admin")),
                "status": sr.choice(("pending", "pending", "rejected")), "expiresAt": created + 7 * DAY,
                "inviterId": sr.choice(inviters)}

    def plan_stripe(self) -> None:
        """Stripe's records and the week's events on the user records, planned once per process."""
        if not any("stripe" in u for u in self.users):
            stripe_story.plan(self.users, self.story_seed, self.now,
                              stripe_story.stripe_slots(_n_deliveries(self.sizes)))

    def per_user_docs(self) -> Iterator[tuple[str, dict]]:
        r = self.rng
        self.plan_stripe()
        admins = [s for s in self.staff if s["role"] == "admin"] or self.staff
        for u in self.users:
            uid, created = u["id"], u["created"]
            # Everything a deactivated user did happened before the deactivation.
            end = u["deactivated"] or self.now
            span = max(1, end - created)
            orgs = self.memberships.get(uid, [])
            for k in range(r.choice((0, 1, 1, 2, 2, 3, 4))):
                started = end - r.randrange(min(span, 60 * DAY))
                last = min(end, started + r.randrange(1, 14 * DAY))
                # Deactivation does not end sessions in the data; the product refuses them at its middleware.
                active = k == 0 and r.random() < 0.7
                doc = {"_id": self.ids.new(TABLE_NUMBERS["sessions"]), "_creationTime": self._ct(started),
                       "userId": uid, "token": "sess_" + self._alnum(40), "ipAddress": self._ip(),
                       "userAgent": r.choice(W.USER_AGENTS), "createdAt": started, "lastActivityAt": last,
                       "isActive": active, "expiresAt": last + 30 * DAY}
                if orgs:
                    doc["activeOrganizationId"] = orgs[0][0]
                yield "sessions", doc
            for _ in range(r.choice((0, 1, 2, 3, 3, 4, 6))):
                kind, severity = r.choice(W.SECURITY_EVENT_TYPES)
                at = end - r.randrange(min(span, 90 * DAY))
                yield "securityEvents", {
                    "_id": self.ids.new(TABLE_NUMBERS["securityEvents"]), "_creationTime": self._ct(at),
                    "userId": uid, "type": kind, "ipAddress": self._ip(), "userAgent": r.choice(W.USER_AGENTS),
                    "occurredAt": at, "severity": severity,
                    "details": {"country": r.choice(["US", "US", "GB", "DE", "CA", "IN", "BR"]),
                                **({"attempts": r.randrange(3, 12)} if kind == "too_many_attempts" else {})},
                }
            if not u["active"]:
                at = u["deactivated"]
                actor = r.choice(admins)
                yield "auditLogs", {
                    "_id": self.ids.new(TABLE_NUMBERS["auditLogs"]), "_creationTime": self._ct(at),
                    "actorUserId": actor["id"], "action": "user.deactivate", "resource": "users", "resourceId": uid,
                    "timestamp": at, "changes": {"isActive": {"before": True, "after": False}},
                    "reason": r.choice(["Requested account deletion by email", "Chargeback fraud",
                                        "Duplicate account", "Abusive messages to coach"]),
                }
            elif u["role"] != "user" or u["beta"]:
                at = created + r.randrange(span)
                actor = r.choice(admins)
                new = ["support"] if u["role"] == "support" else ["admin", "support"] if u["role"] == "admin" else ["beta"]
                yield "auditLogs", {
                    "_id": self.ids.new(TABLE_NUMBERS["auditLogs"]), "_creationTime": self._ct(at),
                    "actorUserId": actor["id"], "action": "user.set_roles", "resource": "users", "resourceId": uid,
                    "timestamp": at, "changes": {"roles": {"before": [], "after": new}},
                    "reason": "Onboarding to the support team" if u["role"] != "user" else "Beta tester access",
                }
            if u["role"] != "user":
                continue
            score = round(min(100.0, max(0.0, r.gauss(52, 18))), 1)
            band = "low" if score < 35 else "moderate" if score < 60 else "high" if score < 80 else "severe"
            contact = end - r.randrange(min(span, 45 * DAY))
            yield "userProfiles", {
                "_id": self.ids.new(TABLE_NUMBERS["userProfiles"]), "_creationTime": self._ct(created + MINUTE),
                "userId": uid, "burnoutScore": score, "burnoutBand": band,
                "journeyStage": r.choice(W.JOURNEY_STAGES), "journeyDay": r.randrange(1, 180),
                "goals": r.sample(W.GOALS, k=r.randrange(1, 4)), "timezone": r.choice(W.TIMEZONES),
                "lastContactAt": contact,
            }
            channel = "sms" if u["phone"] and r.random() < 0.6 else "web"
            state = r.choice(["idle", "idle", "awaiting_user", "awaiting_assistant", "check_in_scheduled",
                              "handoff_to_human"]) if u["active"] else "opted_out"
            yield "conversationState", {
                "_id": self.ids.new(TABLE_NUMBERS["conversationState"]), "_creationTime": self._ct(created + MINUTE),
                "userId": uid, "channel": channel, "state": state, "awaitingReply": state == "awaiting_user",
                "lastInboundAt": contact, "lastOutboundAt": contact + r.randrange(2 * MINUTE, 30 * MINUTE),
                "context": {"lastIntent": r.choice(["sleep", "workload", "boundaries", "billing", "check_in"]),
                            "nextCheckInAt": self.now + r.randrange(DAY)},
            }
            if "stripe" in u:
                yield "billingAccounts", {
                    "_id": self.ids.new(TABLE_NUMBERS["billingAccounts"]), "_creationTime": self._ct(created + HOUR),
                    **stripe_story.billing_doc(u)}

    # -- conversations ---------------------------------------------------------------------------
    def chat_docs(self) -> Iterator[tuple[str, dict]]:
        r = self.rng
        total = self.sizes.messages
        if total <= 0:
            return
        customers = [u for u in self.users if u["role"] == "user"] or self.users
        n_chats = max(1, total // 18)
        chat_ids = self.ids.batch(TABLE_NUMBERS["chats"], n_chats)
        msg_ids = self.ids.batch(TABLE_NUMBERS["messages"], total)
        # Most chats belong to a minority of engaged users, as in real products.
        active = [u for u in customers if u["active"]] or customers
        engaged = active[: max(1, len(active) * 3 // 5)]
        counts = [1] * n_chats
        # A few long conversations (several pages of the Chats panel's 50), so older pages load as you scroll up;
        # the rest share what is left.
        n_long = min(LONG_CHATS, n_chats - 1)
        long_n = min(LONG_CHAT_MESSAGES, (total - n_chats) // 10) + 1
        for c in range(n_long):
            counts[c] = long_n
        for _ in range(total - n_chats - n_long * (long_n - 1)):
            counts[r.randrange(n_long, n_chats)] += 1
        exchanges = W.EXCHANGES
        mi = 0
        for c in range(n_chats):
            u = r.choice(engaged)
            n = counts[c]
            # Gaps first (a user takes minutes to hours to answer, the assistant seconds), then the chat is
            # placed so that its last message is in the past and its first after the user signed up.
            gaps = [r.randrange(20_000, 4 * HOUR if k % 2 == 0 else 90_000) for k in range(n)]
            latest = self.now - r.randrange(1, 200 * DAY)
            if c < n_long:
                latest = self.now - (c + 1) * HOUR  # recent: near the top of the chat list
            start = max(latest - sum(gaps), u["created"] + HOUR)
            start = min(start, self.now - sum(gaps) - MINUTE)
            t = start
            offset = r.randrange(len(exchanges))
            first_name = u["first"]
            chat_id = chat_ids[c]
            for k in range(n):
                ex = exchanges[(offset + k // 2) % len(exchanges)]
                role = "user" if k % 2 == 0 else "assistant"
                body = ex[0] if role == "user" else ex[1].replace("{name}", first_name)
                t += gaps[k]
                doc = {"_id": msg_ids[mi], "_creationTime": t + 0.5, "chatId": chat_id, "role": role,
                       "body": body, "createdAt": t}
                if role == "user":
                    doc["clientMessageId"] = f"cm_{mi:x}{k}"
                mi += 1
                yield "messages", doc
            yield "chats", {"_id": chat_id, "_creationTime": self._ct(start), "userId": u["id"],
                            "title": r.choice(W.CHAT_TITLES), "createdAt": start, "updatedAt": t}

    # -- webhooks and jobs -----------------------------------------------------------------------
    def delivery_docs(self, count: int) -> Iterator[tuple[str, dict, dict | None]]:
        """Yields (table, delivery doc, job doc or None): each delivery the receiver accepted enqueued one job;
        one whose signature failed was refused (403) and enqueued nothing."""
        r = self.rng
        self.plan_stripe()
        with_phone = [u for u in self.users if u["phone"] and u["role"] == "user"] or self.users
        by_id = {u["id"]: u for u in self.users}
        stripe_events = iter(stripe_story.delivered_events(self.users))
        d_ids = self.ids.batch(TABLE_NUMBERS["webhookDeliveries"], count)
        for i in range(count):
            received = self.now - r.randrange(1, 7 * DAY)
            ev = next(stripe_events, None) if stripe_story.is_stripe_slot(i) else None
            provider = "stripe" if ev else r.choices(["twilio", "clerk"], weights=[5, 2])[0]
            flaw = r.choices(["none", "tampered", "stale", "wrong_secret", "wrong_url"], weights=[85, 5, 4, 3, 3])[0]
            if i < 12:  # every kind of failure shows up at least once, whatever the size
                provider = "stripe" if ev else ("twilio", "twilio", "clerk")[i % 3]
                flaw = ("tampered", "stale", "wrong_secret", "wrong_url")[i // 3]
                if flaw == "stale" and provider == "twilio":
                    flaw = "none"  # Twilio signs no timestamp: a stale Twilio delivery still verifies
            u = by_id[ev["user"]] if ev else r.choice(with_phone)
            if ev:
                received = ev["at"] + r.randrange(200, 3000)  # Stripe sends within seconds of the event
            sec = received // 1000
            endpoint = DEMO_ENDPOINTS[provider]
            signed_at = sec - (r.randrange(900, 7200) if flaw == "stale" else r.randrange(0, 3))
            if provider == "twilio":
                event_id = "SM" + self._hex(32)
                event_type = "sms.inbound"
                params = {"AccountSid": "AC" + "d3m0" * 8, "ApiVersion": "2010-04-01", "Body": r.choice(W.SMS_BODIES),
                          "From": u["phone"] or "+14155550100", "MessageSid": event_id, "NumMedia": "0",
                          "SmsSid": event_id, "SmsStatus": "received", "To": "+18885550199"}
                body = urllib.parse.urlencode(params).encode()
                sign_url = endpoint
                received_url = endpoint
                if flaw == "wrong_url":
                    received_url = r.choice([endpoint.replace("https://", "http://"), endpoint + "/",
                                             endpoint.replace(".convex.site", ".convex.site:443")])
                    sign_url, received_url = received_url, endpoint
                token = DEMO_TWILIO_AUTH_TOKEN if flaw != "wrong_secret" else "0ld4uth70k3n" + "0" * 20
                headers = {"Host": "tidewell-demo.convex.site", "User-Agent": "TwilioProxy/1.1",
                           "Content-Type": "application/x-www-form-urlencoded",
                           "I-Twilio-Idempotency-Token": self._hex(8) + "-" + self._hex(4) + "-" + self._hex(12),
                           "X-Twilio-Signature": sign_twilio(sign_url, params, token)}
                if flaw == "tampered":
                    params["Body"] = "STOP"
                    body = urllib.parse.urlencode(params).encode()
                endpoint = received_url
            elif provider == "stripe" and ev is not None:
                event_id, event_type = ev["id"], ev["type"]
                data: dict = {"object": ev["object"]}
                if "previous" in ev:
                    data["previous_attributes"] = ev["previous"]
                payload = {"id": event_id, "object": "event", "api_version": "2024-06-20", "created": ev["at"] // 1000,
                           "data": data, "livemode": False, "pending_webhooks": 1,
                           "request": {"id": None, "idempotency_key": None}, "type": event_type}
                body = json.dumps(payload, indent=2).encode()
                secret = DEMO_STRIPE_SECRET if flaw != "wrong_secret" else DEMO_STRIPE_OLD_SECRET
                headers = {"Host": "tidewell-demo.convex.site", "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                           "Content-Type": "application/json; charset=utf-8",
                           "Stripe-Signature": sign_stripe(body, secret, timestamp=signed_at)}
                if flaw in ("tampered", "wrong_url"):
                    body = body.replace(b'"livemode": false', b'"livemode": true')
            else:
                event_id = "msg_" + self._alnum(27)
                event_type = r.choice(W.CLERK_EVENTS)
                stray_user = "user_2" + self._alnum(26)
                payload = {"data": {"id": u.get("external_id", stray_user), "email_addresses": [{"email_address": u["email"]}],
                                    "first_name": u["first"]},
                           "object": "event", "type": event_type, "timestamp": signed_at * 1000}
                body = json.dumps(payload, separators=(",", ":")).encode()
                secret = DEMO_CLERK_SECRET if flaw != "wrong_secret" else "whsec_" + base64.b64encode(b"rotated-clerk-key-2025-0000000").decode()
                headers = {"Host": "tidewell-demo.convex.site", "User-Agent": "Svix-Webhooks/1.45.0",
                           "Content-Type": "application/json",
                           **sign_standard_webhook(body, secret, event_id, timestamp=signed_at)}
                if flaw in ("tampered", "wrong_url"):
                    body = body.replace(b'"first_name":"', b'"first_name":"X')
            delivery = {"_id": d_ids[i], "_creationTime": self._ct(received), "provider": provider,
                        "endpoint": endpoint, "method": "POST", "headers": headers,
                        "body": {"$bytes": base64.b64encode(body).decode()}, "receivedAt": received,
                        "eventType": event_type, "providerEventId": event_id}
            if flaw != "none":  # the receiver refused it (403): captured, no job
                yield "webhookDeliveries", delivery, None
                continue
            job_id = self.ids.new(TABLE_NUMBERS["jobs"])
            delivery["jobId"] = job_id
            job = self._job(job_id, f"webhook.{provider}.{'inbound' if provider == 'twilio' else 'event'}",
                            received + r.randrange(50, 400), key=event_id,
                            payload={"deliveryId": d_ids[i], "eventType": event_type}, user=u, delivery_id=d_ids[i])
            yield "webhookDeliveries", delivery, job

    def _job(self, job_id: str, jtype: str, created: int, *, key: str, payload: dict, user: dict | None,
             delivery_id: str | None = None, stuck: bool = False) -> dict:
        r = self.rng
        age = self.now - created
        max_attempts = 3 if jtype.startswith("webhook.") else 5
        roll = r.random()
        if stuck:
            status = "running"  # a worker died holding it
        elif age < 10 * MINUTE and roll < 0.1:
            status = "running"  # picked up moments ago
        elif age < 10 * MINUTE and roll < 0.6:
            status = "pending"  # the current backlog
        elif roll < 0.84 or (0.94 <= roll < 0.97 and age > 15 * MINUTE):
            # a healthy queue: what was pending long ago has run by now
            status = "succeeded"
        elif roll < 0.90:
            status = "retrying"
        elif roll < 0.94:
            status = "dead"
        elif roll < 0.97:
            status = "pending"
        else:
            status = "canceled"
        errors_pool = W.JOB_ERRORS.get(jtype) or ["Error: unknown failure"]
        if status == "succeeded":
            attempts = 1 if r.random() < 0.9 else r.randrange(2, max_attempts + 1)
            failed = attempts - 1
        elif status == "retrying":
            attempts = r.randrange(1, max_attempts)
            failed = attempts
        elif status == "dead":
            attempts = failed = max_attempts
        elif status == "running":
            attempts = r.randrange(1, 3)
            failed = attempts - 1
        elif status == "canceled":
            attempts = failed = r.randrange(0, 2)
        else:
            attempts = failed = 0
        errors = []
        t = created
        err = r.choice(errors_pool)
        for a in range(1, failed + 1):
            t += int(250 * 2 ** (a - 1) * (0.5 + r.random())) + r.randrange(200, 3000)
            errors.append({"attempt": a, "at": t, "error": err if r.random() < 0.8 else r.choice(errors_pool)})
        doc: dict = {"_id": job_id, "_creationTime": self._ct(created), "key": key, "type": jtype,
                     "payload": payload, "status": status, "attempts": attempts, "maxAttempts": max_attempts,
                     "errors": errors, "createdAt": created, "updatedAt": max(t, created)}
        if errors:
            doc["lastError"] = errors[-1]["error"]
        if user is not None:
            doc["userId"] = user["id"]
        if delivery_id:
            doc["deliveryId"] = delivery_id
        if status == "pending":
            doc["nextRunAt"] = created + r.randrange(0, 5000)
        elif status == "retrying":
            doc["nextRunAt"] = self.now + int(250 * 2 ** (attempts - 1) * (0.5 + r.random())) + r.randrange(1000, 600_000)
        elif status == "running":
            lease = 60_000
            claimed = (self.now - lease - r.randrange(5 * MINUTE, 2 * HOUR) if stuck
                       else max(created, self.now - r.randrange(1000, 50_000)))
            doc.update(claimedAt=claimed, claimedBy=r.choice(W.WORKERS), leaseMs=lease)
        return doc

    def job_docs(self, count: int) -> Iterator[tuple[str, dict]]:
        r = self.rng
        if count <= 0:
            return
        types = list(W.JOB_TYPES)
        weights = list(W.JOB_TYPES.values())
        customers = [u for u in self.users if u["role"] == "user"] or self.users
        job_ids = self.ids.batch(TABLE_NUMBERS["jobs"], count)
        span = 7 * DAY
        for i in range(count):
            jtype = r.choices(types, weights)[0]
            if jtype.startswith("webhook."):
                jtype = "sms.send"
            u = r.choice(customers)
            created = self.now - span + span * i // count + r.randrange(1000)
            if i % 50 == 25:  # the last minutes are busier than the week's average: a backlog to look at
                created = self.now - r.randrange(10 * MINUTE)
            if jtype == "sms.send":
                payload = {"userId": u["id"], "to": u["phone"] or "+14155550100", "template": r.choice(
                    ["daily_check_in", "weekly_summary", "reply", "reminder"])}
            elif jtype == "ai.generate_reply":
                payload = {"userId": u["id"], "model": "gpt-4o", "channel": r.choice(["sms", "web"])}
            elif jtype == "email.send_digest":
                payload = {"userId": u["id"], "to": u["email"], "week": time.strftime("%G-W%V", time.gmtime(created / 1000))}
            elif jtype == "profile.recompute_burnout":
                payload = {"userId": u["id"], "reason": r.choice(["weekly", "assessment_completed", "manual"])}
            else:
                payload = {"userId": u["id"]}
            # One job in 800 is stuck: claimed by a worker that died (Convex workpool outages look like this).
            yield "jobs", self._job(job_ids[i], jtype, created, key=f"{jtype}:{job_ids[i][-12:]}",
                                    payload=payload, user=u, stuck=i % 800 == 400)


def documents(sizes: DemoSizes, seed: int = 7, now_ms: int | None = None) -> Iterator[tuple[str, str, dict]]:
    """Every demo document as (component, table, wire-form document), e.g. to seed the stand-in."""
    gen = DemoGenerator(sizes, seed, now_ms if now_ms is not None else int(time.time() * 1000))
    for table, doc in gen.users_docs():
        yield "", table, doc
    for table, doc in gen.orgs_docs():
        yield "betterAuth", table, doc
    for table, doc in gen.per_user_docs():
        yield "", table, doc
    for table, doc in gen.chat_docs():
        yield "", table, doc
    n_jobs = 0
    for table, delivery, job in gen.delivery_docs(_n_deliveries(sizes)):
        yield "", table, delivery
        if job is not None:
            n_jobs += 1
            yield "", "jobs", job
    for table, doc in gen.job_docs(sizes.jobs - n_jobs):
        yield "", table, doc


# Below this many jobs the outbox is generated in this process; above it a second process makes it
# while this one makes users and conversations (the machine has two cores).
PARALLEL_JOBS = 100_000
_OUTBOX_TABLES = ("jobs", "webhook_deliveries")


def _bulk_connect(path: Path) -> Connection:
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    conn = engine.connect()
    conn.exec_driver_sql("PRAGMA journal_mode=OFF")
    conn.exec_driver_sql("PRAGMA synchronous=OFF")
    conn.exec_driver_sql("PRAGMA cache_size=-200000")
    conn.exec_driver_sql("PRAGMA threads=2")  # index builds sort on both cores where SQLite allows it
    return conn


def _n_deliveries(sizes: DemoSizes) -> int:
    return min(5000, max(min(60, sizes.jobs), sizes.jobs // 200))


def expected_rows(sizes: DemoSizes) -> int:
    """About how many rows `generate` writes for `sizes` (for a progress bar: the per-user documents are drawn at
    random, and the week of call-log traffic does not depend on the sizes)."""
    return round(sizes.users * ROWS_PER_USER) + sizes.messages + sizes.jobs + _n_deliveries(sizes) + CALL_LOG_ROWS


def _cheap_rows(meter: GenerationProgress | None) -> Callable[[int], None] | None:
    return None if meter is None else (lambda n: meter.add_rows(n, cheap=True))


# Measured on the default demo: 2,000 users came with 18,182 sessions, security events, profiles, billing
# accounts, chats, organizations, members...; the demo's week of traffic is about 179,000 call-log rows.
ROWS_PER_USER = 10.1
CALL_LOG_ROWS = 179_000


def _generate_outbox(part: str, sizes: DemoSizes, seed: int, now_ms: int, users: list[dict],
                     meter: GenerationProgress | None = None) -> dict[str, int]:
    """Jobs and webhook deliveries into a scratch file `part`, merged into the replica afterwards."""
    gen = DemoGenerator(sizes, seed + 1, now_ms)
    gen.users = users
    gen.story_seed = seed  # the same Stripe story as the billing records
    conn = _bulk_connect(Path(part))
    tables = [SQLModel.metadata.tables[t] for t in _OUTBOX_TABLES]
    SQLModel.metadata.create_all(conn, tables=tables)
    for t in tables:
        for ix in t.indexes:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {ix.name}")
    w = _Writer(conn, None, meter)
    n_jobs = 0
    for table, delivery, job in gen.delivery_docs(_n_deliveries(sizes)):
        w.add("", table, delivery)
        if job is not None:
            n_jobs += 1
            w.add("", "jobs", job)
    for table, doc in gen.job_docs(sizes.jobs - n_jobs):
        w.add("", table, doc)
    w.flush()
    conn.commit()
    conn.close()
    return dict(w.counts)


def generate(
    path: Path | str,
    sizes: DemoSizes | None = None,
    *,
    seed: int = 7,
    now_ms: int | None = None,
    progress: Progress | None = None,
    meter: GenerationProgress | None = None,
) -> dict[str, int]:
    """Write a fresh demo replica at `path`, replacing what is there once it is complete. Returns row counts
    per table. The data goes to `<path>.partial` first: interrupted, nothing at `path` changes. `meter`, if
    given, is kept up to date row by row (a progress bar with a time left reads it)."""
    path = Path(path)
    work = path.with_name(path.name + ".partial")
    _remove_with_sidecars(work)
    try:
        counts = _generate_into(work, sizes, seed=seed, now_ms=now_ms, progress=progress, meter=meter)
        replace_file(work, path)
    except BaseException:
        _remove_with_sidecars(work)
        raise
    return counts


def _remove_with_sidecars(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal", ".outbox-part"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _generate_into(path: Path, sizes: DemoSizes | None, *, seed: int, now_ms: int | None,
                   progress: Progress | None, meter: GenerationProgress | None = None) -> dict[str, int]:
    sizes = sizes or DemoSizes()
    if now_ms is None:
        now_ms = int(time.time() * 1000)
    if meter:
        meter.expect(expected_rows(sizes), cheap=CALL_LOG_ROWS)
    engine = open_replica(path)
    with engine.begin() as c:
        set_meta(c, "mode", "demo")  # from the first moment: a half-written file never reads as live
    engine.dispose()
    part = Path(f"{path}.outbox-part")
    part.unlink(missing_ok=True)
    gen = DemoGenerator(sizes, seed, now_ms)
    conn = _bulk_connect(path)
    pool = None
    try:
        indexes = [ix for t in SQLModel.metadata.sorted_tables for ix in t.indexes]
        for ix in indexes:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {ix.name}")
        for trig in TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trig}")
        w = _Writer(conn, progress, meter)
        for table, doc in gen.users_docs():
            w.add("", table, doc)
        users = [dict(u) for u in gen.users]  # copies: the pool pickles them while this process goes on
        args = (str(part), sizes, seed, now_ms, users)
        outbox = None
        if sizes.jobs >= PARALLEL_JOBS:
            pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            outbox = pool.submit(_generate_outbox, *args)
        for table, doc in gen.orgs_docs():
            w.add("betterAuth", table, doc)
        for table, doc in gen.per_user_docs():
            w.add("", table, doc)
        for table, doc in gen.chat_docs():
            w.add("", table, doc)
        w.flush()
        from console.demo.traffic import write as write_traffic

        counts = dict(w.counts)
        counts["callLog"] = write_traffic(conn, now_ms / 1000, seed=seed, on_rows=_cheap_rows(meter))
        conn.commit()
        if outbox:
            counts.update(outbox.result())
            if meter:  # the other process counted nothing here
                meter.add_rows(counts.get("jobs", 0) + counts.get("webhookDeliveries", 0))
        else:
            counts.update(_generate_outbox(*args, meter=meter))
        if progress:
            progress("outbox", counts.get("jobs", 0))
        finishing = DERIVED_DDL + REBUILD
        if meter:  # the outbox merge, each index, each derived-table statement, ANALYZE
            meter.start_finishing(len(_OUTBOX_TABLES) + len(indexes) + len(finishing) + 1)
        conn.exec_driver_sql("ATTACH DATABASE ? AS part", (str(part),))
        for t in _OUTBOX_TABLES:
            cols = ", ".join(c.name for c in SQLModel.metadata.tables[t].columns if c.name != "pk")
            conn.exec_driver_sql(f"INSERT INTO main.{t} ({cols}) SELECT {cols} FROM part.{t} ORDER BY pk")
            if meter:
                meter.step()
        conn.commit()
        conn.exec_driver_sql("DETACH DATABASE part")
        if progress:
            progress("indexes", 0)
        for ix in indexes:
            ix.create(conn)
            if meter:
                meter.step()
        for stmt in finishing:
            conn.exec_driver_sql(stmt)
            if meter:
                meter.step()
        set_meta(conn, "mode", "demo")
        if gen.staff:
            # Demo actions need an operator; until one is chosen in Settings, the first admin operates.
            set_meta(conn, "demo_operator", next((u["id"] for u in gen.staff if u["role"] == "admin"), gen.staff[0]["id"]))
        set_meta(conn, "demo_seed", str(seed))
        set_meta(conn, "demo_now_ms", str(now_ms))
        set_meta(conn, "generated_at", str(time.time()))
        conn.commit()
        conn.exec_driver_sql("PRAGMA analysis_limit=1000")  # sampled statistics: seconds cheaper, same plans
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
        if meter:
            meter.step()
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    finally:
        conn.close()
        if pool:
            pool.shutdown(cancel_futures=True)
        part.unlink(missing_ok=True)
    return counts
