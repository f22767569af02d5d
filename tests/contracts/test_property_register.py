"""PropertyRegister: each rule accepted and refused, through the ABI on the embedded chain; EIP-712 consents made
with eth-account's full-message API; deployment binding; the Registry's hooks and encumbrance rules."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data

from provenance.chain.contracts import Contracts
from provenance.core import flows as F
from provenance.types import Kind
from tests.support.federation import addr, h, make_fed, request, reverts
from tests.support.property_world import (
    APPOINT,
    ASSESS_TYPES,
    DAY,
    MANDATE,
    NO_TERMS,
    PLEDGE_TYPES,
    PR,
    REMOVE_ARBITRATOR,
    SET_COMPLIANCE,
    SET_TERM,
    WITHDRAW_ACCREDITATION,
    PropWorld,
    consent_message,
    terms,
)

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
ACTIVE, SUSPENDED, REVOKED = 1, 2, 3


@pytest.fixture(scope="module")
def w(tmp_path_factory: pytest.TempPathFactory) -> PropWorld:
    return PropWorld(make_fed(Path(tmp_path_factory.mktemp("prop")) / "chain"))


@pytest.fixture
def timed(tmp_path: Path) -> PropWorld:
    """A world of its own whose clock the test moves (terms and compliance rules are global)."""
    fed = make_fed(tmp_path / "chain")
    now = [int(time.time())]
    fed.chain.clock = lambda: now[0]  # type: ignore[method-assign]
    world = PropWorld(fed)
    world.now = now  # type: ignore[attr-defined]
    return world


def advance(world: PropWorld, seconds: int) -> None:
    world.now[0] += seconds  # type: ignore[attr-defined]
    world.fed.chain.mine(1)


# ------------------------------------------------------------------ deployment and hooks


def test_deployment_binds_both_ways_and_binding_is_once(w: PropWorld) -> None:
    c = w.c
    assert bytes.fromhex(c.call("Registry", "propertyRegister")[0][2:]) == c.address(PR)
    assert bytes.fromhex(w.view("registry")[2:]) == c.address("Registry")
    assert bytes.fromhex(w.view("federation")[2:]) == c.address("Federation")
    assert c.deployment.property_register == c.address(PR)
    with reverts("NotBinder"):
        w.tx("bindRegistry", "0x" + c.address("Registry").hex(), signer=w.zj)
    # The deployer is SDE's first key, since rotated out of the fixture? No: make_fed deploys with SDE's key.
    with reverts("AlreadyBound"):
        w.tx("bindRegistry", "0x" + c.address("Registry").hex())


def test_unbound_register_refuses_writes_and_binding_checks_the_registry(tmp_path: Path) -> None:
    fed = make_fed(tmp_path / "chain")
    sde = fed.keys["SDE"]
    c = fed.contracts
    pr_abi = c.abis[PR]
    receipt = fed.chain.transact(sde, None, pr_abi.deploy_data(c.address("Federation")))
    loose = receipt.contract_address
    assert loose is not None
    other = Contracts(chain=fed.chain, deployment=c.deployment.__class__(
        c.deployment.chain_id, c.deployment.federation, c.deployment.registry, 0, None, loose))
    for fn, args in (("transfer", (h("x"), 1, MANDATE, MANDATE, MANDATE)), ("applyDecision", (1,)),
                     ("list", (h("x"), bytes(32))), ("executeRuling", (h("x"),))):
        with reverts("NotBound"):
            other.transact(sde, PR, fn, *args)
    # The deployed Registry names the deployed PR, not this one.
    with reverts("RegistryMismatch"):
        other.transact(sde, PR, "bindRegistry", "0x" + c.address("Registry").hex())
    with reverts("ZeroAddress"):
        other.transact(sde, PR, "bindRegistry", "0x" + bytes(20).hex())
    assert not other.call(PR, "isExpired", h("x"))[0]


def test_registry_hooks_only_for_the_property_register(w: PropWorld) -> None:
    rid = w.record()
    for signer in (w.sde, w.zj, w.alice.key):
        with reverts("NotPropertyRegister"):
            w.c.transact(signer, "Registry", "propertyUpdate", rid, w.bob.id, 7, h("m"))
        with reverts("NotPropertyRegister"):
            w.c.transact(signer, "Registry", "propertyRevoke", rid, bytes(32))


# ------------------------------------------------------------------ transfer


def test_transfer_by_mandate_keeps_the_record_and_changes_the_holder(w: PropWorld) -> None:
    rid = w.record(w.alice)
    before = w.c.call("Registry", "getRecord", rid)[0]
    tx = w.tx("transfer", rid, w.bob.id, MANDATE, MANDATE, MANDATE)
    ev = tx.event("Transferred").args
    assert (ev["from"], ev["to"], ev["registrar"]) == (w.alice.id, w.bob.id, 1)
    after = w.c.call("Registry", "getRecord", rid)[0]
    assert after[0] == w.bob.id and after[1:] == before[1:]
    assert not [e for e in tx.events if e.name == "StatusChanged"]


def test_transfer_refusals(w: PropWorld) -> None:
    rid = w.record(w.alice)
    with reverts("SameHolder", entityId=w.alice.id):
        w.tx("transfer", rid, w.alice.id, MANDATE, MANDATE, MANDATE)
    with reverts("NotRegistrar"):
        w.tx("transfer", rid, w.bob.id, MANDATE, MANDATE, MANDATE, signer=w.zj)
    with reverts("UnknownRecord"):
        w.tx("transfer", h("nothing"), w.bob.id, MANDATE, MANDATE, MANDATE)
    stranger = w.party(mandate_to=("ZJDE",))
    with reverts("NoConsent", entityId=stranger.id):
        w.tx("transfer", rid, stranger.id, MANDATE, MANDATE, MANDATE)
    w.c.transact(w.sde, "Registry", "setStatus", rid, SUSPENDED, bytes(32))
    with reverts("RecordNotActive", status=SUSPENDED):
        w.tx("transfer", rid, w.bob.id, MANDATE, MANDATE, MANDATE)


def test_transfer_of_a_pledged_record_needs_the_pledgee(w: PropWorld) -> None:
    rid = w.record(w.alice)
    w.tx("pledge", rid, w.pledge_terms(), MANDATE, MANDATE)
    w.c.transact(w.bank.key, "Registry", "setMandate", w.bank.id, 1, False)
    with reverts("NoConsent", entityId=w.bank.id):
        w.tx("transfer", rid, w.bob.id, MANDATE, MANDATE, MANDATE)
    t = terms(["uint32"], [w.bob.id])
    w.tx("transfer", rid, w.bob.id, MANDATE, MANDATE, w.sign(w.bank, "transfer", rid, w.bob.id, t))
    assert w.owner(rid) == w.bob.id and w.view("pledgeOf", rid)[0] == w.bank.id  # the pledge follows the record
    w.c.transact(w.bank.key, "Registry", "setMandate", w.bank.id, 1, True)


def test_signed_consents_with_eth_account_full_message(w: PropWorld) -> None:
    signer = w.party(mandate_to=())
    rid = w.record(w.alice)
    t = terms(["uint32"], [signer.id])
    nonce = w.view("nonceOf", signer.id)
    msg = consent_message(w.fed, "transfer", rid, signer.id, w.alice.id, t, nonce, 2**40)
    # The contract's digest is EIP-712's, as eth-account encodes the full message.
    signable = encode_typed_data(full_message=msg)
    from eth_utils import keccak

    digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
    assert w.view("consentDigest", "transfer", rid, signer.id, w.alice.id, t, nonce, 2**40) == digest
    good = Account.sign_typed_data(signer.key.key, full_message=msg).signature
    r, s, v = good[:32], int.from_bytes(good[32:64], "big"), good[64]
    high = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # the malleable twin: same key, high s
    with reverts("InvalidSignatureS"):
        w.tx("transfer", rid, signer.id, MANDATE, (2**40, high), MANDATE)
    with reverts("InvalidSignatureLength", length=64):
        w.tx("transfer", rid, signer.id, MANDATE, (2**40, good[:64]), MANDATE)
    with reverts("InvalidSignatureV", v=29):
        w.tx("transfer", rid, signer.id, MANDATE, (2**40, good[:64] + bytes([29])), MANDATE)
    with reverts("WrongSigner"):  # signed by another key
        w.tx("transfer", rid, signer.id, MANDATE, w.sign(w.bob, "transfer", rid, w.alice.id, t, nonce=nonce),
             MANDATE)
    with reverts("WrongSigner"):  # other terms: a consent to receive it is not one to receive another record
        w.tx("transfer", w.record(w.alice), signer.id, MANDATE, (2**40, good), MANDATE)
    now = w.fed.chain.get_block(w.fed.chain.block_number()).timestamp
    with reverts("SignatureExpired"):
        w.tx("transfer", rid, signer.id, MANDATE, w.sign(signer, "transfer", rid, w.alice.id, t, deadline=now - 1),
             MANDATE)
    w.tx("transfer", rid, signer.id, MANDATE, (2**40, bytes(good)), MANDATE)
    assert w.owner(rid) == signer.id and w.view("nonceOf", signer.id) == nonce + 1
    # Replayed: the same signature again (the record back to alice and to the signer once more) is refused.
    w.tx("transfer", rid, w.alice.id, w.sign(signer, "transfer", rid, w.alice.id, terms(["uint32"], [w.alice.id])),
         MANDATE, MANDATE)
    with reverts("WrongSigner"):
        w.tx("transfer", rid, signer.id, MANDATE, (2**40, bytes(good)), MANDATE)


def test_frozen_entity_cannot_consent(w: PropWorld) -> None:
    victim = w.party()
    rid = w.record(victim)
    w.fed.svc.propose_freeze_entity(w.sde, victim.id)  # executed and applied at threshold 1
    assert w.c.call("Registry", "isFrozen", victim.id)[0]
    with reverts("NoConsent", entityId=victim.id):  # the freeze withdrew its mandates
        w.tx("transfer", rid, w.bob.id, MANDATE, MANDATE, MANDATE)
    t = terms(["uint32"], [w.bob.id])
    with reverts("EntityIsFrozen"):
        w.tx("transfer", rid, w.bob.id, w.sign(victim, "transfer", rid, w.bob.id, t), MANDATE, MANDATE)


# ------------------------------------------------------------------ change, renewal, cancellation


def test_change_rights_and_metadata(w: PropWorld) -> None:
    rid = w.record(w.alice)
    tx = w.tx("change", rid, 3, h("m2"), h("why"), MANDATE)
    ev = tx.event("Changed").args
    assert (ev["previousRights"], ev["rights"], ev["metadataHash"]) == (1, 3, h("m2"))
    rec = w.c.call("Registry", "getRecord", rid)[0]
    assert rec[5] == 3 and rec[11] == h("m2")
    with reverts("NoChange"):
        w.tx("change", rid, 3, h("m2"), h("why"), MANDATE)
    with reverts("NoChange"):  # a zero metadata hash keeps the document
        w.tx("change", rid, 3, bytes(32), h("why"), MANDATE)
    assert w.tx("change", rid, 1, bytes(32), h("why"), MANDATE).event("Changed").args["metadataHash"] == h("m2")
    w.tx("change", rid, 3, bytes(32), h("why"), MANDATE)
    for bad in (0, 8):
        with reverts("InvalidRights", rights=bad):
            w.tx("change", rid, bad, h("m3"), h("why"), MANDATE)
    with reverts("NotRegistrar"):
        w.tx("change", rid, 7, h("m3"), h("why"), MANDATE, signer=w.zj)
    sig = w.sign(w.alice, "change", rid, 0, terms(["uint8", "bytes32", "bytes32"], [7, h("m3"), h("why")]))
    w.c.transact(w.alice.key, "Registry", "setMandate", w.alice.id, 1, False)
    with reverts("NoConsent"):
        w.tx("change", rid, 7, h("m3"), h("why"), MANDATE)
    w.tx("change", rid, 7, h("m3"), h("why"), sig)
    w.c.transact(w.alice.key, "Registry", "setMandate", w.alice.id, 1, True)


def test_terms_expiry_renewal_and_parents(timed: PropWorld) -> None:
    w = timed
    rid = w.record(w.alice)
    assert w.view("propertyOf", rid)[0] == 0 and w.view("termOf", 1) == 0
    with reverts("NoTerm", kind=1):
        w.tx("renew", rid, MANDATE)
    w.decide(SET_TERM, 1, 30 * DAY)
    assert w.view("termOf", 1) == 30 * DAY
    registered = w.c.call("Registry", "getRecord", rid)[0][8]
    assert w.view("propertyOf", rid)[0] == registered + 30 * DAY
    advance(w, 31 * DAY)
    state = w.view("propertyOf", rid)
    assert state[1] and w.view("isExpired", rid)
    with reverts("RecordExpired", expiresAt=registered + 30 * DAY):
        w.tx("transfer", rid, w.bob.id, MANDATE, MANDATE, MANDATE)
    with reverts("RecordExpired"):
        w.tx("pledge", rid, w.pledge_terms(), MANDATE, MANDATE)
    with reverts("RecordExpired"):
        w.tx("list", rid, bytes(32))
    with reverts("ParentExpired", parentId=rid):
        w.record(w.alice, parents=(rid,))
    tx = w.tx("renew", rid, MANDATE)
    now = w.now[0]  # type: ignore[attr-defined]
    assert tx.event("Renewed").args["expiresAt"] == now + 30 * DAY
    assert not w.view("isExpired", rid)
    w.record(w.alice, parents=(rid,))
    # Renewing before expiry extends from the current expiry.
    tx = w.tx("renew", rid, MANDATE)
    assert tx.event("Renewed").args["expiresAt"] == now + 60 * DAY
    # A kind with no term has no expiry (resources here), and a term of 0 switches expiry off.
    res = w.record(w.alice, kind=Kind.RESOURCE)
    assert w.view("propertyOf", res)[0] == 0
    w.decide(SET_TERM, 1, 0)
    assert w.view("propertyOf", rid)[0] == 0


def test_cancel_with_reason_codes(w: PropWorld) -> None:
    rid = w.record(w.alice)
    for bad in (0, 9):
        with reverts("InvalidReasonCode", reasonCode=bad):
            w.tx("cancel", rid, bad, MANDATE)
    tx = w.tx("cancel", rid, 2, MANDATE)
    assert tx.event("Cancelled").args["reasonCode"] == 2
    st = tx.event("StatusChanged").args
    assert (st["current"], st["reason"]) == (REVOKED, (2).to_bytes(32, "big"))
    with reverts("RecordNotActive", status=REVOKED):
        w.tx("cancel", rid, 2, MANDATE)


def test_cancel_of_a_suspended_record_goes_through_the_hook_only_if_active(w: PropWorld) -> None:
    rid = w.record(w.alice)
    w.c.transact(w.sde, "Registry", "setStatus", rid, SUSPENDED, bytes(32))
    with reverts("RecordNotActive", status=SUSPENDED):
        w.tx("cancel", rid, 1, MANDATE)


# ------------------------------------------------------------------ pledges


def test_pledge_release_and_encumbrance(w: PropWorld) -> None:
    rid = w.record(w.alice)
    t = w.pledge_terms()
    tx = w.tx("pledge", rid, t, MANDATE, MANDATE)
    ev = tx.event("Pledged").args
    assert (ev["pledgee"], ev["amount"], ev["pledgeSeq"], ev["pledgeeReference"]) == (w.bank.id, t[1], 1, t[4])
    assert w.view("pledgeOf", rid) == (w.bank.id, t[1], b"CNY", t[3], 1)
    assert w.view("encumbered", rid) and w.view("propertyOf", rid)[3]
    with reverts("AlreadyPledged"):
        w.tx("pledge", rid, t, MANDATE, MANDATE)
    with reverts("RecordEncumbered", id=rid):
        w.c.transact(w.sde, "Registry", "setStatus", rid, REVOKED, bytes(32))
    with reverts("RecordEncumbered", id=rid):
        w.fed.register("SDE", request(w.alice.id, kind=Kind.PRODUCT, supersedes=rid))
    w.c.transact(w.sde, "Registry", "setStatus", rid, SUSPENDED, bytes(32))  # suspension is not revocation
    w.c.transact(w.sde, "Registry", "setStatus", rid, ACTIVE, bytes(32))
    tx = w.tx("release", rid, MANDATE)
    assert tx.event("Released").args["pledgeSeq"] == 1
    assert w.view("pledgeOf", rid) == (0, 0, b"\0\0\0", 0, 1) and not w.view("encumbered", rid)
    with reverts("NotPledged"):
        w.tx("release", rid, MANDATE)
    assert w.tx("pledge", rid, t, MANDATE, MANDATE).event("Pledged").args["pledgeSeq"] == 2


def test_pledge_refusals(w: PropWorld) -> None:
    rid = w.record(w.alice)
    with reverts("NotPledgeable", kind=0):
        w.tx("pledge", w.record(w.alice, kind=Kind.RESOURCE), w.pledge_terms(), MANDATE, MANDATE)
    with reverts("WrongRole", entityId=w.bob.id, required=3):
        w.tx("pledge", rid, w.pledge_terms(pledgee=w.bob.id), MANDATE, MANDATE)
    with reverts("SameHolder"):
        w.tx("pledge", rid, w.pledge_terms(pledgee=w.alice.id), MANDATE, MANDATE)
    with reverts("ZeroAmount"):
        w.tx("pledge", rid, w.pledge_terms(amount=0), MANDATE, MANDATE)
    with reverts("InvalidUntil"):
        w.tx("pledge", rid, w.pledge_terms(until=1), MANDATE, MANDATE)
    with reverts("UnknownEntity"):
        w.tx("pledge", rid, w.pledge_terms(pledgee=10**6), MANDATE, MANDATE)
    with reverts("NotRegistrar"):
        w.tx("pledge", rid, w.pledge_terms(), MANDATE, MANDATE, signer=w.zj)
    # Both parties' signatures over the same terms.
    t = w.pledge_terms()
    th = terms(PLEDGE_TYPES, [t])
    w.c.transact(w.bank.key, "Registry", "setMandate", w.bank.id, 1, False)
    with reverts("NoConsent", entityId=w.bank.id):
        w.tx("pledge", rid, t, MANDATE, MANDATE)
    w.tx("pledge", rid, t, MANDATE, w.sign(w.bank, "pledge", rid, w.alice.id, th))
    w.c.transact(w.bank.key, "Registry", "setMandate", w.bank.id, 1, True)


def test_enforce_passes_the_record_and_ends_the_pledge(w: PropWorld) -> None:
    rid = w.record(w.alice)
    with reverts("NotPledged"):
        w.tx("enforce", rid, w.bank.id, MANDATE)
    w.tx("pledge", rid, w.pledge_terms(), MANDATE, MANDATE)
    with reverts("SameHolder"):
        w.tx("enforce", rid, w.alice.id, MANDATE)
    with reverts("UnknownEntity"):
        w.tx("enforce", rid, 10**6, MANDATE)
    tx = w.tx("enforce", rid, w.carol.id, MANDATE)  # a named buyer
    assert tx.event("Enforced").args["to"] == w.carol.id
    assert tx.event("Transferred").args["from"] == w.alice.id
    assert w.owner(rid) == w.carol.id and w.view("pledgeOf", rid)[0] == 0


def test_cancel_of_a_pledged_record_needs_the_pledgee_and_ends_the_pledge(w: PropWorld) -> None:
    rid = w.record(w.alice)
    w.tx("pledge", rid, w.pledge_terms(), MANDATE, MANDATE)
    w.c.transact(w.bank.key, "Registry", "setMandate", w.bank.id, 1, False)
    with reverts("NoConsent", entityId=w.bank.id):
        w.tx("cancel", rid, 1, MANDATE)
    sig = w.sign(w.bank, "cancel", rid, w.alice.id, terms(["uint8"], [1]))
    w.c.transact(w.bank.key, "Registry", "setMandate", w.bank.id, 1, True)
    tx = w.tx("cancel", rid, 1, sig)
    assert [e.name for e in tx.events if e.contract == PR] == ["Released", "Cancelled"]
    assert w.status(rid) == REVOKED and not w.view("encumbered", rid)


# ------------------------------------------------------------------ assessments and listing


def test_assessments_each_kind_and_withdrawal(w: PropWorld) -> None:
    rid = w.record(w.alice)
    quality = w.assessment(0, score=8500)
    i1 = w.tx("assess", rid, quality, MANDATE).event("Assessed").args["assessmentId"]
    assert i1 == terms(["uint32", "uint8", "bytes32"], [w.assessor.id, 0, quality[10]])
    with reverts("AlreadyAssessed", assessmentId=i1):
        w.tx("assess", rid, quality, MANDATE)
    valuation = w.assessment(2, method=2, amount=5 * 10**9, valid_until=w.timestamp() + 90 * DAY)
    i2 = w.tx("assess", rid, valuation, MANDATE).event("Assessed").args["assessmentId"]
    stored = w.view("assessment", rid, i2)
    assert (stored[0], stored[1], stored[4], stored[9]) == (w.assessor.id, 2, 2, 5 * 10**9)
    assert w.view("assessment", w.record(), i2)[0] == 0  # the index is this record's only
    for bad, err in (((0, 10001), "InvalidScore"), ((2, 0, 3), "InvalidMethod"), ((3,), "InvalidAssessmentKind")):
        a = list(w.assessment(bad[0], amount=1))
        if err == "InvalidScore":
            a[2] = bad[1]
        if err == "InvalidMethod":
            a[4] = bad[2]
        with reverts(err):
            w.tx("assess", rid, tuple(a), MANDATE)
    with reverts("ZeroAmount"):
        w.tx("assess", rid, w.assessment(2, amount=0), MANDATE)
    with reverts("AmountTooLarge"):
        w.tx("assess", rid, w.assessment(2, amount=2**72), MANDATE)
    with reverts("ZeroHash"):
        w.tx("assess", rid, w.assessment(1, report=bytes(32)), MANDATE)
    with reverts("InvalidValidity"):
        w.tx("assess", rid, w.assessment(1, valid_until=1), MANDATE)
    with reverts("NotAccredited", entityId=w.bob.id):
        w.tx("assess", rid, w.assessment(1, assessor=w.bob.id), MANDATE)
    # Signed by the assessor instead of a mandate.
    a = w.assessment(1, report=h("signed report"))
    w.c.transact(w.assessor.key, "Registry", "setMandate", w.assessor.id, 1, False)
    with reverts("NoConsent", entityId=w.assessor.id):
        w.tx("assess", rid, a, MANDATE)
    w.tx("assess", rid, a, w.sign(w.assessor, "assess", rid, w.alice.id, terms(ASSESS_TYPES, [a])))
    w.c.transact(w.assessor.key, "Registry", "setMandate", w.assessor.id, 1, True)
    with reverts("NoConsent", entityId=w.assessor.id):  # the assessor's mandate is to SDE, not ZJDE
        w.tx("withdrawAssessment", rid, i1, MANDATE, signer=w.zj)
    assert w.tx("withdrawAssessment", rid, i1, MANDATE).event("AssessmentWithdrawn").args["assessmentId"] == i1
    assert w.view("assessment", rid, i1)[8]
    with reverts("AlreadyWithdrawn"):
        w.tx("withdrawAssessment", rid, i1, MANDATE)
    with reverts("UnknownAssessment"):
        w.tx("withdrawAssessment", rid, h("none"), MANDATE)


def test_listing_and_the_compliance_rule(timed: PropWorld) -> None:
    w = timed
    with reverts("NotListable", kind=0):
        w.tx("list", w.record(w.alice, kind=Kind.RESOURCE), bytes(32))
    free = w.record(w.alice)
    assert w.tx("list", free, bytes(32)).event("Listed").args["registrar"] == 1
    with reverts("AlreadyListed"):
        w.tx("list", free, bytes(32))
    w.decide(SET_COMPLIANCE, 1, 1)
    assert w.view("complianceRule", 1) and not w.view("complianceRule", 2)
    rid = w.record(w.alice, kind=Kind.ASSET)
    with reverts("ComplianceRequired", id=rid):
        w.tx("list", rid, bytes(32))
    def assess(a: tuple) -> bytes:
        return bytes(w.tx("assess", rid, a, MANDATE).event("Assessed").args["assessmentId"])

    failed = assess(w.assessment(1, passed=False, report=h("failed")))
    quality = assess(w.assessment(0, score=9000))
    short = assess(w.assessment(1, valid_until=w.now[0] + DAY, report=h("short")))  # type: ignore[attr-defined]
    good = assess(w.assessment(1))
    other = w.record(w.alice, kind=Kind.ASSET)
    for index in (failed, quality):
        with reverts("ComplianceRequired"):
            w.tx("list", rid, index)
    with reverts("ComplianceRequired"):  # another record's assessment does not count
        w.tx("list", other, good)
    advance(w, 2 * DAY)
    with reverts("ComplianceRequired"):
        w.tx("list", rid, short)
    w.decide(WITHDRAW_ACCREDITATION, w.assessor.id)  # an assessment counts while its assessor is accredited
    with reverts("ComplianceRequired"):
        w.tx("list", rid, good)
    w.decide(0, w.assessor.id)
    w.tx("list", rid, good)
    assert w.view("propertyOf", rid)[2]


# ------------------------------------------------------------------ disputes


def test_dispute_ruling_dismissed(w: PropWorld) -> None:
    rid = w.record(w.alice)
    with reverts("ZeroHash"):
        w.tx("fileDispute", rid, w.carol.id, bytes(32), MANDATE)
    tx = w.tx("fileDispute", rid, w.carol.id, h("claim"), MANDATE)
    assert tx.event("DisputeFiled").args["disputeSeq"] == 1
    assert w.view("encumbered", rid) and w.view("propertyOf", rid)[4]
    with reverts("AlreadyDisputed"):
        w.tx("fileDispute", rid, w.bob.id, h("claim2"), MANDATE)
    for fn, args in (("transfer", (w.bob.id, MANDATE, MANDATE, MANDATE)), ("change", (3, h("m"), h("r"), MANDATE)),
                     ("cancel", (1, MANDATE)), ("pledge", (w.pledge_terms(), MANDATE, MANDATE)),
                     ("list", (bytes(32),))):
        with reverts("UnderDispute", id=rid):
            w.tx(fn, rid, *args)
    with reverts("RecordEncumbered"):
        w.c.transact(w.sde, "Registry", "setStatus", rid, REVOKED, bytes(32))
    with reverts("NotRuled"):
        w.tx("executeRuling", rid)
    with reverts("NotArbitrator", entityId=w.bob.id):
        w.tx("rule", rid, w.bob.id, 1, 0, h("ruling"), MANDATE)
    with reverts("InvalidOutcome", outcome=4):
        w.tx("rule", rid, w.arbitrator.id, 4, 0, h("ruling"), MANDATE)
    with reverts("InvalidOutcome", outcome=1):
        w.tx("rule", rid, w.arbitrator.id, 1, w.bob.id, h("ruling"), MANDATE)
    with reverts("ZeroHash"):
        w.tx("rule", rid, w.arbitrator.id, 1, 0, bytes(32), MANDATE)
    sig = w.sign(w.arbitrator, "rule", rid, w.alice.id,
                 terms(["uint32", "uint8", "uint32", "bytes32"], [w.arbitrator.id, 1, 0, h("ruling")]))
    w.c.transact(w.arbitrator.key, "Registry", "setMandate", w.arbitrator.id, 1, False)
    w.tx("rule", rid, w.arbitrator.id, 1, 0, h("ruling"), sig)
    w.c.transact(w.arbitrator.key, "Registry", "setMandate", w.arbitrator.id, 1, True)
    with reverts("AlreadyRuled"):
        w.tx("rule", rid, w.arbitrator.id, 1, 0, h("ruling"), MANDATE)
    d = w.view("disputeOf", rid)
    assert (d[0], d[1], d[2], d[3], d[5], d[6]) == (1, w.carol.id, w.arbitrator.id, 1, True, True)
    tx = w.tx("executeRuling", rid, signer=w.zj)  # any member exchange carries it out
    assert tx.event("RulingExecuted").args["outcome"] == 1
    assert not w.view("encumbered", rid) and w.owner(rid) == w.alice.id
    with reverts("NotDisputed"):
        w.tx("rule", rid, w.arbitrator.id, 1, 0, h("ruling"), MANDATE)


def test_ruling_ownership_and_cancellation(w: PropWorld) -> None:
    rid = w.record(w.alice)
    w.tx("pledge", rid, w.pledge_terms(), MANDATE, MANDATE)
    w.tx("fileDispute", rid, w.carol.id, h("claim"), MANDATE)
    with reverts("SameHolder"):
        w.tx("rule", rid, w.arbitrator.id, 2, w.alice.id, h("r"), MANDATE)
    w.tx("rule", rid, w.arbitrator.id, 2, w.carol.id, h("r"), MANDATE)
    tx = w.tx("executeRuling", rid)
    names = [e.name for e in tx.events if e.contract == PR]
    assert names == ["RulingExecuted", "Released", "Transferred"]
    assert w.owner(rid) == w.carol.id and w.view("pledgeOf", rid)[0] == 0
    rid2 = w.record(w.alice)
    w.tx("fileDispute", rid2, w.bob.id, h("claim"), MANDATE)
    w.tx("rule", rid2, w.arbitrator.id, 3, 0, h("r"), MANDATE)
    tx = w.tx("executeRuling", rid2)
    assert tx.event("Cancelled").args["reasonCode"] == 6 and w.status(rid2) == REVOKED


def test_arbitrator_is_party_refused(w: PropWorld) -> None:
    rid = w.record(w.arbitrator)
    w.tx("fileDispute", rid, w.bob.id, h("claim"), MANDATE)
    with reverts("ArbitratorIsParty", entityId=w.arbitrator.id):
        w.tx("rule", rid, w.arbitrator.id, 1, 0, h("r"), MANDATE)


# ------------------------------------------------------------------ governance


def test_decisions_roles_once_and_shape(w: PropWorld) -> None:
    with reverts("WrongRole", entityId=w.bob.id, required=4):
        w.decide(0, w.bob.id)
    with reverts("WrongRole", entityId=w.assessor.id, required=5):
        w.decide(APPOINT, w.assessor.id)
    with reverts("AlreadyAccredited"):
        w.decide(0, w.assessor.id)
    with reverts("AlreadyArbitrator"):
        w.decide(APPOINT, w.arbitrator.id)
    with reverts("NotArbitrator"):
        w.decide(REMOVE_ARBITRATOR, w.bob.id)
    with reverts("NotAccredited"):
        w.decide(WITHDRAW_ACCREDITATION, w.bob.id)
    pid = w.propose(SET_TERM, 2, 10 * DAY)
    tx = w.tx("applyDecision", pid)
    assert tx.event("TermSet").args["kind"] == 2 and w.view("termOf", 2) == 10 * DAY
    with reverts("DecisionAlreadyApplied", proposalId=pid):
        w.tx("applyDecision", pid)
    w.decide(SET_TERM, 2, 0)
    with reverts("DecisionForOtherRegister"):
        w.tx("applyDecision", w.propose(SET_TERM, 2, 0, target=b"\x11" * 20))
    freeze = w.fed.svc.propose_freeze_entity(w.sde, w.bob.id).proposal_id
    with reverts("NotPropertyDecision"):
        w.tx("applyDecision", freeze)
    for decision, subject, value in ((6, 1, 0), (0, 0, 0), (0, 1, 1), (SET_TERM, 3, 0), (SET_TERM, 1, 2**32),
                                     (SET_COMPLIANCE, 0, 1), (SET_COMPLIANCE, 1, 2), (SET_COMPLIANCE, 2**16, 1)):
        with reverts("InvalidPayload"):
            w.propose(decision, subject, value)
    with reverts("InvalidPayload"):
        w.c.transact(w.sde, "Federation", "propose", 8, encode(["address", "uint8"], [addr(w.sde), 0]))


def test_pending_decision_is_not_applied(tmp_path: Path) -> None:
    fed = make_fed(tmp_path / "chain")
    w = PropWorld(fed)
    fed.svc.propose_threshold(w.sde, 2)
    epoch = w.c.call("Federation", "epoch")[0]
    pid = w.propose(SET_TERM, 1, DAY)
    with reverts("ProposalNotExecuted", proposalId=pid):
        w.tx("applyDecision", pid)
    w.c.transact(w.zj, "Federation", "approve", pid)
    w.tx("applyDecision", pid)
    assert w.view("termOf", 1) == DAY
    assert w.c.call("Federation", "epoch")[0] == epoch  # a property decision leaves the membership epoch alone


# ------------------------------------------------------------------ cross-border


def test_cross_border_refuses_expired_and_disputed_records(timed: PropWorld) -> None:
    w = timed
    rid = w.record(w.alice)
    req = (rid, w.alice.id, w.bob.id, b"SG", F.category_code("IOT"), bytes(32), "maintenance")
    w.tx("fileDispute", rid, w.carol.id, h("claim"), MANDATE)
    with reverts("UnderDispute", id=rid):
        w.c.transact(w.sde, "CrossBorder", "fileApplication", req)
    w.tx("rule", rid, w.arbitrator.id, 1, 0, h("r"), MANDATE)
    w.tx("executeRuling", rid)
    w.decide(SET_TERM, 1, DAY)
    advance(w, 2 * DAY)
    with reverts("RecordExpired", id=rid):
        w.c.transact(w.sde, "CrossBorder", "fileApplication", req)
    w.tx("renew", rid, MANDATE)
    w.c.transact(w.sde, "CrossBorder", "fileApplication", req)


def test_no_terms_hash_is_keccak_of_nothing() -> None:
    from eth_utils import keccak

    assert NO_TERMS == keccak(b"")
