import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.convex.values import MAX_SAFE_INTEGER, Int64, ValueError_, decode, encode

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1).map(Int64)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.binary()
)
keys = st.text(min_size=1).filter(lambda k: not k.startswith(("$", "_")))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
                      max_leaves=20)


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@given(values)
def test_round_trip(value):
    assert same(decode(encode(value)), value)


@given(st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER))
def test_plain_ints_are_numbers_and_come_back_as_floats(n):
    wire = encode({"limit": n})["limit"]
    assert type(wire) is float and wire == n
    back = decode(wire)
    assert type(back) is float and not isinstance(back, Int64)


def test_wire_forms():
    # A plain int is a JS number (v.number()): a JSON number, never {"$integer"}. Int64 only when asked.
    assert encode(1) == 1.0 and json.dumps(encode({"limit": 1000})) == '{"limit": 1000.0}'
    assert encode(Int64(1)) == {"$integer": "AQAAAAAAAAA="}
    assert encode(True) is True
    assert encode(1.5) == 1.5
    assert encode(b"\x00\x01") == {"$bytes": "AAE="}
    assert "$float" in encode(float("nan"))
    assert "$float" in encode(-0.0)
    assert decode(3) == 3.0 and isinstance(decode(3), float)
    # Decoding keeps the two apart: $integer -> Int64 (an int), numbers -> float; an Int64 re-encodes as Int64.
    n = decode({"$integer": "AQAAAAAAAAA="})
    assert isinstance(n, Int64) and n == 1 and n + 1 == 2 and encode(n) == {"$integer": "AQAAAAAAAAA="}
    assert not isinstance(decode(1.0), Int64)


def test_ints_a_float_cannot_hold_are_refused_not_rounded():
    with pytest.raises(ValueError, match="Int64"):
        encode({"expectedTs": 1_741_400_033_422_000_001})
    assert encode(Int64(1_741_400_033_422_000_001))["$integer"]


def test_nesting_beyond_the_convex_limit_is_refused():
    deep: object = 1.0
    for _ in range(70):
        deep = [deep]
    with pytest.raises(ValueError):
        encode(deep)
    with pytest.raises(ValueError_):
        decode(deep)


@pytest.mark.parametrize("bad", [{"$integer": "AQ=="}, {"$integer": 5}, {"$bytes": "not base64!"}, {"$weird": "x"}])
def test_malformed_wire_values_raise_clear_errors(bad):
    with pytest.raises(ValueError_):
        decode(bad)


def test_int_out_of_range_is_refused():
    with pytest.raises(ValueError):
        encode(2**63)
    with pytest.raises(ValueError):
        Int64(2**63)
    with pytest.raises(ValueError_):
        decode(10**400)  # a JSON integer beyond the Float64 range
