"""Chats panel: browse conversations; hovering a chat prefetches it, so opening it is instant."""

from __future__ import annotations

import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QSettings, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import text

from console.chats.cache import PrefetchCache
from console.changes import ANY
from console.chats.loader import PAGE, ChatLoader, OnDemandSource, ReplicaSource, SimulatedOnDemand
from console.store.chats import (
    Message,
    MessagePage,
    all_messages,
    chat_header,
    export_json,
    export_markdown,
    highlight_terms,
    messages_by_id,
    page_around,
    search_messages,
)
from console.store.users import quick_find
from console.ui.context import AppContext
from console.ui.elide import token
from console.ui.keys import search_leads_to
from console.ui.format import count, local_time
from console.ui.panel import Panel
from console.ui.plain import esc
from console.ui.panels.chats.models import BubbleDelegate, ChatsModel, MessagesModel


SEARCH_LIMIT = 100  # message search hits shown, best first


class ChatsPanel(Panel):
    key = "chats"
    title = "Chats"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        s = ctx.settings
        self.cache = PrefetchCache(ttl=s.chat_cache_ttl_s)
        self.loader = ChatLoader(self._source(simulated=False), self.cache, prefetch=s.chat_prefetch,
                                 submit=ctx.tasks.submit)
        self.open_chat: str | None = None
        self.opened_at = 0.0
        self.last_open_ms: float | None = None
        self.user_filter: str | None = None

        self.user_label = QLabel("All chats")
        self.user_label.setTextFormat(Qt.TextFormat.RichText)  # our markup, the data escaped
        self.clear_user = QPushButton("Show all chats")
        self.clear_user.clicked.connect(lambda: self.show_user(None))
        self.clear_user.hide()  # shown while the list is one user's
        self.user_pick = QLineEdit(placeholderText="a user's chats: email, name or phone, then Enter")
        self.user_pick.setObjectName("chat-user-pick")
        self.user_pick.returnPressed.connect(self.pick_user)
        self.title_filter = QLineEdit(placeholderText="filter by title…")
        self.title_filter.setClearButtonEnabled(True)
        self.title_filter.textChanged.connect(lambda _t: self._filter_timer.start())
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(250)
        self._filter_timer.timeout.connect(self.apply_query)

        self.chats = ChatsModel(ctx, self.cache)
        self.list = QTableView()
        self.list.setObjectName("chat-list")
        self.list.setModel(self.chats)
        search_leads_to(self.title_filter, self.list)  # Down reaches the results; Tab leaves the table
        self.list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.verticalHeader().hide()
        self.list.verticalHeader().setDefaultSectionSize(24)
        self.list.horizontalHeader().setStretchLastSection(True)
        self.list.setColumnWidth(0, 190)
        self.list.setColumnWidth(1, 140)
        self.list.setMouseTracking(True)
        self.list.entered.connect(self._hovered)
        self.list.selectionModel().currentRowChanged.connect(self._current_changed)
        self.hover_timer = QTimer(self)
        self.hover_timer.setSingleShot(True)
        self.hover_timer.setInterval(s.chat_hover_ms)
        self.hover_timer.timeout.connect(self._hover_elapsed)
        self._hover_chat: str | None = None

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(self.user_label, 1)
        head.addWidget(self.clear_user)
        left_layout.addLayout(head)
        left_layout.addWidget(self.user_pick)
        left_layout.addWidget(self.title_filter)
        left_layout.addWidget(self.list, 1)

        self.search_all = QLineEdit(placeholderText="search every message…   (Ctrl+F)")
        self.search_all.setClearButtonEnabled(True)
        self.search_all.returnPressed.connect(self.run_search)
        self.results = QListWidget()
        self.results.setObjectName("message-search-results")
        self.results.setMaximumHeight(160)
        self.results.hide()
        self.results.itemActivated.connect(self._open_result)
        self.header = QLabel("Pick a chat on the left; hovering one loads it in the background.")
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.linkActivated.connect(lambda link: self.ctx.navigate(*link.split(":", 1)))
        self.find_in_chat = QLineEdit(placeholderText="find in this chat")
        self.find_in_chat.setClearButtonEnabled(True)
        self.find_in_chat.returnPressed.connect(self.find_next)
        self.copy_md = QPushButton("Copy as Markdown")
        self.export_md = QPushButton("Export Markdown…")
        self.export_js = QPushButton("Export JSON…")
        self.copy_md.clicked.connect(lambda: self.export("copy"))
        self.export_md.clicked.connect(lambda: self.export("md"))
        self.export_js.clicked.connect(lambda: self.export("json"))
        tools = QHBoxLayout()
        tools.addWidget(self.find_in_chat, 1)
        for b in (self.copy_md, self.export_md, self.export_js):
            tools.addWidget(b)
        self.messages = MessagesModel()
        self.view = QListView()
        self.view.setObjectName("message-view")
        self.view.setModel(self.messages)
        self.view.setItemDelegate(BubbleDelegate(ctx, self.messages))
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setUniformItemSizes(False)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalScrollBar().valueChanged.connect(self._scrolled)
        # A conversation opened at its newest message stays there while its wrapped rows are laid out (their
        # heights come in lazily, and the bottom moved away from the reader) and when the window is resized;
        # scrolling up lets go.
        self._stick_to_newest = False
        self.view.verticalScrollBar().rangeChanged.connect(self._range_changed)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(6, 0, 0, 0)
        right_layout.addWidget(self.search_all)
        right_layout.addWidget(self.results)
        right_layout.addWidget(self.header)
        right_layout.addLayout(tools)
        right_layout.addWidget(self.view, 1)

        self.prefetch_box = QCheckBox("Prefetch on hover")
        self.prefetch_box.setChecked(s.chat_prefetch)
        self.prefetch_box.toggled.connect(self._toggle_prefetch)
        self.simulate_box = QCheckBox("Simulate on-demand messages (80 ms)")
        self.simulate_box.setToolTip("Read messages as if they were not replicated and came from the deployment, "
                                     "so the effect of prefetching is visible in the demo.")
        self.simulate_box.toggled.connect(self._toggle_simulated)
        self.stats = QLabel()
        self.stats.setTextFormat(Qt.TextFormat.PlainText)
        self.stats.setWordWrap(True)  # a long statistics line must not set the window's minimum width
        bottom = QHBoxLayout()
        bottom.addWidget(self.prefetch_box)
        bottom.addWidget(self.simulate_box)
        bottom.addWidget(self.stats, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setSizes([420, 680])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(bottom)
        self.stats_timer = QTimer(self)
        self.stats_timer.setInterval(1000)
        self.stats_timer.timeout.connect(self.update_stats)
        ctx.data_changed.connect(self.on_data_changed)
        self._set_buttons()
        self.apply_query()
        self.update_stats()

    # -- sources -------------------------------------------------------------------------------------------
    def _source(self, simulated: bool):
        live = self.ctx.live
        if live is not None and ("", "messages") in self.ctx.settings.on_demand():
            return OnDemandSource(live.client)
        return SimulatedOnDemand(self.ctx.engine, 0.08) if simulated else ReplicaSource(self.ctx.engine)

    def _toggle_simulated(self, on: bool) -> None:
        self.loader.close()
        self.cache.clear()
        self.loader = ChatLoader(self._source(simulated=on), self.cache, prefetch=self.prefetch_box.isChecked(),
                                 submit=self.ctx.tasks.submit)
        self.update_stats()

    def _toggle_prefetch(self, on: bool) -> None:
        self.loader.prefetch_enabled = on
        self.update_stats()

    # -- the chat list ------------------------------------------------------------------------------------------
    def show_user(self, user_id: str | None) -> None:
        self.user_filter = user_id
        if user_id is None:
            self.user_label.setText("All chats, newest activity first")
        else:
            def done(name: str | None) -> None:
                self.user_label.setText(f"Chats of <b>{esc(name or user_id)}</b>")

            self.ctx.read(lambda conn: conn.execute(text("SELECT name FROM users WHERE id=:u"), {"u": user_id})
                          .scalar(), done)
        self.clear_user.setVisible(user_id is not None)
        self.apply_query()

    def pick_user(self) -> None:
        """The best match for what was typed (an exact email first), as in quick find."""
        typed = self.user_pick.text().strip()
        if not typed:
            self.show_user(None)
            return

        def done(rows: list) -> None:
            if rows:
                self.show_user(rows[0].id)
            else:
                self.user_label.setText(f"No user matches “{esc(typed)}”")

        self.ctx.read(lambda conn: quick_find(conn, typed, limit=1), done)

    def apply_query(self) -> None:
        self._filter_timer.stop()
        self.chats.set_query((self.user_filter, self.title_filter.text()))

    def _hovered(self, index: QModelIndex) -> None:
        row = self.chats.row_at(index.row())
        if row is not None and row.id != self._hover_chat:
            self._hover_chat = row.id
            self.hover_timer.start()

    def _hover_elapsed(self) -> None:
        chat_id = self._hover_chat
        if chat_id:
            self._watch("prefetch", chat_id, self.loader.prefetch(chat_id))

    def _watch(self, kind: str, chat_id: str, future: Future | None) -> None:
        if future is not None:
            # Loader threads never touch Qt: the runner hands the finished future to the GUI thread.
            self.ctx.tasks.watch(future, lambda f: self._landed(kind, chat_id, f))

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = self.chats.row_at(current.row())
        if row is not None:
            self.open(row.id)

    # -- one chat ------------------------------------------------------------------------------------------------
    def open(self, chat_id: str, jump_to: str | None = None) -> None:
        self.open_chat = chat_id
        self._follow_live(chat_id)
        self.opened_at = time.perf_counter()
        self._jump_to = jump_to
        self._load_header(chat_id)
        result = self.loader.open(chat_id)
        if isinstance(result, MessagePage):
            self._show(chat_id, result)
        else:
            self.messages.clear()
            self.header.setText(self.header.text() + "<br><i>loading…</i>")
            self._watch("open", chat_id, result)
        self.update_stats()

    def _follow_live(self, chat_id: str | None) -> None:
        """On-demand messages in live mode: subscribe to the open chat's latest page, so new and streamed
        messages appear as they commit (the replica holds none of them to learn from)."""
        old = getattr(self, "_live_sub", None)
        if old is not None:
            old.unsubscribe()
            self._live_sub = None
        live = self.ctx.live
        if chat_id is None or live is None or ("", "messages") not in self.ctx.settings.on_demand():
            return
        self._live_sub = live.watch("console:listMessages", {"chatId": chat_id, "limit": float(PAGE)},
                                    lambda value, error: self._live_page(chat_id, value, error))

    def _live_page(self, chat_id: str, value: Any, error: Exception | None) -> None:
        # Called on the GUI thread (the subscription runs on the qasync loop).
        if error is not None or chat_id != self.open_chat or not isinstance(value, dict):
            return
        fresh = [Message(d["_id"], d.get("chatId", chat_id), d.get("role") or "", d.get("body") or "",
                         int(d.get("createdAt") or 0), d.get("clientMessageId")) for d in value.get("page", [])]
        self.cache.invalidate(chat_id)  # the cached page is older than this
        if self.messages.messages:
            self._merge_keep_position(fresh)

    def _landed(self, kind: str, chat_id: str, future: Future) -> None:
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            if kind != "prefetch":
                self.ctx.status_message.emit(f"Could not load the chat: {exc}")
            return
        page = future.result()
        if kind in ("open", "refresh") and chat_id == self.open_chat:
            if kind == "open":
                self._show(chat_id, page)
            else:
                self._merge_keep_position(page.messages)
        elif kind == "older" and chat_id == self.open_chat:
            self._prepend_keep_position(page)
        self.update_stats()

    def _show(self, chat_id: str, page: MessagePage) -> None:
        self.messages.show_page(chat_id, page)
        self.view.scrollToBottom()
        self._stick_to_newest = True
        self.last_open_ms = (time.perf_counter() - self.opened_at) * 1000
        if getattr(self, "_jump_to", None):
            self._jump(self._jump_to)
        self._set_buttons()

    def _load_header(self, chat_id: str) -> None:
        def done(h: dict | None) -> None:
            if h is None or chat_id != self.open_chat:
                return
            self.header.setText(
                f"<b>{esc(h['title'])}</b> · <a href='users:{esc(h['user_id'])}'>{esc(h['name'] or h['user_id'])}</a>"
                f" · {token(count(h['n']) + ' messages')} · started {token(local_time(h['created_at']))}")

        self.ctx.read(lambda conn: chat_header(conn, chat_id), done)

    def _range_changed(self, _low: int, high: int) -> None:
        if self._stick_to_newest:
            self.view.verticalScrollBar().setValue(high)

    def _scrolled(self, value: int) -> None:
        self._stick_to_newest = value >= self.view.verticalScrollBar().maximum() - 4
        if value == 0 and self.messages.has_older and self.messages.messages and self.open_chat:
            before = self.messages.messages[0].created_at
            self.messages.has_older = False  # one older page at a time
            self._watch("older", self.open_chat, self.loader.older(self.open_chat, before))

    def _prepend_keep_position(self, page: MessagePage) -> None:
        bar = self.view.verticalScrollBar()
        before_max = bar.maximum()
        self.messages.prepend(page)
        self.view.doItemsLayout()
        bar.setValue(bar.value() + (bar.maximum() - before_max))  # the message being read stays in place

    def _merge_keep_position(self, fresh: list) -> None:
        bar = self.view.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        value = bar.value()
        if self.messages.merge(fresh):
            self.view.doItemsLayout()
            if at_bottom:
                self.view.scrollToBottom()
            else:
                bar.setValue(value)  # reading older messages: no jump

    # -- search --------------------------------------------------------------------------------------------------
    def run_search(self) -> None:
        q = self.search_all.text().strip()
        self.results.clear()
        if not q:
            self.results.hide()
            return

        def done(hits: list) -> None:
            self.results.clear()
            for h in hits:
                snippet = h.snippet.replace("[[", "«").replace("]]", "»")
                item = QListWidgetItem(f"{h.chat_title} · {h.user_name} · {local_time(h.created_at)}\n    {snippet}")
                item.setData(Qt.ItemDataRole.UserRole, h)
                self.results.addItem(item)
            if not hits:
                self.results.addItem(f"No message matches “{q}”. Words match from their start; try fewer or "
                                     "shorter words.")
            elif len(hits) > SEARCH_LIMIT:
                self.results.takeItem(self.results.count() - 1)  # the probe past the limit
                self.results.addItem(f"Showing the best {SEARCH_LIMIT} matches; more messages match. Add words "
                                     "to narrow the search.")
            self.results.show()

        # One past the limit says whether the search stopped there.
        self.ctx.read(lambda conn: search_messages(conn, q, limit=SEARCH_LIMIT + 1), done)

    def _open_result(self, item: QListWidgetItem) -> None:
        hit = item.data(Qt.ItemDataRole.UserRole)
        if hit is None:
            return
        self.messages.terms = highlight_terms(self.search_all.text())
        engine_read = self.ctx.read
        self.open_chat, self._jump_to = hit.chat_id, hit.message_id
        self._load_header(hit.chat_id)

        def done(page: MessagePage) -> None:
            if self.open_chat == hit.chat_id:
                self.opened_at = time.perf_counter()
                self._show(hit.chat_id, page)

        engine_read(lambda conn: page_around(conn, hit.chat_id, hit.created_at), done)

    def _jump(self, message_id: str) -> None:
        row = self.messages.row_of(message_id)
        if row >= 0:
            index = self.messages.index(row)
            self.view.setCurrentIndex(index)
            self.view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        self._jump_to = None

    def find_next(self) -> None:
        terms = highlight_terms(self.find_in_chat.text())
        self.messages.terms = terms
        self.view.viewport().update()
        if not terms or not self.open_chat:
            return
        start = self.view.currentIndex().row()
        rows = list(range(start - 1, -1, -1)) + list(range(len(self.messages.messages) - 1, start - 1, -1))
        for row in rows:  # newest to oldest, wrapping
            if all(t in self.messages.messages[row].body.lower() for t in terms):
                self._jump(self.messages.messages[row].id)
                return
        chat = self.open_chat
        self.ctx.read(lambda conn: search_messages(conn, self.find_in_chat.text(), chat_id=chat, limit=1),
                      lambda hits: hits and self._open_result_hit(hits[0]))

    def _open_result_hit(self, hit) -> None:
        """A match in an older part of the chat than what is loaded."""
        def done(page: MessagePage) -> None:
            self.opened_at = time.perf_counter()
            self._jump_to = hit.message_id
            self._show(hit.chat_id, page)

        self.ctx.read(lambda conn: page_around(conn, hit.chat_id, hit.created_at), done)

    # -- export ------------------------------------------------------------------------------------------------------
    def _set_buttons(self) -> None:
        on = bool(self.open_chat)
        for b in (self.copy_md, self.export_md, self.export_js, self.find_in_chat):
            b.setEnabled(on)

    def export(self, how: str, path: Path | None = None) -> None:
        chat = self.open_chat
        if not chat:
            return
        if how != "copy" and path is None:
            suffix = "md" if how == "md" else "json"
            name, _ = QFileDialog.getSaveFileName(self, "Export chat", f"chat-{chat}.{suffix}")
            if not name:
                return
            path = Path(name)

        def work(conn) -> str:
            header, msgs = chat_header(conn, chat), all_messages(conn, chat)
            return export_json(header, msgs) if how == "json" else \
                export_markdown(header, msgs, lambda ms: local_time(ms, seconds=True))

        def done(content: str) -> None:
            if how == "copy":
                QGuiApplication.clipboard().setText(content)
                self.ctx.status_message.emit("Copied the chat as Markdown")
            else:
                path.write_text(content, encoding="utf-8")  # type: ignore[union-attr]
                self.ctx.status_message.emit(f"Exported the chat to {path}")

        self.ctx.read(work, done)

    # -- live changes and stats -------------------------------------------------------------------------------------
    def on_data_changed(self, tables: dict) -> None:
        if ANY in getattr(tables, "whole", ()):  # another process wrote: nothing cached can be trusted
            self.cache.clear()
            chat = self.open_chat
            if chat:
                self.when_seen("chat", lambda: chat == self.open_chat and
                               self._watch("refresh", chat, self.loader.refresh(chat)))
            self.when_seen("list", lambda: None if self.chats.loading else self.chats.refresh())
            return
        chats = set(tables.get("chats", ()))
        message_ids = list(tables.get("messages", ()))

        def work(conn) -> tuple[set[str], list]:
            msgs = messages_by_id(conn, message_ids)
            return chats | {m.chat_id for m in msgs}, msgs

        def done(result: tuple[set[str], list]) -> None:
            touched, msgs = result
            for chat_id in touched:
                self.cache.invalidate(chat_id)  # a delta touched it: the next hover or open reads it again
            if self.open_chat in touched:
                chat = self.open_chat
                mine = [m for m in msgs if m.chat_id == chat]

                def redraw_open() -> None:  # its new messages in place, the reading position kept
                    if chat != self.open_chat:
                        return
                    if mine and self.isVisible():
                        self._merge_keep_position(mine)
                    else:  # (hidden: several changes may pile up; one re-read of the page when seen)
                        self._watch("refresh", chat, self.loader.refresh(chat))

                self.when_seen("chat", redraw_open)
            if touched and self.chats.rows:
                self.when_seen("list", lambda: None if self.chats.loading else self.chats.refresh())
            self.update_stats()

        if chats or message_ids:
            self.ctx.read(work, done)

    def update_stats(self) -> None:
        s = self.cache.stats
        ratio = f"{s.hit_ratio * 100:.0f}%" if s.hit_ratio is not None else "–"
        opened = f" · last open {self.last_open_ms:.0f} ms" if self.last_open_ms is not None else ""
        self.stats.setText(f"Source: {self.loader.source.name} · cache {len(self.cache)} chats, "
                           f"{s.hits} hits, {s.misses} misses ({ratio}), {s.prefetches} prefetches, "
                           f"{s.evictions} evictions · backend calls {s.backend_calls}, saved {s.calls_saved}{opened}")

    # -- Panel ----------------------------------------------------------------------------------------------------------
    def on_shown(self) -> None:
        self.stats_timer.start()

    def on_hidden(self) -> None:
        self.stats_timer.stop()
        self.hover_timer.stop()

    def focus_search(self) -> None:
        self.search_all.setFocus()
        self.search_all.selectAll()

    def navigate(self, target: Any) -> None:
        if isinstance(target, dict) and target.get("user"):
            self.show_user(target["user"])
        elif isinstance(target, str):
            self.open(target)

    def reload(self) -> None:
        self._toggle_simulated(self.simulate_box.isChecked())
        self.messages.clear()
        self.open_chat = None
        self._follow_live(None)
        self.apply_query()

    def shutdown(self) -> None:
        self.loader.close()

    def save_state(self, state: QSettings) -> None:
        state.setValue("chats/splitter", self.splitter.saveState())

    def restore_state(self, state: QSettings) -> None:
        if (value := state.value("chats/splitter")) is not None:
            self.splitter.restoreState(value)
