"""Functions panel: run one of the deployment's functions and read its value, error data and log lines.

Live: the deployment's function list when it offers one (`_system/cli/modules:apiSpec`), else a typed path
with history; queries run at once, mutations and actions ask first, are refused on production unless
Settings allow it, and land in the console's local audit. Demo: read-only queries over the replica.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QFontDatabase, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import text

from console import runner as R
from console.store import console_audit
from console.store.browse import looks_like_id
from console.ui.context import AppContext
from console.ui.empty import EmptyState
from console.ui.format import local_time
from console.ui.panel import Panel
from console.ui.plain import esc
from console.ui.reason import ask_reason

HISTORY_KEY = "functions/history"
HISTORY_MAX = 30
ADMIN, AS_USER = "admin", "user"


class FunctionsPanel(Panel):
    key = "functions"
    title = "Functions"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.specs: dict[str, R.FunctionSpec] = {}
        self.spec_source = ""
        self.last_result: R.RunResult | None = None
        self._tasks: set[asyncio.Future] = set()
        self.running = False

        self.mode_note = QLabel()
        self.mode_note.setTextFormat(Qt.TextFormat.PlainText)
        self.mode_note.setWordWrap(True)

        self.function = QComboBox()
        self.function.setObjectName("functions-path")
        self.function.setEditable(True)
        self.function.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.function.lineEdit().setPlaceholderText("e.g. jobs:get")
        self.function.currentTextChanged.connect(self._on_function)
        self.kind = QComboBox()
        for k in R.KINDS:
            self.kind.addItem(k, k)
        self.kind.currentIndexChanged.connect(lambda _i: self._update_run_button())
        self.reload_button = QPushButton("Reload list")
        self.reload_button.clicked.connect(self.load_functions)
        self.spec_note = QLabel()
        self.spec_note.setTextFormat(Qt.TextFormat.PlainText)
        self.spec_note.setWordWrap(True)

        self.run_as = QComboBox()
        self.run_as.addItem("Admin (the deploy key)", ADMIN)
        self.run_as.addItem("Acting as a user", AS_USER)
        self.run_as.currentIndexChanged.connect(lambda _i: self.user.setEnabled(self.run_as.currentData() == AS_USER))
        self.user = QLineEdit(placeholderText="user _id or email")
        self.user.setEnabled(False)
        self.user.setText(ctx.operator_id() or "")
        self._operator_shown = ctx.operator_id() or ""
        ctx.operator_changed.connect(self._operator_changed)

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.args = QPlainTextEdit("{}")
        self.args.setObjectName("functions-args")
        self.args.setFont(mono)
        self.args.setTabChangesFocus(True)
        self.args.setToolTip('Convex JSON: plain numbers are Float64; Int64 is {"$integer": "<base64>"}, bytes '
                             '{"$bytes": "<base64>"}.')
        self.args_state = QLabel()
        self.args_state.setTextFormat(Qt.TextFormat.PlainText)
        self.args_state.setWordWrap(True)
        self._validate = QTimer(self)
        self._validate.setSingleShot(True)
        self._validate.setInterval(150)
        self._validate.timeout.connect(self.validate)
        self.args.textChanged.connect(self._validate.start)

        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("functions-run")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.run)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.run)

        self.result_head = QLabel()
        self.result_head.setTextFormat(Qt.TextFormat.RichText)  # only through _show_head: data is escaped
        self.result_head.setProperty("escaped", True)
        self.result_head.linkActivated.connect(lambda href: self.ctx.navigate("logs", href.removeprefix("request:")))
        self.result_head.setWordWrap(True)
        self.logs_button = QPushButton("Show in Logs")
        self.logs_button.setToolTip("The deployment's log entries of this request (Logs panel)")
        self.logs_button.hide()
        self.logs_button.clicked.connect(self._show_in_logs)
        self.result = QPlainTextEdit()
        self.result.setObjectName("functions-result")
        self.result.setReadOnly(True)
        self.result.setFont(mono)
        self.result.setPlaceholderText("The value, or the error and its data, and the log lines appear here.")
        self.audit = QListWidget()
        self.audit.setObjectName("functions-audit")
        self.audit.setToolTip("The console's own audit of mutations and actions it ran (local to this replica)")
        self.audit_empty = EmptyState(self.audit, lambda: "No mutation or action run from here yet: each one you run "
                                      "is listed with who ran it and its result.")

        picker = QFormLayout()
        row = QHBoxLayout()
        row.addWidget(self.function, 1)
        row.addWidget(self.kind)
        row.addWidget(self.reload_button)
        picker.addRow(_plain("Function"), row)
        picker.addRow(_plain(""), self.spec_note)
        who = QHBoxLayout()
        who.addWidget(self.run_as)
        who.addWidget(self.user, 1)
        picker.addRow(_plain("Run as"), who)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addLayout(picker)
        ll.addWidget(_plain("Arguments (Convex JSON)"))
        ll.addWidget(self.args, 1)
        ll.addWidget(self.args_state)
        runrow = QHBoxLayout()
        runrow.addStretch(1)
        runrow.addWidget(self.run_button)
        ll.addLayout(runrow)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(self.result_head, 1)
        head.addWidget(self.logs_button)
        rl.addLayout(head)
        rl.addWidget(self.result, 3)
        rl.addWidget(_plain("Console audit (mutations and actions run from here)"))
        rl.addWidget(self.audit, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setSizes([520, 620])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.mode_note)
        layout.addWidget(self.splitter, 1)

        ctx.replica_replaced.connect(self.reload)
        self.reload()

    # -- the function list ------------------------------------------------------------------------------
    @property
    def live(self) -> Any:
        return self.ctx.live

    def reload(self) -> None:
        self.mode_note.setText(R.DEMO_NOTE if self.live is None else self._live_note())
        self.load_functions()
        self.load_audit()
        self.validate()

    def _live_note(self) -> str:
        key = self.live.deployment.key
        where = self.live.deployment.base
        if R.is_production(key):
            allowed = self.ctx.settings.allow_production_writes
            return (f"{where} is a production deployment: mutations and actions are "
                    + ("allowed (Settings) and ask first." if allowed else "refused unless enabled in Settings."))
        return f"{where}: queries run at once; mutations and actions ask first. Every write is audited locally."

    def load_functions(self) -> None:
        if self.live is None:
            self._set_specs(R.DEMO_FUNCTIONS, "Functions the offline demo answers from the replica.")
            return
        http = self.live.client.http

        async def fetch() -> None:
            try:
                specs = await R.fetch_spec(http)
            except Exception as exc:  # the deployment offers no list: typed paths and history instead
                self._set_specs(R.CONTRACT_FUNCTIONS, f"This deployment gives no function list ({_short(exc)}): type "
                                                      f"a path; the console contract and your history are offered.")
            else:
                self._set_specs(specs, f"{len(specs)} functions from the deployment (_system/cli/modules:apiSpec).")

        self._spawn(fetch())

    def _set_specs(self, specs: list[R.FunctionSpec], note: str) -> None:
        typed = self.function.currentText()
        self.specs = {s.path: s for s in specs}
        names = list(self.specs)
        for h in self.history():
            if h not in self.specs:
                names.append(h)
        self.function.blockSignals(True)
        self.function.clear()
        for name in names:
            spec = self.specs.get(name)
            self.function.addItem(name if spec is None else f"{name}", name)
            if spec is not None:
                self.function.setItemData(self.function.count() - 1, f"{spec.kind} · {spec.visibility}",
                                          Qt.ItemDataRole.ToolTipRole)
        self.function.setCurrentText(typed)
        self.function.blockSignals(False)
        self.spec_note.setText(note)
        self._on_function(self.function.currentText())

    def _on_function(self, path: str) -> None:
        spec = self.specs.get(path.strip())
        if spec is not None:
            self.kind.setCurrentIndex(self.kind.findData(spec.kind))
            if spec.args is not None and self.args.toPlainText().strip() in ("", "{}"):
                self.args.setPlainText(R.template(spec.args))
        self._update_run_button()

    def _update_run_button(self) -> None:
        kind = self.kind.currentData()
        reason = None
        if self.live is None and kind != "query":
            reason = R.DEMO_NOTE
        elif self.live is not None:
            reason = R.write_refusal(kind, self.live.deployment.key, self.ctx.settings.allow_production_writes)
        self.run_button.setEnabled(reason is None and not self.running)
        self.run_button.setToolTip(reason or ("Run (Ctrl+Enter)" if kind == "query" else
                                              f"Run this {kind} (asks first; Ctrl+Enter)"))

    # -- history (UI state, like the column layouts) -------------------------------------------------
    def history(self) -> list[str]:
        value = self.ctx.ui_state().value(HISTORY_KEY) or []
        return [str(v) for v in (value if isinstance(value, list) else [value])]

    def remember(self, path: str) -> None:
        items = [path] + [h for h in self.history() if h != path]
        self.ctx.ui_state().setValue(HISTORY_KEY, items[:HISTORY_MAX])
        if self.function.findData(path) < 0:
            self.function.addItem(path, path)

    # -- arguments ---------------------------------------------------------------------------------
    def validate(self) -> dict | None:
        try:
            args = R.parse_args(self.args.toPlainText())
        except R.ArgsError as exc:
            self.args_state.setText(f"✗ {exc}")
            self.args_state.setStyleSheet(f"color: {self.ctx.theme.color('danger').name()}")
            return None
        self.args_state.setText(f"✓ {len(args)} argument{'s' if len(args) != 1 else ''}")
        self.args_state.setStyleSheet(f"color: {self.ctx.theme.color('ok').name()}")
        return args

    def _operator_changed(self) -> None:
        """"Run as" follows the operator chosen in Settings, unless another user was typed there."""
        typed = self.user.text().strip()
        if not typed or typed == self._operator_shown:
            self.user.setText(self.ctx.operator_id() or "")
        self._operator_shown = self.ctx.operator_id() or ""

    # -- running ---------------------------------------------------------------------------------------
    def confirm(self, kind: str, path: str, who: str) -> str | None:
        """Mutations and actions ask first, with a reason for the console's audit: the reason, or None when
        the operator declined (tests replace this)."""
        return ask_reason(self, f"Run {kind}?", f"Run the {kind} {path} on {self.live.deployment.base} as {who}? It "
                          f"may change data.\n\nReason (written with the run to the console's audit):", f"Run {kind}")

    def run(self) -> None:
        path = self.function.currentText().strip()
        kind = self.kind.currentData()
        args = self.validate()
        if not path or args is None or self.running:
            if not path:
                self._show_head("Choose or type a function.", "warning")
            return
        if self.run_as.currentData() == AS_USER and not self.user.text().strip():
            self._show_head("Acting as a user needs a user _id or email.", "warning")
            return
        if self.live is None:
            self._run_demo(kind, path, args)
            return
        key = self.live.deployment.key
        refusal = R.write_refusal(kind, key, self.ctx.settings.allow_production_writes)
        who_text = self.user.text().strip() if self.run_as.currentData() == AS_USER else ""
        if refusal:
            self._audit(kind, path, args, "admin" if not who_text else who_text, "refused", refusal)
            self._show(R.RunResult(False, error=refusal))
            return
        reason = self.confirm(kind, path, who_text or "admin") if kind != "query" else None
        if kind != "query" and not reason:
            self._show_head("Not run.", "muted")
            return
        self.remember(path)
        self._set_running(True)
        if not who_text:
            self._run_live(kind, path, args, None, "admin", reason or "")
            return

        def resolve(conn) -> dict | None:
            if looks_like_id(who_text):
                row = conn.execute(text("SELECT id, email FROM users WHERE id = :v"), {"v": who_text}).first()
                return {"subject": who_text, "issuer": "ops-console", **({"email": row.email} if row else {})}
            row = conn.execute(text("SELECT id, email FROM users WHERE email = :v COLLATE NOCASE LIMIT 1"),
                               {"v": who_text}).first()
            return {"subject": row.id, "issuer": "ops-console", "email": row.email} if row else None

        def resolved(identity: dict | None) -> None:
            if identity is None:
                self._set_running(False)
                self._show(R.RunResult(False, error=f"No user {who_text!r} in the replica: give a user _id or email."))
                return
            self._run_live(kind, path, args, identity, identity.get("email") or identity["subject"], reason or "")

        def failed(exc: BaseException) -> None:
            self._set_running(False)
            self._show(R.RunResult(False, error=f"Could not look up the user: {exc}"))

        self.ctx.read(resolve, resolved, failed)

    def _run_live(self, kind: str, path: str, args: dict, identity: dict | None, who: str, reason: str = "") -> None:
        """`reason`: what the operator gave for a mutation or action (its audit entry)."""
        http = self.live.client.http
        self._show_head(f"Running {path}…", "muted")

        async def go() -> None:
            try:
                result = await R.run(http, kind, path, args, identity)
            except Exception as exc:  # a bug here must still end the run visibly
                result = R.RunResult(False, error=f"{type(exc).__name__}: {exc}")
            self._set_running(False)
            self._show(result)
            if kind != "query":
                self._audit(kind, path, args, who, "success" if result.ok else "error",
                            "" if result.ok else result.error, reason)

        self._spawn(go())

    def _run_demo(self, kind: str, path: str, args: dict) -> None:
        self.remember(path)
        self._set_running(True)

        def done(result: R.RunResult) -> None:
            self._set_running(False)
            self._show(result)

        def failed(exc: BaseException) -> None:
            self._set_running(False)
            self._show(R.RunResult(False, error=f"{type(exc).__name__}: {exc}"))

        self.ctx.read(lambda conn: R.run_local(conn, kind, path, args), done, failed)

    def _set_running(self, value: bool) -> None:
        self.running = value
        self._update_run_button()

    def _show_head(self, message: str, colour: str, request_id: str = "") -> None:
        """The result's head line; a request id in it is a link to its log entries."""
        link = f" · request <a href='request:{esc(request_id)}'>{esc(request_id)}</a>" if request_id else ""
        self.result_head.setText(esc(message) + link)
        self.result_head.setStyleSheet(f"color: {self.ctx.theme.color(colour).name()}")

    def _show(self, result: R.RunResult) -> None:
        self.last_result = result
        when = time.strftime("%H:%M:%S")
        extra = f" · {result.ms:.0f} ms" if result.ms else ""
        self._show_head(f"{'✓ Success' if result.ok else '✗ Error'} at {when}{extra}", "ok" if result.ok else "danger",
                        result.request_id)
        self.result.setPlainText(result.text())
        self.logs_button.setVisible(bool(result.request_id))

    def _show_in_logs(self) -> None:
        if self.last_result is not None and self.last_result.request_id:
            self.ctx.navigate("logs", self.last_result.request_id)

    def _spawn(self, coro: Any) -> None:
        task = self.ctx.tasks.spawn(coro)  # (the runner keeps a reference and reports a failure)
        self._tasks.add(task)  # ours too: cancelled at shutdown
        task.add_done_callback(self._tasks.discard)

    # -- the console's audit ------------------------------------------------------------------------
    def _audit(self, kind: str, path: str, args: dict, actor: str, outcome: str, detail: str,
               reason: str = "") -> None:
        deployment = self.live.deployment.base if self.live is not None else "demo"

        def write(conn) -> None:  # on the writer thread, as every write
            console_audit.record(conn, deployment=deployment, actor=actor, action=f"run_{kind}", target=path,
                                 args=args, outcome=outcome, detail=detail, reason=reason)

        self.ctx.write(write, lambda _none: self.load_audit())

    def load_audit(self) -> None:
        def done(rows: list[console_audit.ActionRow]) -> None:
            self.audit.clear()
            for r in rows:
                why = console_audit.reason_of(r)
                self.audit.addItem(f"{local_time(r.at * 1000, seconds=True)}  {r.outcome:<8} {r.action[4:]} "
                                   f"{r.target} as {r.actor} · {r.deployment}" + (f" · “{why}”" if why else "")
                                   + (f" · {r.detail.splitlines()[0][:120]}" if r.detail else ""))

        self.ctx.read(lambda conn: console_audit.recent(conn, 50), done)

    # -- Panel ------------------------------------------------------------------------------------------
    def on_shown(self) -> None:
        note = R.DEMO_NOTE if self.live is None else self._live_note()
        if note != self.mode_note.text():
            self.reload()

    def focus_search(self) -> None:
        self.function.setFocus()
        self.function.lineEdit().selectAll()

    def navigate(self, target: Any) -> None:
        if isinstance(target, str) and target:
            self.function.setCurrentText(target)

    def shutdown(self) -> None:
        self._validate.stop()
        for task in list(self._tasks):
            task.cancel()

    def save_state(self, state: QSettings) -> None:
        state.setValue("functions/splitter", self.splitter.saveState())

    def restore_state(self, state: QSettings) -> None:
        value = state.value("functions/splitter")
        if value is not None:
            self.splitter.restoreState(value)


def _short(exc: BaseException) -> str:
    return str(exc).split("\n")[-1][:120] or type(exc).__name__


def _plain(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label
