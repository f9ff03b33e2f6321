"""Text SQLite can take. A Python str may hold a lone surrogate ("\ud800": typed, pasted, or sent by a
hostile server as a JSON escape); UTF-8 cannot, and sqlite3 raises on binding it. Every replica read
binds its text through `valid_text`: a lone surrogate becomes U+FFFD (it matches nothing real), a
surrogate pair spelled as two code points becomes the character it spells."""

from __future__ import annotations

from typing import Any


def valid_text(value: str) -> str:
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _clean(value: Any) -> Any:
    return valid_text(value) if isinstance(value, str) else value


def valid_params(parameters: Any) -> Any:
    """Positional (tuple/list) or named (dict) DB-API parameters, or a list of them, with valid text."""
    if isinstance(parameters, dict):
        return {k: _clean(v) for k, v in parameters.items()}
    if isinstance(parameters, (list, tuple)):
        if parameters and isinstance(parameters[0], (list, tuple, dict)):
            return type(parameters)(valid_params(p) for p in parameters)
        return type(parameters)(_clean(v) for v in parameters)
    return parameters


def is_read(statement: str) -> bool:
    head = statement.lstrip()[:6].upper()
    return head.startswith("SELECT") or head.startswith("WITH")
