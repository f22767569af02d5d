// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IRegistry} from "./IRegistry.sol";

/// @title Data property register: transfer, change, renewal, cancellation, pledge, assessment and dispute of
/// the Registry's records
/// @notice The rights a registration records (holder, rights, metadata document) change here, with the consent of
/// every party, while the record id, its content and its lineage stay. The Registry keeps the record and its
/// status (this contract writes them through the Registry's `propertyUpdate` and `propertyRevoke` hooks); this
/// contract keeps what only the property rules need: the terms per kind and renewals, pledges, assessments,
/// listings, disputes, and the governance-appointed assessors and arbitrators.
/// @dev Writes are sent by a key of an active member exchange. "The registrar" is the record's registrar exchange.
/// Every write refuses an unknown record (`UnknownRecord`, from the Registry) and a record that is not Active.
///
/// Consent: each party named below consents either by a mandate it granted the calling exchange
/// (`IRegistry.hasMandate`; a frozen entity has none) with an empty `signature`, or by its account's EIP-712
/// signature (domain name "ProvenancePropertyRegister", version "1", this chain, this contract) of
/// `PropertyConsent(string action,bytes32 recordId,uint32 entityId,uint32 counterparty,bytes32 termsHash,
/// uint256 nonce,uint256 deadline)`, where `nonce` is `nonceOf(entityId)` (it increments on use, so a signature
/// serves once; two signatures of one entity in one call use consecutive nonces, in the order the parties are
/// listed), `deadline` is `Consent.deadline`, and only 65-byte low-s signatures with v in {27, 28} are accepted.
/// `termsHash` is keccak256 of the ABI encoding of the call's arguments other than the record id and the consents
/// (`keccak256("")` when there are none):
///   action     arguments hashed                                   party (counterparty)
///   transfer   (uint32 to)                                        holder (to), receiver (holder), pledgee (to)
///   change     (uint8 rights, bytes32 metadataHash, bytes32 reason) holder (0)
///   renew      ()                                                 holder (0)
///   cancel     (uint8 reasonCode)                                 pledgee (holder)
///   pledge     (PledgeTerms terms)                                holder (pledgee), pledgee (holder)
///   release    ()                                                 pledgee (holder)
///   enforce    (uint32 to)                                        pledgee (to)
///   assess     (AssessmentInput a)                                assessor (holder)
///   withdraw   (bytes32 assessmentId)                             assessor (holder)
///   dispute    (uint32 claimant, bytes32 claimHash)               claimant (holder)
///   rule       (uint32 arbitrator, uint8 outcome, uint32 newOwner, bytes32 rulingHash)  arbitrator (holder)
///
/// Expiry: a kind's term (`termOf`, set by governance, 0 = none) runs from the registration's block time, or from
/// the record's last renewal; a kind with no term has no expiry at all, renewed or not. An expired record cannot
/// be transferred, pledged, listed, exported (CrossBorder) or named as a parent until renewed.
/// Encumbrance: a pledged record, or one under dispute, cannot be revoked or superseded in the Registry.
interface IPropertyRegister {
    /// @notice A party's consent: an empty `signature` means the party's mandate to the calling exchange.
    struct Consent {
        uint256 deadline; // unix time after which the signature is refused (ignored for a mandate)
        bytes signature; // the party account's EIP-712 PropertyConsent signature, 65 bytes, or empty
    }

    /// @notice A pledge's terms as registered.
    struct PledgeTerms {
        uint32 pledgee; // entity id of a FinancialInstitution
        uint128 amount; // secured amount, in the currency's minor unit; non-zero, below 2**96
        bytes3 currency; // ISO 4217 code, e.g. "CNY"
        uint40 until; // unix time the secured obligation falls due; in the future when registered
        bytes32 pledgeeReference; // the pledgee's reference (emitted in `Pledged`, not stored)
    }

    /// @notice A pledge in force (`pledgee == 0`: none); `seq` counts the record's pledges, ended ones included
    /// (below 2**16). The amount is stored below 2**96.
    struct Pledge {
        uint32 pledgee;
        uint128 amount;
        bytes3 currency;
        uint40 until;
        uint32 seq;
    }

    /// @notice An assessment as submitted. `kind` 0 quality (`score` in basis points 0..10000, `standard`),
    /// 1 compliance (`passed`, `standard` = its scope), 2 valuation (`amount` non-zero and below 2**72,
    /// `currency`, `method` 0 cost / 1 income / 2 market, `valuationDate`). `validUntil` (0: open-ended, else in
    /// the future) applies to every kind; `reportHash` (non-zero) is the hash of the assessor's report.
    struct AssessmentInput {
        uint32 assessor;
        uint8 kind;
        uint16 score;
        bool passed;
        uint8 method;
        uint128 amount;
        bytes3 currency;
        bytes32 standard;
        uint40 valuationDate;
        uint40 validUntil;
        bytes32 reportHash;
    }

    /// @notice An assessment as stored (one slot); `standard` and `reportHash` are in the `Assessed` event.
    struct Assessment {
        uint32 assessor; // 0: no assessment with this id for this record
        uint8 kind;
        bool passed;
        uint16 score;
        uint8 method;
        bytes3 currency;
        uint40 valuationDate;
        uint40 validUntil;
        bool withdrawn;
        uint72 amount;
    }

    /// @notice A record's dispute: the open one, or the last one (`open == false`) once closed.
    struct Dispute {
        uint32 seq; // disputes filed against the record so far (0: never disputed)
        uint32 claimant;
        uint32 arbitrator; // 0 until ruled
        uint8 outcome; // 0 until ruled; 1 Dismissed, 2 OwnershipTo(newOwner), 3 Cancelled
        uint32 newOwner;
        bool open;
        bool ruled;
        uint40 filedAt;
        bytes32 claimHash;
        bytes32 rulingHash;
    }

    /// @notice A record's property state. `expiresAt` 0: the record does not expire.
    struct PropertyState {
        uint40 expiresAt;
        bool expired;
        bool listed;
        bool pledged;
        bool disputed;
        bool ruled;
    }

    /// @notice Emitted when the record passes to a new holder (by transfer, enforcement or ruling).
    event Transferred(bytes32 indexed id, uint32 indexed from, uint32 indexed to, uint16 registrar);
    /// @notice Emitted when a record's rights or metadata document change (a change, not a new version).
    event Changed(
        bytes32 indexed id,
        uint8 previousRights,
        uint8 rights,
        bytes32 previousMetadataHash,
        bytes32 metadataHash,
        bytes32 reason
    );
    /// @notice Emitted when a record is renewed (`previousExpiry` may be in the past).
    event Renewed(bytes32 indexed id, uint40 previousExpiry, uint40 expiresAt);
    /// @notice Emitted when a record is cancelled (the Registry emits StatusChanged to Revoked beside it).
    event Cancelled(bytes32 indexed id, uint8 reasonCode);
    /// @notice Emitted when a pledge is registered.
    event Pledged(
        bytes32 indexed id,
        uint32 pledgeSeq,
        uint32 indexed pledgee,
        uint128 amount,
        bytes3 currency,
        uint40 until,
        bytes32 pledgeeReference
    );
    /// @notice Emitted when a pledge ends otherwise than by enforcement: released, or ended by a cancellation or
    /// an executed ruling.
    event Released(bytes32 indexed id, uint32 pledgeSeq);
    /// @notice Emitted when a pledge is enforced: the record passes to `to` (a Transferred event follows).
    event Enforced(bytes32 indexed id, uint32 pledgeSeq, uint32 indexed to);
    /// @notice Emitted when an accredited assessor attests to a record.
    event Assessed(
        bytes32 indexed id,
        bytes32 indexed assessmentId,
        uint32 indexed assessor,
        uint8 kind,
        uint16 score,
        bool passed,
        uint8 method,
        uint128 amount,
        bytes3 currency,
        bytes32 standard,
        uint40 valuationDate,
        uint40 validUntil,
        bytes32 reportHash
    );
    /// @notice Emitted when an assessor withdraws its assessment.
    event AssessmentWithdrawn(bytes32 indexed id, bytes32 indexed assessmentId);
    /// @notice Emitted when the registrar lists a product or asset for trading.
    event Listed(bytes32 indexed id, uint16 indexed registrar);
    /// @notice Emitted when a dispute is filed.
    event DisputeFiled(bytes32 indexed id, uint32 disputeSeq, uint32 indexed claimant, bytes32 claimHash);
    /// @notice Emitted when an arbitrator rules on the open dispute.
    event Ruled(
        bytes32 indexed id,
        uint32 disputeSeq,
        uint32 indexed arbitrator,
        uint8 outcome,
        uint32 newOwner,
        bytes32 rulingHash
    );
    /// @notice Emitted when a ruling is carried out; the dispute is closed.
    event RulingExecuted(bytes32 indexed id, uint32 disputeSeq, uint8 outcome);
    /// @notice Emitted when governance accredits an assessment institution.
    event AssessorAccredited(uint32 indexed entityId, uint256 proposalId);
    /// @notice Emitted when governance withdraws an accreditation.
    event AccreditationWithdrawn(uint32 indexed entityId, uint256 proposalId);
    /// @notice Emitted when governance appoints an arbitration institution.
    event ArbitratorAppointed(uint32 indexed entityId, uint256 proposalId);
    /// @notice Emitted when governance removes an arbitrator.
    event ArbitratorRemoved(uint32 indexed entityId, uint256 proposalId);
    /// @notice Emitted when governance sets a kind's term (`seconds` 0: no expiry).
    event TermSet(uint8 indexed kind, uint64 seconds_, uint256 proposalId);
    /// @notice Emitted when governance turns an exchange's listing compliance rule on or off.
    event ComplianceRuleSet(uint16 indexed exchangeId, bool on, uint256 proposalId);
    /// @notice Emitted once, when the binder binds the Registry.
    event RegistryBound(address indexed registry);

    /// @notice A constructor or binding argument is the zero address.
    error ZeroAddress();
    /// @notice Only the deployer binds the Registry.
    error NotBinder(address caller);
    /// @notice The Registry is bound already.
    error AlreadyBound();
    /// @notice The Registry names another property register or another federation.
    error RegistryMismatch(address registry);
    /// @notice No Registry is bound yet: no write is accepted.
    error NotBound();
    /// @notice Only the record's registrar exchange may do this.
    error NotRegistrar(bytes32 id, uint16 registrar, uint16 caller);
    /// @notice The record is not Active (`status` an IRegistry.Status).
    error RecordNotActive(bytes32 id, uint8 status);
    /// @notice The record's term ran out at `expiresAt`; it must be renewed first.
    error RecordExpired(bytes32 id, uint40 expiresAt);
    /// @notice The record is under dispute.
    error UnderDispute(bytes32 id);
    /// @notice A parent of the new registration has expired.
    error ParentExpired(bytes32 parentId, uint40 expiresAt);
    /// @notice The new holder is the current one.
    error SameHolder(bytes32 id, uint32 entityId);
    /// @notice A change must change the rights or the metadata hash.
    error NoChange(bytes32 id);
    /// @notice Rights must be a non-empty subset of {1, 2, 4}.
    error InvalidRights(uint8 rights);
    /// @notice The record's kind has no term: nothing to renew.
    error NoTerm(uint8 kind);
    /// @notice Cancellation reason codes are 1 to 8 (see `cancel`).
    error InvalidReasonCode(uint8 reasonCode);
    /// @notice Only products and assets are pledged.
    error NotPledgeable(uint8 kind);
    /// @notice The record is pledged already.
    error AlreadyPledged(bytes32 id);
    /// @notice The record is not pledged.
    error NotPledged(bytes32 id);
    /// @notice The entity does not have the role this needs (`required`, an IRegistry.EntityRole).
    error WrongRole(uint32 entityId, uint8 required);
    /// @notice A pledge's due date must be in the future.
    error InvalidUntil(uint40 until);
    /// @notice An amount must not be zero.
    error ZeroAmount();
    /// @notice A stored amount must be below 2**96 (a pledge's) or 2**72 (a valuation's).
    error AmountTooLarge(uint128 amount);
    /// @notice A hash (claim, ruling, report) must not be zero.
    error ZeroHash();
    /// @notice The assessor is not accredited.
    error NotAccredited(uint32 entityId);
    /// @notice Assessment kinds are 0 quality, 1 compliance, 2 valuation.
    error InvalidAssessmentKind(uint8 kind);
    /// @notice A quality score is 0 to 10000 basis points.
    error InvalidScore(uint16 score);
    /// @notice Valuation methods are 0 cost, 1 income, 2 market.
    error InvalidMethod(uint8 method);
    /// @notice `validUntil` must be 0 or in the future.
    error InvalidValidity(uint40 validUntil);
    /// @notice No assessment of this record has this id.
    error UnknownAssessment(bytes32 id, bytes32 assessmentId);
    /// @notice The assessment was withdrawn already.
    error AlreadyWithdrawn(bytes32 id, bytes32 assessmentId);
    /// @notice This assessor already attested this report of this kind to this record.
    error AlreadyAssessed(bytes32 id, bytes32 assessmentId);
    /// @notice Only products and assets are listed.
    error NotListable(uint8 kind);
    /// @notice The record is listed already.
    error AlreadyListed(bytes32 id);
    /// @notice The registrar's rule needs a passed compliance assessment of this record in force.
    error ComplianceRequired(bytes32 id);
    /// @notice The record has an open dispute already.
    error AlreadyDisputed(bytes32 id);
    /// @notice The record has no open dispute.
    error NotDisputed(bytes32 id);
    /// @notice The open dispute is ruled already.
    error AlreadyRuled(bytes32 id);
    /// @notice The open dispute has no ruling to execute yet.
    error NotRuled(bytes32 id);
    /// @notice The entity is not an appointed arbitrator.
    error NotArbitrator(uint32 entityId);
    /// @notice The arbitrator is the claimant or the holder.
    error ArbitratorIsParty(uint32 entityId);
    /// @notice Outcomes are 1 Dismissed, 2 OwnershipTo (with a new owner), 3 Cancelled (new owner 0 otherwise).
    error InvalidOutcome(uint8 outcome);
    /// @notice The proposal has not (yet) been executed by the federation.
    error ProposalNotExecuted(uint256 proposalId);
    /// @notice The proposal is not a PropertyDecision.
    error NotPropertyDecision(uint256 proposalId, uint8 action);
    /// @notice The decision names another property register.
    error DecisionForOtherRegister(uint256 proposalId, address propertyRegister);
    /// @notice The decision was applied already.
    error DecisionAlreadyApplied(uint256 proposalId);
    /// @notice The entity is accredited already.
    error AlreadyAccredited(uint32 entityId);
    /// @notice The entity is an arbitrator already.
    error AlreadyArbitrator(uint32 entityId);
    /// @notice No consent: an empty signature and no mandate of the entity to the calling exchange.
    error NoConsent(uint32 entityId);
    /// @notice The consent's deadline has passed.
    error SignatureExpired(uint256 deadline, uint256 timestamp);
    /// @notice The consent was signed by another key than the entity's account (or over other terms or nonce).
    error WrongSigner(address recovered, address expected);
    /// @notice Signatures are 65 bytes (r, s, v); compact signatures are refused.
    error InvalidSignatureLength(uint256 length);
    /// @notice `s` is in the upper half of the curve order (malleable signature).
    error InvalidSignatureS(bytes32 s);
    /// @notice `v` must be 27 or 28.
    error InvalidSignatureV(uint8 v);

    /// @notice Bind the Registry, once, by the deployer; the Registry must name this contract and its federation.
    function bindRegistry(IRegistry registry_) external;

    /// @notice Transfer the record to entity `to`: the registrar, with the holder's and the receiver's consent
    /// and, while pledged, the pledgee's. Refused under dispute, when expired, and to the current holder.
    function transfer(bytes32 id, uint32 to, Consent calldata holder, Consent calldata receiver, Consent calldata pledgee)
        external;

    /// @notice Change the record's rights (1..7) or metadata hash (at least one must differ): the registrar, with
    /// the holder's consent; refused under dispute. `reason` is the hash of the change's grounds.
    function change(bytes32 id, uint8 rights, bytes32 metadataHash, bytes32 reason, Consent calldata holder) external;

    /// @notice Renew the record: the registrar, with the holder's consent, for a kind with a term; the new expiry
    /// is `max(now, expiresAt) + term`.
    function renew(bytes32 id, Consent calldata holder) external;

    /// @notice Cancel the record (Registry status Revoked, reason `bytes32(uint256(reasonCode))`): the registrar;
    /// while pledged with the pledgee's consent, and the pledge ends; refused under dispute. Reason codes:
    /// 1 OwnerRequest, 2 DataDestroyed, 3 RightsExpired, 4 FalseRegistration, 5 CourtOrder, 6 ArbitrationRuling,
    /// 7 Merged, 8 Other.
    function cancel(bytes32 id, uint8 reasonCode, Consent calldata pledgee) external;

    /// @notice Register a pledge of a product or asset: the registrar, with the holder's and the pledgee's
    /// consent; the pledgee a FinancialInstitution; refused when expired, under dispute or pledged already.
    function pledge(bytes32 id, PledgeTerms calldata terms, Consent calldata holder, Consent calldata pledgee) external;

    /// @notice Release the pledge: the registrar, with the pledgee's consent.
    function release(bytes32 id, Consent calldata pledgee) external;

    /// @notice Enforce the pledge on default: the registrar's transaction is its confirmation, with the pledgee's
    /// consent; the pledge ends and the record passes to `to` (the pledgee or a named buyer, a known unfrozen
    /// entity other than the holder). Refused under dispute.
    function enforce(bytes32 id, uint32 to, Consent calldata pledgee) external;

    /// @notice Record an accredited assessor's assessment, with its consent; any member exchange submits. The
    /// assessment's id is `keccak256(abi.encode(uint32 assessor, uint8 kind, bytes32 reportHash))`, unique within
    /// the record (`AlreadyAssessed`).
    function assess(bytes32 id, AssessmentInput calldata a, Consent calldata assessor)
        external
        returns (bytes32 assessmentId);

    /// @notice Withdraw an assessment, with its assessor's consent; any member exchange submits.
    function withdrawAssessment(bytes32 id, bytes32 assessmentId, Consent calldata assessor) external;

    /// @notice List a product or asset for trading, once: the registrar. When the registrar's compliance rule is
    /// on, `complianceAssessment` must name a passed compliance assessment of this record in force (not withdrawn, its
    /// validity not past, its assessor still accredited); it is ignored otherwise. Refused when expired or
    /// under dispute.
    function list(bytes32 id, bytes32 complianceAssessment) external;

    /// @notice File a dispute with the hash of the claim, with the claimant's consent (any known unfrozen entity
    /// has standing); any member exchange submits; one open dispute per record.
    function fileDispute(bytes32 id, uint32 claimant, bytes32 claimHash, Consent calldata claimantConsent) external;

    /// @notice Rule on the open dispute, with the appointed arbitrator's consent (not a party to it): outcome
    /// 1 Dismissed, 2 OwnershipTo(newOwner), 3 Cancelled. The record stays under dispute until `executeRuling`.
    function rule(
        bytes32 id,
        uint32 arbitrator,
        uint8 outcome,
        uint32 newOwner,
        bytes32 rulingHash,
        Consent calldata arbitratorConsent
    ) external;

    /// @notice Carry out the ruling, by any member exchange's own transaction: dismissed closes the dispute;
    /// ownership transfers the record (a pledge ends); cancelled revokes it with reason code 6. Closes the dispute.
    function executeRuling(bytes32 id) external;

    /// @notice Apply an executed PropertyDecision proposal of the federation naming this contract, once.
    /// Decisions: 0 AccreditAssessor, 1 WithdrawAccreditation, 2 AppointArbitrator, 3 RemoveArbitrator (subject an
    /// entity), 4 SetTerm (subject a kind, value seconds below 2**32, 0 = no expiry), 5 SetComplianceRule (subject
    /// an exchange id, value 1 on / 0 off).
    function applyDecision(uint256 proposalId) external;

    /// @notice The record's property state (reverts UnknownRecord).
    function propertyOf(bytes32 id) external view returns (PropertyState memory);

    /// @notice The pledge in force (`pledgee == 0` if none; `seq` the number of pledges ever registered).
    function pledgeOf(bytes32 id) external view returns (Pledge memory);

    /// @notice The record's open or last dispute.
    function disputeOf(bytes32 id) external view returns (Dispute memory);

    /// @notice Assessment `assessmentId` of record `id` (`assessor == 0`: none).
    function assessment(bytes32 id, bytes32 assessmentId) external view returns (Assessment memory);

    /// @notice A kind's term in seconds (0: records of the kind do not expire).
    function termOf(uint8 kind) external view returns (uint32);

    /// @notice Whether governance accredited the entity as an assessor.
    function isAccredited(uint32 entityId) external view returns (bool);

    /// @notice Whether governance appointed the entity as an arbitrator.
    function isArbitrator(uint32 entityId) external view returns (bool);

    /// @notice Whether the exchange's listings need a compliance assessment in force.
    function complianceRule(uint16 exchangeId) external view returns (bool);

    /// @notice Whether the record is pledged or under dispute (the Registry then refuses revocation and supersession).
    function encumbered(bytes32 id) external view returns (bool);

    /// @notice Whether the record's term has run out.
    function isExpired(bytes32 id) external view returns (bool);

    /// @notice Reverts `ParentExpired` for the first expired parent.
    function checkParents(bytes32[] calldata parents) external view;

    /// @notice The entity's next consent nonce.
    function nonceOf(uint32 entityId) external view returns (uint256);

    /// @notice The EIP-712 digest of a PropertyConsent (see the contract's description).
    function consentDigest(
        string calldata action,
        bytes32 recordId,
        uint32 entityId,
        uint32 counterparty,
        bytes32 termsHash,
        uint256 nonce,
        uint256 deadline
    ) external view returns (bytes32);

    /// @notice The EIP-712 domain separator (name "ProvenancePropertyRegister", version "1", this chain, contract).
    function domainSeparator() external view returns (bytes32);

    /// @notice The bound Registry (zero before `bindRegistry`).
    function registry() external view returns (address);

    /// @notice The federation whose member exchanges write here.
    function federation() external view returns (address);
}
