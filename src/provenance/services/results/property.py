"""The property register's results (provenance.services.property): a record's property state, its histories, the
encumbrance search and a consent's typed data. Members come in the order the register has always answered them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, RootModel

from provenance.services.results import Result

PartyName = Literal["holder", "receiver", "pledgee", "assessor", "claimant", "arbitrator"]
ActionName = Literal["transfer", "change", "renew", "cancel", "pledge", "release", "enforce", "assess", "withdraw",
                     "dispute", "rule"]


class OwnerChangeOut(Result):
    seq: int
    previous: int
    owner: int
    block: int
    tx: str
    cause: Literal["transfer", "enforcement", "ruling"]


class ChangeOut(Result):
    seq: int
    previousRights: list[str]
    rights: list[str]
    previousMetadataHash: str
    metadataHash: str
    reason: str
    block: int


class AssessmentOut(Result):
    index: int = Field(description="its order within the record: 1, 2, ...")
    id: str = Field(description="the contract's name for it: keccak256(abi.encode(assessor, kind, reportHash))")
    assessor: int
    kind: Literal["quality", "compliance", "valuation"]
    standard: str
    validUntil: str | None
    reportHash: str
    block: int
    withdrawn: bool
    inForce: bool
    score: int | None = None
    passed: bool | None = None
    method: str | None = None
    currency: str | None = None
    valuationDate: str | None = None
    amount: str | None = None


class AssessmentRefOut(Result):
    """The assessment a write recorded or withdrew, by both its names."""

    index: int
    id: str


class PledgeOut(Result):
    seq: int
    pledgee: int
    amount: str
    currency: str
    until: str | None
    due: bool
    reference: str
    block: int
    ended: str | None
    endedBlock: int | None
    valuation: AssessmentOut | None = Field(default=None, description="the latest valuation in force")


class DisputeOut(Result):
    seq: int
    claimant: int
    claimHash: str
    block: int
    outcome: str | None
    arbitrator: int | None
    newOwner: int | None
    rulingHash: str | None
    executed: bool


class PropertyOut(Result):
    """A record's property state with its histories, as members of the federation (and the owner) see it; a
    write's answer adds its transaction (and, for an assessment's write, the assessment acted on)."""

    record: str
    owner: int
    originalOwner: int
    expiresAt: str | None
    expired: bool
    renewals: int
    listed: bool
    pledged: bool
    disputed: bool = Field(description="under dispute (争议中)")
    pledge: PledgeOut | None = Field(description="the pledge in force: null where the caller may not see it")
    dispute: DisputeOut | None
    assessments: list[AssessmentOut]
    transfers: int
    changes: int
    cancelled: str | None
    redacted: Literal[False]
    owners: list[OwnerChangeOut] | None = None
    changeHistory: list[ChangeOut] | None = None
    pledges: list[PledgeOut] | None = None
    disputes: list[DisputeOut] | None = None
    tx: str | None = Field(default=None, description="a write's transaction")
    block: int | None = None
    gasUsed: int | None = None
    assessment: AssessmentRefOut | None = Field(default=None, description="an assessment's write: the one acted on")


class PublicPropertyOut(Result):
    """A record's property state for a caller who may not see the record in full (above general grade without a
    member credential or the owner's): the states anyone sees, never who holds, pledged or claims it; the pledge
    in force only for its pledgee (null for others)."""

    record: str
    expiresAt: str | None
    expired: bool
    listed: bool
    pledged: bool
    disputed: bool = Field(description="under dispute (争议中)")
    transfers: int
    changes: int
    renewals: int
    cancelled: str | None
    redacted: Literal[True]
    pledge: PledgeOut | None = None


class PropertyStateOut(RootModel[PropertyOut | PublicPropertyOut]):
    """What a property route answers: the record's property state in full (PropertyOut), or the public states
    (PublicPropertyOut, ``redacted: true``) for a caller who may not see the record in full."""


class EncumbranceOut(Result):
    record: str
    seq: int
    pledgee: int
    amount: str
    currency: str
    until: str | None
    due: bool
    reference: str
    block: int
    ended: str | None
    endedBlock: int | None


class EncumbrancesOut(Result):
    items: list[EncumbranceOut]
    next: str | None = Field(description="the `after` of the next page")


class ConsentTypedDataOut(Result):
    action: ActionName
    party: PartyName
    entity: int
    counterparty: int
    deadline: int
    nonce: int
    digest: str
    typedData: dict[str, Any] = Field(description="the eth_signTypedData_v4 document the party's wallet signs "
                                                  "(types, primaryType, domain, message); it hashes to digest")


__all__ = ["ActionName", "AssessmentOut", "AssessmentRefOut", "ChangeOut", "ConsentTypedDataOut", "DisputeOut",
           "EncumbranceOut", "EncumbrancesOut", "OwnerChangeOut", "PartyName", "PledgeOut", "PropertyOut",
           "PropertyStateOut", "PublicPropertyOut"]
