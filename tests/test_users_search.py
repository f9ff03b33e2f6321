"""User search against the demo replica, checked against direct SQL on the same data."""

import pytest
from sqlalchemy import text

from console.store.users import UserQuery, detail, quick_find, search


@pytest.fixture
def conn(engine):
    with engine.connect() as c:
        yield c


def all_pages(conn, query, limit=37):
    rows, after = [], None
    while True:
        page = search(conn, query, after=after, limit=limit)
        rows.extend(page.rows)
        if not page.has_more:
            return rows
        after = page.cursor


def test_browse_pages_cover_everyone_once_in_name_order(conn):
    rows = all_pages(conn, UserQuery())
    expected = conn.execute(text("SELECT id FROM users ORDER BY name COLLATE NOCASE, pk")).scalars().all()
    assert [r.id for r in rows] == expected


@pytest.mark.parametrize("sort,sql", [("email", "email COLLATE NOCASE, pk"), ("created", "created_at DESC, pk DESC")])
def test_other_sort_orders_page_correctly(conn, sort, sql):
    rows = all_pages(conn, UserQuery(sort=sort))
    assert [r.id for r in rows] == conn.execute(text(f"SELECT id FROM users ORDER BY {sql}")).scalars().all()


def test_email_prefix_is_case_insensitive(conn):
    email = conn.execute(text("SELECT email FROM users WHERE email LIKE '%.%@%' LIMIT 1")).scalar()
    prefix = email.split("@")[0].upper()
    rows = all_pages(conn, UserQuery(text=prefix))
    assert email in [r.email for r in rows]
    assert all(r.email.lower().startswith(prefix.lower()) or prefix.lower().split(".")[0] in r.name.lower()
               or prefix.lower().split(".")[0] in r.email.lower() for r in rows)


def test_full_email_finds_exactly_that_user(conn):
    email, uid = conn.execute(text("SELECT email, id FROM users ORDER BY pk DESC LIMIT 1")).one()
    rows = search(conn, UserQuery(text=email)).rows
    assert [r.id for r in rows] == [uid]


def test_name_words_in_any_order_and_prefixes(conn):
    name, uid = conn.execute(text("SELECT name, id FROM users WHERE name LIKE '% %' ORDER BY pk LIMIT 1 OFFSET 40")).one()
    first, last = name.split(" ", 1)
    for q in (name, f"{last} {first}", f"{first[:3]} {last[:3]}"):
        assert uid in [r.id for r in all_pages(conn, UserQuery(text=q))], q


def test_accents_do_not_matter(conn):
    uid = conn.execute(text("SELECT id FROM users WHERE name LIKE '%é%' OR name LIKE '%ö%' OR name LIKE '%ñ%' "
                            "OR name LIKE '%ü%' LIMIT 1")).scalar()
    if uid is None:
        pytest.skip("no accented name in this demo set")
    name = conn.execute(text("SELECT name FROM users WHERE id=:i"), {"i": uid}).scalar()
    plain = name.translate(str.maketrans("éöñü", "eonu"))
    assert uid in [r.id for r in all_pages(conn, UserQuery(text=plain))]


def test_phone_digits_in_any_format(conn):
    phone, uid = conn.execute(text("SELECT phone, id FROM users WHERE phone LIKE '+1%' LIMIT 1")).one()
    national = phone[2:]
    formatted = f"({national[:3]}) {national[3:6]}-{national[6:]}"
    for q in (phone, national, formatted, national[:7]):
        assert uid in [r.id for r in all_pages(conn, UserQuery(text=q))], q


def test_role_and_status_filters_match_sql(conn):
    admins = all_pages(conn, UserQuery(role="admin"))
    expected = conn.execute(text("SELECT id FROM users WHERE roles LIKE '%\"admin\"%' ORDER BY name, pk")).scalars().all()
    assert [r.id for r in admins] == expected and expected
    inactive = all_pages(conn, UserQuery(active=False))
    assert {r.id for r in inactive} == set(conn.execute(text("SELECT id FROM users WHERE NOT is_active")).scalars())
    assert all(not r.is_active for r in inactive)
    customers = all_pages(conn, UserQuery(text="a", role="user", active=True), limit=50)
    assert customers and all(r.is_active and "admin" not in r.roles for r in customers)


def test_nothing_found_and_punctuation_only(conn):
    assert search(conn, UserQuery(text="zzqqxx")).rows == []
    assert search(conn, UserQuery(text="%%%")).rows == []
    assert search(conn, UserQuery(text='"')).rows == []


def test_detail_has_everything_about_a_user(conn):
    uid = conn.execute(text(
        "SELECT u.id FROM users u WHERE EXISTS (SELECT 1 FROM members m WHERE m.user_id=u.id) "
        "AND EXISTS (SELECT 1 FROM sessions s WHERE s.user_id=u.id) AND EXISTS (SELECT 1 FROM chats c WHERE c.user_id=u.id)"
        " AND EXISTS (SELECT 1 FROM billing_accounts b WHERE b.user_id=u.id) LIMIT 1")).scalar()
    d = detail(conn, uid)
    assert d.user["id"] == uid
    assert d.organizations and d.organizations[0]["name"]
    assert d.profile and d.profile["burnout_band"] in {"low", "moderate", "high", "severe"}
    assert d.billing and d.billing["stripe_customer_id"].startswith("cus_")
    assert d.conversation is not None
    assert d.sessions and all("token_hint" in s for s in d.sessions)
    assert [s["active"] for s in d.sessions] == sorted((s["active"] for s in d.sessions), reverse=True)
    assert d.chats_count == conn.execute(text("SELECT count(*) FROM chats WHERE user_id=:u"), {"u": uid}).scalar()
    assert sum(d.jobs_by_status.values()) == conn.execute(
        text("SELECT count(*) FROM jobs WHERE user_id=:u"), {"u": uid}).scalar()


def test_detail_of_deactivated_user_has_the_audit_entry(conn):
    uid = conn.execute(text("SELECT id FROM users WHERE NOT is_active LIMIT 1")).scalar()
    d = detail(conn, uid)
    assert not d.user["is_active"]
    entry = next(a for a in d.audit if a["action"] == "user.deactivate")
    assert entry["actor_name"] and entry["reason"]


def test_unknown_user_detail_is_none(conn):
    assert detail(conn, "nosuchid") is None


def test_quick_find_puts_exact_email_first(conn):
    email, uid = conn.execute(text("SELECT email, id FROM users ORDER BY pk LIMIT 1 OFFSET 99")).one()
    assert quick_find(conn, email.upper())[0].id == uid
    assert quick_find(conn, "   ") == []


# -- finding a user by the ids support is handed -------------------------------------------------

def _found(conn, q):
    return [r.id for r in search(conn, UserQuery(text=q)).rows]


def test_find_by_users_id_external_id_and_stripe_customer(conn):
    uid, ext = conn.execute(text("SELECT id, external_id FROM users WHERE external_id IS NOT NULL "
                                 "ORDER BY pk LIMIT 1 OFFSET 17")).one()
    assert _found(conn, uid) == [uid]
    assert _found(conn, ext) == [uid]
    buid, cus = conn.execute(text("SELECT user_id, stripe_customer_id FROM billing_accounts "
                                  "ORDER BY pk LIMIT 1 OFFSET 5")).one()
    assert cus.startswith("cus_") and _found(conn, cus) == [buid]
    assert quick_find(conn, cus)[0].id == buid
    assert quick_find(conn, f"  {uid} ")[0].id == uid
    # Near misses find nothing: these are exact identifiers, not prefixes.
    assert _found(conn, uid[:-1]) == [] and _found(conn, cus + "x") == []


def test_find_by_session_token_hint_or_whole_token(conn, engine):
    from console.store.ingest import upsert_documents
    from console.store.mapping import BY_SOURCE

    suid, hint = conn.execute(text("SELECT user_id, token_hint FROM sessions ORDER BY pk LIMIT 1 OFFSET 9")).one()
    assert "…" in hint and suid in _found(conn, hint)
    assert suid in _found(conn, hint.replace("…", "..."))  # typed with three dots
    # The replica holds only the hint and the token's hash: the whole token, pasted, finds its user.
    token = "sess_" + "Q" * 30 + "support1"
    with engine.begin() as c:
        upsert_documents(c, BY_SOURCE[("", "sessions")], [{
            "_id": "k" * 31 + "s", "_creationTime": 1.0, "_ts": 1, "userId": suid, "token": token,
            "isActive": True}])
    with engine.connect() as c:
        assert suid in _found(c, token)
        assert c.execute(text("SELECT count(*) FROM sessions WHERE token_hint = :t OR doc LIKE :l"),
                         {"t": token, "l": f"%{token}%"}).scalar() == 0


def test_id_lookups_use_indexes(conn):
    sql = ("EXPLAIN QUERY PLAN SELECT pk FROM users WHERE external_id = 'x' UNION SELECT u.pk FROM sessions s "
           "CROSS JOIN users u ON u.id = s.user_id WHERE s.token_hint = 'x' OR s.token_sha256 = 'y' "
           "UNION SELECT u.pk FROM billing_accounts b CROSS JOIN users u ON u.id = b.user_id "
           "WHERE b.stripe_customer_id = 'x'")
    plan = " | ".join(r[-1] for r in conn.execute(text(sql)))
    assert "SCAN" not in plan.replace("SCAN CONSTANT", ""), plan


def test_phone_by_local_number_or_last_four_digits(conn):
    """Support staff type the local number ("555-7868") or the last four digits ("7868")."""
    phone, uid = conn.execute(text("SELECT phone, id FROM users WHERE phone LIKE '+1%' LIMIT 1")).one()
    digits = "".join(ch for ch in phone if ch.isdigit())
    local = f"{digits[-7:-4]}-{digits[-4:]}"
    for q in (local, digits[-7:], digits[-4:]):
        assert uid in [r.id for r in all_pages(conn, UserQuery(text=q))], q
