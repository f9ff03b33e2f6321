"""Secrets (deploy keys, webhook secrets) in the OS keyring, and only there.

On a machine with no keyring backend the store says so (`available` is False, `backend_name` tells
which backend refused) and can keep a secret for this session only, in memory, when the user agrees.
It never falls back to a file: a backend that keeps secrets in a file (keyrings.alt's PlaintextKeyring,
which only base64-encodes them, its EncryptedKeyring, keyrings.cryptfile, ...) or that cannot store at
all (fail, null) does not count as the OS keyring, nor does a chainer that would fall through to one.
"""

from __future__ import annotations

import logging

import keyring
import keyring.errors
from keyring.backends import chainer, fail

SERVICE = "convex-ops-console"
log = logging.getLogger(__name__)


class SecretStoreError(Exception):
    pass


class SecretStore:
    def __init__(self, service: str = SERVICE) -> None:
        self.service = service
        self._session: dict[str, str] = {}

    @property
    def backend_name(self) -> str:
        backend = keyring.get_keyring()
        return f"{type(backend).__module__}.{type(backend).__name__}"

    @property
    def available(self) -> bool:
        return refusal(keyring.get_keyring()) is None

    @property
    def unavailable_reason(self) -> str | None:
        """Why secrets are not kept in the OS keyring here, naming the backend (and its file, if any)."""
        return refusal(keyring.get_keyring())

    def get(self, name: str) -> str | None:
        if name in self._session:
            return self._session[name]
        if not self.available:
            return None
        try:
            return keyring.get_password(self.service, name)
        except keyring.errors.KeyringError as exc:
            log.warning("keyring read of %s failed: %s", name, type(exc).__name__)
            return None

    def set(self, name: str, value: str, *, session_only: bool = False) -> str:
        """Store a secret. Returns where it went: "keyring" or "session"."""
        if session_only:
            self._session[name] = value
            return "session"
        why = self.unavailable_reason
        if why is not None:
            raise SecretStoreError(
                f"No OS keyring is available: {why}. The secret can be kept for this session only; it is never "
                f"written to disk."
            )
        try:
            keyring.set_password(self.service, name, value)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(f"The OS keyring refused to store the secret: {exc}") from exc
        self._session.pop(name, None)
        return "keyring"

    def delete(self, name: str) -> None:
        self._session.pop(name, None)
        if self.available:
            try:
                keyring.delete_password(self.service, name)
            except keyring.errors.PasswordDeleteError:
                pass

    def where(self, name: str) -> str | None:
        if name in self._session:
            return "session"
        return "keyring" if self.available and self.get(name) is not None else None


DEPLOY_KEY = "deploy-key"

# Backends, by module, that keep secrets in a file of their own or cannot keep them at all.
_NOT_OS_KEYRING = ("keyrings.alt", "keyrings.cryptfile", "keyring.backends.fail", "keyring.backends.null")


def _name(backend: object) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def refusal(backend: object) -> str | None:
    """None if `backend` is an OS keyring we trust with secrets, else why not (for the user)."""
    name = _name(backend)
    if isinstance(backend, chainer.ChainerBackend):
        inner = list(getattr(backend, "backends", []) or [])
        if not inner:
            return f"the keyring chainer ({name}) has no backend to store into"
        for b in inner:  # the chainer writes to the first that accepts: each must be trusted
            why = refusal(b)
            if why is not None:
                return f"the keyring chainer includes a backend that is not an OS keyring: {why}"
        return None
    if isinstance(backend, fail.Keyring) or type(backend).__module__.startswith(_NOT_OS_KEYRING):
        file_path = _file_path(backend)
        if file_path:
            how = ", only base64-encoded, readable by anyone who can read the file" if "Plaintext" in name else ""
            return f"the keyring backend {name} keeps secrets in the file {file_path}{how}"
        return f"the keyring backend {name} cannot store secrets"
    file_path = _file_path(backend)
    if file_path:  # any other backend that says it writes a file
        return f"the keyring backend {name} keeps secrets in the file {file_path}"
    try:
        priority = getattr(backend, "priority", 1)
    except Exception:  # noqa: BLE001 - some backends raise from priority when their service is missing
        return f"the keyring backend {name} is not usable here"
    if not isinstance(priority, (int, float)) or priority <= 0:
        return f"the keyring backend {name} is not usable here (priority {priority})"
    return None


def _file_path(backend: object) -> str | None:
    try:
        value = getattr(backend, "file_path", None)
    except Exception:  # noqa: BLE001
        return None
    return str(value) if value else None
