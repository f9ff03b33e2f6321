"""Getting deliveries in: a capture server that records real webhooks byte for byte, and imports from
a JSON export or a HAR file. Deliveries land in the replica's webhook_deliveries table."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from console.convex.ids import IdMinter
from console.demo.generator import TABLE_NUMBERS
from console.changes import ChangeSet, note_foreign_write
from console.store.ingest import upsert_documents
from console.store.mapping import BY_SOURCE

DELIVERIES = BY_SOURCE[("", "webhookDeliveries")]
_ids = IdMinter()


def guess_provider(headers: dict[str, str]) -> str:
    names = {k.lower() for k in headers}
    if "stripe-signature" in names:
        return "stripe"
    if "x-twilio-signature" in names:
        return "twilio"
    if names & {"svix-id", "webhook-id"}:
        return "clerk"
    return "unknown"


def _event(provider: str, headers: dict[str, str], body: bytes) -> tuple[str, str]:
    lowered = {k.lower(): v for k, v in headers.items()}
    if provider == "twilio":
        from urllib.parse import parse_qs

        try:
            params = parse_qs(body.decode())
        except UnicodeDecodeError:
            params = {}
        return (params.get("MessageSid") or params.get("CallSid") or [""])[0], "sms.inbound"
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        parsed = {}
    parsed = parsed if isinstance(parsed, dict) else {}
    if provider == "clerk":
        return lowered.get("svix-id") or lowered.get("webhook-id") or "", str(parsed.get("type") or "")
    return str(parsed.get("id") or ""), str(parsed.get("type") or "")


def delivery_doc(endpoint: str, method: str, headers: dict[str, str], body: bytes, received_ms: int,
                 source: str) -> dict[str, Any]:
    provider = guess_provider(headers)
    event_id, event_type = _event(provider, headers, body)
    return {"_id": _ids.new(TABLE_NUMBERS["webhookDeliveries"]), "_creationTime": received_ms + 0.5,
            "_ts": time.time_ns(), "provider": provider, "endpoint": endpoint, "method": method, "headers": headers,
            "body": {"$bytes": base64.b64encode(body).decode()}, "receivedAt": received_ms, "eventType": event_type,
            "providerEventId": event_id, "capturedBy": source}


def store(engine: Engine, docs: list[dict]) -> list[str]:
    with engine.begin() as conn:
        upsert_documents(conn, DELIVERIES, docs)
    return [d["_id"] for d in docs]


def store_changes(engine: Engine, docs: list[dict]) -> ChangeSet:
    """As `store`; what it wrote (imports and captures announce it)."""
    return ChangeSet.of(DELIVERIES.sql_table, store(engine, docs))


# -- capture ---------------------------------------------------------------------------------------

MAX_BODY = 5 * 1024 * 1024  # webhook bodies are small; Stripe's largest events are well under 1 MiB
SOCKET_TIMEOUT_S = 10.0  # a sender that stalls mid-request is dropped, not waited for
WORKERS = 8  # connections handled at once; more wait in the listen backlog
BACKLOG = 128


class _PooledServer(HTTPServer):
    """An HTTP server with a bounded pool of handler threads (ThreadingHTTPServer starts one per connection)."""

    request_queue_size = BACKLOG
    daemon_threads = True

    def __init__(self, address, handler, workers: int) -> None:
        super().__init__(address, handler)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook-capture")
        # Accept only when a worker is free: the rest wait in the kernel's backlog, not in our memory.
        self._slots = threading.BoundedSemaphore(workers)
        self._active: set = set()
        self._lock = threading.Lock()
        self.closing = False

    def process_request(self, request, client_address) -> None:
        while not self._slots.acquire(timeout=0.2):
            if self.closing:
                self.shutdown_request(request)
                return
        with self._lock:
            self._active.add(request)
        self.pool.submit(self._handle, request, client_address)

    def _handle(self, request, client_address) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            with self._lock:
                self._active.discard(request)
            self.shutdown_request(request)
            self._slots.release()

    def drop_connections(self) -> None:
        """Wake workers blocked reading a slow sender, so stopping doesn't wait for their timeouts."""
        with self._lock:
            active = list(self._active)
        for request in active:
            try:
                request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address) -> None:
        pass  # a broken request is the sender's problem; nothing was stored

    def server_close(self) -> None:
        super().server_close()
        self.pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class CaptureServer:
    server: HTTPServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if isinstance(self.server, _PooledServer):
            self.server.closing = True
            self.server.drop_connections()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_capture(engine: Engine, *, host: str = "127.0.0.1", port: int = 0, public_url: str | None = None,
                  on_capture=None, max_body: int = MAX_BODY, timeout_s: float = SOCKET_TIMEOUT_S,
                  workers: int = WORKERS) -> CaptureServer:
    """Records every complete POST/PUT exactly as received and answers 200 (as a receiver would, so senders
    stop). Refused and not stored: no or a bad Content-Length (411/400), a body over `max_body` (413), a
    request that stops before its body ends or stalls past `timeout_s`. The endpoint recorded (what a replay
    and Twilio's signature use) is `public_url`, else this server's own address: never the Host header,
    which any sender chooses."""
    base_url: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = timeout_s  # socket timeout for every read and write of this connection

        def log_message(self, *args: Any) -> None:
            pass

        def _refuse(self, status: int, message: str) -> None:
            reply = json.dumps({"error": message}).encode()
            self.close_connection = True
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(reply)

        def _capture(self) -> None:
            raw = self.headers.get_all("Content-Length") or []
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower() or not raw:
                self._refuse(411, "a Content-Length is required")
                return
            if len(set(raw)) != 1 or not raw[0].strip().isdigit():
                self._refuse(400, "Content-Length must be one non-negative integer")
                return
            length = int(raw[0].strip())
            if length > max_body:
                self._refuse(413, f"the body is over the capture limit of {max_body} bytes")
                return
            body = self.rfile.read(length) if length else b""
            if len(body) != length:  # the sender went away mid-body: nothing to keep
                self.close_connection = True
                return
            headers = {k: v for k, v in self.headers.items()}
            doc = delivery_doc(base_url[0] + self.path, self.command, headers, body, int(time.time() * 1000),
                               "capture")
            store(engine, [doc])
            note_foreign_write(engine.url.database)  # a console window on this replica hears of it
            if on_capture:
                on_capture(doc)
            reply = json.dumps({"captured": doc["_id"]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_POST = do_PUT = _capture

    server = _PooledServer((host, port), Handler, workers)
    bound_host, bound_port = server.server_address[:2]
    shown_host = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
    base_url.append(public_url.rstrip("/") if public_url else f"http://{shown_host}:{bound_port}")
    thread = threading.Thread(target=server.serve_forever, name="webhook-capture", daemon=True)
    thread.start()
    return CaptureServer(server, thread)


# -- import and export ----------------------------------------------------------------------------

class ImportError_(ValueError):
    pass


def _ms(value: Any) -> int:
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            pass
    return int(time.time() * 1000)


def parse_file(path: Path) -> list[dict]:
    """Delivery documents from a JSON export (ours) or a HAR file. Bad input: ImportError_ saying why."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ImportError_(f"{path.name} is not readable JSON: {exc}") from exc
    docs = []
    if isinstance(data, dict) and isinstance(data.get("log"), dict):  # HAR
        for n, entry in enumerate(data["log"].get("entries") or []):
            req = entry.get("request") if isinstance(entry, dict) else None
            if not isinstance(req, dict) or req.get("method") not in ("POST", "PUT"):
                continue
            headers = {h["name"]: h["value"] for h in req.get("headers") or [] if isinstance(h, dict) and "name" in h}
            post = req.get("postData") or {}
            text_ = post.get("text") or ""
            body = base64.b64decode(text_) if post.get("encoding") == "base64" else text_.encode()
            docs.append(delivery_doc(req.get("url") or "", req["method"], headers, body,
                                     _ms(entry.get("startedDateTime")), "har"))
    elif isinstance(data, dict) and isinstance(data.get("deliveries"), list):  # our export
        for n, item in enumerate(data["deliveries"]):
            try:
                body = base64.b64decode(item["bodyBase64"])
                docs.append(delivery_doc(item["endpoint"], item.get("method") or "POST", dict(item["headers"]), body,
                                         _ms(item.get("receivedAt")), "import"))
            except (KeyError, TypeError, ValueError) as exc:
                raise ImportError_(f"delivery {n} in {path.name} is incomplete: {exc}") from exc
    else:
        raise ImportError_(f"{path.name} is neither a HAR file nor a console export ({{\"deliveries\": [...]}}).")
    if not docs:
        raise ImportError_(f"{path.name} holds no POST or PUT requests to import.")
    return docs


def export(rows: list[dict[str, Any]]) -> dict:
    """A console export: every delivery with its exact bytes (base64)."""
    return {"deliveries": [{"provider": r["provider"], "endpoint": r["endpoint"], "method": r.get("method") or "POST",
                            "headers": r["headers"], "bodyBase64": base64.b64encode(r["body"]).decode(),
                            "receivedAt": r["received_at"]} for r in rows]}
