"""A Hypothesis state machine over the property register: random sequences of registrations, transfers, pledges,
releases, enforcements, assessments, withdrawals, disputes, rulings, executions, renewals, cancellations,
revocations and time passing to expiry, each judged by a pure Python model of the rules (which call succeeds,
which named error refuses the others), and every view of every record compared with the model after each step;
after each step the index, following the same chain, is compared with the contract too."""

from __future__ import annotations

import itertools
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from provenance.chain.property import PropertyService
from provenance.errors import ContractReverted
from provenance.indexer.follower import Follower
from provenance.store.index import IndexStore
from provenance.types import Kind, RecordId
from tests.support.federation import h, make_fed
from tests.support.property import World, assert_index_equals_contract
from tests.support.property_world import DAY, MANDATE, SET_TERM, PropWorld

PRODUCT_TERM = 10 * DAY  # products expire; assets have no term
_n = itertools.count(1)


@dataclass
class M:
    """The model of one record."""

    owner: int
    kind: int
    timestamp: int
    active: bool = True
    renewed: int = 0
    pledgee: int = 0
    pledge_seq: int = 0
    disputed: bool = False
    ruled: bool = False
    dispute_seq: int = 0
    outcome: int = 0
    new_owner: int = 0
    listed: bool = False
    assessments: dict[bytes, bool] = field(default_factory=dict)  # id -> withdrawn


class PropertyMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        fed = make_fed(Path(self.tmp.name) / "chain")
        self.now = int(time.time()) + 5
        fed.chain.clock = lambda: self.now  # type: ignore[method-assign]
        fed.chain.mine(1)
        self.w = PropWorld(fed)
        self.w.decide(SET_TERM, 1, PRODUCT_TERM)
        self.holders = [self.w.alice.id, self.w.bob.id, self.w.carol.id]
        self.bank_mandate = True
        self.records: dict[bytes, M] = {}
        self.order: list[bytes] = []
        # The index follows the same chain; after every step it must say what the contract says.
        self.store = IndexStore(Path(self.tmp.name) / "index")
        self.follower = Follower(chain=fed.chain, contracts=fed.contracts, store=self.store)
        w = self.w
        self.indexed = World(fed=fed, prop=PropertyService(fed.contracts), holder=w.alice, buyer=w.bob,  # type: ignore[arg-type]
                             bank=w.bank, assessor=w.assessor, arbitrator=w.arbitrator)  # type: ignore[arg-type]

    def teardown(self) -> None:
        self.store.close()
        self.w.fed.chain.close()
        self.tmp.cleanup()

    # ------------------------------------------------------------------ model helpers

    def expiry(self, m: M) -> int:
        if m.kind != 1:
            return 0
        return m.renewed or m.timestamp + PRODUCT_TERM

    def expired(self, m: M) -> bool:
        e = self.expiry(m)
        return e != 0 and self.now >= e

    def attempt(self, expected: str | None, fn: str, *args: object) -> bool:
        """Send the call; it must succeed iff the model says so, else fail with the model's error."""
        try:
            self.w.tx(fn, *args)
        except ContractReverted as exc:
            assert expected is not None, f"{fn} refused with {exc.error}; the model accepts it"
            assert exc.error == expected, f"{fn}: model {expected}, contract {exc.error}"
            return False
        assert expected is None, f"{fn} accepted; the model refuses it with {expected}"
        return True

    def pick(self, i: int) -> tuple[bytes, M]:
        rid = self.order[i % len(self.order)]
        return rid, self.records[rid]

    def end_pledge(self, m: M) -> None:
        m.pledgee = 0

    # ------------------------------------------------------------------ rules

    @initialize(kind=st.sampled_from([1, 2]), owner=st.integers(0, 2))
    def first_record(self, kind: int, owner: int) -> None:
        self.register(kind, owner)

    @rule(kind=st.sampled_from([1, 2]), owner=st.integers(0, 2))
    def register(self, kind: int, owner: int) -> None:
        party = [self.w.alice, self.w.bob, self.w.carol][owner]
        rid = self.w.record(party, kind=Kind(kind))
        ts = int(self.w.c.call("Registry", "getRecord", rid)[0][8])
        assert ts == self.now
        self.records[rid] = M(owner=party.id, kind=kind, timestamp=ts)
        self.order.append(rid)

    @rule(days=st.integers(1, 8))
    def time_passes(self, days: int) -> None:
        self.now += days * DAY
        self.w.fed.chain.mine(1)

    @rule(on=st.booleans())
    def bank_mandate_changes(self, on: bool) -> None:
        self.w.c.transact(self.w.bank.key, "Registry", "setMandate", self.w.bank.id, 1, on)
        self.bank_mandate = on

    @rule(i=st.integers(0, 50), to=st.integers(0, 2))
    def transfer(self, i: int, to: int) -> None:
        rid, m = self.pick(i)
        target = self.holders[to]
        expected = self.common(m) or ("UnderDispute" if m.disputed else None) or (
            "RecordExpired" if self.expired(m) else None) or ("SameHolder" if target == m.owner else None) or (
            self.no_consent(m.owner, target, m.pledgee))
        if self.attempt(expected, "transfer", rid, target, MANDATE, MANDATE, MANDATE):
            m.owner = target

    @rule(i=st.integers(0, 50))
    def pledge(self, i: int) -> None:
        rid, m = self.pick(i)
        expected = self.common(m) or ("UnderDispute" if m.disputed else None) or (
            "RecordExpired" if self.expired(m) else None) or ("AlreadyPledged" if m.pledgee else None) or (
            "SameHolder" if m.owner == self.w.bank.id else None) or self.no_consent(self.w.bank.id)
        if self.attempt(expected, "pledge", rid, self.w.pledge_terms(until=self.now + 400 * DAY), MANDATE, MANDATE):
            m.pledgee, m.pledge_seq = self.w.bank.id, m.pledge_seq + 1

    @rule(i=st.integers(0, 50))
    def release(self, i: int) -> None:
        rid, m = self.pick(i)
        expected = self.common(m) or ("NotPledged" if not m.pledgee else None) or self.no_consent(m.pledgee)
        if self.attempt(expected, "release", rid, MANDATE):
            self.end_pledge(m)

    @rule(i=st.integers(0, 50), to=st.integers(0, 3))
    def enforce(self, i: int, to: int) -> None:
        rid, m = self.pick(i)
        target = (self.holders + [self.w.bank.id])[to]
        expected = self.common(m) or ("NotPledged" if not m.pledgee else None) or (
            "UnderDispute" if m.disputed else None) or ("SameHolder" if target == m.owner else None) or (
            self.no_consent(m.pledgee))
        if self.attempt(expected, "enforce", rid, target, MANDATE):
            self.end_pledge(m)
            m.owner = target

    @rule(i=st.integers(0, 50), kind=st.integers(0, 2), passed=st.booleans())
    def assess(self, i: int, kind: int, passed: bool) -> None:
        rid, m = self.pick(i)
        a = self.w.assessment(kind, passed=passed, score=5000, method=1, amount=10**6, report=h(f"r{next(_n)}"))
        try:
            aid = self.w.tx("assess", rid, a, MANDATE).event("Assessed").args["assessmentId"]
        except ContractReverted as exc:
            assert exc.error == self.common(m) and exc.error is not None
            return
        assert self.common(m) is None
        m.assessments[aid] = False

    @precondition(lambda self: any(m.assessments for m in self.records.values()))
    @rule(i=st.integers(0, 50), j=st.integers(0, 50))
    def withdraw(self, i: int, j: int) -> None:
        candidates = [(rid, aid) for rid in self.order for aid in self.records[rid].assessments]
        rid, aid = candidates[(i * 51 + j) % len(candidates)]
        m = self.records[rid]
        expected = self.common(m) or ("AlreadyWithdrawn" if m.assessments[aid] else None)
        if self.attempt(expected, "withdrawAssessment", rid, aid, MANDATE):
            m.assessments[aid] = True

    @rule(i=st.integers(0, 50))
    def list_it(self, i: int) -> None:
        rid, m = self.pick(i)
        expected = self.common(m) or ("AlreadyListed" if m.listed else None) or (
            "UnderDispute" if m.disputed else None) or ("RecordExpired" if self.expired(m) else None)
        if self.attempt(expected, "list", rid, bytes(32)):
            m.listed = True

    @rule(i=st.integers(0, 50), claimant=st.integers(0, 2))
    def dispute(self, i: int, claimant: int) -> None:
        rid, m = self.pick(i)
        expected = self.common(m) or ("AlreadyDisputed" if m.disputed else None)
        if self.attempt(expected, "fileDispute", rid, self.holders[claimant], h(f"claim{next(_n)}"), MANDATE):
            m.disputed, m.dispute_seq, m.outcome, m.new_owner = True, m.dispute_seq + 1, 0, 0

    @rule(i=st.integers(0, 50), outcome=st.integers(1, 3), new_owner=st.integers(0, 2))
    def rule_on(self, i: int, outcome: int, new_owner: int) -> None:
        rid, m = self.pick(i)
        target = self.holders[new_owner] if outcome == 2 else 0
        expected = self.common(m) or ("NotDisputed" if not m.disputed else None) or (
            "AlreadyRuled" if m.ruled else None) or ("SameHolder" if outcome == 2 and target == m.owner else None)
        if self.attempt(expected, "rule", rid, self.w.arbitrator.id, outcome, target, h("ruling"), MANDATE):
            m.ruled, m.outcome, m.new_owner = True, outcome, target

    @rule(i=st.integers(0, 50))
    def execute(self, i: int) -> None:
        rid, m = self.pick(i)
        expected = self.common(m) or ("NotRuled" if not m.ruled else None)
        if self.attempt(expected, "executeRuling", rid):
            m.disputed = m.ruled = False
            if m.outcome != 1:
                self.end_pledge(m)
            if m.outcome == 2:
                m.owner = m.new_owner
            elif m.outcome == 3:
                m.active = False

    @rule(i=st.integers(0, 50))
    def renew(self, i: int) -> None:
        rid, m = self.pick(i)
        expected = self.common(m) or ("NoTerm" if m.kind != 1 else None) or self.no_consent(m.owner)
        if self.attempt(expected, "renew", rid, MANDATE):
            m.renewed = max(self.now, self.expiry(m)) + PRODUCT_TERM

    @rule(i=st.integers(0, 50), reason=st.integers(1, 8))
    def cancel(self, i: int, reason: int) -> None:
        rid, m = self.pick(i)
        expected = self.common(m) or ("UnderDispute" if m.disputed else None) or self.no_consent(m.pledgee)
        if self.attempt(expected, "cancel", rid, reason, MANDATE):
            self.end_pledge(m)
            m.active = False

    @rule(i=st.integers(0, 50))
    def registry_revokes(self, i: int) -> None:
        rid, m = self.pick(i)
        expected = ("InvalidStatusTransition" if not m.active else None) or (
            "RecordEncumbered" if m.pledgee or m.disputed else None)
        try:
            self.w.c.transact(self.w.sde, "Registry", "setStatus", rid, 3, bytes(32))
        except ContractReverted as exc:
            assert exc.error == expected
            return
        assert expected is None
        m.active = False

    def common(self, m: M) -> str | None:
        return None if m.active else "RecordNotActive"

    def no_consent(self, *parties: int) -> str | None:
        """The bank is the one party whose mandate the sequence withdraws and grants again."""
        return "NoConsent" if self.w.bank.id in parties and not self.bank_mandate else None

    # ------------------------------------------------------------------ the views equal the model

    @invariant()
    def views_match(self) -> None:
        for rid in self.order:
            m = self.records[rid]
            rec = self.w.c.call("Registry", "getRecord", rid)[0]
            assert (rec[0], rec[6]) == (m.owner, 1 if m.active else 3)
            state = self.w.view("propertyOf", rid)
            assert tuple(state) == (self.expiry(m), self.expired(m), m.listed, m.pledgee != 0, m.disputed, m.ruled)
            pledge = self.w.view("pledgeOf", rid)
            assert (pledge[0], pledge[4]) == (m.pledgee, m.pledge_seq)
            dispute = self.w.view("disputeOf", rid)
            assert (dispute[0], dispute[3], dispute[5], dispute[6]) == (m.dispute_seq, m.outcome, m.disputed,
                                                                        m.ruled)
            assert self.w.view("encumbered", rid) == (m.pledgee != 0 or m.disputed)
            for aid, withdrawn in m.assessments.items():
                assert self.w.view("assessment", rid, aid)[8] == withdrawn

    @invariant()
    def index_matches_the_contract(self) -> None:
        self.w.fed.chain.mine(1)  # a block at the model's time, so the index and the calls judge expiry alike
        self.follower.sync()
        self.indexed.records = [RecordId(r) for r in self.order]
        assert_index_equals_contract(self.indexed, self.store, entities=self.holders)


PropertyMachine.TestCase.settings = settings(
    max_examples=5, stateful_step_count=18, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestPropertyMachine = PropertyMachine.TestCase
