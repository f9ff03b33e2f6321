"""How the Call rates panel writes values and moments: rates per second, latencies in ms or s, times with their
date and UTC offset (an engineer comparing with a log or a colleague elsewhere needs the offset)."""

from __future__ import annotations

import math
from datetime import datetime

from console.domain import counts


def number(v: float) -> str:
    """Three significant digits from 1 up, three decimals below (a legend's per-second figures: the chart's title
    says the unit). Never wider than "0.000": "0.000984" did not fit the legend's column and was cut to
    "0.0…984"."""
    if v is None or math.isnan(v):
        return "–"
    if v == 0:
        return "0"
    if abs(v) >= 100:
        return counts.count(round(v))
    if abs(v) >= 1:
        return f"{v:.3g}"
    if abs(v) < 0.0005:
        return "<0.001" if v > 0 else "-<0.001"
    return f"{v:.3f}"


def rate(v: float) -> str:
    text = number(v)
    return text if text == "–" else text + "/s"


def ms(v: float) -> str:
    if v is None or math.isnan(v):
        return "–"
    if v >= 1000:
        s = v / 1000
        return f"{s:.0f} s" if s >= 10 else f"{s:.2g} s"
    if v >= 10:
        return f"{v:.0f} ms"
    return f"{v:.2g} ms"


def count(n: float | None) -> str:
    return "–" if n is None else counts.count(round(n))  # thousands as everywhere in the app: "18 428"


def moment(t: float) -> str:
    """'2026-12-02 18:40:05 UTC+00:00': local time, as the axis shows it, with its offset."""
    d = datetime.fromtimestamp(t).astimezone()
    off = d.strftime("%z") or "+0000"
    return f"{d:%Y-%m-%d %H:%M:%S} UTC{off[:3]}:{off[3:]}"
