"""The HTTP API's models of the cross-border flows: the bodies of applications, approvals, deliveries, spot checks
and supervisors (the shared patterns and base models are in provenance.api.schemas). What the routes answer are
the flows service's typed results (provenance.services.results.flows), named here too."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from provenance.api.schemas import (
    EXCHANGE_PATTERN,
    Address,
    Hash,
    _Strict,
)
from provenance.services.results.flows import (
    AnswerOut,
    AnswersTakenOut,
    ApplicationOut,
    ApplicationViewOut,
    ApprovalTypedDataOut,
    AppStatusName,
    CatalogueEntryOut,
    CatalogueSetOut,
    ConcludedOut,
    DeliveriesOut,
    DeliveryOut,
    FlowProposalOut,
    PublicApplicationOut,
    ReportCheckOut,
    SignedApprovalOut,
    SpotCheckOut,
    SpotCheckStateOut,
    SupervisorKeyOut,
    SupervisorOut,
)

CategoryCode = Annotated[str, Field(pattern=r"^[A-Z0-9.\-]{1,32}$",
                                    description="data category code, e.g. IOT.TELEMETRY")]
Jurisdiction = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code (not CN)")]
U64 = Annotated[int, Field(ge=0, le=2**64 - 1)]


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


__all__ = ["AnswerOut", "AnswersIn", "AnswersTakenOut", "AppStatusName", "ApplicationIn", "ApplicationOut",
           "ApplicationViewOut", "ApprovalIn", "ApprovalTypedDataOut", "CatalogueEntryOut", "CatalogueIn",
           "CatalogueSetOut", "CategoryCode", "ConcludedOut", "DecisionIn", "DeliveriesIn", "DeliveriesOut",
           "DeliveryIn", "DeliveryOut", "FlowProposalOut", "Jurisdiction", "PublicApplicationOut", "ReportCheckOut",
           "SignedApprovalIn", "SignedApprovalOut", "SpotCheckIn", "SpotCheckOut", "SpotCheckStateOut",
           "SupervisorIn", "SupervisorKeyOut", "SupervisorOut", "U64"]
