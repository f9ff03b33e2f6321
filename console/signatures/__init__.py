"""Webhook signature engine (Qt-free): Stripe, Twilio and Standard Webhooks (Svix, Clerk)."""

from console.signatures.signing import sign_standard_webhook, sign_stripe, sign_twilio, twilio_string_to_sign
from console.signatures.verify import Verdict, verify_standard_webhook, verify_stripe, verify_twilio

__all__ = [
    "Verdict", "verify_stripe", "verify_twilio", "verify_standard_webhook",
    "sign_stripe", "sign_twilio", "sign_standard_webhook", "twilio_string_to_sign",
]
