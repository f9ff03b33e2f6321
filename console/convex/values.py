"""The `convex_encoded_json` value codec.

Python model of Convex values: float = Float64 (JS `number`, `v.number()`), `Int64` = Int64 (JS `bigint`,
`v.int64()`), bytes = Bytes, and str, bool, None, list, dict as themselves.

Arguments are encoded by their declared type. A plain Python `int` is a number to Convex, so it goes out
as Float64 (a JSON number); only an explicit `Int64(n)` goes out as Int64, because a function declaring
`v.number()` refuses `{"$integer": ...}` and one declaring `v.int64()` refuses a plain number. A plain int
that a Float64 cannot hold exactly (beyond 2^53) is refused rather than silently rounded.

Decoding keeps the two apart: `{"$integer"}` becomes an `Int64` (an int subclass, so arithmetic works),
every JSON number becomes a float. `isinstance(v, Int64)` is the test; a decoded Int64 encodes back as Int64.

On the wire Int64 is `{"$integer": base64(8 bytes LE)}`, non-finite floats and -0.0 are
`{"$float": base64(8 bytes LE)}`, bytes are `{"$bytes": base64}`.
"""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

MAX_SAFE_INTEGER = 2**53  # the largest magnitude up to which a Float64 holds every integer exactly
MAX_DEPTH = 64  # Convex refuses values nested deeper than this (crates/value: MAX_NESTING)


class ValueError_(ValueError):
    """A wire value that is not valid convex_encoded_json."""


class Int64(int):
    """An explicit Convex Int64 (`v.int64()`, a JS bigint). Plain ints are sent as Float64."""

    __slots__ = ()

    def __new__(cls, value: Any = 0) -> "Int64":
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"Int64 needs a whole number, got {value!r}")
        self = super().__new__(cls, value)
        if not -(2**63) <= self < 2**63:
            raise ValueError(f"integer {int(self)} does not fit in Int64")
        return self

    def __repr__(self) -> str:
        return f"Int64({int(self)})"


def _unicode(text: str) -> str:
    """A surrogate pair spelled as two code points is the character it spells. A lone surrogate stays: it can
    arrive in a document a hostile server sent, and no Convex string can hold it, so sending it is refused
    where the request is built (ConvexHttp: InvalidText), not here."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            try:
                return text.encode("utf-16", "surrogatepass").decode("utf-16")
            except UnicodeDecodeError:
                return text
    return text


def encode(value: Any, _depth: int = 0) -> Any:
    if _depth > MAX_DEPTH:
        raise ValueError(f"value nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _unicode(value)
    if isinstance(value, Int64):
        return {"$integer": base64.b64encode(struct.pack("<q", value)).decode()}
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"integer {value} cannot be sent exactly as a Convex number (Float64); "
                             f"wrap it in Int64(...) if the function declares v.int64()")
        return float(value)
    if isinstance(value, float):
        if math.isfinite(value) and not (value == 0.0 and math.copysign(1.0, value) < 0):
            return value
        return {"$float": base64.b64encode(struct.pack("<d", value)).decode()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, (list, tuple)):
        return [encode(v, _depth + 1) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"object keys must be strings, got {k!r}")
            out[_unicode(k)] = encode(v, _depth + 1)
        return out
    raise ValueError(f"cannot encode {type(value).__name__} as a Convex value")


def _b64(text: Any, size: int | None) -> bytes:
    if not isinstance(text, str):
        raise ValueError_(f"expected base64 text, got {type(text).__name__}")
    try:
        raw = base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as exc:
        raise ValueError_(f"invalid base64 {text[:20]!r}") from exc
    if size is not None and len(raw) != size:
        raise ValueError_(f"expected {size} bytes, got {len(raw)}")
    return raw


def decode(value: Any, _depth: int = 0) -> Any:
    """Decode a wire value. JSON numbers are Float64 in Convex, so they come back as float; `$integer`
    comes back as Int64."""
    if _depth > MAX_DEPTH:
        raise ValueError_(f"value nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError as exc:  # a JSON integer beyond the Float64 range
            raise ValueError_(f"number {str(value)[:30]}… is out of the Float64 range") from exc
    if isinstance(value, list):
        return [decode(v, _depth + 1) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            (key, inner), = value.items()
            if key == "$integer":
                return Int64(struct.unpack("<q", _b64(inner, 8))[0])
            if key == "$float":
                return struct.unpack("<d", _b64(inner, 8))[0]
            if key == "$bytes":
                return _b64(inner, None)
            if key.startswith("$"):
                raise ValueError_(f"unknown encoded type {key}")
        return {k: decode(v, _depth + 1) for k, v in value.items()}
    raise ValueError_(f"not a JSON value: {type(value).__name__}")


def decode_scalar(value: Any) -> Any:
    """Decode one field without converting plain JSON numbers (cheap path for ingest)."""
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        if key in ("$integer", "$float", "$bytes"):
            return decode(value)
    return value


def check(value: Any, _depth: int = 0) -> None:
    """Raise ValueError_ unless `value` (parsed JSON) is a valid convex_encoded_json value: nesting within
    Convex's limit, tagged scalars well formed, plain numbers finite and integers exact as Float64."""
    if _depth > MAX_DEPTH:
        raise ValueError_(f"value nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError_(f"plain integer {str(value)[:30]} is beyond what a Float64 holds exactly "
                              f"(an Int64 would be {{\"$integer\": ...}})")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError_("a plain number that is not finite (Convex sends those as {\"$float\": ...})")
        return
    if isinstance(value, list):
        for v in value:
            check(v, _depth + 1)
        return
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)).startswith("$"):
            decode(value)  # a tagged scalar: validates it
            return
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError_("object key is not a string")
            check(v, _depth + 1)
        return
    raise ValueError_(f"not a JSON value: {type(value).__name__}")
