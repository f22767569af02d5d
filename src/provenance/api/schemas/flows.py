"""The HTTP API's models of the cross-border flows: applications, approvals, deliveries, spot checks, supervisors
(the shared patterns and base models are in provenance.api.schemas)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from provenance.api.schemas import (
    EXCHANGE_PATTERN,
    Address,
    Hash,
    _Open,
    _Strict,
)

CategoryCode = Annotated[str, Field(pattern=r"^[A-Z0-9.\-]{1,32}$",
                                    description="data category code, e.g. IOT.TELEMETRY")]
Jurisdiction = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code (not CN)")]
U64 = Annotated[int, Field(ge=0, le=2**64 - 1)]
AppStatusName = Literal["pending", "approved", "rejected", "revoked"]


class SupervisorIn(_Strict):
    code: str = Field(pattern=EXCHANGE_PATTERN)
    name: str = Field(min_length=1, max_length=128)
    key: Address
    keySignature: str | None = Field(
        default=None, pattern=r"^0x[0-9a-fA-F]{130}$",
        description="the key's own EIP-712 signature of MemberKey(uint8 role,bytes8 code,string name,address key) "
                    "(role 1) under the domain ProvenanceFederation: no member can name a key it does not hold; "
                    "omitted only where this node's keystore holds the key")


class CatalogueIn(_Strict):
    """List a (category, destination) pair as low-risk; ``maxValidity`` 0 delists it."""

    category: CategoryCode
    destination: Jurisdiction
    maxValidity: U64 = Field(description="seconds an automatic approval lasts; 0 delists")
    maxVolume: U64 = Field(default=0, description="bytes an automatic approval allows; 0 for no limit")


class ApplicationIn(_Strict):
    recordId: Hash
    exporter: int = Field(ge=1, le=2**32 - 1, description="entity id of the exporter (the record's owner)")
    receiver: int = Field(ge=1, le=2**32 - 1, description="entity id of the receiving party")
    destination: Jurisdiction
    category: CategoryCode
    purpose: str = Field(min_length=1, max_length=256)
    assessmentRef: str | None = Field(default=None, min_length=1, max_length=128,
                                      description="security-assessment reference (required for important data)")


class ApprovalIn(_Strict):
    expiresAt: U64 = Field(default=0, description="unix time after which no delivery is accepted; 0: none")
    volumeLimit: U64 = Field(default=0, description="bytes; 0: no limit")


class SignedApprovalIn(ApprovalIn):
    deadline: U64
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$", description="the supervisor's EIP-712 signature")


class DecisionIn(_Strict):
    reason: str = Field(min_length=1, max_length=32)


class DeliveryIn(_Strict):
    """One delivery: its manifest (kept by this node to answer spot checks), or the manifest's hash and size."""

    application: int = Field(ge=1, le=2**64 - 1)
    manifest: dict[str, Any] | None = None
    manifestHash: Hash | None = None
    size: int | None = Field(default=None, ge=1, le=2**64 - 1)


class DeliveriesIn(_Strict):
    deliveries: list[DeliveryIn] = Field(min_length=1, max_length=200)


class SpotCheckIn(_Strict):
    exporter: int = Field(ge=1, le=2**32 - 1)
    sampleSize: int = Field(ge=1, le=64)


class AnswersIn(_Strict):
    answers: dict[str, dict[str, Any]] = Field(min_length=1, max_length=64,
                                               description="delivery id -> the delivered manifest")


class SupervisorKeyOut(_Open):
    address: str
    validFrom: int
    validTo: int


class SupervisorOut(_Open):
    id: int
    code: str
    name: str
    status: Literal["active", "removed"]
    joinedAt: int
    removedAt: int
    keys: list[SupervisorKeyOut]


class FlowProposalOut(_Open):
    proposal: int
    approvals: int
    executed: bool
    tx: str


class CatalogueEntryOut(_Open):
    category: str
    destination: str
    maxValidity: int
    maxVolume: int
    supervisor: int
    block: int


class CatalogueSetOut(_Open):
    category: str
    destination: str
    listed: bool
    entry: CatalogueEntryOut | None
    tx: str


class ApplicationOut(_Open):
    """An application. For an important-grade record, without a member credential, only the public fields and
    ``redacted: true``."""

    id: int
    recordId: str
    grade: int
    status: AppStatusName
    filedBlock: int
    decidedBlock: int
    decidedBy: int
    signed: bool
    expiresAt: int
    volumeLimit: int
    delivered: int
    deliveries: int
    expired: bool
    volumeLeft: int | None
    open: bool = Field(description="whether a delivery may be recorded under it now")
    exporter: int | None = None
    receiver: int | None = None
    destination: str | None = None
    category: str | None = None
    assessmentRef: str | None = None
    filedBy: int | None = None
    purpose: str | None = None
    filedTx: str | None = None
    reason: str | None = None
    revokedBy: int | None = None
    revokedBlock: int | None = None
    redacted: bool = False
    tx: str | None = None


class ApprovalTypedDataOut(_Open):
    digest: str
    typedData: dict[str, Any] = Field(description="the eth_signTypedData_v4 document the supervisor's wallet signs "
                                                  "(types, primaryType, domain, message); it hashes to digest")


class DeliveryOut(_Open):
    id: int
    application: int
    exporter: int
    manifestHash: str
    size: int
    timestamp: int
    block: int
    tx: str


class DeliveriesOut(_Open):
    deliveries: list[DeliveryOut]
    tx: str


class SpotCheckOut(_Open):
    id: int
    exporter: int
    supervisor: int
    population: int
    sampleSize: int
    seedBlock: int
    announcedBlock: int
    state: Literal["announced", "drawn", "concluded", "lapsed"]
    seed: str | None
    sample: list[int]
    reportHash: str | None
    passed: int
    failed: int
    drawnBlock: int | None = None
    concludedBlock: int | None = None
    deliveries: list[DeliveryOut]
    reportKept: bool
    answered: list[int]


class AnswerOut(_Open):
    check: int
    answers: dict[str, dict[str, Any]]
    missing: list[int]


class AnswersTakenOut(_Open):
    check: int
    answered: list[int]
    outstanding: list[int]


class ConcludedOut(_Open):
    check: SpotCheckOut
    report: dict[str, Any]
    tx: str


class ReportCheckOut(_Open):
    valid: bool
    problems: list[str]
    check: int | None = None
