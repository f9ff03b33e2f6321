"""The sync protocol's messages: client messages checked on the way in, server messages built on the way out.

Timestamps travel as base64 of a little-endian u64 (protocol.ts `longToU64`), versions as plain integers.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

CLIENT_TYPES = ("Connect", "ModifyQuerySet", "Mutation", "Action", "Authenticate", "Event")


class ProtocolError(Exception):
    """A client message the backend would refuse: answered with FatalError, then the socket closes."""


def encode_ts(ts: int) -> str:
    return base64.b64encode(int(ts).to_bytes(8, "little")).decode()


def decode_ts(text: Any) -> int:
    try:
        raw = base64.b64decode(str(text), validate=True)
    except ValueError as exc:
        raise ProtocolError(f"Invalid timestamp {text!r}") from exc
    if len(raw) != 8:
        raise ProtocolError(f"Invalid timestamp {text!r}: expected 8 bytes")
    return int.from_bytes(raw, "little")


def parse(text: str | bytes) -> dict:
    try:
        message = json.loads(text)
    except ValueError as exc:
        raise ProtocolError(f"Failed to parse client message: {exc}") from exc
    if not isinstance(message, dict) or message.get("type") not in CLIENT_TYPES:
        kind = message.get("type") if isinstance(message, dict) else type(message).__name__
        raise ProtocolError(f"Unknown client message type {kind!r}")
    for name in {"ModifyQuerySet": ("baseVersion", "newVersion", "modifications"),
                 "Mutation": ("requestId", "udfPath", "args"), "Action": ("requestId", "udfPath", "args"),
                 "Authenticate": ("tokenType", "baseVersion"), "Connect": ("sessionId",)}.get(message["type"], ()):
        if name not in message:
            raise ProtocolError(f"{message['type']}: missing field `{name}`")
    return message


def version(query_set: int, identity: int, ts: int) -> dict:
    return {"querySet": query_set, "identity": identity, "ts": encode_ts(ts)}


def transition(start: tuple[int, int, int], end: tuple[int, int, int], modifications: list[dict],
               clock_skew: int | None = None) -> dict:
    return {"type": "Transition", "startVersion": version(*start), "endVersion": version(*end),
            "modifications": modifications, "clientClockSkew": clock_skew, "serverTs": time.time_ns()}


def query_updated(query_id: int, value: Any) -> dict:
    return {"type": "QueryUpdated", "queryId": query_id, "value": value, "logLines": [], "journal": None}


def query_failed(query_id: int, message: str, data: Any = None) -> dict:
    out = {"type": "QueryFailed", "queryId": query_id, "errorMessage": message, "logLines": [], "journal": None}
    if data is not None:
        out["errorData"] = data
    return out


def query_removed(query_id: int) -> dict:
    return {"type": "QueryRemoved", "queryId": query_id}


def function_response(kind: str, request_id: Any, outcome: dict, ts: int | None = None) -> dict:
    """MutationResponse / ActionResponse from a UdfResponse-shaped outcome ({"status", "value" | error})."""
    out: dict[str, Any] = {"type": kind, "requestId": request_id}
    if outcome.get("status") == "success":
        out.update(success=True, result=outcome.get("value"))
    else:
        out.update(success=False, result=outcome.get("errorMessage", ""))
        if "errorData" in outcome:
            out["errorData"] = outcome["errorData"]
    if kind == "MutationResponse":
        out["ts"] = encode_ts(ts) if ts is not None and out["success"] else None
    out["logLines"] = []
    return out


def auth_error(message: str, base_version: int, attempted: bool) -> dict:
    return {"type": "AuthError", "error": message, "baseVersion": base_version, "authUpdateAttempted": attempted}


def fatal_error(message: str) -> dict:
    return {"type": "FatalError", "error": message}


PING = {"type": "Ping"}
