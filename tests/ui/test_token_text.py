"""Issue 15: text never breaks inside a token (IPs, dates, event names, URLs); a token too long for its place is
elided with its full text in a tooltip."""

from PySide6.QtCore import QPoint
from sqlalchemy import text

from console.ui.elide import TokenBrowser, cut_at_word, elide, token, words
from tests.ui.conftest import wait_idle

SPACES = " \u00a0\u2028\n\t"


def broken_tokens(browser) -> list[str]:
    """Every line break of the page that falls between two non-space characters, as 'end|start'."""
    bad = []
    block = browser.document().begin()
    while block.isValid():
        layout, t = block.layout(), block.text()
        for i in range(layout.lineCount() - 1):
            line = layout.lineAt(i)
            end = line.textStart() + line.textLength()
            if 0 < end < len(t) and t[end - 1] not in SPACES and t[end] not in SPACES:
                bad.append(t[max(0, end - 12):end] + "|" + t[end:end + 12])
        block = block.next()
    return bad


def long_users(ctx) -> list[str]:
    """The user with the most sessions and security events, and the one in the most organizations (the
    longest names and slugs first)."""
    with ctx.engine.connect() as c:
        return [c.execute(text(
            "SELECT u.id FROM users u ORDER BY (SELECT count(*) FROM sessions s WHERE s.user_id = u.id)"
            " + (SELECT count(*) FROM security_events e WHERE e.user_id = u.id) DESC LIMIT 1")).scalar(),
            c.execute(text(
                "SELECT m.user_id FROM members m JOIN organizations o ON o.id = m.organization_id GROUP BY m.user_id"
                " ORDER BY count(*) DESC, max(length(o.name) + length(o.slug)) DESC LIMIT 1")).scalar()]


def test_user_detail_never_breaks_inside_a_token_at_1024(qtbot, ctx, window):
    window.resize(1024, 700)
    window.show_panel("users")
    wait_idle(qtbot, ctx)
    panel = window.panels["users"]
    for user_id in long_users(ctx):
        panel.show_user(user_id)
        wait_idle(qtbot, ctx)
        qtbot.waitUntil(lambda: panel.detail.detail is not None and panel.detail.detail.user["id"] == user_id)
        body = panel.detail.body
        qtbot.wait(50)
        assert "Sessions" in body.toPlainText() and "Security events" in body.toPlainText()
        assert broken_tokens(body) == []
        assert body.horizontalScrollBar().maximum() == 0  # nothing wider than the page either


def test_a_long_token_is_elided_with_its_full_text_in_the_tooltip(qtbot):
    url = "https://img.example.com/avatars/" + "a" * 80 + "/<b>face</b>.png"
    browser = TokenBrowser()
    qtbot.addWidget(browser)
    browser.resize(300, 200)
    browser.setHtml(f"<p>Avatar {token(url, 30, 'middle')}</p>")
    browser.show()
    shown = browser.toPlainText()
    assert "…" in shown and "<b>" not in shown and shown.startswith("Avatar https://img") and shown.endswith(".png")
    rect = browser.cursorRect(browser.cursorForPosition(QPoint(0, 0)))
    x = browser.fontMetrics().horizontalAdvance("Avatar https://im")
    assert browser.full_text_at(QPoint(x, rect.center().y())) == url


def test_plain_helpers():
    assert elide("2026-11-30 07:35", 40) == "2026-11-30 07:35"
    assert elide("abcdefghij", 5) == "abcd…" and elide("abcdefghij", 5, "middle") == "ab…ij"
    assert cut_at_word("Thanks, that helps a lot with the evening routine", 24) == "Thanks, that helps a…"
    assert "white-space:nowrap" in token("19.182.99.48") and "&lt;b&gt;" in words("<b>x</b> y")


REPLAYS = [
    ("http://127.0.0.1:8787/webhooks/stripe", "verbatim", 200, 41.0, '{"received": true}', ""),
    ("https://happy-otter-123.convex.site/stripe/webhook?source=console-replay-with-a-long-query", "resigned", 400,
     112.0, "Webhook Error: No signatures found matching the expected signature for payload. Are you passing the "
     "raw request body you received from Stripe?", ""),
    ("https://happy-otter-123.convex.site/stripe/webhook", "edited", None, None, "",
     "ConnectError: [Errno 111] Connection refused"),
]


def a_stripe_delivery_with_replays(ctx) -> str:
    import time

    with ctx.engine.begin() as c:
        did = c.execute(text("SELECT id FROM webhook_deliveries WHERE provider = 'stripe' "
                             "ORDER BY length(endpoint) DESC LIMIT 1")).scalar()
        for i, (target, mode, status, latency, response, error) in enumerate(REPLAYS):
            c.execute(text("INSERT INTO replay_attempts (delivery_id, at, target, mode, status, latency_ms, "
                           "response_excerpt, error) VALUES (:d, :at, :t, :m, :s, :l, :r, :e)"),
                      dict(d=did, at=time.time() - 60 * i, t=target, m=mode, s=status, l=latency, r=response, e=error))
    return did


def test_webhook_replays_and_summary_never_break_inside_a_token_at_1024(qtbot, ctx, window):
    did = a_stripe_delivery_with_replays(ctx)
    window.resize(1024, 700)
    window.show_panel("webhooks")
    wait_idle(qtbot, ctx)
    panel = window.panels["webhooks"]
    panel.navigate(did)
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: panel.detail.detail is not None)
    panel.detail.tabs.setCurrentWidget(panel.detail.replays)
    qtbot.wait(50)
    replays = panel.detail.replays
    assert "Connection refused" in replays.toPlainText() and "http://127.0.0." in replays.toPlainText()
    assert broken_tokens(replays) == [] and broken_tokens(panel.detail.summary) == []
    assert replays.horizontalScrollBar().maximum() == 0
    # The long target is elided in the middle, its full URL in the tooltip.
    assert "…" in replays.toPlainText() and "console-replay-with-a-long-query" not in replays.toPlainText()


def test_delivery_title_never_widens_the_window(qtbot, ctx, window):
    window.show_panel("webhooks")
    wait_idle(qtbot, ctx)
    panel = window.panels["webhooks"]
    title = panel.detail.title
    title.setText("stripe · " + "customer.subscription.trial_will_end." * 6)
    assert title.minimumSizeHint().width() < 200
    window.resize(1024, 700)
    qtbot.wait(20)
    assert window.width() <= 1024 and title.is_elided() and "trial_will_end" in title.toolTip()


def test_verdict_column_fits_every_verdict_and_cut_cells_show_their_full_text(qtbot, ctx, window):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QFontMetrics
    from PySide6.QtWidgets import QStyleOptionViewItem

    from console.ui.elide import MiddleElidingDelegate
    from console.ui.panels.webhooks.panel import VERDICT_TEXTS

    window.resize(1024, 700)
    window.show_panel("webhooks")
    wait_idle(qtbot, ctx)
    panel = window.panels["webhooks"]
    table = panel.table
    widest = max(QFontMetrics(table.font()).horizontalAdvance(v) for v in VERDICT_TEXTS)
    assert "body hash mismatch" in VERDICT_TEXTS and table.columnWidth(4) >= widest + 8
    # ... and on screen, whole, at 1024 px, beside the event it judges
    assert 0 <= table.columnViewportPosition(4) and \
        table.columnViewportPosition(4) + table.columnWidth(4) <= table.viewport().width()
    table.setColumnWidth(6, 80)  # an endpoint column narrower than its URLs: elided in the middle, with a tooltip
    index = panel.model.index(0, 6)
    delegate = table.itemDelegateForIndex(index)
    assert delegate.is_elided(table, index) and isinstance(delegate, MiddleElidingDelegate)
    option = QStyleOptionViewItem()
    delegate.initStyleOption(option, index)
    assert option.textElideMode == Qt.TextElideMode.ElideMiddle
    table.setColumnWidth(6, 600)
    assert not delegate.is_elided(table, index)


def tooltip_over(qtbot, view, index) -> str:
    """What hovering the cell shows."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    QToolTip.hideText()
    pos = view.visualRect(index).center()
    QApplication.sendEvent(view.viewport(), QHelpEvent(QEvent.Type.ToolTip, pos, view.viewport().mapToGlobal(pos)))
    return QToolTip.text() if QToolTip.isVisible() else ""


def test_cut_cells_show_their_full_text_when_hovered(qtbot, ctx, window):
    from PySide6.QtGui import QTextDocument

    def plain(html: str) -> str:
        doc = QTextDocument()
        doc.setHtml(html)
        return doc.toPlainText()

    window.resize(1024, 700)
    for key, column in (("users", 1), ("logs", 6), ("webhooks", 1), ("jobs", 1)):
        window.show_panel(key)
        wait_idle(qtbot, ctx)
        table = window.panels[key].table
        model = table.model()
        row = max(range(min(model.rowCount(), 50)), key=lambda r: len(str(model.index(r, column).data() or "")))
        index = model.index(row, column)
        full = str(index.data())
        table.setColumnWidth(column, 40)
        shown = plain(tooltip_over(qtbot, table, index))
        assert full in shown or (index.data(3) and shown), (key, full, shown)
        table.setColumnWidth(column, 2000)
        assert not table.itemDelegate().is_elided(table, index), key  # whole: no tooltip of ours


def test_job_detail_never_breaks_inside_a_token_at_1024(qtbot, ctx, window):
    with ctx.engine.connect() as c:
        jobs = [c.execute(text("SELECT id FROM jobs ORDER BY length(errors) DESC LIMIT 1")).scalar(),
                c.execute(text("SELECT id FROM jobs WHERE delivery_id IS NOT NULL AND claimed_at IS NOT NULL "
                               "ORDER BY length(key) DESC LIMIT 1")).scalar() or
                c.execute(text("SELECT id FROM jobs WHERE delivery_id IS NOT NULL LIMIT 1")).scalar()]
    window.resize(1024, 700)
    window.show_panel("jobs")
    wait_idle(qtbot, ctx)
    panel = window.panels["jobs"]
    for job_id in jobs:
        panel.navigate(job_id)
        wait_idle(qtbot, ctx)
        qtbot.waitUntil(lambda: panel.detail.detail is not None and panel.detail.detail.job["id"] == job_id)
        qtbot.wait(50)
        body = panel.detail.body
        assert broken_tokens(body) == [], job_id
        assert body.horizontalScrollBar().maximum() == 0


def test_an_elided_token_holds_together_and_reads_without_its_word_joiners(qtbot):
    """Qt breaks even a nowrap span after "/", "-" or "…": an elided token carries invisible word joiners, which
    the text read back does not contain; a token shown whole has none (a copy of it is the value)."""
    from console.ui.elide import WORD_JOINER, TokenBrowser, words

    browser = TokenBrowser()
    qtbot.addWidget(browser)
    url = "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef/Messages.json"
    browser.setHtml(f"<p>POST {words(url)} to https://a.b/c-d failed</p>")
    assert WORD_JOINER not in browser.toPlainText() and "POST https://api.tw" in browser.toPlainText()
    assert "https://a.b/c-d" in browser.document().toPlainText()  # whole: no joiners
    browser.resize(160, 200)
    browser.show()
    qtbot.wait(20)
    assert broken_tokens(browser) == []
