"""The HTTP API's models of the data property register (provenance.services.property; the contract is
PropertyRegister.sol): the bodies of the writes in the users' values; the property documents they answer are the
service's results (provenance.services.results.property), named here too.

Amounts are decimal strings in the currency's major unit ("1250000.00"), currencies ISO 4217 codes, dates
ISO 8601 (a date is midnight UTC; a date-time carries its offset). A party's consent is its mandate to this
node's exchange unless ``consents`` carries its EIP-712 signature (see ``consent-typed-data``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from provenance.api.schemas import HASH_PATTERN, Hash, RightName, _Strict
from provenance.services.results.property import (
    ActionName,
    AssessmentOut,
    AssessmentRefOut,
    ChangeOut,
    ConsentTypedDataOut,
    DisputeOut,
    EncumbranceOut,
    EncumbrancesOut,
    OwnerChangeOut,
    PartyName,
    PledgeOut,
    PropertyOut,
    PropertyStateOut,
    PublicPropertyOut,
)

EntityId = Annotated[int, Field(ge=1, le=2**32 - 1, description="entity id")]
Amount = Annotated[str, Field(pattern=r"^(0|[1-9][0-9]{0,37})(\.[0-9]{1,4})?$", examples=["1250000.00"],
                              description="a decimal amount in the currency's major unit")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["CNY"], description="ISO 4217 code")]
IsoDate = Annotated[str, Field(min_length=10, max_length=40, examples=["2027-06-30"],
                               description="ISO 8601 date (midnight UTC) or date-time with its offset")]
HashOrText = Annotated[str, Field(min_length=1, max_length=512,
                                  description="a 32-byte hex hash, or a text whose keccak-256 is recorded")]
# An assessment as people name it: its order within the record, or the 32-byte id the contract knows it by.
AssessmentNumber = Annotated[int, Field(ge=1, le=2**32 - 1, description="the assessment's order in the record")]
AssessmentId = Annotated[str, Field(pattern=HASH_PATTERN, description="the assessment's id (0x, 32 bytes)")]
AssessmentRef = AssessmentNumber | AssessmentId
CancelReason = Literal["owner-request", "data-destroyed", "rights-expired", "false-registration", "court-order",
                       "arbitration-ruling", "merged", "other"]


class ConsentIn(_Strict):
    """A party's EIP-712 PropertyConsent signature (its account's), as ``consent-typed-data`` describes it."""

    deadline: int = Field(ge=0, le=2**63 - 1, description="Unix seconds, as in the signed message")
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$", description="65 bytes r || s || v, low s")


Consents = Annotated[dict[PartyName, ConsentIn | Literal["mandate"]], Field(
    default_factory=dict, description="per party, its signature; a party left out consents by its mandate")]


class _Write(_Strict):
    consents: Consents


class TransferIn(_Write):
    to: EntityId


class ChangeIn(_Write):
    rights: list[RightName] | None = Field(default=None, min_length=1, max_length=3)
    metadataHash: Hash | None = None
    reason: HashOrText


class ConsentOnlyIn(_Write):
    """A write whose only input is its parties' consents (renewal, release)."""


class CancelIn(_Write):
    reason: CancelReason


class PledgeIn(_Write):
    pledgee: EntityId
    amount: Amount
    currency: Currency
    until: IsoDate
    reference: HashOrText = Field(description="the pledgee's reference (a contract number)")


class EnforceIn(_Write):
    to: EntityId = Field(description="the pledgee, or the buyer it names")


class AssessIn(_Write):
    """An accredited assessor's attestation: quality (score, standard), compliance (passed, scope) or valuation
    (amount, currency, method, valuationDate), each with its report."""

    assessor: EntityId
    kind: Literal["quality", "compliance", "valuation"]
    score: int | None = Field(default=None, ge=0, le=10_000, description="quality: basis points (87.5% is 8750)")
    standard: HashOrText | None = None
    passed: bool | None = None
    scope: HashOrText | None = None
    amount: Amount | None = None
    currency: Currency | None = None
    method: Literal["cost", "income", "market"] | None = None
    valuationDate: IsoDate | None = None
    validUntil: IsoDate | None = None
    report: HashOrText = Field(description="the report's hash, or its text")


class ListIn(_Strict):
    complianceAssessment: AssessmentRef | None = Field(
        default=None, description="the passed compliance assessment in force that the registrar's rule needs, by "
                                  "its number or id (default: the record's latest such, by an accredited assessor)")


class DisputeIn(_Write):
    claimant: EntityId
    claim: HashOrText


class RuleIn(_Write):
    arbitrator: EntityId
    outcome: Literal["dismissed", "ownership", "cancelled"]
    newOwner: EntityId | None = None
    ruling: HashOrText


__all__ = ["ActionName", "AssessIn", "AssessmentOut", "AssessmentRefOut", "CancelIn", "ChangeIn", "ChangeOut",
           "ConsentIn", "ConsentOnlyIn", "ConsentTypedDataOut", "DisputeIn", "DisputeOut", "EncumbranceOut",
           "EncumbrancesOut", "EnforceIn", "ListIn", "OwnerChangeOut", "PartyName", "PledgeIn", "PledgeOut",
           "PropertyOut", "PropertyStateOut", "PublicPropertyOut", "RuleIn", "TransferIn"]
