"""The JSON-RPC backend against a real Hardhat node: the same contracts and rules, reverts decoded from the
endpoint's answers, nonces that never collide under concurrent submissions, timeouts, and a batch whose
transaction the endpoint dropped."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from provenance.chain.contracts import Contracts
from provenance.chain.registry import RegistryService
from provenance.chain.rpc import RpcChain
from provenance.errors import ChainMismatch, ChainUnavailable, TransactionTimeout
from provenance.indexer.follower import Follower
from provenance.indexer.logs import LogQueries
from provenance.services import batching
from provenance.services.batching import BatchIntake, RuleViolation
from provenance.store import keys as K
from provenance.store.index import IndexStore
from provenance.types import EntityRole, Grade, Kind, Status
from tests.support.federation import h, request, reverts
from tests.support.hardhat import free_port
from tests.support.rpc import deploy, funded


@pytest.fixture
def rpc(hardhat_url: str) -> Iterator[RpcChain]:
    chain = RpcChain(hardhat_url, receipt_timeout=10)
    snapshot = chain.request("evm_snapshot")
    yield chain
    chain.request("evm_setAutomine", [True])
    chain.request("evm_revert", [snapshot])
    chain.close()


def test_registration_and_rules_over_json_rpc(rpc: RpcChain) -> None:
    assert rpc.chain_id == 31337
    svc, key = deploy(rpc)
    merchant = funded(rpc)
    owner = svc.register_entity(key, h("m"), merchant, 0)
    with reverts("NoMandate", owner=owner, exchangeId=1):
        svc.register(key, request(owner))
    svc.set_mandate(merchant, owner, "SDE", True)
    parent, res = svc.register(key, request(owner, grade=Grade.IMPORTANT))
    assert res.gas_used < 170_000
    with reverts("GradeBelowParent"):
        svc.register(key, request(owner, kind=Kind.PRODUCT, parents=(parent,)))
    signed = svc.sign_registration(merchant, "SDE", request(owner, grade=Grade.IMPORTANT, parents=(parent,)))
    child, _ = svc.register_for(key, signed)
    with reverts("InvalidNonce"):
        svc.register_for(key, signed)
    svc.set_status(key, parent, Status.REVOKED)
    assert svc.record(parent).status == Status.REVOKED and svc.record(child).parents == (parent,)
    logs = rpc.get_logs([svc.contracts.deployment.registry], 0, rpc.block_number())
    names = [e.name for e in svc.contracts.decode_logs(logs)]
    assert names.count("DataRegistered") == 2 and names.count("StatusChanged") == 1


def test_attach_checks_chain_and_code(rpc: RpcChain) -> None:
    svc, _ = deploy(rpc)
    dep = svc.contracts.deployment
    Contracts.attach(rpc, dep)
    from dataclasses import replace

    with pytest.raises(ChainMismatch, match="chain id"):
        Contracts.attach(rpc, replace(dep, chain_id=1))
    with pytest.raises(ChainMismatch, match="no contract"):
        Contracts.attach(rpc, replace(dep, registry=b"\x42" * 20))
    with pytest.raises(ChainMismatch, match="not this release's Registry"):
        Contracts.attach(rpc, replace(dep, registry=dep.federation))


def test_concurrent_submissions_from_one_key_never_collide(rpc: RpcChain) -> None:
    svc, key = deploy(rpc)
    merchant = funded(rpc)
    owner = svc.register_entity(key, h("m2"), merchant, 0)
    svc.set_mandate(merchant, owner, "SDE", True)
    reqs = [request(owner) for _ in range(40)]
    errors: list[BaseException] = []
    ids: list[bytes] = []
    lock = threading.Lock()

    def worker(chunk: list) -> None:  # type: ignore[type-arg]
        try:
            for r in chunk:
                rid, _ = svc.register(key, r)
                with lock:
                    ids.append(rid)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(reqs[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(set(ids)) == 40 and svc.counts()["registrations"] == 40


def test_receipt_timeout(rpc: RpcChain) -> None:
    key = funded(rpc)
    rpc.request("evm_setAutomine", [False])
    with pytest.raises(TransactionTimeout, match="no receipt"):
        RpcChain(rpc.url, receipt_timeout=0.5).transact(key, b"\x11" * 20, b"", gas=21000)


def test_unreachable_endpoint() -> None:
    with pytest.raises(ChainUnavailable, match="failed on eth_chainId"):
        RpcChain(f"http://127.0.0.1:{free_port()}", retries=1)


# A batch whose transaction was sent but never mined (automine off). While the endpoint holds the transaction, its
# records count as sealed: a copy is refused at intake, as the transaction may still be mined. Once the endpoint
# has dropped it (hardhat_dropTransaction, as a pool evicts a transaction or a restart loses it), nothing will mine
# it: the records may be sent again, the retry takes the same leaf, and the sender's nonces have no gap.


@pytest.fixture
def batching_on(rpc: RpcChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                ) -> Iterator[tuple[RegistryService, LocalAccount, int, IndexStore]]:
    """A federation with one merchant under mandate, its index synced, and receipts awaited for 0.5 s."""
    svc, key = deploy(rpc)
    merchant = funded(rpc)
    owner = svc.register_entity(key, h("m"), merchant, EntityRole.SUPPLIER)
    svc.set_mandate(merchant, owner, "SDE", True)
    store = IndexStore(tmp_path / "index")
    Follower(chain=rpc, contracts=svc.contracts, store=store).sync()
    monkeypatch.setattr(rpc, "_receipt_timeout", 0.5)
    yield svc, key, owner, store
    store.close()


def _intake(svc: RegistryService, key: LocalAccount, store: IndexStore) -> BatchIntake:
    return BatchIntake(contracts=svc.contracts, store=store, signer=key, exchange=1,
                       follower=Follower(chain=svc.contracts.chain, contracts=svc.contracts, store=store))


def test_a_dropped_batch_transaction_frees_its_records_and_its_leaf(
        rpc: RpcChain, batching_on: tuple[RegistryService, LocalAccount, int, IndexStore],
        monkeypatch: pytest.MonkeyPatch) -> None:
    svc, key, owner, store = batching_on
    first = LogQueries(store).size(1)
    r = request(owner)
    rpc.request("evm_setAutomine", [False])
    sent = _intake(svc, key, store)
    lost = sent.submit(r)
    sent.seal()
    with pytest.raises(TransactionTimeout) as timed_out:
        lost.result()
    tx_hash = timed_out.value.tx_hash
    assert tx_hash is not None and rpc.transaction_state(tx_hash) == (True, None)

    # Still in the endpoint's pool: it may be mined, so a copy is refused, and the chain is asked again only after
    # batching.ASK_CHAIN_EVERY seconds.
    with pytest.raises(RuleViolation, match="AlreadyRegistered") as refused:
        _intake(svc, key, store).submit(r)
    assert refused.value.note == (f"sent in a batch whose transaction may still be mined (leaf {first} of "
                                  "exchange 1's log)")
    rpc.request("hardhat_dropTransaction", ["0x" + tx_hash.hex()])
    with pytest.raises(RuleViolation, match="AlreadyRegistered"):
        _intake(svc, key, store).submit(r)  # asked a moment ago: not asked again yet

    monkeypatch.setattr(batching, "ASK_CHAIN_EVERY", 0.0)
    rpc.request("evm_setAutomine", [True])
    again = _intake(svc, key, store)
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


def test_a_mined_batch_whose_receipt_was_missed_gets_its_block(
        rpc: RpcChain, batching_on: tuple[RegistryService, LocalAccount, int, IndexStore]) -> None:
    """The chain's answer that the transaction is mined gives the batch its block, so a reorg that takes the block
    away is noticed as for any sealed batch; the copy stays refused meanwhile."""
    svc, key, owner, store = batching_on
    intake = _intake(svc, key, store)
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
