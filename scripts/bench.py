"""Benchmarks (JSON on stdout; progress on stderr). Run through scripts/bench.

gas         gas of every state-changing function, on the embedded chain (deterministic), beside the targets
            derived from the Ethereum Attestation Service's figures for an equivalent record.
throughput  direct registrations per second (one per transaction, one parent) beside raw value transfers per
            second, measured in the same run on the same embedded chain; plus registerBatch for reference.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eth_abi.abi import encode
from eth_account import Account

from provenance.chain.contracts import Contracts
from provenance.chain.embedded import EmbeddedChain
from provenance.core.ids import parse_address
from provenance.service import RegistryService
from provenance.types import Grade, Hash32, Kind, RegistrationRequest, Rights, Source, Status

# EAS v1.4.0 on this chain (py-evm Prague rules), schema
# "bytes32 contentHash, bytes32 metadataHash, uint8 grade, uint8 kind, bytes32[] parents" (from issue #2).
EAS = {"attest_no_parent": 298_494, "attest_one_parent": 341_122, "attest_three_parents": 386_565,
       "attestByDelegation_one_parent": 357_291, "revoke": 78_971}
TARGETS = {"register_one_parent": 170_000, "registerFor_one_parent": 180_000, "setStatus": 40_000}


def _h(x: object) -> Hash32:
    return Hash32(hashlib.sha256(str(x).encode()).digest())


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Bench:
    def __init__(self, path: Path, sync_writes: bool) -> None:
        self.chain = EmbeddedChain(path, sync_writes=sync_writes)
        self.key = Account.create()
        self.contracts = Contracts.deploy(self.chain, self.key, code=b"SDE".ljust(8, b"\0"), name="Shanghai",
                                          first_key=parse_address(self.key.address))
        self.svc = RegistryService(self.contracts)
        self.merchant = Account.create()
        self.owner = self.svc.register_entity(self.key, _h("merchant"), parse_address(self.merchant.address), 0)
        self.svc.set_mandate(self.merchant, self.owner, 1, True)
        self.n = 0

    def req(self, **kw: Any) -> RegistrationRequest:
        self.n += 1
        base: dict[str, Any] = {"kind": Kind.RESOURCE, "grade": Grade.GENERAL, "source": Source.ENTERPRISE,
                                "rights": Rights.HOLDING, "owner": self.owner, "content_hash": _h(f"c{self.n}"),
                                "metadata_hash": _h(f"m{self.n}")}
        base.update(kw)
        return RegistrationRequest(**base)

    def gas(self) -> dict[str, Any]:
        svc, key, c = self.svc, self.key, self.contracts
        out: dict[str, int] = {}
        p = [svc.register(key, self.req())[0] for _ in range(3)]
        out["register_no_parent"] = svc.register(key, self.req())[1].gas_used
        out["register_one_parent"] = svc.register(key, self.req(parents=(p[0],)))[1].gas_used
        out["register_three_parents"] = svc.register(key, self.req(parents=tuple(p)))[1].gas_used
        ids, res = svc.register_batch(key, [self.req(parents=(p[0],)) for _ in range(10)])
        out["registerBatch_10_one_parent_per_record"] = res.gas_used // 10
        signed = svc.sign_registration(self.merchant, 1, self.req(parents=(p[0],)))
        out["registerFor_one_parent_first_for_owner"] = svc.register_for(key, signed)[1].gas_used
        signed = svc.sign_registration(self.merchant, 1, self.req(parents=(p[0],)))
        out["registerFor_one_parent"] = svc.register_for(key, signed)[1].gas_used
        old = svc.register(key, self.req())[0]
        out["register_superseding"] = svc.register(key, self.req(supersedes=old))[1].gas_used
        out["setStatus"] = svc.set_status(key, p[0], Status.SUSPENDED).gas_used
        out["setStatus_revoke"] = svc.set_status(key, p[0], Status.REVOKED).gas_used
        other = Account.create()
        tx = c.transact(key, "Registry", "registerEntity", _h("e2"), other.address, 0)
        out["registerEntity"] = tx.receipt.gas_used
        eid = svc.entity_by_identifier(_h("e2")).id
        out["setMandate"] = svc.set_mandate(other, eid, 1, True).gas_used
        out["setEntityAccount"] = svc.set_entity_account(other, eid, parse_address(Account.create().address)).gas_used
        zj = Account.create()
        r = c.transact(key, "Federation", "propose", 0,
                       encode(["bytes8", "string", "address"], [b"ZJDE".ljust(8, b"\0"), "Zhejiang", zj.address]))
        out["propose_add_exchange_executed"] = r.receipt.gas_used
        out["recognizeEntity"] = svc.recognize_entity(zj, self.owner).gas_used
        out["propose_threshold_executed"] = svc.propose_threshold(key, 2).gas_used
        pending = svc.propose_add_exchange(key, "AHDE", "Anhui", parse_address(Account.create().address))
        out["propose_add_exchange_pending"] = pending.gas_used
        out["approve_executing"] = svc.approve(zj, pending.proposal_id).gas_used
        k2 = Account.create()
        out["addKey"] = svc.add_key(key, parse_address(k2.address)).gas_used
        out["revokeKey"] = svc.revoke_key(k2, parse_address(self.key.address)).gas_used
        out["rotateKey"] = svc.rotate_key(k2, parse_address(Account.create().address)).gas_used
        checks = {name: {"gas": out[name], "target": t, "met": out[name] <= t,
                         "eas": EAS.get({"register_one_parent": "attest_one_parent",
                                         "registerFor_one_parent": "attestByDelegation_one_parent",
                                         "setStatus": "revoke"}[name])}
                  for name, t in TARGETS.items()}
        return {"functions": out, "targets": checks, "eas_reference": EAS}

    def throughput(self, n: int, rounds: int) -> dict[str, Any]:
        parent = self.svc.register(self.key, self.req())[0]
        sink = b"\x11" * 20
        rates_tx: list[float] = []
        rates_reg: list[float] = []
        for r in range(rounds):
            t0 = time.perf_counter()
            for _ in range(n):
                self.chain.transact(self.key, sink, b"", value=0)
            rates_tx.append(n / (time.perf_counter() - t0))
            reqs = [self.req(parents=(parent,)) for _ in range(n)]
            t0 = time.perf_counter()
            for q in reqs:
                self.svc.register(self.key, q)
            rates_reg.append(n / (time.perf_counter() - t0))
            _log(f"round {r + 1}/{rounds}: transfers {rates_tx[-1]:.1f}/s, registrations {rates_reg[-1]:.1f}/s")
        batch_size = 100
        reqs = [self.req(parents=(parent,)) for _ in range(batch_size * 5)]
        t0 = time.perf_counter()
        for i in range(0, len(reqs), batch_size):
            self.svc.register_batch(self.key, reqs[i:i + batch_size])
        batch_rate = len(reqs) / (time.perf_counter() - t0)
        tx, reg = statistics.median(rates_tx), statistics.median(rates_reg)
        return {"transactions_per_round": n, "rounds": rounds,
                "transfers_per_s": round(tx, 1), "registrations_per_s": round(reg, 1),
                "ratio": round(reg / tx, 3), "target_ratio": 0.8, "met": reg / tx >= 0.8,
                "registerBatch_100_records_per_s": round(batch_rate, 1)}

    def close(self) -> None:
        self.chain.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="*", default=["gas", "throughput"], choices=["gas", "throughput"])
    ap.add_argument("--n", type=int, default=300, help="transactions per throughput round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-sync", action="store_true", help="do not fsync each block (embedded chain)")
    ap.add_argument("--out", type=Path, help="also write the JSON here")
    args = ap.parse_args()
    result: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
                              "embedded_sync_writes": not args.no_sync}
    with tempfile.TemporaryDirectory() as tmp:
        if "gas" in args.what:
            _log("gas ...")
            b = Bench(Path(tmp) / "gas", sync_writes=not args.no_sync)
            result["gas"] = b.gas()
            b.close()
        if "throughput" in args.what:
            _log("throughput ...")
            b = Bench(Path(tmp) / "tp", sync_writes=not args.no_sync)
            result["throughput"] = b.throughput(args.n, args.rounds)
            b.close()
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # see provenance.cli.run: skip the noisy interpreter teardown
