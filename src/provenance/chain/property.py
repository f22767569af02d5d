"""The data property register on the chain: transfer, change, renewal, cancellation, pledge, assessment, listing,
dispute and governance decisions (``contracts/PropertyRegister.sol``, described in ``IPropertyRegister.sol``).

Every write takes its signer (a key of the submitting member exchange) and each party's :class:`Consent`: by default
:data:`Consent.MANDATE`, the party's mandate to that exchange, or the party account's EIP-712 ``PropertyConsent``
signature (EIP-712: https://eips.ethereum.org/EIPS/eip-712). :func:`consent_digest` mirrors the contract's
``consentDigest`` byte for byte and :func:`consent_typed_data` gives the ``eth_signTypedData_v4`` document a wallet
signs; the ``*_terms`` functions give each action's ``termsHash`` (keccak256 of the ABI encoding of the call's
arguments other than the record id and the consents, as the interface documents). Refusals reach the caller as
:class:`~provenance.errors.ContractReverted` naming the rule.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, ClassVar

from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak
from eth_utils.address import to_checksum_address

from provenance.chain.contracts import FEDERATION, PROPERTY_REGISTER, Contracts, TxResult
from provenance.chain.registry import ProposalOutcome, WriteResult
from provenance.core import eip712
from provenance.errors import ConfigError, ContractReverted, InvalidInput, NotFound
from provenance.types import Address

DOMAIN_NAME = "ProvenancePropertyRegister"
CONSENT_TYPE = ("PropertyConsent(string action,bytes32 recordId,uint32 entityId,uint32 counterparty,"
                "bytes32 termsHash,uint256 nonce,uint256 deadline)")
ACTIONS = ("transfer", "change", "renew", "cancel", "pledge", "release", "enforce", "assess", "withdraw", "dispute",
           "rule")
NO_TERMS = keccak(b"")

# Labels of the contract's small numbers, shared by the index, the services and the interfaces.
KINDS = ("resource", "product", "asset")
ASSESSMENT_KINDS = ("quality", "compliance", "valuation")
METHODS = ("cost", "income", "market")
OUTCOMES = {1: "dismissed", 2: "ownership", 3: "cancelled"}
CANCEL_REASONS = {1: "owner-request", 2: "data-destroyed", 3: "rights-expired", 4: "false-registration",
                  5: "court-order", 6: "arbitration-ruling", 7: "merged", 8: "other"}
REASON_ARBITRATION = 6
# IFederation.ProposalAction.PropertyDecision: after the five membership actions and the three entity decisions.
PROPERTY_DECISION_ACTION = 8

_PLEDGE_TERMS_ABI = "(uint32,uint128,bytes3,uint40,bytes32)"
_ASSESSMENT_ABI = "(uint32,uint8,uint16,bool,uint8,uint128,bytes3,bytes32,uint40,uint40,bytes32)"


class PropertyDecision(enum.IntEnum):
    """The governance decisions a ``PropertyDecision`` proposal carries (``IPropertyRegister.applyDecision``)."""

    ACCREDIT_ASSESSOR = 0
    WITHDRAW_ACCREDITATION = 1
    APPOINT_ARBITRATOR = 2
    REMOVE_ARBITRATOR = 3
    SET_TERM = 4
    SET_COMPLIANCE_RULE = 5

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True)
class Consent:
    """A party's consent to one call: an empty ``signature`` stands for its mandate to the calling exchange."""

    deadline: int
    signature: bytes
    MANDATE: ClassVar[Consent]

    def as_abi(self) -> tuple[int, bytes]:
        return (_uint(self.deadline, 256, "a consent deadline"), bytes(self.signature))


Consent.MANDATE = Consent(0, b"")


@dataclass(frozen=True)
class PledgeTerms:
    """A pledge as registered: the pledgee (a financial institution), the secured amount in the currency's minor
    unit, the ISO 4217 currency, the due date (unix time) and the pledgee's reference."""

    pledgee: int
    amount: int
    currency: str
    until: int
    reference: bytes = bytes(32)

    def as_abi(self) -> tuple[int, int, bytes, int, bytes]:
        return (_uint(self.pledgee, 32, "a pledgee"), _uint(self.amount, 128, "a pledge amount"),
                currency_code(self.currency), _uint(self.until, 40, "a due date"),
                _h32(self.reference, "a pledge reference"))


@dataclass(frozen=True)
class AssessmentInput:
    """An assessment as submitted (``IPropertyRegister.AssessmentInput``); ``kind`` 0 quality, 1 compliance,
    2 valuation, ``method`` 0 cost, 1 income, 2 market; fields another kind does not use stay 0."""

    assessor: int
    kind: int
    report_hash: bytes
    score: int = 0
    passed: bool = False
    method: int = 0
    amount: int = 0
    currency: str = ""
    standard: bytes = bytes(32)
    valuation_date: int = 0
    valid_until: int = 0

    def as_abi(self) -> tuple[Any, ...]:
        return (_uint(self.assessor, 32, "an assessor"), _uint(self.kind, 8, "an assessment kind"),
                _uint(self.score, 16, "a score"), bool(self.passed), _uint(self.method, 8, "a method"),
                _uint(self.amount, 128, "an amount"), currency_code(self.currency) if self.currency else bytes(3),
                _h32(self.standard, "a standard"), _uint(self.valuation_date, 40, "a valuation date"),
                _uint(self.valid_until, 40, "a validity"), _h32(self.report_hash, "a report hash"))


@dataclass(frozen=True)
class PropertyState:
    """``propertyOf``: the record's expiry (0: none) and flags, as the contract computes them now."""

    expires_at: int
    expired: bool
    listed: bool
    pledged: bool
    disputed: bool
    ruled: bool


@dataclass(frozen=True)
class PledgeState:
    """``pledgeOf``: the pledge in force (``pledgee`` 0: none) and how many pledges the record ever had."""

    pledgee: int
    amount: int
    currency: str
    until: int
    seq: int


@dataclass(frozen=True)
class DisputeState:
    """``disputeOf``: the record's open or last dispute (``seq`` 0: never disputed)."""

    seq: int
    claimant: int
    arbitrator: int
    outcome: int
    new_owner: int
    open: bool
    ruled: bool
    filed_at: int
    claim_hash: bytes
    ruling_hash: bytes


@dataclass(frozen=True)
class AssessmentState:
    """``assessment(id, assessmentId)`` as stored (``assessor`` 0: no such assessment of this record)."""

    assessor: int
    kind: int
    passed: bool
    score: int
    method: int
    currency: str
    valuation_date: int
    valid_until: int
    withdrawn: bool
    amount: int


# ---------------------------------------------------------------------- consents (pure)


def consent_digest(chain_id: int, contract: bytes, action: str, record_id: bytes, entity_id: int,
                   counterparty: int, terms_hash: bytes, nonce: int, deadline: int) -> bytes:
    """keccak256(0x1901 || domainSeparator || hashStruct(PropertyConsent)): what the party's account signs."""
    struct_hash = keccak(b"".join((
        keccak(CONSENT_TYPE.encode()), keccak(_action(action).encode()), _h32(record_id, "a record id"),
        _uint(entity_id, 32, "an entity id").to_bytes(32, "big"),
        _uint(counterparty, 32, "a counterparty").to_bytes(32, "big"), _h32(terms_hash, "a terms hash"),
        _uint(nonce, 256, "a nonce").to_bytes(32, "big"), _uint(deadline, 256, "a deadline").to_bytes(32, "big"))))
    domain = eip712.domain_separator(chain_id, Address(bytes(contract)), DOMAIN_NAME)
    return keccak(b"\x19\x01" + domain + struct_hash)


def consent_typed_data(chain_id: int, contract: bytes, action: str, record_id: bytes, entity_id: int,
                       counterparty: int, terms_hash: bytes, nonce: int, deadline: int) -> dict[str, object]:
    """The ``eth_signTypedData_v4`` document of :func:`consent_digest` (types with EIP712Domain, primaryType,
    domain, message): what a wallet holding the party's account signs."""
    return eip712.typed_data(DOMAIN_NAME, chain_id, bytes(contract), CONSENT_TYPE,
                             (_action(action), _h32(record_id, "a record id"), entity_id, counterparty,
                              _h32(terms_hash, "a terms hash"), nonce, deadline))


def transfer_terms(to: int) -> bytes:
    return keccak(encode(["uint32"], [_uint(to, 32, "an entity id")]))


def change_terms(rights: int, metadata_hash: bytes, reason: bytes) -> bytes:
    return keccak(encode(["uint8", "bytes32", "bytes32"], [_uint(rights, 8, "rights"),
                                                          _h32(metadata_hash, "a metadata hash"),
                                                          _h32(reason, "a reason")]))


def cancel_terms(reason_code: int) -> bytes:
    return keccak(encode(["uint8"], [_uint(reason_code, 8, "a reason code")]))


def pledge_terms(terms: PledgeTerms) -> bytes:
    return keccak(encode([_PLEDGE_TERMS_ABI], [terms.as_abi()]))


def enforce_terms(to: int) -> bytes:
    return transfer_terms(to)


def assess_terms(a: AssessmentInput) -> bytes:
    return keccak(encode([_ASSESSMENT_ABI], [a.as_abi()]))


def withdraw_terms(assessment_id: bytes) -> bytes:
    return keccak(encode(["bytes32"], [_h32(assessment_id, "an assessment id")]))


def assessment_id(assessor: int, kind: int, report_hash: bytes) -> bytes:
    """An assessment's id within its record: keccak256(abi.encode(uint32 assessor, uint8 kind, bytes32 report))."""
    return keccak(encode(["uint32", "uint8", "bytes32"], [_uint(assessor, 32, "an assessor"),
                                                         _uint(kind, 8, "an assessment kind"),
                                                         _h32(report_hash, "a report hash")]))


def dispute_terms(claimant: int, claim_hash: bytes) -> bytes:
    return keccak(encode(["uint32", "bytes32"], [_uint(claimant, 32, "a claimant"), _h32(claim_hash, "a claim")]))


def rule_terms(arbitrator: int, outcome: int, new_owner: int, ruling_hash: bytes) -> bytes:
    return keccak(encode(["uint32", "uint8", "uint32", "bytes32"],
                         [_uint(arbitrator, 32, "an arbitrator"), _uint(outcome, 8, "an outcome"),
                          _uint(new_owner, 32, "a new owner"), _h32(ruling_hash, "a ruling hash")]))


def currency_code(text: str) -> bytes:
    """An ISO 4217 alphabetic code as the contract keeps it (bytes3)."""
    if not (isinstance(text, str) and len(text) == 3 and text.isascii() and text.isalpha() and text.isupper()):
        raise InvalidInput(f"a currency is an ISO 4217 code of three capital letters, not {text!r}")
    return text.encode("ascii")


def currency_text(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode("ascii", "replace")


# ---------------------------------------------------------------------- the service


class PropertyService:
    def __init__(self, contracts: Contracts) -> None:
        address = contracts.deployment.property_register
        if address is None or not contracts.has_property_register:
            raise ConfigError("this deployment has no property register (node.toml [contracts] property_register)")
        self.contracts = contracts
        self.chain = contracts.chain
        self.address: bytes = address

    # ------------------------------------------------------------------ consents

    def consent_digest(self, action: str, record_id: bytes, entity_id: int, counterparty: int, terms_hash: bytes,
                       nonce: int, deadline: int) -> bytes:
        return consent_digest(self.chain.chain_id, self.address, action, record_id, entity_id, counterparty,
                              terms_hash, nonce, deadline)

    def consent_typed_data(self, action: str, record_id: bytes, entity_id: int, counterparty: int,
                           terms_hash: bytes, deadline: int, nonce: int | None = None) -> dict[str, object]:
        """The document the party signs; ``nonce`` defaults to the entity's next one (``nonceOf``)."""
        return consent_typed_data(self.chain.chain_id, self.address, action, record_id, entity_id, counterparty,
                                  terms_hash, self.nonce_of(entity_id) if nonce is None else nonce, deadline)

    def sign_consent(self, account: LocalAccount, action: str, record_id: bytes, entity_id: int, counterparty: int,
                     terms_hash: bytes, *, deadline: int, nonce: int | None = None) -> Consent:
        """The party's side: its account signs the consent (``nonce`` the entity's next one unless given; an
        entity signing twice for one call signs the second with the next nonce, in the order of the parties)."""
        digest = self.consent_digest(action, record_id, entity_id, counterparty, terms_hash,
                                     self.nonce_of(entity_id) if nonce is None else nonce, deadline)
        return Consent(deadline, eip712.sign_digest(digest, bytes(account.key)))

    # ------------------------------------------------------------------ holder's rights

    def transfer(self, signer: LocalAccount, record_id: bytes, to: int, *, holder: Consent = Consent.MANDATE,
                 receiver: Consent = Consent.MANDATE, pledgee: Consent = Consent.MANDATE) -> WriteResult:
        return self._write(signer, "transfer", record_id, _uint(to, 32, "an entity id"), holder.as_abi(),
                           receiver.as_abi(), pledgee.as_abi())

    def change(self, signer: LocalAccount, record_id: bytes, rights: int, metadata_hash: bytes,
               reason: bytes = bytes(32), *, holder: Consent = Consent.MANDATE) -> WriteResult:
        return self._write(signer, "change", record_id, _uint(rights, 8, "rights"),
                           _h32(metadata_hash, "a metadata hash"), _h32(reason, "a reason"), holder.as_abi())

    def renew(self, signer: LocalAccount, record_id: bytes, *, holder: Consent = Consent.MANDATE) -> WriteResult:
        return self._write(signer, "renew", record_id, holder.as_abi())

    def cancel(self, signer: LocalAccount, record_id: bytes, reason_code: int, *,
               pledgee: Consent = Consent.MANDATE) -> WriteResult:
        return self._write(signer, "cancel", record_id, _uint(reason_code, 8, "a reason code"), pledgee.as_abi())

    # ------------------------------------------------------------------ pledges

    def pledge(self, signer: LocalAccount, record_id: bytes, terms: PledgeTerms, *,
               holder: Consent = Consent.MANDATE, pledgee: Consent = Consent.MANDATE) -> tuple[int, WriteResult]:
        """Register a pledge; returns its sequence number among the record's pledges."""
        tx = self._tx(signer, "pledge", _h32(record_id, "a record id"), terms.as_abi(), holder.as_abi(),
                      pledgee.as_abi())
        return int(tx.event("Pledged").args["pledgeSeq"]), _write(tx)

    def release(self, signer: LocalAccount, record_id: bytes, *, pledgee: Consent = Consent.MANDATE) -> WriteResult:
        return self._write(signer, "release", record_id, pledgee.as_abi())

    def enforce(self, signer: LocalAccount, record_id: bytes, to: int, *,
                pledgee: Consent = Consent.MANDATE) -> WriteResult:
        return self._write(signer, "enforce", record_id, _uint(to, 32, "an entity id"), pledgee.as_abi())

    # ------------------------------------------------------------------ assessments and listing

    def assess(self, signer: LocalAccount, record_id: bytes, a: AssessmentInput, *,
               assessor: Consent = Consent.MANDATE) -> tuple[bytes, WriteResult]:
        """Record an assessment; returns its id within the record (:func:`assessment_id`)."""
        tx = self._tx(signer, "assess", _h32(record_id, "a record id"), a.as_abi(), assessor.as_abi())
        return bytes(tx.event("Assessed").args["assessmentId"]), _write(tx)

    def withdraw_assessment(self, signer: LocalAccount, record_id: bytes, assessment: bytes, *,
                            assessor: Consent = Consent.MANDATE) -> WriteResult:
        return self._write(signer, "withdrawAssessment", record_id, _h32(assessment, "an assessment id"),
                           assessor.as_abi())

    def list_record(self, signer: LocalAccount, record_id: bytes,
                    compliance_assessment: bytes = bytes(32)) -> WriteResult:
        """List a product or asset for trading (the contract's ``list``); ``compliance_assessment`` names the passed
        compliance assessment in force when the registrar's compliance rule is on."""
        return self._write(signer, "list", record_id, _h32(compliance_assessment, "an assessment id"))

    # ------------------------------------------------------------------ disputes

    def file_dispute(self, signer: LocalAccount, record_id: bytes, claimant: int, claim_hash: bytes, *,
                     claimant_consent: Consent = Consent.MANDATE) -> tuple[int, WriteResult]:
        """File a dispute; returns its sequence number among the record's disputes."""
        tx = self._tx(signer, "fileDispute", _h32(record_id, "a record id"), _uint(claimant, 32, "a claimant"),
                      _h32(claim_hash, "a claim hash"), claimant_consent.as_abi())
        return int(tx.event("DisputeFiled").args["disputeSeq"]), _write(tx)

    def rule(self, signer: LocalAccount, record_id: bytes, arbitrator: int, outcome: int, new_owner: int,
             ruling_hash: bytes, *, arbitrator_consent: Consent = Consent.MANDATE) -> WriteResult:
        return self._write(signer, "rule", record_id, _uint(arbitrator, 32, "an arbitrator"),
                           _uint(outcome, 8, "an outcome"), _uint(new_owner, 32, "a new owner"),
                           _h32(ruling_hash, "a ruling hash"), arbitrator_consent.as_abi())

    def execute_ruling(self, signer: LocalAccount, record_id: bytes) -> WriteResult:
        return self._write(signer, "executeRuling", record_id)

    # ------------------------------------------------------------------ governance

    def propose_decision(self, signer: LocalAccount, decision: PropertyDecision, subject: int,
                         value: int = 0) -> ProposalOutcome:
        """Propose a property decision to the federation, and apply it here at once if the proposal executed."""
        payload = encode(["address", "uint8", "uint32", "uint64"],
                         [to_checksum_address(self.address), int(decision), _uint(subject, 32, "a subject"),
                          _uint(value, 64, "a value")])
        tx = self.contracts.transact(signer, FEDERATION, "propose", PROPERTY_DECISION_ACTION, payload)
        proposal_id = int(tx.event("ProposalCreated").args["proposalId"])
        approvals = int(tx.event("ProposalApproved").args["approvals"])
        executed = any(e.name == "ProposalExecuted" for e in tx.events)
        if executed:
            self.apply_decision(signer, proposal_id)
        return ProposalOutcome(proposal_id, approvals, executed, tx.receipt.tx_hash, tx.receipt.gas_used)

    def apply_decision(self, signer: LocalAccount, proposal_id: int) -> WriteResult:
        """Apply an executed property decision (anyone may send it; it applies once)."""
        return _write(self._tx(signer, "applyDecision", proposal_id))

    # ------------------------------------------------------------------ views

    def property_of(self, record_id: bytes) -> PropertyState:
        raw = self._call_record("propertyOf", record_id)[0]
        return PropertyState(int(raw[0]), *(bool(x) for x in raw[1:6]))

    def pledge_of(self, record_id: bytes) -> PledgeState:
        pledgee, amount, currency, until, seq = self._call("pledgeOf", _h32(record_id, "a record id"))[0]
        return PledgeState(int(pledgee), int(amount), currency_text(currency), int(until), int(seq))

    def dispute_of(self, record_id: bytes) -> DisputeState:
        (seq, claimant, arbitrator, outcome, new_owner, is_open, ruled, filed_at, claim_hash,
         ruling_hash) = self._call("disputeOf", _h32(record_id, "a record id"))[0]
        return DisputeState(int(seq), int(claimant), int(arbitrator), int(outcome), int(new_owner), bool(is_open),
                            bool(ruled), int(filed_at), bytes(claim_hash), bytes(ruling_hash))

    def assessment(self, record_id: bytes, assessment: bytes) -> AssessmentState:
        (assessor, kind, passed, score, method, currency, valuation_date, valid_until, withdrawn,
         amount) = self._call("assessment", _h32(record_id, "a record id"), _h32(assessment, "an assessment id"))[0]
        if assessor == 0:
            raise NotFound(f"record 0x{record_id.hex()} has no assessment 0x{assessment.hex()}")
        return AssessmentState(int(assessor), int(kind), bool(passed), int(score), int(method),
                               currency_text(currency), int(valuation_date), int(valid_until), bool(withdrawn),
                               int(amount))

    def term_of(self, kind: int) -> int:
        return int(self._call("termOf", _uint(kind, 8, "a kind"))[0])

    def is_accredited(self, entity_id: int) -> bool:
        return bool(self._call("isAccredited", _uint(entity_id, 32, "an entity id"))[0])

    def is_arbitrator(self, entity_id: int) -> bool:
        return bool(self._call("isArbitrator", _uint(entity_id, 32, "an entity id"))[0])

    def compliance_rule(self, exchange_id: int) -> bool:
        return bool(self._call("complianceRule", _uint(exchange_id, 16, "an exchange id"))[0])

    def encumbered(self, record_id: bytes) -> bool:
        return bool(self._call("encumbered", _h32(record_id, "a record id"))[0])

    def is_expired(self, record_id: bytes) -> bool:
        return bool(self._call_record("isExpired", record_id)[0])

    def nonce_of(self, entity_id: int) -> int:
        return int(self._call("nonceOf", _uint(entity_id, 32, "an entity id"))[0])

    # ------------------------------------------------------------------ plumbing

    def _call(self, fn: str, *args: Any) -> tuple[Any, ...]:
        return self.contracts.call(PROPERTY_REGISTER, fn, *args)

    def _call_record(self, fn: str, record_id: bytes) -> tuple[Any, ...]:
        try:
            return self._call(fn, _h32(record_id, "a record id"))
        except ContractReverted as exc:
            if exc.error == "UnknownRecord":
                raise NotFound(f"no record with id 0x{record_id.hex()}") from None
            raise

    def _tx(self, signer: LocalAccount, fn: str, *args: Any) -> TxResult:
        return self.contracts.transact(signer, PROPERTY_REGISTER, fn, *args)

    def _write(self, signer: LocalAccount, fn: str, record_id: bytes, *args: Any) -> WriteResult:
        return _write(self._tx(signer, fn, _h32(record_id, "a record id"), *args))


def _write(tx: TxResult) -> WriteResult:
    return WriteResult(tx.receipt.tx_hash, tx.receipt.block_number, tx.receipt.gas_used)


def _action(action: str) -> str:
    if action not in ACTIONS:
        raise InvalidInput(f"unknown consent action {action!r}: one of {', '.join(ACTIONS)}")
    return action


def _uint(value: int, bits: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << bits:
        raise InvalidInput(f"{what} must be an integer from 0 to 2**{bits}-1, not {value!r}")
    return value


def _h32(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != 32:
        raise InvalidInput(f"{what} is 32 bytes")
    return bytes(value)


__all__ = [
    "ACTIONS", "ASSESSMENT_KINDS", "CANCEL_REASONS", "KINDS", "METHODS", "NO_TERMS", "OUTCOMES", "PROPERTY_REGISTER",
    "AssessmentInput", "AssessmentState", "Consent", "DisputeState", "PledgeState", "PledgeTerms", "PropertyDecision",
    "PropertyService", "PropertyState", "assess_terms", "assessment_id", "cancel_terms", "change_terms",
    "consent_digest", "consent_typed_data", "currency_code", "currency_text", "dispute_terms", "enforce_terms",
    "pledge_terms", "rule_terms", "transfer_terms", "withdraw_terms",
]
