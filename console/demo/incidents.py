"""The offline demo's incidents, so every alert rule fires at some point in ten minutes of use (Qt-free).

A twelve-minute cycle from the moment the demo worker starts:
- 0-3 min: normal traffic;
- 3-5.5 min: the worker is down (its cron stops claiming; new jobs keep arriving): "worker down" and
  "oldest waiting" fire after two minutes;
- 6-9 min: a bad deploy: most job attempts fail (a type's failure rate and dead jobs fire) and Twilio
  deliveries arrive signed with an old auth token, as after a token rotation nobody told the product about
  (signature failures fire);
- 9-12 min: normal again; the alerts resolve.
Stuck jobs are in the generated data from the start.
"""

from __future__ import annotations

import random
import urllib.parse

from console.demo.secrets import DEMO_ENDPOINTS, DEMO_TWILIO_AUTH_TOKEN
from console.signatures import sign_twilio
from console.webhooks.ingest import delivery_doc

CYCLE_S = 720
OUTAGE = (180, 330)
FAILING = (360, 540)
FAILING_RATE = 0.7
OLD_TWILIO_TOKEN = "0ld4uth70k3n" + "0" * 20
DELIVERY_EVERY_S = 15  # while failing, a delivery signed with the old token this often


def phase(elapsed_s: float) -> str:
    t = elapsed_s % CYCLE_S
    if OUTAGE[0] <= t < OUTAGE[1]:
        return "outage"
    if FAILING[0] <= t < FAILING[1]:
        return "failing"
    return "normal"


def twilio_delivery(rng: random.Random, now_ms: int, phone: str, *, old_token: bool) -> dict:
    """An inbound SMS delivery as Twilio sends it, signed with the demo's auth token (or the old one)."""
    sid = "SM" + "".join(rng.choice("0123456789abcdef") for _ in range(32))
    params = {"AccountSid": "AC" + "d3m0" * 8, "ApiVersion": "2010-04-01", "Body": rng.choice(
        ("yes", "STOP", "can we move my session?", "thanks!", "what time tomorrow?")), "From": phone,
        "MessageSid": sid, "NumMedia": "0", "SmsSid": sid, "SmsStatus": "received", "To": "+18885550199"}
    url = DEMO_ENDPOINTS["twilio"]
    headers = {"Host": urllib.parse.urlsplit(url).netloc, "User-Agent": "TwilioProxy/1.1",
               "Content-Type": "application/x-www-form-urlencoded",
               "X-Twilio-Signature": sign_twilio(url, params, OLD_TWILIO_TOKEN if old_token else DEMO_TWILIO_AUTH_TOKEN)}
    return delivery_doc(url, "POST", headers, urllib.parse.urlencode(params).encode(), now_ms, "demo")
