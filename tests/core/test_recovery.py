"""Signature recovery (libsecp256k1 through coincurve) agrees with eth-keys on every signature: the signer of a
valid one, and a refusal for one with no key; encodings the contract refuses are refused before recovery."""

from __future__ import annotations

import pytest
from eth_keys.datatypes import PrivateKey, Signature
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.core import eip712
from provenance.errors import InvalidSignature

keys = st.integers(1, eip712.SECP256K1_N - 1).map(lambda k: k.to_bytes(32, "big"))
digests = st.binary(min_size=32, max_size=32)


@settings(max_examples=200, deadline=None)
@given(keys, digests)
def test_the_signer_of_a_valid_signature(key: bytes, digest: bytes) -> None:
    sig = eip712.sign_digest(digest, key)
    assert eip712.recover_signer(digest, sig) == PrivateKey(key).public_key.to_canonical_address()


@settings(max_examples=300, deadline=None)
@given(digests, st.integers(1, eip712.SECP256K1_N - 1), st.integers(1, eip712.HALF_N), st.sampled_from([27, 28]))
def test_any_low_s_signature_recovers_as_eth_keys_recovers_it(digest: bytes, r: int, s: int, v: int) -> None:
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])
    try:
        want = Signature(vrs=(v - 27, r, s)).recover_public_key_from_msg_hash(digest).to_canonical_address()
    except Exception:  # noqa: BLE001 - eth-keys' own error types
        with pytest.raises(InvalidSignature):
            eip712.recover_signer(digest, sig)
    else:
        assert eip712.recover_signer(digest, sig) == want


def test_a_point_that_is_not_on_the_curve_recovers_no_key() -> None:
    # r = 5 is not the x coordinate of any point on secp256k1 (5**3 + 7 = 132 is no square mod p)
    sig = (5).to_bytes(32, "big") + (1).to_bytes(32, "big") + bytes([27])
    with pytest.raises(InvalidSignature, match="does not recover"):
        eip712.recover_signer(bytes(32), sig)


@pytest.mark.parametrize("bad", [
    b"\x01" * 64,  # compact, no v
    (1).to_bytes(32, "big") + (eip712.HALF_N + 1).to_bytes(32, "big") + b"\x1b",  # high s
    (1).to_bytes(32, "big") + (1).to_bytes(32, "big") + b"\x01",  # v not 27 or 28
    bytes(32) + (1).to_bytes(32, "big") + b"\x1b",  # r = 0
    eip712.SECP256K1_N.to_bytes(32, "big") + (1).to_bytes(32, "big") + b"\x1b",  # r = n
    (1).to_bytes(32, "big") + bytes(32) + b"\x1b",  # s = 0
])
def test_encodings_the_contract_refuses(bad: bytes) -> None:
    with pytest.raises(InvalidSignature):
        eip712.recover_signer(bytes(32), bad)


def test_a_digest_of_another_length_is_refused() -> None:
    sig = eip712.sign_digest(bytes(32), (7).to_bytes(32, "big"))
    with pytest.raises(InvalidSignature, match="32 bytes"):
        eip712.recover_signer(bytes(31), sig)
