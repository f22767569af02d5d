"""Dishonest-party findings of issue 18 that need a real node's controls (Hardhat): counters forced to their
limit with ``hardhat_setStorageAt`` must revert rather than wrap, and deliveries padded into the block of a spot
check's announcement (automine off, both transactions in one block) must not dilute its sample."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from provenance.chain.cross_border import FlowService
from provenance.chain.rpc import RpcChain
from provenance.core.keccak import keccak256
from tests.support.federation import h, request, reverts
from tests.support.rpc import deploy, funded

# Registry storage (solc storageLayout): slot 8 packs _entityCount (low 8 bytes) and _registrationCount;
# _entities is the mapping at slot 2, whose Entity keeps its nonce in the top 4 bytes of the struct's second slot.
_COUNTS_SLOT = 8
_ENTITIES_SLOT = 2


@pytest.fixture
def rpc(hardhat_url: str) -> Iterator[RpcChain]:
    chain = RpcChain(hardhat_url, receipt_timeout=10)
    snapshot = chain.request("evm_snapshot")
    yield chain
    chain.request("evm_setAutomine", [True])
    chain.request("evm_revert", [snapshot])
    chain.close()


def _storage(rpc: RpcChain, address: bytes, slot: int) -> int:
    return int(rpc.request("eth_getStorageAt", ["0x" + address.hex(), hex(slot), "latest"]), 16)


def _set_storage(rpc: RpcChain, address: bytes, slot: int, value: int) -> None:
    rpc.request("hardhat_setStorageAt", ["0x" + address.hex(), hex(slot), "0x" + value.to_bytes(32, "big").hex()])


def test_entity_ids_revert_at_their_limit_instead_of_wrapping(rpc: RpcChain) -> None:
    svc, key = deploy(rpc)
    registry = svc.contracts.deployment.registry
    svc.register_entity(key, h("first"), funded(rpc), 0)
    counts = _storage(rpc, registry, _COUNTS_SLOT)
    assert counts & (2**64 - 1) == 1
    _set_storage(rpc, registry, _COUNTS_SLOT, (counts >> 64 << 64) | (2**32 - 1))
    with reverts("EntityIdsExhausted"):
        svc.register_entity(key, h("one too many"), funded(rpc), 0)


def test_a_registration_nonce_reverts_at_its_limit_instead_of_wrapping(rpc: RpcChain) -> None:
    svc, key = deploy(rpc)
    registry = svc.contracts.deployment.registry
    merchant = funded(rpc)
    owner = svc.register_entity(key, h("m"), merchant, 0)
    slot = int.from_bytes(keccak256(encode(["uint32", "uint256"], [owner, _ENTITIES_SLOT])), "big") + 1
    word = _storage(rpc, registry, slot)
    _set_storage(rpc, registry, slot, (word & (2**224 - 1)) | ((2**32 - 1) << 224))
    assert svc.entity(owner).nonce == 2**32 - 1
    # A wrapped nonce would be 0 again, and every signature the owner ever made would be valid once more.
    signed = svc.sign_registration(merchant, "SDE", request(owner))
    with reverts("NonceExhausted", owner=owner):
        svc.register_for(key, signed)


def _send(rpc: RpcChain, signer: LocalAccount, to: bytes, data: bytes, tip: int) -> None:
    """Submit without waiting (automine is off): the transaction joins the next mined block."""
    nonce = int(rpc.request("eth_getTransactionCount", [signer.address, "pending"]), 16)
    tx: dict[str, Any] = {"type": 2, "chainId": rpc.chain_id, "nonce": nonce, "gas": 600_000, "value": 0,
                          "data": data, "maxFeePerGas": 10**11, "maxPriorityFeePerGas": tip,
                          "to": to_checksum_address(to)}
    rpc.request("eth_sendRawTransaction", ["0x" + bytes(signer.sign_transaction(tx).raw_transaction).hex()])


def test_deliveries_padded_into_the_announcement_block_do_not_count(rpc: RpcChain) -> None:
    svc, key = deploy(rpc)
    flows = FlowService(svc.contracts)
    cac, exporter_key = funded(rpc), funded(rpc)
    svc.propose_add_supervisor(key, "CAC", "Cyberspace Administration", cac)
    exporter = svc.register_entity(key, h("exporter"), exporter_key, 0)
    receiver = svc.register_entity(key, h("receiver"), funded(rpc), 0)
    svc.set_mandate(exporter_key, exporter, "SDE", True)
    record, _ = svc.register(key, request(exporter))
    app_id, _, _ = flows.file(key, record_id=record, exporter=exporter, receiver=receiver, destination="SG",
                              category="IOT", purpose="maintenance")
    flows.approve(cac, app_id)
    flows.deliver(key, app_id, h("honest"), 10)
    cb = svc.contracts.deployment.cross_border
    assert cb is not None
    abi = svc.contracts.abis["CrossBorder"]
    # The exporter sees the announcement pending and pads deliveries ahead of it (a higher tip) in its block.
    rpc.request("evm_setAutomine", [False])
    for i in range(5):
        _send(rpc, exporter_key, cb, abi.encode_call("recordDelivery", app_id, h(f"padding-{i}"), 1), 3 * 10**9)
    _send(rpc, cac, cb, abi.encode_call("announceSpotCheck", exporter, 4), 10**9)
    rpc.request("evm_mine")
    rpc.request("evm_setAutomine", [True])
    assert flows.counts()["deliveries"] == 6
    block = rpc.block_number()
    assert [int(abi.decode_output("getDelivery", rpc.call(cb, abi.encode_call("getDelivery", i)))[0][4])
            for i in range(2, 7)] == [block] * 5
    check = flows.spot_check(1)
    assert check["announcedAt"] == block and check["population"] == 1


def test_an_announcement_with_only_same_block_deliveries_has_nothing_to_check(rpc: RpcChain) -> None:
    svc, key = deploy(rpc)
    flows = FlowService(svc.contracts)
    cac, exporter_key = funded(rpc), funded(rpc)
    svc.propose_add_supervisor(key, "CAC", "Cyberspace Administration", cac)
    exporter = svc.register_entity(key, h("exporter"), exporter_key, 0)
    receiver = svc.register_entity(key, h("receiver"), funded(rpc), 0)
    svc.set_mandate(exporter_key, exporter, "SDE", True)
    record, _ = svc.register(key, request(exporter))
    app_id, _, _ = flows.file(key, record_id=record, exporter=exporter, receiver=receiver, destination="SG",
                              category="IOT", purpose="maintenance")
    flows.approve(cac, app_id)
    cb = svc.contracts.deployment.cross_border
    assert cb is not None
    abi = svc.contracts.abis["CrossBorder"]
    rpc.request("evm_setAutomine", [False])
    _send(rpc, exporter_key, cb, abi.encode_call("recordDelivery", app_id, h("same block"), 1), 3 * 10**9)
    _send(rpc, cac, cb, abi.encode_call("announceSpotCheck", exporter, 1), 10**9)
    rpc.request("evm_mine")
    rpc.request("evm_setAutomine", [True])
    assert flows.counts()["deliveries"] == 1 and flows.counts()["spotChecks"] == 0  # the announcement reverted
    # Announced in a later block, the delivery counts: only the announcement's own block is left out.
    flows.announce(cac, exporter, 1)
    assert flows.spot_check(1)["population"] == 1
