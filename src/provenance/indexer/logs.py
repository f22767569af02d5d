"""Reading the exchanges' transparency logs out of the index: leaves, proofs, anchored checkpoints, cosignatures.

Proofs are built from the saved roots of perfect subtrees of 16 leaves and more; smaller subtrees are rehashed
from their leaves (at most 8 leaf reads, in one range scan). An inclusion or consistency proof of a log of n
leaves reads O(log^2 n) keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from provenance.core import merkle
from provenance.errors import NotFound, StoreError
from provenance.store import keys as K
from provenance.store.index import IndexStore


@dataclass(frozen=True)
class Anchor:
    exchange: int
    tree_size: int
    root: bytes
    block: int
    consistent: bool  # the index's own recomputation of the root agrees
    tx_hash: bytes
    signature: bytes  # the exchange's signed note over (exchange, size, root)


@dataclass(frozen=True)
class StoredCosignature:
    witness: int
    signer: bytes
    block: int
    signature: bytes


# A leaf's value (keys ``l``) after the leaf hash and the outcome byte:
#   K.LEAF_RECORD      the record's seq (5)
#   K.LEAF_REJECTED    why (UTF-8): written by indexes before K.LEAF_REJECTED_KEPT, read as before
#   K.LEAF_REJECTED_KEPT the entry's length (2), the entry (packed, as the leaf hash covers it after the exchange),
#                      then why (UTF-8): a rejected leaf is still part of the log, and tlog-tiles serves its entry
#   K.LEAF_COLLIDED    the seq (5) of the batched record the direct registration collided with, then the
#                      registration's entry (absent in indexes written before it was kept)
# Readers see K.LEAF_REJECTED_KEPT as K.LEAF_REJECTED (Leaf.outcome), with the entry in Leaf.entry.


def rejected_value(leaf_hash: bytes, entry: bytes, why: str) -> bytes:
    """The value of a leaf the indexes rejected, its entry kept (see K.LEAF_REJECTED_KEPT)."""
    return leaf_hash + bytes((K.LEAF_REJECTED_KEPT,)) + len(entry).to_bytes(2, "big") + entry + why.encode()


def collided_value(leaf_hash: bytes, seq: bytes, entry: bytes) -> bytes:
    """The value of a direct registration's leaf whose id a batched record holds, its entry kept."""
    return leaf_hash + bytes((K.LEAF_COLLIDED,)) + seq + entry


@dataclass(frozen=True)
class Leaf:
    exchange: int
    index: int
    leaf_hash: bytes
    outcome: int  # K.LEAF_RECORD / K.LEAF_REJECTED / K.LEAF_COLLIDED
    seq: int | None
    reason: str
    entry: bytes | None = None  # a rejected or collided leaf's packed entry, where the index kept it


class LogQueries:
    def __init__(self, store: IndexStore) -> None:
        self.store = store

    def size(self, exchange: int) -> int:
        raw = self.store.get(K.LOG_STATE + exchange.to_bytes(2, "big"))
        return int.from_bytes(raw[:8], "big") if raw else 0

    def root(self, exchange: int) -> bytes:
        raw = self.store.get(K.LOG_STATE + exchange.to_bytes(2, "big"))
        return merkle.CompactRange.decode(raw).root() if raw else merkle.EMPTY_ROOT

    def leaf(self, exchange: int, index: int) -> Leaf:
        raw = self.store.get(K.leaf_key(exchange, index))
        if raw is None:
            raise NotFound(f"exchange {exchange}'s log has no leaf {index}")
        return _leaf(exchange, index, raw)

    def leaves(self, exchange: int, start: int, limit: int) -> list[Leaf]:
        out = []
        prefix = K.LEAF + exchange.to_bytes(2, "big")
        for key, raw in self.store.scan_from(prefix, K.leaf_key(exchange, start), limit=limit):
            out.append(_leaf(exchange, int.from_bytes(key[len(prefix):], "big"), raw))
        return out

    def _mth(self, exchange: int, start: int, end: int) -> bytes:
        n = end - start
        if n == 1:
            return self.leaf(exchange, start).leaf_hash
        if n & (n - 1) == 0 and start % n == 0:
            level = n.bit_length() - 1
            if level >= K.STORED_NODE_LEVEL:
                raw = self.store.get(K.node_key(exchange, level, start >> level))
                if raw is None:
                    raise StoreError(f"exchange {exchange}'s log lacks the subtree root {level}/{start >> level}")
                return raw
            hashes = [leaf.leaf_hash for leaf in self.leaves(exchange, start, n)]
            if len(hashes) != n:
                raise StoreError(f"exchange {exchange}'s log lacks leaves {start}..{end - 1}")
            return merkle.root(hashes)
        k = 1 << ((n - 1).bit_length() - 1)
        return merkle.node_hash(self._mth(exchange, start, start + k), self._mth(exchange, start + k, end))

    def inclusion_proof(self, exchange: int, index: int, tree_size: int) -> list[bytes]:
        self._check_size(exchange, tree_size)
        return merkle.inclusion_proof_with(index, tree_size, lambda a, b: self._mth(exchange, a, b))

    def consistency_proof(self, exchange: int, size1: int, size2: int) -> list[bytes]:
        self._check_size(exchange, size2)
        return merkle.consistency_proof_with(size1, size2, lambda a, b: self._mth(exchange, a, b))

    def root_at(self, exchange: int, tree_size: int) -> bytes:
        self._check_size(exchange, tree_size)
        return merkle.EMPTY_ROOT if tree_size == 0 else self._mth(exchange, 0, tree_size)

    def _check_size(self, exchange: int, tree_size: int) -> None:
        have = self.size(exchange)
        if tree_size > have:
            raise NotFound(f"exchange {exchange}'s log has {have} leaves in this index, not {tree_size}")

    # ------------------------------------------------------------------ anchors

    def anchor(self, exchange: int, tree_size: int) -> Anchor | None:
        raw = self.store.get(K.anchor_key(exchange, tree_size))
        return None if raw is None else _anchor(exchange, tree_size, raw)

    def anchors(self, exchange: int, *, after: int = -1, limit: int = 1000) -> list[Anchor]:
        prefix = K.ANCHOR + exchange.to_bytes(2, "big")
        out = []
        for key, raw in self.store.scan_from(prefix, K.anchor_key(exchange, after + 1), limit=limit):
            out.append(_anchor(exchange, int.from_bytes(key[len(prefix):], "big"), raw))
        return out

    def latest_anchor(self, exchange: int) -> Anchor | None:
        prefix = K.ANCHOR + exchange.to_bytes(2, "big")
        for key, raw in self.store.scan(prefix, limit=1, reverse=True):
            return _anchor(exchange, int.from_bytes(key[len(prefix):], "big"), raw)
        return None

    def covering_anchor(self, exchange: int, leaf_index: int) -> Anchor | None:
        """The latest consistent anchored checkpoint that includes the leaf, or None."""
        latest = self.latest_anchor(exchange)
        if latest is None or latest.tree_size <= leaf_index:
            return None
        prefix = K.ANCHOR + exchange.to_bytes(2, "big")
        for key, raw in self.store.scan(prefix, reverse=True):
            a = _anchor(exchange, int.from_bytes(key[len(prefix):], "big"), raw)
            if a.tree_size <= leaf_index:
                return None
            if a.consistent:
                return a
        return None

    def cosignatures(self, exchange: int, tree_size: int) -> list[StoredCosignature]:
        prefix = K.COSIGNATURE + exchange.to_bytes(2, "big") + tree_size.to_bytes(8, "big")
        return [StoredCosignature(int.from_bytes(k[len(prefix):], "big"), v[:20], int.from_bytes(v[20:28], "big"),
                                  v[28:])
                for k, v in self.store.scan(prefix)]

    def status_lists(self, exchange: int) -> list[tuple[int, int, bytes]]:
        """(anchoring block, taken at block, hash) of the exchange's anchored status lists, oldest first."""
        prefix = K.STATUS_LIST + exchange.to_bytes(2, "big")
        return [(int.from_bytes(k[len(prefix):len(prefix) + 8], "big"), int.from_bytes(v[:8], "big"), v[8:40])
                for k, v in self.store.scan(prefix)]

    def recognitions(self, credential_hash: bytes) -> list[tuple[int, int, bytes, int]]:
        """(recognizer, issuer, record id, block) of on-chain recognitions of a certificate."""
        prefix = K.CERT_RECOGNITION + credential_hash
        return [(int.from_bytes(k[len(prefix):], "big"), int.from_bytes(v[:2], "big"), v[2:34],
                 int.from_bytes(v[34:42], "big")) for k, v in self.store.scan(prefix)]


def _leaf(exchange: int, index: int, raw: bytes) -> Leaf:
    outcome = raw[32]
    if outcome == K.LEAF_REJECTED_KEPT:
        end = 35 + int.from_bytes(raw[33:35], "big")
        return Leaf(exchange, index, raw[:32], K.LEAF_REJECTED, None, raw[end:].decode(), raw[35:end])
    if outcome == K.LEAF_REJECTED:
        return Leaf(exchange, index, raw[:32], outcome, None, raw[33:].decode())
    seq = int.from_bytes(raw[33:38], "big")
    entry = raw[38:] if outcome == K.LEAF_COLLIDED and len(raw) > 38 else None
    return Leaf(exchange, index, raw[:32], outcome, seq, "", entry)


def _anchor(exchange: int, tree_size: int, raw: bytes) -> Anchor:
    return Anchor(exchange, tree_size, raw[:32], int.from_bytes(raw[32:40], "big"), raw[40] == 1, raw[41:73],
                  raw[73:])
