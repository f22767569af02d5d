"""The benches' embedded chain: a deployed federation with one exchange and one merchant entity, its
registration requests, and the throughput section (registrations per second beside transfers per
second on the same chain). Shared by the other sections of scripts/bench.py."""

from __future__ import annotations

import hashlib
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from eth_account import Account

from provenance.chain.contracts import Contracts
from provenance.chain.embedded import EmbeddedChain
from provenance.chain.registry import RegistryService
from provenance.core.ids import parse_address
from provenance.types import Grade, Hash32, Kind, RegistrationRequest, Rights, Source


def _h(x: object) -> Hash32:
    return Hash32(hashlib.sha256(str(x).encode()).digest())


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Bench:
    def __init__(self, path: Path | None, sync_writes: bool, chain: Any = None) -> None:
        self.chain = chain if chain is not None else EmbeddedChain(path, sync_writes=sync_writes)
        self.key = Account.create()
        self.merchant = Account.create()
        if chain is not None:  # a local JSON-RPC chain (Hardhat): fund the keys
            for a in (self.key, self.merchant):
                chain.request("hardhat_setBalance", [a.address, hex(10**22)])
        self.contracts = Contracts.deploy(self.chain, self.key, code=b"SDE".ljust(8, b"\0"), name="Shanghai",
                                          first_key=parse_address(self.key.address))
        self.svc = RegistryService(self.contracts)
        self.owner = self.svc.register_entity(self.key, _h("merchant"), self.merchant, 0)
        self.svc.set_mandate(self.merchant, self.owner, 1, True)
        self.n = 0

    def req(self, **kw: Any) -> RegistrationRequest:
        self.n += 1
        base: dict[str, Any] = {"kind": Kind.RESOURCE, "grade": Grade.GENERAL, "source": Source.ENTERPRISE,
                                "rights": Rights.HOLDING, "owner": self.owner, "content_hash": _h(f"c{self.n}"),
                                "metadata_hash": _h(f"m{self.n}")}
        base.update(kw)
        return RegistrationRequest(**base)

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
