"""The exchanges' logs read as c2sp.org/tlog-tiles: hash tiles and entry bundles, out of the index.

A hash of a level-L tile is the root of an aligned perfect subtree of 256**L leaves, so for L >= 1 it is one
stored node read (the index keeps the roots of perfect subtrees of 16 leaves and more); a level-0 tile is the leaf
hashes themselves. A tile costs at most 256 reads.

An entry is ``uint16 exchange || packed entry`` (core/entries.leaf_data), the bytes whose RFC 6962 leaf hash is the
leaf. The index keeps a record's leaf hash, not its bytes: a record's entry is rebuilt from the record the leaf
registered, with the owner, rights and metadata it was registered with (a transfer or a change of the property
register rewrites them in the index: provenance.indexer.property.as_registered). A leaf that registered no record
(a batched entry the indexes rejected, a direct registration that collided with a batched record) is still part of
the anchored tree; the index keeps its packed entry with the leaf (indexer/logs.py), and serves it. Either way an
entry is served only if it hashes to the leaf. An index written before it kept those entries cannot serve a bundle
spanning one (NotFound, saying to rebuild the index).
"""

from __future__ import annotations

from provenance.core import merkle, tlog
from provenance.core.entries import entry_leaf_hash, leaf_data, pack_entry_fields
from provenance.errors import NotFound, StoreError
from provenance.indexer.logs import Leaf, LogQueries
from provenance.indexer.property import as_registered
from provenance.store import keys as K


class TileQueries(LogQueries):
    def subtree_root(self, exchange: int, start: int, end: int) -> bytes:
        """MTH(D[start:end]) of an exchange's log, within the leaves the index holds."""
        self._check_size(exchange, end)
        if not 0 <= start < end:
            raise NotFound(f"leaves {start}..{end - 1} are not a range of exchange {exchange}'s log")
        return self._mth(exchange, start, end)

    def _check_tile(self, exchange: int, level: int, n: int, width: int) -> tuple[int, int]:
        per = tlog.TILE_WIDTH ** level
        first = n * tlog.TILE_WIDTH * per
        size = self.size(exchange)
        # A tile of width W needs W * 256**L leaves from its start. c2sp.org/tlog-tiles: a log serves the partial
        # tiles of every size a checkpoint may have been produced at (any width up to what the index holds, a
        # prefix of the same hashes) until the full tile exists, and may stop then: clients fetch the full one.
        if first + width * per > size:
            raise NotFound(f"exchange {exchange}'s log of {size} leaves has no tile {tlog.tile_path(level, n, width)}")
        if width < tlog.TILE_WIDTH and first + tlog.TILE_WIDTH * per <= size:
            raise NotFound(f"tile {tlog.tile_path(level, n, width)} is full in a log of {size} leaves; ask for "
                           f"{tlog.tile_path(level, n)}")
        return first, per

    def hash_tile(self, exchange: int, level: int, n: int, width: int) -> bytes:
        first, per = self._check_tile(exchange, level, n, width)
        if level == 0:
            leaves = self.leaves(exchange, first, width)
            if len(leaves) != width:
                raise StoreError(f"exchange {exchange}'s log lacks leaves {first}..{first + width - 1}")
            return b"".join(leaf.leaf_hash for leaf in leaves)
        return b"".join(self._mth(exchange, first + i * per, first + (i + 1) * per) for i in range(width))

    def entry(self, exchange: int, index: int) -> bytes:
        """The bytes of one leaf (what its RFC 6962 leaf hash covers): kept with the leaf, or rebuilt from the
        record it registered."""
        return self._entry(self.leaf(exchange, index))

    def _entry(self, leaf: Leaf) -> bytes:
        exchange = leaf.exchange
        packed = leaf.entry
        if packed is None and leaf.seq is not None:
            # A transfer or a change rewrites the index's record; the leaf covers what was registered. (A collided
            # leaf of an index written before it kept their entries is served if the batched record's entry is it.)
            r = as_registered(self.store, self.store.record_by_seq(leaf.seq))
            packed = pack_entry_fields(r.kind, r.grade, r.source, r.rights, r.owner, r.content_hash,
                                       r.metadata_hash, r.supersedes, r.parents)
        if packed is not None and entry_leaf_hash(exchange, packed) == leaf.leaf_hash:
            return leaf_data(exchange, packed)
        if leaf.outcome == K.LEAF_RECORD or leaf.entry is not None:
            raise StoreError(f"the entry the index holds for leaf {leaf.index} of exchange {exchange}'s log does not "
                             f"hash to the leaf")
        what = "rejected" if leaf.outcome == K.LEAF_REJECTED else "a registration that collided"
        raise NotFound(f"leaf {leaf.index} of exchange {exchange}'s log ({what}) was indexed before the index kept "
                       f"such leaves' entries; rebuild the index to serve it")

    def entry_bundle(self, exchange: int, n: int, width: int) -> bytes:
        first, _ = self._check_tile(exchange, 0, n, width)
        leaves = self.leaves(exchange, first, width)
        if len(leaves) != width:
            raise StoreError(f"exchange {exchange}'s log lacks leaves {first}..{first + width - 1}")
        return tlog.entry_bundle([self._entry(leaf) for leaf in leaves])


def reference_tile(leaf_hashes: list[bytes], level: int, n: int, width: int) -> bytes:
    """A tile computed from all the leaf hashes (for checking the index's tiles, and for tests)."""
    per = tlog.TILE_WIDTH ** level
    first = n * tlog.TILE_WIDTH * per
    return b"".join(merkle.root(leaf_hashes[first + i * per:first + (i + 1) * per]) for i in range(width))
