"""Decoding the registry's logs into the index's events, with eth-abi semantics but hand-sliced for the two
hot events (a registration is a fixed head plus one dynamic array): decoding is most of a catch-up's cost.
Tests compare these decoders with eth-abi's on random values.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from eth_hash.auto import keccak

from provenance.chain.abi import ContractABI
from provenance.chain.base import Log
from provenance.errors import ChainError

DATA_REGISTERED = keccak(
    b"DataRegistered(bytes32,uint16,uint32,uint8,uint8,uint8,uint8,bytes32,bytes32,bytes32,bytes32[],bool,uint64)")
STATUS_CHANGED = keccak(b"StatusChanged(bytes32,uint16,uint8,uint8,bytes32)")


class Event(NamedTuple):
    name: str
    args: dict[str, Any]
    block_number: int
    block_hash: bytes
    log_index: int
    contract: str
    tx_hash: bytes = b""


def _word_int(data: bytes, i: int) -> int:
    return int.from_bytes(data[32 * i:32 * i + 32], "big")


def decode_data_registered(log: Log) -> dict[str, Any]:
    d, t = log.data, log.topics
    if len(t) != 4 or len(d) < 352:
        raise ValueError("malformed DataRegistered")
    fb = int.from_bytes  # inlined word reads: this runs once per registration of a catch-up
    offset = fb(d[224:256], "big")
    n = fb(d[offset:offset + 32], "big")
    start = offset + 32
    if start + 32 * n > len(d):
        raise ValueError("DataRegistered parents out of bounds")
    return {
        "id": t[1], "registrar": fb(t[2], "big"), "owner": fb(t[3], "big"),
        "kind": fb(d[0:32], "big"), "grade": fb(d[32:64], "big"), "source": fb(d[64:96], "big"),
        "rights": fb(d[96:128], "big"), "contentHash": d[128:160], "metadataHash": d[160:192],
        "supersedes": d[192:224], "parents": tuple(d[start + 32 * i:start + 32 * i + 32] for i in range(n)),
        "delegated": fb(d[256:288], "big") == 1, "leafIndex": fb(d[288:320], "big"),
    }


def decode_status_changed(log: Log) -> dict[str, Any]:
    d, t = log.data, log.topics
    if len(t) != 3 or len(d) != 96:
        raise ValueError("malformed StatusChanged")
    return {"id": t[1], "registrar": int.from_bytes(t[2], "big"), "previous": _word_int(d, 0),
            "current": _word_int(d, 1), "reason": d[64:96]}


class EventDecoder:
    def __init__(self, abis: dict[str, ContractABI], addresses: dict[bytes, str]) -> None:
        self._abis = abis
        self._addresses = addresses

    def decode(self, log: Log) -> Event | None:
        contract = self._addresses.get(log.address)
        if contract is None or not log.topics:
            return None
        topic = log.topics[0]
        try:
            if topic == DATA_REGISTERED:
                name, args = "DataRegistered", decode_data_registered(log)
            elif topic == STATUS_CHANGED:
                name, args = "StatusChanged", decode_status_changed(log)
            else:
                decoded = self._abis[contract].decode_log(log.topics, log.data)
                if decoded is None:
                    return None
                name, args = decoded
        except Exception as exc:  # eth-abi raises several unrelated types on malformed data
            raise ChainError(
                f"undecodable log {log.log_index} in block {log.block_number} from {contract}: {exc}") from exc
        return Event(name, args, log.block_number, log.block_hash, log.log_index, contract, log.tx_hash)
