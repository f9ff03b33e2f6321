"""Webhook signature engine (Qt-free): Stripe, Twilio and Standard Webhooks (Svix, Clerk)."""

from console.signatures.signing import sign_standard_webhook, sign_stripe, sign_twilio, twilio_string_to_sign

__all__ = ["sign_stripe", "sign_twilio", "sign_standard_webhook", "twilio_string_to_sign"]
