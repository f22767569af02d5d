"""PropertyService: consent digests and typed-data documents equal to the contract's and to eth-account's
independent EIP-712 encoder; every action accepted with signed consents (so every terms hash is the contract's);
refused signatures, bad input and the views."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_utils.address import to_checksum_address

from provenance.chain import property as PR
from provenance.chain.property import AssessmentInput, Consent, PledgeTerms, PropertyDecision
from provenance.errors import InvalidInput, NotFound
from provenance.types import Kind, Rights, Status
from tests.support.federation import Fed, h, reverts
from tests.support.property import (
    DAY,
    FINANCIAL_INSTITUTION,
    compliance,
    make_world,
    quality,
    valuation,
)


def _wallet_digest(doc: dict[str, object]) -> bytes:
    return bytes(_hash_eip191_message(encode_typed_data(full_message=doc)))


@pytest.mark.parametrize("action", PR.ACTIONS)
def test_consent_digest_is_the_contracts_and_eth_accounts(fed: Fed, action: str) -> None:
    world = make_world(fed)
    rid, terms = h(f"record {action}"), h(f"terms {action}")
    digest = world.prop.consent_digest(action, rid, 7, 9, terms, 3, 1_900_000_000)
    assert digest == world.prop.contracts.call(PR.PROPERTY_REGISTER, "consentDigest", action, rid, 7, 9, terms, 3,
                                               1_900_000_000)[0]
    doc = world.prop.consent_typed_data(action, rid, 7, 9, terms, 1_900_000_000, nonce=3)
    assert doc["primaryType"] == "PropertyConsent" and "EIP712Domain" in doc["types"]  # type: ignore[operator]
    assert doc["domain"] == {"name": "ProvenancePropertyRegister", "version": "1", "chainId": fed.chain.chain_id,
                             "verifyingContract": to_checksum_address(world.prop.address)}
    assert _wallet_digest(doc) == digest


def test_a_document_signed_by_a_wallet_is_accepted(fed: Fed) -> None:
    world = make_world(fed)
    asset = world.record(kind=Kind.ASSET)
    terms = PR.transfer_terms(world.buyer.id)
    deadline = world.now() + 600
    holder_doc = world.prop.consent_typed_data("transfer", asset, world.holder.id, world.buyer.id, terms, deadline)
    signed = Account.sign_message(encode_typed_data(full_message=holder_doc), world.holder.key.key)
    world.prop.transfer(world.sde, asset, world.buyer.id, holder=Consent(deadline, bytes(signed.signature)))
    assert world.fed.svc.record(asset).owner == world.buyer.id
    assert world.prop.nonce_of(world.holder.id) == 1


def test_every_action_accepts_signed_consents(fed: Fed) -> None:
    """Every party consents by its own signature: each terms hash and counterparty must be the contract's."""
    world = make_world(fed)
    prop, sde, s = world.prop, world.sde, world.sign
    holder, buyer, bank, assessor, arbitrator = world.holder, world.buyer, world.bank, world.assessor, world.arbitrator
    prop.propose_decision(sde, PropertyDecision.SET_TERM, int(Kind.ASSET), 100 * DAY)
    asset = world.record(kind=Kind.ASSET)

    t = PR.transfer_terms(buyer.id)
    prop.transfer(sde, asset, buyer.id, holder=s(holder, "transfer", asset, buyer.id, t),
                  receiver=s(buyer, "transfer", asset, holder.id, t))
    rights, meta, reason = int(Rights.HOLDING | Rights.PROCESSING), h("meta 2"), h("why")
    prop.change(sde, asset, rights, meta, reason,
                holder=s(buyer, "change", asset, 0, PR.change_terms(rights, meta, reason)))
    prop.renew(sde, asset, holder=s(buyer, "renew", asset, 0, PR.NO_TERMS))
    terms = world.pledge_terms()
    pt = PR.pledge_terms(terms)
    prop.pledge(sde, asset, terms, holder=s(buyer, "pledge", asset, bank.id, pt),
                pledgee=s(bank, "pledge", asset, buyer.id, pt))
    t = PR.transfer_terms(holder.id)
    prop.transfer(sde, asset, holder.id, holder=s(buyer, "transfer", asset, holder.id, t),
                  receiver=s(holder, "transfer", asset, buyer.id, t), pledgee=s(bank, "transfer", asset, holder.id, t))
    prop.release(sde, asset, pledgee=s(bank, "release", asset, holder.id, PR.NO_TERMS))
    prop.pledge(sde, asset, terms, holder=s(holder, "pledge", asset, bank.id, pt),
                pledgee=s(bank, "pledge", asset, holder.id, pt))
    prop.enforce(sde, asset, buyer.id, pledgee=s(bank, "enforce", asset, buyer.id, PR.enforce_terms(buyer.id)))
    a = valuation(world)
    aid, _ = prop.assess(sde, asset, a, assessor=s(assessor, "assess", asset, buyer.id, PR.assess_terms(a)))
    assert aid == PR.assessment_id(assessor.id, 2, a.report_hash)
    prop.withdraw_assessment(sde, asset, aid,
                             assessor=s(assessor, "withdraw", asset, buyer.id, PR.withdraw_terms(aid)))
    claim = h("claim")
    prop.file_dispute(sde, asset, holder.id, claim,
                      claimant_consent=s(holder, "dispute", asset, buyer.id, PR.dispute_terms(holder.id, claim)))
    ruling = h("ruling")
    prop.rule(sde, asset, arbitrator.id, 2, holder.id, ruling,
              arbitrator_consent=s(arbitrator, "rule", asset, buyer.id,
                                   PR.rule_terms(arbitrator.id, 2, holder.id, ruling)))
    prop.execute_ruling(sde, asset)
    assert fed.svc.record(asset).owner == holder.id
    terms = world.pledge_terms(reference="before cancel")
    pt = PR.pledge_terms(terms)
    prop.pledge(sde, asset, terms, holder=s(holder, "pledge", asset, bank.id, pt),
                pledgee=s(bank, "pledge", asset, holder.id, pt))
    prop.cancel(sde, asset, 1, pledgee=s(bank, "cancel", asset, holder.id, PR.cancel_terms(1)))
    assert fed.svc.record(asset).status == Status.REVOKED
    assert prop.nonce_of(bank.id) == 7 and prop.nonce_of(assessor.id) == 2


def test_two_signatures_of_one_entity_use_consecutive_nonces(fed: Fed) -> None:
    world = make_world(fed)
    asset = world.record(kind=Kind.ASSET)
    t = PR.transfer_terms(world.buyer.id)
    first = world.sign(world.holder, "transfer", asset, world.buyer.id, t)
    world.prop.transfer(world.sde, asset, world.buyer.id, holder=first)
    with reverts("WrongSigner"):  # a used signature no longer matches the next nonce
        world.prop.transfer(world.sde, asset, world.holder.id,
                            receiver=world.sign(world.holder, "transfer", asset, world.buyer.id, t, nonce=0))


def test_refused_consents_are_named(fed: Fed) -> None:
    world = make_world(fed)
    asset = world.record(kind=Kind.ASSET)
    t = PR.transfer_terms(world.buyer.id)
    by_buyer = world.prop.sign_consent(world.buyer.key, "transfer", asset, world.holder.id, world.buyer.id, t,
                                       deadline=world.now() + 60)
    with reverts("WrongSigner"):
        world.prop.transfer(world.sde, asset, world.buyer.id, holder=by_buyer)
    with reverts("SignatureExpired"):
        world.prop.transfer(world.sde, asset, world.buyer.id,
                            holder=world.prop.sign_consent(world.holder.key, "transfer", asset, world.holder.id,
                                                           world.buyer.id, t, deadline=world.now() - 10))
    with reverts("WrongSigner"):  # signed over other terms (another receiver)
        world.prop.transfer(world.sde, asset, world.buyer.id,
                            holder=world.sign(world.holder, "transfer", asset, world.buyer.id,
                                              PR.transfer_terms(world.bank.id)))
    stranger = world.party(mandate_to=())
    with reverts("NoConsent", entityId=stranger.id):
        world.prop.transfer(world.sde, asset, stranger.id)


def test_bad_input_is_refused_before_anything_is_sent(fed: Fed) -> None:
    world = make_world(fed)
    asset = world.record(kind=Kind.ASSET)
    head = fed.chain.block_number()
    for bad in ("cny", "CN", "C1Y", "元元元"):
        with pytest.raises(InvalidInput, match="ISO 4217"):
            world.prop.pledge(world.sde, asset, PledgeTerms(world.bank.id, 1, bad, world.now() + DAY))
    with pytest.raises(InvalidInput, match="2\\*\\*32"):
        world.prop.transfer(world.sde, asset, 2**32)
    with pytest.raises(InvalidInput, match="32 bytes"):
        world.prop.transfer(world.sde, b"short", world.buyer.id)
    with pytest.raises(InvalidInput, match="consent action"):
        world.prop.consent_digest("steal", asset, 1, 2, PR.NO_TERMS, 0, 0)
    with pytest.raises(InvalidInput, match="2\\*\\*128"):
        world.prop.assess(world.sde, asset, AssessmentInput(world.assessor.id, 2, h("r"), amount=2**128))
    assert fed.chain.block_number() == head


def test_views(fed: Fed) -> None:
    world = make_world(fed)
    prop, sde = world.prop, world.sde
    product = world.record(kind=Kind.PRODUCT)
    with pytest.raises(NotFound):
        prop.property_of(h("no such record"))
    assert prop.property_of(product) == PR.PropertyState(0, False, False, False, False, False)
    seq, _ = prop.pledge(sde, product, world.pledge_terms(amount=99))
    assert seq == 1 and prop.encumbered(product)
    pledge = prop.pledge_of(product)
    assert (pledge.pledgee, pledge.amount, pledge.currency, pledge.seq) == (world.bank.id, 99, "CNY", 1)
    q = quality(world, 10_000)
    aid, _ = prop.assess(sde, product, q)
    assert aid == PR.assessment_id(world.assessor.id, 0, q.report_hash)
    assert prop.assessment(product, aid).score == 10_000
    with pytest.raises(NotFound):
        prop.assessment(product, h("no such assessment"))
    with reverts("AlreadyAssessed", assessmentId=aid):  # one report, one attestation per record and kind
        prop.assess(sde, product, q)
    c, _ = prop.assess(sde, product, compliance(world))
    prop.list_record(sde, product, c)
    assert prop.property_of(product).listed
    dispute_seq, _ = prop.file_dispute(sde, product, world.buyer.id, h("claim"))
    d = prop.dispute_of(product)
    assert (dispute_seq, d.seq, d.claimant, d.open, d.ruled, d.claim_hash) == (1, 1, world.buyer.id, True, False,
                                                                             h("claim"))
    assert prop.is_accredited(world.assessor.id) and not prop.is_accredited(world.buyer.id)
    assert prop.is_arbitrator(world.arbitrator.id) and not prop.is_arbitrator(world.assessor.id)
    assert prop.term_of(int(Kind.PRODUCT)) == 0 and not prop.is_expired(product)
    assert not prop.compliance_rule(1)
    prop.propose_decision(sde, PropertyDecision.SET_COMPLIANCE_RULE, 1, 1)
    assert prop.compliance_rule(1)


def test_a_pledge_needs_a_financial_institution(fed: Fed) -> None:
    world = make_world(fed)
    asset = world.record(kind=Kind.ASSET)
    with reverts("WrongRole", entityId=world.buyer.id, required=FINANCIAL_INSTITUTION):
        world.prop.pledge(world.sde, asset, PledgeTerms(world.buyer.id, 1, "CNY", world.now() + DAY, h("x")))
