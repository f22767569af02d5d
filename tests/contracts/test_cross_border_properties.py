"""Property: over random sequences of filings, decisions (direct, and signed for the stored terms or for
others), catalogue changes (within and past the validity bound), governance freezes of the exporter, record
suspensions, clock moves and deliveries (single and batched), the contract records a delivery exactly when a model
of the rules says it is within a valid approval, and the index, synced along the way, agrees with the contract on
every application and delivery."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.chain.cross_border import FlowService, SignedApproval
from provenance.core import eip712
from provenance.core import flows as F
from provenance.errors import ContractReverted
from provenance.indexer.flows import FlowQueries
from provenance.indexer.follower import Follower
from provenance.store.index import IndexStore
from provenance.types import Grade, RecordId, Status
from tests.support.federation import h, make_fed, request


@dataclass
class App:
    record: RecordId
    status: str
    expires_at: int = 0
    volume_limit: int = 0
    delivered: int = 0
    deliveries: int = 0


class Model:
    """The rules of ICrossBorder, restated plainly, driving the contract and checking it step by step."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.fed = make_fed(tmp / "chain", sync_writes=False)
        self.cac = Account.create()
        self.fed.svc.propose_add_supervisor(self.fed.keys["SDE"], "CAC", "Cyberspace Administration", self.cac)
        self.flows = FlowService(self.fed.contracts)
        self.flows.set_catalogue(self.cac, "LOW", "SG", 500, 300)
        self.exporter, self.exporter_key = self.fed.entity("SDE")
        self.receiver, _ = self.fed.entity("ZJDE")
        self.now = self.fed.chain.get_block(self.fed.chain.block_number()).timestamp + 1
        self.fed.chain.clock = lambda: self.now  # type: ignore[method-assign]
        self.apps: dict[int, App] = {}
        self.active: dict[bytes, bool] = {}
        self.recorded = 0
        self.low_validity = 500
        self.max_validity = int(self.fed.contracts.call("CrossBorder", "MAX_VALIDITY")[0])
        self.frozen = False

    def close(self) -> None:
        self.fed.chain.close()

    def _pick(self, choices: list[Any], i: int) -> Any:
        return choices[i % len(choices)] if choices else None

    # ------------------------------------------------------------------ operations

    def file(self, grade: Grade, low_risk: bool, decide: tuple[int, int] | None) -> None:
        if self.frozen:  # the freeze withdrew the mandate: nothing is registered for, or filed by, the exporter
            try:
                self.fed.register("SDE", request(self.exporter, grade=grade))
            except ContractReverted as exc:
                assert exc.error == "EntityIsFrozen", exc
                return
            raise AssertionError("a frozen entity's record was registered")
        rid = self.fed.register("SDE", request(self.exporter, grade=grade))
        self.active[rid] = True
        try:
            app_id, status, _ = self.flows.file(
                self.fed.keys["SDE"], record_id=rid, exporter=self.exporter, receiver=self.receiver,
                destination="SG", category="LOW" if low_risk else "OTHER", purpose="p",
                assessment_ref=h("assessment") if grade == Grade.IMPORTANT else None)
        except ContractReverted as exc:
            assert grade == Grade.CORE and exc.error == "CoreDataNotExportable"
            return
        assert grade != Grade.CORE
        auto = grade == Grade.GENERAL and low_risk
        assert status == ("approved" if auto else "pending")
        self.apps[app_id] = App(rid, status, self.now + self.low_validity if auto else 0, 300 if auto else 0)
        if status == "pending" and decide is not None:
            self.approve(app_id, *decide)

    def approve(self, pick: int, expiry: int, volume: int) -> None:
        app_id = self._pick(sorted(i for i, a in self.apps.items() if a.status == "pending"), pick)
        if app_id is None:
            return
        app = self.apps[app_id]
        expires_at = 0 if expiry == 0 else self.now + expiry
        ok = self.active[app.record] and (expires_at == 0 or expires_at > self.now)
        try:
            self.flows.approve(self.cac, app_id, expires_at=expires_at, volume_limit=volume)
        except ContractReverted as exc:
            assert not ok, exc
            return
        assert ok
        app.status, app.expires_at, app.volume_limit = "approved", expires_at, volume

    def approve_signed(self, pick: int, tamper: int) -> None:
        """A supervisor's signature relayed by an exchange; with ``tamper`` > 0 it was made for other terms of the
        same application id (receiver, destination, category, purpose or assessment), and must be refused."""
        app_id = self._pick(sorted(i for i, a in self.apps.items() if a.status == "pending"), pick)
        if app_id is None:
            return
        app, stored = self.apps[app_id], self.flows.application(app_id)
        terms = {"receiver": stored.receiver, "destination": stored.destination, "category": stored.category,
                 "purpose_hash": stored.purpose_hash, "assessment_ref": stored.assessment_ref}
        changed = [("receiver", self.exporter), ("destination", "US"), ("category", "HIGH"),
                   ("purpose_hash", h("other")), ("assessment_ref", h("other"))]
        if tamper:
            name, value = changed[(tamper - 1) % len(changed)]
            terms[name] = value
        deadline = self.now + 60
        digest = F.approval_digest(self.fed.chain.chain_id, self.flows.address, app_id, stored.record_id,
                                   stored.exporter, 0, 0, deadline, **terms)  # type: ignore[arg-type]
        signed = SignedApproval(app_id, 0, 0, deadline, eip712.sign_digest(digest, bytes(self.cac.key)))
        ok = not tamper and self.active[app.record]
        try:
            self.flows.approve_signed(self.fed.keys["SDE"], signed)
        except ContractReverted as exc:
            assert not ok, exc
            return
        assert ok
        app.status = "approved"

    def catalogue(self, validity: int) -> None:
        try:
            self.flows.set_catalogue(self.cac, "LOW", "SG", validity, 300)
        except ContractReverted as exc:
            assert validity > self.max_validity and exc.error == "ValidityTooLong", exc
            return
        assert validity <= self.max_validity
        self.low_validity = validity

    def freeze(self) -> None:
        """Governance freezes the exporter, or lifts the freeze (and the exporter grants its mandate again)."""
        svc = self.fed.svc
        if self.frozen:
            svc.propose_unfreeze_entity(self.fed.keys["SDE"], self.exporter)
            svc.set_mandate(self.exporter_key, self.exporter, "SDE", True)
        else:
            svc.propose_freeze_entity(self.fed.keys["ZJDE"], self.exporter)
        self.frozen = not self.frozen
        assert svc.is_frozen(self.exporter) == self.frozen

    def revoke(self, pick: int) -> None:
        app_id = self._pick(sorted(i for i, a in self.apps.items() if a.status == "approved"), pick)
        if app_id is not None:
            self.flows.revoke(self.cac, app_id, "incident")
            self.apps[app_id].status = "revoked"

    def suspend(self, pick: int) -> None:
        rid = self._pick(sorted(r for r, on in self.active.items() if on), pick)
        if rid is not None:
            self.fed.svc.set_status(self.fed.keys["SDE"], RecordId(rid), Status.SUSPENDED)
            self.active[rid] = False

    def wait(self, seconds: int) -> None:
        self.now += seconds

    def _valid(self, app_id: int, size: int, pending: dict[int, int]) -> bool:
        app = self.apps.get(app_id)
        if self.frozen or app is None or app.status != "approved" or not self.active[app.record] or size == 0:
            return False
        if app.expires_at and self.now > app.expires_at:
            return False
        return not (app.volume_limit and app.delivered + pending.get(app_id, 0) + size > app.volume_limit)

    def deliver(self, items: list[tuple[int, bool, int]], batched: bool) -> None:
        """``items``: (pick, among approved ones only, size); mostly under approvals, where the limits matter."""
        approved = sorted(i for i, a in self.apps.items() if a.status == "approved")
        ids = [self._pick(approved if (only and approved) else sorted(self.apps), pick) for pick, only, _ in items]
        sizes = [size for _, _, size in items]
        if not batched:
            ids, sizes = ids[:1], sizes[:1]
        if None in ids:
            return
        pending: dict[int, int] = {}
        ok = True
        for app_id, size in zip(ids, sizes, strict=True):
            ok = ok and self._valid(app_id, size, pending)
            pending[app_id] = pending.get(app_id, 0) + size
        batch = [(a, h(f"m{self.recorded}-{i}"), s) for i, (a, s) in enumerate(zip(ids, sizes, strict=True))]
        try:
            if batched:
                self.flows.deliver_batch(self.fed.keys["SDE"], batch)
            else:
                self.flows.deliver(self.fed.keys["SDE"], *batch[0])
        except ContractReverted as exc:
            assert not ok, f"a valid delivery was refused: {exc}"
            return
        assert ok, "a delivery outside a valid approval was recorded"
        for app_id, size in zip(ids, sizes, strict=True):
            self.apps[app_id].delivered += size
            self.apps[app_id].deliveries += 1
            self.recorded += 1

    # ------------------------------------------------------------------ checks

    def check_contract(self) -> None:
        assert self.flows.counts()["deliveries"] == self.recorded
        for app_id, app in self.apps.items():
            got = self.flows.application(app_id)
            assert (got.status, got.delivered, got.deliveries) == (app.status, app.delivered, app.deliveries)

    def check_index(self) -> None:
        store = IndexStore(self.tmp / "index")
        try:
            Follower(chain=self.fed.chain, contracts=self.fed.contracts, store=store).sync()
            q = FlowQueries(store)
            for app_id, app in self.apps.items():
                got = q.application(app_id)
                assert (got["status"], got["delivered"], got["deliveries"]) == \
                    (app.status, app.delivered, app.deliveries)
                assert sum(d["size"] for d in q.deliveries(application=app_id, limit=1000)) == app.delivered
            assert len(q.delivery_ids_of(self.exporter)) == self.recorded
            pending = {a["id"] for a in q.applications(status="pending", limit=1000)}
            assert pending == {i for i, a in self.apps.items() if a.status == "pending"}
        finally:
            store.close()


_pick = st.integers(0, 50)
_decision = st.tuples(st.sampled_from([0, -1, 5, 60, 400]), st.sampled_from([0, 40, 150]))
_delivery = st.tuples(st.just("deliver"), st.lists(st.tuples(_pick, st.integers(0, 4).map(bool), st.integers(0, 120)),
                                                    min_size=1, max_size=3), st.booleans())
OPERATIONS = st.one_of(
    st.tuples(st.just("file"), st.sampled_from([Grade.GENERAL, Grade.IMPORTANT, Grade.CORE]), st.booleans(),
              st.none() | _decision),
    st.tuples(st.just("approve"), _pick, st.sampled_from([0, -1, 5, 60, 400]), st.sampled_from([0, 40, 150])),
    st.tuples(st.just("approve_signed"), _pick, st.integers(0, 6)),
    st.tuples(st.just("catalogue"), st.sampled_from([1, 500, 3650 * 86400, 3650 * 86400 + 1, 2**64 - 1])),
    st.tuples(st.just("freeze")),
    st.tuples(st.just("revoke"), _pick),
    st.tuples(st.just("suspend"), _pick),
    st.tuples(st.just("wait"), st.sampled_from([1, 30, 200, 600])),
    st.tuples(st.just("index")),
    _delivery, _delivery, _delivery, _delivery,  # weighted: deliveries are what the property is about
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(OPERATIONS, min_size=20, max_size=40))
def test_no_delivery_is_recorded_outside_a_valid_approval(ops: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        model = Model(Path(tmp))
        try:
            for name, *args in ops:
                if name == "index":
                    model.check_index()
                else:
                    getattr(model, name)(*args)
                model.check_contract()
            model.check_index()
        finally:
            model.close()
