"""Webhook secrets per provider and environment, in the OS keyring (never in files or the replica).

The demo's secrets are public and always available for the "demo" environment; real ones live in the
keyring under `webhook:<provider>:<environment>`.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.demo.secrets import (
    DEMO_CLERK_SECRET,
    DEMO_STRIPE_OLD_SECRET,
    DEMO_STRIPE_SECRET,
    DEMO_TWILIO_AUTH_TOKEN,
)
from console.secrets import SecretStore

PROVIDERS = ("stripe", "twilio", "clerk")
ENVIRONMENTS = ("test", "live")
DEMO = {"stripe": DEMO_STRIPE_SECRET, "twilio": DEMO_TWILIO_AUTH_TOKEN, "clerk": DEMO_CLERK_SECRET}


@dataclass(frozen=True)
class Secret:
    provider: str
    environment: str  # demo | test | live | a label such as "rotated"
    value: str

    @property
    def label(self) -> str:
        return f"{self.provider} {self.environment} secret"

    @property
    def live(self) -> bool:
        return self.environment == "live"


class WebhookSecrets:
    def __init__(self, store: SecretStore, *, demo: bool = True) -> None:
        self.store = store
        self.demo = demo

    @staticmethod
    def key(provider: str, environment: str) -> str:
        return f"webhook:{provider}:{environment}"

    def get(self, provider: str, environment: str) -> str | None:
        return self.store.get(self.key(provider, environment))

    def set(self, provider: str, environment: str, value: str, *, session_only: bool = False) -> str:
        if provider not in PROVIDERS or environment not in ENVIRONMENTS:
            raise ValueError(f"unknown provider or environment: {provider} {environment}")
        if value:
            return self.store.set(self.key(provider, environment), value, session_only=session_only)
        self.store.delete(self.key(provider, environment))
        return "deleted"

    def for_provider(self, provider: str) -> list[Secret]:
        """Every secret that could have signed a delivery of this provider, the likeliest first."""
        out = []
        if self.demo and provider in DEMO:
            out.append(Secret(provider, "demo", DEMO[provider]))
        for env in ENVIRONMENTS:
            value = self.get(provider, env)
            if value:
                out.append(Secret(provider, env, value))
        if self.demo and provider == "stripe":
            # The demo rotated its Stripe secret once; deliveries signed with the old one show the diagnosis.
            out.append(Secret(provider, "demo, rotated 2025", DEMO_STRIPE_OLD_SECRET))
        return out

    def configured(self) -> dict[str, list[str]]:
        return {p: [s.environment for s in self.for_provider(p)] for p in PROVIDERS}
