"""Random operation sequences against the contract, with the pure-core rules as the model.

Besides registrations and status changes, governance freezes and unfreezes owners (withdrawing their mandates),
owners grant mandates, and registrations try to supersede themselves.
Each step's verdict (accepted, or refused with which error) must match the model's, and the invariants hold
throughout: a parent always exists and was registered earlier; revoked never comes back; the number of
DataRegistered events equals the contract's counter and the number of stored records.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from provenance.core.ids import record_id
from provenance.core.rules import check_registration, check_status_change
from provenance.errors import ContractReverted
from provenance.types import Grade, Kind, RecordId, RegistrationRequest, Rights, Source, Status
from tests.support.federation import h, make_fed

EXCHANGES = ["SDE", "ZJDE", "AHDE"]


@dataclass
class ModelRecord:
    registrar: int
    owner: int
    kind: Kind
    grade: Grade
    status: Status
    order: int
    parents: tuple[RecordId, ...]


class RegistryMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.fed = make_fed(Path(self.tmp.name) / "chain")
        made = [self.fed.entity(mandate_to=tuple(EXCHANGES)) for _ in range(2)]
        self.owners = [eid for eid, _ in made]
        self.accounts = [account for _, account in made]
        self.mandates = {(o, x) for o in range(2) for x in range(1, 4)}
        self.frozen = [False, False]
        self.model: dict[bytes, ModelRecord] = {}
        self.ever_revoked: set[bytes] = set()
        self.contents: list[bytes] = []

    def teardown(self) -> None:
        self.fed.chain.close()
        self.tmp.cleanup()

    def _verdict(self, fn: object) -> str | None:
        try:
            fn()  # type: ignore[operator]
        except ContractReverted as exc:
            return exc.error
        return None

    @rule(data=st.data(), registrar=st.integers(1, 3), owner=st.integers(0, 1),
          kind=st.sampled_from(list(Kind)), grade=st.sampled_from(list(Grade)),
          reuse=st.booleans(), unknown_parent=st.booleans(), supersede=st.booleans())
    def register(self, data: st.DataObject, registrar: int, owner: int, kind: Kind, grade: Grade, reuse: bool,
                 unknown_parent: bool, supersede: bool) -> None:
        ids = sorted(self.model)
        parents: list[RecordId] = []
        if ids:
            parents = [RecordId(p) for p in data.draw(st.lists(st.sampled_from(ids), max_size=3))]
        if unknown_parent and data.draw(st.integers(0, 4)) == 0:
            parents.append(RecordId(h(f"unknown-{len(self.contents)}")))
        content = (data.draw(st.sampled_from(self.contents)) if reuse and self.contents
                   else h(f"c{len(self.contents)}"))
        self.contents.append(content)
        sup = bytes(32)
        if supersede and ids:
            sup = data.draw(st.sampled_from(ids))
        req = RegistrationRequest(kind, grade, Source.ENTERPRISE, Rights.HOLDING, self.owners[owner], content,
                                  h("meta"), sup, tuple(parents))  # type: ignore[arg-type]
        expected = check_registration(registrar, req, self.model.get)
        want = expected.error if expected else None
        if (owner, registrar) not in self.mandates:  # judged before the rules; a freeze withdrew every mandate
            want = "EntityIsFrozen" if self.frozen[owner] else "NoMandate"
        got = self._verdict(lambda: self.fed.register(EXCHANGES[registrar - 1], req))
        assert got == want, (got, expected)
        if got is None:
            rid = record_id(registrar, content)
            self.model[rid] = ModelRecord(registrar, req.owner, kind, grade, Status.ACTIVE, len(self.model),
                                          tuple(parents))
            if sup != bytes(32):
                self.model[sup] = replace(self.model[sup], status=Status.SUPERSEDED)

    @rule(registrar=st.integers(1, 3), owner=st.integers(0, 1))
    def self_supersede(self, registrar: int, owner: int) -> None:
        """A registration naming its own id as the record it supersedes is refused (it was born superseded)."""
        content = h(f"c{len(self.contents)}")
        self.contents.append(content)
        rid = record_id(registrar, content)
        req = RegistrationRequest(Kind.RESOURCE, Grade.GENERAL, Source.ENTERPRISE, Rights.HOLDING,
                                  self.owners[owner], content, h("meta"), rid, ())  # type: ignore[arg-type]
        got = self._verdict(lambda: self.fed.register(EXCHANGES[registrar - 1], req))
        if (owner, registrar) not in self.mandates:
            assert got == ("EntityIsFrozen" if self.frozen[owner] else "NoMandate"), got
        else:
            assert got == "SelfSupersede", got
            assert check_registration(registrar, req, self.model.get) is not None  # the index refuses it too

    @rule(owner=st.integers(0, 1), proposer=st.integers(1, 3))
    def freeze_or_unfreeze(self, owner: int, proposer: int) -> None:
        """Governance (threshold 1 here) freezes or unfreezes an owner; a freeze withdraws every mandate."""
        signer = self.fed.keys[EXCHANGES[proposer - 1]]
        if self.frozen[owner]:
            self.fed.svc.propose_unfreeze_entity(signer, self.owners[owner])
        else:
            self.fed.svc.propose_freeze_entity(signer, self.owners[owner])
            self.mandates -= {(owner, x) for x in range(1, 4)}
        self.frozen[owner] = not self.frozen[owner]

    @rule(owner=st.integers(0, 1), exchange=st.integers(1, 3))
    def grant_mandate(self, owner: int, exchange: int) -> None:
        got = self._verdict(lambda: self.fed.svc.set_mandate(self.accounts[owner], self.owners[owner], exchange,
                                                             True))
        assert got == ("EntityIsFrozen" if self.frozen[owner] else None), got
        if got is None:
            self.mandates.add((owner, exchange))

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data(), caller=st.integers(1, 3),
          status=st.sampled_from([Status.ACTIVE, Status.SUSPENDED, Status.REVOKED, Status.SUPERSEDED]))
    def set_status(self, data: st.DataObject, caller: int, status: Status) -> None:
        rid = data.draw(st.sampled_from(sorted(self.model)))
        expected = check_status_change(caller, rid, self.model.get(rid), status)
        got = self._verdict(lambda: self.fed.svc.set_status(self.fed.keys[EXCHANGES[caller - 1]],
                                                            RecordId(rid), status))
        assert got == (expected.error if expected else None), (got, expected)
        if got is None:
            self.model[rid] = replace(self.model[rid], status=status)
            if status == Status.REVOKED:
                self.ever_revoked.add(rid)

    @invariant()
    def parents_exist_and_are_older(self) -> None:
        for rec in self.model.values():
            for p in rec.parents:
                assert p in self.model and self.model[p].order < rec.order

    @invariant()
    def counts_match(self) -> None:
        assert self.fed.svc.counts()["registrations"] == len(self.model)

    def check_chain_equals_model(self) -> None:
        chain = self.fed.chain
        events = self.fed.contracts.decode_logs(
            chain.get_logs([self.fed.contracts.deployment.registry], 0, chain.block_number()))
        assert sum(e.name == "DataRegistered" for e in events) == len(self.model)
        for rid, rec in self.model.items():
            stored = self.fed.svc.record(RecordId(rid))
            assert (stored.registrar, stored.owner, stored.kind, stored.grade, stored.status, stored.parents) == (
                rec.registrar, rec.owner, rec.kind, rec.grade, rec.status, rec.parents)
        for rid in self.ever_revoked:
            assert self.fed.svc.record(RecordId(rid)).status == Status.REVOKED
        for o in range(2):
            assert self.fed.svc.is_frozen(self.owners[o]) == self.frozen[o]
            for x in range(1, 4):
                assert self.fed.svc.has_mandate(self.owners[o], x) == ((o, x) in self.mandates)

    @invariant()
    def full_check_sometimes(self) -> None:
        if len(self.model) % 7 == 6:
            self.check_chain_equals_model()


RegistryMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=30, deadline=None)
TestRegistryProperties = RegistryMachine.TestCase
