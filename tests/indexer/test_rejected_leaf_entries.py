"""A leaf the indexes reject (a batched entry that breaks a rule) or that registers nothing (a direct registration
whose id a batched record holds) is still part of the exchange's anchored log: its tlog-tiles entry bundle is
served, holding the exact bytes whose leaf hash is the leaf, read back by tlog-scales (a reader no one here wrote),
and the index keeps those bytes with the leaf in the block's write, so a reorg undoes them with the rest."""

from __future__ import annotations

from pathlib import Path

from tlog_scales import reader as ts_reader

from provenance.core import eip712, merkle, tlog
from provenance.core.entries import entry_leaf_hash, leaf_data, pack_batch, pack_entry
from provenance.indexer.follower import Follower
from provenance.indexer.tlog_tiles import TileQueries, reference_tile
from provenance.store import keys as K
from provenance.store.index import IndexStore
from provenance.types import RegistrationRequest
from tests.support.federation import Fed, h, request
from tests.support.index import dump_of
from tests.support.tiles import IndexTileBackend

SDE = 1


def anchor_raw(fed: Fed, tiles: TileQueries, requests: list[RegistrationRequest], after: int | None = None) -> int:
    """Anchor ``requests`` as one batch of SDE's log, after its first ``after`` leaves (all the index has if None),
    by the raw transaction (no intake check, as another node or a race may send it); the new size."""
    rng = merkle.CompactRange()
    for leaf in tiles.leaves(SDE, 0, tiles.size(SDE) if after is None else after):
        rng.append(leaf.leaf_hash)
    entries = [pack_entry(r) for r in requests]
    for e in entries:
        rng.append(entry_leaf_hash(SDE, e))
    digest = eip712.checkpoint_digest(fed.chain.chain_id, fed.contracts.deployment.registry, SDE, rng.size,
                                      rng.root())
    fed.contracts.transact(fed.keys["SDE"], "Registry", "anchorBatch", rng.size, rng.root(), pack_batch(entries),
                           eip712.sign_digest(digest, bytes(fed.keys["SDE"].key)))
    return rng.size


def check_served(tiles: TileQueries, size: int) -> list[bytes]:
    """Every entry of SDE's log of ``size`` leaves, read by tlog-scales and checked against the index's tree; the
    entries."""
    hashes = [leaf.leaf_hash for leaf in tiles.leaves(SDE, 0, size)]
    root = tiles.root_at(SDE, size)
    reader = ts_reader.TilesReader(IndexTileBackend(tiles, SDE))
    reader.set_size(size)
    assert reader.calculate_root_hash() == root == merkle.root(hashes)
    entries = [reader.get_entry(i) for i in range(size)]
    assert [merkle.leaf_hash(e) for e in entries] == hashes
    for i, e in enumerate(entries):
        proof = reader.get_inclusion_proof(i, size)
        proof.check(merkle.leaf_hash(e), root)
    bundle = tlog.parse_entry_bundle(tiles.entry_bundle(SDE, 0, size))
    assert bundle == entries and tiles.hash_tile(SDE, 0, 0, size) == reference_tile(hashes, 0, 0, size)
    return entries


def test_rejected_and_collided_leaves_are_served_in_the_entry_bundles(fed: Fed, tmp_path: Path) -> None:
    owner, _ = fed.entity("SDE")
    stored = fed.register("SDE", request(owner))
    store = IndexStore(tmp_path / "index")
    follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store)
    follower.sync()
    tiles = TileQueries(store)
    first = tiles.size(SDE)
    dup, ok = request(owner), request(owner)
    breaks = request(owner, supersedes=stored)  # a batched record may not supersede a stored one
    size = anchor_raw(fed, tiles, [dup, dup, breaks, ok])
    # A direct registration of a batched record's id, with other metadata: the contract accepts it (it does not
    # know batched ids), the index keeps the batched record, and the leaf is this registration's entry.
    collider = request(owner, content=dup.content_hash, metadata=h("other metadata"))
    fed.register("SDE", collider)
    follower.sync()
    leaves = tiles.leaves(SDE, first, 5)
    assert [leaf.outcome for leaf in leaves] == [K.LEAF_RECORD, K.LEAF_REJECTED, K.LEAF_REJECTED, K.LEAF_RECORD,
                                                 K.LEAF_COLLIDED]
    # The reasons are read as before (the batch answer reports them).
    assert leaves[1].reason.startswith("AlreadyRegistered") and leaves[2].reason.startswith("SupersedesStoredRecord")
    anchored = tiles.anchor(SDE, size)
    assert anchored is not None and anchored.consistent and anchored.root == tiles.root_at(SDE, size)

    # Every width of the partial tile, the anchored size and the one after the collision, holds every leaf.
    for width in range(1, tiles.size(SDE) + 1):
        check_served(tiles, width)
    entries = check_served(tiles, tiles.size(SDE))
    want = [leaf_data(SDE, pack_entry(r)) for r in (dup, dup, breaks, ok, collider)]
    assert entries[first:first + 5] == want
    assert [tiles.entry(SDE, first + i) for i in range(5)] == want
    assert want[4] != want[0]  # the collided leaf is its own entry, not the batched record's
    # The index written incrementally equals a clean rebuild, byte for byte.
    assert store.dump() == dump_of(fed.chain, fed.contracts, tmp_path / "rebuild")
    store.close()


def test_a_reorg_undoes_a_rejected_leafs_entry_with_its_block(fed: Fed, tmp_path: Path) -> None:
    owner, _ = fed.entity("SDE")
    store = IndexStore(tmp_path / "index")
    follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store, reorg_depth=16)
    follower.sync()
    tiles = TileQueries(store)
    first = tiles.size(SDE)
    fork = fed.chain.block_number()
    orphan = request(owner)
    anchor_raw(fed, tiles, [orphan, orphan])
    follower.sync()
    assert tiles.leaf(SDE, first + 1).entry == pack_entry(orphan)

    fed.chain.rewind(fork)
    canon = request(owner, content=h("canonical"))
    other = request(owner, content=h("canonical other"))
    anchor_raw(fed, tiles, [canon, other, canon], after=first)
    fed.register("SDE", request(owner, content=h("a later block")))  # the canonical branch is the longer one
    follower.sync()
    assert follower.reorgs == 1
    assert [leaf.outcome for leaf in tiles.leaves(SDE, first, 4)] == [K.LEAF_RECORD, K.LEAF_RECORD, K.LEAF_REJECTED,
                                                                     K.LEAF_RECORD]
    entries = check_served(tiles, tiles.size(SDE))
    assert entries[first:first + 3] == [leaf_data(SDE, pack_entry(r)) for r in (canon, other, canon)]
    assert store.dump() == dump_of(fed.chain, fed.contracts, tmp_path / "clean", reorg_depth=16)
    store.close()
