// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IFederation} from "./interfaces/IFederation.sol";
import {IPropertyRegister} from "./interfaces/IPropertyRegister.sol";
import {IRegistry} from "./interfaces/IRegistry.sol";
import {EIP712} from "./lib/EIP712.sol";

/// @title Data property register (see IPropertyRegister for the full description)
/// @dev Storage is laid out for the gas targets of the mandate path: everything a transfer or a pledge reads of a
/// record is one slot (State), whose pledge sequence number stays after a release (so a later pledge rewrites a
/// non-zero slot); each assessment is one slot named by its content, with no counter to update; the Registry's
/// address and the three terms share a slot every write reads anyway; records are read through the Registry's
/// one-slot `propertyHead`.
contract PropertyRegister is IPropertyRegister {
    uint8 private constant KIND_RESOURCE = 0;
    uint8 private constant KIND_MAX = 2;
    uint8 private constant RIGHTS_ALL = 7;
    uint8 private constant REASON_MAX = 8;
    uint8 private constant REASON_ARBITRATION = 6;
    uint8 private constant ASSESS_COMPLIANCE = 1;
    uint8 private constant ASSESS_VALUATION = 2;
    uint16 private constant SCORE_MAX = 10000;
    uint8 private constant METHOD_MAX = 2;
    uint8 private constant OUTCOME_DISMISSED = 1;
    uint8 private constant OUTCOME_OWNERSHIP = 2;
    uint8 private constant OUTCOME_CANCELLED = 3;
    uint8 private constant ROLE_ASSESSOR = 1;
    uint8 private constant ROLE_ARBITRATOR = 2;

    uint8 private constant DECISION_ACCREDIT = 0;
    uint8 private constant DECISION_WITHDRAW_ACCREDITATION = 1;
    uint8 private constant DECISION_APPOINT = 2;
    uint8 private constant DECISION_REMOVE_ARBITRATOR = 3;
    uint8 private constant DECISION_TERM = 4;

    bytes32 private constant _NAME_HASH = keccak256("ProvenancePropertyRegister");
    bytes32 private constant _CONSENT_TYPEHASH = keccak256(
        "PropertyConsent(string action,bytes32 recordId,uint32 entityId,uint32 counterparty,bytes32 termsHash,"
        "uint256 nonce,uint256 deadline)"
    );
    // EIP-712 hashes a string member as keccak256 of its bytes.
    bytes32 private constant _TRANSFER = keccak256("transfer");
    bytes32 private constant _CHANGE = keccak256("change");
    bytes32 private constant _RENEW = keccak256("renew");
    bytes32 private constant _CANCEL = keccak256("cancel");
    bytes32 private constant _PLEDGE = keccak256("pledge");
    bytes32 private constant _RELEASE = keccak256("release");
    bytes32 private constant _ENFORCE = keccak256("enforce");
    bytes32 private constant _ASSESS = keccak256("assess");
    bytes32 private constant _WITHDRAW = keccak256("withdraw");
    bytes32 private constant _DISPUTE = keccak256("dispute");
    bytes32 private constant _RULE = keccak256("rule");
    bytes32 private constant _NO_TERMS = keccak256("");

    /// @dev The bound Registry and the terms per kind (seconds, 0: no expiry): one slot.
    struct Config {
        IRegistry registry;
        uint32 resourceTerm;
        uint32 productTerm;
        uint32 assetTerm;
    }

    /// @dev What the property rules read of a Registry record (IRegistry.propertyHead: one slot).
    struct Head {
        uint32 owner;
        uint16 registrar;
        uint8 kind;
        uint8 rights;
        IRegistry.Status status;
        uint40 timestamp;
    }

    /// @dev Everything a transfer or a pledge reads, in one slot: the pledge in force (pledgee 0: none; the
    /// sequence number stays after it ends, so the slot stays non-zero and the next pledge rewrites it cheaply),
    /// whether a dispute is open, and the renewed expiry (0: never renewed).
    struct State {
        uint32 pledgee;
        uint96 amount;
        bytes3 currency;
        uint40 until;
        uint16 pledgeSeq;
        bool disputed;
        uint40 renewedExpiry;
    }

    /// @dev Read only by listing and arbitration.
    struct Flags {
        bool listed;
        bool ruled;
    }

    /// @dev A record's open or last dispute; open and ruled live in State, read by every transfer.
    struct DisputeRecord {
        uint32 seq;
        uint32 claimant;
        uint32 arbitrator;
        uint8 outcome;
        uint32 newOwner;
        uint40 filedAt;
        bytes32 claimHash;
        bytes32 rulingHash;
    }

    IFederation private immutable _federation;
    address private immutable _binder;
    uint256 private immutable _cachedChainId;
    bytes32 private immutable _cachedDomainSeparator;

    Config private _config;

    mapping(bytes32 id => State) private _states;
    mapping(bytes32 id => Flags) private _flags;
    mapping(bytes32 id => DisputeRecord) private _disputes;
    mapping(bytes32 id => mapping(bytes32 assessmentId => Assessment)) private _assessments;
    mapping(uint32 entityId => uint8 roles) private _roles;
    mapping(uint16 exchangeId => bool) private _compliance;
    mapping(uint256 proposalId => bool) private _applied;
    mapping(uint32 entityId => uint256) private _nonces;

    constructor(IFederation federation_) {
        if (address(federation_) == address(0)) revert ZeroAddress();
        _federation = federation_;
        _binder = msg.sender;
        _cachedChainId = block.chainid;
        _cachedDomainSeparator = EIP712.domainSeparator(_NAME_HASH);
    }

    /// @inheritdoc IPropertyRegister
    function bindRegistry(IRegistry registry_) external {
        if (msg.sender != _binder) revert NotBinder(msg.sender);
        if (address(_config.registry) != address(0)) revert AlreadyBound();
        if (address(registry_) == address(0)) revert ZeroAddress();
        if (registry_.propertyRegister() != address(this) || registry_.federation() != address(_federation)) {
            revert RegistryMismatch(address(registry_));
        }
        _config.registry = registry_;
        emit RegistryBound(address(registry_));
    }

    // ------------------------------------------------------------------ holder's rights

    /// @inheritdoc IPropertyRegister
    function transfer(bytes32 id, uint32 to, Consent calldata holder, Consent calldata receiver, Consent calldata pledgee)
        external
    {
        // The register's dearest common path (issue 22: at most 60,000 gas, pledged or not) keeps the record's
        // head and state on the stack: the shared helpers' memory structs, allocated and zeroed at each level,
        // cost a pledged transfer about 2,000 gas more.
        Config storage config = _config;
        IRegistry reg = config.registry;
        if (address(reg) == address(0)) revert NotBound();
        uint16 ex = _exchangeOf(msg.sender);
        (uint32 from, uint16 registrar, uint8 kind,, uint8 status, uint40 timestamp) = _headOf(reg, id);
        if (status != uint8(IRegistry.Status.Active)) revert RecordNotActive(id, status);
        if (registrar != ex) revert NotRegistrar(id, registrar, ex);
        State storage s = _states[id];
        (uint32 pledgeeId, bool disputed, uint40 renewedExpiry) = (s.pledgee, s.disputed, s.renewedExpiry);
        if (disputed) revert UnderDispute(id);
        uint40 expiresAt = _expiry(_storedTermOf(config, kind), timestamp, renewedExpiry);
        if (_isPast(expiresAt)) revert RecordExpired(id, expiresAt);
        if (to == from) revert SameHolder(id, to);
        // keccak256(abi.encode(to)), the terms' hash a signature signs, in scratch space: 50 gas, less than
        // asking the three consents whether any is signed.
        bytes32 terms;
        // slither-disable-next-line assembly
        assembly ("memory-safe") {
            mstore(0x00, to)
            terms := keccak256(0x00, 0x20)
        }
        _consent(reg, ex, _TRANSFER, id, from, to, terms, holder);
        _consent(reg, ex, _TRANSFER, id, to, from, terms, receiver);
        if (pledgeeId != 0) _consent(reg, ex, _TRANSFER, id, pledgeeId, to, terms, pledgee);
        emit Transferred(id, from, to, ex);
        _update(reg, id, to, 0, bytes32(0)); // rights and metadata stay
    }

    /// @inheritdoc IPropertyRegister
    function change(bytes32 id, uint8 rights, bytes32 metadataHash, bytes32 reason, Consent calldata holder) external {
        (Config memory cfg, uint16 ex, Head memory r) = _asRegistrar(id);
        if (rights == 0 || rights > RIGHTS_ALL) revert InvalidRights(rights);
        if (_states[id].disputed) revert UnderDispute(id);
        bytes32 previousMetadata = cfg.registry.getRecord(id).metadataHash;
        // A zero metadata hash keeps the document (a change names a document, never none).
        bytes32 metadata = metadataHash == bytes32(0) ? previousMetadata : metadataHash;
        if (rights == r.rights && metadata == previousMetadata) revert NoChange(id);
        _consent(
            cfg.registry, ex, _CHANGE, id, r.owner, 0, keccak256(abi.encode(rights, metadataHash, reason)), holder
        );
        emit Changed(id, r.rights, rights, previousMetadata, metadata, reason);
        _update(cfg.registry, id, r.owner, rights, metadata);
    }

    /// @inheritdoc IPropertyRegister
    function renew(bytes32 id, Consent calldata holder) external {
        (Config memory cfg, uint16 ex, Head memory r) = _asRegistrar(id);
        uint32 term = _termOf(cfg, r.kind);
        if (term == 0) revert NoTerm(r.kind);
        State storage s = _states[id];
        uint40 previous = _expiry(term, r.timestamp, s.renewedExpiry);
        _consent(cfg.registry, ex, _RENEW, id, r.owner, 0, _NO_TERMS, holder);
        // Terms are below 2**32 seconds and block times far below 2**39: the sum fits in 40 bits.
        // slither-disable-next-line timestamp
        uint40 base = previous > block.timestamp ? previous : uint40(block.timestamp);
        uint40 next = base + term;
        s.renewedExpiry = next;
        emit Renewed(id, previous, next);
    }

    /// @inheritdoc IPropertyRegister
    function cancel(bytes32 id, uint8 reasonCode, Consent calldata pledgee) external {
        (Config memory cfg, uint16 ex, Head memory r) = _asRegistrar(id);
        if (reasonCode == 0 || reasonCode > REASON_MAX) revert InvalidReasonCode(reasonCode);
        State storage s = _states[id];
        if (s.disputed) revert UnderDispute(id);
        uint32 pledgeeId = s.pledgee;
        if (pledgeeId != 0) {
            _consent(cfg.registry, ex, _CANCEL, id, pledgeeId, r.owner, keccak256(abi.encode(reasonCode)), pledgee);
            _endPledge(id, s);
        }
        emit Cancelled(id, reasonCode);
        cfg.registry.propertyRevoke(id, bytes32(uint256(reasonCode)));
    }

    // ------------------------------------------------------------------ pledges

    /// @inheritdoc IPropertyRegister
    function pledge(bytes32 id, PledgeTerms calldata terms, Consent calldata holder, Consent calldata pledgee)
        external
    {
        (Config memory cfg, uint16 ex, Head memory r) = _asRegistrar(id);
        if (r.kind == KIND_RESOURCE) revert NotPledgeable(r.kind);
        State memory s = _states[id];
        if (s.disputed) revert UnderDispute(id);
        _checkNotExpired(cfg, id, r, s.renewedExpiry);
        if (s.pledgee != 0) revert AlreadyPledged(id);
        uint32 pledgeeId = terms.pledgee;
        if (pledgeeId == r.owner) revert SameHolder(id, pledgeeId);
        if (terms.amount == 0) revert ZeroAmount();
        if (terms.amount > type(uint96).max) revert AmountTooLarge(terms.amount);
        // A due date is days or years away; a block producer's seconds of drift cannot matter.
        // slither-disable-next-line timestamp
        if (terms.until <= block.timestamp) revert InvalidUntil(terms.until);
        IRegistry reg = cfg.registry;
        if (reg.getEntity(pledgeeId).role != IRegistry.EntityRole.FinancialInstitution) {
            revert WrongRole(pledgeeId, uint8(IRegistry.EntityRole.FinancialInstitution));
        }
        bytes32 termsHash = _anySigned(holder, pledgee, pledgee) ? keccak256(abi.encode(terms)) : bytes32(0);
        _consent(reg, ex, _PLEDGE, id, r.owner, pledgeeId, termsHash, holder);
        _consent(reg, ex, _PLEDGE, id, pledgeeId, r.owner, termsHash, pledgee);
        uint16 seq = s.pledgeSeq + 1;
        _states[id] = State({
            pledgee: pledgeeId,
            amount: uint96(terms.amount), // below 2**96: checked above
            currency: terms.currency,
            until: terms.until,
            pledgeSeq: seq,
            disputed: false,
            renewedExpiry: s.renewedExpiry
        });
        emit Pledged(id, seq, pledgeeId, terms.amount, terms.currency, terms.until, terms.pledgeeReference);
    }

    /// @inheritdoc IPropertyRegister
    function release(bytes32 id, Consent calldata pledgee) external {
        (Config memory cfg, uint16 ex, Head memory r) = _asRegistrar(id);
        State storage s = _states[id];
        uint32 pledgeeId = s.pledgee;
        if (pledgeeId == 0) revert NotPledged(id);
        _consent(cfg.registry, ex, _RELEASE, id, pledgeeId, r.owner, _NO_TERMS, pledgee);
        _endPledge(id, s);
    }

    /// @inheritdoc IPropertyRegister
    function enforce(bytes32 id, uint32 to, Consent calldata pledgee) external {
        (Config memory cfg, uint16 ex, Head memory r) = _asRegistrar(id);
        State storage s = _states[id];
        uint32 pledgeeId = s.pledgee;
        if (pledgeeId == 0) revert NotPledged(id);
        if (s.disputed) revert UnderDispute(id);
        if (to == r.owner) revert SameHolder(id, to);
        IRegistry reg = cfg.registry;
        // Called for its revert: the new holder must be a registered, unfrozen entity.
        // slither-disable-next-line unused-return
        reg.activeEntity(to);
        _consent(reg, ex, _ENFORCE, id, pledgeeId, to, keccak256(abi.encode(to)), pledgee);
        uint16 seq = s.pledgeSeq;
        _clearPledge(s);
        emit Enforced(id, seq, to);
        emit Transferred(id, r.owner, to, ex);
        _update(reg, id, to, 0, bytes32(0));
    }

    // ------------------------------------------------------------------ assessments and listing

    /// @inheritdoc IPropertyRegister
    function assess(bytes32 id, AssessmentInput calldata a, Consent calldata assessor)
        external
        returns (bytes32 assessmentId)
    {
        (Config memory cfg, uint16 ex, Head memory r) = _asMember(id);
        uint32 assessorId = a.assessor;
        if (_roles[assessorId] & ROLE_ASSESSOR == 0) revert NotAccredited(assessorId);
        _checkAssessment(a);
        bytes32 termsHash = assessor.signature.length == 0 ? bytes32(0) : keccak256(abi.encode(a));
        _consent(cfg.registry, ex, _ASSESS, id, assessorId, r.owner, termsHash, assessor);
        // Named by its content, not by a counter: a counter's update would cost every assessment 5,000 gas more.
        assessmentId = keccak256(abi.encode(a.assessor, a.kind, a.reportHash));
        Assessment storage stored = _assessments[id][assessmentId];
        if (stored.assessor != 0) revert AlreadyAssessed(id, assessmentId);
        _assessments[id][assessmentId] = Assessment({
            assessor: assessorId,
            kind: a.kind,
            passed: a.passed,
            score: a.score,
            method: a.method,
            currency: a.currency,
            valuationDate: a.valuationDate,
            validUntil: a.validUntil,
            withdrawn: false,
            amount: uint72(a.amount) // below 2**72: checked by _checkAssessment
        });
        emit Assessed(
            id,
            assessmentId,
            assessorId,
            a.kind,
            a.score,
            a.passed,
            a.method,
            a.amount,
            a.currency,
            a.standard,
            a.valuationDate,
            a.validUntil,
            a.reportHash
        );
    }

    /// @inheritdoc IPropertyRegister
    function withdrawAssessment(bytes32 id, bytes32 assessmentId, Consent calldata assessor) external {
        (Config memory cfg, uint16 ex, Head memory r) = _asMember(id);
        Assessment storage a = _assessments[id][assessmentId];
        uint32 assessorId = a.assessor;
        if (assessorId == 0) revert UnknownAssessment(id, assessmentId);
        if (a.withdrawn) revert AlreadyWithdrawn(id, assessmentId);
        _consent(
            cfg.registry, ex, _WITHDRAW, id, assessorId, r.owner, keccak256(abi.encode(assessmentId)), assessor
        );
        a.withdrawn = true;
        emit AssessmentWithdrawn(id, assessmentId);
    }

    /// @inheritdoc IPropertyRegister
    function list(bytes32 id, bytes32 complianceAssessment) external {
        (Config memory cfg, uint16 ex, Head memory r) = _asRegistrar(id);
        if (r.kind == KIND_RESOURCE) revert NotListable(r.kind);
        Flags storage f = _flags[id];
        if (f.listed) revert AlreadyListed(id);
        State memory s = _states[id];
        if (s.disputed) revert UnderDispute(id);
        _checkNotExpired(cfg, id, r, s.renewedExpiry);
        // The rule's validity check compares dates months apart; seconds of drift cannot matter.
        // slither-disable-next-line timestamp
        if (_compliance[ex] && !_complianceInForce(id, complianceAssessment)) revert ComplianceRequired(id);
        f.listed = true;
        emit Listed(id, ex);
    }

    // ------------------------------------------------------------------ disputes

    /// @inheritdoc IPropertyRegister
    function fileDispute(bytes32 id, uint32 claimant, bytes32 claimHash, Consent calldata claimantConsent) external {
        (Config memory cfg, uint16 ex, Head memory r) = _asMember(id);
        if (claimHash == bytes32(0)) revert ZeroHash();
        State storage s = _states[id];
        if (s.disputed) revert AlreadyDisputed(id);
        _consent(
            cfg.registry,
            ex,
            _DISPUTE,
            id,
            claimant,
            r.owner,
            keccak256(abi.encode(claimant, claimHash)),
            claimantConsent
        );
        uint32 seq = _disputes[id].seq + 1;
        _disputes[id] = DisputeRecord({
            seq: seq,
            claimant: claimant,
            arbitrator: 0,
            outcome: 0,
            newOwner: 0,
            filedAt: uint40(block.timestamp),
            claimHash: claimHash,
            rulingHash: bytes32(0)
        });
        s.disputed = true;
        emit DisputeFiled(id, seq, claimant, claimHash);
    }

    /// @inheritdoc IPropertyRegister
    function rule(
        bytes32 id,
        uint32 arbitrator,
        uint8 outcome,
        uint32 newOwner,
        bytes32 rulingHash,
        Consent calldata arbitratorConsent
    ) external {
        (Config memory cfg, uint16 ex, Head memory r) = _asMember(id);
        if (!_states[id].disputed) revert NotDisputed(id);
        Flags storage f = _flags[id];
        if (f.ruled) revert AlreadyRuled(id);
        if (_roles[arbitrator] & ROLE_ARBITRATOR == 0) revert NotArbitrator(arbitrator);
        DisputeRecord storage d = _disputes[id];
        if (arbitrator == d.claimant || arbitrator == r.owner) revert ArbitratorIsParty(arbitrator);
        _checkOutcome(cfg.registry, id, r.owner, outcome, newOwner);
        if (rulingHash == bytes32(0)) revert ZeroHash();
        _consent(
            cfg.registry,
            ex,
            _RULE,
            id,
            arbitrator,
            r.owner,
            keccak256(abi.encode(arbitrator, outcome, newOwner, rulingHash)),
            arbitratorConsent
        );
        d.arbitrator = arbitrator;
        d.outcome = outcome;
        d.newOwner = newOwner;
        d.rulingHash = rulingHash;
        f.ruled = true;
        emit Ruled(id, d.seq, arbitrator, outcome, newOwner, rulingHash);
    }

    /// @inheritdoc IPropertyRegister
    function executeRuling(bytes32 id) external {
        (Config memory cfg,, Head memory r) = _asMember(id);
        Flags storage f = _flags[id];
        if (!f.ruled) revert NotRuled(id);
        State storage s = _states[id];
        DisputeRecord storage d = _disputes[id];
        uint8 outcome = d.outcome;
        s.disputed = false;
        f.ruled = false;
        emit RulingExecuted(id, d.seq, outcome);
        if (outcome == OUTCOME_DISMISSED) return;
        if (s.pledgee != 0) _endPledge(id, s);
        IRegistry reg = cfg.registry;
        if (outcome == OUTCOME_OWNERSHIP) {
            uint32 newOwner = d.newOwner;
            // Called for its revert: an entity frozen since the ruling receives nothing until unfrozen.
            // slither-disable-next-line unused-return
            reg.activeEntity(newOwner);
            emit Transferred(id, r.owner, newOwner, r.registrar);
            _update(reg, id, newOwner, 0, bytes32(0));
        } else {
            emit Cancelled(id, REASON_ARBITRATION);
            reg.propertyRevoke(id, bytes32(uint256(REASON_ARBITRATION)));
        }
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc IPropertyRegister
    // One branch per decision, each a flat rule and a state change.
    // slither-disable-next-line cyclomatic-complexity
    function applyDecision(uint256 proposalId) external {
        IRegistry reg = _bound().registry;
        IFederation.Proposal memory p = _federation.getProposal(proposalId); // UnknownProposal if none
        if (!p.executed) revert ProposalNotExecuted(proposalId);
        if (p.action != IFederation.ProposalAction.PropertyDecision) {
            revert NotPropertyDecision(proposalId, uint8(p.action));
        }
        // The federation checked the payload's shape (decision, subject and value ranges) when it was proposed.
        (address target, uint8 decision, uint32 subject, uint64 value) =
            abi.decode(p.payload, (address, uint8, uint32, uint64));
        if (target != address(this)) revert DecisionForOtherRegister(proposalId, target);
        if (_applied[proposalId]) revert DecisionAlreadyApplied(proposalId);
        _applied[proposalId] = true;
        if (decision == DECISION_ACCREDIT || decision == DECISION_APPOINT) {
            bool assessor = decision == DECISION_ACCREDIT;
            IRegistry.EntityRole role =
                assessor ? IRegistry.EntityRole.AssessmentInstitution : IRegistry.EntityRole.ArbitrationInstitution;
            if (reg.getEntity(subject).role != role) revert WrongRole(subject, uint8(role));
            uint8 bit = assessor ? ROLE_ASSESSOR : ROLE_ARBITRATOR;
            uint8 roles = _roles[subject];
            if (roles & bit != 0) {
                if (assessor) revert AlreadyAccredited(subject);
                revert AlreadyArbitrator(subject);
            }
            _roles[subject] = roles | bit;
            if (assessor) emit AssessorAccredited(subject, proposalId);
            else emit ArbitratorAppointed(subject, proposalId);
        } else if (decision == DECISION_WITHDRAW_ACCREDITATION || decision == DECISION_REMOVE_ARBITRATOR) {
            bool assessor = decision == DECISION_WITHDRAW_ACCREDITATION;
            uint8 bit = assessor ? ROLE_ASSESSOR : ROLE_ARBITRATOR;
            uint8 roles = _roles[subject];
            if (roles & bit == 0) {
                if (assessor) revert NotAccredited(subject);
                revert NotArbitrator(subject);
            }
            _roles[subject] = roles & ~bit;
            if (assessor) emit AccreditationWithdrawn(subject, proposalId);
            else emit ArbitratorRemoved(subject, proposalId);
        } else if (decision == DECISION_TERM) {
            // subject <= 2 and value < 2**32: checked by the federation at proposal time.
            uint32 term = uint32(value);
            if (subject == 0) _config.resourceTerm = term;
            else if (subject == 1) _config.productTerm = term;
            else _config.assetTerm = term;
            emit TermSet(uint8(subject), value, proposalId);
        } else {
            // SetComplianceRule: subject an exchange id (< 2**16), value 0 or 1, checked at proposal time.
            bool on = value == 1;
            _compliance[uint16(subject)] = on;
            emit ComplianceRuleSet(uint16(subject), on, proposalId);
        }
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IPropertyRegister
    function propertyOf(bytes32 id) external view returns (PropertyState memory out) {
        Config memory cfg = _config;
        if (address(cfg.registry) == address(0)) revert NotBound();
        Head memory r = _head(cfg.registry, id);
        State memory s = _states[id];
        Flags memory f = _flags[id];
        uint40 expiresAt = _expiry(_termOf(cfg, r.kind), r.timestamp, s.renewedExpiry);
        out = PropertyState({
            expiresAt: expiresAt,
            expired: _isPast(expiresAt),
            listed: f.listed,
            pledged: s.pledgee != 0,
            disputed: s.disputed,
            ruled: f.ruled
        });
    }

    /// @inheritdoc IPropertyRegister
    function pledgeOf(bytes32 id) external view returns (Pledge memory) {
        State memory s = _states[id];
        return Pledge({pledgee: s.pledgee, amount: s.amount, currency: s.currency, until: s.until, seq: s.pledgeSeq});
    }

    /// @inheritdoc IPropertyRegister
    function disputeOf(bytes32 id) external view returns (Dispute memory) {
        DisputeRecord memory d = _disputes[id];
        bool open = _states[id].disputed;
        bool ruled = _flags[id].ruled;
        return Dispute({
            seq: d.seq,
            claimant: d.claimant,
            arbitrator: d.arbitrator,
            outcome: d.outcome,
            newOwner: d.newOwner,
            open: open,
            ruled: ruled,
            filedAt: d.filedAt,
            claimHash: d.claimHash,
            rulingHash: d.rulingHash
        });
    }

    /// @inheritdoc IPropertyRegister
    function assessment(bytes32 id, bytes32 assessmentId) external view returns (Assessment memory) {
        return _assessments[id][assessmentId];
    }

    /// @inheritdoc IPropertyRegister
    function termOf(uint8 kind) external view returns (uint32) {
        return _termOf(_config, kind);
    }

    /// @inheritdoc IPropertyRegister
    function isAccredited(uint32 entityId) external view returns (bool) {
        return _roles[entityId] & ROLE_ASSESSOR != 0;
    }

    /// @inheritdoc IPropertyRegister
    function isArbitrator(uint32 entityId) external view returns (bool) {
        return _roles[entityId] & ROLE_ARBITRATOR != 0;
    }

    /// @inheritdoc IPropertyRegister
    function complianceRule(uint16 exchangeId) external view returns (bool) {
        return _compliance[exchangeId];
    }

    /// @inheritdoc IPropertyRegister
    function encumbered(bytes32 id) external view returns (bool) {
        State memory s = _states[id];
        // No time is compared: the slot also holds the pledge's due date, which Slither takes for one.
        // slither-disable-next-line timestamp
        return s.pledgee != 0 || s.disputed;
    }

    /// @inheritdoc IPropertyRegister
    function isExpired(bytes32 id) external view returns (bool) {
        Config memory cfg = _config;
        if (address(cfg.registry) == address(0)) return false;
        Head memory r = _head(cfg.registry, id);
        return _isPast(_expiry(_termOf(cfg, r.kind), r.timestamp, _states[id].renewedExpiry));
    }

    /// @inheritdoc IPropertyRegister
    function checkParents(bytes32[] calldata parents) external view {
        Config memory cfg = _config;
        // No kind has a term (the default): nothing expires, and registrations pay one slot read for the rule.
        if (cfg.resourceTerm == 0 && cfg.productTerm == 0 && cfg.assetTerm == 0) return;
        uint256 n = parents.length;
        for (uint256 i = 0; i < n; ++i) {
            bytes32 parentId = parents[i];
            Head memory r = _head(cfg.registry, parentId);
            uint40 expiresAt = _expiry(_termOf(cfg, r.kind), r.timestamp, _states[parentId].renewedExpiry);
            if (_isPast(expiresAt)) revert ParentExpired(parentId, expiresAt);
        }
    }

    /// @inheritdoc IPropertyRegister
    function nonceOf(uint32 entityId) external view returns (uint256) {
        return _nonces[entityId];
    }

    /// @inheritdoc IPropertyRegister
    function consentDigest(
        string calldata action,
        bytes32 recordId,
        uint32 entityId,
        uint32 counterparty,
        bytes32 termsHash,
        uint256 nonce,
        uint256 deadline
    ) external view returns (bytes32) {
        return _consentDigest(keccak256(bytes(action)), recordId, entityId, counterparty, termsHash, nonce, deadline);
    }

    /// @inheritdoc IPropertyRegister
    function domainSeparator() public view returns (bytes32) {
        // After a chain split the cached separator would name the old chain id: rebuild it.
        return block.chainid == _cachedChainId ? _cachedDomainSeparator : EIP712.domainSeparator(_NAME_HASH);
    }

    /// @inheritdoc IPropertyRegister
    function registry() external view returns (address) {
        return address(_config.registry);
    }

    /// @inheritdoc IPropertyRegister
    function federation() external view returns (address) {
        return address(_federation);
    }

    // ------------------------------------------------------------------ internals

    function _bound() private view returns (Config memory cfg) {
        cfg = _config;
        if (address(cfg.registry) == address(0)) revert NotBound();
    }

    /// @dev Bound, sent by an active exchange key, about an Active record.
    function _asMember(bytes32 id) private view returns (Config memory cfg, uint16 ex, Head memory r) {
        cfg = _bound();
        ex = _exchangeOf(msg.sender);
        r = _head(cfg.registry, id); // UnknownRecord if none
        if (r.status != IRegistry.Status.Active) revert RecordNotActive(id, uint8(r.status));
    }

    /// @dev As `_asMember`, and the caller's exchange is the record's registrar.
    function _asRegistrar(bytes32 id) private view returns (Config memory cfg, uint16 ex, Head memory r) {
        (cfg, ex, r) = _asMember(id);
        if (r.registrar != ex) revert NotRegistrar(id, r.registrar, ex);
    }

    /// @dev The party's consent: its mandate to the calling exchange (a frozen entity has none), or its account's
    /// EIP-712 signature over this action and its next nonce, which it then uses up.
    function _consent(
        IRegistry reg,
        uint16 ex,
        bytes32 action,
        bytes32 id,
        uint32 entityId,
        uint32 counterparty,
        bytes32 termsHash,
        Consent calldata c
    ) private {
        if (c.signature.length == 0) {
            if (!_hasMandate(reg, entityId, ex)) revert NoConsent(entityId);
            return;
        }
        uint256 deadline = c.deadline;
        // Signature deadlines are minutes long; a block producer's few seconds of timestamp drift cannot matter.
        // slither-disable-next-line timestamp
        if (block.timestamp > deadline) revert SignatureExpired(deadline, block.timestamp);
        address account = reg.activeEntity(entityId).account; // UnknownEntity, EntityIsFrozen
        uint256 nonce = _nonces[entityId];
        bytes32 digest = _consentDigest(action, id, entityId, counterparty, termsHash, nonce, deadline);
        (address signer, EIP712.Failure failure) = EIP712.tryRecover(digest, c.signature);
        if (failure == EIP712.Failure.Length) revert InvalidSignatureLength(c.signature.length);
        if (failure == EIP712.Failure.HighS) revert InvalidSignatureS(bytes32(c.signature[32:64]));
        if (failure == EIP712.Failure.BadV) revert InvalidSignatureV(uint8(c.signature[64]));
        // ecrecover yields address(0) for an invalid signature; no entity account is zero.
        if (signer != account) revert WrongSigner(signer, account);
        _nonces[entityId] = nonce + 1;
    }

    function _anySigned(Consent calldata a, Consent calldata b, Consent calldata c) private pure returns (bool) {
        return a.signature.length != 0 || b.signature.length != 0 || c.signature.length != 0;
    }

    function _consentDigest(
        bytes32 actionHash,
        bytes32 recordId,
        uint32 entityId,
        uint32 counterparty,
        bytes32 termsHash,
        uint256 nonce,
        uint256 deadline
    ) private view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(_CONSENT_TYPEHASH, actionHash, recordId, entityId, counterparty, termsHash, nonce, deadline)
        );
        return EIP712.digest(domainSeparator(), structHash);
    }

    function _endPledge(bytes32 id, State storage s) private {
        _clearPledge(s);
        emit Released(id, s.pledgeSeq);
    }

    /// @dev The sequence number, dispute flag and renewal stay, so the slot stays non-zero.
    function _clearPledge(State storage s) private {
        s.pledgee = 0;
        s.amount = 0;
        s.currency = 0;
        s.until = 0;
    }

    function _head(IRegistry reg, bytes32 id) private view returns (Head memory r) {
        uint8 status;
        (r.owner, r.registrar, r.kind, r.rights, status, r.timestamp) = _headOf(reg, id);
        r.status = IRegistry.Status(status);
    }

    // ------------------------------------------------------------------ calls to the bound contracts
    // The federation (immutable) and the Registry (bound once, after checking it names this register) are this
    // register's own contracts: their answers are ABI-encoded by solc, so these calls skip the ABI decoder's
    // checks of returned words, and the code-size check before a call (both have code: the constructor and
    // bindRegistry called them). A revert passes through unchanged (UnknownRecord, NotExchangeKey...). Each
    // encodes its arguments above the free memory pointer without moving it, as the compiler's own calls do.
    // About 300 gas a call, 2,000 for a pledged transfer; a short or out-of-range answer still reverts.

    /// @dev `_federation.activeExchangeOf(account)`.
    function _exchangeOf(address account) private view returns (uint16 ex) {
        address fed = address(_federation);
        bytes4 selector = IFederation.activeExchangeOf.selector;
        // slither-disable-next-line assembly
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, selector)
            mstore(add(m, 0x04), account)
            if iszero(staticcall(gas(), fed, m, 0x24, 0x00, 0x20)) {
                returndatacopy(m, 0x00, returndatasize())
                revert(m, returndatasize())
            }
            let word := mload(0x00) // compared as the whole word the callee answered, then narrowed
            if or(lt(returndatasize(), 0x20), gt(word, 0xffff)) { revert(0x00, 0x00) }
            ex := word
        }
    }

    /// @dev `reg.propertyHead(id)`, the status as its enum's number.
    function _headOf(IRegistry reg, bytes32 id)
        private
        view
        returns (uint32 owner, uint16 registrar, uint8 kind, uint8 rights, uint8 status, uint40 registeredAt)
    {
        bytes4 selector = IRegistry.propertyHead.selector;
        // In checkParents' loop: at most MAX_PARENTS (16) view calls to the bound Registry, which cannot revert
        // for a listed parent (the Registry checked each one exists before calling).
        // slither-disable-next-line assembly
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, selector)
            mstore(add(m, 0x04), id)
            if iszero(staticcall(gas(), reg, m, 0x24, m, 0xc0)) {
                returndatacopy(m, 0x00, returndatasize())
                revert(m, returndatasize())
            }
            // The answer's six words are checked whole, then narrowed to the return values.
            let w0 := mload(m)
            let w1 := mload(add(m, 0x20))
            let w2 := mload(add(m, 0x40))
            let w3 := mload(add(m, 0x60))
            let w4 := mload(add(m, 0x80))
            let w5 := mload(add(m, 0xa0))
            let dirty := or(or(gt(w0, 0xffffffff), gt(w1, 0xffff)), or(gt(w2, 0xff), gt(w3, 0xff)))
            dirty := or(dirty, or(gt(w4, 0xff), gt(w5, 0xffffffffff)))
            if or(lt(returndatasize(), 0xc0), dirty) { revert(0x00, 0x00) }
            owner := w0
            registrar := w1
            kind := w2
            rights := w3
            status := w4
            registeredAt := w5
        }
    }

    /// @dev `reg.hasMandate(entityId, ex)`.
    function _hasMandate(IRegistry reg, uint32 entityId, uint16 ex) private view returns (bool granted) {
        bytes4 selector = IRegistry.hasMandate.selector;
        // slither-disable-next-line assembly
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, selector)
            mstore(add(m, 0x04), entityId)
            mstore(add(m, 0x24), ex)
            if iszero(staticcall(gas(), reg, m, 0x44, 0x00, 0x20)) {
                returndatacopy(m, 0x00, returndatasize())
                revert(m, returndatasize())
            }
            granted := mload(0x00)
            if or(lt(returndatasize(), 0x20), gt(granted, 1)) { revert(0x00, 0x00) }
        }
    }

    /// @dev `reg.propertyUpdate(id, owner, rights, metadataHash)`.
    function _update(IRegistry reg, bytes32 id, uint32 owner, uint8 rights, bytes32 metadataHash) private {
        bytes4 selector = IRegistry.propertyUpdate.selector;
        // slither-disable-next-line assembly
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, selector)
            mstore(add(m, 0x04), id)
            mstore(add(m, 0x24), owner)
            mstore(add(m, 0x44), rights)
            mstore(add(m, 0x64), metadataHash)
            if iszero(call(gas(), reg, 0, m, 0x84, 0x00, 0x00)) {
                returndatacopy(m, 0x00, returndatasize())
                revert(m, returndatasize())
            }
        }
    }

    function _checkNotExpired(Config memory cfg, bytes32 id, Head memory r, uint40 renewedExpiry)
        private
        view
    {
        uint40 expiresAt = _expiry(_termOf(cfg, r.kind), r.timestamp, renewedExpiry);
        if (_isPast(expiresAt)) revert RecordExpired(id, expiresAt);
    }

    function _checkAssessment(AssessmentInput calldata a) private view {
        uint8 kind = a.kind;
        if (kind > ASSESS_VALUATION) revert InvalidAssessmentKind(kind);
        if (a.reportHash == bytes32(0)) revert ZeroHash();
        if (a.amount > type(uint72).max) revert AmountTooLarge(a.amount);
        uint40 validUntil = a.validUntil;
        // Validity periods are months long; seconds of drift cannot matter.
        // slither-disable-next-line timestamp
        if (validUntil != 0 && validUntil <= block.timestamp) revert InvalidValidity(validUntil);
        if (kind == 0) {
            if (a.score > SCORE_MAX) revert InvalidScore(a.score);
        } else if (kind == ASSESS_VALUATION) {
            if (a.method > METHOD_MAX) revert InvalidMethod(a.method);
            if (a.amount == 0) revert ZeroAmount();
        }
    }

    function _checkOutcome(IRegistry reg, bytes32 id, uint32 holder, uint8 outcome, uint32 newOwner) private view {
        if (outcome == 0 || outcome > OUTCOME_CANCELLED) revert InvalidOutcome(outcome);
        if (outcome == OUTCOME_OWNERSHIP) {
            if (newOwner == holder) revert SameHolder(id, newOwner);
            // Called for its revert: the new owner must be a registered, unfrozen entity.
            // slither-disable-next-line unused-return
            reg.activeEntity(newOwner);
        } else if (newOwner != 0) {
            revert InvalidOutcome(outcome);
        }
    }

    function _complianceInForce(bytes32 id, bytes32 assessmentId) private view returns (bool) {
        Assessment memory a = _assessments[id][assessmentId];
        // Validity periods are months long; seconds of drift cannot matter.
        // slither-disable-next-line timestamp
        return a.assessor != 0 && a.kind == ASSESS_COMPLIANCE && a.passed && !a.withdrawn
            && (a.validUntil == 0 || a.validUntil > block.timestamp) && _roles[a.assessor] & ROLE_ASSESSOR != 0;
    }

    /// @dev `_termOf` read from storage: a slot already warm costs less than copying the struct to memory.
    function _storedTermOf(Config storage cfg, uint8 kind) private view returns (uint32) {
        if (kind == KIND_RESOURCE) return cfg.resourceTerm;
        if (kind == 1) return cfg.productTerm;
        if (kind == KIND_MAX) return cfg.assetTerm;
        return 0;
    }

    function _termOf(Config memory cfg, uint8 kind) private pure returns (uint32) {
        if (kind == KIND_RESOURCE) return cfg.resourceTerm;
        if (kind == 1) return cfg.productTerm;
        if (kind == KIND_MAX) return cfg.assetTerm;
        return 0;
    }

    /// @dev A kind with no term has no expiry, renewed or not; otherwise the last renewal's, or the term from the
    /// registration's block time (block times and terms are far below 2**39: no overflow).
    function _expiry(uint32 term, uint40 timestamp, uint40 renewedExpiry) private pure returns (uint40) {
        if (term == 0) return 0;
        return renewedExpiry != 0 ? renewedExpiry : timestamp + term;
    }

    function _isPast(uint40 expiresAt) private view returns (bool) {
        // Terms are years long; seconds of drift cannot matter.
        // slither-disable-next-line timestamp
        return expiresAt != 0 && block.timestamp >= expiresAt;
    }
}
