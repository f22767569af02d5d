// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IFederation} from "./interfaces/IFederation.sol";
import {EIP712} from "./lib/EIP712.sol";

/// @title Federation of data exchanges (see IFederation for the full description)
contract Federation is IFederation {
    /// @notice How long a proposal stays open for approvals.
    uint64 public constant PROPOSAL_TTL = 7 days;
    /// @notice Valid keys an exchange may hold at once (bounds the work of key checks and keeps history readable).
    uint256 public constant MAX_ACTIVE_KEYS = 8;
    /// @notice Valid Ed25519 note keys an exchange may hold at once (bounds what a witness reads to trust one).
    uint256 public constant MAX_ACTIVE_NOTE_KEYS = 8;
    /// @notice `role` of a key consent: the key signs for an exchange.
    uint8 public constant ROLE_EXCHANGE = 0;
    /// @notice `role` of a key consent: the key signs for a supervisor.
    uint8 public constant ROLE_SUPERVISOR = 1;

    /// @dev EIP-712 (lib/EIP712.sol). A key proves it consents to serve one member: `KeyGrant` names the member by
    /// id (adding or rotating a key of an existing member), `MemberKey` by the code and name a proposal gives it
    /// (the id is assigned only when the proposal executes). A key is used once, so neither can be replayed.
    bytes32 private constant _NAME_HASH = keccak256("ProvenanceFederation");
    bytes32 private constant _KEY_GRANT_TYPEHASH = keccak256("KeyGrant(uint8 role,uint16 member,address key)");
    bytes32 private constant _MEMBER_KEY_TYPEHASH =
        keccak256("MemberKey(uint8 role,bytes8 code,string name,address key)");

    uint256 private immutable _cachedChainId;
    bytes32 private immutable _cachedDomainSeparator;

    mapping(uint16 exchangeId => Exchange) private _exchanges;
    mapping(bytes8 code => uint16 exchangeId) private _exchangeByCode;
    mapping(address key => KeyRecord) private _keys;
    mapping(uint16 exchangeId => address[]) private _keyHistory;
    mapping(uint16 exchangeId => uint256) private _activeKeyCount;
    mapping(bytes32 noteKey => NoteKeyRecord) private _noteKeys;
    mapping(uint16 exchangeId => bytes32[]) private _noteKeyHistory;
    mapping(uint16 exchangeId => uint256) private _activeNoteKeyCount;
    mapping(uint256 proposalId => Proposal) private _proposals;
    mapping(uint256 proposalId => mapping(uint16 exchangeId => bool)) private _approved;

    mapping(uint16 supervisorId => Exchange) private _supervisors;
    mapping(bytes8 code => uint16 supervisorId) private _supervisorByCode;
    mapping(address key => KeyRecord) private _supervisorKeys;
    mapping(uint16 supervisorId => address[]) private _supervisorKeyHistory;
    mapping(uint16 supervisorId => address) private _supervisorKey;

    uint16 private _supervisorCount;
    uint16 private _exchangeCount;
    uint16 private _memberCount;
    uint16 private _threshold;
    uint64 private _epoch;
    uint256 private _proposalCount;

    /// @param code Short code of the bootstrap member (e.g. "SDE"), left-aligned ASCII.
    /// @param name Display name of the bootstrap member.
    /// @param key First signing key of the bootstrap member.
    constructor(bytes8 code, string memory name, address key) {
        _cachedChainId = block.chainid;
        _cachedDomainSeparator = EIP712.domainSeparator(_NAME_HASH);
        _threshold = 1;
        _addExchange(code, name, key, 0);
    }

    /// @inheritdoc IFederation
    function propose(ProposalAction action, bytes calldata payload) external returns (uint256 proposalId) {
        uint16 proposer = activeExchangeOf(msg.sender);
        bytes memory stored = _validatePayload(action, payload);
        proposalId = ++_proposalCount;
        uint64 expiresAt = uint64(block.timestamp) + PROPOSAL_TTL;
        _proposals[proposalId] = Proposal({
            action: action,
            proposer: proposer,
            approvals: 0,
            executed: false,
            epoch: _epoch,
            expiresAt: expiresAt,
            payload: stored
        });
        emit ProposalCreated(proposalId, proposer, action, stored, expiresAt);
        _approve(proposalId, proposer);
    }

    /// @inheritdoc IFederation
    function approve(uint256 proposalId) external {
        uint16 exchangeId = activeExchangeOf(msg.sender);
        Proposal storage p = _proposals[proposalId];
        if (p.proposer == 0) revert UnknownProposal(proposalId);
        if (p.executed) revert ProposalAlreadyExecuted(proposalId);
        // Proposals last days; a block producer's few seconds of timestamp drift cannot matter.
        // slither-disable-next-line timestamp
        if (block.timestamp > p.expiresAt) revert ProposalExpired(proposalId, p.expiresAt);
        if (p.epoch != _epoch) revert ProposalStale(proposalId, p.epoch, _epoch);
        if (_approved[proposalId][exchangeId]) revert AlreadyApproved(proposalId, exchangeId);
        _approve(proposalId, exchangeId);
    }

    /// @inheritdoc IFederation
    function addKey(address key, bytes calldata signature) external {
        uint16 exchangeId = activeExchangeOf(msg.sender);
        _checkFreshKey(key);
        _checkKeyGrant(ROLE_EXCHANGE, exchangeId, key, signature);
        _addKey(exchangeId, key);
    }

    /// @inheritdoc IFederation
    function revokeKey(address key) external {
        uint16 exchangeId = activeExchangeOf(msg.sender);
        _revokeKey(exchangeId, key);
    }

    /// @inheritdoc IFederation
    function rotateKey(address newKey, bytes calldata signature) external {
        uint16 exchangeId = activeExchangeOf(msg.sender);
        _checkFreshKey(newKey);
        _checkKeyGrant(ROLE_EXCHANGE, exchangeId, newKey, signature);
        _addKey(exchangeId, newKey);
        _revokeKey(exchangeId, msg.sender);
    }

    /// @inheritdoc IFederation
    function addNoteKey(bytes32 key) external {
        uint16 exchangeId = activeExchangeOf(msg.sender);
        if (key == bytes32(0)) revert ZeroNoteKey();
        if (_noteKeys[key].exchangeId != 0) revert NoteKeyAlreadyUsed(key);
        if (_activeNoteKeyCount[exchangeId] >= MAX_ACTIVE_NOTE_KEYS) revert TooManyNoteKeys(exchangeId);
        _noteKeys[key] = NoteKeyRecord({exchangeId: exchangeId, addedAt: uint64(block.number), revokedAt: 0});
        _noteKeyHistory[exchangeId].push(key);
        // At most MAX_ACTIVE_NOTE_KEYS, checked above.
        unchecked {
            _activeNoteKeyCount[exchangeId] += 1;
        }
        emit NoteKeyAdded(exchangeId, key);
    }

    /// @inheritdoc IFederation
    function revokeNoteKey(bytes32 key) external {
        uint16 exchangeId = activeExchangeOf(msg.sender);
        NoteKeyRecord storage k = _noteKeys[key];
        if (k.exchangeId != exchangeId) revert UnknownNoteKey(key, exchangeId);
        if (k.revokedAt != 0) revert NoteKeyAlreadyRevoked(key);
        k.revokedAt = uint64(block.number);
        // The key was valid, so it was counted once in the active keys.
        unchecked {
            _activeNoteKeyCount[exchangeId] -= 1;
        }
        emit NoteKeyRevoked(exchangeId, key);
    }

    /// @inheritdoc IFederation
    function noteKeysOf(uint16 exchangeId) external view returns (NoteKey[] memory keys) {
        bytes32[] storage history = _noteKeyHistory[exchangeId];
        keys = new NoteKey[](history.length);
        for (uint256 i = 0; i < history.length; ++i) {
            NoteKeyRecord storage k = _noteKeys[history[i]];
            keys[i] = NoteKey({key: history[i], addedAt: k.addedAt, revokedAt: k.revokedAt});
        }
    }

    /// @inheritdoc IFederation
    function getNoteKey(bytes32 key) external view returns (NoteKeyRecord memory) {
        return _noteKeys[key];
    }

    /// @inheritdoc IFederation
    function isNoteKeyValidAt(bytes32 key, uint16 exchangeId, uint64 blockNumber) external view returns (bool) {
        NoteKeyRecord storage k = _noteKeys[key];
        if (exchangeId == 0 || k.exchangeId != exchangeId) return false;
        if (blockNumber < k.addedAt) return false;
        if (k.revokedAt != 0 && blockNumber >= k.revokedAt) return false;
        uint64 removedAt = _exchanges[exchangeId].removedAt;
        // removedAt == 0 is the never-removed sentinel, not a time or a balance.
        // slither-disable-next-line incorrect-equality
        return removedAt == 0 || blockNumber < removedAt;
    }

    /// @inheritdoc IFederation
    function rotateSupervisorKey(address newKey, bytes calldata signature) external {
        uint16 supervisorId = activeSupervisorOf(msg.sender);
        _checkFreshKey(newKey);
        _checkKeyGrant(ROLE_SUPERVISOR, supervisorId, newKey, signature);
        _supervisorKeys[msg.sender].validTo = uint64(block.number);
        _setSupervisorKey(supervisorId, newKey);
        emit SupervisorKeyChanged(supervisorId, msg.sender, newKey);
    }

    /// @inheritdoc IFederation
    function activeSupervisorOf(address key) public view returns (uint16 supervisorId) {
        KeyRecord storage k = _supervisorKeys[key];
        supervisorId = k.exchangeId;
        if (supervisorId == 0 || k.validTo != 0 || _supervisors[supervisorId].status != ExchangeStatus.Active) {
            revert NotSupervisorKey(key);
        }
    }

    /// @inheritdoc IFederation
    function getSupervisor(uint16 supervisorId) external view returns (Exchange memory) {
        if (supervisorId == 0 || supervisorId > _supervisorCount) revert UnknownSupervisor(supervisorId);
        return _supervisors[supervisorId];
    }

    /// @inheritdoc IFederation
    function supervisorKeysOf(uint16 supervisorId) external view returns (address[] memory) {
        return _supervisorKeyHistory[supervisorId];
    }

    /// @inheritdoc IFederation
    function getSupervisorKey(address key) external view returns (KeyRecord memory) {
        return _supervisorKeys[key];
    }

    /// @inheritdoc IFederation
    function supervisorCount() external view returns (uint16) {
        return _supervisorCount;
    }

    /// @inheritdoc IFederation
    function activeExchangeOf(address key) public view returns (uint16 exchangeId) {
        KeyRecord storage k = _keys[key];
        exchangeId = k.exchangeId;
        if (exchangeId == 0 || k.validTo != 0 || _exchanges[exchangeId].status != ExchangeStatus.Active) {
            revert NotExchangeKey(key);
        }
    }

    /// @inheritdoc IFederation
    function isKeyValidAt(address key, uint16 exchangeId, uint64 blockNumber) external view returns (bool) {
        KeyRecord storage k = _keys[key];
        if (exchangeId == 0 || k.exchangeId != exchangeId) return false;
        if (blockNumber < k.validFrom) return false;
        if (k.validTo != 0 && blockNumber >= k.validTo) return false;
        uint64 removedAt = _exchanges[exchangeId].removedAt;
        // removedAt == 0 is the never-removed sentinel, not a time or a balance.
        // slither-disable-next-line incorrect-equality
        return removedAt == 0 || blockNumber < removedAt;
    }

    /// @inheritdoc IFederation
    function getExchange(uint16 exchangeId) external view returns (Exchange memory) {
        if (exchangeId == 0 || exchangeId > _exchangeCount) revert UnknownExchange(exchangeId);
        return _exchanges[exchangeId];
    }

    /// @inheritdoc IFederation
    function exchangeIdByCode(bytes8 code) external view returns (uint16) {
        return _exchangeByCode[code];
    }

    /// @inheritdoc IFederation
    function getKey(address key) external view returns (KeyRecord memory) {
        return _keys[key];
    }

    /// @inheritdoc IFederation
    function keysOf(uint16 exchangeId) external view returns (address[] memory) {
        return _keyHistory[exchangeId];
    }

    /// @inheritdoc IFederation
    function getProposal(uint256 proposalId) external view returns (Proposal memory) {
        // proposer == 0 is the never-proposed sentinel (exchange ids start at 1), not a time or a balance.
        // slither-disable-next-line incorrect-equality,timestamp
        if (_proposals[proposalId].proposer == 0) revert UnknownProposal(proposalId);
        return _proposals[proposalId];
    }

    /// @inheritdoc IFederation
    function hasApproved(uint256 proposalId, uint16 exchangeId) external view returns (bool) {
        return _approved[proposalId][exchangeId];
    }

    /// @inheritdoc IFederation
    function threshold() external view returns (uint16) {
        return _threshold;
    }

    /// @inheritdoc IFederation
    function memberCount() external view returns (uint16) {
        return _memberCount;
    }

    /// @inheritdoc IFederation
    function exchangeCount() external view returns (uint16) {
        return _exchangeCount;
    }

    /// @inheritdoc IFederation
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc IFederation
    function epoch() external view returns (uint64) {
        return _epoch;
    }

    /// @inheritdoc IFederation
    function keyGrantDigest(uint8 role, uint16 member, address key) public view returns (bytes32) {
        return EIP712.digest(domainSeparator(), keccak256(abi.encode(_KEY_GRANT_TYPEHASH, role, member, key)));
    }

    /// @inheritdoc IFederation
    function memberKeyDigest(uint8 role, bytes8 code, string memory name, address key) public view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(_MEMBER_KEY_TYPEHASH, role, code, keccak256(bytes(name)), key));
        return EIP712.digest(domainSeparator(), structHash);
    }

    /// @inheritdoc IFederation
    function domainSeparator() public view returns (bytes32) {
        // After a chain split the cached separator would name the old chain id: rebuild it.
        return block.chainid == _cachedChainId ? _cachedDomainSeparator : EIP712.domainSeparator(_NAME_HASH);
    }

    function _approve(uint256 proposalId, uint16 exchangeId) private {
        Proposal storage p = _proposals[proposalId];
        _approved[proposalId][exchangeId] = true;
        // approvals <= memberCount <= type(uint16).max: one per distinct member.
        uint16 approvals = p.approvals + 1;
        p.approvals = approvals;
        emit ProposalApproved(proposalId, exchangeId, approvals);
        if (approvals >= _threshold) {
            p.executed = true;
            ProposalAction action = p.action;
            // Entity decisions are applied by the registry they name (IRegistry.applyEntityDecision); they change
            // neither membership nor threshold, so they leave the epoch (and other pending proposals) alone.
            if (action < ProposalAction.FreezeEntity) {
                _execute(proposalId, action, p.payload);
                _epoch += 1;
            }
            emit ProposalExecuted(proposalId);
        }
    }

    // One branch per proposal action, each a flat sequence of state changes and `if (...) revert` rules.
    // slither-disable-next-line cyclomatic-complexity
    function _execute(uint256 proposalId, ProposalAction action, bytes memory payload) private {
        if (action == ProposalAction.AddExchange) {
            // The key's signature was checked (and left out of the stored payload) when the proposal was made.
            (bytes8 code, string memory name, address key) = abi.decode(payload, (bytes8, string, address));
            _addExchange(code, name, key, proposalId);
        } else if (action == ProposalAction.RemoveExchange) {
            uint16 exchangeId = abi.decode(payload, (uint16));
            Exchange storage e = _exchanges[exchangeId];
            if (e.status == ExchangeStatus.None) revert UnknownExchange(exchangeId);
            if (e.status != ExchangeStatus.Active) revert ExchangeNotActive(exchangeId);
            if (_memberCount - 1 < _threshold) revert InvalidThreshold(_threshold, _memberCount - 1);
            e.status = ExchangeStatus.Removed;
            e.removedAt = uint64(block.number);
            _memberCount -= 1;
            emit ExchangeRemoved(exchangeId, proposalId);
        } else if (action == ProposalAction.SetThreshold) {
            uint16 newThreshold = abi.decode(payload, (uint16));
            if (newThreshold == 0 || newThreshold > _memberCount) revert InvalidThreshold(newThreshold, _memberCount);
            emit ThresholdChanged(_threshold, newThreshold, proposalId);
            _threshold = newThreshold;
        } else if (action == ProposalAction.AddSupervisor) {
            (bytes8 code, string memory name, address key) = abi.decode(payload, (bytes8, string, address));
            _addSupervisor(code, name, key, proposalId);
        } else if (action == ProposalAction.RemoveSupervisor) {
            uint16 supervisorId = abi.decode(payload, (uint16));
            Exchange storage s = _supervisors[supervisorId];
            if (s.status == ExchangeStatus.None) revert UnknownSupervisor(supervisorId);
            if (s.status != ExchangeStatus.Active) revert SupervisorNotActive(supervisorId);
            s.status = ExchangeStatus.Removed;
            s.removedAt = uint64(block.number);
            _supervisorKeys[_supervisorKey[supervisorId]].validTo = uint64(block.number);
            emit SupervisorRemoved(supervisorId, proposalId);
        }
    }

    function _addSupervisor(bytes8 code, string memory name, address key, uint256 proposalId) private {
        _checkCode(code);
        _checkName(name);
        if (_supervisorByCode[code] != 0) revert DuplicateSupervisorCode(code);
        _checkFreshKey(key);
        uint16 supervisorId = ++_supervisorCount;
        _supervisors[supervisorId] = Exchange({
            code: code,
            status: ExchangeStatus.Active,
            joinedAt: uint64(block.number),
            removedAt: 0,
            name: name
        });
        _supervisorByCode[code] = supervisorId;
        emit SupervisorAdded(supervisorId, code, name, key, proposalId);
        _setSupervisorKey(supervisorId, key);
    }

    function _setSupervisorKey(uint16 supervisorId, address key) private {
        _supervisorKeys[key] = KeyRecord({exchangeId: supervisorId, validFrom: uint64(block.number), validTo: 0});
        _supervisorKeyHistory[supervisorId].push(key);
        _supervisorKey[supervisorId] = key;
    }

    /// @dev `key` must have signed its own `KeyGrant` for this member.
    function _checkKeyGrant(uint8 role, uint16 member, address key, bytes calldata signature) private view {
        (address signer, EIP712.Failure failure) = EIP712.tryRecover(keyGrantDigest(role, member, key), signature);
        if (failure != EIP712.Failure.None) _refuseSignature(failure, signature);
        if (signer != key) revert WrongKeySigner(key, signer);
    }

    /// @dev Names why a strict signature check (lib/EIP712.sol) refused `signature`; `s` and `v` exist only
    /// past the length check.
    function _refuseSignature(EIP712.Failure failure, bytes memory signature) private pure {
        if (failure == EIP712.Failure.Length) revert InvalidSignatureLength(signature.length);
        bytes32 s;
        // One word read out of a 65-byte signature already length-checked (Length is refused above).
        // slither-disable-next-line assembly
        assembly ("memory-safe") {
            s := mload(add(signature, 64))
        }
        if (failure == EIP712.Failure.HighS) revert InvalidSignatureS(s);
        revert InvalidSignatureV(uint8(signature[64]));
    }

    /// @dev A key is used once, by one exchange or one supervisor.
    function _checkFreshKey(address key) private view {
        if (key == address(0)) revert ZeroKey();
        if (_keys[key].exchangeId != 0 || _supervisorKeys[key].exchangeId != 0) revert KeyAlreadyUsed(key);
    }

    /// @dev Checks the payload's shape at proposal time so that malformed proposals never collect approvals.
    /// State-dependent rules (duplicate code, member counts) are checked again when the proposal executes; the
    /// named key's consent is checked here only, since the payload cannot change afterwards. Returns the payload
    /// to store: a new member's without the key's signature, which has served its purpose (storing 65 more bytes
    /// for every proposal would cost three more slots).
    // One branch per proposal action, each a flat sequence of `if (...) revert` rules.
    // slither-disable-next-line cyclomatic-complexity
    function _validatePayload(ProposalAction action, bytes calldata payload) private view returns (bytes memory) {
        if (action == ProposalAction.AddExchange || action == ProposalAction.AddSupervisor) {
            // head (4 words) + string and bytes length words: the shortest well-formed payload.
            if (payload.length < 192) revert InvalidPayload(action);
            (bytes8 code, string memory name, address key, bytes memory signature) =
                abi.decode(payload, (bytes8, string, address, bytes));
            _checkCode(code);
            _checkName(name);
            bool exchange = action == ProposalAction.AddExchange;
            if (!exchange && _supervisorByCode[code] != 0) revert DuplicateSupervisorCode(code);
            _checkFreshKey(key);
            bytes32 digest = memberKeyDigest(exchange ? ROLE_EXCHANGE : ROLE_SUPERVISOR, code, name, key);
            (address signer, EIP712.Failure failure) = EIP712.tryRecoverMemory(digest, signature);
            if (failure != EIP712.Failure.None) _refuseSignature(failure, signature);
            if (signer != key) revert WrongKeySigner(key, signer);
            return abi.encode(code, name, key);
        } else if (action == ProposalAction.RemoveExchange) {
            if (payload.length != 32) revert InvalidPayload(action);
            uint16 exchangeId = abi.decode(payload, (uint16));
            if (exchangeId == 0 || exchangeId > _exchangeCount) revert UnknownExchange(exchangeId);
            if (_exchanges[exchangeId].status != ExchangeStatus.Active) revert ExchangeNotActive(exchangeId);
        } else if (action == ProposalAction.SetThreshold) {
            if (payload.length != 32) revert InvalidPayload(action);
            uint16 newThreshold = abi.decode(payload, (uint16));
            if (newThreshold == 0 || newThreshold > _memberCount) revert InvalidThreshold(newThreshold, _memberCount);
        } else if (action == ProposalAction.RemoveSupervisor) {
            if (payload.length != 32) revert InvalidPayload(action);
            uint16 supervisorId = abi.decode(payload, (uint16));
            if (supervisorId == 0 || supervisorId > _supervisorCount) revert UnknownSupervisor(supervisorId);
            if (_supervisors[supervisorId].status != ExchangeStatus.Active) revert SupervisorNotActive(supervisorId);
        } else if (action == ProposalAction.PropertyDecision) {
            _checkPropertyDecision(payload);
        } else {
            // Entity decisions: the registry judges the entity when it applies the decision.
            uint256 expected = action == ProposalAction.ReassignEntity ? 96 : 64;
            if (payload.length != expected) revert InvalidPayload(action);
            (address registry, uint32 entityId) = abi.decode(payload[0:64], (address, uint32));
            if (registry == address(0) || entityId == 0) revert InvalidPayload(action);
            if (action == ProposalAction.ReassignEntity) {
                address newAccount = abi.decode(payload[64:96], (address));
                if (newAccount == address(0)) revert InvalidPayload(action);
            }
        }
        return payload;
    }

    /// @dev The shape of a property decision (IFederation.ProposalAction); the property register judges the
    /// entity's role when it applies the decision.
    function _checkPropertyDecision(bytes calldata payload) private pure {
        ProposalAction action = ProposalAction.PropertyDecision;
        if (payload.length != 128) revert InvalidPayload(action);
        (address target, uint256 decision, uint256 subject, uint256 value) =
            abi.decode(payload, (address, uint256, uint256, uint256));
        if (target == address(0) || decision > 5) revert InvalidPayload(action);
        if (decision < 4) {
            if (subject == 0 || subject > type(uint32).max || value != 0) revert InvalidPayload(action);
        } else if (decision == 4) {
            if (subject > 2 || value > type(uint32).max) revert InvalidPayload(action);
        } else if (subject == 0 || subject > type(uint16).max || value > 1) {
            revert InvalidPayload(action);
        }
    }

    function _addExchange(bytes8 code, string memory name, address key, uint256 proposalId) private {
        _checkCode(code);
        _checkName(name);
        if (_exchangeByCode[code] != 0) revert DuplicateExchangeCode(code);
        uint16 exchangeId = ++_exchangeCount;
        _exchanges[exchangeId] = Exchange({
            code: code,
            status: ExchangeStatus.Active,
            joinedAt: uint64(block.number),
            removedAt: 0,
            name: name
        });
        _exchangeByCode[code] = exchangeId;
        _memberCount += 1;
        emit ExchangeAdded(exchangeId, code, name, key, proposalId);
        _addKey(exchangeId, key);
    }

    function _addKey(uint16 exchangeId, address key) private {
        _checkFreshKey(key);
        if (_activeKeyCount[exchangeId] >= MAX_ACTIVE_KEYS) revert TooManyKeys(exchangeId);
        _keys[key] = KeyRecord({exchangeId: exchangeId, validFrom: uint64(block.number), validTo: 0});
        _keyHistory[exchangeId].push(key);
        _activeKeyCount[exchangeId] += 1;
        emit KeyAdded(exchangeId, key);
    }

    function _revokeKey(uint16 exchangeId, address key) private {
        KeyRecord storage k = _keys[key];
        if (k.exchangeId != exchangeId) revert KeyNotOwned(key, exchangeId);
        if (k.validTo != 0) revert KeyAlreadyRevoked(key);
        if (_activeKeyCount[exchangeId] == 1) revert LastActiveKey(key);
        k.validTo = uint64(block.number);
        _activeKeyCount[exchangeId] -= 1;
        emit KeyRevoked(exchangeId, key);
    }

    /// @dev A code is 1-8 bytes of [A-Z0-9] followed only by zero bytes.
    function _checkCode(bytes8 code) private pure {
        bool ended = false;
        for (uint256 i = 0; i < 8; ++i) {
            bytes1 c = code[i];
            if (c == 0) {
                ended = true;
            } else if (ended || !((c >= "A" && c <= "Z") || (c >= "0" && c <= "9"))) {
                revert InvalidExchangeCode(code);
            }
        }
        if (code[0] == 0) revert InvalidExchangeCode(code);
    }

    function _checkName(string memory name) private pure {
        uint256 len = bytes(name).length;
        if (len == 0 || len > 128) revert InvalidExchangeName();
    }
}
