"""Request bodies and parameter shapes of the HTTP API (pydantic), so the OpenAPI document states every rule.

Hashes and ids are ``0x`` and 64 hex digits, addresses ``0x`` and 40; the same pattern is used by every endpoint
so a malformed value is refused the same way (422, naming the field) wherever it appears.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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
    model_config = ConfigDict(extra="forbid")


class RegistrationIn(_Strict):
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


class EntityIn(_Strict):
    identifier: str = Field(min_length=1, max_length=128,
                            description="e.g. the unified social credit code; only its hash is stored")
    account: Address
    role: Literal["supplier", "demander", "service-provider"] = "supplier"


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
