"""console/convex/validators.py: the backend's argument validation, with its error text
(crates/common/src/schemas/validator.rs `ValidationError`, crates/value Display)."""

from console.contract.install import arg_spec
from console.convex.ids import IdMinter
from console.convex.validators import check_args, check_value, show_validator, show_value
from console.convex.values import Int64, decode, encode

NUM = {"type": "number"}
INT = {"type": "bigint"}


def obj(**fields):
    return {"type": "object", "value": {k: {"fieldType": v, "optional": o} for k, (v, o) in fields.items()}}


def test_int64_where_the_contract_says_number_is_refused_with_the_real_text():
    spec = arg_spec()["console:retryJobs"]
    wire = {"filter": {}, "limit": encode(Int64(1000))}  # what a Python int used to become: {"$integer": ...}
    assert check_args(decode(wire), spec) == (
        "ArgumentValidationError: Value does not match validator.\nPath: .limit\nValue: 1000\nValidator: v.float64()")
    assert check_args(decode({"filter": {}, "limit": 1000.0}), spec) is None
    assert check_args(decode({"filter": {}, "limit": 1000}), spec) is None  # a JSON number is a Float64


def test_number_is_not_int64_either():
    assert check_value(5.0, INT) == "Value does not match validator.\n\nValue: 5.0\nValidator: v.int64()"
    assert check_value(5, INT) is None
    assert check_value(True, NUM) is not None and check_value(True, INT) is not None


def test_values_display_as_the_backend_displays_them():
    assert show_value(1741400033422.0) == "1741400033422.0"
    assert show_value(1e16) == "1e16" and show_value(1.5e-5) == "1.5e-5" and show_value(0.0001) == "0.0001"
    assert show_value(float("nan")) == "NaN" and show_value(float("-inf")) == "-inf" and show_value(-0.0) == "-0.0"
    assert show_value('a"b\n') == '"a\\"b\\n"'
    assert show_value({"b": [1, None], "a": True}) == "{a: true, b: [1, null]}"
    assert show_value(b"\x00\x01") == 'b"AAE="'


def test_missing_and_extra_fields_with_path_object_and_validator():
    v = obj(a=(obj(x=(NUM, False)), False), b=({"type": "string"}, True))
    assert check_value({"a": {}}, v) == (
        "Object is missing the required field `x`. Consider wrapping the field validator in `v.optional(...)` if this "
        "is expected.\nPath: .a\nObject: {}\nValidator: v.object({x: v.float64()})")
    assert check_value({"a": {"x": 1.0}, "c": 1.0}, v) == (
        "Object contains extra field `c` that is not in the validator.\n\nObject: {a: {x: 1.0}, c: 1.0}\n"
        "Validator: v.object({a: v.object({x: v.float64()}), b: v.optional(v.string())})")


def test_arrays_records_unions_and_literals():
    arr = {"type": "array", "value": {"type": "string"}}
    assert check_value(["a", 2.0], arr) == "Value does not match validator.\nPath: [1]\nValue: 2.0\nValidator: v.string()"
    union = {"type": "union", "value": [{"type": "string"}, arr]}
    assert check_value("x", union) is None and check_value(["x"], union) is None
    assert check_value(1.0, union) == ("Value does not match validator.\n\nValue: 1.0\n"
                                       "Validator: v.union(v.string(), v.array(v.string()))")
    lit = {"type": "literal", "value": "dead"}
    assert check_value("dead", lit) is None
    assert check_value("done", lit) == '`"done"` does not match literal validator `v.literal("dead")`.'
    rec = {"type": "record", "keys": {"type": "string"}, "values": {"fieldType": NUM, "optional": False}}
    assert check_value({"k": "v"}, rec) == ("Value does not match validator.\nPath: .values()\nValue: \"v\"\n"
                                            "Validator: v.float64()")
    assert show_validator(rec) == "v.record(v.string(), v.float64())"


def test_ids_are_checked_against_their_table():
    users, jobs = IdMinter(1).new(10001), IdMinter(1).new(10010)
    tables = {10001: "users", 10010: "jobs"}.get
    v = obj(userId=({"type": "id", "tableName": "users"}, False))
    assert check_value({"userId": users}, v, tables) is None
    assert check_value({"userId": jobs}, v, tables) == (
        f'Found ID "{jobs}" from table `jobs`, which does not match the table name in validator `v.id("users")`.'
        "Path: .userId")
    assert check_value({"userId": "nope"}, v, tables).startswith("Value does not match validator.\nPath: .userId")


def test_arguments_must_be_an_object():
    assert check_args(decode([1]), arg_spec()["console:whoami"]).startswith(
        "Expected to receive an object as the function's argument. Instead received: [1.0]")
    assert check_args({}, {"type": "any"}) is None


def test_every_contract_function_has_a_spec_with_no_int64():
    spec = arg_spec()
    assert sorted(spec) == sorted(f"console:{n}" for n in (
        "whoami", "getUser", "getJob", "jobStats", "listMessages", "getOrganization", "listOrganizations",
        "retryJob", "retryJobs", "cancelJob", "setUserRoles", "setUserActive", "setMemberRole"))
    assert '"bigint"' not in str(spec).replace("'", '"')
