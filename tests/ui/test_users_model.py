from console.store.users import UserQuery
from console.ui.panels.users.model import PAGE, UsersModel
from tests.ui.conftest import wait_idle


def test_model_passes_qtmodeltester(qtmodeltester, qtbot, ctx):
    model = UsersModel(ctx)
    model.set_query(UserQuery())
    wait_idle(qtbot, ctx)
    assert model.rowCount() == PAGE and model.has_more
    qtmodeltester.check(model)
    wait_idle(qtbot, ctx)  # the tester's fetchMore started a page load: let it land while the tester lives


def test_fetch_more_appends_the_next_page_without_duplicates(qtbot, ctx):
    model = UsersModel(ctx)
    model.set_query(UserQuery())
    wait_idle(qtbot, ctx)
    while model.canFetchMore():
        model.fetchMore()
        assert not model.canFetchMore()  # re-entrant calls are ignored while a page loads
        wait_idle(qtbot, ctx)
    ids = [r.id for r in model.rows]
    assert len(ids) == len(set(ids)) == 600


def test_a_stale_page_is_dropped_when_the_query_changes(qtbot, ctx):
    model = UsersModel(ctx)
    model.set_query(UserQuery(text="a"))
    model.set_query(UserQuery(text="zzzznotaname"))
    wait_idle(qtbot, ctx)
    assert model.rowCount() == 0


def test_a_cell_is_painted_in_one_call_with_what_data_gives(qtbot, ctx):
    """multiData answers the delegate's roles in one call into Python; the table it paints is the one that
    data() role by role paints (a deactivated user's strike-out and colours included)."""
    from PySide6.QtCore import QAbstractItemModel
    from PySide6.QtWidgets import QTableView

    calls = {"multi": 0}

    class Counted(UsersModel):
        def multiData(self, index, roles):  # noqa: N802
            calls["multi"] += 1
            super().multiData(index, roles)

    class RoleByRole(UsersModel):
        def multiData(self, index, roles):  # noqa: N802  (Qt's own: one data() call per role)
            QAbstractItemModel.multiData(self, index, roles)

    query = UserQuery(active=False)
    grabs = []
    for cls in (Counted, RoleByRole):
        model = cls(ctx)
        model.set_query(query)
        wait_idle(qtbot, ctx)
        assert model.rowCount() > 0 and not model.rows[0].is_active
        view = QTableView()
        qtbot.addWidget(view)
        view.setModel(model)
        view.resize(900, 300)
        grabs.append(view.grab().toImage())
    assert calls["multi"] >= len(model.COLUMNS) * min(model.rowCount(), 5)  # a call per cell shown, at least
    assert grabs[0] == grabs[1]
