"""Support's store queries on the demo replica: a user's jobs and webhook deliveries, checked against direct SQL."""

import urllib.parse

import pytest
from sqlalchemy import text

from console.store.jobs import JobQuery, count_matching, search as search_jobs
from console.store.webhooks import DeliveryQuery, search as search_deliveries, user_links


@pytest.fixture
def conn(engine):
    with engine.connect() as c:
        yield c


def busiest_user(conn, provider=None):
    where = "AND d.provider = :p" if provider else ""
    return conn.execute(text(
        "SELECT j.user_id FROM jobs j JOIN webhook_deliveries d ON d.id = j.delivery_id "
        f"WHERE j.user_id IS NOT NULL {where} GROUP BY j.user_id ORDER BY count(*) DESC, j.user_id LIMIT 1"),
        {"p": provider}).scalar()


def test_jobs_user_filter_pages_match_sql(conn):
    uid = busiest_user(conn)
    rows, after = [], None
    while True:
        page = search_jobs(conn, JobQuery(user_id=uid), after=after, limit=3)
        rows += page.rows
        if not page.has_more:
            break
        after = page.cursor
    expected = conn.execute(text("SELECT id FROM jobs WHERE user_id = :u ORDER BY created_at DESC, pk DESC"),
                            {"u": uid}).scalars().all()
    assert [r.id for r in rows] == expected and len(expected) >= 2
    assert count_matching(conn, JobQuery(user_id=uid), cap=1000) == len(expected)
    status = conn.execute(text("SELECT status FROM jobs WHERE user_id = :u LIMIT 1"), {"u": uid}).scalar()
    both = search_jobs(conn, JobQuery(user_id=uid, status=status)).rows
    assert both and all(r.status == status for r in both) and {r.id for r in both} <= set(expected)


def test_jobs_user_filter_uses_the_index(conn):
    plan = " ".join(r[-1] for r in conn.execute(text(
        "EXPLAIN QUERY PLAN SELECT id FROM jobs j WHERE j.user_id = 'x' ORDER BY created_at DESC")))
    assert "by_job_user" in plan, plan


def test_deliveries_of_a_user_via_their_jobs_and_identifiers(conn):
    uid = busiest_user(conn, "stripe")
    got = {r.id for r in search_deliveries(conn, DeliveryQuery(user_id=uid), limit=1000).rows}
    linked = set(conn.execute(text("SELECT delivery_id FROM jobs WHERE user_id = :u AND delivery_id IS NOT NULL"),
                              {"u": uid}).scalars())
    assert linked and linked <= got
    links = user_links(conn, uid)
    cus = conn.execute(text("SELECT stripe_customer_id FROM billing_accounts WHERE user_id = :u"), {"u": uid}).scalar()
    if cus:
        assert cus in links
    # Every delivery found is linked by a job or names one of the user's identifiers in its body.
    for did in got - linked:
        body = conn.execute(text("SELECT CAST(body AS TEXT) FROM webhook_deliveries WHERE id = :d"), {"d": did}).scalar()
        assert any(n in body for n in links), did
    # The demo's Stripe events name the customer's id, Twilio's the sender's phone.
    stripe = conn.execute(text("SELECT CAST(d.body AS TEXT) FROM jobs j JOIN webhook_deliveries d ON d.id = j.delivery_id "
                               "WHERE j.user_id = :u AND d.provider = 'stripe' LIMIT 1"), {"u": uid}).scalar()
    if stripe and cus:
        assert cus in stripe


def test_twilio_phone_links_as_posted(conn):
    uid, phone = conn.execute(text("SELECT id, phone FROM users WHERE phone IS NOT NULL LIMIT 1")).one()
    assert urllib.parse.quote_plus(phone) in user_links(conn, uid)


def test_deliveries_user_filter_with_provider_and_unknown_user(conn):
    uid = busiest_user(conn)
    rows = search_deliveries(conn, DeliveryQuery(user_id=uid, provider="twilio"), limit=1000).rows
    assert all(r.provider == "twilio" for r in rows)
    assert search_deliveries(conn, DeliveryQuery(user_id="nosuchuser")).rows == []


# -- ending sessions in the demo (the local store follows the contract's rules) -----------------------

from console.store.jobstore import Refused  # noqa: E402
from console.store.sessions import LocalSessionStore  # noqa: E402


def _staff(conn, role):
    return conn.execute(text("SELECT u.id FROM users u JOIN user_roles r ON r.user_pk = u.pk WHERE r.role = :r "
                             "AND u.is_active ORDER BY u.pk LIMIT 1"), {"r": role}).scalar()


def _user_with_live_sessions(conn, n=2):
    """A customer with `n` live sessions now: the demo replica was made at a fixed past moment, so its sessions
    have expired by the wall clock; these are added through ingest as sync would."""
    return live_sessions(conn.engine, n)


def live_sessions(engine, n=2, user_id=None):
    import time

    from console.store.ingest import upsert_documents
    from console.store.mapping import BY_SOURCE

    with engine.begin() as c:
        uid = user_id or c.execute(text("SELECT id FROM users WHERE role = 'user' AND is_active ORDER BY pk "
                                        "LIMIT 1 OFFSET 7")).scalar()
        now = int(time.time() * 1000)
        upsert_documents(c, BY_SOURCE[("", "sessions")], [{
            "_id": f"{'s' * 28}{i:03d}{uid[-1]}", "_creationTime": float(now - 1000), "_ts": time.time_ns(),
            "userId": uid, "token": f"sess_{uid}{i:04d}live", "isActive": True, "createdAt": now - 1000,
            "lastActivityAt": now - 500, "expiresAt": now + 86_400_000, "ipAddress": "203.0.113.7"} for i in range(n)])
    return uid


def test_support_ends_one_session_audited_on_the_user(engine, conn):
    support = _staff(conn, "support")
    uid = _user_with_live_sessions(conn)
    sid, hint, sha = conn.execute(text("SELECT id, token_hint, token_sha256 FROM sessions WHERE user_id = :u AND active "
                                       "AND expires_at > :now ORDER BY id LIMIT 1"), {"u": uid, "now": int(__import__("time").time() * 1000)}).one()
    out = LocalSessionStore(engine).end_session(sid, support, "suspicious login")
    assert out == {"sessionId": sid, "userId": uid, "ended": 1}
    with engine.connect() as c:
        row = c.execute(text("SELECT active, token_hint, token_sha256, expires_at, doc FROM sessions WHERE id = :s"),
                        {"s": sid}).one()
        assert not row[0] and row[1] == hint and row[2] == sha  # the hint and hash survive the write-back
        assert row[3] <= int(__import__("time").time() * 1000)
        audit = c.execute(text("SELECT action, actor_user_id, reason, changes FROM audit_logs WHERE resource = 'users' "
                               "AND resource_id = :u ORDER BY at DESC LIMIT 1"), {"u": uid}).one()
    assert audit[:3] == ("session.end", support, "suspicious login") and sid in audit[3]
    with pytest.raises(Refused, match="already ended"):
        LocalSessionStore(engine).end_session(sid, support, "again")


def test_end_all_sessions_of_a_user(engine, conn):
    admin = _staff(conn, "admin")
    uid = _user_with_live_sessions(conn)
    live = set(conn.execute(text("SELECT id FROM sessions WHERE user_id = :u AND active AND expires_at > :now"),
                            {"u": uid, "now": int(__import__("time").time() * 1000)}).scalars())
    out = LocalSessionStore(engine).end_user_sessions(uid, admin, "account takeover")
    assert set(out["sessionIds"]) == live and out["ended"] == len(live)
    with engine.connect() as c:
        # Sessions past their expiry had ended already: they are left as they are.
        assert c.execute(text("SELECT count(*) FROM sessions WHERE user_id = :u AND active AND expires_at > :now"),
                         {"u": uid, "now": int(__import__("time").time() * 1000)}).scalar() == 0
        n = c.execute(text("SELECT count(*) FROM audit_logs WHERE action = 'user.end_sessions' AND resource_id = :u"),
                      {"u": uid}).scalar()
    assert n == 1
    with pytest.raises(Refused, match="no active sessions"):
        LocalSessionStore(engine).end_user_sessions(uid, admin, "again")


def test_ending_sessions_needs_the_permission_and_a_reason(engine, conn):
    customer = conn.execute(text("SELECT id FROM users WHERE role = 'user' AND is_active AND permissions = '[]' "
                                 "ORDER BY pk LIMIT 1")).scalar()
    uid = _user_with_live_sessions(conn)
    store = LocalSessionStore(engine)
    with pytest.raises(Refused, match=r"may not end sessions \(needs sessions:revoke\)"):
        store.end_user_sessions(uid, customer, "r")
    with pytest.raises(Refused, match="needs a reason"):
        store.end_user_sessions(uid, _staff(conn, "support"), "  ")
    with pytest.raises(Refused, match="No operator identity"):
        store.end_user_sessions(uid, None, "r")
    with pytest.raises(Refused, match="No session with id"):
        store.end_session("nosuchsession", _staff(conn, "support"), "r")
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM sessions WHERE user_id = :u AND active"), {"u": uid}).scalar() > 0


# -- the user timeline ---------------------------------------------------------------------------

from console.store.timeline import KINDS, timeline  # noqa: E402


def _rich_user(conn):
    return conn.execute(text(
        "SELECT u.id FROM users u WHERE EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id) "
        "AND EXISTS (SELECT 1 FROM security_events e WHERE e.user_id = u.id) "
        "AND EXISTS (SELECT 1 FROM chats c WHERE c.user_id = u.id) "
        "AND EXISTS (SELECT 1 FROM jobs j WHERE j.user_id = u.id AND j.delivery_id IS NOT NULL) ORDER BY u.pk LIMIT 1")).scalar()


def test_timeline_merges_every_source_newest_first(conn):
    uid = _rich_user(conn)
    events = timeline(conn, uid, limit=10_000)
    assert [e.at for e in events] == sorted((e.at for e in events), reverse=True)
    kinds = {e.kind for e in events}
    assert {"session", "security", "job", "delivery", "message"} <= kinds
    n = lambda sql: conn.execute(text(sql), {"u": uid}).scalar()  # noqa: E731
    assert sum(e.kind == "security" for e in events) == n("SELECT count(*) FROM security_events WHERE user_id = :u")
    assert sum(e.kind == "job" for e in events) == n("SELECT count(*) FROM jobs WHERE user_id = :u")
    assert sum(e.kind == "message" for e in events) == n(
        "SELECT count(*) FROM messages m JOIN chats c ON c.id = m.chat_id WHERE c.user_id = :u")
    assert sum(e.kind == "session" for e in events) >= n("SELECT count(*) FROM sessions WHERE user_id = :u")
    job = next(e for e in events if e.kind == "job")
    assert job.panel == "jobs" and n("SELECT count(*) FROM jobs WHERE id = '%s'" % job.target) == 1


def test_timeline_filters_by_kind_and_pages_before(conn):
    uid = _rich_user(conn)
    only = timeline(conn, uid, {"security", "job"}, limit=10_000)
    assert only and {e.kind for e in only} <= {"security", "job"}
    full = [e for e in timeline(conn, uid, limit=10_000) if e.kind in ("security", "job")]
    assert only == full
    first = timeline(conn, uid, limit=3)
    rest = timeline(conn, uid, before=first[-1].at, limit=10_000)
    assert all(e.at < first[-1].at for e in rest)
    assert len(first) == 3 and first == timeline(conn, uid, limit=10_000)[:3]


def test_timeline_shows_audit_entries_and_invitations(conn, engine):
    uid = conn.execute(text("SELECT id FROM users WHERE NOT is_active LIMIT 1")).scalar()
    assert any(e.kind == "audit" and "user.deactivate" in e.title for e in timeline(conn, uid))
    email, org = conn.execute(text("SELECT i.email, o.name FROM invitations i JOIN organizations o "
                                   "ON o.id = i.organization_id LIMIT 1")).one()
    # Give a user the invited address: the invitation shows in their timeline.
    from console.store.ingest import upsert_documents
    from console.store.mapping import BY_SOURCE
    import json as _json

    row = conn.execute(text("SELECT doc, ts FROM users WHERE id = :u"), {"u": uid}).one()
    with engine.begin() as c:
        upsert_documents(c, BY_SOURCE[("", "users")], [{**_json.loads(row[0]), "email": email, "_ts": row[1] + 1}])
    with engine.connect() as c:
        invited = [e for e in timeline(c, uid) if e.kind == "invitation"]
    assert invited and org in invited[0].title


def test_timeline_of_unknown_user_is_empty(conn):
    assert timeline(conn, "nosuchuser") == []
    assert set(KINDS) == {"session", "security", "audit", "job", "delivery", "message", "invitation"}


def test_the_demos_members_joined_by_invitation_and_some_users_have_one_waiting(conn):
    """Better Auth members come in by accepting an invitation: the demo's timelines show them, and a few
    customers have an invitation pending for another organization."""
    accepted = conn.execute(text(
        "SELECT m.user_id, o.name FROM members m JOIN users u ON u.id = m.user_id JOIN invitations i "
        "ON i.email = u.email AND i.organization_id = m.organization_id AND i.status = 'accepted' "
        "JOIN organizations o ON o.id = m.organization_id ORDER BY m.user_id LIMIT 1")).one()
    events = [e for e in timeline(conn, accepted[0]) if e.kind == "invitation"]
    assert any(accepted[1] in e.title and "(accepted)" in e.title for e in events)
    pending = conn.execute(text(
        "SELECT count(*) FROM invitations i JOIN users u ON u.email = i.email WHERE i.status = 'pending' AND NOT "
        "EXISTS (SELECT 1 FROM members m WHERE m.user_id = u.id AND m.organization_id = i.organization_id)")).scalar()
    assert pending > 0
