"""The cross-border flows in the index: synced in small steps it equals a clean rebuild byte for byte, and a
reorg undoes orphaned filings, approvals, deliveries and draws."""

from __future__ import annotations

from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from provenance.chain.cross_border import FlowService
from provenance.indexer.flows import FlowQueries
from provenance.indexer.follower import Follower
from provenance.store.index import IndexStore
from provenance.types import Grade
from tests.support.federation import Fed, h, make_fed, request
from tests.support.index import dump_of


def _world(fed: Fed) -> tuple[FlowService, LocalAccount, int, int]:
    cac = Account.create()
    fed.svc.propose_add_supervisor(fed.keys["SDE"], "CAC", "Cyberspace Administration", cac)
    flows = FlowService(fed.contracts)
    flows.set_catalogue(cac, "IOT", "SG", 86_400, 10_000)
    exporter, _ = fed.entity("SDE")
    receiver, _ = fed.entity("ZJDE")
    return flows, cac, exporter, receiver


def _file(fed: Fed, flows: FlowService, exporter: int, receiver: int, *, grade: Grade = Grade.GENERAL,
          category: str = "IOT") -> int:
    rid = fed.register("SDE", request(exporter, grade=grade))
    app_id, _, _ = flows.file(fed.keys["SDE"], record_id=rid, exporter=exporter, receiver=receiver,
                              destination="SG", category=category, purpose="p",
                              assessment_ref=h("a") if grade == Grade.IMPORTANT else None)
    return app_id


def test_flows_synced_in_small_steps_equal_a_clean_rebuild(fed: Fed, tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "inc")
    follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store, max_range=2)
    flows, cac, exporter, receiver = _world(fed)
    follower.sync()
    auto = _file(fed, flows, exporter, receiver)
    pending = _file(fed, flows, exporter, receiver, grade=Grade.IMPORTANT)
    rejected = _file(fed, flows, exporter, receiver, category="OTHER")
    follower.sync()
    flows.approve(cac, pending, volume_limit=500)
    flows.reject(cac, rejected, "no")
    for i in range(5):
        flows.deliver(fed.keys["SDE"], auto, h(f"m{i}"), 100)
        if i % 2:
            follower.sync()
    flows.deliver_batch(fed.keys["SDE"], [(pending, h("b1"), 200), (auto, h("b2"), 50)])
    check, _ = flows.announce(cac, exporter, 3)
    fed.chain.mine(1)
    drawn = flows.draw(fed.keys["SDE"], check)
    flows.conclude(cac, check, drawn.sample, h("report"), 3, 0)
    flows.revoke(cac, auto, "incident")
    follower.sync()
    assert store.dump() == dump_of(fed.chain, fed.contracts, tmp_path / "clean")
    q = FlowQueries(store)
    assert q.application(auto)["status"] == "revoked" and q.application(auto)["delivered"] == 550
    assert q.application(pending)["delivered"] == 200 and q.application(rejected)["reason"] == "no"
    assert q.spot_check(check)["state"] == "concluded" and q.undrawn_checks() == []
    assert q.delivery_ids_of(exporter) == list(range(1, 8))
    store.close()


def test_a_reorg_undoes_orphaned_flow_events(tmp_path: Path) -> None:
    fed = make_fed(tmp_path / "chain")
    try:
        flows, cac, exporter, receiver = _world(fed)
        kept = _file(fed, flows, exporter, receiver)
        pending = _file(fed, flows, exporter, receiver, grade=Grade.IMPORTANT)
        fork = fed.chain.block_number()
        # The branch to be orphaned: an approval, deliveries, an announced and drawn check.
        flows.approve(cac, pending)
        flows.deliver(fed.keys["SDE"], kept, h("orphan-1"), 10)
        flows.deliver(fed.keys["SDE"], pending, h("orphan-2"), 10)
        check, _ = flows.announce(cac, exporter, 1)
        fed.chain.mine(1)
        flows.draw(fed.keys["SDE"], check)
        store = IndexStore(tmp_path / "index")
        follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store, reorg_depth=32)
        follower.sync()
        q = FlowQueries(store)
        assert q.application(pending)["status"] == "approved" and q.spot_check(check)["state"] == "drawn"

        fed.chain.rewind(fork)
        flows.deliver(fed.keys["SDE"], kept, h("canonical"), 7)
        flows.reject(cac, pending, "canonical")
        follower.sync()
        assert follower.reorgs == 1
        assert q.application(pending)["status"] == "rejected"
        assert q.application(kept)["delivered"] == 7 and q.delivery(1)["manifestHash"] == "0x" + h("canonical").hex()
        assert q.spot_checks() == [] and q.undrawn_checks() == []
        assert q.applications(status="pending") == []
        assert store.dump() == dump_of(fed.chain, fed.contracts, tmp_path / "clean", reorg_depth=32)
        store.close()
    finally:
        fed.chain.close()
