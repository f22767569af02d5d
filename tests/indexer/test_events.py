"""The hand-sliced decoders agree with eth-abi on every value."""

from __future__ import annotations

from eth_abi.abi import encode
from hypothesis import given
from hypothesis import strategies as st

from provenance.chain.base import Log
from provenance.indexer.events import (
    DATA_REGISTERED,
    STATUS_CHANGED,
    decode_data_registered,
    decode_status_changed,
)

b32 = st.binary(min_size=32, max_size=32)


@given(rid=b32, registrar=st.integers(0, 2**16 - 1), owner=st.integers(0, 2**32 - 1),
       small=st.lists(st.integers(0, 255), min_size=4, max_size=4), hashes=st.lists(b32, min_size=3, max_size=3),
       parents=st.lists(b32, max_size=16), delegated=st.booleans(), leaf=st.integers(0, 2**64 - 1))
def test_data_registered(rid: bytes, registrar: int, owner: int, small: list[int], hashes: list[bytes],
                         parents: list[bytes], delegated: bool, leaf: int) -> None:
    data = encode(["uint8", "uint8", "uint8", "uint8", "bytes32", "bytes32", "bytes32", "bytes32[]", "bool",
                   "uint64"], [*small, *hashes, parents, delegated, leaf])
    log = Log(b"\0" * 20, [DATA_REGISTERED, rid, registrar.to_bytes(32, "big"), owner.to_bytes(32, "big")], data,
              1, b"\0" * 32, b"\0" * 32, 0)
    got = decode_data_registered(log)
    assert got == {"id": rid, "registrar": registrar, "owner": owner, "kind": small[0], "grade": small[1],
                   "source": small[2], "rights": small[3], "contentHash": hashes[0], "metadataHash": hashes[1],
                   "supersedes": hashes[2], "parents": tuple(parents), "delegated": delegated,
                   "leafIndex": leaf}


@given(rid=b32, registrar=st.integers(0, 2**16 - 1), prev=st.integers(0, 255), cur=st.integers(0, 255), reason=b32)
def test_status_changed(rid: bytes, registrar: int, prev: int, cur: int, reason: bytes) -> None:
    data = encode(["uint8", "uint8", "bytes32"], [prev, cur, reason])
    log = Log(b"\0" * 20, [STATUS_CHANGED, rid, registrar.to_bytes(32, "big")], data, 1, b"\0" * 32, b"\0" * 32, 0)
    assert decode_status_changed(log) == {"id": rid, "registrar": registrar, "previous": prev, "current": cur,
                                          "reason": reason}


def test_topics_match_the_abi() -> None:
    from provenance.chain.abi import ContractABI, load_artifact

    abi = ContractABI(load_artifact("Registry"))
    assert abi.events_by_name["DataRegistered"].topic0 == DATA_REGISTERED
    assert abi.events_by_name["StatusChanged"].topic0 == STATUS_CHANGED
