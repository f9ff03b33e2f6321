"""One TLS context for the process. Building one loads the CA bundle (50-80 ms on a slow machine); httpx
builds a new one for every client, so connecting froze the GUI that long. The app warms it on a worker
thread at start; a context is safe to share between clients and threads once built."""

from __future__ import annotations

import ssl
import threading

import httpx

_lock = threading.Lock()
_context: ssl.SSLContext | None = None


def shared_context() -> ssl.SSLContext:
    global _context
    with _lock:
        if _context is None:
            _context = httpx.create_ssl_context()  # the CA bundle and environment httpx itself would use
        return _context


def warm() -> None:
    """Build the context now, and import what the first client imports lazily (httpcore's pools, h11,
    websockets): together ~100 ms a first connect spent on the GUI thread. Call from a worker thread."""
    context = shared_context()
    httpx.AsyncHTTPTransport(verify=context)  # holds no connection until used: nothing to close
    import websockets.asyncio.client  # noqa: F401  (the subscriptions' socket)
