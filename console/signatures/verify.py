"""Verifying webhook signatures. Malformed input of any kind gives a Verdict, never an exception.

Every comparison is constant-time. Timestamp tolerance is two-sided (a timestamp from the future fails
too), which is stricter than stripe-python's construct_event (past side only).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import math
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence, TypeVar

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


MAX_HEADER = 64 * 1024  # no sender's signature header comes near this; past it we don't parse
MAX_TIMESTAMP_DIGITS = 20  # int() of a huge digit string is slow (and past 4300 digits raises)

F = TypeVar("F", bound=Callable[..., Verdict])


def never_raises(fn: F) -> F:
    """Last line of defence: whatever the input, a Verdict. The checks below handle what we foresaw."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Verdict:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a malformed delivery must never stop verification
            return _no("malformed_input", f"could not be checked ({type(exc).__name__}): the input is malformed")

    return wrapper  # type: ignore[return-value]


def _b(s: str) -> bytes:
    """Text to bytes without raising on lone surrogates (they can come out of a keyring or a JSON body)."""
    return s.encode("utf-8", "surrogatepass")


def _same(a: str, b: str) -> bool:
    """Constant-time equality that also takes non-ASCII text (hmac.compare_digest raises on it)."""
    return hmac.compare_digest(_b(a), _b(b))


def _timestamp(value: str) -> int | None:
    value = value.strip()
    digits = value[1:] if value[:1] in "+-" else value
    if not digits.isascii() or not digits.isdigit() or len(digits) > MAX_TIMESTAMP_DIGITS:
        return None
    return int(value)


def _clock(now: Any, tolerance: Any) -> tuple[float, float] | Verdict:
    now = time.time() if now is None else now
    if isinstance(now, bool) or not isinstance(now, (int, float)) or not math.isfinite(now):
        return _no("malformed_input", f"the clock to check against is not a time: {str(now)[:40]!r}")
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not math.isfinite(tolerance) \
            or tolerance < 0:
        return _no("malformed_input", f"the tolerance is not a number of seconds: {str(tolerance)[:40]!r}")
    return float(now), float(tolerance)


def _age(t: int, now: Any, tolerance: Any) -> Verdict | None:
    clock = _clock(now, tolerance)
    if isinstance(clock, Verdict):
        return clock
    now, tolerance = clock
    tolerance = int(tolerance)
    if now - t > tolerance:
        return _no("timestamp_too_old", f"signature matches, but its timestamp is {int(now - t)} s old "
                                        f"(tolerance {tolerance} s, {int(now - t - tolerance)} s over)")
    if t - now > tolerance:
        return _no("timestamp_too_new", f"signature matches, but its timestamp is {int(t - now)} s in the future "
                                        f"(tolerance {tolerance} s, {int(t - now - tolerance)} s over)")
    return None


# -- Stripe ------------------------------------------------------------------------------------------

@never_raises
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
    if len(header) > MAX_HEADER:
        return _no("malformed_header", f"the Stripe-Signature header is {len(header):,} characters long")
    pairs = [item.split("=", 1) for item in str(header).split(",")]
    if any(len(p) != 2 for p in pairs):
        return _no("malformed_header", f"cannot extract timestamp and signatures from {header[:80]!r}")
    timestamps = [v for k, v in pairs if k == "t"]
    t = _timestamp(timestamps[0]) if timestamps else None
    if t is None:
        return _no("malformed_header", f"no integer timestamp t= in {header[:80]!r}")
    v1 = [v for k, v in pairs if k == "v1"]
    if not v1:
        spaced = [k for k, _ in pairs if k.strip() == "v1"]
        hint = " (a space after a comma: the header must be exactly t=...,v1=...)" if spaced else ""
        others = sorted({k for k, _ in pairs if k != "t"})
        return _no("no_signature", f"no v1 signature in the header{hint}; found {', '.join(others) or 'nothing'}")
    expected = hmac.new(_b(secret), f"{t}.".encode() + bytes(payload), hashlib.sha256).hexdigest()
    if not any(_same(expected, sig) for sig in v1):
        upper = any(_same(expected, sig.lower()) for sig in v1)
        if upper:
            return _no("mismatch", "the signature is upper-case hex; Stripe sends lower-case and compares exactly")
        return _no("mismatch", f"no v1 signature matches ({len(v1)} tried): another secret, or the body changed")
    return _age(t, now, tolerance) or _ok(f"v1 matches, timestamp {t}")


# -- Twilio ------------------------------------------------------------------------------------------

def _port_variants(url: str) -> list[str]:  # raises ValueError on a bad port or IPv6 address
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


@never_raises
def verify_twilio(url: str, params: Mapping[str, str | Sequence[str]] | bytes, signature: str | None,
                  auth_token: str) -> Verdict:
    if not auth_token or not isinstance(auth_token, str):
        return _no("missing_secret", "no Twilio auth token is configured")
    if signature is None or not str(signature).strip():
        return _no("missing_header", "no X-Twilio-Signature header")
    if not isinstance(signature, str):
        return _no("malformed_header", f"X-Twilio-Signature is not text: {type(signature).__name__}")
    signature = signature.strip()
    if len(signature) > MAX_HEADER or not signature.isascii() or not _b64_ok(signature):
        return _no("malformed_header", f"X-Twilio-Signature is not base64: {signature[:40]!r}")
    if not isinstance(url, str) or not url:
        return _no("malformed_url", "no URL to verify against")
    try:
        candidates = _port_variants(url)
    except ValueError as exc:  # a port out of range or not a number, a broken IPv6 address
        return _no("malformed_url", f"the URL cannot be parsed ({exc}): {url[:80]!r}")
    form: Mapping[str, str | Sequence[str]] | None
    if isinstance(params, (bytes, bytearray)):
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))  # split already in candidates
        claimed = query.get("bodySHA256")
        if not claimed:
            return _no("body_hash_mismatch", "a JSON body needs bodySHA256 in the URL's query, and there is none")
        actual = hashlib.sha256(bytes(params)).hexdigest()
        if not _same(actual, claimed.lower()):
            return _no("body_hash_mismatch", f"the body's SHA-256 is {actual[:12]}…, the URL says {claimed[:12]}…")
        form = None
    elif isinstance(params, Mapping):
        form = params
    else:
        return _no("malformed_payload", "params must be the form fields or the raw JSON body bytes")
    try:
        for candidate in candidates:
            data = _b(twilio_string_to_sign(candidate, form))
            expected = base64.b64encode(hmac.new(_b(auth_token), data, hashlib.sha1).digest()).decode()
            if _same(expected, signature):
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


@never_raises
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
    t = _timestamp(str(stamp))
    if t is None:
        return _no("malformed_header", f"the timestamp is not an integer: {str(stamp)[:40]!r}")
    if len(str(sigs)) > MAX_HEADER or len(str(msg_id)) > MAX_HEADER:
        return _no("malformed_header", "a signature header is far too long")
    if not isinstance(payload, (bytes, bytearray)):
        return _no("malformed_payload", "the payload must be the raw body bytes")
    expected = base64.b64encode(hmac.new(key, _b(f"{msg_id}.{t}.") + bytes(payload), hashlib.sha256).digest())
    entries = str(sigs).split()
    v1 = [e.split(",", 1)[1] for e in entries if e.startswith("v1,")]
    malformed = [e for e in entries if "," not in e]
    if not v1:
        if malformed:
            return _no("malformed_header", f"signature entries must be 'v1,<base64>': {malformed[0][:40]!r}")
        return _no("no_signature", "no v1 signature (v1a and other schemes are not checked)")
    if not any(hmac.compare_digest(expected, _b(s)) for s in v1):
        return _no("mismatch", f"no v1 signature matches ({len(v1)} tried): another secret, or the body changed")
    return _age(t, now, tolerance) or _ok(f"v1 matches, message {msg_id}")
