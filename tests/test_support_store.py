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
