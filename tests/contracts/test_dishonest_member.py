"""The registry and the federation read as a dishonest member exchange would (issue 18): no identity taken without
its account's consent, no key named or burned without its own signature, disputed entities frozen or reassigned
only by threshold governance, and the smaller holes (self-supersede) closed."""

from __future__ import annotations

from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data

from provenance.chain.registry import EntityDecision
from provenance.core import eip712
from provenance.core.ids import parse_exchange_code
from provenance.types import EntityRole, ProposalAction
from tests.support.federation import Fed, addr, h, request, reverts


def _consent(fed: Fed, account: Account, registrar: int, ident: bytes, *, role: int = 0, deadline: int = 2**40,
             chain_id: int | None = None, registry: bytes | None = None) -> bytes:
    digest = eip712.onboarding_digest(fed.chain.chain_id if chain_id is None else chain_id,
                                      fed.contracts.deployment.registry if registry is None else registry,
                                      ident, addr(account), role, registrar, deadline)
    return eip712.sign_digest(digest, account.key)


def _onboard(fed: Fed, code: str, ident: bytes, account: Account, deadline: int, consent: bytes) -> int:
    tx = fed.contracts.transact(fed.keys[code], "Registry", "registerEntity", ident, account.address, 0, deadline,
                                consent)
    return int(tx.event("EntityRegistered").args["entityId"])


# ---------------------------------------------------------------------- onboarding consent


def test_squatting_an_identity_without_the_accounts_consent_is_refused(fed: Fed) -> None:
    genuine = Account.create()
    ident = h("uscc-91310000MA1FL0001X")
    # No consent at all, and a "consent" the exchange signed itself for the company's account.
    with reverts("SignatureExpired"):
        fed.contracts.transact(fed.keys["ZJDE"], "Registry", "registerEntity", ident, genuine.address, 0, 0, b"")
    forged = eip712.sign_digest(eip712.onboarding_digest(fed.chain.chain_id, fed.contracts.deployment.registry,
                                                         ident, addr(genuine), 0, 2, 2**40), fed.keys["ZJDE"].key)
    with reverts("WrongSigner", recovered=addr(fed.keys["ZJDE"]), expected=addr(genuine)):
        _onboard(fed, "ZJDE", ident, genuine, 2**40, forged)
    # The genuine onboarding, with the account's own consent for SDE, goes through.
    eid = _onboard(fed, "SDE", ident, genuine, 2**40, _consent(fed, genuine, 1, ident))
    assert fed.svc.entity(eid).account == addr(genuine) and fed.svc.entity(eid).registrar == 1


def test_consent_is_bound_to_exchange_identity_role_deadline_and_chain(fed: Fed) -> None:
    account = Account.create()
    ident = h("uscc-bound")
    for_zj = _consent(fed, account, 2, ident)
    # Front-running the genuine onboarding at ZJDE with the consent seen in the mempool: bound to ZJDE.
    with reverts("WrongSigner"):
        _onboard(fed, "SDE", ident, account, 2**40, for_zj)
    # Another identity, another role, another deadline than signed.
    with reverts("WrongSigner"):
        _onboard(fed, "ZJDE", h("uscc-other"), account, 2**40, for_zj)
    with reverts("WrongSigner"):
        fed.contracts.transact(fed.keys["ZJDE"], "Registry", "registerEntity", ident, account.address, 1, 2**40,
                               for_zj)
    with reverts("WrongSigner"):
        _onboard(fed, "ZJDE", ident, account, 2**40 + 1, for_zj)
    # Signed for another chain, or another registry.
    here = fed.chain.chain_id
    with reverts("WrongSigner"):
        _onboard(fed, "ZJDE", ident, account, 2**40, _consent(fed, account, 2, ident, chain_id=here + 1))
    with reverts("WrongSigner"):
        _onboard(fed, "ZJDE", ident, account, 2**40, _consent(fed, account, 2, ident, registry=b"\x42" * 20))
    # Expired.
    now = fed.chain.get_block(fed.chain.block_number()).timestamp
    late = _consent(fed, account, 2, ident, deadline=now + 10)
    fed.chain.clock = lambda: now + 11  # type: ignore[method-assign]
    with reverts("SignatureExpired", deadline=now + 10):
        _onboard(fed, "ZJDE", ident, account, now + 10, late)
    # The malleable twin of a valid consent.
    n = eip712.SECP256K1_N
    twin = for_zj[:32] + (n - int.from_bytes(for_zj[32:64], "big")).to_bytes(32, "big") + bytes([55 - for_zj[64]])
    with reverts("InvalidSignatureS"):
        _onboard(fed, "ZJDE", ident, account, 2**40, twin)
    # Used once: the replay meets the identity it created.
    eid = _onboard(fed, "ZJDE", ident, account, 2**40, for_zj)
    with reverts("EntityExists", identifierHash=ident, entityId=eid):
        _onboard(fed, "ZJDE", ident, account, 2**40, for_zj)


def test_consent_digests_mirror_the_contracts_and_eth_account(fed: Fed) -> None:
    account, key = Account.create(), Account.create()
    chain_id, registry, federation = fed.chain.chain_id, fed.contracts.deployment.registry, \
        fed.contracts.deployment.federation
    ident = h("uscc-digest")
    ours = eip712.onboarding_digest(chain_id, registry, ident, addr(account), 2, 3, 12345)
    assert ours == fed.contracts.call("Registry", "onboardingDigest", ident, account.address, 2, 3, 12345)[0]
    typed = fed.svc.onboarding_typed_data(3, ident, addr(account), EntityRole.SERVICE_PROVIDER, 12345)
    assert set(typed) == {"types", "primaryType", "domain", "message"}
    signable = encode_typed_data(full_message=typed)
    assert eip712._keccak(b"\x19" + signable.version + signable.header + signable.body) == ours
    signed = Account.sign_message(signable, account.key)
    assert eip712.recover_address(ours, bytes(signed.signature)) == addr(account)

    grant = eip712.key_grant_digest(chain_id, federation, 1, 7, addr(key))
    assert grant == fed.contracts.call("Federation", "keyGrantDigest", 1, 7, key.address)[0]
    code = parse_exchange_code("JSDE")
    member = eip712.member_key_digest(chain_id, federation, 0, code, "Jiangsu 数据交易所", addr(key))
    assert member == fed.contracts.call("Federation", "memberKeyDigest", 0, code, "Jiangsu 数据交易所",
                                        key.address)[0]
    domain = {"name": "ProvenanceFederation", "version": "1", "chainId": chain_id,
              "verifyingContract": eip712._checksum(federation)}
    for digest, primary, fields, message in (
        (grant, "KeyGrant", [("role", "uint8"), ("member", "uint16"), ("key", "address")],
         {"role": 1, "member": 7, "key": key.address}),
        (member, "MemberKey", [("role", "uint8"), ("code", "bytes8"), ("name", "string"), ("key", "address")],
         {"role": 0, "code": code, "name": "Jiangsu 数据交易所", "key": key.address}),
    ):
        doc = {"types": {"EIP712Domain": typed["types"]["EIP712Domain"],
                         primary: [{"name": n, "type": t} for n, t in fields]},
               "primaryType": primary, "domain": domain, "message": message}
        s = encode_typed_data(full_message=doc)
        assert eip712._keccak(b"\x19" + s.version + s.header + s.body) == digest


# ---------------------------------------------------------------------- keys


def test_burning_a_proposed_key_is_impossible(fed: Fed) -> None:
    fed.svc.propose_threshold(fed.keys["SDE"], 2)
    newcomer = Account.create()
    pending = fed.svc.propose_add_exchange(fed.keys["SDE"], "JSDE", "Jiangsu", newcomer)
    assert not pending.executed
    zj = fed.keys["ZJDE"]
    # The key is public in the proposal; ZJDE tries to add it to itself (then revoke it, burning it for ever).
    with reverts("InvalidSignatureLength", length=0):
        fed.svc.add_key(zj, addr(newcomer))
    # The key's MemberKey signature is public too, in the proposal transaction's calldata (the stored payload
    # leaves it out): it is no KeyGrant, for no member.
    stored = fed.svc.proposal(pending.proposal_id).payload
    assert stored == encode(["bytes8", "string", "address"], [parse_exchange_code("JSDE"), "Jiangsu",
                                                               newcomer.address])
    payload_sig = eip712.sign_digest(fed.svc.member_key_digest(0, "JSDE", "Jiangsu", addr(newcomer)), newcomer.key)
    with reverts("WrongKeySigner", key=addr(newcomer)):
        fed.svc.add_key(zj, addr(newcomer), payload_sig)
    for_sde = eip712.sign_digest(fed.svc.key_grant_digest(eip712.ROLE_EXCHANGE, 1, addr(newcomer)), newcomer.key)
    with reverts("WrongKeySigner", key=addr(newcomer)):
        fed.svc.add_key(zj, addr(newcomer), for_sde)
    with reverts("WrongKeySigner", key=addr(newcomer)):
        fed.svc.rotate_key(zj, addr(newcomer), for_sde)
    # The admission goes through with the key unburned.
    assert fed.svc.approve(fed.keys["AHDE"], pending.proposal_id).executed
    assert fed.svc.active_exchange_of(newcomer.address) == fed.svc.exchange("JSDE").id


def test_a_proposal_cannot_name_a_key_its_proposer_does_not_hold(fed: Fed) -> None:
    sde = fed.keys["SDE"]
    key = Account.create()

    def payload(code: str, name: str, signature: bytes) -> bytes:
        return encode(["bytes8", "string", "address", "bytes"],
                      [parse_exchange_code(code), name, key.address, signature])

    def signed(role: int, code: str, name: str) -> bytes:
        return eip712.sign_digest(fed.svc.member_key_digest(role, code, name, addr(key)), key.key)

    cases = [
        (ProposalAction.ADD_EXCHANGE, payload("JSDE", "Jiangsu", eip712.sign_digest(
            fed.svc.member_key_digest(0, "JSDE", "Jiangsu", addr(key)), sde.key))),  # signed by the proposer
        (ProposalAction.ADD_EXCHANGE, payload("JSDE", "Jiangsu", signed(0, "OTHER", "Jiangsu"))),
        (ProposalAction.ADD_EXCHANGE, payload("JSDE", "Jiangsu", signed(0, "JSDE", "Another name"))),
        (ProposalAction.ADD_EXCHANGE, payload("JSDE", "Jiangsu", signed(1, "JSDE", "Jiangsu"))),  # supervisor's
        (ProposalAction.ADD_SUPERVISOR, payload("JSDE", "Jiangsu", signed(0, "JSDE", "Jiangsu"))),
        (ProposalAction.ADD_SUPERVISOR, payload("CAC", "CAC", eip712.sign_digest(
            fed.svc.key_grant_digest(1, 1, addr(key)), key.key))),  # a KeyGrant is not a MemberKey
    ]
    for action, data in cases:
        with reverts("WrongKeySigner", key=addr(key)):
            fed.contracts.transact(sde, "Federation", "propose", int(action), data)
    with reverts("InvalidSignatureLength", length=0):
        fed.contracts.transact(sde, "Federation", "propose", 0, payload("JSDE", "Jiangsu", b""))
    assert fed.svc.propose_add_exchange(sde, "JSDE", "Jiangsu", addr(key), signed(0, "JSDE", "Jiangsu")).executed


def test_supervisor_key_rotation_needs_the_new_keys_signature(fed: Fed) -> None:
    cac, new = Account.create(), Account.create()
    fed.svc.propose_add_supervisor(fed.keys["SDE"], "CAC", "Cyberspace Administration", cac)
    for_exchange = eip712.sign_digest(fed.svc.key_grant_digest(eip712.ROLE_EXCHANGE, 1, addr(new)), new.key)
    with reverts("WrongKeySigner", key=addr(new)):
        fed.svc.rotate_supervisor_key(cac, addr(new), for_exchange)
    with reverts("InvalidSignatureLength"):
        fed.svc.rotate_supervisor_key(cac, addr(new))
    fed.svc.rotate_supervisor_key(cac, new)
    assert fed.svc.active_supervisor_of(new.address) == 1


# ---------------------------------------------------------------------- entity decisions


def test_governance_freezes_and_reassigns_a_disputed_entity_by_threshold(fed: Fed) -> None:
    sde, zj, ah = fed.keys["SDE"], fed.keys["ZJDE"], fed.keys["AHDE"]
    squatted, squatter = fed.entity("ZJDE", mandate_to=("ZJDE", "SDE"))
    fed.register("ZJDE", request(squatted))
    fed.svc.propose_threshold(sde, 2)
    epoch = int(fed.contracts.call("Federation", "epoch")[0])
    # One member alone decides nothing: the proposal waits, and the registry refuses to apply it.
    freeze = fed.svc.propose_freeze_entity(sde, squatted)
    assert not freeze.executed and not fed.svc.is_frozen(squatted)
    with reverts("ProposalNotExecuted", proposalId=freeze.proposal_id):
        fed.svc.apply_entity_decision(sde, freeze.proposal_id)
    assert fed.svc.approve(ah, freeze.proposal_id).executed  # the service applies it at once
    assert fed.svc.is_frozen(squatted)
    assert int(fed.contracts.call("Federation", "epoch")[0]) == epoch  # membership proposals stay valid
    assert fed.svc.proposal(freeze.proposal_id).action == EntityDecision.FREEZE
    with reverts("DecisionOutdated", entityId=squatted, proposalId=freeze.proposal_id):
        fed.svc.apply_entity_decision(zj, freeze.proposal_id)
    # A frozen entity: no mandates, none granted, no signed registrations, no account change.
    assert not fed.svc.has_mandate(squatted, "ZJDE") and not fed.svc.has_mandate(squatted, "SDE")
    with reverts("EntityIsFrozen", entityId=squatted):
        fed.register("ZJDE", request(squatted))
    with reverts("EntityIsFrozen", entityId=squatted):
        fed.svc.set_mandate(squatter, squatted, "ZJDE", True)
    with reverts("EntityIsFrozen", entityId=squatted):
        fed.svc.register_for(zj, fed.svc.sign_registration(squatter, "ZJDE", request(squatted)))
    with reverts("EntityIsFrozen", entityId=squatted):
        fed.svc.set_entity_account(squatter, squatted, addr(Account.create()))
    with reverts("EntityIsFrozen", entityId=squatted):
        fed.contracts.call("Registry", "activeEntity", squatted)
    # Reassigned to the genuine company's account: unfrozen, and the squatter's grants are gone.
    genuine = Account.create()
    moved = fed.svc.propose_reassign_entity(zj, squatted, addr(genuine))
    fed.svc.approve(sde, moved.proposal_id)
    e = fed.svc.entity(squatted)
    assert e.account == addr(genuine) and not fed.svc.is_frozen(squatted)
    with reverts("NotEntityAccount"):
        fed.svc.set_mandate(squatter, squatted, "SDE", True)
    fed.svc.set_mandate(genuine, squatted, "SDE", True)
    fed.register("SDE", request(squatted))
    # Freeze and unfreeze again; an unfreeze of an entity that is not frozen is refused.
    again = fed.svc.propose_freeze_entity(sde, squatted)
    fed.svc.approve(ah, again.proposal_id)
    thaw = fed.svc.propose_unfreeze_entity(sde, squatted)
    fed.svc.approve(zj, thaw.proposal_id)
    assert not fed.svc.is_frozen(squatted) and not fed.svc.has_mandate(squatted, "SDE")
    extra = fed.svc.propose_unfreeze_entity(sde, squatted)
    fed.contracts.transact(ah, "Federation", "approve", extra.proposal_id)  # executed, not yet applied
    with reverts("EntityNotFrozen", entityId=squatted):
        fed.svc.apply_entity_decision(ah, extra.proposal_id)


def test_entity_decisions_apply_once_in_order_to_the_named_registry(fed: Fed) -> None:
    sde, zj = fed.keys["SDE"], fed.keys["ZJDE"]
    eid, _ = fed.entity("SDE")
    c = fed.contracts
    registry = c.deployment.registry

    def propose(action: int, *fields: object, types: tuple[str, ...] = ("address", "uint32")) -> int:
        tx = c.transact(sde, "Federation", "propose", action, encode(list(types), list(fields)))
        return int(tx.event("ProposalCreated").args["proposalId"])

    # Executed (threshold 1) but not applied: an old freeze must not override a later unfreeze.
    freeze = propose(5, registry, eid)
    unfreeze = propose(6, registry, eid)
    c.transact(zj, "Registry", "applyEntityDecision", freeze)
    c.transact(zj, "Registry", "applyEntityDecision", unfreeze)
    later_freeze = propose(5, registry, eid)
    reassign = propose(7, registry, eid, Account.create().address, types=("address", "uint32", "address"))
    c.transact(zj, "Registry", "applyEntityDecision", reassign)
    with reverts("DecisionOutdated", entityId=eid, proposalId=later_freeze, lastApplied=reassign):
        c.transact(zj, "Registry", "applyEntityDecision", later_freeze)
    assert int(c.call("Registry", "lastEntityDecision", eid)[0]) == reassign
    # Another registry's decision, a membership proposal, an unknown entity, malformed payloads.
    other = propose(5, b"\x42" * 20, eid)
    with reverts("DecisionForOtherRegistry", proposalId=other):
        c.transact(zj, "Registry", "applyEntityDecision", other)
    threshold = fed.svc.propose_threshold(sde, 1).proposal_id
    with reverts("NotEntityDecision", proposalId=threshold, action=2):
        c.transact(zj, "Registry", "applyEntityDecision", threshold)
    with reverts("UnknownEntity", entityId=999):
        c.transact(zj, "Registry", "applyEntityDecision", propose(5, registry, 999))
    with reverts("UnknownProposal"):
        c.transact(zj, "Registry", "applyEntityDecision", 10**6)
    for action, data in ((5, encode(["address", "uint32"], [registry, 0])),
                         (5, encode(["address", "uint32", "address"], [registry, eid, registry])),
                         (7, encode(["address", "uint32", "address"], [registry, eid, bytes(20)])),
                         (6, encode(["address", "uint32"], [bytes(20), eid]))):
        with reverts("InvalidPayload"):
            c.transact(sde, "Federation", "propose", action, data)


# ---------------------------------------------------------------------- smaller findings


def test_a_registration_cannot_supersede_itself(fed: Fed) -> None:
    owner, _ = fed.entity("SDE")
    content = h("self-superseding")
    own_id = fed.contracts.call("Registry", "recordId", 1, content)[0]
    with reverts("SelfSupersede", id=own_id):
        fed.register("SDE", request(owner, content=content, supersedes=own_id))
