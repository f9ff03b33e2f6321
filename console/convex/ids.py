"""Convex document ids: varint table number + 16 internal bytes + 2-byte checksum, base32.

Ids are opaque to the console; minting valid ones matters for demo data and the stand-in so that
what they produce looks exactly like a deployment's.
"""

from __future__ import annotations

import base64
import operator
import random

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_DECODE = {c: i for i, c in enumerate(ALPHABET)}
VERSION = 0


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _footer(data: bytes) -> bytes:
    # Fletcher-16 over bytes with mod-256 sums: the running sum, and the sum of running sums,
    # which is each byte weighted by how many running sums include it.
    total = sum(data) & 0xFF
    sums = sum(map(operator.mul, data, range(len(data), 0, -1))) & 0xFF
    return bytes((total ^ VERSION, sums))


_FROM_RFC4648 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET.encode())


def _base32(data: bytes) -> str:
    # RFC 4648 base32 is the same bit layout (big-endian, zero bits padded at the end); only the
    # alphabet differs, and the C implementation is what makes minting millions of ids cheap.
    return base64.b32encode(data).rstrip(b"=").translate(_FROM_RFC4648).decode()


def encode_id(table_number: int, internal: bytes) -> str:
    if len(internal) != 16:
        raise ValueError("internal id must be 16 bytes")
    body = _varint(table_number) + internal
    return _base32(body + _footer(body))


def decode_id(text: str) -> tuple[int, bytes]:
    """Return (table_number, internal bytes); ValueError when the id is not valid."""
    if not 31 <= len(text) <= 37 or any(c not in _DECODE for c in text):
        raise ValueError(f"not a Convex id: {text!r}")
    value = 0
    for c in text:
        value = (value << 5) | _DECODE[c]
    nbytes = len(text) * 5 // 8
    value >>= len(text) * 5 - nbytes * 8
    data = value.to_bytes(nbytes, "big")
    body, footer = data[:-2], data[-2:]
    if _footer(body) != footer:
        raise ValueError(f"bad checksum in id {text!r}")
    table, shift, i = 0, 0, 0
    while True:
        b = body[i]
        table |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            break
        shift += 7
    internal = body[i:]
    if len(internal) != 16:
        raise ValueError(f"bad length in id {text!r}")
    return table, internal


class IdMinter:
    """Deterministic id source (seeded) so demo data is reproducible."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)

    def new(self, table_number: int) -> str:
        return encode_id(table_number, self._rng.getrandbits(128).to_bytes(16, "big"))

    def batch(self, table_number: int, count: int) -> list[str]:
        """`count` ids at once. Tables 128..16383 (all user tables) encode to exactly 20 bytes =
        32 characters, so one base32 pass over the concatenation gives every id."""
        if not 128 <= table_number < 16384 or count <= 0:
            return [self.new(table_number) for _ in range(count)]
        import numpy as np

        internal = np.frombuffer(self._rng.randbytes(16 * count), dtype=np.uint8).reshape(count, 16)
        body = np.empty((count, 20), dtype=np.uint8)
        body[:, :2] = np.frombuffer(_varint(table_number), dtype=np.uint8)
        body[:, 2:18] = internal
        weights = np.arange(18, 0, -1, dtype=np.int64)
        data = body[:, :18].astype(np.int64)
        body[:, 18] = (data.sum(axis=1) & 0xFF) ^ VERSION
        body[:, 19] = (data @ weights) & 0xFF
        text = base64.b32encode(body.tobytes()).translate(_FROM_RFC4648).decode()
        return [text[i : i + 32] for i in range(0, 32 * count, 32)]
