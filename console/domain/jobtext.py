""""Error or payload contains": one rule for the replica, the stand-in and the console contract, so a
count shown before "retry all matching" is the count the deployment acts on.

What was typed becomes words (letters and digits; everything else separates them), case and accents
folded. A job matches when every word is a word of its text (the last error, each attempt's error, the
payload's values), the last typed word also as the start of one when it has two characters or more (search
as you type). The replica answers this with its FTS5 index (unicode61, remove_diacritics); the stand-in
and consoleRules.ts `jobTextMatches` with this code. No SQL-like substring matching anywhere: "wilio"
finds nothing, "upstream twilio" finds "Twilio 500: upstream".
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Iterable, Iterator

MAX_TERMS = 16  # what a person types is bounded: a pasted essay is not a query
MAX_TERM_CHARS = 64
_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.category(c).startswith("M")).lower()


def terms(typed: str) -> list[str]:
    """The words searched for, in order, each once (folded), bounded."""
    out: list[str] = []
    for word in _WORD.findall(fold(typed[:MAX_TERMS * (MAX_TERM_CHARS + 1)])):
        word = word[:MAX_TERM_CHARS]
        if word not in out:
            out.append(word)
            if len(out) == MAX_TERMS:
                break
    return out


def _atoms(value: Any) -> Iterator[str]:
    # The payload's leaf values as SQLite's json_tree gives them: text, numbers, true/false as 1/0; no keys.
    if isinstance(value, dict):
        for v in value.values():
            yield from _atoms(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _atoms(v)
    elif isinstance(value, bool):
        yield "1" if value else "0"
    elif isinstance(value, float) and value.is_integer():
        yield str(int(value))  # as JavaScript's String(3.0): "3"
    elif value is not None:
        yield str(value)


def job_texts(job: dict[str, Any]) -> Iterator[str]:
    yield str(job.get("lastError") or "")
    for attempt in job.get("errors") or ():
        if isinstance(attempt, dict) and attempt.get("error") is not None:
            yield str(attempt["error"])
    yield from _atoms(job.get("payload"))


def words(texts: Iterable[str]) -> set[str]:
    return {w for t in texts for w in _WORD.findall(fold(t))}


def matches(typed: str, job: dict[str, Any]) -> bool:
    wanted = terms(typed)
    if not wanted:
        return True  # nothing searchable typed: no text condition
    have = words(job_texts(job))
    *whole, last = wanted
    if any(w not in have for w in whole):
        return False
    if len(last) >= 2:
        return any(h.startswith(last) for h in have)
    return last in have
