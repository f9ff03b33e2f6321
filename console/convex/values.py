"""The `convex_encoded_json` value codec.

Python model of Convex values: int = Int64, float = Float64, bytes = Bytes, and str, bool, None,
list, dict as themselves. On the wire Int64 is `{"$integer": base64(8 bytes LE)}`, non-finite floats
and -0.0 are `{"$float": base64(8 bytes LE)}`, bytes are `{"$bytes": base64}`.
"""

from __future__ import annotations

import base64
import math
import struct
from typing import Any


class ValueError_(ValueError):
    """A wire value that is not valid convex_encoded_json."""


def encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise ValueError(f"integer {value} does not fit in Int64")
        return {"$integer": base64.b64encode(struct.pack("<q", value)).decode()}
    if isinstance(value, float):
        if math.isfinite(value) and not (value == 0.0 and math.copysign(1.0, value) < 0):
            return value
        return {"$float": base64.b64encode(struct.pack("<d", value)).decode()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"object keys must be strings, got {k!r}")
            out[k] = encode(v)
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


def decode(value: Any) -> Any:
    """Decode a wire value. JSON numbers are Float64 in Convex, so they come back as float."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            (key, inner), = value.items()
            if key == "$integer":
                return struct.unpack("<q", _b64(inner, 8))[0]
            if key == "$float":
                return struct.unpack("<d", _b64(inner, 8))[0]
            if key == "$bytes":
                return _b64(inner, None)
            if key.startswith("$"):
                raise ValueError_(f"unknown encoded type {key}")
        return {k: decode(v) for k, v in value.items()}
    raise ValueError_(f"not a JSON value: {type(value).__name__}")


def decode_scalar(value: Any) -> Any:
    """Decode one field without converting plain JSON numbers (cheap path for ingest)."""
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        if key in ("$integer", "$float", "$bytes"):
            return decode(value)
    return value
