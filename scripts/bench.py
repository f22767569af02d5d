"""Benchmarks (JSON on stdout; progress on stderr). Run through scripts/bench.

gas         gas of every state-changing function, on the embedded chain (deterministic), beside the targets
            derived from the Ethereum Attestation Service's figures for an equivalent record.
throughput  direct registrations per second (one per transaction, one parent) beside raw value transfers per
            second, measured in the same run on the same embedded chain; plus registerBatch for reference.
catchup     index catch-up from a JSON-RPC node (Hardhat, started here) in events per second, beside fetching
            and decoding the same logs without indexing, in the same run.
batch       sustained batch intake on the embedded chain into anchored and indexed state: --batch-records
            registrations queued, sealed by the background sealer (1,000 a batch) and indexed by the
            follower, in registrations per second; gas per batched record beside a direct registration.
verify      offline certificate verification per second on one core (distinct certificates of records in one
            batch, with a lineage of one ancestor, as a partner receives them: JSON text parsed before timing),
            beside raw secp256k1 signature recovery (libsecp256k1 through coincurve: digest and signature to
            public key and address) in the same run; and the same verification of the issuer's own objects.
api         the HTTP API served by uvicorn in its own process: GET of a registration in requests per second
            beside a bare FastAPI endpoint (same server options, same client, alternating rounds), p99 latency
            under that load; then the load run (50 registrations/s and 10 readers tailing, --load-seconds).
federation  three exchange nodes on a Hardhat chain (provenance devnet): time from a registration at A until
            B verifies A's certificate for it (p50, p95); direct registrations per second through JSON-RPC beside
            raw transfers per second on the same chain, in the same run.
index       a synthetic index of --records records (default 1,000,000) with realistic lineage, written through
            the index's own write path: ancestors to depth 20 and descendants of a record with 10,000
            descendants (p50/p99 latency), and index bytes per record after compaction.
scale       the seed's scale (provenance.dev.scale, built through the node's write paths): three exchanges,
            --scale-entities entities (90% organisations with published profiles), resources (half batched),
            products (1 to 5 parents, depth up to 6) and assets, each with a metadata document; onboarding and
            registration times, gas per entity, bytes of chain, index and catalogue, search p50/p99 over
            --scale-queries mixed Chinese/English queries with facets, the explorer in headless Chromium, a
            partner's catch-up from genesis, the served node's peak RSS. --scale-keep DIR keeps the data.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench_chain import Bench, _log
from bench_gas import GasBench
from bench_index import bench_batch, bench_catchup, bench_index
from bench_nodes import bench_api, bench_federation
from bench_scale import bench_scale
from bench_verify import bench_verify


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="*",
                    default=["gas", "throughput", "catchup", "index", "batch", "verify", "api", "federation"],
                    choices=["gas", "throughput", "catchup", "index", "batch", "verify", "api", "federation",
                             "scale"])
    ap.add_argument("--samples", type=int, default=30, help="registrations timed by the federation bench")
    ap.add_argument("--api-seconds", type=float, default=5.0, help="seconds per GET round of the api bench")
    ap.add_argument("--load-seconds", type=float, default=60.0, help="length of the api load run (0: none)")
    ap.add_argument("--batch-records", type=int, default=100_000, help="registrations for the batch intake")
    ap.add_argument("--certificates", type=int, default=1000, help="certificates for verify")
    ap.add_argument("--events", type=int, default=20_000, help="registrations written for catchup")
    ap.add_argument("--records", type=int, default=1_000_000, help="records in the synthetic index")
    ap.add_argument("--n", type=int, default=300, help="transactions per throughput round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-sync", action="store_true", help="do not fsync each block (embedded chain)")
    ap.add_argument("--out", type=Path, help="also write the JSON here")
    ap.add_argument("--scale-entities", type=int, default=100_000, help="entities for scale")
    ap.add_argument("--scale-resources", type=int, default=20_000, help="resources for scale")
    ap.add_argument("--scale-products", type=int, default=5_000, help="products for scale")
    ap.add_argument("--scale-assets", type=int, default=500, help="assets for scale")
    ap.add_argument("--scale-queries", type=int, default=1000, help="searches timed by scale")
    ap.add_argument("--scale-keep", type=Path, help="build scale's data directory here and keep it")
    args = ap.parse_args()
    from provenance.tuning import tune_node

    tune_node()  # measured as a node runs: its GIL switch interval and garbage collector settings
    result: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
                              "embedded_sync_writes": not args.no_sync}
    with tempfile.TemporaryDirectory() as tmp:
        if "gas" in args.what:
            _log("gas ...")
            b = GasBench(Path(tmp) / "gas", sync_writes=not args.no_sync)
            result["gas"] = b.gas()
            b.close()
        if "throughput" in args.what:
            _log("throughput ...")
            b = Bench(Path(tmp) / "tp", sync_writes=not args.no_sync)
            result["throughput"] = b.throughput(args.n, args.rounds)
            b.close()
        if "catchup" in args.what:
            _log("catchup ...")
            result["catchup"] = bench_catchup(args.events)
        if "batch" in args.what:
            _log("batch ...")
            result["batch"] = bench_batch(args.batch_records, sync_writes=not args.no_sync)
        if "verify" in args.what:
            _log("verify ...")
            result["verify"] = bench_verify(args.certificates)
        if "api" in args.what:
            _log("api ...")
            result["api"] = bench_api(args.api_seconds, args.rounds, args.load_seconds)
        if "federation" in args.what:
            _log("federation ...")
            result["federation"] = bench_federation(args.samples, args.n, args.rounds)
        if "index" in args.what:
            _log("index ...")
            result["index"] = bench_index(args.records)
        if "scale" in args.what:
            _log("scale ...")
            result["scale"] = bench_scale(args)
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # see provenance.cli.run: skip the noisy interpreter teardown
