"""Request bodies and parameter shapes of the HTTP API (pydantic), so the OpenAPI document states every rule.

Hashes and ids are ``0x`` and 64 hex digits, addresses ``0x`` and 40; the same pattern is used by every endpoint
so a malformed value is refused the same way (422, naming the field) wherever it appears.

This package module holds the shared patterns and base models, with those of the federation, the registrations
and the certificates; the capabilities with models of their own have a module each beside it (``flows``,
``catalog``, ``property``), named as their route module in ``api/routes/``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from provenance.api.schemas.catalog import InlineMetadata, InlineProfile
from provenance.services.results.certificates import (  # the certificates' results, named here too
    CertificateSummaryOut as CertificateSummaryOut,
)
from provenance.services.results.certificates import (
    CheckOut as CheckOut,
)
from provenance.services.results.certificates import (
    RecognitionOut as RecognitionOut,
)
from provenance.services.results.certificates import (
    ReportOut as ReportOut,
)
from provenance.services.results.federation import (  # the federation's results, named here too
    EntityOut as EntityOut,
)
from provenance.services.results.federation import (
    ExchangeDetailOut as ExchangeDetailOut,
)
from provenance.services.results.federation import (
    ExchangeOut as ExchangeOut,
)
from provenance.services.results.federation import (
    KeyOut as KeyOut,
)
from provenance.services.results.federation import (
    OnboardingConsentOut as OnboardingConsentOut,
)
from provenance.services.results.federation import (
    ProposalOut as ProposalOut,
)
from provenance.services.results.federation import (
    RecognizedEntityOut as RecognizedEntityOut,
)
from provenance.services.results.registrations import (  # the registrations' and lineage's results, named here too
    BatchItemOut as BatchItemOut,
)
from provenance.services.results.registrations import (
    BatchOut as BatchOut,
)
from provenance.services.results.registrations import (
    BatchRefusedOut as BatchRefusedOut,
)
from provenance.services.results.registrations import (
    ImpactOut as ImpactOut,
)
from provenance.services.results.registrations import (
    LineageNodeOut as LineageNodeOut,
)
from provenance.services.results.registrations import (
    LineageOut as LineageOut,
)
from provenance.services.results.registrations import (
    PathOut as PathOut,
)
from provenance.services.results.registrations import (
    RecordOut as RecordOut,
)
from provenance.services.results.registrations import (
    RegisteredOut as RegisteredOut,
)
from provenance.services.results.registrations import (
    SearchOut as SearchOut,
)
from provenance.services.results.registrations import (
    StatusOut as StatusOut,
)
from provenance.services.results.registrations import (
    TypedDataOut as TypedDataOut,
)
from provenance.services.results.trust import (  # the transparency logs' results, named here too
    AnchoredOut as AnchoredOut,
)
from provenance.services.results.trust import (
    AnchorOut as AnchorOut,
)
from provenance.services.results.trust import (
    ConsistencyOut as ConsistencyOut,
)
from provenance.services.results.trust import (
    InclusionOut as InclusionOut,
)
from provenance.services.results.trust import (
    LogOut as LogOut,
)
from provenance.services.results.trust import (
    WitnessedOut as WitnessedOut,
)

HASH_PATTERN = r"^0x[0-9a-fA-F]{64}$"
ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"
EXCHANGE_PATTERN = r"^[A-Za-z0-9]{1,8}$"
ZERO = "0x" + "00" * 32
EXAMPLE_HASH = "0x" + "ab" * 32

Hash = Annotated[str, Field(pattern=HASH_PATTERN, min_length=66, max_length=66, examples=[EXAMPLE_HASH])]
Address = Annotated[str, Field(pattern=ADDRESS_PATTERN, min_length=42, max_length=42)]
KindName = Literal["resource", "product", "asset"]
GradeName = Literal["general", "important", "core"]
SourceName = Literal["public", "enterprise", "personal"]
RightName = Literal["holding", "processing", "operation"]
StatusName = Literal["active", "suspended", "revoked"]


class _Strict(BaseModel):
    """A request body: no member the model does not name, and no conversion between JSON types (true, "5" or 5.0
    is not the entity 5; a string is not a number, nor a number a string)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class RegistrationIn(InlineMetadata, _Strict):
    """A data resource, product or asset to register (mirrors IRegistry.RegistrationRequest)."""

    kind: KindName
    grade: GradeName = "general"
    source: SourceName = "enterprise"
    rights: list[RightName] = Field(default=["holding"], min_length=1, max_length=3)
    owner: int = Field(ge=1, le=2**32 - 1, description="owner entity id")
    contentHash: Hash
    metadataHash: Hash = ZERO
    parents: list[Hash] = Field(default_factory=list, max_length=16)
    supersedes: Hash = ZERO

    def as_json(self) -> dict[str, Any]:
        return self.model_dump()


class OwnerSignature(_Strict):
    """The owner's EIP-712 consent to this registration by this node's exchange (see /registrations/typed-data)."""

    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$", description="65-byte signature r || s || v")
    nonce: int = Field(ge=0, le=2**32 - 1)
    deadline: int = Field(ge=0, le=2**63 - 1, description="Unix seconds")


class RegisterIn(RegistrationIn):
    ownerSignature: OwnerSignature | None = Field(
        default=None, description="register on the owner's signature instead of its standing mandate")


class TypedDataIn(RegistrationIn):
    ttl: int = Field(default=3600, ge=60, le=7 * 86400, description="seconds the signature will be valid")


class BatchIn(_Strict):
    records: list[RegistrationIn] = Field(min_length=1, max_length=5000)
    batchSize: int = Field(default=1000, ge=1, le=5000, description="records per anchoring transaction")


class StatusIn(_Strict):
    status: StatusName
    reason: str = Field(default="", max_length=256, description="a 32-byte hex hash, or a text that is hashed")


class EntityIn(InlineProfile, _Strict):
    identifier: str = Field(min_length=1, max_length=128,
                            description="e.g. the unified social credit code; only its hash is stored")
    account: Address
    role: Literal["supplier", "demander", "service-provider"] = "supplier"
    consent: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{130}$",
                                description="the account's EIP-712 signature of the typed data of "
                                            "GET /api/v1/entities/consent; omitted only where this node holds "
                                            "the account's key")
    deadline: int | None = Field(default=None, ge=0, le=2**64 - 1,
                                 description="the deadline of the signed consent (unix time)")


class IssueIn(_Strict):
    record: Hash
    days: int = Field(default=365, ge=1, le=3650)


class OfflineVerifyIn(_Strict):
    certificate: dict[str, Any]
    snapshot: dict[str, Any]
    trusted: list[Address] = Field(default_factory=list, max_length=64,
                                   description="keys trusted to sign snapshots (default: this exchange's keys)")


class RecognizeIn(_Strict):
    certificate: dict[str, Any]
    onChain: bool = True


class SnapshotIn(_Strict):
    anchor: bool = True


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = None
    errors: list[dict[str, str]] | None = None
    rule: str | None = None


# ---------------------------------------------------------------------- responses (documented; tests hold the
# real responses to these models, see tests/api/test_openapi.py)


class _Open(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IndexStateOut(_Open):
    checkpoint: int
    head: int
    lag: int
    records: int
    follower_errors: int
    last_error: str | None
    subscribed: bool = Field(description="whether new heads are pushed to the follower ([chain] ws set, socket up)")


class HealthOut(_Open):
    status: Literal["ok", "degraded"]
    exchange: int | None = Field(description="the exchange this node acts for; null on a supervisor's node")
    supervisor: int | None = Field(description="the supervisor this node acts for, if it is a supervisor's node")
    chainId: int
    index: IndexStateOut


class FederationOut(_Open):
    chain: dict[str, Any]
    contracts: dict[str, Any]
    federation: dict[str, Any]
    counts: dict[str, int]
    exchange: int | None
    supervisor: int | None
    index: IndexStateOut
