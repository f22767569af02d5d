"""The embedded chain: persistence across restarts and a killed process, atomic blocks, locking, logs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from eth_account import Account

from provenance.chain.base import Reverted
from provenance.chain.contracts import Contracts
from provenance.chain.embedded import EmbeddedChain
from provenance.chain.registry import RegistryService
from provenance.errors import ChainMismatch, DataDirLocked
from provenance.types import RecordId, Status
from tests.support.federation import Fed, addr, make_fed, request

ROOT = Path(__file__).resolve().parents[2]


def test_state_survives_a_clean_restart(tmp_path: Path) -> None:
    fed = make_fed(tmp_path / "chain", sync_writes=True)
    owner, _ = fed.entity()
    rid = fed.register("SDE", request(owner))
    fed.svc.set_status(fed.keys["SDE"], rid, Status.SUSPENDED)
    head, deployment = fed.chain.block_number(), fed.contracts.deployment
    head_hash = fed.chain.get_block(head).hash
    fed.chain.close()

    chain = EmbeddedChain(tmp_path / "chain")
    try:
        assert chain.block_number() == head and chain.get_block(head).hash == head_hash
        svc = RegistryService(Contracts.attach(chain, deployment))
        assert svc.record(rid).status == Status.SUSPENDED
        # and it goes on from there
        svc.set_status(fed.keys["SDE"], rid, Status.ACTIVE)
        assert chain.block_number() == head + 1
        assert chain.get_block(head + 1).parent_hash == head_hash
    finally:
        chain.close()


def test_reopen_with_another_chain_id_is_refused(tmp_path: Path) -> None:
    EmbeddedChain(tmp_path / "c", chain_id=77).close()
    with pytest.raises(ChainMismatch, match="chain id 77"):
        EmbeddedChain(tmp_path / "c", chain_id=78)
    chain = EmbeddedChain(tmp_path / "c")
    assert chain.chain_id == 77
    chain.close()


def test_a_second_opener_is_refused(tmp_path: Path) -> None:
    chain = EmbeddedChain(tmp_path / "c")
    try:
        with pytest.raises(DataDirLocked, match="in use"):
            EmbeddedChain(tmp_path / "c")
    finally:
        chain.close()


def test_reverted_transaction_leaves_no_block(fed: Fed) -> None:
    head = fed.chain.block_number()
    with pytest.raises(Reverted):
        fed.chain.transact(fed.keys["SDE"], fed.contracts.deployment.registry, b"\xde\xad\xbe\xef")
    assert fed.chain.block_number() == head
    # the sender's nonce was not consumed either
    fed.chain.transact(fed.keys["SDE"], b"\x11" * 20, b"")
    assert fed.chain.get_nonce(addr(fed.keys["SDE"])) >= 1


def test_a_transaction_is_known_while_its_block_is_canonical(fed: Fed) -> None:
    receipt = fed.chain.transact(fed.keys["SDE"], b"\x11" * 20, b"")
    assert fed.chain.transaction_state(receipt.tx_hash) == (True, receipt.block_number)
    assert fed.chain.transaction_state(b"\x22" * 32) == (False, None)
    fed.chain.rewind(receipt.block_number - 1)
    fed.chain.mine(2)  # a branch without it: the embedded chain keeps no pool, so nothing will mine it again
    assert fed.chain.transaction_state(receipt.tx_hash) == (False, None)


def test_logs_by_range(fed: Fed) -> None:
    owner, _ = fed.entity()
    start = fed.chain.block_number() + 1
    ids = [fed.register("SDE", request(owner)) for _ in range(3)]
    logs = fed.chain.get_logs([fed.contracts.deployment.registry], start, fed.chain.block_number())
    assert [fed.contracts.decode_logs([log])[0].args["id"] for log in logs] == ids
    assert [log.block_number for log in logs] == list(range(start, start + 3))
    assert fed.chain.get_logs([fed.contracts.deployment.registry], start + 1, start + 1)[0].block_number == start + 1
    assert fed.chain.get_logs([b"\x01" * 20], 0, fed.chain.block_number()) == []


def test_block_timestamps_follow_the_clock(fed: Fed) -> None:
    """Many blocks a second must not push the chain's clock ahead of real time (deadlines depend on it)."""
    before = int(time.time())
    for _ in range(30):
        fed.chain.transact(fed.keys["SDE"], b"\x11" * 20, b"")
    head = fed.chain.block_number()
    block = fed.chain.get_block(head)
    assert before <= block.timestamp <= int(time.time())
    stamps = [fed.chain.get_block(n).timestamp for n in range(1, head + 1)]
    assert stamps == sorted(stamps)  # never back in time


def _spawn_writer(path: Path, key: str, count: int) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "tests.support.writer", str(path), key, str(count)],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)


@pytest.mark.slow
def test_registrations_survive_sigkill(tmp_path: Path) -> None:
    key = Account.create().key.hex().removeprefix("0x")
    confirmed: list[tuple[str, int]] = []
    for round_, wait_for in enumerate((5, 12, 20)):
        proc = _spawn_writer(tmp_path, key, 1000)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        for _ in range(wait_for):
            rid, block = proc.stdout.readline().split()
            confirmed.append((rid, int(block)))
        proc.send_signal(signal.SIGKILL)  # mid-stream: it keeps writing until the signal lands
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, round_

    chain = EmbeddedChain(tmp_path / "chain")
    try:
        import json

        from provenance.chain.contracts import Deployment

        dep = Deployment.from_json(json.loads((tmp_path / "deployment.json").read_text()))
        svc = RegistryService(Contracts.attach(chain, dep))
        for rid, block in confirmed:
            rec = svc.record(RecordId(bytes.fromhex(rid)))
            assert rec.block_number == block and rec.status == Status.ACTIVE
        # the chain is whole: every block links to its parent, and the counter matches what is stored
        head = chain.block_number()
        for n in range(1, head + 1):
            assert chain.get_block(n).parent_hash == chain.get_block(n - 1).hash
        events = [e for e in Contracts.attach(chain, dep).decode_logs(chain.get_logs([dep.registry], 0, head))
                  if e.name == "DataRegistered"]
        assert svc.counts()["registrations"] == len(events) >= len(confirmed)
    finally:
        chain.close()
