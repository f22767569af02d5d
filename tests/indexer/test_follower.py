"""The follower and the index on the embedded chain: contents, idempotence, rebuild equality, reorgs, pinning."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.errors import ChainMismatch
from provenance.indexer.follower import Follower, ReorgTooDeep
from provenance.indexer.queries import IndexQueries
from provenance.store.index import IndexStore
from provenance.types import Grade, Kind, RecordId, Status
from tests.support.federation import Fed, h, make_fed, request
from tests.support.index import dump_of


def populate(fed: Fed, n: int = 6) -> list[RecordId]:
    owner, _ = fed.entity("SDE", mandate_to=("SDE", "ZJDE"))
    ids = [fed.register("SDE", request(owner, grade=Grade.IMPORTANT))]
    for i in range(n - 1):
        parents = (ids[-1],) if i % 2 else (ids[0], ids[-1]) if len(ids) > 1 else (ids[0],)
        ids.append(fed.register("ZJDE" if i % 3 == 0 else "SDE",
                                request(owner, kind=Kind.PRODUCT, grade=Grade.IMPORTANT, parents=parents)))
    return ids


def test_index_holds_what_the_chain_holds(fed: Fed, tmp_path: Path) -> None:
    ids = populate(fed)
    fed.svc.set_status(fed.keys["ZJDE"], ids[1], Status.SUSPENDED)
    same = fed.svc.record(ids[0]).content_hash
    eid, acct = fed.entity("ZJDE")
    other = fed.register("ZJDE", request(eid, content=same))
    store = IndexStore(tmp_path / "index")
    status = Follower(chain=fed.chain, contracts=fed.contracts, store=store).sync()
    assert status.checkpoint == fed.chain.block_number()
    q = IndexQueries(store)
    for rid in [*ids, other]:
        on_chain, indexed = fed.svc.record(rid), q.record(rid)
        assert (indexed.owner, indexed.registrar, indexed.kind, indexed.grade, indexed.status, indexed.parents,
                indexed.content_hash, indexed.metadata_hash, indexed.block_number) == (
            on_chain.owner, on_chain.registrar, int(on_chain.kind), int(on_chain.grade), int(on_chain.status),
            on_chain.parents, on_chain.content_hash, on_chain.metadata_hash, on_chain.block_number)
    assert [r.id for r in q.search(content_hash=same)] == [ids[0], other]  # across registrars
    assert [r.id for r in q.search(status=int(Status.SUSPENDED))] == [ids[1]]
    assert {r.id for r in q.search(registrar=2, kind=int(Kind.PRODUCT))} == {
        rid for rid in ids if fed.svc.record(rid).registrar == 2}
    assert q.counts() == {"records": len(ids) + 1, "entities": 2}
    expected: set[bytes] = set()
    frontier = [ids[-1]]
    while frontier:
        for p in fed.svc.record(RecordId(frontier.pop())).parents:
            if p not in expected:
                expected.add(p)
                frontier.append(p)
    anc = q.ancestors(ids[-1])
    assert {r.id for r, _ in anc.records} == expected and not anc.truncated
    assert q.path(ids[-1], ids[0]) is not None and q.path(ids[0], ids[-1]) is None
    impact = q.impact(ids[1])
    assert impact["inactive"] and {r.id for r in impact["affected"]} == {
        r.id for r, _ in q.descendants(ids[1]).records}
    store.close()


def test_sync_in_small_steps_equals_a_clean_rebuild(fed: Fed, tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "inc")
    follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store, max_range=3)
    owner, _ = fed.entity()
    prev: tuple[RecordId, ...] = ()
    for i in range(12):
        rid = fed.register("SDE", request(owner, parents=prev))
        prev = (rid,)
        if i % 4 == 3:
            fed.svc.set_status(fed.keys["SDE"], rid, Status.SUSPENDED)
        if i % 3 == 0:
            follower.sync()
    follower.sync()
    assert store.dump() == dump_of(fed.chain, fed.contracts, tmp_path / "clean")
    store.close()


def test_replaying_a_range_changes_nothing(fed: Fed, tmp_path: Path) -> None:
    populate(fed, 8)
    store = IndexStore(tmp_path / "index")
    follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store)
    follower.sync()
    before = store.dump()
    kept = store.recent_blocks()
    back = kept[len(kept) // 2]
    for _ in range(3):
        store.rollback(*back)  # forget the newest blocks ...
        assert store.checkpoint() == back
        follower.sync()  # ... and index them again
        assert store.dump() == before
        follower.sync()  # and a sync at the head is a no-op
        assert store.dump() == before
    store.close()


@pytest.mark.parametrize("depth", [1, 2, 5, 12])
def test_reorg_is_followed(tmp_path: Path, depth: int) -> None:
    fed = make_fed(tmp_path / "chain")
    try:
        owner, _ = fed.entity()
        base = [fed.register("SDE", request(owner)) for _ in range(3)]
        fork = fed.chain.block_number()
        # The branch that will be orphaned: registrations, and a revocation of a record that survives.
        orphan_ids = []
        for i in range(depth):
            if i == 0:
                fed.svc.set_status(fed.keys["SDE"], base[0], Status.REVOKED)
            else:
                orphan_ids.append(fed.register("SDE", request(owner, parents=(base[1],))))
        store = IndexStore(tmp_path / "index")
        follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store, reorg_depth=16)
        follower.sync()
        q = IndexQueries(store)
        assert q.record(base[0]).status == int(Status.REVOKED)

        fed.chain.rewind(fork)
        canonical = [fed.register("SDE", request(owner, parents=(base[2],), content=h(f"canon-{depth}-{i}")))
                     for i in range(depth + 1)]
        follower.sync()
        assert follower.reorgs == 1
        assert q.record(base[0]).status == int(Status.ACTIVE)  # the orphaned revocation is undone
        for rid in orphan_ids:
            assert store.seq_of(rid) is None
        for rid in canonical:
            assert q.record(rid).parents == (base[2],)
        assert store.dump() == dump_of(fed.chain, fed.contracts, tmp_path / "clean", reorg_depth=16)
        store.close()
    finally:
        fed.chain.close()


def test_reorg_deeper_than_the_window_stops_the_follower(tmp_path: Path) -> None:
    fed = make_fed(tmp_path / "chain")
    try:
        owner, _ = fed.entity()
        fork = fed.chain.block_number()
        for _ in range(8):
            fed.register("SDE", request(owner))
        store = IndexStore(tmp_path / "index")
        follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store, reorg_depth=4)
        follower.sync()
        before = store.dump()
        fed.chain.rewind(fork)
        for i in range(9):
            fed.register("SDE", request(owner, content=h(f"other-{i}")))
        with pytest.raises(ReorgTooDeep, match="deeper than the reorg window of 4 blocks"):
            follower.sync()
        assert store.dump() == before  # nothing half-applied
        store.close()
    finally:
        fed.chain.close()


def test_index_is_pinned_to_its_chain_and_deployment(fed: Fed, tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "index")
    Follower(chain=fed.chain, contracts=fed.contracts, store=store).sync()
    other = make_fed(tmp_path / "other-chain")
    try:
        with pytest.raises(ChainMismatch, match="genesis.*registry") as info:
            Follower(chain=other.chain, contracts=other.contracts, store=store).sync()
        assert "rebuild" in str(info.value)
    finally:
        other.chain.close()
        store.close()
