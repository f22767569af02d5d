"""The cross-border flows' results (provenance.services.flows): supervisors, the low-risk catalogue, applications
(in full, or redacted for a caller who may not see an important-grade record), deliveries, spot checks and their
answers and reports' checks.

The index keeps each flow object as canonical JSON with sorted keys (indexer/flows.py), and the flows have always
answered them as the index reads them: so the index's members are declared here in alphabetical order, and what
the service adds to them (an application's ``expired``, ``volumeLeft``, ``open``; a spot check's deliveries and
what this node keeps of it) follows in the order it is added. A redacted application keeps the order of
services/flows.py's PUBLIC_APPLICATION_FIELDS."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, RootModel

from provenance.services.results import Result

AppStatusName = Literal["pending", "approved", "rejected", "revoked"]
CheckStateName = Literal["announced", "drawn", "concluded", "lapsed"]


class SupervisorKeyOut(Result):
    address: str
    validFrom: int
    validTo: int


class SupervisorOut(Result):
    code: str
    id: int
    joinedAt: int
    keys: list[SupervisorKeyOut]
    name: str
    removedAt: int
    status: Literal["active", "removed"]


class FlowProposalOut(Result):
    proposal: int
    approvals: int
    executed: bool
    tx: str


class CatalogueEntryOut(Result):
    block: int
    category: str
    destination: str
    maxValidity: int
    maxVolume: int
    supervisor: int


class CatalogueSetOut(Result):
    category: str
    destination: str
    listed: bool
    entry: CatalogueEntryOut | None
    tx: str


class ApplicationOut(Result):
    """An application in full, as members of the federation, supervisors and (for its own) the exporter see it.
    A read says ``redacted: false``; a write's answer adds its transaction instead."""

    assessmentRef: str
    category: str
    decidedBlock: int
    decidedBy: int
    delivered: int
    deliveries: int
    destination: str
    expiresAt: int
    exporter: int
    filedBlock: int
    filedBy: int
    filedTx: str
    grade: int
    id: int
    purpose: str
    reason: str
    receiver: int
    recordId: str
    revokedBlock: int | None = Field(default=None, description="a revoked approval: the revocation's block")
    revokedBy: int | None = Field(default=None, description="a revoked approval: the supervisor who revoked it")
    signed: bool
    status: AppStatusName
    volumeLimit: int
    expired: bool
    volumeLeft: int | None
    open: bool = Field(description="whether a delivery may be recorded under it now")
    redacted: Literal[False] = False
    tx: str | None = Field(default=None, description="a write's transaction")


class PublicApplicationOut(Result):
    """An application for an important-grade record, for a caller without a member credential (or the exporter's):
    its state and terms, never who exports what to whom, nor why."""

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
    redacted: Literal[True]


class ApplicationViewOut(RootModel[ApplicationOut | PublicApplicationOut]):
    """What an application read answers: the application in full (ApplicationOut), or its public state
    (PublicApplicationOut, ``redacted: true``) for a caller who may not see an important-grade record."""


class ApprovalTypedDataOut(Result):
    digest: str
    typedData: dict[str, Any] = Field(description="the eth_signTypedData_v4 document the supervisor's wallet signs "
                                                  "(types, primaryType, domain, message); it hashes to digest")


class SignedApprovalOut(Result):
    """A supervisor's signed approval, for relaying by anyone, with the typed data it signs."""

    application: int
    expiresAt: int
    volumeLimit: int
    deadline: int
    signature: str
    typedData: dict[str, Any]


class DeliveryOut(Result):
    application: int
    block: int
    exporter: int
    id: int
    manifestHash: str
    size: int
    timestamp: int
    tx: str


class DeliveriesOut(Result):
    deliveries: list[DeliveryOut]
    tx: str


class SpotCheckStateOut(Result):
    """A spot check as the chain recorded it."""

    announcedBlock: int
    concludedBlock: int | None = None
    drawnBlock: int | None = None
    exporter: int
    failed: int
    id: int
    passed: int
    population: int
    reportHash: str | None
    sample: list[int]
    sampleSize: int
    seed: str | None
    seedBlock: int
    state: CheckStateName
    supervisor: int


class SpotCheckOut(SpotCheckStateOut):
    """A spot check with its sampled deliveries and what this node keeps of it."""

    deliveries: list[DeliveryOut]
    reportKept: bool
    answered: list[int]


class AnswerOut(Result):
    check: int
    answers: dict[str, dict[str, Any]]
    missing: list[int]


class AnswersTakenOut(Result):
    check: int
    answered: list[int]
    outstanding: list[int]


class ConcludedOut(Result):
    check: SpotCheckOut
    report: dict[str, Any]
    tx: str


class ReportCheckOut(Result):
    valid: bool
    problems: list[str]
    check: int | None = None


__all__ = ["AnswerOut", "AnswersTakenOut", "AppStatusName", "ApplicationOut", "ApplicationViewOut",
           "ApprovalTypedDataOut", "CatalogueEntryOut", "CatalogueSetOut", "CheckStateName", "ConcludedOut",
           "DeliveriesOut", "DeliveryOut", "FlowProposalOut", "PublicApplicationOut", "ReportCheckOut",
           "SignedApprovalOut", "SpotCheckOut", "SpotCheckStateOut", "SupervisorKeyOut", "SupervisorOut"]
