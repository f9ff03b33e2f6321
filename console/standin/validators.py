"""Argument validators as a deployment checks them (crates/common/src/schemas/validator.rs), on the
validator JSON Convex exports for a function's `args` (`{"type": "object", "value": {field: {"fieldType",
"optional"}}}`; `number` is Float64, `bigint` is Int64).

The messages are the backend's, so a console that sends an `$integer` where the contract says
`v.number()` is refused here exactly as on a deployment:
"ArgumentValidationError: Value does not match validator.\nPath: .limit\nValue: 5\nValidator: v.float64()".
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable

from console.standin.values import Int64, _b64_float, _b64_int

TableOf = Callable[[str], str | None]  # an id string -> its table name, or None if it is no valid id


class Invalid(Exception):
    def __init__(self, template: str, path: list[str], **parts: Any) -> None:
        super().__init__(template)
        self.template, self.path, self.parts = template, path, parts

    def message(self) -> str:
        context = ("Path: " + "".join(reversed(self.path))) if self.path else ""
        return self.template.format(context=context, **self.parts)


def show_value(value: Any) -> str:
    """ConvexValue's Display: Int64 as digits, Float64 as Rust's `{:?}` (5.0, 1e16, NaN, inf)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Int64):
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value).replace("e+", "e")
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (bytes, bytearray)):
        return "b" + json.dumps(bytes(value).decode("latin-1"))
    if isinstance(value, list):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show_value(value[k])}" for k in sorted(value)) + "}"
    return str(value)


def _literal(raw: Any) -> Any:
    if isinstance(raw, dict) and "$integer" in raw:
        return Int64(_b64_int(raw["$integer"]))
    if isinstance(raw, dict) and "$float" in raw:
        return _b64_float(raw["$float"])
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw)
    return raw


def show_validator(v: dict) -> str:
    kind = v.get("type")
    simple = {"null": "v.null()", "number": "v.float64()", "bigint": "v.int64()", "boolean": "v.boolean()",
              "string": "v.string()", "bytes": "v.bytes()", "any": "v.any()"}
    if kind in simple:
        return simple[kind]
    if kind == "id":
        return f'v.id("{v["tableName"]}")'
    if kind == "literal":
        return f"v.literal({show_value(_literal(v['value']))})"
    if kind == "array":
        return f"v.array({show_validator(v['value'])})"
    if kind == "record":
        return f"v.record({show_validator(v['keys'])}, {show_validator(v['values']['fieldType'])})"
    if kind == "union":
        return "v.union(" + ", ".join(show_validator(x) for x in v["value"]) + ")"
    if kind == "object":
        fields = []
        for name in sorted(v["value"]):
            field = v["value"][name]
            inner = show_validator(field["fieldType"])
            fields.append(f"{name}: v.optional({inner})" if field.get("optional") else f"{name}: {inner}")
        return "v.object({" + ", ".join(fields) + "})"
    return f"v.{kind}()"


def _no_match(value: Any, v: dict) -> Invalid:
    return Invalid("Value does not match validator.\n{context}\nValue: {value}\nValidator: {validator}", [],
                   value=show_value(value), validator=show_validator(v))


def _check(v: dict, value: Any, table_of: TableOf) -> None:
    kind = v.get("type")
    if kind == "any":
        return
    if kind == "id":
        if isinstance(value, str):
            table = table_of(value)
            if table is not None:
                if table != v["tableName"]:
                    raise Invalid('Found ID "{id}" from table `{found}`, which does not match the table name in '
                                  'validator `v.id("{table}")`.{context}', [], id=value, found=table,
                                  table=v["tableName"])
                return
        raise _no_match(value, v)
    plain = {"null": lambda x: x is None, "boolean": lambda x: isinstance(x, bool),
             "number": lambda x: isinstance(x, float), "bigint": lambda x: isinstance(x, Int64),
             "string": lambda x: isinstance(x, str), "bytes": lambda x: isinstance(x, (bytes, bytearray))}
    if kind in plain:
        if not plain[kind](value):
            raise _no_match(value, v)
        return
    if kind == "literal":
        expected = _literal(v["value"])
        if type(expected) is not type(value) or expected != value:
            raise Invalid("`{value}` does not match literal validator `v.literal({literal})`.{context}", [],
                          value=show_value(value), literal=show_value(expected))
        return
    if kind == "array":
        if not isinstance(value, list):
            raise _no_match(value, v)
        for i, item in enumerate(value):
            try:
                _check(v["value"], item, table_of)
            except Invalid as exc:
                exc.path.append(f"[{i}]")
                raise
        return
    if kind == "record":
        if not isinstance(value, dict):
            raise _no_match(value, v)
        for key, item in value.items():
            for sub, x, where in ((v["keys"], key, ".keys()"), (v["values"]["fieldType"], item, ".values()")):
                try:
                    _check(sub, x, table_of)
                except Invalid as exc:
                    exc.path.append(where)
                    raise
        return
    if kind == "union":
        options = v["value"]
        if len(options) == 1:
            _check(options[0], value, table_of)
            return
        for option in options:
            try:
                _check(option, value, table_of)
                return
            except Invalid:
                continue
        raise _no_match(value, v)
    if kind == "object":
        if not isinstance(value, dict):
            raise _no_match(value, v)
        fields = v["value"]
        for name in sorted(fields):
            field = fields[name]
            if name in value:
                try:
                    _check(field["fieldType"], value[name], table_of)
                except Invalid as exc:
                    exc.path.append(f".{name}")
                    raise
            elif not field.get("optional"):
                raise Invalid("Object is missing the required field `{field}`. Consider wrapping the field "
                              "validator in `v.optional(...)` if this is expected.\n{context}\nObject: {object}\n"
                              "Validator: {validator}", [], field=name, object=show_value(value),
                              validator=show_validator(v))
        for name in sorted(value):
            if name not in fields:
                raise Invalid("Object contains extra field `{field}` that is not in the validator.\n{context}\n"
                              "Object: {object}\nValidator: {validator}", [], field=name,
                              object=show_value(value), validator=show_validator(v))
        return
    raise _no_match(value, v)


def check_args(validator: dict, args: dict, table_of: TableOf) -> str | None:
    """The function error for `args` against a function's args validator, or None when they match."""
    try:
        _check(validator, args, table_of)
    except Invalid as exc:
        return f"ArgumentValidationError: {exc.message()}"
    return None
