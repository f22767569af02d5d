"""Access control: every state-changing function, called by every kind of unauthorised caller, reverts with the
right error and changes nothing (on the embedded chain a refused transaction does not even make a block)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount

from provenance.core import eip712
from provenance.core.entries import pack_entry
from tests.helpers import Fed, addr, h, make_fed, request, reverts


@dataclass
class World:
    fed: Fed
    callers: dict[str, LocalAccount]
    record: bytes
    entity: int
    proposal: int
    calls: dict[str, Callable[[LocalAccount], Any]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    fed = make_fed(Path(tmp_path_factory.mktemp("matrix")) / "chain")
    svc = fed.svc
    owner, owner_account = fed.entity("SDE")
    other_entity, other_account = fed.entity("ZJDE")
    record = fed.register("SDE", request(owner))
    # A revoked key of SDE (SDE carries on with a new key) and a key of a removed exchange.
    old_sde = fed.keys["SDE"]
    new_sde = Account.create()
    svc.add_key(old_sde, addr(new_sde))
    svc.revoke_key(new_sde, addr(old_sde))
    fed.keys["SDE"] = new_sde
    removed = fed.keys["AHDE"]
    svc.propose_remove_exchange(new_sde, "AHDE")
    svc.propose_threshold(new_sde, 2)
    pending = svc.propose_add_exchange(new_sde, "PEND", "Pending", addr(Account.create())).proposal_id
    req = request(owner)
    digest = eip712.registration_digest(fed.chain.chain_id, fed.contracts.deployment.registry, 1, req, 0, 2**40)
    sig = eip712.sign_digest(digest, owner_account.key)
    c = fed.contracts
    calls: dict[str, Callable[[LocalAccount], Any]] = {
        "propose": lambda a: c.transact(a, "Federation", "propose", 2, encode(["uint16"], [1])),
        "approve": lambda a: c.transact(a, "Federation", "approve", pending),
        "addKey": lambda a: c.transact(a, "Federation", "addKey", Account.create().address),
        "revokeKey": lambda a: c.transact(a, "Federation", "revokeKey", new_sde.address),
        "rotateKey": lambda a: c.transact(a, "Federation", "rotateKey", Account.create().address),
        "registerEntity": lambda a: c.transact(a, "Registry", "registerEntity", h("new"), a.address, 0),
        "recognizeEntity": lambda a: c.transact(a, "Registry", "recognizeEntity", other_entity),
        "register": lambda a: c.transact(a, "Registry", "register", request(owner).as_abi_tuple()),
        "registerBatch": lambda a: c.transact(a, "Registry", "registerBatch", [request(owner).as_abi_tuple()]),
        "registerFor": lambda a: c.transact(a, "Registry", "registerFor", req.as_abi_tuple(), 0, 2**40, sig),
        "setStatus": lambda a: c.transact(a, "Registry", "setStatus", record, 3, bytes(32)),
        "setEntityAccount": lambda a: c.transact(a, "Registry", "setEntityAccount", owner, a.address),
        "setMandate": lambda a: c.transact(a, "Registry", "setMandate", owner, 2, True),
        "anchorBatch": lambda a: c.transact(a, "Registry", "anchorBatch", 2, h("root"), pack_entry(request(owner)),
                                                bytes(65)),
        "anchorCheckpoint": lambda a: c.transact(a, "Registry", "anchorCheckpoint", 1, h("root"), bytes(65)),
        "cosignCheckpoint": lambda a: c.transact(a, "Registry", "cosignCheckpoint", 1, 1, h("root"), bytes(65)),
        "setBatchedStatus": lambda a: c.transact(a, "Registry", "setBatchedStatus", h("batched"), 3, bytes(32)),
        "anchorStatusList": lambda a: c.transact(a, "Registry", "anchorStatusList", 1, h("list")),
        "recognizeCertificate": lambda a: c.transact(a, "Registry", "recognizeCertificate", h("cred"), record, 1),
    }
    callers = {
        "stranger": Account.create(),
        "revoked-key": old_sde,
        "removed-exchange": removed,
        "merchant": other_account,
        "other-exchange": fed.keys["ZJDE"],
        "owner-registrar": new_sde,
    }
    return World(fed, callers, record, owner, pending, calls)


EXCHANGE_ONLY = ["propose", "approve", "addKey", "revokeKey", "rotateKey", "registerEntity", "recognizeEntity",
                 "register", "registerBatch", "registerFor", "setStatus", "anchorBatch", "anchorCheckpoint",
                 "cosignCheckpoint", "setBatchedStatus", "anchorStatusList", "recognizeCertificate"]
ENTITY_ONLY = ["setEntityAccount", "setMandate"]

CASES = (
    [(fn, who, "NotExchangeKey") for fn in EXCHANGE_ONLY
     for who in ("stranger", "revoked-key", "removed-exchange", "merchant")]
    + [("setStatus", "other-exchange", "NotRegistrar"), ("revokeKey", "other-exchange", "KeyNotOwned"),
       ("cosignCheckpoint", "owner-registrar", "SelfWitness"),
       ("recognizeCertificate", "owner-registrar", "SelfWitness")]
    + [(fn, who, "NotEntityAccount") for fn in ENTITY_ONLY
       for who in ("stranger", "revoked-key", "removed-exchange", "merchant", "other-exchange", "owner-registrar")]
)


@pytest.mark.parametrize(("fn", "who", "error"), CASES, ids=[f"{f}-by-{w}" for f, w, _ in CASES])
def test_unauthorised_callers_are_refused(world: World, fn: str, who: str, error: str) -> None:
    head = world.fed.chain.block_number()
    counts = world.fed.svc.counts()
    with reverts(error):
        world.calls[fn](world.callers[who])
    assert world.fed.chain.block_number() == head
    assert world.fed.svc.counts() == counts


def test_every_state_changing_function_is_in_the_matrix(world: World) -> None:
    mutating = set()
    for abi in world.fed.contracts.abis.values():
        for item in abi.artifact.abi:
            if item["type"] == "function" and item["stateMutability"] not in ("view", "pure"):
                mutating.add(item["name"])
    assert mutating == set(world.calls)
    assert {fn for fn, _, _ in CASES} == mutating
