"""Secrets (deploy keys, webhook secrets) in the OS keyring, and only there.

On a machine with no keyring backend the store says so (`available` is False, `backend_name` tells
which backend refused) and can keep a secret for this session only, in memory, when the user agrees.
It never falls back to a file.
"""

from __future__ import annotations

import logging

import keyring
import keyring.errors
from keyring.backends import fail

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
        backend = keyring.get_keyring()
        return not isinstance(backend, fail.Keyring) and getattr(backend, "priority", 1) > 0

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
        if not self.available:
            raise SecretStoreError(
                f"No OS keyring is available (backend {self.backend_name}). The secret can be kept for "
                f"this session only; it is never written to disk in plain text."
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
