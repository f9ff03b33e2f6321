"""Producing signatures exactly as the real senders do (see shared/reference/webhooks-and-job-queues.md)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Mapping, Sequence


def sign_stripe(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header value: `t=<unix s>,v1=<hex hmac-sha256 of "t.body">`."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def twilio_string_to_sign(url: str, params: Mapping[str, str | Sequence[str]] | None) -> str:
    parts = [url]
    for name in sorted(params or {}):
        values = params[name]  # type: ignore[index]
        if isinstance(values, str):
            values = [values]
        for value in sorted(values):
            parts.append(name + value)
    return "".join(parts)


def sign_twilio(url: str, params: Mapping[str, str | Sequence[str]] | bytes, auth_token: str) -> str:
    """`X-Twilio-Signature`. For a raw JSON body (bytes) the URL must already carry `bodySHA256`."""
    form = None if isinstance(params, (bytes, bytearray)) else params
    data = twilio_string_to_sign(url, form).encode()
    return base64.b64encode(hmac.new(auth_token.encode(), data, hashlib.sha1).digest()).decode()


def standard_webhook_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign_standard_webhook(
    payload: bytes, secret: str, msg_id: str, *, timestamp: int | None = None, prefix: str = "svix"
) -> dict[str, str]:
    """Headers a Svix (prefix "svix", as Clerk sends) or Standard Webhooks ("webhook") sender adds."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(standard_webhook_key(secret), f"{msg_id}.{t}.".encode() + payload, hashlib.sha256).digest()
    return {
        f"{prefix}-id": msg_id,
        f"{prefix}-timestamp": str(t),
        f"{prefix}-signature": "v1," + base64.b64encode(mac).decode(),
    }
