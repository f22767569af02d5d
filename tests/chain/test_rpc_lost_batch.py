"""A batch whose transaction was sent but never mined, on a real JSON-RPC endpoint (Hardhat with automine off).

While the endpoint holds the transaction, its records count as sealed: a copy is refused at intake, as the
transaction may still be mined. Once the endpoint has dropped it (``hardhat_dropTransaction``, as a pool evicts a
transaction or a restart loses it), nothing will mine it: the records may be sent again, the retry takes the
same leaf, and the sender's nonce counter has no gap in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance.chain.rpc import RpcChain
from provenance.errors import TransactionTimeout
from provenance.indexer.follower import Follower
from provenance.indexer.logs import LogQueries
from provenance.services import batching
from provenance.services.batching import BatchIntake, RuleViolation
from provenance.store import keys as K
from provenance.store.index import IndexStore
from provenance.types import EntityRole
from tests.support.federation import h, request
from tests.support.rpc import deploy, funded


@pytest.fixture
def rpc(hardhat_url: str) -> Iterator[RpcChain]:
    chain = RpcChain(hardhat_url, receipt_timeout=10)
    snapshot = chain.request("evm_snapshot")
    yield chain
    chain.request("evm_setAutomine", [True])
    chain.request("evm_revert", [snapshot])
    chain.close()


def test_a_dropped_batch_transaction_frees_its_records_and_its_leaf(rpc: RpcChain, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    svc, key = deploy(rpc)
    merchant = funded(rpc)
    owner = svc.register_entity(key, h("m"), merchant, EntityRole.SUPPLIER)
    svc.set_mandate(merchant, owner, "SDE", True)
    store = IndexStore(tmp_path / "index")
    try:
        Follower(chain=rpc, contracts=svc.contracts, store=store).sync()
        monkeypatch.setattr(rpc, "_receipt_timeout", 0.5)

        def intake() -> BatchIntake:
            return BatchIntake(contracts=svc.contracts, store=store, signer=key, exchange=1,
                               follower=Follower(chain=rpc, contracts=svc.contracts, store=store))

        first = LogQueries(store).size(1)
        r = request(owner)
        rpc.request("evm_setAutomine", [False])
        sent = intake()
        lost = sent.submit(r)
        sent.seal()
        with pytest.raises(TransactionTimeout) as timed_out:
            lost.result()
        tx_hash = timed_out.value.tx_hash
        assert tx_hash is not None and rpc.transaction_state(tx_hash) == (True, None)

        # Still in the endpoint's pool: it may be mined, so a copy is refused, and the chain is asked again only
        # after batching.ASK_CHAIN_EVERY seconds.
        with pytest.raises(RuleViolation, match="AlreadyRegistered") as refused:
            intake().submit(r)
        assert refused.value.note == (f"sent in a batch whose transaction may still be mined (leaf {first} of "
                                      "exchange 1's log)")
        rpc.request("hardhat_dropTransaction", ["0x" + tx_hash.hex()])
        with pytest.raises(RuleViolation, match="AlreadyRegistered"):
            intake().submit(r)  # asked a moment ago: not asked again yet

        monkeypatch.setattr(batching, "ASK_CHAIN_EVERY", 0.0)
        rpc.request("evm_setAutomine", [True])
        again = intake()
        retried = again.submit(r)  # the chain no longer knows the transaction: nothing will mine it
        again.seal()
        # (The retry may be byte for byte the dropped transaction: same leaf, root, nonce and fees.)
        sealed = retried.result()
        assert sealed.leaf_index == first and rpc.transaction_state(sealed.tx_hash) == (True, sealed.block_number)
        Follower(chain=rpc, contracts=svc.contracts, store=store).sync()
        logs = LogQueries(store)
        assert logs.size(1) == first + 1 and logs.leaf(1, first).outcome == K.LEAF_RECORD
        assert store.record(sealed.record_id) is not None
        assert len(again.sealed) == 1 and again.check(request(owner)) is None and len(again.sealed) == 0
    finally:
        store.close()


def test_a_mined_batch_whose_receipt_was_missed_gets_its_block(rpc: RpcChain, tmp_path: Path) -> None:
    """The chain's answer that the transaction is mined gives the batch its block, so a reorg that takes the block
    away is noticed as for any sealed batch; the copy stays refused meanwhile."""
    svc, key = deploy(rpc)
    merchant = funded(rpc)
    owner = svc.register_entity(key, h("m"), merchant, EntityRole.SUPPLIER)
    svc.set_mandate(merchant, owner, "SDE", True)
    store = IndexStore(tmp_path / "index")
    try:
        Follower(chain=rpc, contracts=svc.contracts, store=store).sync()
        rpc._receipt_timeout = 0.5
        intake = BatchIntake(contracts=svc.contracts, store=store, signer=key, exchange=1,
                             follower=Follower(chain=rpc, contracts=svc.contracts, store=store))
        r = request(owner)
        rpc.request("evm_setAutomine", [False])
        lost = intake.submit(r)
        intake.seal()
        with pytest.raises(TransactionTimeout):
            lost.result()
        rpc.request("evm_mine")
        with pytest.raises(RuleViolation, match="AlreadyRegistered"):
            intake.submit(r)
        [batch] = intake.sealed._batches
        assert batch.block == rpc.block_number() and not batch.lost
    finally:
        rpc._receipt_timeout = 10
        store.close()
