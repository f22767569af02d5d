"""The tlog-tiles entries of records the property register rewrote: a transfer changes the index's owner, a change
its rights and metadata hash, but a leaf covers what was registered, so the entry is rebuilt from that, and a reader
no one here wrote (tlog-scales) still proves each entry's inclusion in the exchange's log."""

from __future__ import annotations

from pathlib import Path

from tlog_scales import reader as ts_reader

from provenance.core import merkle, tlog
from provenance.core.entries import entry_fields
from provenance.indexer.follower import Follower
from provenance.indexer.tlog_tiles import TileQueries, reference_tile
from provenance.store.index import IndexStore
from provenance.types import Kind, Rights
from tests.support.federation import Fed, h
from tests.support.property import make_world
from tests.support.tiles import IndexTileBackend


def test_a_transferred_and_a_changed_records_entries_still_verify(fed: Fed, tmp_path: Path) -> None:
    world = make_world(fed)
    prop, sde = world.prop, world.sde
    kept, traded, changed = (world.record(kind=k) for k in (Kind.RESOURCE, Kind.ASSET, Kind.PRODUCT))
    prop.transfer(sde, traded, world.buyer.id)
    prop.change(sde, changed, int(Rights.HOLDING | Rights.OPERATION), h("metadata v2"), h("operation right"))
    prop.transfer(sde, changed, world.buyer.id)
    store = IndexStore(tmp_path / "index")
    Follower(chain=fed.chain, contracts=fed.contracts, store=store).sync()
    tiles = TileQueries(store)
    exchange = fed.svc.exchange_id("SDE")
    size = tiles.size(exchange)
    hashes = [leaf.leaf_hash for leaf in tiles.leaves(exchange, 0, size)]
    root = tiles.root(exchange)
    assert merkle.root(hashes) == root

    now_traded, now_changed = store.record(traded), store.record(changed)
    assert now_traded is not None and now_traded.owner == world.buyer.id
    assert now_changed is not None and (now_changed.owner, now_changed.metadata_hash) == (
        world.buyer.id, h("metadata v2"))
    reader = ts_reader.TilesReader(IndexTileBackend(tiles, exchange))
    reader.set_size(size)
    for rid in (kept, traded, changed):
        rec = store.record(rid)
        assert rec is not None and rec.registrar == exchange
        entry = tiles.entry(exchange, rec.leaf_index)
        assert merkle.leaf_hash(entry) == hashes[rec.leaf_index]
        # The entry names the registered owner, rights and metadata, not the current ones.
        _, _, _, rights, owner, _, metadata, _, _ = entry_fields(entry[2:])
        assert (owner, rights, metadata) == (world.holder.id, int(Rights.HOLDING), h("metadata"))
        assert reader.get_entry(rec.leaf_index) == entry
        proof = reader.get_inclusion_proof(rec.leaf_index, size)
        assert proof.node_hashes == tiles.inclusion_proof(exchange, rec.leaf_index, size)
        proof.check(hashes[rec.leaf_index], root)
        merkle.verify_inclusion(rec.leaf_index, size, merkle.leaf_hash(entry), proof.node_hashes, root)

    # The bundle holding them is served whole and hashes to the log's leaves; its hash tile is the reference one.
    width = min(size, tlog.TILE_WIDTH)
    bundle = tlog.parse_entry_bundle(tiles.entry_bundle(exchange, 0, width))
    assert [merkle.leaf_hash(e) for e in bundle] == hashes[:width]
    assert tiles.hash_tile(exchange, 0, 0, width) == reference_tile(hashes, 0, 0, width)
    store.close()
