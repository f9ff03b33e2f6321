"""Formatting of values for people: local times, ages, sizes. No I/O, cheap enough for data()."""

from __future__ import annotations

import time
from datetime import datetime

from console.domain import counts


def local_time(ms: int | float | None, *, seconds: bool = False) -> str:
    if not ms:
        return ""
    try:
        dt = datetime.fromtimestamp(ms / 1000)
    except (OverflowError, OSError, ValueError):
        return "?"
    return dt.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def age(ms: int | float | None, now: float | None = None) -> str:
    """"3 min ago", "in 2 h", "5 d ago"."""
    if not ms:
        return ""
    delta = ((now if now is not None else time.time()) * 1000 - ms) / 1000
    future = delta < 0
    delta = abs(delta)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if delta >= size:
            n = int(delta // size)
            break
    else:
        n, unit = int(delta), "s"
    return f"in {n} {unit}" if future else f"{n} {unit} ago"


def size(nbytes: int) -> str:
    value = float(nbytes)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


count = counts.count  # one writing of counts for the panels and the Qt-free messages (console.backend)
whole = counts.whole  # and of whole numbers, for the panels and the Data browser's JSON (console.store.browse)
