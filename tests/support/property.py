"""The data property register in tests: a federation with the institutions it needs (a bank, an accredited
assessor, an appointed arbitrator), records, every operation in one sequence, and the check that the index holds
exactly what the contract's views say."""

from __future__ import annotations

import itertools
import json
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from eth_account import Account
from eth_account.signers.local import LocalAccount

from provenance.chain.contracts import Contracts, Deployment
from provenance.chain.embedded import EmbeddedChain
from provenance.chain.property import (
    AssessmentInput,
    Consent,
    PledgeTerms,
    PropertyDecision,
    PropertyService,
    assessment_id,
    pledge_terms,
    transfer_terms,
)
from provenance.chain.registry import EntityConsent
from provenance.core import eip712
from provenance.indexer import property as P
from provenance.indexer.events import Event
from provenance.indexer.follower import Follower
from provenance.indexer.property_queries import PropertyQueries
from provenance.store import keys as K
from provenance.store.index import BlockWriter, IndexStore
from provenance.types import Address, EntityRole, Kind, RecordId, Rights
from tests.support.federation import Fed, addr, h, request

FINANCIAL_INSTITUTION = 3
ASSESSMENT_INSTITUTION = 4
ARBITRATION_INSTITUTION = 5
DAY = 86_400
_n = itertools.count(1)


@dataclass
class Party:
    id: int
    key: LocalAccount


@dataclass
class World:
    """A federation (SDE, ZJDE, AHDE) with a property register, two merchants, a bank, an accredited assessor and
    an appointed arbitrator, every one of them with a mandate to SDE."""

    fed: Fed
    prop: PropertyService
    holder: Party
    buyer: Party
    bank: Party
    assessor: Party
    arbitrator: Party
    records: list[RecordId] = field(default_factory=list)

    @property
    def sde(self) -> LocalAccount:
        return self.fed.keys["SDE"]

    def now(self) -> int:
        chain = self.fed.chain
        return chain.get_block(chain.block_number()).timestamp

    def record(self, *, kind: Kind = Kind.ASSET, owner: int | None = None, registrar: str = "SDE") -> RecordId:
        rid = self.fed.register(registrar, request(self.holder.id if owner is None else owner, kind=kind))
        self.records.append(rid)
        return rid

    def party(self, role: int = int(EntityRole.SUPPLIER), *, mandate_to: tuple[str, ...] = ("SDE",)) -> Party:
        entity, key = entity_with_role(self.fed, role, mandate_to=mandate_to)
        return Party(entity, key)

    def sign(self, party: Party, action: str, record: bytes, counterparty: int, terms: bytes, *,
             nonce: int | None = None) -> Consent:
        return self.prop.sign_consent(party.key, action, record, party.id, counterparty, terms,
                                      deadline=self.now() + 3600, nonce=nonce)

    def pledge_terms(self, *, amount: int = 5_000_000, days: int = 180, reference: str = "loan") -> PledgeTerms:
        return PledgeTerms(self.bank.id, amount, "CNY", self.now() + days * DAY, h(reference))


def entity_with_role(fed: Fed, role: int, *, home: str = "SDE",
                     mandate_to: tuple[str, ...] = ("SDE",)) -> tuple[int, LocalAccount]:
    """An entity of any role (the three institutions' roles included), with mandates to ``mandate_to``: its
    onboarding consent is signed here, for whatever role number the contract knows."""
    account = Account.create()
    ident = h(f"property-entity-{next(_n)}")
    registrar = fed.svc.exchange_id(home)
    deadline = fed.svc.chain_time() + 3600
    digest = fed.svc.onboarding_digest(registrar, ident, addr(account), cast(EntityRole, role), deadline)
    consent = EntityConsent(ident, Address(addr(account)), cast(EntityRole, role), registrar, deadline,
                            eip712.sign_digest(digest, bytes(account.key)))
    entity = fed.svc.register_entity(fed.keys[home], ident, account, cast(EntityRole, role), consent=consent)
    for code in mandate_to:
        fed.svc.set_mandate(account, entity, code, True)
    return entity, account


def make_world(fed: Fed) -> World:
    prop = PropertyService(fed.contracts)
    parties = [Party(*entity_with_role(fed, role)) for role in (
        int(EntityRole.SUPPLIER), int(EntityRole.DEMANDER), FINANCIAL_INSTITUTION, ASSESSMENT_INSTITUTION,
        ARBITRATION_INSTITUTION)]
    holder, buyer, bank, assessor, arbitrator = parties
    world = World(fed, prop, holder, buyer, bank, assessor, arbitrator)
    assert prop.propose_decision(world.sde, PropertyDecision.ACCREDIT_ASSESSOR, world.assessor.id).executed
    assert prop.propose_decision(world.sde, PropertyDecision.APPOINT_ARBITRATOR, world.arbitrator.id).executed
    return world


def quality(world: World, score: int = 8_500) -> AssessmentInput:
    return AssessmentInput(world.assessor.id, 0, h(f"quality-report-{next(_n)}"), score=score,
                           standard=h("GB/T 36344-2018"))


def compliance(world: World, *, passed: bool = True, valid_days: int = 365) -> AssessmentInput:
    return AssessmentInput(world.assessor.id, 1, h(f"compliance-report-{next(_n)}"), passed=passed,
                           standard=h("scope: personal information"), valid_until=world.now() + valid_days * DAY)


def valuation(world: World, amount: int = 12_000_000, *, method: int = 2) -> AssessmentInput:
    return AssessmentInput(world.assessor.id, 2, h(f"valuation-report-{next(_n)}"), method=method, amount=amount,
                           currency="CNY", valuation_date=world.now() - DAY, valid_until=world.now() + 90 * DAY)


def every_operation(world: World) -> dict[str, RecordId]:
    """Every write of the register at least once, by mandate and by signature, on five records; returns them by
    what happened to them."""
    fed, prop, sde = world.fed, world.prop, world.sde
    holder, buyer, bank = world.holder, world.buyer, world.bank
    prop.propose_decision(sde, PropertyDecision.SET_TERM, int(Kind.ASSET), 400 * DAY)
    prop.propose_decision(sde, PropertyDecision.SET_TERM, int(Kind.PRODUCT), 800 * DAY)
    prop.propose_decision(sde, PropertyDecision.SET_COMPLIANCE_RULE, fed.svc.exchange_id("SDE"), 1)
    # A second assessor and arbitrator come and go.
    other_assessor = world.party(ASSESSMENT_INSTITUTION)
    other_arbitrator = world.party(ARBITRATION_INSTITUTION)
    prop.propose_decision(sde, PropertyDecision.ACCREDIT_ASSESSOR, other_assessor.id)
    prop.propose_decision(sde, PropertyDecision.APPOINT_ARBITRATOR, other_arbitrator.id)

    traded = world.record(kind=Kind.ASSET)
    # Transfer with signatures from both parties (the holder's and the receiver's own keys).
    terms = transfer_terms(buyer.id)
    prop.transfer(sde, traded, buyer.id, holder=world.sign(holder, "transfer", traded, buyer.id, terms),
                  receiver=world.sign(buyer, "transfer", traded, holder.id, terms))
    prop.change(sde, traded, int(Rights.HOLDING | Rights.OPERATION), h("metadata v2"), h("operation right added"))
    prop.renew(sde, traded)
    # Pledged: the pledgee signs; the transfer back needs the pledgee's consent too (its mandate here).
    pledge = world.pledge_terms()
    prop.pledge(sde, traded, pledge, pledgee=world.sign(bank, "pledge", traded, buyer.id, pledge_terms(pledge)))
    prop.transfer(sde, traded, holder.id)
    prop.release(sde, traded)
    prop.pledge(sde, traded, world.pledge_terms(amount=7_000_000, reference="second loan"))
    prop.enforce(sde, traded, bank.id)
    prop.assess(sde, traded, quality(world))
    withdrawn, _ = prop.assess(sde, traded, quality(world, 4_000))
    prop.withdraw_assessment(sde, traded, withdrawn)
    prop.assess(sde, traded, valuation(world))

    listed = world.record(kind=Kind.PRODUCT)
    passed, _ = prop.assess(sde, listed, compliance(world))
    prop.list_record(sde, listed, passed)
    prop.pledge(sde, listed, world.pledge_terms(amount=1_000_000, reference="in force"))
    # A dispute decided for the claimant: the record passes to it by the ruling's own transaction.
    prop.file_dispute(sde, listed, buyer.id, h("buyer's claim"))
    prop.rule(sde, listed, world.arbitrator.id, 2, buyer.id, h("ruling: ownership to the buyer"))
    prop.execute_ruling(sde, listed)

    ruled_out = world.record(kind=Kind.PRODUCT)
    prop.pledge(sde, ruled_out, world.pledge_terms(reference="ends by ruling"))
    prop.file_dispute(sde, ruled_out, bank.id, h("bank's claim"))
    prop.rule(sde, ruled_out, world.arbitrator.id, 3, 0, h("ruling: cancelled"))
    prop.execute_ruling(sde, ruled_out)

    cancelled = world.record(kind=Kind.ASSET)
    prop.pledge(sde, cancelled, world.pledge_terms(reference="ends by cancellation"))
    prop.cancel(sde, cancelled, 2)

    dismissed = world.record(kind=Kind.RESOURCE)
    prop.file_dispute(sde, dismissed, buyer.id, h("weak claim"))
    prop.rule(sde, dismissed, world.arbitrator.id, 1, 0, h("ruling: dismissed"))
    prop.execute_ruling(sde, dismissed)
    prop.file_dispute(sde, dismissed, bank.id, h("second claim, open"))

    # Two pledges stay in force, with two pledgees, for the encumbrance search.
    in_force = world.record(kind=Kind.PRODUCT)
    prop.pledge(sde, in_force, world.pledge_terms(reference="in force, first bank"))
    other_bank = world.party(FINANCIAL_INSTITUTION)
    in_force_too = world.record(kind=Kind.ASSET)
    prop.pledge(sde, in_force_too, PledgeTerms(other_bank.id, 250, "USD", world.now() + 30 * DAY, h("second bank")))

    prop.propose_decision(sde, PropertyDecision.WITHDRAW_ACCREDITATION, other_assessor.id)
    prop.propose_decision(sde, PropertyDecision.REMOVE_ARBITRATOR, other_arbitrator.id)
    prop.propose_decision(sde, PropertyDecision.SET_COMPLIANCE_RULE, fed.svc.exchange_id("ZJDE"), 1)
    return {"traded": traded, "listed": listed, "ruled_out": ruled_out, "cancelled": cancelled,
            "dismissed": dismissed, "in_force": in_force, "in_force_too": in_force_too}


_OUTCOME_CODES = {None: 0, "dismissed": 1, "ownership": 2, "cancelled": 3}


def assert_index_equals_contract(world: World, store: IndexStore, *, entities: list[int] | None = None) -> None:
    """The index holds what the contract's views say, record by record, at the chain's current time."""
    prop, svc, q = world.prop, world.fed.svc, PropertyQueries(store)
    now = world.now()
    for rid in world.records:
        chain_rec, index_rec = svc.record(rid), store.record(rid)
        assert index_rec is not None
        assert (index_rec.owner, index_rec.rights, index_rec.metadata_hash, index_rec.status) == (
            chain_rec.owner, int(chain_rec.rights), chain_rec.metadata_hash, int(chain_rec.status)), rid.hex()
        owned = store.seqs_with(K.BY_OWNER + chain_rec.owner.to_bytes(4, "big"), limit=10_000)
        assert index_rec.seq in owned
        for change in q.owners(rid):
            if change.previous != chain_rec.owner:
                assert index_rec.seq not in store.seqs_with(K.BY_OWNER + change.previous.to_bytes(4, "big"),
                                                            limit=10_000)
        view = q.view(rid, now=now)
        assert view is not None and view.owner == chain_rec.owner
        state = prop.property_of(rid)
        assert (view.expires_at, view.expired, view.listed, view.pledge is not None, view.dispute is not None,
                view.dispute is not None and view.dispute.outcome is not None) == (
            state.expires_at, state.expired, state.listed, state.pledged, state.disputed, state.ruled), rid.hex()
        pledge = prop.pledge_of(rid)
        assert len(q.pledges(rid)) == pledge.seq
        if view.pledge is not None:
            p = view.pledge
            assert (p.pledgee, p.amount, p.currency, p.until, p.seq) == (
                pledge.pledgee, pledge.amount, pledge.currency, pledge.until, pledge.seq)
        else:
            assert pledge.pledgee == 0
        dispute = prop.dispute_of(rid)
        disputes = q.disputes(rid)
        assert len(disputes) == dispute.seq
        if disputes:
            d = disputes[-1]
            assert (d.seq, d.claimant, d.claim_hash, d.arbitrator or 0, _OUTCOME_CODES[d.outcome],
                    d.new_owner or 0, not d.executed, d.ruling_hash or bytes(32)) == (
                dispute.seq, dispute.claimant, dispute.claim_hash, dispute.arbitrator, dispute.outcome,
                dispute.new_owner, dispute.open, dispute.ruling_hash)
        for n, a in enumerate(q.assessments(rid), start=1):
            assert a.index == n and a.id == assessment_id(a.assessor, ("quality", "compliance", "valuation").index(
                a.kind), a.report_hash)
            s = prop.assessment(rid, a.id)
            assert (a.assessor, a.kind, a.withdrawn, a.valid_until) == (
                s.assessor, ("quality", "compliance", "valuation")[s.kind], s.withdrawn, s.valid_until)
            # The contract keeps every field it was given; the index shows those of the assessment's kind.
            if s.kind == 0:
                assert (a.score, a.passed, a.amount) == (s.score, None, None), (a, s)
            elif s.kind == 1:
                assert (a.passed, a.score, a.amount) == (s.passed, None, None), (a, s)
            else:
                assert (a.amount, a.currency, a.valuation_date, a.method, a.score) == (
                    s.amount, s.currency, s.valuation_date, ("cost", "income", "market")[s.method], None), (a, s)
    assert q.terms() == {label: prop.term_of(i) for i, label in enumerate(("resource", "product", "asset"))}
    candidates = set(entities or []) | {world.assessor.id, world.arbitrator.id, world.holder.id}
    accredited = q.accredited()
    for entity in candidates:
        assert (entity in accredited["assessors"]) == prop.is_accredited(entity)
        assert (entity in accredited["arbitrators"]) == prop.is_arbitrator(entity)
    for exchange in range(1, world.fed.svc.exchange_count() + 1):
        assert (exchange in q.compliance_rules()) == prop.compliance_rule(exchange)


def _crash_in_the_middle_of_an_enforcement() -> None:
    """Child process of the crash test: index a prepared chain whose only transfer is an enforcement's, and SIGKILL
    itself once that block's Enforced and Transferred are applied to the block's overlay, before its batch is
    written."""
    chain_dir, index_dir, dep_file = (Path(a) for a in sys.argv[1:4])
    chain = EmbeddedChain(chain_dir)
    contracts = Contracts.attach(chain, Deployment.from_json(json.loads(dep_file.read_text())))
    store = IndexStore(index_dir)
    real = P.HANDLERS["Transferred"]

    def die(w: BlockWriter, ev: Event) -> None:
        real(w, ev)
        print("killed in the middle of the enforcement", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    P.HANDLERS["Transferred"] = die
    Follower(chain=chain, contracts=contracts, store=store).sync()


if __name__ == "__main__":
    _crash_in_the_middle_of_an_enforcement()
