"""Convex argument validators in Python: check a value against a validator in the JSON form Convex
exports (`exportArgs()`, console/contract/args.json) and give the backend's own error text.

Mirrors `Validator::check_value` and `ValidationError` of the backend (crates/common/src/schemas/
validator.rs) and the value display of crates/value: a failed check reads, e.g.

    ArgumentValidationError: Value does not match validator.
    Path: .limit
    Value: 1000
    Validator: v.float64()

Values are decoded Convex values (console/convex/values.py `decode`): float is Float64, int (not
bool) is Int64, bytes is Bytes. So an `$integer` where the contract says v.number() is refused.
"""

from __future__ import annotations

import base64
import json
import math
import unicodedata
from typing import Any, Callable, Mapping

from console.convex.ids import decode_id

Tables = Callable[[int], "str | None"]


class ValidationError(Exception):
    pass


# -- how the backend prints values and validators ------------------------------------------------------

def _f64(x: float) -> str:
    # Rust's `{:?}` for f64: shortest round-trip digits, exponent below 1e-4 and from 1e16 (as repr).
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    text = repr(x)
    if "e" in text:
        mantissa, exp = text.split("e")
        return f"{mantissa}e{int(exp)}"
    return text


_ESCAPES = {"\0": "\\0", "\t": "\\t", "\r": "\\r", "\n": "\\n", "\\": "\\\\", '"': '\\"'}


def _rust_str(s: str) -> str:
    out = []
    for c in s:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            out.append(f"\\u{{{ord(c):x}}}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def show_value(value: Any) -> str:
    """A value as the backend displays it in validation errors (ConvexValue's Display)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))  # Int64 repr() says Int64(n); the backend prints n
    if isinstance(value, float):
        return _f64(value)
    if isinstance(value, str):
        return _rust_str(value)
    if isinstance(value, (bytes, bytearray)):
        return "b" + json.dumps(base64.b64encode(bytes(value)).decode())
    if isinstance(value, list):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show_value(value[k])}" for k in sorted(value)) + "}"
    raise ValidationError(f"not a Convex value: {type(value).__name__}")


def _literal(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"$integer"}:
        return "<bigint>"
    if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)):
        x = float(value)
        return _f64(x) if math.isfinite(x) else "<number>"  # serde_json prints 5.0 as "5.0"
    return json.dumps(value, ensure_ascii=False)


def show_validator(v: Mapping[str, Any]) -> str:
    """A validator as the backend displays it: v.float64(), v.optional(...), v.object({a: ...})."""
    kind = v["type"]
    simple = {"null": "v.null()", "number": "v.float64()", "bigint": "v.int64()", "boolean": "v.boolean()",
              "string": "v.string()", "bytes": "v.bytes()", "any": "v.any()"}
    if kind in simple:
        return simple[kind]
    if kind == "id":
        return f'v.id("{v["tableName"]}")'
    if kind == "literal":
        return f"v.literal({_literal(v['value'])})"
    if kind == "array":
        return f"v.array({show_validator(v['value'])})"
    if kind == "record":
        return f"v.record({show_validator(v['keys'])}, {_field(v['values'])})"
    if kind == "object":
        return "v.object({" + ", ".join(f"{k}: {_field(f)}" for k, f in sorted(v["value"].items())) + "})"
    if kind == "union":
        return "v.union(" + ", ".join(show_validator(x) for x in v["value"]) + ")"
    raise ValidationError(f"unknown validator type {kind!r}")


def _field(f: Mapping[str, Any]) -> str:
    inner = show_validator(f["fieldType"])
    return f"v.optional({inner})" if f.get("optional") else inner


# -- the check ----------------------------------------------------------------------------------------------

class _Fail(Exception):
    def __init__(self, render: Callable[[str], str]) -> None:
        self.render = render  # the message, given the "Path: ..." context
        self.path: list[str] = []


def _context(path: list[str]) -> str:
    return "Path: " + "".join(reversed(path)) if path else ""


def _no_match(value: Any, validator: Mapping[str, Any]) -> _Fail:
    return _Fail(lambda ctx: f"Value does not match validator.\n{ctx}\nValue: {show_value(value)}\n"
                             f"Validator: {show_validator(validator)}")


def _literal_value(raw: Any) -> Any:
    if isinstance(raw, dict) and set(raw) == {"$integer"}:
        return int.from_bytes(base64.b64decode(raw["$integer"]), "little", signed=True)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw)
    return raw


def _same(a: Any, b: Any) -> bool:
    # Convex compares typed values: Int64 5 is not Float64 5.0, true is not 1.
    return type(a) is type(b) and a == b


def _check(value: Any, v: Mapping[str, Any], tables: Tables) -> None:
    kind = v["type"]
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if kind == "any":
        return
    if kind == "id":
        if isinstance(value, str):
            try:
                number, _ = decode_id(value)
            except ValueError:
                number = None
            found = tables(number) if number is not None else None
            if found is not None:
                if found != v["tableName"]:
                    raise _Fail(lambda ctx: f'Found ID "{value}" from table `{found}`, which does not match the table '
                                            f'name in validator `v.id("{v["tableName"]}")`.{ctx}')
                return
        raise _no_match(value, v)
    ok = {"null": value is None, "number": isinstance(value, float), "bigint": is_int,
          "boolean": isinstance(value, bool), "string": isinstance(value, str),
          "bytes": isinstance(value, (bytes, bytearray))}
    if kind in ok:
        if not ok[kind]:
            raise _no_match(value, v)
        return
    if kind == "literal":
        if not _same(value, _literal_value(v["value"])):
            lit = _literal(v["value"])
            raise _Fail(lambda ctx: f"`{show_value(value)}` does not match literal validator `v.literal({lit})`.{ctx}")
        return
    if kind == "array":
        if not isinstance(value, list):
            raise _no_match(value, v)
        for i, item in enumerate(value):
            _nested(item, v["value"], tables, f"[{i}]")
        return
    if kind == "record":
        if not isinstance(value, dict):
            raise _no_match(value, v)
        for key, item in value.items():
            _nested(key, v["keys"], tables, ".keys()")
            _nested(item, v["values"]["fieldType"], tables, ".values()")
        return
    if kind == "object":
        if not isinstance(value, dict):
            raise _no_match(value, v)
        fields = v["value"]
        for name in sorted(fields):
            if name in value:
                _nested(value[name], fields[name]["fieldType"], tables, f".{name}")
            elif not fields[name].get("optional"):
                raise _Fail(lambda ctx, name=name: (
                    f"Object is missing the required field `{name}`. Consider wrapping the field validator in "
                    f"`v.optional(...)` if this is expected.\n{ctx}\nObject: {show_value(value)}\n"
                    f"Validator: {show_validator(v)}"))
        for name in sorted(value):
            if name not in fields:
                raise _Fail(lambda ctx, name=name: (
                    f"Object contains extra field `{name}` that is not in the validator.\n{ctx}\n"
                    f"Object: {show_value(value)}\nValidator: {show_validator(v)}"))
        return
    if kind == "union":
        options = v["value"]
        if len(options) == 1:
            _check(value, options[0], tables)
            return
        for option in options:
            try:
                _check(value, option, tables)
                return
            except _Fail:
                continue
        raise _no_match(value, v)
    raise ValidationError(f"unknown validator type {kind!r}")


def _nested(value: Any, v: Mapping[str, Any], tables: Tables, step: str) -> None:
    try:
        _check(value, v, tables)
    except _Fail as fail:
        fail.path.append(step)
        raise


def check_value(value: Any, validator: Mapping[str, Any], tables: Tables = lambda n: None) -> str | None:
    """None when `value` matches, else the backend's message (without the ArgumentValidationError prefix).
    `tables(number)` names the table of an id's table number (None: not a table of this deployment)."""
    try:
        _check(value, validator, tables)
    except _Fail as fail:
        return fail.render(_context(fail.path))
    return None


def check_args(args: Any, validator: Mapping[str, Any], tables: Tables = lambda n: None) -> str | None:
    """A function's arguments against its exported args validator: None, or the error message the
    backend returns ("ArgumentValidationError: ..." or the not-an-object messages of function_validators.rs)."""
    if validator.get("type") == "any":
        return None
    if not isinstance(args, dict):
        return f"Expected to receive an object as the function's argument. Instead received: {show_value(args)}"
    problem = check_value(args, validator, tables)
    return None if problem is None else f"ArgumentValidationError: {problem}"
