"""Where the console keeps its files. OPS_CONSOLE_HOME overrides everything (tests, portable use)."""

from __future__ import annotations

import os
import sys
from importlib import resources
from pathlib import Path

APP_DIR = "convex-ops-console"


def _home_override() -> Path | None:
    value = os.environ.get("OPS_CONSOLE_HOME")
    return Path(value) if value else None


def data_dir() -> Path:
    if (home := _home_override()) is not None:
        return home / "data"
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / APP_DIR


def config_dir() -> Path:
    if (home := _home_override()) is not None:
        return home / "config"
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Preferences"
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / APP_DIR


def default_demo_replica() -> Path:
    return data_dir() / "demo-replica.sqlite"


def resource(name: str) -> Path:
    """A file from resources/ (installed as console.resources, so it is found from a wheel too)."""
    return Path(str(resources.files("console.resources").joinpath(name)))
