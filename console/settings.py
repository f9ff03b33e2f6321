"""Typed settings, declared once, stored as JSON in the config directory.

Secrets are not settings: the deploy key lives in the OS keyring (console.secrets), never here.
Qt's QSettings keeps only UI state (geometry, splitters, header layouts).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from console.paths import config_dir

log = logging.getLogger(__name__)


@dataclass
class Settings:
    deployment_url: str = ""
    # Which user of the product is operating: write actions act as this user.
    operator_user_id: str = ""
    operator_email: str = ""
    # "(nobody: read-only)" chosen in Settings: no write action, not even as the demo's admin.
    operator_read_only: bool = False
    theme: str = "system"  # system | light | dark
    # Tables read through the client on demand instead of replicated ("component/table", root = "").
    on_demand_tables: list = field(default_factory=list)
    search_debounce_ms: int = 200
    # Replaying with a fresh signature made with a live secret can trigger real effects: off unless chosen.
    allow_live_resign: bool = False
    # The function runner refuses mutations and actions on a production deployment (prod: key) unless this is on.
    allow_production_writes: bool = False
    # Chats: hovering a chat this long prefetches its latest messages, kept this long in the cache.
    chat_prefetch: bool = True
    chat_hover_ms: int = 150
    chat_cache_ttl_s: int = 30
    # In the offline demo a local worker runs jobs and enqueues new ones, so the queue looks alive.
    demo_worker: bool = True
    # Alert rule thresholds (console.alerts.RULES keys); missing keys use the rule's default.
    alert_thresholds: dict = field(default_factory=dict)
    # A desktop notification when an alert fires while the window is not focused.
    alert_notifications: bool = True

    def on_demand(self) -> set[tuple[str, str]]:
        out = set()
        for item in self.on_demand_tables:
            component, _, table = str(item).rpartition("/")
            if table:
                out.add((component, table))
        return out

    @classmethod
    def path(cls) -> Path:
        return config_dir() / "settings.json"

    @classmethod
    def load(cls) -> "Settings":
        path = cls.path()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.warning("settings file %s unreadable (%s); using defaults", path, exc)
            return cls()
        known = {f.name: f.type for f in fields(cls)}
        values = {}
        for key, value in raw.items() if isinstance(raw, dict) else ():
            if key in known and isinstance(value, type(getattr(cls(), key))):
                values[key] = value
        return cls(**values)

    def save(self) -> None:
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        os.replace(tmp, path)  # a crash mid-write leaves the old file, never half a file
