"""The index sections of scripts/bench.py: catch-up from a JSON-RPC node (catchup), the synthetic index's
lineage queries (index) and sustained batch intake into anchored and indexed state (batch)."""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench_chain import Bench, _h, _log
from eth_account import Account

from provenance.chain.contracts import Contracts
from provenance.chain.registry import RegistryService
from provenance.core.ids import parse_address
from provenance.types import EntityRole, Grade, Kind, RegistrationRequest, Rights, Source


@contextmanager
def anvil_node(*, timeout: float = 60.0) -> Iterator[str]:
    """anvil (the @foundry-rs/anvil npm package's binary, the development federation's chain) on a free
    127.0.0.1 port, its state in memory."""
    from tests.support.hardhat import ROOT, free_port

    found = sorted((ROOT / "node").glob("node_modules/@foundry-rs/anvil-*/bin/anvil"))
    if not found:
        raise SystemExit("anvil is not installed under node/ (run scripts/federation or npm ci there)")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([str(found[0]), "--host", "127.0.0.1", "--port", str(port), "--hardfork", "cancun",
                             "--silent"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"anvil did not start on {url}: {err[-2000:]}") from None
                time.sleep(0.1)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def bench_catchup(events: int, rounds: int = 5) -> dict[str, Any]:
    """Catch-up from Hardhat (the tests' chain), and the same from anvil (the development federation's chain)
    where it is installed, under ``on_anvil``: the endpoint bounds both figures, and Hardhat serves only about
    10,000 logs/s on this machine, less than the node fetches and decodes."""
    result = catchup_from(events, rounds, "hardhat")
    if sorted((Path(__file__).resolve().parents[1] / "node").glob("node_modules/@foundry-rs/anvil-*/bin/anvil")):
        result["on_anvil"] = catchup_from(events, rounds, "anvil")
    return result


def catchup_from(events: int, rounds: int, chain_kind: str) -> dict[str, Any]:
    """One catch-up benchmark against a fresh node of ``chain_kind`` ("hardhat" or "anvil")."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support.hardhat import hardhat_node

    from provenance.chain.rpc import RpcChain
    from provenance.indexer.events import EventDecoder
    from provenance.indexer.follower import Follower
    from provenance.store.index import IndexStore

    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.005)  # as `provenance index rebuild` runs (provenance.tuning: serving nobody)
    node = anvil_node() if chain_kind == "anvil" else hardhat_node()
    with node as url, tempfile.TemporaryDirectory() as tmp:
        chain = RpcChain(url, receipt_timeout=120)
        key, merchant = Account.create(), Account.create()
        for a in (key, merchant):
            chain.request("hardhat_setBalance", [a.address, hex(10**24)])
        contracts = Contracts.deploy(chain, key, code=b"SDE".ljust(8, b"\0"), name="Shanghai",
                                     first_key=parse_address(key.address))
        svc = RegistryService(contracts)
        owner = svc.register_entity(key, _h("m"), merchant, EntityRole.SUPPLIER)
        svc.set_mandate(merchant, owner, 1, True)
        root = svc.register(key, RegistrationRequest(Kind.RESOURCE, Grade.GENERAL, Source.ENTERPRISE,
                                                     Rights.HOLDING, owner, _h("root"), _h("m")))[0]
        _log(f"writing {events} registrations to {chain_kind} ...")
        n = 0
        while n < events:
            batch = [RegistrationRequest(Kind.PRODUCT, Grade.GENERAL, Source.ENTERPRISE, Rights.HOLDING, owner,
                                         _h(f"c{n + i}"), _h(f"m{n + i}"), parents=(root,)) for i in range(100)]
            svc.register_batch(key, batch)
            n += 100
        head = chain.block_number()
        dep = contracts.deployment
        decoder = EventDecoder(contracts.abis, {dep.federation: "Federation", dep.registry: "Registry"})
        raw_rates, idx_rates, ratios = [], [], []
        raw_cpu: list[float] = []
        idx_cpu: list[float] = []
        count = 0

        def raw_pass() -> float:
            nonlocal count
            t0, c0 = time.perf_counter(), time.process_time()
            count = 0
            for frm in range(dep.block, head + 1, 2000):
                for log in chain.get_logs([dep.federation, dep.registry], frm, min(frm + 1999, head)):
                    count += decoder.decode(log) is not None
            raw_cpu.append(count / (time.process_time() - c0))
            return count / (time.perf_counter() - t0)

        def index_pass(r: int) -> float:
            store = IndexStore(Path(tmp) / f"ix{r}")
            t0, c0 = time.perf_counter(), time.process_time()
            st = Follower(chain=chain, contracts=contracts, store=store).sync()
            rate = st.events / (time.perf_counter() - t0)
            idx_cpu.append(st.events / (time.process_time() - c0))
            store.close()
            return rate

        raw_pass()  # warm the endpoint up once
        raw_cpu.clear()
        for r in range(rounds):
            # Alternate the order so that neither side always runs on a warmer endpoint.
            if r % 2:
                idx_rates.append(index_pass(r))
                raw_rates.append(raw_pass())
            else:
                raw_rates.append(raw_pass())
                idx_rates.append(index_pass(r))
            ratios.append(idx_rates[-1] / raw_rates[-1])
            _log(f"round {r + 1}: fetch+decode {raw_rates[-1]:.0f} events/s, indexing {idx_rates[-1]:.0f} events/s")
        chain.close()
        sys.setswitchinterval(interval)
        raw, idx, ratio = statistics.median(raw_rates), statistics.median(idx_rates), statistics.median(ratios)
        return {"chain": chain_kind, "events": count, "blocks": head, "rounds": rounds,
                "fetch_decode_events_per_s": round(raw), "index_events_per_s": round(idx),
                "ratio_median_of_rounds": round(ratio, 3),
                # this process's CPU time alone (both threads), not the endpoint's nor the other loads' on the
                # machine: the node's own cost per event
                "cpu_fetch_decode_events_per_s": round(statistics.median(raw_cpu)),
                "cpu_index_events_per_s": round(statistics.median(idx_cpu)),
                "ratios": [round(x, 3) for x in ratios],
                "targets": {"ratio": 0.7, "events_per_s": 20_000},
                "met": ratio >= 0.7 and idx >= 20_000}


def bench_index(records: int, seed: int = 7) -> dict[str, Any]:
    import random

    from provenance.dev.synthetic import synthetic_id, write_graph
    from provenance.indexer.queries import IndexQueries
    from provenance.store.index import IndexStore

    rng = random.Random(seed)
    hub = 0  # a resource that 10,000 records derive from, directly or through others
    hub_children = 10_000

    resources: list[int] = []
    pipelines: list[int] = []  # the newest record of each of 200 long-running processing pipelines

    def parents() -> Any:
        for i in range(records):
            if i == 0:
                yield []
            elif i <= hub_children // 2:
                yield [hub]  # 5,000 direct children of the hub ...
            elif i <= hub_children:
                yield [rng.randint(1, hub_children // 2)]  # ... and 5,000 grandchildren
            elif rng.random() < 0.3 or not resources:
                resources.append(i)  # 30 % resources
                yield []
            elif rng.random() < 0.7:
                # products and assets from one to three recent sources
                yield sorted({resources[-rng.randint(1, min(len(resources), 2000))] for _ in range(rng.randint(1, 3))})
            else:
                # the next version of a pipeline's output: its previous output plus a fresh source
                if len(pipelines) < 200:
                    pipelines.append(i)
                    yield [resources[-1]]
                else:
                    k = rng.randrange(len(pipelines))
                    prev, pipelines[k] = pipelines[k], i
                    yield sorted({prev, resources[-1]})

    with tempfile.TemporaryDirectory() as tmp:
        store = IndexStore(Path(tmp) / "ix")
        _log(f"writing {records} records through the index write path ...")
        t0 = time.perf_counter()
        write_graph(store, parents(), per_block=1000)
        write_s = time.perf_counter() - t0
        store._db.compact_range()  # noqa: SLF001 - measure the settled size
        size = sum(f.stat().st_size for f in (Path(tmp) / "ix").iterdir())
        q = IndexQueries(store)
        # records whose ancestry reaches depth 20
        candidates = rng.sample(range(hub_children + 1, records), min(20_000, records - hub_children - 1))
        deep_ones: list[int] = []
        for i in candidates:
            if len(deep_ones) >= 1000:
                break
            w = q.ancestors(synthetic_id(i), max_depth=20)
            if any(d == 20 for _, d in w.records):
                deep_ones.append(i)
        lat_anc = []
        for i in deep_ones:
            t0 = time.perf_counter()
            q.ancestors(synthetic_id(i), max_depth=20)
            lat_anc.append((time.perf_counter() - t0) * 1000)
        lat_desc = []
        for _ in range(50):
            t0 = time.perf_counter()
            res = q.descendants(synthetic_id(hub), max_depth=64, max_nodes=20_000)
            lat_desc.append((time.perf_counter() - t0) * 1000)
        store.close()

    def pct(xs: list[float], p: float) -> float:
        xs = sorted(xs)
        return round(xs[min(len(xs) - 1, int(p * len(xs)))], 3)

    return {"records": records, "write_records_per_s": round(records / write_s),
            "bytes_per_record": round(size / records, 1), "target_bytes_per_record": 400,
            "ancestors_depth20": {"queries": len(lat_anc), "p50_ms": pct(lat_anc, 0.5), "p99_ms": pct(lat_anc, 0.99),
                                  "target_p99_ms": 10},
            "descendants_of_hub": {"descendants": len(res.records), "p50_ms": pct(lat_desc, 0.5),
                                   "p99_ms": pct(lat_desc, 0.99)}}


def bench_batch(records: int, sync_writes: bool, batch: int = 1000) -> dict[str, Any]:
    from provenance.indexer.follower import Follower
    from provenance.services.batching import BatchIntake
    from provenance.store.index import IndexStore

    with tempfile.TemporaryDirectory() as tmp:
        b = Bench(Path(tmp) / "chain", sync_writes=sync_writes)
        store = IndexStore(Path(tmp) / "index")
        follower = Follower(chain=b.chain, contracts=b.contracts, store=store)
        parent = b.svc.register(b.key, b.req())[0]
        direct = b.svc.register(b.key, b.req(parents=(parent,)))[1].gas_used
        direct_none = b.svc.register(b.key, b.req())[1].gas_used
        follower.sync()
        intake = BatchIntake(contracts=b.contracts, store=store, follower=follower, signer=b.key, exchange=1,
                             max_records=batch, max_delay_ms=50, max_bytes=batch * 200)
        reqs = [b.req(parents=(parent,)) for _ in range(records)]
        half = records // 2
        # 1. One loop doing it all: queue a batch's worth, seal it, index it (no threads contending for the GIL).
        t0 = time.perf_counter()
        futures = []
        for i in range(0, half, batch):
            futures += [intake.submit(q) for q in reqs[i:i + batch]]
            intake.seal()
            follower.sync()
        elapsed = time.perf_counter() - t0
        # 2. As a node runs it: submissions on one thread, the background sealer, the follower on another.
        want = int.from_bytes(store.get_meta("records") or b"", "big") + (records - half)
        t0 = time.perf_counter()
        intake.start()
        futures += [intake.submit(q) for q in reqs[half:]]
        while int.from_bytes(store.get_meta("records") or b"", "big") < want:
            follower.sync()
            time.sleep(0.005)
        threaded = time.perf_counter() - t0
        intake.close()
        per_tx: dict[bytes, list[int]] = {}
        for f in futures[:half]:
            per_tx.setdefault(f.result().tx_hash, [f.result().batch_gas, 0])[1] += 1
        per_record = sum(g for g, _ in per_tx.values()) / sum(n for _, n in per_tx.values())
        b.close()
        store.close()
    rate = half / elapsed
    return {"records": records, "batch_size": batch, "seconds": round(elapsed, 2),
            "registrations_per_s": round(rate, 1),
            "threaded_registrations_per_s": round((records - half) / threaded, 1),
            "target_per_s": 10_000, "met": rate >= 10_000,
            "gas_per_batched_record": round(per_record, 1), "gas_direct_one_parent": direct,
            "gas_direct_no_parent": direct_none, "gas_ratio": round(per_record / direct, 4),
            "target_gas_ratio": 0.05, "gas_met": per_record / direct < 0.05}
