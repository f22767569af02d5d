"""A JSON-RPC endpoint that misbehaves in every way seen in the wild; the index must still equal ground truth."""

from __future__ import annotations

import random
from pathlib import Path

from provenance.chain.base import Log
from provenance.chain.embedded import EmbeddedChain
from provenance.chain.rpc import RpcError
from provenance.errors import ChainUnavailable
from provenance.indexer.follower import Follower
from provenance.store.index import IndexStore
from provenance.types import Status
from tests.helpers import make_fed, request
from tests.indexer.helpers import dump_of


class HostileChain:
    """Wraps a real chain; its get_logs refuses wide ranges with the codes real endpoints use, silently answers
    [] for medium ranges, shuffles and duplicates logs, and times out one call in ten (and the first call, so
    that a short run sees a timeout too)."""

    def __init__(self, inner: EmbeddedChain, seed: int) -> None:
        self._inner = inner
        self._rng = random.Random(seed)
        self.calls = {"refused": 0, "silent": 0, "timeouts": 0, "ok": 0}

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def get_logs(self, addresses: list[bytes], from_block: int, to_block: int) -> list[Log]:
        width = to_block - from_block + 1
        if self._rng.random() < 0.10 or not self.calls["timeouts"]:
            self.calls["timeouts"] += 1
            raise ChainUnavailable("read timed out")
        if width > 20:  # the follower starts at 16 blocks and doubles the range while answers are small
            self.calls["refused"] += 1
            code = self._rng.choice([-32005, -32602])
            raise RpcError("eth_getLogs", code, "query returned more than 10000 results" if code == -32005
                           else "block range too large")
        logs = self._inner.get_logs(addresses, from_block, to_block)
        if width > 4 and logs and self._rng.random() < 0.5:
            self.calls["silent"] += 1
            return []
        self.calls["ok"] += 1
        out = logs + [log for log in logs if self._rng.random() < 0.2]
        self._rng.shuffle(out)
        return out


def test_hostile_endpoint_gives_the_same_index(tmp_path: Path) -> None:
    fed = make_fed(tmp_path / "chain")
    try:
        owner, _ = fed.entity("SDE", mandate_to=("SDE", "ZJDE"))
        ids = []
        for i in range(60):
            parents = tuple(ids[-2:]) if i % 3 else ()
            ids.append(fed.register("SDE" if i % 2 else "ZJDE", request(owner, parents=parents)))
            if i % 7 == 6:
                fed.svc.set_status(fed.keys["SDE" if i % 2 else "ZJDE"], ids[-1], Status.SUSPENDED)
        for seed in range(3):
            hostile = HostileChain(fed.chain, seed)
            store = IndexStore(tmp_path / f"hostile-{seed}")
            Follower(chain=hostile, contracts=fed.contracts, store=store, max_range=500).sync()  # type: ignore[arg-type]
            assert all(hostile.calls[k] > 0 for k in hostile.calls), hostile.calls
            assert store.dump() == dump_of(fed.chain, fed.contracts, tmp_path / f"truth-{seed}", max_range=500)
            store.close()
    finally:
        fed.chain.close()
