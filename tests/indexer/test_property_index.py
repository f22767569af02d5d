"""The data property register in the index: every event visible through PropertyQueries, the index equal to the
contract's views after every operation, a rebuild byte for byte the same, reorgs that orphan a transfer, a pledge
and an assessment undone, and a crash in the middle of a block leaving nothing of it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from provenance.chain.catalog import publish_metadata
from provenance.chain.property import PropertyDecision
from provenance.core import eip712, merkle
from provenance.core.catalog import canonical_document
from provenance.core.entries import entry_leaf_hash, pack_batch, pack_entry, pack_entry_fields
from provenance.core.keccak import keccak256
from provenance.dev.catalog_samples import metadata_document
from provenance.errors import ChainMismatch, InvalidInput, StoreError
from provenance.indexer import property as P
from provenance.indexer.events import Event
from provenance.indexer.follower import Follower
from provenance.indexer.logs import LogQueries
from provenance.indexer.property import as_registered
from provenance.indexer.property_queries import PropertyQueries
from provenance.store import keys as K
from provenance.store.index import BlockWriter, IndexStore
from provenance.types import Hash32, Kind, RegistrationRequest, Rights, Status
from tests.support.federation import Fed, h, make_fed, request, reverts
from tests.support.index import dump_of
from tests.support.property import (
    DAY,
    assert_index_equals_contract,
    compliance,
    every_operation,
    make_world,
    quality,
    valuation,
)

ROOT = Path(__file__).resolve().parents[2]


def _property_keys(store: IndexStore) -> list[tuple[bytes, bytes]]:
    """What the register's events touch: its own keys, the records and the by-owner index."""
    return [(k, v) for k, v in store.dump() if k[:1] in (K.PROPERTY, K.RECORD, K.BY_OWNER)]


def test_every_event_is_visible_through_property_queries(fed: Fed, tmp_path: Path) -> None:
    world = make_world(fed)
    r = every_operation(world)
    store = IndexStore(tmp_path / "index")
    Follower(chain=fed.chain, contracts=fed.contracts, store=store).sync()
    q = PropertyQueries(store)
    now = world.now()
    holder, buyer, bank = world.holder.id, world.buyer.id, world.bank.id

    traded = q.view(r["traded"], now=now)
    assert traded is not None
    assert (traded.owner, traded.original_owner, traded.transfers, traded.changes, traded.renewals) == (
        bank, holder, 3, 1, 1)
    assert [(o.previous, o.owner, o.cause) for o in q.owners(r["traded"])] == [
        (holder, buyer, "transfer"), (buyer, holder, "transfer"), (holder, bank, "enforcement")]
    [change] = q.changes(r["traded"])
    assert (change.previous_rights, change.rights, change.metadata_hash, change.reason) == (
        int(Rights.HOLDING), int(Rights.HOLDING | Rights.OPERATION), h("metadata v2"), h("operation right added"))
    assert traded.rights == int(Rights.HOLDING | Rights.OPERATION) and traded.metadata_hash == h("metadata v2")
    [renewal] = q.renewals(r["traded"])
    assert renewal.expires_at == traded.expires_at > renewal.previous_expiry > 0
    assert [(p.seq, p.amount, p.currency, p.ended, p.enforced_to) for p in q.pledges(r["traded"])] == [
        (1, 5_000_000, "CNY", "released", None), (2, 7_000_000, "CNY", "enforced", bank)]
    assert traded.pledge is None and traded.dispute is None and not traded.listed
    kinds = [(a.kind, a.score, a.withdrawn) for a in traded.assessments]
    assert kinds == [("quality", 8_500, False), ("quality", 4_000, True), ("valuation", None, False)]
    assert traded.valuation is not None and (traded.valuation.amount, traded.valuation.currency,
                                             traded.valuation.method) == (12_000_000, "CNY", "market")
    second = traded.assessments[1]
    assert [a.index for a in traded.assessments] == [1, 2, 3]
    assert q.assessment(r["traded"], second.id) == second == q.assessment(r["traded"], 2)
    assert q.assessment(r["traded"], h("no such assessment")) is None and q.assessment(r["traded"], 4) is None

    listed = q.view(r["listed"], now=now)
    assert listed is not None and listed.listed and listed.owner == buyer
    assert [a.kind for a in listed.assessments] == ["compliance"] and listed.assessments[0].passed is True
    assert [o.cause for o in q.owners(r["listed"])] == ["ruling"]
    assert [p.ended for p in q.pledges(r["listed"])] == ["ruling"]
    [d] = q.disputes(r["listed"])
    assert (d.claimant, d.outcome, d.new_owner, d.executed, d.arbitrator) == (buyer, "ownership", buyer, True,
                                                                              world.arbitrator.id)

    ruled_out = q.view(r["ruled_out"], now=now)
    assert ruled_out is not None and ruled_out.cancelled_reason == 6 and ruled_out.status == int(Status.REVOKED)
    assert [p.ended for p in q.pledges(r["ruled_out"])] == ["ruling"]
    assert q.disputes(r["ruled_out"])[0].outcome == "cancelled"
    cancelled = q.view(r["cancelled"], now=now)
    assert cancelled is not None and cancelled.cancelled_reason == 2 and cancelled.status == int(Status.REVOKED)
    assert [p.ended for p in q.pledges(r["cancelled"])] == ["cancelled"]

    dismissed = q.view(r["dismissed"], now=now)
    assert dismissed is not None and dismissed.dispute is not None
    assert (dismissed.dispute.seq, dismissed.dispute.claimant, dismissed.dispute.outcome) == (2, bank, None)
    assert [(x.outcome, x.executed) for x in q.disputes(r["dismissed"])] == [("dismissed", True), (None, False)]
    assert dismissed.expires_at == 0  # resources have no term

    # The encumbrance search: pledges in force only, by pledgee, paged by record.
    everything = q.encumbrances()
    assert [rid for rid, _ in everything] == [r["in_force"], r["in_force_too"]]
    assert [(p.pledgee, p.currency) for _, p in everything][0] == (bank, "CNY")
    other_bank = everything[1][1].pledgee
    assert [rid for rid, _ in q.encumbrances(pledgee=bank)] == [r["in_force"]]
    assert [rid for rid, _ in q.encumbrances(pledgee=other_bank)] == [r["in_force_too"]]
    assert [rid for rid, _ in q.encumbrances(after=r["in_force"])] == [r["in_force_too"]]
    assert q.encumbrances(limit=1) == everything[:1] and q.encumbrances(pledgee=holder) == []
    with pytest.raises(InvalidInput):
        q.encumbrances(after=h("no such record"))

    assert q.terms() == {"resource": 0, "product": 800 * DAY, "asset": 400 * DAY}
    assert q.accredited() == {"assessors": [world.assessor.id], "arbitrators": [world.arbitrator.id]}
    assert q.compliance_rules() == [1, 2]
    assert q.view(h("unknown record"), now=now) is None and q.owners(h("unknown record")) == []

    # The record as the index serves it follows the transfers and the change; as registered, it is what its log
    # leaf covers.
    rec = store.record(r["traded"])
    assert rec is not None and (rec.owner, rec.rights, rec.metadata_hash) == (bank, 5, h("metadata v2"))
    assert rec.seq in store.seqs_with(K.BY_OWNER + bank.to_bytes(4, "big"))
    assert rec.seq not in store.seqs_with(K.BY_OWNER + holder.to_bytes(4, "big"), limit=1000)
    original = as_registered(store, rec)
    assert (original.owner, original.rights, original.metadata_hash) == (holder, int(Rights.HOLDING), h("metadata"))
    leaf = entry_leaf_hash(rec.registrar, pack_entry_fields(
        original.kind, original.grade, original.source, original.rights, original.owner, original.content_hash,
        original.metadata_hash, original.supersedes, original.parents))
    assert LogQueries(store).leaf(rec.registrar, rec.leaf_index).leaf_hash == leaf
    untouched = store.record(r["dismissed"])
    assert untouched is not None and as_registered(store, untouched) == untouched
    store.close()


def test_the_index_equals_the_contract_and_a_rebuild(fed: Fed, tmp_path: Path) -> None:
    world = make_world(fed)
    store = IndexStore(tmp_path / "index")
    follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store, max_range=2)
    follower.sync()
    every_operation(world)
    follower.sync()
    assert_index_equals_contract(world, store)
    # index rebuild: wipe and sync from the deployment block, as Operations.rebuild does.
    incremental = store.dump()
    assert incremental == dump_of(fed.chain, fed.contracts, tmp_path / "clean")
    store.wipe()
    Follower(chain=fed.chain, contracts=fed.contracts, store=store).sync()
    assert store.dump() == incremental
    store.close()


def test_expiry_follows_terms_renewals_and_time(fed: Fed, tmp_path: Path) -> None:
    world = make_world(fed)
    prop, sde = world.prop, world.sde
    store = IndexStore(tmp_path / "index")
    follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store)
    product = world.record(kind=Kind.PRODUCT)
    asset = world.record(kind=Kind.ASSET)
    follower.sync()
    q = PropertyQueries(store)
    assert q.view(product, now=world.now()).expires_at == 0  # type: ignore[union-attr]
    # A term set after the registration runs from the registration's own time.
    prop.propose_decision(sde, PropertyDecision.SET_TERM, int(Kind.PRODUCT), 10 * DAY)
    follower.sync()
    registered_at = fed.chain.get_block(store.record(product).block_number).timestamp  # type: ignore[union-attr]
    assert q.view(product, now=world.now()).expires_at == registered_at + 10 * DAY  # type: ignore[union-attr]
    assert_index_equals_contract(world, store)
    start = world.now()
    fed.chain.clock = lambda: start + 11 * DAY
    fed.chain.mine(1)
    follower.sync()
    view = q.view(product, now=world.now())
    assert view is not None and view.expired and prop.property_of(product).expired
    assert_index_equals_contract(world, store)
    prop.renew(sde, product)  # from now, since it had run out
    follower.sync()
    view = q.view(product, now=world.now())
    assert view is not None and not view.expired and view.expires_at == world.now() + 10 * DAY
    assert_index_equals_contract(world, store)
    # No term, no expiry, renewed or not.
    prop.propose_decision(sde, PropertyDecision.SET_TERM, int(Kind.PRODUCT), 0)
    follower.sync()
    assert q.view(product, now=world.now()).expires_at == 0  # type: ignore[union-attr]
    assert q.view(asset, now=world.now()).expires_at == 0  # type: ignore[union-attr]
    assert_index_equals_contract(world, store)
    store.close()


def test_a_reorg_orphaning_a_transfer_a_pledge_and_an_assessment_leaves_the_index_as_before(tmp_path: Path) -> None:
    fed = make_fed(tmp_path / "chain")
    try:
        world = make_world(fed)
        prop, sde = world.prop, world.sde
        asset = world.record(kind=Kind.ASSET)
        product = world.record(kind=Kind.PRODUCT)
        prop.assess(sde, product, quality(world))
        store = IndexStore(tmp_path / "index")
        follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store, reorg_depth=32)
        follower.sync()
        before = _property_keys(store)
        fork = fed.chain.block_number()

        prop.transfer(sde, asset, world.buyer.id)
        prop.pledge(sde, product, world.pledge_terms())
        prop.assess(sde, asset, valuation(world))
        prop.assess(sde, product, compliance(world))
        follower.sync()
        q = PropertyQueries(store)
        now = world.now()
        assert q.view(asset, now=now).owner == world.buyer.id  # type: ignore[union-attr]
        assert q.view(product, now=now).pledge is not None  # type: ignore[union-attr]
        assert len(q.assessments(product)) == 2 and len(q.assessments(asset)) == 1

        fed.chain.rewind(fork)
        fed.chain.mine(6)  # a longer branch without any of them
        follower.sync()
        assert follower.reorgs == 1
        assert _property_keys(store) == before
        assert q.owners(asset) == [] and q.pledges(product) == [] and q.assessments(asset) == []
        assert q.encumbrances() == []
        assert store.dump() == dump_of(fed.chain, fed.contracts, tmp_path / "clean", reorg_depth=32)
        assert_index_equals_contract(world, store)

        # The canonical branch does something else with the same records; the index follows that instead.
        prop.transfer(sde, asset, world.bank.id)
        follower.sync()
        assert [(o.previous, o.owner) for o in q.owners(asset)] == [(world.holder.id, world.bank.id)]
        assert_index_equals_contract(world, store)
        store.close()
    finally:
        fed.chain.close()


def test_an_error_in_the_middle_of_a_block_applies_none_of_it(fed: Fed, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    world = make_world(fed)
    prop, sde = world.prop, world.sde
    asset = world.record(kind=Kind.ASSET)
    prop.pledge(sde, asset, world.pledge_terms())
    store = IndexStore(tmp_path / "index")
    follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store)
    follower.sync()
    before = store.dump()
    prop.enforce(sde, asset, world.bank.id)  # one block: Enforced, then Transferred
    real = P.HANDLERS["Transferred"]
    applied: list[str] = []

    def fail_after_applying(w: BlockWriter, ev: Event) -> None:
        real(w, ev)
        applied.append("Transferred")
        raise RuntimeError("the node dies here")

    monkeypatch.setitem(P.HANDLERS, "Transferred", fail_after_applying)
    with pytest.raises(RuntimeError, match="dies here"):
        follower.sync()
    assert applied == ["Transferred"]  # the pledge's end and the transfer were both written to the block's overlay
    assert store.dump() == before
    monkeypatch.setitem(P.HANDLERS, "Transferred", real)
    follower.sync()
    view = PropertyQueries(store).view(asset, now=world.now())
    assert view is not None and view.owner == world.bank.id and view.pledge is None
    assert store.dump() == dump_of(fed.chain, fed.contracts, tmp_path / "clean")
    store.close()


def test_sigkill_in_the_middle_of_a_block_leaves_whole_blocks(tmp_path: Path) -> None:
    fed = make_fed(tmp_path / "chain")
    try:
        world = make_world(fed)
        prop, sde = world.prop, world.sde
        asset = world.record(kind=Kind.ASSET)
        prop.pledge(sde, asset, world.pledge_terms())
        prop.enforce(sde, asset, world.bank.id)
        target = fed.chain.block_number()
        fed.chain.mine(2)
        dep = tmp_path / "deployment.json"
        dep.write_text(json.dumps(fed.contracts.deployment.to_json()))
    finally:
        fed.chain.close()
    index = tmp_path / "index"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "tests.support.property", str(tmp_path / "chain"), str(index), str(dep)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout.strip() == "killed in the middle of the enforcement"
    store = IndexStore(index)
    cp = store.checkpoint()
    assert cp is not None and cp[0] == target - 1  # every block before the enforcement's, none of it
    dump = store.dump()
    store.close()
    from provenance.chain.contracts import Contracts, Deployment
    from provenance.chain.embedded import EmbeddedChain

    chain = EmbeddedChain(tmp_path / "chain")
    try:
        contracts = Contracts.attach(chain, Deployment.from_json(json.loads(dep.read_text())))
        clean = IndexStore(tmp_path / "clean")
        Follower(chain=chain, contracts=contracts, store=clean).sync(until=target - 1)
        assert dump == clean.dump()
        clean.close()
        store = IndexStore(index)
        Follower(chain=chain, contracts=contracts, store=store).sync()  # and the next run carries on
        view = PropertyQueries(store).view(asset, now=chain.get_block(chain.block_number()).timestamp)
        assert view is not None and view.owner == world.bank.id and view.pledge is None
        assert [p.ended for p in PropertyQueries(store).pledges(asset)] == ["enforced"]
        store.close()
    finally:
        chain.close()


def test_an_index_of_the_previous_layout_is_refused_not_misread(fed: Fed, tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "index")
    Follower(chain=fed.chain, contracts=fed.contracts, store=store).sync()
    store.put_meta({"schema": b"3"})
    with pytest.raises(ChainMismatch, match="schema"):
        Follower(chain=fed.chain, contracts=fed.contracts, store=store).sync()
    store.close()



def _anchor_batch(fed: Fed, store: IndexStore, requests: list[RegistrationRequest]) -> int:
    """Anchor a batch of SDE's as is (no intake pre-check): the indexes alone judge its entries. Returns the first
    entry's leaf index."""
    rng = merkle.CompactRange.decode(store.get(K.LOG_STATE + (1).to_bytes(2, "big")) or b"\0" * 8)
    first = rng.size
    entries = [pack_entry(r) for r in requests]
    for e in entries:
        rng.append(entry_leaf_hash(1, e))
    root = rng.root()
    digest = eip712.checkpoint_digest(fed.chain.chain_id, fed.contracts.deployment.registry, 1, rng.size, root)
    fed.contracts.transact(fed.keys["SDE"], "Registry", "anchorBatch", rng.size, root, pack_batch(entries),
                           eip712.sign_digest(digest, bytes(fed.keys["SDE"].key)))
    return first


def test_a_batched_entry_naming_an_expired_parent_is_refused_by_the_indexes(fed: Fed, tmp_path: Path) -> None:
    world = make_world(fed)
    prop, sde = world.prop, world.sde
    parent = world.record(kind=Kind.PRODUCT)
    prop.propose_decision(sde, PropertyDecision.SET_TERM, int(Kind.PRODUCT), 5 * DAY)
    store = IndexStore(tmp_path / "index")
    follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store)
    follower.sync()
    logs = LogQueries(store)
    fresh = _anchor_batch(fed, store, [request(world.holder.id, kind=Kind.PRODUCT, parents=(parent,))])
    follower.sync()
    assert logs.leaf(1, fresh).outcome == K.LEAF_RECORD
    start = world.now()
    fed.chain.clock = lambda: start + 6 * DAY
    with reverts("ParentExpired"):  # the contract's own rule for a direct registration
        fed.register("SDE", request(world.holder.id, kind=Kind.PRODUCT, parents=(parent,)))
    follower.sync()
    late = _anchor_batch(fed, store, [request(world.holder.id, kind=Kind.PRODUCT, parents=(parent,))])
    follower.sync()
    leaf = logs.leaf(1, late)
    assert leaf.outcome == K.LEAF_REJECTED and leaf.reason.startswith("ParentExpired(parentId=0x" + parent.hex())
    expires = PropertyQueries(store).view(parent, now=world.now()).expires_at  # type: ignore[union-attr]
    assert P.expired_parent(store, (h("unknown"), parent), world.now()) == (parent, expires)
    assert P.expired_parent(store, (parent,), expires - 1) is None  # what an intake would check before sealing
    # Renewed, the parent may be named again.
    prop.renew(sde, parent)
    renewed = _anchor_batch(fed, store, [request(world.holder.id, kind=Kind.PRODUCT, parents=(parent,))])
    follower.sync()
    assert logs.leaf(1, renewed).outcome == K.LEAF_RECORD
    assert P.expired_parent(store, (parent,), world.now()) is None
    assert store.dump() == dump_of(fed.chain, fed.contracts, tmp_path / "clean")
    store.close()


def test_the_catalogue_keeps_a_document_only_while_it_is_the_records(fed: Fed, tmp_path: Path) -> None:
    """A transfer makes the published document name a publisher that no longer holds the record, and a change of
    the metadata hash makes it another record's document: the index drops it, as it would refuse it now."""
    world = make_world(fed)
    holder = world.holder.id
    doc = canonical_document(metadata_document("property", publisher=holder, kind="asset"))
    kept = canonical_document(metadata_document("property kept", publisher=holder, kind="asset"))
    moved = fed.register("SDE", request(holder, kind=Kind.ASSET, metadata=Hash32(keccak256(doc))))
    changed = fed.register("SDE", request(holder, kind=Kind.ASSET, metadata=Hash32(keccak256(kept))))
    world.records += [moved, changed]
    publish_metadata(fed.contracts, world.sde, [moved, changed], [doc, kept])
    store = IndexStore(tmp_path / "index")
    follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store)
    follower.sync()
    seq_moved, seq_changed = store.seq_of(moved), store.seq_of(changed)
    assert seq_moved is not None and seq_changed is not None
    assert store.get(K.CATALOG_METADATA + K.seq_bytes(seq_moved)) == doc
    world.prop.transfer(world.sde, moved, world.buyer.id)
    follower.sync()
    assert store.get(K.CATALOG_METADATA + K.seq_bytes(seq_moved)) is None
    assert store.get(K.CATALOG_METADATA + K.seq_bytes(seq_changed)) == kept
    world.prop.change(world.sde, changed, int(Rights.HOLDING), h("metadata v2"), h("new document"))
    follower.sync()
    assert store.get(K.CATALOG_METADATA + K.seq_bytes(seq_changed)) is None
    assert store.dump() == dump_of(fed.chain, fed.contracts, tmp_path / "clean")
    assert_index_equals_contract(world, store)
    store.close()


def test_a_record_value_takes_a_new_owner_rights_and_metadata_and_nothing_else() -> None:
    rec = K.IndexedRecord(h("id"), 7, 11, 2, 1, 0, 1, 1, 1, True, False, 3, 99, h("content"), h("meta"), h("old"),
                          ())
    value = K.encode_record(rec, [4, 5])
    moved, _ = K.decode_record(7, K.with_owner(value, 2**32 - 1))
    changed, parents = K.decode_record(7, K.with_rights_metadata(value, 6, h("meta 2")))
    assert moved == K.IndexedRecord(**{**rec.__dict__, "owner": 2**32 - 1})
    assert changed == K.IndexedRecord(**{**rec.__dict__, "rights": 6, "metadata_hash": h("meta 2")})
    assert parents == [4, 5] and K.metadata_of(value) == h("meta")
    with pytest.raises(StoreError, match="32 bytes"):
        K.with_rights_metadata(value, 1, b"short")
    assert len({K.PROP_STATE, K.PROP_REGISTERED, K.PROP_OWNER, K.PROP_CHANGE, K.PROP_RENEWAL, K.PROP_PLEDGE,
                K.PROP_ENCUMBRANCE, K.PROP_ENCUMBRANCE_BY_PLEDGEE, K.PROP_ASSESSMENT, K.PROP_ASSESSMENT_ID,
                K.PROP_DISPUTE, K.PROP_TERM, K.PROP_ASSESSOR, K.PROP_ARBITRATOR, K.PROP_COMPLIANCE,
                K.PROP_BLOCK_TIME}) == 16
    assert K.SCHEMA_VERSION == b"5"
