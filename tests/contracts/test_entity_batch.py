"""registerEntities: many entities in one transaction, each judged by registerEntity's rules in its order, all or
none; the service's chunked path over it; the same entities and events as onboarding them one by one."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from provenance.chain.registry import ENTITY_CHUNK, EntityConsent
from provenance.core import eip712
from provenance.errors import ContractReverted, InvalidInput
from provenance.types import EntityRole
from tests.support.federation import Fed, addr, h, make_fed, reverts

# secp256k1's group order: s and n - s are both valid for ecrecover, only the low one is accepted.
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
TX_GAS_BUDGET = 12_000_000


def consents(fed: Fed, n: int, tag: str, *, home: str = "SDE") -> tuple[list[EntityConsent], list[LocalAccount]]:
    accounts = [Account.create() for _ in range(n)]
    roles = (EntityRole.SUPPLIER, EntityRole.DEMANDER, EntityRole(2))
    return [fed.svc.sign_onboarding(a, home, h(f"{tag}-{i}"), roles[i % 3]) for i, a in enumerate(accounts)], accounts


def item(c: EntityConsent, **change: Any) -> tuple[Any, ...]:
    """The ``Onboarding`` tuple registerEntities takes, with fields replaced as given."""
    fields = {"identifierHash": c.identifier_hash, "account": to_checksum_address(c.account), "role": int(c.role),
              "deadline": c.deadline, "consent": c.signature}
    fields.update(change)
    return tuple(fields.values())


def batch(fed: Fed, items: list[tuple[Any, ...]], signer: str = "SDE") -> Any:
    return fed.contracts.transact(fed.keys[signer], "Registry", "registerEntities", items)


def test_a_batch_onboards_every_entity_in_order_with_its_event(fed: Fed) -> None:
    earlier, _ = fed.entity("SDE")
    cs, accounts = consents(fed, 7, "order")
    tx = batch(fed, [item(c) for c in cs])
    events = [e for e in tx.events if e.name == "EntityRegistered"]
    assert [e.args["entityId"] for e in events] == list(range(earlier + 1, earlier + 8))
    for e, c, a in zip(events, cs, accounts, strict=True):
        assert (e.args["registrar"], e.args["identifierHash"], e.args["account"], e.args["role"]) == (
            1, c.identifier_hash, a.address.lower(), int(c.role))
        got = fed.svc.entity(e.args["entityId"])
        assert (got.identifier_hash, got.account, got.registrar, got.role, got.nonce) == (
            c.identifier_hash, addr(a), 1, c.role, 0)
        assert got.registered_at == fed.chain.get_block(tx.receipt.block_number).timestamp
        assert fed.svc.entity_by_identifier(c.identifier_hash).id == e.args["entityId"]
    assert fed.svc.counts()["entities"] == earlier + 7
    # The entities are ordinary ones afterwards: their accounts grant mandates as any other's.
    fed.svc.set_mandate(accounts[3], events[3].args["entityId"], "SDE", True)
    assert fed.svc.has_mandate(events[3].args["entityId"], "SDE")


def _bad(fed: Fed, middle: EntityConsent, first: EntityConsent) -> dict[str, tuple[Callable[[], tuple[Any, ...]],
                                                                                  str, dict[str, Any]]]:
    stranger = Account.create()
    wrong = eip712.sign_digest(fed.svc.onboarding_digest(1, middle.identifier_hash, middle.account, middle.role,
                                                         middle.deadline), stranger.key)
    sig = middle.signature
    high_s = sig[:32] + (SECP256K1_N - int.from_bytes(sig[32:64], "big")).to_bytes(32, "big") + bytes(
        [55 - sig[64]])
    past = int(time.time()) - 10
    return {
        "zero-identifier": (lambda: item(middle, identifierHash=bytes(32)), "ZeroIdentifier", {}),
        "zero-account": (lambda: item(middle, account="0x" + "00" * 20), "ZeroAccount", {}),
        "invalid-role": (lambda: item(middle, role=6), "InvalidRole", {"role": 6}),
        "duplicate-in-batch": (lambda: item(first), "EntityExists",
                               {"identifierHash": first.identifier_hash, "entityId": 1}),
        "expired": (lambda: item(middle, deadline=past), "SignatureExpired", {"deadline": past}),
        "wrong-signer": (lambda: item(middle, consent=wrong), "WrongSigner",
                         {"recovered": addr(stranger), "expected": middle.account}),
        "short-consent": (lambda: item(middle, consent=sig[:64]), "InvalidSignatureLength", {"length": 64}),
        "high-s": (lambda: item(middle, consent=high_s), "InvalidSignatureS", {"s": high_s[32:64]}),
        "bad-v": (lambda: item(middle, consent=sig[:64] + b"\x05"), "InvalidSignatureV", {"v": 5}),
    }


REFUSALS = ["zero-identifier", "zero-account", "invalid-role", "duplicate-in-batch", "expired", "wrong-signer",
            "short-consent", "high-s", "bad-v"]


@pytest.mark.parametrize("case", REFUSALS)
def test_one_bad_item_in_the_middle_refuses_the_whole_batch_by_name(fed: Fed, case: str) -> None:
    cs, _ = consents(fed, 3, f"bad-{case}")
    make, error, args = _bad(fed, cs[1], cs[0])[case]
    head, before = fed.chain.block_number(), fed.svc.counts()
    with reverts(error, **args):
        batch(fed, [item(cs[0]), make(), item(cs[2])])
    assert fed.chain.block_number() == head and fed.svc.counts() == before
    for c in cs:
        assert fed.contracts.call("Registry", "entityIdOf", c.identifier_hash)[0] == 0
    # The same items without the bad one go through, ids from where the counter stood.
    tx = batch(fed, [item(cs[0]), item(cs[2])])
    assert [e.args["entityId"] for e in tx.events] == [before["entities"] + 1, before["entities"] + 2]


def test_an_identifier_onboarded_before_is_refused_naming_its_entity(fed: Fed) -> None:
    cs, _ = consents(fed, 2, "again")
    fed.svc.register_entity(fed.keys["SDE"], cs[1].identifier_hash, cs[1].account, cs[1].role, consent=cs[1])
    with reverts("EntityExists", identifierHash=cs[1].identifier_hash, entityId=1):
        batch(fed, [item(c) for c in cs])
    assert fed.svc.counts()["entities"] == 1


def test_rules_are_checked_in_registerEntitys_order(fed: Fed) -> None:
    (c,), _ = consents(fed, 1, "order-of-rules")
    # Every rule broken at once: the first one registerEntity checks is the one named, by both paths.
    broken = {"identifierHash": bytes(32), "account": "0x" + "00" * 20, "role": 9, "deadline": 0, "consent": b""}
    steps = [("ZeroIdentifier", "identifierHash", c.identifier_hash),
             ("ZeroAccount", "account", to_checksum_address(c.account)),
             ("InvalidRole", "role", int(c.role)), ("SignatureExpired", "deadline", c.deadline),
             ("InvalidSignatureLength", "consent", c.signature)]
    for error, field, good in steps:
        with reverts(error):
            batch(fed, [tuple(broken.values())])
        with reverts(error):
            fed.contracts.transact(fed.keys["SDE"], "Registry", "registerEntity", *broken.values())
        broken[field] = good
    batch(fed, [tuple(broken.values())])
    assert fed.svc.counts()["entities"] == 1


def test_an_empty_batch_and_a_non_exchange_are_refused(fed: Fed) -> None:
    with reverts("EmptyBatch"):
        batch(fed, [])
    cs, _ = consents(fed, 1, "by-stranger")
    with reverts("NotExchangeKey"):
        fed.contracts.transact(Account.create(), "Registry", "registerEntities", [item(cs[0])])
    # A consent given to SDE does not serve ZJDE.
    with reverts("WrongSigner"):
        batch(fed, [item(cs[0])], signer="ZJDE")
    assert fed.svc.counts()["entities"] == 0


def test_batched_and_one_by_one_onboarding_store_and_emit_the_same(tmp_path: Path) -> None:
    one, many = make_fed(tmp_path / "one"), make_fed(tmp_path / "many")
    try:
        at = max(int(time.time()), one.chain.get_block(one.chain.block_number()).timestamp,
                 many.chain.get_block(many.chain.block_number()).timestamp) + 5
        one.chain.clock = many.chain.clock = lambda: at
        accounts = [Account.create() for _ in range(6)]
        roles = [EntityRole(i % 3) for i in range(6)]
        singles = []
        for i, a in enumerate(accounts):
            c = one.svc.sign_onboarding(a, "ZJDE", h(f"same-{i}"), roles[i])
            eid = one.svc.register_entity(one.keys["ZJDE"], c.identifier_hash, a, roles[i], consent=c)
            singles.append(eid)
        batched = [many.svc.sign_onboarding(a, "ZJDE", h(f"same-{i}"), roles[i]) for i, a in enumerate(accounts)]
        ids, writes = many.svc.register_entities(many.keys["ZJDE"], batched)
        assert ids == singles == list(range(1, 7)) and len(writes) == 1
        for eid in ids:
            assert one.contracts.call("Registry", "getEntity", eid) == many.contracts.call("Registry", "getEntity",
                                                                                             eid)
            ident = one.svc.entity(eid).identifier_hash
            assert one.contracts.call("Registry", "entityIdOf", ident) == many.contracts.call(
                "Registry", "entityIdOf", ident)
        assert one.svc.counts() == many.svc.counts()

        def registered(f: Fed) -> list[tuple[Any, ...]]:
            logs = f.chain.get_logs([f.contracts.deployment.registry], 0, f.chain.block_number())
            return [(e.args["entityId"], e.args["registrar"], e.args["identifierHash"], e.args["account"],
                     e.args["role"]) for e in f.contracts.decode_logs(logs) if e.name == "EntityRegistered"]

        assert registered(one) == registered(many) and len(registered(one)) == 6
    finally:
        one.chain.close()
        many.chain.close()


def test_the_service_chunks_in_order_and_names_a_bad_consent_before_writing(fed: Fed) -> None:
    cs, _ = consents(fed, 5, "chunked")
    ids, writes = fed.svc.register_entities(fed.keys["SDE"], cs, chunk=2)
    assert ids == [1, 2, 3, 4, 5] and len(writes) == 3
    assert [fed.svc.entity(i).identifier_hash for i in ids] == [c.identifier_hash for c in cs]
    # A bad consent in the last chunk: every chunk is tried first, so nothing is written.
    more, _ = consents(fed, 5, "chunked-bad")
    stranger = Account.create()
    bad = EntityConsent(more[4].identifier_hash, addr(stranger), more[4].role, 1, more[4].deadline,
                        more[4].signature)
    head = fed.chain.block_number()
    with reverts("WrongSigner", expected=addr(stranger)):
        fed.svc.register_entities(fed.keys["SDE"], [*more[:4], bad], chunk=2)
    assert fed.chain.block_number() == head and fed.svc.counts()["entities"] == 5


def test_the_service_refuses_what_it_can_tell_by_name(fed: Fed) -> None:
    cs, _ = consents(fed, 2, "service")
    zj, _ = consents(fed, 1, "service-zj", home="ZJDE")
    with pytest.raises(InvalidInput, match="at least one"):
        fed.svc.register_entities(fed.keys["SDE"], [])
    with pytest.raises(InvalidInput, match="given twice"):
        fed.svc.register_entities(fed.keys["SDE"], [cs[0], cs[1], cs[0]])
    with pytest.raises(InvalidInput, match="is for exchange 2"):
        fed.svc.register_entities(fed.keys["SDE"], [cs[0], zj[0]])
    with pytest.raises(InvalidInput, match="chunk"):
        fed.svc.register_entities(fed.keys["SDE"], cs, chunk=ENTITY_CHUNK + 1)
    assert fed.svc.counts()["entities"] == 0


def test_gas_per_entity_falls_with_the_batch_and_a_full_chunk_fits_the_budget(fed: Fed) -> None:
    # The counters' slot is written before, so no figure pays for making it non-zero.
    fed.entity("SDE")
    (single,), _ = consents(fed, 1, "gas-single")
    tx = fed.contracts.transact(fed.keys["SDE"], "Registry", "registerEntity", *item(single))
    one_by_one = tx.receipt.gas_used
    per: dict[int, int] = {}
    for n in (1, 50, ENTITY_CHUNK):
        cs, _ = consents(fed, n, f"gas-{n}")
        try:
            ids, writes = fed.svc.register_entities(fed.keys["SDE"], cs)
        except ContractReverted as exc:  # pragma: no cover - the assertion below names the failure
            pytest.fail(f"a batch of {n} was refused: {exc}")
        assert len(ids) == n and len(writes) == 1
        per[n] = writes[0].gas_used // n
        print(f"registerEntities: {n} entities, {writes[0].gas_used} gas, {per[n]} per entity "
              f"(registerEntity: {one_by_one})")
    assert per[1] > per[50] > per[ENTITY_CHUNK]
    assert per[ENTITY_CHUNK] < one_by_one
    assert per[ENTITY_CHUNK] * ENTITY_CHUNK < TX_GAS_BUDGET
