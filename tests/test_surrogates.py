"""Lone surrogates ("\ud800": a Python str can hold one, UTF-8 cannot) in what an operator types or what a
hostile server sent: no store query raises, nothing reaches the wire as a crash (issue 14, Low)."""

import asyncio

import httpx
import pytest

from console.client import errors as E
from console.client.client import ConvexClient
from console.client.http import ConvexHttp, Deployment
from console.store import browse, chats, jobs, loghistory, roles, users, webhooks
from console.store.browse import BrowseQuery, FieldFilter, TableRef

HOSTILE = ["\ud800", "a\udfffb", "\udc00\ud800", "name \ud83d", "x@\ud800.com", "+1 415 \udfff 555",
           "\ud800" * 300, "\ud83d\ude00"]  # the last: a surrogate pair spelled as two code points


@pytest.fixture
def conn(engine):
    with engine.connect() as c:
        yield c


@pytest.mark.parametrize("typed", HOSTILE, ids=[f"s{i}" for i in range(len(HOSTILE))])
def test_every_store_query_takes_a_lone_surrogate(conn, typed):
    user_id = conn.execute(users.text("SELECT id FROM users LIMIT 1")).scalar()
    for sort in ("name", "email", "created"):
        users.search(conn, users.UserQuery(text=typed, sort=sort))
    users.search(conn, users.UserQuery(text=typed, role=typed))
    users.quick_find(conn, typed)
    assert users.detail(conn, typed) is None
    users.detail(conn, user_id)
    for q in (jobs.JobQuery(text=typed), jobs.JobQuery(key=typed), jobs.JobQuery(id=typed),
              jobs.JobQuery(type=typed, text=typed)):
        jobs.search(conn, q, now_ms=1)
        jobs.count_matching(conn, q, cap=10, now_ms=1)
        jobs.matching_ids(conn, q, 10, now_ms=1)
    assert jobs.detail(conn, typed) is None
    chats.search_messages(conn, typed)
    chats.search_messages(conn, "hello " + typed, chat_id=typed)
    chats.list_chats(conn, typed)
    chats.latest(conn, typed)
    assert chats.chat_header(conn, typed) is None
    chats.messages_by_id(conn, [typed])
    ref = TableRef("", "users", "users")
    for op in ("equals", "contains", "exists"):
        browse.page(conn, BrowseQuery(ref, (FieldFilter("name", op, typed),)))
        browse.page(conn, BrowseQuery(ref, (FieldFilter(typed, op, typed),)))
        browse.page(conn, BrowseQuery(TableRef("betterAuth", typed), (FieldFilter("x", op, typed),)))
    browse.find_document(conn, typed)
    webhooks.search(conn, webhooks.DeliveryQuery(provider=typed, verdict=typed, text=typed))
    assert webhooks.detail(conn, typed) is None
    loghistory.search(conn, loghistory.LogQuery(function=typed, outcome=typed, request_id=typed, text=typed))
    roles.search(conn, roles.RoleQuery(text=typed))
    roles.search(conn, roles.RoleQuery(text=typed, role=typed, organization_id=typed))
    roles.audit(conn, roles.AuditQuery(actor_id=typed, target_id=typed, action=typed))
    roles.memberships(conn, typed)


def test_a_surrogate_pair_spelled_as_two_code_points_still_finds_its_text(engine, conn):
    """What a lone surrogate becomes is U+FFFD; a pair written as two code points is the character it spells."""
    from sqlalchemy import text

    with engine.begin() as c:
        user_id = c.execute(text("SELECT id FROM users LIMIT 1")).scalar()
        c.execute(text("UPDATE users SET name = 'Smiley 😀 Person' WHERE id = :i"), {"i": user_id})
    rows = users.search(conn, users.UserQuery(text="Smiley \ud83d\ude00")).rows
    assert [r.id for r in rows if r.id == user_id] == [user_id]


def _echo(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"status": "success", "value": None, "logLines": []})


def test_arguments_with_a_lone_surrogate_are_a_typed_error_never_a_crash_on_the_wire():
    """Convex strings are valid Unicode (a Rust String); a lone surrogate cannot go out. The console says so
    with a typed error naming the function, and sends nothing, instead of a UnicodeEncodeError from httpx."""
    sent = []

    def handler(request):
        sent.append(request)
        return _echo(request)

    async def go():
        client = ConvexClient(Deployment("http://deployment.test", "k"), transport=httpx.MockTransport(handler),
                              batching=False)
        http = client.http
        try:
            for args in ({"reason": "\ud800"}, {"filter": {"text": ["ok", "a\udfffb"]}}, {"\ud800key": 1}):
                with pytest.raises(E.InvalidText, match="console:retryJobs.*surrogate"):
                    await client.mutation("console:retryJobs", args)
            with pytest.raises(E.InvalidText, match="surrogate"):
                await client.query("console:searchUsers", {"text": "\udc00"})
            # A query-string parameter from server data (a function name in the metrics probe, say).
            with pytest.raises(E.InvalidText, match="surrogate"):
                await http.request("GET", "/api/app_metrics/udf_rate", params={"path": "jobs:\ud800"})
            assert sent == []
            assert await client.query("console:searchUsers", {"text": "\ud83d\ude00 ok"}) is None
            assert len(sent) == 1 and "😀".encode() in sent[0].content
            with pytest.raises(E.InvalidText, match="Retype"):
                await client.action("console:x", {"t": "\udfff"})
        finally:
            await client.aclose()

    asyncio.run(go())


def test_the_standin_refuses_a_lone_surrogate_escape_as_serde_json_does():
    """Python's json reads "\\ud800" into a str no Convex string can hold (the stand-in then failed with a 500
    or a dropped connection); serde_json refuses it, so the deployment answers 400."""
    from tests.standin_helpers import KEY, standin

    s = standin(seed="none")
    try:
        auth = {"Content-Type": "application/json", "Authorization": "Convex " + KEY}
        for path, body in (("/api/query", b'{"path":"console:whoami","args":{"x":"\\ud800"},"format":"json"}'),
                           ("/api/mutation", b'{"path":"messages:send","args":{"chatId":"\\udc00"},"format":"json"}'),
                           ("/api/query", b'{"path":"\\ud800","args":{},"format":"json"}'),
                           ("/api/query_batch", b'{"queries":[{"path":"a:b","args":{"\\ud800":1}}]}')):
            r = httpx.post(s.url + path, content=body, headers=auth)
            assert (r.status_code, r.json()["code"]) == (400, "BadJsonBody"), (path, r.text)
        r = httpx.get(s.url + "/api/query", params={"path": "console:whoami", "args": '{"x":"\\udfff"}'}, headers=auth)
        assert (r.status_code, r.json()["code"]) == (400, "BadQueryArgs")
        # A surrogate pair written as an escape is one character, as JSON says.
        r = httpx.post(s.url + "/api/query", headers=auth,
                       content=b'{"path":"console:whoami","args":{"x":"\\ud83d\\ude00"},"format":"json"}')
        assert r.status_code == 200 and "😀" in r.json()["errorMessage"]
    finally:
        s.stop()
