"""Synthetic registrations written through the index's own write path (benchmarks and tests).

Records are applied as ``DataRegistered`` events, ``per_block`` to a block, exactly as the follower applies
events from the chain; only the chain is left out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from provenance.indexer.apply import apply_event
from provenance.indexer.events import Event
from provenance.store.index import IndexStore


def synthetic_id(i: int) -> bytes:
    return hashlib.sha256(b"rec" + i.to_bytes(8, "big")).digest()


def registration_event(i: int, parents: Sequence[int], *, block: int, log_index: int, registrar: int = 1,
                       owner: int = 1, kind: int = 0, grade: int = 0, leaf_index: int = 0) -> Event:
    rid = synthetic_id(i)
    args = {"id": rid, "registrar": registrar, "owner": owner, "kind": kind, "grade": grade, "source": 1,
            "rights": 1, "contentHash": hashlib.sha256(b"content" + rid).digest(),
            "metadataHash": hashlib.sha256(b"meta" + rid).digest(), "supersedes": bytes(32),
            "parents": tuple(synthetic_id(p) for p in parents), "delegated": False, "leafIndex": leaf_index}
    return Event("DataRegistered", args, block, hashlib.sha256(block.to_bytes(8, "big")).digest(), log_index,
                 "Registry")


def write_graph(store: IndexStore, parents: Iterable[Sequence[int]], *, per_block: int = 1000,
                first_block: int = 1) -> int:
    """Register node i with parents ``parents[i]`` (all lower than i); returns the number of records."""
    block = first_block
    batch: list[Event] = []
    n = 0
    leaves: dict[int, int] = {}

    def flush() -> None:
        nonlocal block, batch
        if not batch:
            return
        h = hashlib.sha256(block.to_bytes(8, "big")).digest()
        with store.block(block, h, keep_for_reorg=False, prune_below=0) as w:
            for ev in batch:
                apply_event(w, ev)
        block += 1
        batch = []

    for i, ps in enumerate(parents):
        registrar = 1 + i % 3
        leaf_index = leaves.get(registrar, 0)
        leaves[registrar] = leaf_index + 1
        batch.append(registration_event(i, ps, block=block, log_index=len(batch), kind=1 if ps else 0,
                                        registrar=registrar, owner=1 + i % 50, leaf_index=leaf_index))
        n += 1
        if len(batch) >= per_block:
            flush()
    flush()
    return n
