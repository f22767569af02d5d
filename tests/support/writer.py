"""A child process for the crash test: deploys (on first run) and registers records, printing each id once its
receipt is back, so the parent knows what was confirmed when it kills this process."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from eth_account import Account

from provenance.chain.contracts import Contracts, Deployment
from provenance.chain.embedded import EmbeddedChain
from provenance.chain.registry import RegistryService
from provenance.core.ids import parse_address
from tests.support.federation import request


def main() -> None:
    path, key_hex, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    key = Account.from_key(bytes.fromhex(key_hex))
    chain = EmbeddedChain(path / "chain", sync_writes=True)
    dep_file = path / "deployment.json"
    if dep_file.exists():
        contracts = Contracts.attach(chain, Deployment.from_json(json.loads(dep_file.read_text())))
        owner = 1
    else:
        contracts = Contracts.deploy(chain, key, code=b"SDE".ljust(8, b"\0"), name="SDE",
                                     first_key=parse_address(key.address))
        svc = RegistryService(contracts)
        owner = svc.register_entity(key, b"\x01" * 32, key, 0)  # type: ignore[arg-type]
        svc.set_mandate(key, owner, 1, True)
        dep_file.write_text(json.dumps(contracts.deployment.to_json()))
    svc = RegistryService(contracts)
    print("ready", flush=True)
    previous = None
    for _ in range(count):
        rid, res = svc.register(key, request(owner, content=os.urandom(32), parents=(previous,) if previous else ()))  # type: ignore[arg-type]
        previous = rid
        print(rid.hex(), res.block_number, flush=True)


if __name__ == "__main__":
    main()
