"""The direct Keccak-256 agrees with an independent implementation (pycryptodome's) and the known vectors."""

from __future__ import annotations

from Crypto.Hash import keccak as reference
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.core.keccak import keccak256


def test_known_vectors() -> None:
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert keccak256(b"Transfer(address,address,uint256)").hex() == (
        "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_agrees_with_pycryptodome(data: bytes) -> None:
    assert keccak256(data) == reference.new(data=data, digest_bits=256).digest()


def test_block_boundaries() -> None:
    for n in range(130, 142):  # the Keccak-256 rate is 136 bytes
        data = bytes(range(n))
        assert keccak256(data) == reference.new(data=data, digest_bits=256).digest()
