from hypothesis import given
from hypothesis import strategies as st

from console.convex.ids import ALPHABET, IdMinter, decode_id, encode_id


@given(st.integers(min_value=1, max_value=2**31), st.binary(min_size=16, max_size=16))
def test_encode_decode_round_trip(table, internal):
    text = encode_id(table, internal)
    assert 31 <= len(text) <= 37
    assert set(text) <= set(ALPHABET)
    assert decode_id(text) == (table, internal)


def test_user_table_ids_are_32_characters():
    assert len(IdMinter(1).new(10001)) == 32


def test_batch_ids_are_valid_and_deterministic():
    a = IdMinter(5).batch(10009, 500)
    b = IdMinter(5).batch(10009, 500)
    assert a == b
    assert len(set(a)) == 500
    assert all(decode_id(x)[0] == 10009 for x in a)


def test_batch_agrees_with_single_encoding():
    minter = IdMinter(3)
    ids = minter.batch(10002, 3)
    for text in ids:
        table, internal = decode_id(text)
        assert encode_id(table, internal) == text


def test_corrupted_id_is_rejected():
    text = IdMinter(2).new(10001)
    flipped = text[:10] + ("0" if text[10] != "0" else "1") + text[11:]
    for bad in (flipped, text[:-1] + "u", "short", text + "00000000"):
        try:
            decode_id(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} accepted")
