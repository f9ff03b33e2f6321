import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.convex.values import ValueError_, decode, encode

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
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


def test_wire_forms():
    assert encode(1) == {"$integer": "AQAAAAAAAAA="}
    assert encode(1.5) == 1.5
    assert encode(b"\x00\x01") == {"$bytes": "AAE="}
    assert "$float" in encode(float("nan"))
    assert "$float" in encode(-0.0)
    assert decode(3) == 3.0 and isinstance(decode(3), float)


@pytest.mark.parametrize("bad", [{"$integer": "AQ=="}, {"$integer": 5}, {"$bytes": "not base64!"}, {"$weird": "x"}])
def test_malformed_wire_values_raise_clear_errors(bad):
    with pytest.raises(ValueError_):
        decode(bad)


def test_int_out_of_range_is_refused():
    with pytest.raises(ValueError):
        encode(2**63)
