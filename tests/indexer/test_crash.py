"""SIGKILL the follower at random points during a catch-up of 10,000 events, 20 times; after every kill the
index equals a clean rebuild (to the same checkpoint) byte for byte, and the next run carries on from it."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from provenance.chain.contracts import Contracts, Deployment
from provenance.chain.embedded import EmbeddedChain
from provenance.indexer.follower import Follower
from provenance.store.index import IndexStore
from tests.support.federation import make_fed, request

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 10_000
MAX_RANGE = 20


@pytest.fixture(scope="module")
def big_chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("crash")
    fed = make_fed(base / "chain")
    owner, _ = fed.entity()
    root = fed.register("SDE", request(owner))
    n = 1
    while n < EVENTS:
        fed.svc.register_batch(fed.keys["SDE"], [request(owner, parents=(root,)) for _ in range(50)])
        n += 50
    dep = base / "deployment.json"
    dep.write_text(json.dumps(fed.contracts.deployment.to_json()))
    fed.chain.close()
    return base / "chain", dep


def _head(chain_dir: Path) -> int:
    chain = EmbeddedChain(chain_dir)
    try:
        return chain.block_number()
    finally:
        chain.close()


def _rebuild_to(chain_dir: Path, dep_file: Path, until: int, path: Path) -> list[tuple[bytes, bytes]]:
    chain = EmbeddedChain(chain_dir)
    try:
        contracts = Contracts.attach(chain, Deployment.from_json(json.loads(dep_file.read_text())))
        store = IndexStore(path)
        Follower(chain=chain, contracts=contracts, store=store, max_range=MAX_RANGE).sync(until=until)
        out = store.dump()
        store.close()
        return out
    finally:
        chain.close()


@pytest.mark.slow
def test_sigkill_during_catch_up(big_chain: tuple[Path, Path], tmp_path: Path) -> None:
    chain_dir, dep_file = big_chain
    index_dir = tmp_path / "index"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    rng = random.Random(20261123)
    kills = completed = mid_catch_up = 0
    head = _head(chain_dir)
    while kills < 20:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.catchup", str(chain_dir), str(index_dir), str(dep_file),
             str(MAX_RANGE)], stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "syncing"
        time.sleep(rng.uniform(0.0, 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        rest = proc.stdout.read()
        store = IndexStore(index_dir)
        cp = store.checkpoint()
        dump = store.dump()
        store.close()
        if cp is None:  # killed before its first block: at most the pinning metadata may be there
            assert all(k.startswith(b"m") for k, _ in dump)
            kills += 1
            continue
        if rest.startswith("done"):
            assert int(rest.split()[1]) == head
        assert dump == _rebuild_to(chain_dir, dep_file, cp[0], tmp_path / f"clean-{kills}-{completed}"), (
            f"index differs from a clean rebuild at checkpoint {cp[0]}")
        if cp[0] >= head:
            completed += 1  # the catch-up finished before the kill: start a new one
            _wipe(index_dir)
        else:
            kills += 1
            mid_catch_up += cp[0] > 2  # past the first blocks: killed in the middle of the event stream
    assert kills == 20 and mid_catch_up >= 10, (kills, mid_catch_up, completed)


def _wipe(path: Path) -> None:
    store = IndexStore(path)
    store.wipe()
    store.close()
