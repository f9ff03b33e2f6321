"""The live sync sessions of one stand-in server, and the WebSocket upgrade that starts one.

The stand-in is a ThreadingHTTPServer: each connection has its own handler thread. A sync request is
upgraded there with the `websockets` library's sans-I/O handshake, and the socket is then driven by its
threaded `Connection` for as long as the client stays; the handler thread runs the session's loop.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any

from websockets.datastructures import Headers
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.http11 import Request as WsRequest
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.sync.connection import Connection

from console.standin.sync_ws.session import Session

if TYPE_CHECKING:
    from console.standin.server import Handler, StandinServer

_ROUTE = re.compile(r"^/api/(?:[^/]+/)?sync$")  # /api/sync and /api/{client_version}/sync (router.rs)
MAX_MESSAGE = 1 << 25  # a ModifyQuerySet re-sending many queries on reconnect can be large


def is_sync_route(path: str) -> bool:
    return bool(_ROUTE.match(path.split("?", 1)[0]))


class SyncHub:
    def __init__(self, server: "StandinServer") -> None:
        self.server = server
        self.sessions: set[Session] = set()
        self.lock = threading.Lock()
        self.connections = 0  # sockets accepted since start
        self.transitions = 0
        server.state.store.listeners.append(self._on_commit)

    def _on_commit(self, ts: int, keys: list) -> None:
        # Runs inside the committing transaction, under the store lock: only queue a note per session.
        with self.lock:
            sessions = list(self.sessions)
        for session in sessions:
            session.on_commit(ts, keys)

    def drop_all(self) -> int:
        """Cut every sync socket as a network failure would (tests: clients must reconnect and resync)."""
        with self.lock:
            sessions = list(self.sessions)
        for session in sessions:
            session.abort()
        return len(sessions)

    def close(self) -> None:
        with self.lock:
            sessions = list(self.sessions)
        for session in sessions:
            try:
                session.conn.close(1001, "server stopping")
            except Exception:
                session.abort()
        if self._on_commit in self.server.state.store.listeners:
            self.server.state.store.listeners.remove(self._on_commit)

    def serve(self, conn: Connection) -> None:
        session = Session(self, conn)
        with self.lock:
            self.sessions.add(session)
            self.connections += 1
        try:
            session.run()
        finally:
            with self.lock:
                self.sessions.discard(session)
            try:
                conn.close()
            except Exception:
                pass


def serve_upgrade(handler: "Handler") -> None:
    """Answer a GET on a sync route: the WebSocket handshake, then the session, on this handler thread."""
    handler.close_connection = True  # whatever happens, this HTTP connection is not reused
    # The request line and headers were already read by http.server, so the handshake is answered with one
    # sans-I/O protocol and the frames are then handled by a second one, created open.
    handshake = ServerProtocol(extensions=[ServerPerMessageDeflateFactory()], max_size=MAX_MESSAGE)
    request = WsRequest(handler.path, Headers(list(handler.headers.items())))
    response = handshake.accept(request)
    handshake.send_response(response)
    sock = handler.connection
    for chunk in handshake.data_to_send():
        if chunk:
            sock.sendall(chunk)
    if response.status_code != 101:
        return
    protocol = ServerProtocol(state=State.OPEN, max_size=MAX_MESSAGE)
    protocol.extensions = handshake.extensions
    protocol.subprotocol = handshake.subprotocol
    conn = Connection(sock, protocol, ping_interval=15, ping_timeout=60, close_timeout=2, max_queue=None)
    conn.request, conn.response = request, response
    handler.server.sync.serve(conn)
