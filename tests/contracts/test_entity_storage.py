"""Onboarding writes an entity's two slots whole (issue 20's onboarding figure: two writes instead of four, and no
read): the packed second slot must be the one solc lays out, so the contract's own struct reads (getEntity, the
nonce registerFor reads and increments, the account setEntityAccount rewrites) see every field where it was put,
with the largest role and a registrar other than 1 so no field reads into its neighbour."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account

from provenance.types import EntityRole
from tests.support.federation import Fed, addr, h, make_fed, request


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Fed:
    return make_fed(Path(tmp_path_factory.mktemp("entity-storage")) / "chain")


@pytest.mark.parametrize("batched", [False, True], ids=["registerEntity", "registerEntities"])
def test_every_field_reads_back_after_the_writes_that_share_its_slot(fed: Fed, batched: bool) -> None:
    account, role = Account.create(), EntityRole.ARBITRATION_INSTITUTION  # the largest role: 5
    ident = h(f"storage-{batched}")
    consent = fed.svc.sign_onboarding(account, "ZJDE", ident, role)
    if batched:
        eid = fed.svc.register_entities(fed.keys["ZJDE"], [consent])[0][0]
    else:
        eid = fed.svc.register_entity(fed.keys["ZJDE"], ident, account, role, consent=consent)
    block = fed.chain.get_block(fed.chain.block_number())
    e = fed.svc.entity(eid)
    assert (e.identifier_hash, e.account, e.registrar, e.role, e.registered_at, e.nonce) == (
        ident, addr(account), 2, role, block.timestamp, 0)
    assert fed.contracts.call("Registry", "entityIdOf", ident) == (eid,)

    # registerFor reads the nonce from the packed slot and writes it back incremented, keeping its neighbours.
    fed.svc.set_mandate(account, eid, "ZJDE", True)
    for n in (1, 2):
        signed = fed.svc.sign_registration(account, "ZJDE", request(eid))
        fed.svc.register_for(fed.keys["ZJDE"], signed)
        e = fed.svc.entity(eid)
        assert (e.account, e.registrar, e.role, e.registered_at, e.nonce) == (
            addr(account), 2, role, block.timestamp, n)

    # setEntityAccount rewrites the low 160 bits only.
    successor = Account.create()
    fed.svc.set_entity_account(account, eid, addr(successor))
    e = fed.svc.entity(eid)
    assert (e.identifier_hash, e.account, e.registrar, e.role, e.registered_at, e.nonce) == (
        ident, addr(successor), 2, role, block.timestamp, 2)
