"""A federation with batched and direct records across exchanges, an index, and certifiers for each exchange."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provenance.core import certificates as C
from provenance.indexer.follower import Follower
from provenance.services.batching import BatchIntake
from provenance.services.certificates import Certifier
from provenance.store.index import IndexStore
from provenance.types import Grade, Kind, RecordId
from tests.support.federation import Fed, make_fed, request


@dataclass
class World:
    fed: Fed
    store: IndexStore
    follower: Follower
    certifier: Certifier
    resource_a: RecordId  # SDE, direct
    resource_b: RecordId  # ZJDE, batched
    product: RecordId  # SDE, batched, derived from both
    owner_sde: int
    owner_zj: int

    def intake(self, code: str, **kw: int) -> BatchIntake:
        return BatchIntake(contracts=self.fed.contracts, store=self.store, follower=self.follower,
                           signer=self.fed.keys[code], exchange=self.fed.svc.exchange_id(code), **kw)

    def close(self) -> None:
        self.store.close()
        self.fed.chain.close()


def make_world(tmp: Path) -> World:
    fed = make_fed(tmp / "chain")
    store = IndexStore(tmp / "index")
    follower = Follower(chain=fed.chain, contracts=fed.contracts, store=store)
    certifier = Certifier(contracts=fed.contracts, store=store, follower=follower, data_dir=tmp / "node")
    owner_sde, _ = fed.entity("SDE")
    owner_zj, _ = fed.entity("ZJDE")
    resource_a = fed.register("SDE", request(owner_sde))
    w = World(fed, store, follower, certifier, resource_a, RecordId(b""), RecordId(b""), owner_sde, owner_zj)
    follower.sync()
    zj = w.intake("ZJDE")
    fb = zj.submit(request(owner_zj, grade=Grade.GENERAL))
    zj.seal()
    w.resource_b = fb.result().record_id
    follower.sync()
    sde = w.intake("SDE")
    fp = sde.submit(request(owner_sde, kind=Kind.PRODUCT, parents=(resource_a, w.resource_b)))
    sde.seal()
    w.product = fp.result().record_id
    follower.sync()
    return w


def verify_both_paths(doc: Any, view: C.FederationView, now: int) -> C.Report:
    """C.verify, held to the Python verifier and, for a valid certificate, to the compiled fast path, as the tamper
    matrix holds them."""
    report = C.verify(doc, view, now=now)
    assert report == C._verify_full(doc, view, now)
    fast = C._verify_fast(doc, view, now)
    if fast is not None:
        assert fast == report and report.valid
    return report
