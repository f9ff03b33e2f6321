"""Convex values on the stand-in's wire, as the backend encodes them (crates/value/src/json, export.rs).

Stored documents keep JSON numbers for Float64 (a JavaScript number; the seed data writes whole numbers
as JSON integers), `{"$integer": b64}` for Int64, `{"$bytes": b64}` for bytes and `{"$float": b64}` for
the specials. Python values from function code follow the same rule: `int` and `float` are Float64,
`Int64(n)` is an Int64, `bytes` are bytes.

Out, every Float64 is printed with a fraction or an exponent (`1741400033422.0`), as serde's f64
serializer does; the official Python client refuses a JSON integer where it expects a float.
"""

from __future__ import annotations

import base64
import json
import math
import struct
from typing import Any

ENCODED = ("convex_encoded_json", "convex_json")
CLEAN = ("json", "convex_clean_json")
EXPORT = ("export_json",)
FORMATS = set(ENCODED + CLEAN + EXPORT)


class Int64(int):
    """An Int64 argument or result (a plain Python int is a Float64, as a JS number is)."""


class BadValue(ValueError):
    pass


def _b64_int(text: Any) -> int:
    if not isinstance(text, str):
        raise BadValue("$integer must hold a base64 string")
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise BadValue(f"Invalid base64 in $integer: {exc}") from exc
    if len(raw) != 8:
        raise BadValue(f"Int64 must be 8 bytes, got {len(raw)}")
    return int.from_bytes(raw, "little", signed=True)


def _b64_float(text: Any) -> float:
    if not isinstance(text, str):
        raise BadValue("$float must hold a base64 string")
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise BadValue(f"Invalid base64 in $float: {exc}") from exc
    if len(raw) != 8:
        raise BadValue(f"Float64 must be 8 bytes, got {len(raw)}")
    return struct.unpack("<d", raw)[0]


def _special(x: float) -> bool:
    return not math.isfinite(x) or (x == 0.0 and math.copysign(1.0, x) < 0)


def float_b64(x: float) -> str:
    return base64.b64encode(struct.pack("<d", x)).decode()


def int_b64(n: int) -> str:
    return base64.b64encode(int(n).to_bytes(8, "little", signed=True)).decode()


def decode_arg(value: Any) -> Any:
    """convex_encoded_json (arguments) -> Python values: Int64, float, bytes, str, bool, None, list, dict."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return [decode_arg(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            key, inner = next(iter(value.items()))
            if key == "$integer":
                return Int64(_b64_int(inner))
            if key == "$bytes":
                try:
                    return base64.b64decode(inner, validate=True)
                except (ValueError, TypeError) as exc:
                    raise BadValue(f"Invalid base64 in $bytes: {exc}") from exc
            if key == "$float":
                x = _b64_float(inner)
                if not _special(x):
                    raise BadValue(f"Float64 {x!r} should be encoded as a number")
                return x
        for key in value:
            if key.startswith("$"):
                raise BadValue(f"Field name {key} starts with a '$', which is reserved.")
        return {k: decode_arg(v) for k, v in value.items()}
    raise BadValue(f"Unsupported value {value!r}")


def _float_out(x: float, fmt: str) -> Any:
    if fmt in CLEAN:
        if math.isnan(x):
            return "NaN"
        if math.isinf(x):
            return "Infinity" if x > 0 else "-Infinity"
        return x
    if fmt in EXPORT:
        return x if math.isfinite(x) else {"$float": float_b64(x)}
    return {"$float": float_b64(x)} if _special(x) else x


def _int64_out(n: int, fmt: str) -> Any:
    if fmt in CLEAN:
        return str(n)
    if fmt in EXPORT:
        return int(n)
    return {"$integer": int_b64(n)}


def _bytes_out(raw: bytes, fmt: str) -> Any:
    text = base64.b64encode(raw).decode()
    return text if fmt in CLEAN else {"$bytes": text}


def to_float(n: int) -> float:
    try:
        return float(n)
    except OverflowError:
        return math.inf if n > 0 else -math.inf


def encode(value: Any, fmt: str) -> Any:
    """A stored or computed value in the requested format, ready for json.dumps(allow_nan=False)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Int64):
        return _int64_out(value, fmt)
    if isinstance(value, int):
        return _float_out(to_float(value), fmt)
    if isinstance(value, float):
        return _float_out(value, fmt)
    if isinstance(value, (bytes, bytearray)):
        return _bytes_out(bytes(value), fmt)
    if isinstance(value, (list, tuple)):
        return [encode(v, fmt) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            key, inner = next(iter(value.items()))
            if key == "$integer" and isinstance(inner, str):
                return _int64_out(_b64_int(inner), fmt)
            if key == "$bytes" and isinstance(inner, str):
                return _bytes_out(base64.b64decode(inner), fmt)
            if key == "$float" and isinstance(inner, str):
                return _float_out(_b64_float(inner), fmt)
        return {str(k): encode(v, fmt) for k, v in value.items()}
    raise TypeError(f"not a Convex value: {type(value).__name__}")


def export_row(doc: dict, fmt: str, **meta: Any) -> dict:
    """A streaming-export row: the document's fields in `fmt`, `_ts` a plain JSON integer in every format."""
    out = encode({k: v for k, v in doc.items() if k != "_ts"}, fmt)
    for key, value in meta.items():
        out[key] = value
    return out


def strip_ts(value: Any) -> Any:
    """Function results never carry `_ts` (ctx.db.get has `_id` and `_creationTime` only)."""
    if isinstance(value, list):
        return [strip_ts(v) for v in value]
    if isinstance(value, dict):
        is_doc = "_id" in value and "_creationTime" in value
        return {k: strip_ts(v) for k, v in value.items() if not (is_doc and k == "_ts")}
    return value


def dumps(payload: Any) -> bytes:
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate that got in some other way: escaped, never a dropped answer
        return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()


class LoneSurrogate(ValueError):
    pass


def loads(raw: bytes | str) -> Any:
    """JSON as serde_json reads it: a `\\ud800` escape with no partner is an error ("lone leading surrogate
    in hex escape"), where Python's json would hand back a str that no Convex string can hold."""
    value = json.loads(raw)
    _no_lone_surrogate(value)
    return value


def _no_lone_surrogate(value: Any) -> None:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if not v.isascii():
                try:
                    v.encode("utf-8")
                except UnicodeEncodeError:
                    raise LoneSurrogate("lone surrogate in hex escape") from None
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())


def to_stored(value: Any) -> Any:
    """A value written by function code in the stored form: Int64 -> `$integer`, bytes -> `$bytes`,
    special floats -> `$float` (JSON has no NaN)."""
    if isinstance(value, Int64):
        return {"$integer": int_b64(value)}
    if isinstance(value, float) and _special(value):
        return {"$float": float_b64(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, (list, tuple)):
        return [to_stored(v) for v in value]
    if isinstance(value, dict):
        return {k: to_stored(v) for k, v in value.items()}
    return value
