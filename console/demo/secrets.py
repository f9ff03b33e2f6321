"""The demo's webhook secrets. Public on purpose: demo deliveries are signed with them and anyone may
verify or replay them. Never use these for a real endpoint."""

DEMO_STRIPE_SECRET = "whsec_tidewell_demo_stripe_signing_secret"
DEMO_STRIPE_OLD_SECRET = "whsec_tidewell_demo_stripe_rotated_2025"
DEMO_TWILIO_AUTH_TOKEN = "d3m0t1dewe11aa7b0c0ffee0123456789"
# Standard Webhooks secret: "whsec_" + base64 of 32 bytes.
DEMO_CLERK_SECRET = "whsec_dGlkZXdlbGwtZGVtby1jbGVyay1zaWduaW5nLWtleQ=="

DEMO_SITE = "https://tidewell-demo.convex.site"
DEMO_ENDPOINTS = {
    "stripe": f"{DEMO_SITE}/stripe",
    "twilio": f"{DEMO_SITE}/twilio/sms",
    "clerk": f"{DEMO_SITE}/clerk",
}
