"""The JSON-RPC backend against a real Hardhat node: the same contracts and rules, reverts decoded from the
endpoint's answers, nonces that never collide under concurrent submissions, and timeouts."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from provenance.chain.contracts import Contracts
from provenance.chain.rpc import RpcChain
from provenance.errors import ChainMismatch, ChainUnavailable, TransactionTimeout
from provenance.types import Grade, Kind, Status
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
