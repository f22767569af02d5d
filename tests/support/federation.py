"""Factories shared by the tests: a deployed federation on a fresh embedded chain, entities, requests."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from provenance.chain.contracts import Contracts
from provenance.chain.embedded import EmbeddedChain
from provenance.chain.registry import RegistryService
from provenance.core.ids import parse_address
from provenance.errors import ContractReverted
from provenance.types import (
    EntityRole,
    Grade,
    Hash32,
    Kind,
    RecordId,
    RegistrationRequest,
    Rights,
    Source,
)

_counter = itertools.count(1)


def h(text: str | int) -> Hash32:
    return Hash32(hashlib.sha256(str(text).encode()).digest())


def addr(account: LocalAccount) -> bytes:
    return parse_address(account.address)


@contextlib.contextmanager
def reverts(error: str, **expected_args: Any) -> Iterator[pytest.ExceptionInfo[ContractReverted]]:
    """Assert the block reverts with the named custom error (and, if given, these decoded arguments)."""
    with pytest.raises(ContractReverted) as info:
        yield info
    assert info.value.error == error, f"expected {error}, got {info.value}"
    for k, v in expected_args.items():
        got = info.value.args_by_name[k]
        if isinstance(got, str) and isinstance(v, bytes):  # addresses decode as checksummed strings
            got = parse_address(got)
        assert got == v, f"{error}.{k}: expected {v!r}, got {got!r}"


@dataclass
class Fed:
    """A deployed federation: exchanges SDE (id 1), ZJDE (2), AHDE (3), threshold 1."""

    chain: EmbeddedChain
    contracts: Contracts
    svc: RegistryService
    keys: dict[str, LocalAccount] = field(default_factory=dict)

    def add_exchange(self, code: str, proposer: str = "SDE") -> LocalAccount:
        key = Account.create()
        out = self.svc.propose_add_exchange(self.keys[proposer], code, f"{code} exchange", key)
        assert out.executed
        self.keys[code] = key
        return key

    def entity(self, home: str = "SDE", *, mandate_to: tuple[str, ...] | None = None,
               role: EntityRole = EntityRole.SUPPLIER) -> tuple[int, LocalAccount]:
        account = Account.create()
        entity_id = self.svc.register_entity(self.keys[home], h(f"entity-{next(_counter)}"), account, role)
        for code in (home,) if mandate_to is None else mandate_to:
            self.svc.set_mandate(account, entity_id, code, True)
        return entity_id, account

    def register(self, code: str, request: RegistrationRequest) -> RecordId:
        rid, _ = self.svc.register(self.keys[code], request)
        return rid


def request(owner: int, *, kind: Kind = Kind.RESOURCE, grade: Grade = Grade.GENERAL,
            source: Source = Source.ENTERPRISE, rights: Rights = Rights.HOLDING,
            content: Hash32 | None = None, parents: tuple[RecordId, ...] = (),
            supersedes: bytes = bytes(32), metadata: Hash32 | None = None) -> RegistrationRequest:
    return RegistrationRequest(
        kind=kind, grade=grade, source=source, rights=rights, owner=owner,
        content_hash=content if content is not None else h(f"content-{next(_counter)}"),
        metadata_hash=metadata if metadata is not None else h("metadata"),
        supersedes=Hash32(supersedes), parents=parents,
    )


def make_fed(path: Path, *, sync_writes: bool = False) -> Fed:
    chain = EmbeddedChain(path, sync_writes=sync_writes)
    sde = Account.create()
    contracts = Contracts.deploy(chain, sde, code=b"SDE".ljust(8, b"\0"), name="Shanghai Data Exchange",
                                 first_key=addr(sde))
    fed = Fed(chain, contracts, RegistryService(contracts), {"SDE": sde})
    fed.add_exchange("ZJDE")
    fed.add_exchange("AHDE")
    return fed
