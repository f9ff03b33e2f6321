"""Data panel: tables by component (raw ones too), inferred columns, filter, sort, paging, a document's JSON,
links from id fields, `_id` typed anywhere; in the demo and live against the stand-in."""

from PySide6.QtCore import Qt
from sqlalchemy import text

from console.convex.ids import IdMinter
from console.store import browse as B
from console.store.ingest import upsert_raw
from console.ui.main_window import MainWindow
from console.ui.panels.data import find_document
from console.ui.panels.data.panel import DataPanel
from tests.standin_helpers import KEY, standin
from tests.ui.conftest import wait_idle
from tests.ui.test_live import close, run_until


def make(qtbot, ctx):
    panel = DataPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1300, 800)
    panel.show()
    wait_idle(qtbot, ctx)
    return panel


def tree_names(panel):
    out = {}
    for i in range(panel.tree.topLevelItemCount()):
        group = panel.tree.topLevelItem(i)
        out[group.text(0)] = [group.child(j).text(0) for j in range(group.childCount())]
    return out


def select_table(qtbot, ctx, panel, name):
    item = next(panel.tree.topLevelItem(i).child(j) for i in range(panel.tree.topLevelItemCount())
                for j in range(panel.tree.topLevelItem(i).childCount())
                if panel.tree.topLevelItem(i).child(j).data(0, 257) and
                panel.tree.topLevelItem(i).child(j).data(0, 257).name == name)
    panel.tree.setCurrentItem(item)
    wait_idle(qtbot, ctx)


def test_tables_grouped_raw_ones_included_and_columns_from_documents(qtbot, ctx, qtmodeltester):
    ids = IdMinter(5)
    with ctx.engine.begin() as c:
        upsert_raw(c, "workpool", "work", [{"_id": ids.new(10300), "_creationTime": 1.0 + i, "fnName": f"f{i}",
                                            "state": {"kind": "pending"}} for i in range(450)])
    panel = make(qtbot, ctx)
    names = tree_names(panel)
    assert {"App", "betterAuth", "workpool"} == set(names)
    assert "users" in names["App"] and names["workpool"] == ["work  (raw)"]
    select_table(qtbot, ctx, panel, "work")
    assert panel.model.COLUMNS == ["_id", "_creationTime", "fnName", "state"]
    assert panel.model.rowCount() == 200 and panel.model.has_more  # paged
    panel.model.fetchMore()
    wait_idle(qtbot, ctx)
    assert panel.model.rowCount() == 400
    qtmodeltester.check(panel.model)
    assert "work: 400 shown of 450" in panel.summary.text()  # exact, no "400+"
    assert panel.model.data(panel.model.index(0, 3)) == '{"kind": "pending"}'


def test_filter_sort_and_a_documents_json(qtbot, ctx):
    panel = make(qtbot, ctx)
    select_table(qtbot, ctx, panel, "users")
    with ctx.engine.connect() as c:
        email = c.execute(text("SELECT max(json_extract(doc, '$.email')) FROM users")).scalar()
    email_col = panel.model.COLUMNS.index("email")
    panel.table.horizontalHeader().setSortIndicator(email_col, Qt.SortOrder.DescendingOrder)
    wait_idle(qtbot, ctx)
    assert panel.model.query.sort == "email" and panel.model.query.descending
    assert panel.model.rows[0].doc["email"] == email
    panel.field.setCurrentText("email")
    panel.op.setCurrentIndex(panel.op.findData("contains"))
    panel.value.setText(email.split("@")[0].upper())
    panel.apply_filter()
    wait_idle(qtbot, ctx)
    assert panel.model.rowCount() >= 1 and all(email.split("@")[0] in r.doc["email"] for r in panel.model.rows)
    panel.table.selectRow(0)
    wait_idle(qtbot, ctx)
    assert '"email":' in panel.json.toPlainText() and panel.json.isReadOnly()
    panel.clear_filter()
    wait_idle(qtbot, ctx)
    assert not panel.model.query.filters and panel.model.rowCount() == 200


def test_an_id_typed_anywhere_opens_its_document_and_links_follow(qtbot, ctx):
    panel = make(qtbot, ctx)
    with ctx.engine.connect() as c:
        job, user = c.execute(text("SELECT id, user_id FROM jobs WHERE user_id IS NOT NULL LIMIT 1")).one()
        hits = find_document(c, job)
    assert hits and hits[0].panel == "data" and hits[0].target == job
    panel.goto.setText(job)
    panel.goto.returnPressed.emit()
    wait_idle(qtbot, ctx)
    assert panel.model.query.table.name == "jobs" and [r.id for r in panel.model.rows] == [job]
    wait_idle(qtbot, ctx)
    assert panel.json.toPlainText().startswith("{") and job in panel.doc_title.text()
    links = [panel.links.item(i) for i in range(panel.links.count())]
    user_link = next(i for i in links if i.data(256) == user)
    assert "userId → users · " in user_link.text()
    panel._on_link(user_link)
    wait_idle(qtbot, ctx)
    assert panel.model.query.table.name == "users" and panel.model.rows[0].id == user
    panel.back()
    wait_idle(qtbot, ctx)
    assert panel.model.query.table.name == "jobs"
    panel.navigate("nothing-like-an-id")
    assert "Not a Convex id" in panel.summary.text()
    panel.navigate(IdMinter(1).new(10010))
    wait_idle(qtbot, ctx)
    assert "No document with _id" in panel.summary.text()


def test_markup_in_documents_stays_plain_text(qtbot, ctx):
    ids = IdMinter(9)
    evil = '<img src="/dev/zero"><b>bold</b>'
    with ctx.engine.begin() as c:
        upsert_raw(c, "", "notes", [{"_id": ids.new(10400), "_creationTime": 1.0, "body": evil}])
    panel = make(qtbot, ctx)
    select_table(qtbot, ctx, panel, "notes")
    assert panel.model.data(panel.model.index(0, 2)) == evil
    panel.table.selectRow(0)
    wait_idle(qtbot, ctx)
    assert evil.replace('"', '\\"') in panel.json.toPlainText()
    assert panel.summary.textFormat() == Qt.TextFormat.PlainText and panel.doc_title.textFormat() == Qt.TextFormat.PlainText


def test_live_every_table_of_the_stand_in_including_unmodelled(qtbot, ctx, loop):
    s = standin()
    with s.store.transaction() as tx:
        flag = tx.insert("featureFlags", {"name": "<i>beta</i>", "enabled": True})
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    try:
        from console.client.http import Deployment
        from console.ui.connect import connect_live

        controller = connect_live(window, Deployment(s.url, KEY))
        run_until(loop, lambda: controller.last_state is not None and controller.last_state.status == "live")
        window.show_panel("data")
        panel = window.panels["data"]
        panel.refresh()
        run_until(loop, lambda: not ctx.tasks.busy and "featureFlags  (raw)" in tree_names(panel).get("App", []))
        panel.navigate(flag)
        run_until(loop, lambda: not ctx.tasks.busy and panel.model.rows and panel.model.rows[0].id == flag)
        assert panel.model.query.table == B.TableRef("", "featureFlags")
        assert panel.model.rows[0].doc["name"] == "<i>beta</i>"
    finally:
        close(window, loop, qtbot, ctx, s)


def test_a_filtered_table_says_exactly_how_many_match(qtbot, ctx):
    ids = IdMinter(5)
    with ctx.engine.begin() as c:
        upsert_raw(c, "workpool", "work", [{"_id": ids.new(10300), "_creationTime": 1.0 + i, "fnName": f"f{i}",
                                            "state": {"kind": "pending" if i % 3 else "done"}} for i in range(450)])
    panel = make(qtbot, ctx)
    select_table(qtbot, ctx, panel, "work")
    panel.model.set_query(B.BrowseQuery(panel.model.query.table, (B.FieldFilter("state.kind", "equals", "pending"),)))
    wait_idle(qtbot, ctx)
    assert panel.model.has_more
    qtbot.waitUntil(lambda: "work where state.kind equals pending: 200 shown of 300 ·" in panel.summary.text())


def test_opening_another_table_forgets_the_links_of_the_document_before(qtbot, ctx):
    from console.ui.panels.data.panel import DataPanel

    panel = DataPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: len(panel.tables) > 1, timeout=5000)
    panel.links_label.setText("Links (1)")  # as a document with one id-valued field left it
    first, second = panel.tables[0].ref, panel.tables[1].ref
    panel.open_table(first)
    panel.open_table(second)
    assert panel.links_label.text() == "Links" and panel.links.count() == 0
