"""Error fingerprints: what stays of an error message once its particulars are normalised away.

Jobs that fail the same way (the same message with other ids, numbers, URLs, emails or quoted values)
share a fingerprint, so the Jobs panel can group them as Sidekiq's Undertaker or Hookdeck's Issues do.
consoleRules.ts has the same function (same patterns, same hash), so the contract's `errorGroup` filter
selects what the replica groups.

Patterns are ASCII classes with explicit lookarounds (no \\w, \\b, \\s): Python and JavaScript read those
differently for non-ASCII text.
"""

from __future__ import annotations

import re

_T = "A-Za-z0-9_"  # token characters
_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^ \t\r'\"<>()]+"), "<url>"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "<email>"),
    (re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"), "<uuid>"),
    (re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`"), "<q>"),
    (re.compile(rf"(?<![{_T}])0x[0-9a-fA-F]+(?![{_T}])"), "<hex>"),
    (re.compile(rf"(?<![{_T}])(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]{{8,}}(?![{_T}])"), "<hex>"),
    # ids: a run of letters, digits, _ and - with at least one letter and one digit (cus_N1x..., AC12..., gpt-4o)
    (re.compile(rf"(?<![{_T}-])(?=[{_T}-]*[0-9])(?=[{_T}-]*[A-Za-z])[{_T}-]{{4,}}(?![{_T}-])"), "<id>"),
    (re.compile(r"[0-9]+(?:\.[0-9]+)?"), "<n>"),
    (re.compile(r"[ \t\r]+"), " "),
]


def normalise(error: str | None) -> str:
    """The error's first line with its particulars replaced by placeholders."""
    text = (error or "").split("\n", 1)[0]
    for pattern, placeholder in _RULES:
        text = pattern.sub(placeholder, text)
    return text.strip(" ")


_FNV_OFFSET, _FNV_PRIME, _MASK = 0xCBF29CE484222325, 0x100000001B3, (1 << 64) - 1


def fingerprint(error: str | None) -> str | None:
    """16 hex digits (FNV-1a 64 of the normalised text's UTF-8), or None for no error."""
    if not error or not isinstance(error, str):
        return None
    h = _FNV_OFFSET
    for byte in normalise(error).encode("utf-8", "replace"):
        h = ((h ^ byte) * _FNV_PRIME) & _MASK
    return f"{h:016x}"
