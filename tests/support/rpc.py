"""A funded account and a fresh federation on a Hardhat node, for the JSON-RPC backend's tests."""

from __future__ import annotations

from eth_account import Account
from eth_account.signers.local import LocalAccount

from provenance.chain.contracts import Contracts
from provenance.chain.registry import RegistryService
from provenance.chain.rpc import RpcChain
from tests.support.federation import addr


def funded(chain: RpcChain) -> LocalAccount:
    a = Account.create()
    chain.request("hardhat_setBalance", [a.address, hex(10**21)])
    return a


def deploy(chain: RpcChain) -> tuple[RegistryService, LocalAccount]:
    key = funded(chain)
    contracts = Contracts.deploy(chain, key, code=b"SDE".ljust(8, b"\0"), name="Shanghai", first_key=addr(key))
    return RegistryService(contracts), key
