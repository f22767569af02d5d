"""Clients of a running devnet federation (provenance.dev.devnet): each node over HTTP, as partner exchanges use
it, and the chain for what a merchant's own wallet sends (its mandate)."""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account

from provenance.chain.contracts import Contracts, Deployment
from provenance.chain.registry import RegistryService
from provenance.chain.rpc import RpcChain
from provenance.dev.devnet import Devnet, free_port

CODES = ("SDE", "ZJDE", "AHDE")


class DevnetClients:
    def __init__(self, net: Devnet) -> None:
        self.net = net
        self.chain = RpcChain(net.chain_url)
        dep = net.state()["contracts"]
        self.deployment = Deployment.from_json(dep)
        self.svc = RegistryService(Contracts.attach(self.chain, self.deployment))
        self.clients = {c: self.client(c) for c in CODES}
        self.merchants: dict[str, int] = {}

    def client(self, code: str) -> httpx.Client:
        m = self.net.member(code)
        return httpx.Client(base_url=m.url + "/api/v1", timeout=60,
                            headers={"Authorization": f"Bearer {self.net.token(code)}"})

    def __getitem__(self, code: str) -> httpx.Client:
        return self.clients[code]

    def merchant(self, code: str) -> int:
        """A merchant onboarded at ``code`` that granted it a mandate (signing its own transaction)."""
        if code not in self.merchants:
            acct = Account.create()
            self.chain.request("hardhat_setBalance", [acct.address, hex(10**20)])
            ident = f"E2E{code}{acct.address[2:14].upper()}"  # unique across restarts of a federation
            # The merchant's consent, signed in its wallet from the typed data the node gives.
            doc = self[code].get("/entities/consent", params={"identifier": ident, "account": acct.address}).json()
            consent = "0x" + bytes(Account.sign_typed_data(acct.key, full_message=doc["typedData"]).signature).hex()
            r = self[code].post("/entities", json={"identifier": ident, "account": acct.address.lower(),
                                                   "consent": consent, "deadline": doc["deadline"]})
            assert r.status_code == 201, r.text
            entity = r.json()["id"]
            self.svc.set_mandate(acct, entity, code, True)
            self.merchants[code] = entity
        return self.merchants[code]

    def register(self, code: str, **fields: Any) -> str:
        body = {"kind": "resource", "owner": self.merchant(code),
                "contentHash": "0x" + secrets.token_hex(32), **fields}  # unique across restarts of a federation
        r = self[code].post("/registrations", json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def close(self) -> None:
        for c in self.clients.values():
            c.close()
        self.chain.close()


def eventually(check: Callable[[], Any], *, timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def start_devnet(root: Path, *, chain: str = "hardhat") -> Devnet:
    """A devnet federation under ``root``, on free ports, started (stop it with ``net.down``)."""
    net = Devnet(root, base_port=free_port(), chain_port=free_port(), scrypt_n=1024, chain=chain)
    # Three consecutive free ports are not guaranteed: give each member its own.
    net.members = [type(m)(m.code, m.name, m.data_dir, free_port()) for m in net.members]
    net.up(say=lambda _m: None)
    return net


@contextlib.contextmanager
def running_devnet(root: Path, *, chain: str = "hardhat") -> Iterator[DevnetClients]:
    """A started devnet federation and its clients, stopped afterwards whatever happens."""
    net = start_devnet(root, chain=chain)
    clients = DevnetClients(net)
    try:
        yield clients
    finally:
        try:
            clients.close()
        finally:
            net.down(say=lambda _m: None)
