"""The sections of scripts/bench.py that serve nodes in their own processes: the HTTP API beside a bare
FastAPI endpoint (api) and three exchange nodes on a Hardhat chain (federation)."""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_chain import Bench, _log


def bench_federation(samples: int, tx_n: int, rounds: int) -> dict[str, Any]:
    """Three exchange nodes on a Hardhat chain (provenance devnet): how long from a registration at A until B
    verifies A's certificate for it, and until B's index holds it, with B polling its chain every 0.2 s and then
    with B subscribed to new heads ([chain] ws); and direct registrations per second through JSON-RPC beside
    transfers."""
    import shutil
    import signal
    from dataclasses import replace

    import httpx

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support.devnet import DevnetClients

    from provenance.chain.rpc import RpcChain
    from provenance.config import NodeConfig
    from provenance.dev.devnet import Devnet, free_port

    root = Path(tempfile.mkdtemp())
    net = Devnet(root, chain_port=free_port(), scrypt_n=1024)
    net.members = [type(m)(m.code, m.name, m.data_dir, free_port()) for m in net.members]
    net.up(say=_log)
    chain = RpcChain(net.chain_url)
    fed = DevnetClients(net)
    try:
        a = fed["SDE"]
        owner = fed.merchant("SDE")  # onboarded with its own consent and mandate, as the tests' merchants are
        q = lambda xs, k: round(statistics.quantiles(xs, n=100, method="inclusive")[k - 1] * 1000, 1)  # noqa: E731
        n = 0

        def b_node(ws: str) -> httpx.Client:
            """B restarted with [chain] ws set (subscribed) or empty (polling)."""
            net.kill_node("ZJDE", signal.SIGTERM)
            cfg = NodeConfig.load(net.member("ZJDE").data_dir)
            replace(cfg, chain=replace(cfg.chain, ws=ws)).save()
            net.start_node("ZJDE")
            return fed.client("ZJDE")

        def sample(b: httpx.Client) -> dict[str, Any]:
            nonlocal n
            total, indexed_at_b, after_201 = [], [], []
            for _ in range(samples):
                n += 1
                t0 = time.perf_counter()
                r = a.post("/registrations", json={"kind": "resource", "owner": owner,
                                                   "contentHash": "0x" + f"{0xBE0000 + n:064x}"})
                r.raise_for_status()
                rid = r.json()["id"]
                cert = a.post("/certificates", json={"record": rid})
                cert.raise_for_status()
                seen = None
                while True:
                    if seen is None and b.get(f"/registrations/{rid}").status_code == 200:
                        seen = time.perf_counter() - t0
                    rep = b.post("/certificates/verify", json=cert.json())
                    if rep.status_code == 200 and rep.json()["valid"]:
                        break
                    if time.perf_counter() - t0 > 60:
                        raise RuntimeError(f"not verifiable at B after 60 s: {rep.text[:500]}")
                    time.sleep(0.02)
                total.append(time.perf_counter() - t0)
                indexed_at_b.append(seen if seen is not None else total[-1])
                # B's follower alone (a verification syncs B's index by itself): A's 201 until B's index has it.
                n += 1
                r = a.post("/registrations", json={"kind": "resource", "owner": owner,
                                                   "contentHash": "0x" + f"{0xBE0000 + n:064x}"})
                r.raise_for_status()
                t1 = time.perf_counter()
                while b.get(f"/registrations/{r.json()['id']}").status_code != 200:
                    if time.perf_counter() - t1 > 60:
                        raise RuntimeError("not indexed at B after 60 s")
                    time.sleep(0.005)
                after_201.append(time.perf_counter() - t1)
            return {"samples": samples, "p50_ms": q(total, 50), "p95_ms": q(total, 95),
                    "indexed_at_B_p50_ms": q(indexed_at_b, 50), "indexed_at_B_p95_ms": q(indexed_at_b, 95),
                    "A_201_to_indexed_at_B_p50_ms": q(after_201, 50),
                    "A_201_to_indexed_at_B_p95_ms": q(after_201, 95)}

        b = fed["ZJDE"]
        polling = sample(b)
        polling["what"] = ("A's POST /registrations, A's POST /certificates (anchors A's log), until B's online "
                           "verification of that certificate passes (B polls its own index every 0.2 s)")
        out: dict[str, Any] = {"registration_to_verifiable_at_B": polling}
        _log("federation: B subscribed to new heads ...")
        b = b_node(f"ws://127.0.0.1:{net.chain_port}")
        subscribed = sample(b)
        subscribed["what"] = "the same, B subscribed to new heads over the chain's WebSocket ([chain] ws)"
        out["subscribe"] = subscribed
        b.close()
        _log("federation: registrations beside transfers through JSON-RPC ...")
        out["json_rpc_throughput"] = Bench(None, False, chain=chain).throughput(tx_n, rounds)
        return out
    finally:
        fed.close()
        chain.close()
        net.down(say=lambda _m: None)
        shutil.rmtree(root, ignore_errors=True)


def bench_api(hammer_seconds: float, rounds: int, load_seconds: float) -> dict[str, Any]:
    import shutil
    import subprocess
    import urllib.request

    from provenance.api.auth import TokenStore
    from provenance.dev.demo import run_demo
    from provenance.dev.loadrun import hammer, write_and_tail
    from provenance.store.keystore import PassphraseSource

    def free_port() -> int:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    def wait(url: str, proc: subprocess.Popen[bytes]) -> None:
        for _ in range(600):
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{url} did not come up")

    tmp = Path(tempfile.mkdtemp())
    data = tmp / "data"
    os.environ["PROVENANCE_PASSPHRASE"] = "bench"
    summary = run_demo(data, PassphraseSource(), scrypt_n=1024, say=lambda _m: None)
    store = TokenStore(data)
    member, writer = store.create("member", "bench-reader"), store.create("registrar", "bench-writer")
    record = summary["records"]["logistics-waybills"]  # important grade: read in full with the member token
    procs = []
    try:
        node_port, bare_port = free_port(), free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        procs.append(subprocess.Popen([sys.executable, "-m", "provenance.cli", "--data-dir", str(data), "serve",
                                       "--port", str(node_port), "--rate", "0"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        procs.append(subprocess.Popen([sys.executable, str(Path(__file__).with_name("bare_api.py")),
                                       str(bare_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        node_url = f"http://127.0.0.1:{node_port}"
        wait(node_url + "/health", procs[0])
        wait(f"http://127.0.0.1:{bare_port}/record/x", procs[1])
        auth = {"Authorization": f"Bearer {member}"}
        get_node = f"{node_url}/api/v1/registrations/{record}"
        get_bare = f"http://127.0.0.1:{bare_port}/record/{record}"
        hammer(get_node, headers=auth, seconds=1)  # warm both up
        hammer(get_bare, headers=auth, seconds=1)
        node_runs, bare_runs = [], []
        for _ in range(rounds):
            bare_runs.append(hammer(get_bare, headers=auth, seconds=hammer_seconds))
            node_runs.append(hammer(get_node, headers=auth, seconds=hammer_seconds))
        node_rps = statistics.median(r["rps"] for r in node_runs)
        bare_rps = statistics.median(r["rps"] for r in bare_runs)
        out: dict[str, Any] = {
            "get_registration": {"connections": 8, "seconds_per_round": hammer_seconds, "rounds": rounds,
                                 "node_rps": node_rps, "bare_fastapi_rps": bare_rps,
                                 "ratio": round(node_rps / bare_rps, 3), "target_ratio": 0.7,
                                 "node_p99_ms": statistics.median(r["p99_ms"] for r in node_runs),
                                 "bare_p99_ms": statistics.median(r["p99_ms"] for r in bare_runs),
                                 "target_p99_ms": 20, "errors": sum(r["errors"] for r in node_runs),
                                 "runs": {"node": node_runs, "bare": bare_runs}}}
        procs.pop().terminate()
        if load_seconds > 0:
            _log(f"api load run ({load_seconds:g} s) ...")
            with urllib.request.urlopen(node_url + "/health") as r:
                start = json.loads(r.read())["index"]["records"]
            res = write_and_tail(node_url + "/api/v1", writer_token=writer, reader_token=member,
                                 owner=summary["entities"]["m-lingang"], seconds=load_seconds,
                                 start_after=start - 1)
            lost = len(set(res.written) ^ {x for seen in res.seen for x in seen})
            out["load_run"] = {**res.summary(), "readers": len(res.seen), "reader_mismatches": lost,
                               "target_p95_write_ms": 1000, "target_p95_read_ms": 50}
        return out
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
