"""The federation's results (provenance.services.operations' federation and entity reads, services/federation.py):
member exchanges with their keys, governance proposals, entities, an onboarding consent's typed data. The members
of an exchange, key, proposal and entity are the chain adapter's dataclass fields, in their order
(provenance.core.jsonable writes them)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from provenance.services.results import Result


class ExchangeOut(Result):
    id: int
    code: str
    name: str
    status: str
    joined_at: int
    removed_at: int


class KeyOut(Result):
    address: str
    exchange_id: int
    valid_from: int
    valid_to: int = Field(description="0 while valid")


class ExchangeDetailOut(ExchangeOut):
    keys: list[KeyOut]


class ProposalOut(Result):
    id: int
    action: str
    proposer: int
    approvals: int
    executed: bool
    epoch: int
    expires_at: int
    payload: str


class EntityOut(Result):
    id: int
    identifier_hash: str
    account: str
    registrar: int
    role: str
    registered_at: int
    nonce: int
    recognizedBy: list[str]
    mandates: list[str]


class RecognizedEntityOut(Result):
    entity: int
    recognized: bool
    block: int


class OnboardingConsentOut(Result):
    typedData: dict[str, Any] = Field(description="the eth_signTypedData_v4 document the account's wallet signs "
                                                  "(types, primaryType, domain, message); it hashes to digest")
    digest: str
    deadline: int


__all__ = ["EntityOut", "ExchangeDetailOut", "ExchangeOut", "KeyOut", "OnboardingConsentOut", "ProposalOut",
           "RecognizedEntityOut"]
