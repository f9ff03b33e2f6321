"""Who is calling: the Authorization header as a deployment reads it.

Facts from get-convex/convex-backend: crates/local_backend/src/authentication.rs
(`ExtractAuthenticationToken`, `extract_admin_key`), crates/common/src/types/admin_key.rs
(`remove_type_prefix`), crates/authentication/src/lib.rs (`extract_bearer_token`, `validate_id_token`),
crates/keybroker/src/operations.rs (`bad_admin_key_error`), crates/common/src/version.rs (`ClientVersion`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from console.standin.errors import HttpError

BAD_DEPLOY_KEY = ("The provided deploy key was invalid for this deployment. Double check that the environment "
                  "this key was generated for matches the desired deployment.")
BAD_ADMIN_KEY = "The provided admin key was invalid for this instance"
MALFORMED = "Malformed Authorization header."

_STRING_CLAIMS = ("tokenIdentifier", "issuer", "subject", "name", "givenName", "familyName", "nickname",
                  "preferredUsername", "profileUrl", "pictureUrl", "websiteUrl", "email", "gender", "birthday",
                  "timezone", "language", "phoneNumber", "address", "updatedAt")
_BOOL_CLAIMS = ("emailVerified", "phoneNumberVerified")


@dataclass
class Caller:
    """admin: the deploy key was presented; identity: the acting user's attributes, if any."""

    admin: bool = False
    identity: dict[str, Any] | None = None

    @property
    def kind(self) -> str:
        """The identity type the function log names (crates/common/src/identity.rs `InertIdentity::tag`)."""
        if self.admin:
            return "member_acting_user" if self.identity else "instance_admin"
        return "user" if self.identity else "unknown"


@dataclass
class Token:
    kind: str  # "none" | "admin" | "bearer"
    key: str = ""
    identity: dict[str, Any] | None = None
    jwt: str = ""


def remove_type_prefix(key: str) -> str:
    """'prod:name|secret' -> 'name|secret'; 'preview:team:project|secret' -> 'secret'."""
    instance, sep, key_part = key.partition("|")
    if not sep:
        return key
    kind, sep, info = instance.partition(":")
    if not sep:
        return key
    if kind.lower() in ("preview", "project"):
        return key_part
    return f"{info}|{key_part}"


def _identity(encoded: str) -> dict[str, Any]:
    try:
        raw = base64.b64decode(encoded, validate=True)
        value = json.loads(raw)
    except (ValueError, binascii.Error) as exc:
        raise HttpError(400, "HeaderParseFailure", MALFORMED) from exc
    if not isinstance(value, dict):
        raise HttpError(400, "HeaderParseFailure", MALFORMED)
    for name in _STRING_CLAIMS:
        if name in value and value[name] is not None and not isinstance(value[name], str):
            raise HttpError(400, "HeaderParseFailure", MALFORMED)
    for name in _BOOL_CLAIMS:
        if name in value and value[name] is not None and not isinstance(value[name], bool):
            raise HttpError(400, "HeaderParseFailure", MALFORMED)
    if not value.get("tokenIdentifier"):
        if not (isinstance(value.get("issuer"), str) and isinstance(value.get("subject"), str)):
            raise HttpError(400, "HeaderParseFailure", MALFORMED)
        value = {**value, "tokenIdentifier": f"{value['issuer']}|{value['subject']}"}
    return value


def parse_token(header: str | None, admin_key_param: str | None) -> Token:
    """The credentials of a request, before they are checked."""
    if header is not None:
        if len(header) < 7:
            raise HttpError(400, "InvalidHeaderFailure", "Invalid authentication header")
        if header[:7].lower() == "convex ":
            key = remove_type_prefix(header[7:])
            key, sep, encoded = key.partition(":")
            return Token("admin", key, _identity(encoded) if sep else None)
        if len(header) <= 7 or header[:7].lower() != "bearer ":
            raise HttpError(400, "InvalidAdminKey", "Invalid admin key")
        return Token("bearer", jwt=header[7:].strip())
    if admin_key_param is not None:
        return Token("admin", remove_type_prefix(admin_key_param))
    return Token("none")


def _b64url_json(part: str) -> Any:
    padded = part + "=" * (-len(part) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode()))


def check_token(token: Token, admin_key: str, *, redact: bool) -> Caller:
    """Check the credentials against this deployment: the deploy key, or a JWT (no auth providers here)."""
    if token.kind == "none":
        return Caller()
    if token.kind == "admin":
        mine = remove_type_prefix(admin_key)
        accepted = {mine, mine.partition("|")[2]} if "|" in mine else {mine}
        if token.key not in accepted:
            raise HttpError(401, "BadAdminKey", BAD_ADMIN_KEY)
        return Caller(admin=True, identity=token.identity)
    # A JWT is routed to a configured provider by its issuer; the stand-in has none configured.
    parts = token.jwt.split(".")
    try:
        if len(parts) != 3:
            raise ValueError("not three parts")
        payload = _b64url_json(parts[1])
        if not isinstance(payload, dict):
            raise ValueError("payload is not an object")
    except (ValueError, binascii.Error) as exc:
        raise HttpError(401, "InvalidAuthHeader",
                        "Could not parse JWT payload. Check that the token is a valid JWT format with three "
                        "base64-encoded parts separated by dots.") from exc
    if not payload.get("iss"):
        raise HttpError(401, "InvalidAuthHeader",
                        "Missing issuer claim ('iss') in JWT payload. The JWT must include an 'iss' claim that "
                        "matches one of your configured auth providers.")
    if redact:
        raise HttpError(401, "NoAuthProvider", "No auth provider found matching the given token")
    raise HttpError(401, "NoAuthProvider", "No auth provider found matching the given token (no providers "
                                           "configured). Check convex/auth.config.ts.")


def must_be_admin(caller: Caller) -> None:
    if not caller.admin:
        raise HttpError(403, "BadDeployKey", BAD_DEPLOY_KEY)


_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                     r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
                     r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$")


_CLIENT_TYPES = {"python-convex": "python", "python": "python", "npm-cli": "npm-cli", "npm": "npm",
                 "actions": "actions", "rust": "rust"}
# crates/common/deprecation.json: versions at or below these are refused / warned about.
_UNSUPPORTED = {"npm": (0, 19, 1), "npm-cli": (0, 19, 1), "actions": (0, 19, 1), "python": (0, 0, 2),
                "rust": (0, 0, 1)}
_UPGRADE_REQUIRED = {"npm": (0, 19, 1), "npm-cli": (0, 19, 1), "actions": (0, 19, 1), "python": (0, 2, 0),
                     "rust": (0, 0, 1)}
_UPGRADE = {"npm": "Update your Convex npm version with `npx convex update` or `npm update`.",
            "python": "Update your Convex python version with `pip install --upgrade convex`.",
            "rust": "Update your Convex rust version with `cargo update -p convex` or by updating `Cargo.toml`."}


@dataclass
class ClientVersion:
    client: str  # the backend's ClientType name ("npm", "npm-cli", "python", ...) or the raw name
    version: tuple[int, int, int] | None  # None: not a semver ("Unrecognized")
    text: str

    def _at_or_below(self, threshold: tuple[int, int, int] | None) -> bool:
        return threshold is not None and (self.version is None or self.version <= threshold)

    def state(self) -> tuple[str, str] | None:
        """("Unsupported" | "UpgradeRequired", message) for old official clients, else None."""
        how = _UPGRADE.get("npm" if self.client in ("npm-cli", "actions") else self.client, "")
        if self._at_or_below(_UNSUPPORTED.get(self.client)):
            return "Unsupported", (f"The Convex {self.client} package at version {self.text} is no longer "
                                   f"supported. {how}")
        if self._at_or_below(_UPGRADE_REQUIRED.get(self.client)):
            return "UpgradeRequired", (f"The Convex {self.client} package at {self.text} is deprecated and will no "
                                       "longer be supported soon. When this version is no longer supported, "
                                       "requests to Convex will fail, so it is best to upgrade and redeploy your "
                                       f"application as soon as possible. {how}")
        return None

    def default_format(self) -> str:
        """Old npm (<= 1.4.1) and python (<= 0.5.0) clients get encoded JSON by default, the rest clean JSON."""
        threshold = {"npm": (1, 4, 1), "npm-cli": (1, 4, 1), "actions": (1, 4, 1), "python": (0, 5, 0)}.get(self.client)
        if threshold is None or self.version is None or self.version >= threshold:
            return "json"
        return "convex_encoded_json"


def parse_client_version(value: str | None) -> ClientVersion:
    """`Convex-Client`: split on '-', the longest semver from the right; a value without '-' is refused."""
    if value is None:
        return ClientVersion("unknown", None, "unknownversion")
    parts = value.split("-")
    if len(parts) < 2:
        raise HttpError(400, "InvalidClientVersion",
                        f"Failed to parse client version string: '{value}'. Expected format is "
                        "{client_name}-{semver}, e.g. my-esolang-client-0.0.1")
    name, version, text = parts[0], None, "-".join(parts[1:])
    for n in range(1, len(parts)):
        candidate = "-".join(parts[n:])
        match = _SEMVER.match(candidate)
        if match:
            name, text = "-".join(parts[:n]), candidate
            version = (int(match.group(1)), int(match.group(2)), int(match.group(3)))
            break
    return ClientVersion(_CLIENT_TYPES.get(name.lower(), name.lower()), version, text)
