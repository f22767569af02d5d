from __future__ import annotations

from pathlib import Path

from provenance.chain.base import Chain
from provenance.chain.contracts import Contracts
from provenance.indexer.follower import Follower
from provenance.store.index import IndexStore


def build_index(chain: Chain, contracts: Contracts, path: Path, **kw: int) -> IndexStore:
    """A clean index of the chain as it is now (the ground truth the incremental index must equal)."""
    store = IndexStore(path)
    Follower(chain=chain, contracts=contracts, store=store, **kw).sync()  # type: ignore[arg-type]
    return store


def dump_of(chain: Chain, contracts: Contracts, path: Path, **kw: int) -> list[tuple[bytes, bytes]]:
    store = build_index(chain, contracts, path, **kw)
    try:
        return store.dump()
    finally:
        store.close()
