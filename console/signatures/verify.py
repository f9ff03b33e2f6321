"""Verifying webhook signatures. Malformed input of any kind gives a Verdict, never an exception.

Every comparison is constant-time. Timestamp tolerance is two-sided (a timestamp from the future fails
too), which is stricter than stripe-python's construct_event (past side only).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import urllib.parse
from dataclasses import dataclass
from typing import Mapping, Sequence

from console.signatures.signing import standard_webhook_key, twilio_string_to_sign


@dataclass(frozen=True)
class Verdict:
    valid: bool
    reason: str  # stable code: ok, missing_header, malformed_header, no_signature, mismatch, ...
    detail: str = ""


OK = "ok"


def _ok(detail: str = "") -> Verdict:
    return Verdict(True, OK, detail or "signature verified")


def _no(reason: str, detail: str) -> Verdict:
    return Verdict(False, reason, detail)


def _age(t: int, now: float | None, tolerance: int) -> Verdict | None:
    now = time.time() if now is None else now
    if now - t > tolerance:
        return _no("timestamp_too_old", f"signature matches, but its timestamp is {int(now - t)} s old "
                                        f"(tolerance {tolerance} s, {int(now - t - tolerance)} s over)")
    if t - now > tolerance:
        return _no("timestamp_too_new", f"signature matches, but its timestamp is {int(t - now)} s in the future "
                                        f"(tolerance {tolerance} s, {int(t - now - tolerance)} s over)")
    return None


# -- Stripe ------------------------------------------------------------------------------------------

def verify_stripe(payload: bytes, header: str | None, secret: str, *, tolerance: int = 300,
                  now: float | None = None) -> Verdict:
    if not secret or not isinstance(secret, str):
        return _no("missing_secret", "no Stripe endpoint secret (whsec_...) is configured")
    if header is None or not str(header).strip():
        return _no("missing_header", "no Stripe-Signature header")
    if not isinstance(header, str):
        return _no("malformed_header", f"the Stripe-Signature header is not text: {type(header).__name__}")
    if not isinstance(payload, (bytes, bytearray)):
        return _no("malformed_payload", "the payload must be the raw body bytes")
    pairs = [item.split("=", 1) for item in str(header).split(",")]
    if any(len(p) != 2 for p in pairs):
        return _no("malformed_header", f"cannot extract timestamp and signatures from {header[:80]!r}")
    timestamps = [v for k, v in pairs if k == "t"]
    try:
        t = int(timestamps[0])
    except (IndexError, ValueError):
        return _no("malformed_header", f"no integer timestamp t= in {header[:80]!r}")
    v1 = [v for k, v in pairs if k == "v1"]
    if not v1:
        spaced = [k for k, _ in pairs if k.strip() == "v1"]
        hint = " (a space after a comma: the header must be exactly t=...,v1=...)" if spaced else ""
        others = sorted({k for k, _ in pairs if k != "t"})
        return _no("no_signature", f"no v1 signature in the header{hint}; found {', '.join(others) or 'nothing'}")
    expected = hmac.new(secret.encode(), f"{t}.".encode() + bytes(payload), hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, sig) for sig in v1):
        upper = any(hmac.compare_digest(expected, sig.lower()) for sig in v1)
        if upper:
            return _no("mismatch", "the signature is upper-case hex; Stripe sends lower-case and compares exactly")
        return _no("mismatch", f"no v1 signature matches ({len(v1)} tried): another secret, or the body changed")
    return _age(t, now, tolerance) or _ok(f"v1 matches, timestamp {t}")


# -- Twilio ------------------------------------------------------------------------------------------

def _port_variants(url: str) -> list[str]:
    """twilio-python accepts the URL with the default port stripped and with it added."""
    parts = urllib.parse.urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    host = parts.hostname or ""
    if parts.port is None:
        other = parts._replace(netloc=f"{parts.netloc}:{default}")
    elif parts.port == default:
        other = parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])
    else:
        return [url]
    del host
    return [url, urllib.parse.urlunsplit(other)]


def _b64_ok(signature: str) -> bool:
    try:
        base64.b64decode(signature, validate=True)
        return True
    except (binascii.Error, ValueError):
        return False


def verify_twilio(url: str, params: Mapping[str, str | Sequence[str]] | bytes, signature: str | None,
                  auth_token: str) -> Verdict:
    if not auth_token or not isinstance(auth_token, str):
        return _no("missing_secret", "no Twilio auth token is configured")
    if signature is None or not str(signature).strip():
        return _no("missing_header", "no X-Twilio-Signature header")
    if not isinstance(signature, str):
        return _no("malformed_header", f"X-Twilio-Signature is not text: {type(signature).__name__}")
    signature = signature.strip()
    if not _b64_ok(signature):
        return _no("malformed_header", f"X-Twilio-Signature is not base64: {signature[:40]!r}")
    if not isinstance(url, str) or not url:
        return _no("malformed_url", "no URL to verify against")
    form: Mapping[str, str | Sequence[str]] | None
    if isinstance(params, (bytes, bytearray)):
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        claimed = query.get("bodySHA256")
        if not claimed:
            return _no("body_hash_mismatch", "a JSON body needs bodySHA256 in the URL's query, and there is none")
        actual = hashlib.sha256(bytes(params)).hexdigest()
        if not hmac.compare_digest(actual, claimed.lower()):
            return _no("body_hash_mismatch", f"the body's SHA-256 is {actual[:12]}…, the URL says {claimed[:12]}…")
        form = None
    elif isinstance(params, Mapping):
        form = params
    else:
        return _no("malformed_payload", "params must be the form fields or the raw JSON body bytes")
    try:
        for candidate in _port_variants(url):
            data = twilio_string_to_sign(candidate, form).encode()
            expected = base64.b64encode(hmac.new(auth_token.encode(), data, hashlib.sha1).digest()).decode()
            if hmac.compare_digest(expected, signature):
                return _ok(f"signature matches for {candidate}")
    except (TypeError, AttributeError):
        return _no("malformed_payload", "form values must be strings or lists of strings")
    return _no("mismatch", "the signature does not match this URL and these parameters: another auth token, "
                           "another URL (scheme, host, port, path, query) or changed parameters")


# -- Standard Webhooks (Svix, Clerk) -----------------------------------------------------------------

def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = {str(k).lower(): str(v) for k, v in headers.items() if v is not None}
    for prefix in ("svix", "webhook"):  # svix-* wins when both are present
        value = lowered.get(f"{prefix}-{name}")
        if value is not None:
            return str(value)
    return None


def verify_standard_webhook(payload: bytes, headers: Mapping[str, str], secret: str, *, tolerance: int = 300,
                            now: float | None = None) -> Verdict:
    if not secret or not isinstance(secret, str):
        return _no("missing_secret", "no signing secret (whsec_...) is configured")
    try:
        key = standard_webhook_key(secret)
    except (binascii.Error, ValueError):
        return _no("missing_secret", "the configured secret is not whsec_ followed by base64")
    if not isinstance(headers, Mapping):
        return _no("missing_header", "no headers")
    msg_id, stamp, sigs = _header(headers, "id"), _header(headers, "timestamp"), _header(headers, "signature")
    missing = [n for n, v in (("id", msg_id), ("timestamp", stamp), ("signature", sigs)) if not v]
    if missing:
        return _no("missing_header", "missing " + ", ".join(f"svix-{m} / webhook-{m}" for m in missing))
    try:
        t = int(str(stamp).strip())
    except ValueError:
        return _no("malformed_header", f"the timestamp is not an integer: {stamp[:40]!r}")
    if not isinstance(payload, (bytes, bytearray)):
        return _no("malformed_payload", "the payload must be the raw body bytes")
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{t}.".encode() + bytes(payload), hashlib.sha256).digest())
    entries = str(sigs).split()
    v1 = [e.split(",", 1)[1] for e in entries if e.startswith("v1,")]
    malformed = [e for e in entries if "," not in e]
    if not v1:
        if malformed:
            return _no("malformed_header", f"signature entries must be 'v1,<base64>': {malformed[0][:40]!r}")
        return _no("no_signature", "no v1 signature (v1a and other schemes are not checked)")
    if not any(hmac.compare_digest(expected, s.encode()) for s in v1):
        return _no("mismatch", f"no v1 signature matches ({len(v1)} tried): another secret, or the body changed")
    return _age(t, now, tolerance) or _ok(f"v1 matches, message {msg_id}")
