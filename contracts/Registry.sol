// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IFederation} from "./interfaces/IFederation.sol";
import {IPropertyRegister} from "./interfaces/IPropertyRegister.sol";
import {IRegistry} from "./interfaces/IRegistry.sol";
import {EIP712} from "./lib/EIP712.sol";
import {MerkleLog} from "./lib/MerkleLog.sol";

/// @title Registry of data registrations and entities (see IRegistry for the full description)
contract Registry is IRegistry {
    /// @notice Most parents one registration may list (bounds gas and lineage fan-in).
    uint256 public constant MAX_PARENTS = 16;
    /// @notice Largest metadata document or entity profile one publication may carry, in bytes (the bound on the
    /// canonical form that core.catalog applies too, so every document a node accepts can be published).
    uint256 public constant MAX_DOCUMENT_BYTES = 16384;

    uint8 private constant KIND_RESOURCE = 0;
    uint8 private constant KIND_MAX = 2;
    uint8 private constant GRADE_GENERAL = 0;
    uint8 private constant GRADE_CORE = 2;
    uint8 private constant SOURCE_MAX = 2;
    uint8 private constant RIGHTS_ALL = 7;
    uint8 private constant ROLE_MAX = uint8(type(EntityRole).max);

    /// @dev EIP-712 (https://eips.ethereum.org/EIPS/eip-712, domain in lib/EIP712.sol): the domain binds a
    /// signature to this chain id and this contract; the struct binds it to the registrar exchange, the owner's
    /// nonce and a deadline.
    bytes32 private constant _NAME_HASH = keccak256("ProvenanceRegistry");
    bytes32 private constant _REGISTRATION_TYPEHASH = keccak256(
        "Registration(uint16 registrar,uint8 kind,uint8 grade,uint8 source,uint8 rights,uint32 owner,"
        "bytes32 contentHash,bytes32 metadataHash,bytes32 supersedes,bytes32[] parents,uint256 nonce,uint256 deadline)"
    );
    bytes32 private constant _CHECKPOINT_TYPEHASH =
        keccak256("Checkpoint(uint16 exchange,uint64 treeSize,bytes32 root)");
    /// @dev The account's consent to be onboarded as this identity, by this exchange, before the deadline. The
    /// identifier hash is unique for ever, so a consent can be used once.
    bytes32 private constant _ONBOARDING_TYPEHASH = keccak256(
        "Onboarding(bytes32 identifierHash,address account,uint8 role,uint16 registrar,uint256 deadline)"
    );

    IFederation private immutable _federation;
    IPropertyRegister private immutable _propertyRegister;
    uint256 private immutable _cachedChainId;
    bytes32 private immutable _cachedDomainSeparator;

    mapping(bytes32 id => Record) private _records;
    mapping(bytes32 id => mapping(uint256 index => bytes32 parentId)) private _parents;
    mapping(uint32 entityId => Entity) private _entities;
    /// @dev Entity ids (below 2**32) held in a whole word: onboarding writes it without first reading the slot,
    /// as solc does for a narrower value to keep the rest of the word.
    mapping(bytes32 identifierHash => uint256 entityId) private _entityByIdentifier;
    mapping(uint32 entityId => mapping(uint16 exchangeId => bool)) private _mandates;
    mapping(uint32 entityId => mapping(uint16 exchangeId => bool)) private _recognized;

    /// @dev An exchange's transparency log: its size and the size of its last anchored checkpoint (one slot).
    struct LogState {
        uint64 size;
        uint64 anchoredSize;
    }

    mapping(uint16 exchangeId => LogState) private _logs;
    mapping(uint16 exchangeId => mapping(uint64 treeSize => bytes32 root)) private _anchoredRoots;

    // Packed into one slot: each registration pays for one counter update.
    uint64 private _entityCount;
    uint64 private _registrationCount;

    /// @dev Entities frozen by a governance decision (a separate slot: registrations never read it, since a
    /// freeze withdraws every mandate).
    mapping(uint32 entityId => bool) private _frozen;
    /// @dev The last governance decision applied to each entity: decisions apply once, in proposal order.
    mapping(uint32 entityId => uint256 proposalId) private _lastDecision;

    error ZeroFederation();

    constructor(IFederation federation_, IPropertyRegister propertyRegister_) {
        if (address(federation_) == address(0)) revert ZeroFederation();
        if (address(propertyRegister_) == address(0)) revert ZeroPropertyRegister();
        _federation = federation_;
        _propertyRegister = propertyRegister_;
        _cachedChainId = block.chainid;
        _cachedDomainSeparator = _buildDomainSeparator();
    }

    // ------------------------------------------------------------------ entities

    /// @inheritdoc IRegistry
    function registerEntity(bytes32 identifierHash, address account, uint8 role, uint256 deadline, bytes calldata consent)
        external
        returns (uint32 entityId)
    {
        uint16 exchangeId = _federation.activeExchangeOf(msg.sender);
        uint64 count = _entityCount + 1;
        _onboard(exchangeId, count, identifierHash, account, role, deadline, consent);
        _entityCount = count;
        entityId = uint32(count);
    }

    /// @inheritdoc IRegistry
    function registerEntities(Onboarding[] calldata items) external returns (uint32 firstId) {
        uint16 exchangeId = _federation.activeExchangeOf(msg.sender);
        uint256 n = items.length;
        if (n == 0) revert EmptyBatch();
        uint64 count = _entityCount;
        for (uint256 i = 0; i < n; ++i) {
            Onboarding calldata item = items[i];
            ++count;
            _onboard(exchangeId, count, item.identifierHash, item.account, item.role, item.deadline, item.consent);
        }
        _entityCount = count;
        firstId = uint32(count - n + 1);
    }

    /// @inheritdoc IRegistry
    function applyEntityDecision(uint256 proposalId) external {
        IFederation.Proposal memory p = _federation.getProposal(proposalId); // UnknownProposal if none
        if (!p.executed) revert ProposalNotExecuted(proposalId);
        IFederation.ProposalAction action = p.action;
        if (
            action != IFederation.ProposalAction.FreezeEntity && action != IFederation.ProposalAction.UnfreezeEntity
                && action != IFederation.ProposalAction.ReassignEntity
        ) revert NotEntityDecision(proposalId, uint8(action));
        // The federation checked the payload's shape when the proposal was made.
        (address registry, uint32 entityId) = abi.decode(p.payload, (address, uint32));
        if (registry != address(this)) revert DecisionForOtherRegistry(proposalId, registry);
        Entity storage e = _entityOrRevert(entityId);
        uint256 last = _lastDecision[entityId];
        if (proposalId <= last) revert DecisionOutdated(entityId, proposalId, last);
        _lastDecision[entityId] = proposalId;
        if (action == IFederation.ProposalAction.FreezeEntity) {
            if (_frozen[entityId]) revert EntityIsFrozen(entityId);
            _frozen[entityId] = true;
            _withdrawMandates(entityId);
            emit EntityFrozen(entityId, proposalId);
        } else if (action == IFederation.ProposalAction.UnfreezeEntity) {
            if (!_frozen[entityId]) revert EntityNotFrozen(entityId);
            _frozen[entityId] = false;
            emit EntityUnfrozen(entityId, proposalId);
        } else {
            (,, address newAccount) = abi.decode(p.payload, (address, uint32, address));
            address previous = e.account;
            e.account = newAccount;
            // The disputed account's grants go with it; the new account grants its own.
            _withdrawMandates(entityId);
            if (_frozen[entityId]) {
                _frozen[entityId] = false;
                emit EntityUnfrozen(entityId, proposalId);
            }
            emit EntityReassigned(entityId, previous, newAccount, proposalId);
        }
    }

    /// @inheritdoc IRegistry
    function recognizeEntity(uint32 entityId) external {
        uint16 exchangeId = _federation.activeExchangeOf(msg.sender);
        Entity storage e = _entityOrRevert(entityId);
        if (e.registrar == exchangeId) revert SelfRecognition(entityId, exchangeId);
        if (_recognized[entityId][exchangeId]) revert AlreadyRecognized(entityId, exchangeId);
        _recognized[entityId][exchangeId] = true;
        emit EntityRecognized(entityId, exchangeId);
    }

    /// @inheritdoc IRegistry
    function setEntityAccount(uint32 entityId, address newAccount) external {
        Entity storage e = _entityOrRevert(entityId);
        address previous = e.account;
        if (msg.sender != previous) revert NotEntityAccount(entityId, msg.sender);
        if (_frozen[entityId]) revert EntityIsFrozen(entityId);
        if (newAccount == address(0)) revert ZeroAccount();
        e.account = newAccount;
        emit EntityAccountChanged(entityId, previous, newAccount);
    }

    /// @inheritdoc IRegistry
    function setMandate(uint32 entityId, uint16 exchangeId, bool granted) external {
        Entity storage e = _entityOrRevert(entityId);
        if (msg.sender != e.account) revert NotEntityAccount(entityId, msg.sender);
        if (_frozen[entityId]) revert EntityIsFrozen(entityId);
        if (granted) {
            // Reverts with UnknownExchange for ids that were never members.
            IFederation.Exchange memory ex = _federation.getExchange(exchangeId);
            if (ex.status != IFederation.ExchangeStatus.Active) revert IFederation.ExchangeNotActive(exchangeId);
        }
        _mandates[entityId][exchangeId] = granted;
        emit MandateChanged(entityId, exchangeId, granted);
    }

    // ------------------------------------------------------------------ registrations

    /// @inheritdoc IRegistry
    function register(RegistrationRequest calldata request) external returns (bytes32 id) {
        uint16 registrar = _federation.activeExchangeOf(msg.sender);
        _checkMandate(request.owner, registrar);
        id = _register(registrar, request, false);
        _registrationCount += 1;
    }

    /// @inheritdoc IRegistry
    function registerBatch(RegistrationRequest[] calldata requests) external returns (bytes32[] memory ids) {
        uint16 registrar = _federation.activeExchangeOf(msg.sender);
        uint256 n = requests.length;
        ids = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            RegistrationRequest calldata request = requests[i];
            _checkMandate(request.owner, registrar);
            ids[i] = _register(registrar, request, false);
        }
        // n is bounded by calldata size, far below 2**64.
        _registrationCount += uint64(n);
    }

    /// @inheritdoc IRegistry
    function registerFor(RegistrationRequest calldata request, uint256 nonce, uint256 deadline, bytes calldata signature)
        external
        returns (bytes32 id)
    {
        uint16 registrar = _federation.activeExchangeOf(msg.sender);
        // Signature deadlines are minutes long; a block producer's few seconds of timestamp drift cannot matter.
        // slither-disable-next-line timestamp
        if (block.timestamp > deadline) revert SignatureExpired(deadline, block.timestamp);
        Entity storage owner = _entityOrRevert(request.owner);
        if (_frozen[request.owner]) revert EntityIsFrozen(request.owner);
        uint256 expected = owner.nonce;
        if (nonce != expected) revert InvalidNonce(request.owner, expected, nonce);
        // A nonce that wrapped to 0 would reopen every signature the owner ever made.
        if (expected == type(uint32).max) revert NonceExhausted(request.owner);
        address signer = _recover(_registrationDigest(registrar, request, nonce, deadline), signature);
        if (signer != owner.account) revert WrongSigner(signer, owner.account);
        owner.nonce = uint32(expected + 1); // below 2**32: checked just above
        id = _register(registrar, request, true);
        _registrationCount += 1;
    }

    /// @inheritdoc IRegistry
    function setStatus(bytes32 id, Status status, bytes32 reason) external {
        uint16 caller = _federation.activeExchangeOf(msg.sender);
        Record storage r = _records[id];
        Status previous = r.status;
        if (previous == Status.None) revert UnknownRecord(id);
        if (r.registrar != caller) revert NotRegistrar(id, r.registrar, caller);
        if (!_transitionAllowed(previous, status)) revert InvalidStatusTransition(id, previous, status);
        if (status == Status.Revoked) _checkUnencumbered(id);
        r.status = status;
        emit StatusChanged(id, caller, previous, status, reason);
    }

    /// @inheritdoc IRegistry
    function propertyUpdate(bytes32 id, uint32 owner, uint8 rights, bytes32 metadataHash) external {
        _onlyPropertyRegister();
        Record storage r = _records[id];
        r.owner = owner;
        if (rights != 0) r.rights = rights;
        if (metadataHash != bytes32(0)) r.metadataHash = metadataHash;
    }

    /// @inheritdoc IRegistry
    function propertyRevoke(bytes32 id, bytes32 reason) external {
        _onlyPropertyRegister();
        Record storage r = _records[id];
        Status previous = r.status;
        if (previous != Status.Active && previous != Status.Suspended) {
            revert InvalidStatusTransition(id, previous, Status.Revoked);
        }
        r.status = Status.Revoked;
        emit StatusChanged(id, r.registrar, previous, Status.Revoked, reason);
    }

    // ------------------------------------------------------------------ transparency logs

    /// @inheritdoc IRegistry
    function anchorBatch(uint64 treeSize, bytes32 root, bytes calldata entries, bytes calldata signature) external {
        uint16 exchangeId = _federation.activeExchangeOf(msg.sender);
        if (root == bytes32(0)) revert ZeroRoot();
        LogState storage log = _logs[exchangeId];
        uint64 first = log.size;
        if (treeSize < first) revert TreeSizeMismatch(exchangeId, first, treeSize);
        if (treeSize == first) revert EmptyBatch();
        MerkleLog.checkFraming(entries, treeSize - first);
        _checkSignedNote(exchangeId, treeSize, root, signature);
        log.size = treeSize;
        log.anchoredSize = treeSize;
        _anchoredRoots[exchangeId][treeSize] = root;
        emit BatchAnchored(exchangeId, first, treeSize, root, entries, signature);
    }

    /// @inheritdoc IRegistry
    function anchorCheckpoint(uint64 treeSize, bytes32 root, bytes calldata signature) external {
        uint16 exchangeId = _federation.activeExchangeOf(msg.sender);
        if (root == bytes32(0)) revert ZeroRoot();
        LogState storage log = _logs[exchangeId];
        uint64 size = log.size;
        if (treeSize != size) revert TreeSizeMismatch(exchangeId, size, treeSize);
        if (size == log.anchoredSize) revert CheckpointExists(exchangeId, size);
        _checkSignedNote(exchangeId, size, root, signature);
        log.anchoredSize = size;
        _anchoredRoots[exchangeId][size] = root;
        emit CheckpointAnchored(exchangeId, size, root, signature);
    }

    /// @inheritdoc IRegistry
    function cosignCheckpoint(uint16 exchangeId, uint64 treeSize, bytes32 root, bytes calldata signature) external {
        uint16 witnessId = _federation.activeExchangeOf(msg.sender);
        if (witnessId == exchangeId) revert SelfWitness(exchangeId);
        bytes32 anchored = _anchoredRoots[exchangeId][treeSize];
        if (anchored == bytes32(0)) revert CheckpointNotAnchored(exchangeId, treeSize);
        if (anchored != root) revert CheckpointRootMismatch(exchangeId, treeSize, anchored, root);
        address signer = _recover(_checkpointDigest(exchangeId, treeSize, root), signature);
        if (signer != msg.sender) revert WrongSigner(signer, msg.sender);
        emit CheckpointCosigned(exchangeId, witnessId, treeSize, root, signer, signature);
    }

    /// @inheritdoc IRegistry
    function setBatchedStatus(bytes32 id, Status status, bytes32 reason) external {
        uint16 caller = _federation.activeExchangeOf(msg.sender);
        // Status.None is the never-stored sentinel, not a time.
        // slither-disable-next-line timestamp
        if (_records[id].status != Status.None) revert StoredRecord(id);
        emit BatchedStatusRequested(id, caller, status, reason);
    }

    /// @inheritdoc IRegistry
    function anchorStatusList(uint64 atBlock, bytes32 listHash) external {
        uint16 exchangeId = _federation.activeExchangeOf(msg.sender);
        if (listHash == bytes32(0)) revert ZeroRoot();
        if (atBlock >= block.number) revert FutureBlock(atBlock, block.number);
        emit StatusListAnchored(exchangeId, atBlock, listHash);
    }

    /// @inheritdoc IRegistry
    function recognizeCertificate(bytes32 credentialHash, bytes32 recordId_, uint16 issuerId) external {
        uint16 recognizerId = _federation.activeExchangeOf(msg.sender);
        if (recognizerId == issuerId) revert SelfWitness(issuerId);
        // Reverts with UnknownExchange for ids that were never members.
        // slither-disable-next-line unused-return
        _federation.getExchange(issuerId);
        emit CertificateRecognized(credentialHash, recordId_, recognizerId, issuerId);
    }

    /// @inheritdoc IRegistry
    function logState(uint16 exchangeId) external view returns (uint64 size, uint64 anchoredSize) {
        LogState storage log = _logs[exchangeId];
        return (log.size, log.anchoredSize);
    }

    /// @inheritdoc IRegistry
    function anchoredRoot(uint16 exchangeId, uint64 treeSize) external view returns (bytes32) {
        return _anchoredRoots[exchangeId][treeSize];
    }

    /// @inheritdoc IRegistry
    function verifyInclusion(
        uint16 exchangeId,
        uint64 treeSize,
        uint64 leafIndex,
        bytes32 leafHash,
        bytes32[] calldata proof
    ) external view returns (bool) {
        bytes32 anchored = _anchoredRoots[exchangeId][treeSize];
        return anchored != bytes32(0) && inclusionRoot(treeSize, leafIndex, leafHash, proof) == anchored;
    }

    /// @inheritdoc IRegistry
    function inclusionRoot(uint64 treeSize, uint64 leafIndex, bytes32 leafHash, bytes32[] calldata proof)
        public
        pure
        returns (bytes32)
    {
        return MerkleLog.inclusionRoot(treeSize, leafIndex, leafHash, proof);
    }

    /// @inheritdoc IRegistry
    function checkpointDigest(uint16 exchangeId, uint64 treeSize, bytes32 root) external view returns (bytes32) {
        return _checkpointDigest(exchangeId, treeSize, root);
    }

    // ------------------------------------------------------------------ catalogue

    /// @inheritdoc IRegistry
    /// @dev Any status is accepted: the document describes what the registration committed to when it was made
    /// (its hash is fixed then), the status is shown beside it, and a revoked or superseded listing keeps its name
    /// in the history and the lineage graph. The indexes judge batched entries by the same rules, status-blind too.
    function publishMetadata(bytes32[] calldata ids, bytes[] calldata documents) external {
        uint16 caller = _federation.activeExchangeOf(msg.sender);
        uint256 n = _checkCounts(ids.length, documents.length);
        for (uint256 i = 0; i < n; ++i) {
            bytes32 id = ids[i];
            bytes calldata document = documents[i];
            _checkDocumentSize(id, document.length);
            Record storage r = _records[id];
            // No stored status: a batched entry (or no record at all), which only the indexes can judge.
            if (r.status != Status.None) {
                uint16 registrar = r.registrar;
                if (registrar != caller) revert NotRegistrar(id, registrar, caller);
                uint8 grade = r.grade;
                if (grade != GRADE_GENERAL) revert NotPublicGrade(id, grade);
                bytes32 expected = r.metadataHash;
                bytes32 actual = keccak256(document);
                if (actual != expected) revert MetadataMismatch(id, expected, actual);
            }
            emit MetadataPublished(id, caller, document);
        }
    }

    /// @inheritdoc IRegistry
    function publishProfiles(uint32[] calldata entityIds, bytes[] calldata documents) external {
        uint16 caller = _federation.activeExchangeOf(msg.sender);
        uint256 n = _checkCounts(entityIds.length, documents.length);
        for (uint256 i = 0; i < n; ++i) {
            uint32 entityId = entityIds[i];
            bytes calldata document = documents[i];
            _checkDocumentSize(bytes32(uint256(entityId)), document.length);
            uint16 registrar = _entityOrRevert(entityId).registrar;
            if (registrar != caller) revert NotEntityRegistrar(entityId, registrar, caller);
            emit EntityProfilePublished(entityId, caller, document);
        }
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IRegistry
    function recordId(uint16 registrar, bytes32 contentHash) public pure returns (bytes32) {
        return keccak256(abi.encode(registrar, contentHash));
    }

    /// @inheritdoc IRegistry
    function getRecord(bytes32 id) external view returns (Record memory) {
        Record memory r = _records[id];
        // Status.None is the never-stored sentinel, not a time or a balance.
        // slither-disable-next-line incorrect-equality,timestamp
        if (r.status == Status.None) revert UnknownRecord(id);
        return r;
    }

    /// @inheritdoc IRegistry
    function propertyHead(bytes32 id)
        external
        view
        returns (uint32 owner, uint16 registrar, uint8 kind, uint8 rights, Status status, uint40 timestamp)
    {
        Record storage r = _records[id];
        status = r.status;
        if (status == Status.None) revert UnknownRecord(id);
        return (r.owner, r.registrar, r.kind, r.rights, status, r.timestamp);
    }

    /// @inheritdoc IRegistry
    function parentsOf(bytes32 id) external view returns (bytes32[] memory parents) {
        Record storage r = _records[id];
        if (r.status == Status.None) revert UnknownRecord(id);
        uint256 n = r.parentCount;
        parents = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            parents[i] = _parents[id][i];
        }
    }

    /// @inheritdoc IRegistry
    function getEntity(uint32 entityId) external view returns (Entity memory) {
        return _entityOrRevert(entityId);
    }

    /// @inheritdoc IRegistry
    function activeEntity(uint32 entityId) external view returns (Entity memory) {
        if (_frozen[entityId]) revert EntityIsFrozen(entityId);
        return _entityOrRevert(entityId);
    }

    /// @inheritdoc IRegistry
    function isFrozen(uint32 entityId) external view returns (bool) {
        return _frozen[entityId];
    }

    /// @inheritdoc IRegistry
    function lastEntityDecision(uint32 entityId) external view returns (uint256) {
        return _lastDecision[entityId];
    }

    /// @inheritdoc IRegistry
    function entityIdOf(bytes32 identifierHash) external view returns (uint32) {
        return uint32(_entityByIdentifier[identifierHash]); // below 2**32: only _onboard writes it
    }

    /// @inheritdoc IRegistry
    function hasMandate(uint32 entityId, uint16 exchangeId) external view returns (bool) {
        return _mandates[entityId][exchangeId];
    }

    /// @inheritdoc IRegistry
    function isRecognized(uint32 entityId, uint16 exchangeId) external view returns (bool) {
        return _recognized[entityId][exchangeId];
    }

    /// @inheritdoc IRegistry
    function counts() external view returns (uint64 entities, uint64 registrations) {
        return (_entityCount, _registrationCount);
    }

    /// @inheritdoc IRegistry
    function registrationDigest(uint16 registrar, RegistrationRequest calldata request, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return _registrationDigest(registrar, request, nonce, deadline);
    }

    /// @inheritdoc IRegistry
    function onboardingDigest(bytes32 identifierHash, address account, uint8 role, uint16 registrar, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return _onboardingDigest(identifierHash, account, role, registrar, deadline);
    }

    /// @inheritdoc IRegistry
    function domainSeparator() public view returns (bytes32) {
        // After a chain split the cached separator would name the old chain id: rebuild it.
        return block.chainid == _cachedChainId ? _cachedDomainSeparator : _buildDomainSeparator();
    }

    /// @inheritdoc IRegistry
    function federation() external view returns (address) {
        return address(_federation);
    }

    /// @inheritdoc IRegistry
    function propertyRegister() external view returns (address) {
        return address(_propertyRegister);
    }

    // ------------------------------------------------------------------ internals

    /// @dev The one place every registration path goes through: validates the request against the rules,
    /// stores the record and its parents, supersedes the previous version, and emits the events.
    // A flat sequence of `if (...) revert` rules, each one branch; splitting it would scatter the rules.
    // slither-disable-next-line cyclomatic-complexity
    function _register(uint16 registrar, RegistrationRequest calldata request, bool delegated)
        private
        returns (bytes32 id)
    {
        uint8 kind = request.kind;
        uint8 grade = request.grade;
        if (kind > KIND_MAX) revert InvalidKind(kind);
        if (grade > GRADE_CORE) revert InvalidGrade(grade);
        if (request.source > SOURCE_MAX) revert InvalidSource(request.source);
        if (request.rights == 0 || request.rights > RIGHTS_ALL) revert InvalidRights(request.rights);
        if (request.contentHash == bytes32(0)) revert ZeroContentHash();
        if (grade == GRADE_CORE && kind != KIND_RESOURCE) revert CoreNotListable(kind);

        id = recordId(registrar, request.contentHash);
        Record storage rec = _records[id];
        if (rec.status != Status.None) revert AlreadyRegistered(id);
        // Otherwise the record would be stored, then find itself active and be born superseded.
        if (request.supersedes == id) revert SelfSupersede(id);

        bytes32[] calldata parents = request.parents;
        uint256 n = parents.length;
        if (n > MAX_PARENTS) revert TooManyParents(n, MAX_PARENTS);
        for (uint256 i = 0; i < n; ++i) {
            bytes32 parentId = parents[i];
            if (parentId == id) revert SelfParent(id);
            for (uint256 j = 0; j < i; ++j) {
                if (parents[j] == parentId) revert DuplicateParent(parentId);
            }
            Record storage parent = _records[parentId];
            Status parentStatus = parent.status;
            if (parentStatus == Status.None) revert UnknownParent(parentId);
            if (parentStatus == Status.Revoked) revert ParentRevoked(parentId);
            if (parent.grade > grade) revert GradeBelowParent(parentId, parent.grade, grade);
            _parents[id][i] = parentId;
        }
        // In registerBatch's loop, one view call per registration to the immutable property register (a batch is
        // bounded by calldata); it reverts only with ParentExpired, which refuses the batch as it should.
        // slither-disable-next-line calls-loop
        if (n != 0) _propertyRegister.checkParents(parents); // ParentExpired

        LogState storage log = _logs[registrar];
        uint64 leafIndex = log.size;
        log.size = leafIndex + 1;
        _records[id] = Record({
            owner: request.owner,
            registrar: registrar,
            kind: kind,
            grade: grade,
            source: request.source,
            rights: request.rights,
            status: Status.Active,
            parentCount: uint8(n), // n <= MAX_PARENTS < 256
            timestamp: uint40(block.timestamp),
            blockNumber: uint64(block.number),
            contentHash: request.contentHash,
            metadataHash: request.metadataHash
        });
        emit DataRegistered(
            id,
            registrar,
            request.owner,
            kind,
            grade,
            request.source,
            request.rights,
            request.contentHash,
            request.metadataHash,
            request.supersedes,
            parents,
            delegated,
            leafIndex
        );

        bytes32 supersedes = request.supersedes;
        if (supersedes != bytes32(0)) {
            Record storage old = _records[supersedes];
            Status oldStatus = old.status;
            if (oldStatus == Status.None) revert UnknownRecord(supersedes);
            if (old.registrar != registrar) revert NotRegistrar(supersedes, old.registrar, registrar);
            if (old.owner != request.owner || old.kind != kind) revert SupersedeMismatch(supersedes);
            if (oldStatus != Status.Active && oldStatus != Status.Suspended) {
                revert InvalidStatusTransition(supersedes, oldStatus, Status.Superseded);
            }
            _checkUnencumbered(supersedes);
            old.status = Status.Superseded;
            emit StatusChanged(supersedes, registrar, oldStatus, Status.Superseded, id);
        }
    }

    /// @dev The checkpoint's signed note must be by the key sending it, so every anchored checkpoint carries a
    /// signature an offline verifier can check against the key history.
    function _checkSignedNote(uint16 exchangeId, uint64 treeSize, bytes32 root, bytes calldata signature) private view {
        address signer = _recover(_checkpointDigest(exchangeId, treeSize, root), signature);
        if (signer != msg.sender) revert WrongSigner(signer, msg.sender);
    }

    function _checkpointDigest(uint16 exchangeId, uint64 treeSize, bytes32 root) private view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(_CHECKPOINT_TYPEHASH, exchangeId, treeSize, root));
        return EIP712.digest(domainSeparator(), structHash);
    }

    function _onboardingDigest(bytes32 identifierHash, address account, uint8 role, uint16 registrar, uint256 deadline)
        private
        view
        returns (bytes32 digest)
    {
        // hashStruct and the EIP-712 digest as abi.encode and EIP712.digest build them, in memory above the free
        // pointer without moving it: a batch of 150 onboardings otherwise allocates 50 KiB it never reads again
        // (issue 20: onboarding time is the embedded chain's instructions per entity).
        bytes32 separator = domainSeparator();
        bytes32 typeHash = _ONBOARDING_TYPEHASH;
        // slither-disable-next-line assembly
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, typeHash)
            mstore(add(m, 0x20), identifierHash)
            mstore(add(m, 0x40), account)
            mstore(add(m, 0x60), role)
            mstore(add(m, 0x80), registrar)
            mstore(add(m, 0xa0), deadline)
            let structHash := keccak256(m, 0xc0)
            mstore(m, shl(240, 0x1901))
            mstore(add(m, 0x02), separator)
            mstore(add(m, 0x22), structHash)
            digest := keccak256(m, 0x42)
        }
    }

    /// @dev registerEntity's rules, in its order, for the entity taking id `count`; the caller writes the count.
    /// Writing the identifier's id before the next item is checked makes a repeat inside a batch EntityExists.
    function _onboard(
        uint16 exchangeId,
        uint64 count,
        bytes32 identifierHash,
        address account,
        uint8 role,
        uint256 deadline,
        bytes calldata consent
    ) private {
        if (identifierHash == bytes32(0)) revert ZeroIdentifier();
        if (account == address(0)) revert ZeroAccount();
        if (role > ROLE_MAX) revert InvalidRole(role);
        uint256 existing = _entityByIdentifier[identifierHash];
        if (existing != 0) revert EntityExists(identifierHash, uint32(existing)); // below 2**32, as written
        // Signature deadlines are minutes long; a block producer's few seconds of timestamp drift cannot matter.
        // slither-disable-next-line timestamp
        if (block.timestamp > deadline) revert SignatureExpired(deadline, block.timestamp);
        address signer = _recover(_onboardingDigest(identifierHash, account, role, exchangeId, deadline), consent);
        if (signer != account) revert WrongSigner(signer, account);
        if (count > type(uint32).max) revert EntityIdsExhausted();
        uint32 entityId = uint32(count);
        // Entity(identifierHash, account, exchangeId, role, uint40(block.timestamp), 0) in two whole-word writes:
        // solc writes a struct member by member, reading and rewriting the packed second slot for each (two
        // more reads and writes an entity). The second slot packs from the low-order end, as solc lays it out:
        // account (160 bits), registrar (16), role (8), registeredAt (40), nonce (32, zero). tests/contracts/
        // test_entity_storage.py reads every field back through solc's own accessors.
        uint256 packed = uint256(uint160(account)) | (uint256(exchangeId) << 160) | (uint256(role) << 176)
            | (uint256(uint40(block.timestamp)) << 184);
        Entity storage e = _entities[entityId];
        // slither-disable-next-line assembly
        assembly ("memory-safe") {
            sstore(e.slot, identifierHash)
            sstore(add(e.slot, 1), packed)
        }
        _entityByIdentifier[identifierHash] = entityId;
        emit EntityRegistered(entityId, exchangeId, identifierHash, account, EntityRole(role));
    }

    function _onlyPropertyRegister() private view {
        if (msg.sender != address(_propertyRegister)) revert NotPropertyRegister(msg.sender);
    }

    function _checkUnencumbered(bytes32 id) private view {
        // In registerBatch's loop (a superseding registration), one view call to the immutable property register.
        // slither-disable-next-line calls-loop
        if (_propertyRegister.encumbered(id)) revert RecordEncumbered(id);
    }

    /// @dev A frozen entity has no mandates (the freeze withdrew them), so only the failing path asks why.
    function _checkMandate(uint32 owner, uint16 registrar) private view {
        if (!_mandates[owner][registrar]) {
            if (_frozen[owner]) revert EntityIsFrozen(owner);
            revert NoMandate(owner, registrar);
        }
    }

    /// @dev One document per subject, at least one subject: a publication that says nothing is a caller's mistake.
    function _checkCounts(uint256 subjects, uint256 documents) private pure returns (uint256) {
        if (subjects != documents) revert DocumentCountMismatch(subjects, documents);
        if (subjects == 0) revert EmptyBatch();
        return subjects;
    }

    function _checkDocumentSize(bytes32 subject, uint256 size) private pure {
        if (size == 0) revert EmptyDocument(subject);
        if (size > MAX_DOCUMENT_BYTES) revert DocumentTooLarge(subject, size, MAX_DOCUMENT_BYTES);
    }

    /// @dev Withdraws every exchange's mandate, with an event each, so the indexes' batch rules (which judge
    /// mandates from events) agree. Exchange ids run from 1 to the federation's exchange count.
    function _withdrawMandates(uint32 entityId) private {
        uint256 n = _federation.exchangeCount();
        for (uint256 i = 1; i <= n; ++i) {
            uint16 x = uint16(i); // i <= exchangeCount, a uint16
            if (_mandates[entityId][x]) {
                _mandates[entityId][x] = false;
                emit MandateChanged(entityId, x, false);
            }
        }
    }

    /// @dev Active <-> Suspended; Active, Suspended or Superseded -> Revoked. Revoked is final, and
    /// Superseded is reached only through a new version.
    function _transitionAllowed(Status from, Status to) private pure returns (bool) {
        if (to == Status.Revoked) return from != Status.Revoked;
        if (to == Status.Suspended) return from == Status.Active;
        if (to == Status.Active) return from == Status.Suspended;
        return false;
    }

    function _entityOrRevert(uint32 entityId) private view returns (Entity storage e) {
        e = _entities[entityId];
        if (e.account == address(0)) revert UnknownEntity(entityId);
    }

    function _registrationDigest(
        uint16 registrar,
        RegistrationRequest calldata r,
        uint256 nonce,
        uint256 deadline
    ) private view returns (bytes32) {
        // EIP-712 encodeData: dynamic arrays are hashed as keccak256 of their concatenated 32-byte elements.
        bytes32 structHash = keccak256(
            abi.encode(
                _REGISTRATION_TYPEHASH,
                registrar,
                r.kind,
                r.grade,
                r.source,
                r.rights,
                r.owner,
                r.contentHash,
                r.metadataHash,
                r.supersedes,
                keccak256(abi.encodePacked(r.parents)),
                nonce,
                deadline
            )
        );
        return EIP712.digest(domainSeparator(), structHash);
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return EIP712.domainSeparator(_NAME_HASH);
    }

    /// @dev Strict encodings only (see lib/EIP712.sol), each refusal named.
    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address signer) {
        EIP712.Failure failure;
        (signer, failure) = EIP712.tryRecover(digest, signature);
        if (failure == EIP712.Failure.Length) revert InvalidSignatureLength(signature.length);
        if (failure == EIP712.Failure.HighS) revert InvalidSignatureS(bytes32(signature[32:64]));
        if (failure == EIP712.Failure.BadV) revert InvalidSignatureV(uint8(signature[64]));
        // ecrecover yields address(0) for an invalid signature; no entity account is zero, so the
        // caller's signer check refuses it as WrongSigner.
    }
}
