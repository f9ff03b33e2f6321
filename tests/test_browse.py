"""The data browser's store: every table (modelled or raw), inferred columns, filters, sorts, keyset pages,
any `_id` found in any table, id-valued fields."""

import json

import pytest
from sqlalchemy import text

from console.convex.ids import IdMinter
from console.store import browse as B
from console.store.ingest import upsert_raw

FLAGS = 10150


def add_raw(engine, n=30, component="", table="featureFlags"):
    ids = IdMinter(3)
    with engine.connect() as c:
        user = c.execute(text("SELECT id FROM users ORDER BY pk LIMIT 1")).scalar()
    docs = []
    for i in range(n):
        doc = {"_id": ids.new(FLAGS), "_creationTime": 1_700_000_000_000.0 + i, "name": f"flag-{i:02d}",
               "enabled": i % 3 == 0, "rollout": float(i * 5), "owner": user}
        if i % 2:
            doc["note"] = f"Ticket OPS-{i}"
        docs.append(doc)
    with engine.begin() as c:
        upsert_raw(c, component, table, docs)
    return docs, user


def ref_of(conn, name, component=""):
    return next(t.ref for t in B.list_tables(conn) if t.ref.name == name and t.ref.component == component)


def test_every_table_is_listed_grouped_by_component_with_counts(engine):
    add_raw(engine, 12)
    add_raw(engine, 3, table="abTests")
    add_raw(engine, 4, component="workpool", table="work")
    add_raw(engine, 2, component="aaa", table="x")
    with engine.connect() as c:
        assert B.raw_tables(c) == [("", "abTests"), ("", "featureFlags"), ("aaa", "x"), ("workpool", "work")]
        tables = B.list_tables(c)
        groups = B.grouped(tables)
        users = c.execute(text("SELECT count(*) FROM users")).scalar()
    by_name = {(t.ref.component, t.ref.name): t for t in tables}
    assert by_name[("", "users")].count == users and by_name[("", "users")].ref.sql_table == "users"
    assert by_name[("", "featureFlags")].count == 12 and by_name[("", "featureFlags")].ref.sql_table is None
    assert by_name[("workpool", "work")].count == 4
    assert set(groups) == {"", "aaa", "betterAuth", "workpool"}
    assert [t.ref.name for t in groups["betterAuth"]] == ["invitation", "member", "organization"]


def test_columns_are_inferred_from_the_documents(engine):
    add_raw(engine)
    with engine.connect() as c:
        cols = B.columns(c, ref_of(c, "featureFlags"))
        user_cols = B.columns(c, ref_of(c, "users"))
    assert cols[:2] == ["_id", "_creationTime"]
    assert {"name", "enabled", "rollout", "owner", "note"} <= set(cols)
    assert "email" in user_cols and "passwordHash" not in user_cols


def all_rows(conn, q, limit=7):
    out, after = [], None
    while True:
        p = B.page(conn, q, after, limit)
        out += p.rows
        if not p.has_more:
            return out
        after = p.cursor


def test_keyset_pages_cover_the_table_once_in_every_sort(engine):
    docs, _ = add_raw(engine, 30)
    with engine.connect() as c:
        ref = ref_of(c, "featureFlags")
        by_id = all_rows(c, B.BrowseQuery(ref))
        assert [r.id for r in by_id] == sorted(d["_id"] for d in docs)
        by_rollout = all_rows(c, B.BrowseQuery(ref, sort="rollout", descending=True))
        assert [r.doc["rollout"] for r in by_rollout] == sorted((d["rollout"] for d in docs), reverse=True)
        # a field only some documents have: missing ones first, none lost, none twice
        by_note = all_rows(c, B.BrowseQuery(ref, sort="note"))
        assert len({r.id for r in by_note}) == 30 and "note" not in by_note[0].doc
        assert all_rows(c, B.BrowseQuery(ref, sort="_creationTime"))[0].doc["name"] == "flag-00"
        users = all_rows(c, B.BrowseQuery(ref_of(c, "users"), sort="email"), limit=100)
        assert len(users) == c.execute(text("SELECT count(*) FROM users")).scalar()


@pytest.mark.parametrize("f, expected", [
    (B.FieldFilter("enabled", "equals", "true"), 10),
    (B.FieldFilter("rollout", "equals", "25"), 1),
    (B.FieldFilter("name", "equals", "flag-07"), 1),
    (B.FieldFilter("name", "equals", '"flag-07"'), 1),
    (B.FieldFilter("note", "contains", "ops-1"), 6),  # 1, 11, 13, 15, 17, 19
    (B.FieldFilter("note", "exists"), 15),
    (B.FieldFilter("nothing", "exists"), 0),
])
def test_filters_equals_contains_exists(engine, f, expected):
    add_raw(engine, 30)
    with engine.connect() as c:
        rows = all_rows(c, B.BrowseQuery(ref_of(c, "featureFlags"), filters=(f,)))
    assert len(rows) == expected


def test_filter_on_a_modelled_table_and_a_nested_field(engine):
    with engine.connect() as c:
        email = c.execute(text("SELECT email FROM users ORDER BY pk LIMIT 1")).scalar()
        rows = all_rows(c, B.BrowseQuery(ref_of(c, "users"), filters=(B.FieldFilter("email", "equals", email),)))
        assert [r.doc["email"] for r in rows] == [email]
        jobs = all_rows(c, B.BrowseQuery(ref_of(c, "jobs"), filters=(B.FieldFilter("payload.userId", "exists"),)),
                        limit=500)
        assert jobs and all("userId" in r.doc["payload"] for r in jobs)


def test_a_field_name_with_quotes_or_dots_in_the_value_is_safe(engine):
    add_raw(engine, 3)
    with engine.connect() as c:
        ref = ref_of(c, "featureFlags")
        assert all_rows(c, B.BrowseQuery(ref, filters=(B.FieldFilter("na'me\"", "equals", "x'); DROP TABLE users;--"),))) == []
        assert c.execute(text("SELECT count(*) FROM users")).scalar() > 0
        with pytest.raises(ValueError, match="unknown filter"):
            B.page(c, B.BrowseQuery(ref, filters=(B.FieldFilter("name", "like", "x"),)))


def test_any_id_finds_its_document_in_any_table(engine):
    docs, user = add_raw(engine, 5)
    add_raw(engine, 2, component="workpool", table="work")
    with engine.connect() as c:
        job = c.execute(text("SELECT id FROM jobs LIMIT 1")).scalar()
        member = c.execute(text("SELECT id FROM members LIMIT 1")).scalar()
        numbers = B.table_numbers(c)
        assert B.find_document(c, docs[2]["_id"], numbers).ref.name == "featureFlags"
        assert B.find_document(c, job, numbers).ref.name == "jobs"
        # betterAuth reuses the app's table numbers: the component's table is still found
        found = B.find_document(c, member, numbers)
        assert (found.ref.component, found.ref.name) == ("betterAuth", "member")
        assert B.find_document(c, "  " + user + " ", numbers).row.doc["_id"] == user
        assert B.find_document(c, "not-an-id", numbers) is None
        assert B.find_document(c, IdMinter(99).new(10001), numbers) is None  # valid id, no such document


def test_id_valued_fields_are_links(engine):
    docs, user = add_raw(engine, 2)
    links = B.id_fields({**docs[0], "nested": {"list": [user, "plain text", 3]}})
    assert ("owner", user) in links and ("nested.list.0", user) in links
    assert all(path != "_id" for path, _ in links)
    assert B.looks_like_id(user) and not B.looks_like_id("hello") and not B.looks_like_id(user[:-1] + "0")


def test_cells_and_json_are_plain_text(engine):
    assert B.cell_text({"a": [1, 2]}) == '{"a": [1, 2]}'
    assert B.cell_text("<b>x</b>\nline") == "<b>x</b> line"
    assert B.cell_text(None) == ""
    assert len(B.cell_text("x" * 500)) == 120
    assert json.loads(B.pretty({"b": 1, "a": {"$integer": "AQAAAAAAAAA="}})) == {"b": 1, "a": {"$integer": "AQAAAAAAAAA="}}


def test_a_whole_float64_reads_as_the_dashboard_writes_it():
    """Function answers decode Float64 as float: "retrying": 1000.0 and "opsVersion": 1.0 read oddly."""
    from console.store.browse import pretty

    text = pretty({"counts": {"retrying": 1000.0, "rate": 0.25}, "opsVersion": 1.0, "ids": [2.0, 3], "n": 7})
    assert '"retrying": 1000,' in text and '"rate": 0.25' in text and '"opsVersion": 1,' in text
    assert "2.0" not in text and '"n": 7' in text
