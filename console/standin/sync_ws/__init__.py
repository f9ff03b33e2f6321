"""The WebSocket sync protocol of a Convex deployment (`GET /api/<client version>/sync`, `/api/sync`), as
convex-js `src/browser/sync/protocol.ts` and the backend's crates/sync (`SyncWorker`) and
crates/local_backend/src/subs (the socket loop) define it.

protocol.py: the messages and their encodings. session.py: one connection's state (query set, identity,
versions) and its loop. hub.py: the live sessions of a server and the store's commit notifications.
"""

from console.standin.sync_ws.hub import SyncHub, is_sync_route, serve_upgrade

__all__ = ["SyncHub", "is_sync_route", "serve_upgrade"]
