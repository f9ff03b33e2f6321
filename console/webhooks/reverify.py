"""Verifying stored deliveries with the configured secrets: the webhooks layer's orchestration over the
store (which knows nothing of signatures). Returns what it changed."""

from __future__ import annotations

import json
import time

from sqlalchemy import Engine

from console.changes import ChangeSet
from console.store.webhooks import DeliveryDetail, save_verdicts, to_verify
from console.webhooks.diagnose import Delivery, diagnose
from console.webhooks.secrets import WebhookSecrets


def delivery_of(d: DeliveryDetail) -> Delivery:
    """A stored delivery as the signature checks take it."""
    return Delivery(d.row["provider"] or "", d.row["endpoint"] or "", d.headers, d.body, d.row["received_at"])


def reverify_changes(engine: Engine, secrets: WebhookSecrets, *, only: list[str] | None = None,
                     batch: int = 500) -> ChangeSet:
    """Verify deliveries (all of them, or `only`) and store the verdicts; the verdicts written."""
    by_provider = {p: secrets.for_provider(p) for p in ("stripe", "twilio", "clerk")}
    changes = ChangeSet()
    if only is not None and not only:
        return changes
    with engine.connect() as conn:
        rows = to_verify(conn, only)
    now = time.time()
    for start in range(0, len(rows), batch):
        out = []
        for r in rows[start:start + batch]:
            try:  # one malformed delivery gets its own verdict; the rest are still checked
                try:
                    headers = json.loads(r[3] or "{}")
                except (ValueError, RecursionError):
                    headers = {}
                d = Delivery(r[1] or "", r[2] or "", headers, bytes(r[4] or b""), r[5])
                diag = diagnose(d, by_provider.get(d.provider, []))
                out.append((r[0], 1 if diag.verdict.valid else 0, diag.verdict.reason, diag.summary[:500],
                            diag.secret.label if diag.secret else None, now))
            except Exception as exc:  # noqa: BLE001
                out.append((r[0], 0, "malformed_input", f"could not be checked ({type(exc).__name__})", None, now))
        with engine.begin() as conn:
            changes.merge(save_verdicts(conn, out))
    return changes


def reverify(engine: Engine, secrets: WebhookSecrets, *, only: list[str] | None = None, batch: int = 500) -> int:
    """As `reverify_changes`; how many deliveries were verified."""
    return len(reverify_changes(engine, secrets, only=only, batch=batch).get_ids("delivery_verdicts"))
