"""Every custom error of every contract, mapped to one error kind.

A contract's refusal means the same thing whichever interface reports it: the HTTP status
(provenance.api.problems) and the CLI exit code (provenance.cli) both come from the kind given here, through
the one table provenance.errors.OUTCOMES. The names are those of the committed ABIs
(provenance/chain/artifacts/*.json); tests/chain/test_reverts.py fails when an ABI declares an error this table
does not name, so a new error cannot be forgotten. An error shared by several contracts has one kind.
"""

from __future__ import annotations

from collections.abc import Mapping

from provenance.chain.abi import load_artifact
from provenance.errors import OUTCOMES, ContractReverted, ErrorKind, Outcome, ProvenanceError

CONTRACTS = ("Federation", "Registry", "CrossBorder", "PropertyRegister")

_NOT_FOUND = ("UnknownRecord", "UnknownApplication", "UnknownSpotCheck", "UnknownEntity", "UnknownSupervisor",
              "UnknownAssessment")
_FORBIDDEN = ("NotRegistrar", "NotExchangeKey", "NotEntityAccount", "NoMandate", "ExchangeNotActive",
              "NotSupervisorKey", "NotExporterAgent", "NotCheckSupervisor", "NotEntityRegistrar",
              # PropertyRegister: the caller, or a party, may not do this (no consent, not appointed, not the binder)
              "NotPropertyRegister", "NotBinder", "NoConsent", "NotAccredited", "NotArbitrator", "ArbitratorIsParty")
_CONFLICT = ("AlreadyRegistered", "EntityExists", "AlreadyRecognized", "CheckpointExists", "AlreadyApproved",
             "KeyAlreadyUsed", "DuplicateExchangeCode", "ProposalAlreadyExecuted", "DuplicateSupervisorCode",
             "ApplicationNotPending", "SpotCheckNotAnnounced", "SpotCheckNotDrawn", "SeedNotYetAvailable",
             # The record's property state: the same call may succeed once it changes (renewed, released, ruled)
             "RecordEncumbered", "RecordExpired", "UnderDispute", "ParentExpired", "AlreadyPledged", "NotPledged",
             "AlreadyListed", "AlreadyAssessed", "AlreadyDisputed", "NotDisputed", "AlreadyRuled", "NotRuled",
             "AlreadyWithdrawn", "AlreadyAccredited", "AlreadyArbitrator", "DecisionAlreadyApplied", "AlreadyBound",
             "NotBound",
             # Federation: an Ed25519 note key is listed once, ever
             "NoteKeyAlreadyUsed")
# A fixed bound of the contract: the call is well-formed and permitted, but there is no room for it.
_LIMIT_EXCEEDED = ("VolumeExceeded", "TooManyParents", "TooManyKeys", "NonceExhausted", "EntityIdsExhausted",
                   "ValidityTooLong", "DocumentTooLarge", "AmountTooLarge", "TooManyNoteKeys")
# The contract's rules refuse these values (a transition, a grade, a signature, an expiry, a batch's shape).
_RULE_VIOLATED = (
    # Federation
    "InvalidExchangeCode", "InvalidExchangeName", "InvalidPayload", "InvalidSignatureLength", "InvalidSignatureS",
    "InvalidSignatureV", "InvalidThreshold", "KeyAlreadyRevoked", "KeyNotOwned", "LastActiveKey", "ProposalExpired",
    "ProposalStale", "SupervisorNotActive", "UnknownExchange", "UnknownProposal", "WrongKeySigner", "ZeroKey",
    "ZeroNoteKey", "UnknownNoteKey", "NoteKeyAlreadyRevoked",
    # Registry
    "CheckpointNotAnchored", "CheckpointRootMismatch", "CoreNotListable", "DecisionForOtherRegistry",
    "DecisionOutdated", "DuplicateParent", "EmptyBatch", "EntityIsFrozen", "EntityNotFrozen", "FutureBlock",
    "GradeBelowParent", "InvalidGrade", "InvalidKind", "InvalidNonce", "InvalidRights", "InvalidRole",
    "InvalidSource", "InvalidStatusTransition", "MalformedBatch", "NotEntityDecision", "ParentRevoked",
    "ProposalNotExecuted", "SelfParent", "SelfRecognition", "SelfSupersede", "SelfWitness", "SignatureExpired",
    "StoredRecord", "SupersedeMismatch", "TreeSizeMismatch", "UnknownParent", "WrongSigner", "ZeroAccount",
    "ZeroContentHash", "ZeroFederation", "ZeroIdentifier", "ZeroRoot",
    # Registry: the catalogue's publications (a document that is not the record's, or not publishable)
    "DocumentCountMismatch", "EmptyDocument", "MetadataMismatch", "NotPublicGrade",
    # CrossBorder
    "ApplicationNotApproved", "ApprovalExpired", "AssessmentRequired", "CoreDataNotExportable", "EmptyDelivery",
    "ExporterNotOwner", "InvalidCatalogueEntry", "InvalidCategory", "InvalidExpiry", "InvalidJurisdiction",
    "InvalidPurpose", "InvalidSampleSize", "InvalidSignature", "NothingToCheck", "RecordNotActive",
    "RegistryFederationMismatch", "ResultCountMismatch", "SampleMismatch", "ZeroAddress",
    # Registry and PropertyRegister: the property rules
    "ZeroPropertyRegister", "RegistryMismatch", "SameHolder", "NoChange", "NoTerm", "InvalidReasonCode",
    "NotPledgeable", "WrongRole", "InvalidUntil", "ZeroAmount", "ZeroHash", "InvalidAssessmentKind", "InvalidScore",
    "InvalidMethod", "InvalidValidity", "NotListable", "ComplianceRequired", "InvalidOutcome", "NotPropertyDecision",
    "DecisionForOtherRegister",
)


def _table() -> dict[str, ErrorKind]:
    table: dict[str, ErrorKind] = {}
    for kind, names in ((ErrorKind.NOT_FOUND, _NOT_FOUND), (ErrorKind.FORBIDDEN, _FORBIDDEN),
                        (ErrorKind.CONFLICT, _CONFLICT), (ErrorKind.LIMIT_EXCEEDED, _LIMIT_EXCEEDED),
                        (ErrorKind.RULE_VIOLATED, _RULE_VIOLATED)):
        for name in names:
            if name in table:
                raise AssertionError(f"custom error {name} is given two kinds")
            table[name] = kind
    return table


KINDS: Mapping[str, ErrorKind] = _table()
"""Custom error name -> kind, for every error of every contract."""

UNLISTED = ErrorKind.RULE_VIOLATED
"""The kind of an error no committed ABI declares (a newer contract than this node): refused by a rule."""


def abi_errors() -> dict[str, frozenset[str]]:
    """The custom errors each committed ABI declares, by contract."""
    return {name: frozenset(e["name"] for e in load_artifact(name).abi if e["type"] == "error")
            for name in CONTRACTS}


def revert_kind(error: str) -> ErrorKind:
    """The kind of a contract's custom error, by its name."""
    return KINDS.get(error, UNLISTED)


def kind_of(exc: ProvenanceError) -> ErrorKind | None:
    """The kind of a failure the node reports, or None for one that is not a refusal (storage, chain, keys)."""
    if isinstance(exc, ContractReverted):
        return revert_kind(exc.error)
    kind = getattr(exc, "kind", None)
    return kind if isinstance(kind, ErrorKind) else None


def outcome_of(exc: ProvenanceError) -> Outcome | None:
    """The HTTP status and CLI exit code of a refusal, from the one table; None for other failures."""
    kind = kind_of(exc)
    return None if kind is None else OUTCOMES[kind]


def exit_code(exc: ProvenanceError) -> int:
    """The CLI's exit code for a failure: a refusal's from its kind, any other failure's from its class."""
    outcome = outcome_of(exc)
    return exc.exit_code if outcome is None else outcome.exit_code
