"""Replaying a captured delivery: verbatim, re-signed with a fresh timestamp for the target URL, or with
an edited body, re-signed. Sent with the caller's long-lived httpx.AsyncClient."""

from __future__ import annotations

import ipaddress
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass

import httpx

from console.signatures import sign_standard_webhook, sign_stripe, sign_twilio
from console.webhooks.diagnose import TOLERANCE, Delivery, _form, _header
from console.webhooks.secrets import Secret

MODES = ("verbatim", "resigned", "edited")
# Headers that belong to the original connection, not to the delivery.
HOP_BY_HOP = {"host", "content-length", "connection", "transfer-encoding", "accept-encoding", "keep-alive"}
SIGNATURE_HEADERS = {"stripe-signature", "x-twilio-signature", "svix-id", "svix-timestamp", "svix-signature",
                     "webhook-id", "webhook-timestamp", "webhook-signature"}


class ReplayError(Exception):
    pass


@dataclass
class Prepared:
    url: str
    headers: dict[str, str]
    body: bytes
    warnings: list[str]


@dataclass
class Result:
    status: int | None
    latency_ms: float | None
    excerpt: str
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def proxy_for(url: str) -> str | None:
    """The proxy the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY) would send `url` through."""
    if is_loopback(url):
        return None  # send() never proxies loopback
    parts = urllib.parse.urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    if urllib.request.proxy_bypass_environment(parts.hostname or "", proxies):
        return None
    return proxies.get(parts.scheme) or proxies.get("all")


def _signed_at(d: Delivery) -> int | None:
    if d.provider == "stripe":
        header = _header(d.headers, "Stripe-Signature") or ""
        for item in header.split(","):
            k, _, v = item.partition("=")
            if k == "t" and v.isdigit():
                return int(v)
    elif d.provider == "clerk":
        stamp = _header(d.headers, "svix-timestamp") or _header(d.headers, "webhook-timestamp")
        if stamp and stamp.strip().isdigit():
            return int(stamp)
    return None


def prepare(d: Delivery, mode: str, target: str, *, secret: Secret | None = None, body: bytes | None = None,
            now: float | None = None, allow_live_secret: bool = False) -> Prepared:
    if mode not in MODES:
        raise ReplayError(f"unknown replay mode {mode!r}")
    if not target.startswith(("http://", "https://")):
        raise ReplayError("the target must be an http:// or https:// URL")
    now = time.time() if now is None else now
    headers = {k: v for k, v in d.headers.items() if k.lower() not in HOP_BY_HOP}
    warnings: list[str] = []
    if mode == "verbatim":
        signed = _signed_at(d)
        if signed is not None and now - signed > TOLERANCE:
            warnings.append(f"The signature is {int(now - signed)} s old: a receiver that checks the timestamp "
                            f"(tolerance {TOLERANCE} s) will refuse it. Re-sign to test the handler itself.")
        if d.provider == "twilio" and target != d.endpoint:
            warnings.append("Twilio signs the URL: sent verbatim to another URL, the signature will not match.")
        return Prepared(target, headers, d.body, warnings)
    if secret is None:
        raise ReplayError(f"re-signing needs a {d.provider} secret")
    if secret.live and not allow_live_secret:
        raise ReplayError("Re-signing with a live secret is off; enable it in Settings if you really mean it.")
    payload = d.body if mode == "resigned" else (body if body is not None else d.body)
    headers = {k: v for k, v in headers.items() if k.lower() not in SIGNATURE_HEADERS}
    if d.provider == "stripe":
        headers["Stripe-Signature"] = sign_stripe(payload, secret.value, timestamp=int(now))
    elif d.provider == "twilio":
        content_type = (_header(d.headers, "Content-Type") or "").lower()
        params = payload if "json" in content_type else {k: v for k, v in (_form(payload) or {}).items()}
        headers["X-Twilio-Signature"] = sign_twilio(target, params, secret.value)
    else:
        prefix = "webhook" if _header(d.headers, "webhook-id") and not _header(d.headers, "svix-id") else "svix"
        msg_id = _header(d.headers, f"{prefix}-id") or f"msg_replay_{int(now)}"
        headers.update(sign_standard_webhook(payload, secret.value, msg_id, timestamp=int(now), prefix=prefix))
    return Prepared(target, headers, payload, warnings)


async def send(client: httpx.AsyncClient, p: Prepared, method: str = "POST", timeout: float = 15.0,
               direct: httpx.AsyncClient | None = None) -> Result:
    """Send with `client`; a loopback target goes direct, never through an HTTP(S)_PROXY from the environment
    (the proxy would carry a "local" replay, signed, off this machine without anyone being asked). `direct`,
    a client made with trust_env=False, is used for that when given (a bulk replay keeps one for the run)."""
    started = time.perf_counter()
    try:
        if is_loopback(p.url) and direct is not None:
            response = await direct.request(method, p.url, headers=p.headers, content=p.body, timeout=timeout)
        elif is_loopback(p.url):
            async with httpx.AsyncClient(trust_env=False) as own:
                response = await own.request(method, p.url, headers=p.headers, content=p.body, timeout=timeout)
        else:
            response = await client.request(method, p.url, headers=p.headers, content=p.body, timeout=timeout)
    except httpx.HTTPError as exc:
        return Result(None, (time.perf_counter() - started) * 1000, "", f"{type(exc).__name__}: {exc}")
    latency = (time.perf_counter() - started) * 1000
    return Result(response.status_code, latency, response.text[:300])
