"""Why a delivery fails verification: try the plausible causes and say which one explains it.

Checked as the receiver saw it: the timestamp tolerance is measured at the moment it was received.
Causes tried: another configured secret (which one), a different URL for Twilio (scheme, port,
trailing slash, host, query), a timestamp outside the tolerance while the signature itself matches,
a body re-serialised or trimmed after signing, headers missing or malformed.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field
from typing import Mapping

from console.signatures import Verdict, verify_standard_webhook, verify_stripe, verify_twilio
from console.webhooks.secrets import Secret

TOLERANCE = 300


@dataclass
class Delivery:
    provider: str
    endpoint: str
    headers: Mapping[str, str]
    body: bytes
    received_at_ms: int | None = None


@dataclass
class Diagnosis:
    verdict: Verdict  # with the first (current) secret, as the receiver saw it
    secret: Secret | None
    causes: list[str] = field(default_factory=list)
    verifies_with: Secret | None = None  # another configured secret that verifies it
    verifies_at_url: str | None = None  # Twilio: the URL it was signed for

    @property
    def summary(self) -> str:
        if self.verdict.valid:
            return f"valid ({self.secret.label if self.secret else 'no secret'})"
        return "; ".join(self.causes) or self.verdict.detail


def _header(headers: Mapping[str, str], name: str) -> str | None:
    if not isinstance(headers, Mapping):  # a stored delivery's headers can be any JSON
        return None
    lowered = {str(k).lower(): v for k, v in headers.items()}
    value = lowered.get(name.lower())
    return value if isinstance(value, str) else None


def _form(body: bytes) -> dict[str, list[str]] | None:
    try:
        return urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        return None


def check(d: Delivery, secret: str, *, url: str | None = None, body: bytes | None = None,
          now: float | None = None) -> Verdict:
    """One verification of a delivery with one secret (and optionally another URL or body)."""
    body = d.body if body is None else body
    now = now if now is not None else (d.received_at_ms / 1000 if d.received_at_ms else None)
    if d.provider == "stripe":
        return verify_stripe(body, _header(d.headers, "Stripe-Signature"), secret, tolerance=TOLERANCE, now=now)
    if d.provider == "twilio":
        target = url or d.endpoint
        content_type = (_header(d.headers, "Content-Type") or "").lower()
        params: Mapping | bytes = body if "json" in content_type else (_form(body) or {})
        return verify_twilio(target, params, _header(d.headers, "X-Twilio-Signature"), secret)
    return verify_standard_webhook(body, d.headers, secret, tolerance=TOLERANCE, now=now)


def url_variants(url: str, host_header: str | None = None) -> list[tuple[str, str]]:
    """(variant, what differs) for the URL mistakes that break Twilio signatures most often."""
    try:
        return _url_variants(url, host_header)
    except ValueError:  # a bad port, a broken IPv6 address in the URL or the Host header: no variants to try
        return []


def _url_variants(url: str, host_header: str | None) -> list[tuple[str, str]]:
    parts = urllib.parse.urlsplit(url)
    out: list[tuple[str, str]] = []
    other_scheme = "http" if parts.scheme == "https" else "https"
    out.append((urllib.parse.urlunsplit(parts._replace(scheme=other_scheme)), f"{other_scheme} instead of {parts.scheme}"))
    default = 443 if parts.scheme == "https" else 80
    if parts.port is None:
        out.append((urllib.parse.urlunsplit(parts._replace(netloc=f"{parts.netloc}:{default}")), f"with port {default}"))
    else:
        out.append((urllib.parse.urlunsplit(parts._replace(netloc=parts.hostname or "")), "without the port"))
    path = parts.path[:-1] if parts.path.endswith("/") else parts.path + "/"
    out.append((urllib.parse.urlunsplit(parts._replace(path=path)),
                "without the trailing slash" if parts.path.endswith("/") else "with a trailing slash"))
    if parts.query:
        out.append((urllib.parse.urlunsplit(parts._replace(query="")), "without the query string"))
    if host_header and host_header.split(":")[0] != parts.hostname:
        out.append((urllib.parse.urlunsplit(parts._replace(netloc=host_header)), f"with host {host_header}"))
        out.append((urllib.parse.urlunsplit(parts._replace(netloc=host_header, scheme="https")),
                    f"with host {host_header} over https"))
    return out


def _body_variants(body: bytes) -> list[tuple[bytes, str]]:
    out = []
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested too deep to re-serialise
        parsed = None
    if parsed is not None:
        for variant, what in ((json.dumps(parsed, separators=(",", ":")), "compact JSON"),
                              (json.dumps(parsed), "JSON with spaces"),
                              (json.dumps(parsed, indent=2), "indented JSON")):
            if variant.encode() != body:
                out.append((variant.encode(), f"the body was re-serialised after signing (it was signed as {what})"))
    if body.endswith(b"\n"):
        out.append((body.rstrip(b"\r\n"), "a newline was added to the body after signing"))
    else:
        out.append((body + b"\n", "a trailing newline was removed from the body after signing"))
    if body != body.strip():
        out.append((body.strip(), "whitespace around the body was trimmed after signing"))
    return out


def diagnose(d: Delivery, secrets: list[Secret], *, now: float | None = None) -> Diagnosis:
    """Never raises: one malformed delivery gets its own verdict and the others are still checked."""
    try:
        return _diagnose(d, secrets, now=now)
    except Exception as exc:  # noqa: BLE001
        verdict = Verdict(False, "malformed_input", f"could not be checked ({type(exc).__name__})")
        return Diagnosis(verdict, secrets[0] if secrets else None,
                         [f"malformed input: this delivery could not be checked ({type(exc).__name__})"])


def _diagnose(d: Delivery, secrets: list[Secret], *, now: float | None = None) -> Diagnosis:
    if not secrets:
        verdict = Verdict(False, "missing_secret", f"no {d.provider} secret is configured")
        return Diagnosis(verdict, None, [f"Configure the {d.provider} secret (Webhooks > Secrets) to verify."])
    primary = secrets[0]
    verdict = check(d, primary.value, now=now)
    diag = Diagnosis(verdict, primary)
    if verdict.valid:
        return diag
    if verdict.reason in ("missing_header", "malformed_header", "no_signature", "malformed_payload",
                          "malformed_url", "malformed_input"):
        diag.causes.append(f"{verdict.reason.replace('_', ' ')}: {verdict.detail}")
        return diag
    if verdict.reason in ("timestamp_too_old", "timestamp_too_new"):
        diag.causes.append(f"{verdict.detail} — a replay of an old capture, or a clock that is off")
        return diag
    # The signature does not match: another secret? another URL? another body?
    for other in secrets[1:]:
        alt = check(d, other.value, now=now)
        if alt.valid or alt.reason.startswith("timestamp_"):
            diag.verifies_with = other
            diag.causes.append(f"signed with the {other.label}, not the {primary.label} "
                               f"(a rotated secret, or the other environment)")
            return diag
    if d.provider == "twilio":
        for variant, what in url_variants(d.endpoint, _header(d.headers, "Host")):
            for s in secrets:
                if check(d, s.value, url=variant).valid:
                    diag.verifies_at_url = variant
                    extra = "" if s is primary else f" and the {s.label}"
                    diag.causes.append(f"the URL differs ({what}): would verify with URL {variant}{extra}. "
                                       f"Twilio signs the public URL exactly as configured in its console")
                    return diag
    for variant, what in _body_variants(d.body):
        if any(check(d, s.value, body=variant, now=now).valid for s in secrets):
            diag.causes.append(what)
            return diag
    if d.provider == "twilio":
        diag.causes.append("no configured auth token, URL variant or body variant verifies it: the parameters were "
                           "changed after signing, or it was signed with an auth token that is not configured")
    else:
        diag.causes.append("no configured secret verifies it and the body is not a re-serialisation: the body was "
                           "changed after signing, or it was signed with a secret that is not configured")
    return diag
