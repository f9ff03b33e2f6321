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
