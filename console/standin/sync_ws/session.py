"""One sync connection: its query set, identity and versions, and the loop that answers it.

As crates/sync/src/worker.rs: every answer to the client is a Transition from the version the client holds
(startVersion) to the new one (endVersion: query set version, identity version, the snapshot ts the results
were read at). A subscribed query is re-run when a commit writes a document it read (or to a table it
scanned); only results that changed are sent. A mutation is answered with its commit ts, followed by a
Transition whose ts is at least that, which is when the clients resolve the mutation.

Everything here runs on the connection's handler thread; the store's commit listener only queues a note.
"""

from __future__ import annotations

import base64
import json
import queue
import re
import threading
import time
from dataclasses import dataclass, field
from email.message import Message
from typing import TYPE_CHECKING, Any

from console.standin import api
from console.standin.auth import Caller, Token, _identity, check_token, remove_type_prefix
from console.standin.errors import HttpError
from console.standin.sync_ws import protocol as P

if TYPE_CHECKING:
    from console.standin.sync_ws.hub import SyncHub

HEARTBEAT_S = 15.0  # crates/sync worker.rs HEARTBEAT_INTERVAL: a Ping when nothing else was sent
_REQUEST_ID = re.compile(r"\[Request ID: [0-9a-f]+\] ")


@dataclass
class Query:
    path: str
    args: Any
    component: str
    reads: set = field(default_factory=set)
    last: str | None = None  # the last result sent, to send only changes


class AuthFailed(Exception):
    pass


class Session:
    def __init__(self, hub: "SyncHub", conn: Any) -> None:
        self.hub = hub
        self.conn = conn
        self.store = hub.server.state.store
        self.inbox: queue.Queue = queue.Queue()
        self.queries: dict[int, Query] = {}
        self.caller = Caller()
        self.query_set = 0  # the versions the next Transition ends at
        self.identity = 0
        self.sent = (0, 0, 0)  # (querySet, identity, ts) the client holds: the next Transition starts here
        self.dirty: set[int] = set()
        self.removed: list[int] = []
        self.resend_all = False
        self.need_ts = -1  # a Transition at ts >= this is owed (after a mutation)
        self.clock_skew: int | None = None
        self.session_id = ""
        self.messages_in = 0
        self.closed = threading.Event()

    # -- called from other threads ------------------------------------------------------------------
    def on_commit(self, ts: int, keys: list[tuple[str, str, str]]) -> None:
        self.inbox.put(("commit", ts, keys))

    def abort(self) -> None:
        """Drop the TCP connection without a close frame, as a network failure would."""
        import socket
        try:
            self.conn.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- the loop -----------------------------------------------------------------------------------
    def run(self) -> None:
        reader = threading.Thread(target=self._read, name="sync-read", daemon=True)
        reader.start()
        try:
            while True:
                try:
                    item = self.inbox.get(timeout=HEARTBEAT_S)
                except queue.Empty:
                    self._send(P.PING)
                    continue
                if item[0] == "closed":
                    return
                if item[0] == "commit":
                    self._invalidate(item[2])
                else:
                    self._handle(item[1])
                if self.inbox.empty():
                    self._flush()
        except P.ProtocolError as exc:
            self._send(P.fatal_error(str(exc)))
            self.conn.close(1008, "FatalError")
        except AuthFailed:
            self.conn.close(1008, "AuthError")
        except Exception as exc:  # the socket went away mid-send, or a stand-in bug: end this session only
            if not self.closed.is_set():
                try:
                    self._send(P.fatal_error(f"InternalServerError: {type(exc).__name__}: {exc}"))
                    self.conn.close(1011, "InternalServerError")
                except Exception:
                    pass
        finally:
            self.closed.set()

    def _read(self) -> None:
        try:
            for message in self.conn:
                self.inbox.put(("message", message))
        except Exception:
            pass  # closed or cut: the session ends
        finally:
            self.closed.set()
            self.inbox.put(("closed",))

    def _send(self, message: dict) -> None:
        self.conn.send(json.dumps(message, separators=(",", ":"), ensure_ascii=False))

    # -- client messages ------------------------------------------------------------------------------
    def _handle(self, raw: str | bytes) -> None:
        message = P.parse(raw)
        self.messages_in += 1
        kind = message["type"]
        if kind == "Connect":
            self.session_id = str(message.get("sessionId") or "")
            client_ts = message.get("clientTs")
            if isinstance(client_ts, (int, float)):
                self.clock_skew = int(client_ts - time.time() * 1000)  # i64 ms (the Rust client refuses a float)
        elif kind == "ModifyQuerySet":
            self._modify(message)
        elif kind == "Authenticate":
            self._authenticate(message)
        elif kind == "Mutation":
            with self.store.lock:
                outcome = self._call("mutation", message)
                ts = self.store.last_ts  # the commit ts (or, with no writes, the state it read)
            self._send(P.function_response("MutationResponse", message["requestId"], outcome, ts))
            self.need_ts = max(self.need_ts, ts)
        elif kind == "Action":
            outcome = self._call("action", message)
            self._send(P.function_response("ActionResponse", message["requestId"], outcome))
        # Event: client telemetry; the backend only logs it.

    def _modify(self, message: dict) -> None:
        base, new = message["baseVersion"], message["newVersion"]
        if base != self.query_set:
            raise P.ProtocolError(f"Base version {base} passed up doesn't match the current version "
                                  f"{self.query_set}")
        if not isinstance(new, int) or new < base:
            raise P.ProtocolError(f"New version {new} must be at least the base version {base}")
        for mod in message["modifications"] or []:
            query_id = mod.get("queryId")
            if mod.get("type") == "Add":
                if query_id in self.queries:
                    raise P.ProtocolError(f"Duplicate query id {query_id}")
                self.queries[query_id] = Query(str(mod.get("udfPath") or ""), mod.get("args", []),
                                               str(mod.get("componentPath") or ""))
                self.dirty.add(query_id)
            elif mod.get("type") == "Remove":
                if self.queries.pop(query_id, None) is None:
                    raise P.ProtocolError(f"Query id {query_id} is not in the query set")
                self.dirty.discard(query_id)
                self.removed.append(query_id)
            else:
                raise P.ProtocolError(f"Unknown query set modification {mod.get('type')!r}")
        self.query_set = new

    def _authenticate(self, message: dict) -> None:
        base = message["baseVersion"]
        if base != self.identity:
            raise P.ProtocolError(f"Base identity version {base} doesn't match the current version {self.identity}")
        state = self.hub.server.state
        token_type = message["tokenType"]
        try:
            if token_type == "Admin":
                acting = message.get("impersonating")
                identity = None
                if acting is not None:
                    identity = _identity(base64.b64encode(json.dumps(acting).encode()).decode())
                token = Token("admin", remove_type_prefix(str(message.get("value") or "")), identity)
            elif token_type == "User":
                token = Token("bearer", jwt=str(message.get("value") or ""))
            elif token_type == "None":
                token = Token("none")
            else:
                raise P.ProtocolError(f"Unknown token type {token_type!r}")
            caller = check_token(token, state.admin_key, redact=state.production)
        except HttpError as exc:
            self._send(P.auth_error(f"{exc.code}: {exc.message}", base, True))
            raise AuthFailed() from exc
        self.caller = caller
        self.identity = base + 1
        self.resend_all = True  # every result is re-read as the new identity
        self.dirty.update(self.queries)

    # -- results ----------------------------------------------------------------------------------
    def _call(self, kind: str, message: dict) -> dict:
        """One function as /api/<kind> runs it (validation, visibility, logging), results in encoded JSON."""
        req = _request(self.hub)
        try:
            return api.run(req, self.caller, message.get("udfPath"), message.get("args", []), "convex_encoded_json",
                           expected=kind, component=str(message.get("componentPath") or ""))
        except HttpError as exc:  # a malformed path
            return {"status": "error", "errorMessage": exc.message}

    def _invalidate(self, keys: list[tuple[str, str, str]]) -> None:
        for query_id, q in self.queries.items():
            if query_id in self.dirty:
                continue
            for component, table, doc_id in keys:
                if ("table", component, table) in q.reads or ("doc", component, table, doc_id) in q.reads:
                    self.dirty.add(query_id)
                    break

    def _flush(self) -> None:
        versions_moved = (self.query_set, self.identity) != self.sent[:2]
        if not (self.dirty or self.removed or versions_moved or self.need_ts > self.sent[2]):
            return
        mods: list[dict] = []
        with self.store.lock:  # one snapshot: every result of this Transition is read at `ts`
            ts = self.store.snapshot_now()
            for query_id in sorted(self.dirty):
                q = self.queries[query_id]
                with self.store.recording_reads() as reads:
                    outcome = self._call("query", {"udfPath": q.path, "args": q.args, "componentPath": q.component})
                q.reads = reads
                if outcome.get("status") == "success":
                    mod = P.query_updated(query_id, outcome.get("value"))
                else:
                    mod = P.query_failed(query_id, outcome.get("errorMessage", ""), outcome.get("errorData"))
                fingerprint = json.dumps({k: v for k, v in mod.items() if k != "errorMessage"}, sort_keys=True) + \
                    _REQUEST_ID.sub("", mod.get("errorMessage", ""))
                if fingerprint != q.last or self.resend_all:
                    q.last = fingerprint
                    mods.append(mod)
        mods += [P.query_removed(query_id) for query_id in self.removed]
        self.dirty.clear()
        self.removed = []
        self.resend_all = False
        if not mods and not versions_moved and self.need_ts <= self.sent[2]:
            return  # re-run, nothing changed: nothing to tell
        end = (self.query_set, self.identity, ts)
        skew = self.clock_skew if end[1] != self.sent[1] else None
        self._send(P.transition(self.sent, end, mods, skew))
        self.sent = end
        self.hub.transitions += 1


def _request(hub: "SyncHub") -> Any:
    from console.standin.server import Request
    return Request("POST", "/api/sync", {}, Message(), b"", hub.server)
