"""Every write path's change reaches exactly the panels that show what it wrote (issue 13).

A window with every data panel built and something open in each (a user's detail, another user's job,
a delivery, a chat); each write goes through the path the app uses (the backend, the store, the capture
of another process) and its change set through the one bridge. A panel is "reached" when it redrew a
part (`Panel.redraws`) or, hidden, marked the part stale for its next show (`Panel.stale`)."""

import time

import pytest
from sqlalchemy import text

from tests.ui.conftest import wait_idle

PANELS = ("users", "jobs", "roles", "webhooks", "chats", "data")


def one(conn, sql, **params):
    return conn.execute(text(sql), params).first()


@pytest.fixture
def scene(qtbot, ctx, window):
    ctx.settings.operator_user_id = None
    with ctx.engine.connect() as c:
        admin = one(c, "SELECT id FROM users WHERE role = 'admin' AND is_active ORDER BY id LIMIT 1").id
        ctx.settings.operator_user_id = admin
        now = int(time.time() * 1000)
        a = one(c, "SELECT u.id FROM users u WHERE u.is_active AND u.role = 'user' AND EXISTS (SELECT 1 FROM "
                   "sessions s WHERE s.user_id = u.id AND s.active) AND EXISTS (SELECT 1 FROM jobs j WHERE "
                   "j.user_id = u.id AND j.status IN ('failed','dead')) ORDER BY u.id LIMIT 1").id
        b_job = one(c, "SELECT id, user_id FROM jobs WHERE status IN ('failed','dead') AND user_id IS NOT NULL "
                       "AND user_id <> :a ORDER BY id LIMIT 1", a=a)
        a_job = one(c, "SELECT id FROM jobs WHERE status IN ('failed','dead') AND user_id = :a LIMIT 1", a=a).id
        other_job = one(c, "SELECT id FROM jobs WHERE status IN ('failed','dead') AND user_id NOT IN (:a, :b) "
                           "AND id <> :j ORDER BY id LIMIT 1", a=a, b=b_job.user_id, j=b_job.id).id
        e_session = one(c, "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.active AND "
                           "s.user_id NOT IN (:a, :b) AND u.is_active ORDER BY s.id LIMIT 1", a=a, b=b_job.user_id).id
        a_session = one(c, "SELECT id FROM sessions WHERE user_id = :a AND active LIMIT 1", a=a).id
        delivery = one(c, "SELECT id FROM webhook_deliveries WHERE job_id IS NULL OR job_id NOT IN (:j1, :j2, :j3) "
                          "ORDER BY received_at DESC LIMIT 1", j1=b_job.id, j2=a_job, j3=other_job).id
        chat = one(c, "SELECT id FROM chats WHERE user_id <> :a ORDER BY updated_at DESC LIMIT 1", a=a).id
    with ctx.engine.begin() as c:  # the demo's moment is in the past: these two sessions run until tomorrow
        later = now + 86_400_000
        c.execute(text("UPDATE sessions SET expires_at = :t, doc = json_set(doc, '$.expiresAt', :t) "
                       "WHERE id IN (:s1, :s2)"), {"t": later, "s1": e_session, "s2": a_session})
    for key in PANELS:
        window.show_panel(key)
        wait_idle(qtbot, ctx)
    p = window.panels
    p["users"].navigate(a)
    qtbot.waitUntil(lambda: p["users"].detail.detail is not None and p["users"].detail.detail.user["id"] == a)
    p["jobs"].show_job(b_job.id)
    qtbot.waitUntil(lambda: p["jobs"].detail.detail is not None and p["jobs"].detail.detail.job["id"] == b_job.id)
    p["webhooks"].show_delivery(delivery)
    qtbot.waitUntil(lambda: p["webhooks"].detail.detail is not None)
    p["chats"].open(chat)
    qtbot.waitUntil(lambda: p["chats"].messages.rowCount() > 0)
    qtbot.waitUntil(lambda: bool(p["data"].tables))
    orgs = next(t.ref for t in p["data"].tables if t.ref.sql_table == "organizations")  # no write below touches it
    p["data"].open_table(orgs)
    window.show_panel("users")
    wait_idle(qtbot, ctx)
    return {"a": a, "a_job": a_job, "b_job": b_job.id, "other_job": other_job, "e_session": e_session,
            "a_session": a_session, "delivery": delivery, "chat": chat, "admin": admin}


def reached(qtbot, ctx, window, write) -> tuple[set[str], list]:
    """Run `write` (a coroutine function or a plain one), wait for its announcement, and say which panels it reached."""
    wait_idle(qtbot, ctx)  # what the scene set off (a first verification, a list load) has landed
    qtbot.wait(300)
    wait_idle(qtbot, ctx)
    for key in PANELS:
        window.panels[key].redraws.clear()
        window.panels[key]._when_seen.clear()
    heard = []
    ctx.data_changed.connect(heard.append)
    try:
        result = write()
        if hasattr(result, "__await__"):
            ctx.tasks.spawn(result)
        qtbot.waitUntil(lambda: bool(heard), timeout=10_000)
        time.sleep(0.05)
        wait_idle(qtbot, ctx)
        qtbot.wait(250)  # (a second change window: nothing more arrives)
        wait_idle(qtbot, ctx)
    finally:
        ctx.data_changed.disconnect(heard.append)
    return {k for k in PANELS if window.panels[k].redraws or window.panels[k].stale}, heard


def announce(ctx, coro):
    async def run():
        outcome = await coro
        ctx.announce(outcome.changes)
    return run()


def test_a_job_retry_reaches_the_jobs_panel_and_the_detail_of_its_user_only(qtbot, ctx, window, scene):
    got, _ = reached(qtbot, ctx, window, lambda: announce(ctx, ctx.backend.retry([scene["other_job"]], "test")))
    assert got == {"jobs"}  # nobody else shows that job
    got, _ = reached(qtbot, ctx, window, lambda: announce(ctx, ctx.backend.retry([scene["b_job"]], "test")))
    assert got == {"jobs"} and window.panels["jobs"].redraws["detail"] + window.panels["jobs"].stale >= 1
    got, _ = reached(qtbot, ctx, window, lambda: announce(ctx, ctx.backend.retry([scene["a_job"]], "test")))
    assert got == {"jobs", "users"}  # the user's detail counts their jobs
    assert window.panels["users"].redraws["detail"] == 1 and not window.panels["users"].redraws["list"]


def test_a_role_change_reaches_users_and_roles(qtbot, ctx, window, scene):
    with ctx.engine.connect() as c:
        row = one(c, "SELECT ts, roles FROM users WHERE id = :a", a=scene["a"])
    got, heard = reached(qtbot, ctx, window, lambda: announce(
        ctx, ctx.backend.set_roles(scene["a"], ["support"], "test: promoted", int(row.ts))))
    assert any(h.touches("users", [scene["a"]]) for h in heard)
    roles_shows_a = scene["a"] in {r.id for r in window.panels["roles"].model.rows}
    assert got == ({"users", "roles"} if roles_shows_a else {"users"})


def test_ending_a_session_reaches_only_the_detail_that_shows_it(qtbot, ctx, window, scene):
    users = window.panels["users"]
    got, _ = reached(qtbot, ctx, window, lambda: users.sessions.end_session(scene["e_session"], "test: other user"))
    assert got == set()  # someone else's session: no panel shows it
    got, _ = reached(qtbot, ctx, window, lambda: users.sessions.end_session(scene["a_session"], "test: theirs"))
    assert got == {"users"} and users.redraws["detail"] == 1


def test_a_replay_record_reaches_the_webhooks_panel_only(qtbot, ctx, window, scene):
    got, _ = reached(qtbot, ctx, window, lambda: announce(ctx, ctx.backend.record_replay(
        scene["delivery"], "http://127.0.0.1:9/hook", "verbatim", 200, 12.0, "ok", "",
        actor=scene["admin"], deployment="", reason="test")))
    assert got == {"webhooks"}


def test_another_process_writing_the_replica_reaches_every_panel_that_shows_its_data(qtbot, ctx, window, scene):
    import subprocess
    import sys

    def other_process():  # what ops-console capture does per delivery: commit, then touch the marker
        code = ("import sqlite3, sys; from console.changes import note_foreign_write; c = sqlite3.connect(sys.argv[1]); "
                "c.execute(\"UPDATE app_meta SET value = value WHERE key = 'schema_version'\"); c.commit(); "
                "note_foreign_write(sys.argv[1])")
        subprocess.run([sys.executable, "-c", code, str(ctx.replica_path)], check=True)

    got, heard = reached(qtbot, ctx, window, other_process)
    assert any("*" in h.whole for h in heard)
    assert got == set(PANELS)  # what changed is unknown: each redraws what it shows (Data says so)


def test_a_demo_worker_tick_reaches_jobs_and_only_the_details_of_the_users_it_touched(qtbot, ctx, window, scene):
    import random

    from console.ui.demo_worker import DemoWorker

    worker = DemoWorker(ctx, failure_rate=0.5)
    worker.rng = random.Random(3)
    worker.incidents = False
    got, heard = reached(qtbot, ctx, window, worker.tick)
    qtbot.waitUntil(lambda: not worker._busy)
    jobs = set().union(*(h.get_ids("jobs") for h in heard))
    assert jobs
    with ctx.engine.connect() as c:
        names = ",".join(f":p{i}" for i in range(len(jobs)))
        owners = {r[0] for r in c.execute(text(f"SELECT user_id FROM jobs WHERE id IN ({names})"),
                                           {f"p{i}": j for i, j in enumerate(jobs)})}
    expected = {"jobs"} | ({"users"} if scene["a"] in owners else set())
    expected |= {"webhooks"} if window.panels["webhooks"].detail.detail and \
        window.panels["webhooks"].detail.detail.job and window.panels["webhooks"].detail.detail.job["id"] in jobs else set()
    assert got == expected
