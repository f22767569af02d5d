// SPDX-License-Identifier: Apache-2.0
// The interfaces and lib/ float so that other code can import them; the contracts pin the compiler
// that builds them (0.8.30, node/package.json).
// slither-disable-next-line pragma
pragma solidity ^0.8.24;

/// @title Federation of data exchanges
/// @notice The member exchanges of the federation (Shanghai Data Exchange and its partner exchanges), their
/// signing keys with full key history, and threshold governance over membership. There is no owner: the
/// deployer bootstraps the first member, and every later change of membership or threshold takes approvals
/// from `threshold()` distinct active members.
/// Supervisors (data-security authorities, not exchanges) are added and removed by the same threshold
/// governance; they hold no vote and register nothing, but their keys approve cross-border transfers and run
/// spot checks (see ICrossBorder). A key belongs to one exchange or one supervisor, never both, and never again.
/// Since a used key is burned, a key is added only with its own EIP-712 signature (domain "ProvenanceFederation",
/// version "1"): `KeyGrant(uint8 role,uint16 member,address key)` to add or rotate a key of an existing member, and
/// `MemberKey(uint8 role,bytes8 code,string name,address key)` carried in the payload of a proposal that adds a
/// member, so no member can name, and so burn, a key it does not hold.
/// The same governance decides disputes over entities (`FreezeEntity`, `UnfreezeEntity`, `ReassignEntity`): the
/// federation only counts the approvals; the registry named in the payload applies the executed decision. So do
/// property decisions (`PropertyDecision`: accreditation of assessors, appointment of arbitrators, terms, listing
/// compliance rules), applied by the property register the payload names.
/// Each exchange also keeps Ed25519 note keys (`addNoteKey`, `revokeNoteKey`): the public keys its node signs its
/// transparency log's C2SP checkpoints (c2sp.org/tlog-checkpoint signed notes) with, each with the block it was
/// added in and the block it was revoked in, so a witness or a verifier reads which note keys spoke for an
/// exchange at a given block. The EVM has no Ed25519 precompile, so the contract cannot check that the exchange
/// holds the private key of a note key it lists: the exchange's valid secp256k1 key vouches for it by the call,
/// as the earlier EIP-191 binding statements did. A listed note key proves who vouched for it and when, not
/// possession; and since a note key can be listed once only, no exchange can take another's key, but one can list
/// a public key it does not hold, which makes it no signer of anything.
/// @dev Key validity is expressed in block numbers so that a signature can be judged against the block it
/// claims: a key is valid for blocks `validFrom <= b < validTo` (`validTo == 0` while not revoked), and never
/// at or after the block its exchange was removed.
interface IFederation {
    enum ExchangeStatus {
        None,
        Active,
        Removed
    }

    enum ProposalAction {
        // Proposed with abi.encode(bytes8 code, string name, address key, bytes keySignature), the key's MemberKey
        // signature; stored and emitted without it, as abi.encode(bytes8 code, string name, address key).
        AddExchange,
        RemoveExchange, // payload: abi.encode(uint16 exchangeId)
        SetThreshold, // payload: abi.encode(uint16 threshold)
        AddSupervisor, // payload: as AddExchange
        RemoveSupervisor, // payload: abi.encode(uint16 supervisorId)
        FreezeEntity, // payload: abi.encode(address registry, uint32 entityId)
        UnfreezeEntity, // payload: abi.encode(address registry, uint32 entityId)
        ReassignEntity, // payload: abi.encode(address registry, uint32 entityId, address newAccount)
        // payload: abi.encode(address propertyRegister, uint8 decision, uint32 subject, uint64 value), applied by
        // that IPropertyRegister: 0 AccreditAssessor, 1 WithdrawAccreditation, 2 AppointArbitrator,
        // 3 RemoveArbitrator (subject a non-zero entity id, value 0), 4 SetTerm (subject a kind 0..2, value seconds
        // below 2**32, 0 = no expiry), 5 SetComplianceRule (subject a non-zero exchange id below 2**16, value 0 or 1)
        PropertyDecision
    }

    struct Exchange {
        bytes8 code;
        ExchangeStatus status;
        uint64 joinedAt; // block number
        uint64 removedAt; // block number, 0 while active
        string name;
    }

    /// @dev Supervisors reuse `Exchange` for their record (code, status, joined and removed blocks, name).
    struct KeyRecord {
        uint16 exchangeId; // 0: never registered
        uint64 validFrom; // block number the key was added in
        uint64 validTo; // block number the key was revoked in, 0 while valid
    }

    /// @dev An Ed25519 note key (its 32-byte RFC 8032 public key) in an exchange's note key history.
    struct NoteKey {
        bytes32 key;
        uint64 addedAt; // block number the key was added in
        uint64 revokedAt; // block number the key was revoked in, 0 while valid
    }

    /// @dev Where a note key belongs; `exchangeId` 0: never listed.
    struct NoteKeyRecord {
        uint16 exchangeId;
        uint64 addedAt;
        uint64 revokedAt;
    }

    struct Proposal {
        ProposalAction action;
        uint16 proposer;
        uint16 approvals;
        bool executed;
        uint64 epoch; // membership epoch the proposal was made in
        uint64 expiresAt; // unix time
        bytes payload;
    }

    /// @notice Emitted when an exchange joins (including the bootstrap member, with proposalId 0).
    event ExchangeAdded(uint16 indexed exchangeId, bytes8 indexed code, string name, address key, uint256 proposalId);
    /// @notice Emitted when an exchange is removed; its keys stop being valid from this block on.
    event ExchangeRemoved(uint16 indexed exchangeId, uint256 proposalId);
    /// @notice Emitted when a signing key is added for an exchange.
    event KeyAdded(uint16 indexed exchangeId, address indexed key);
    /// @notice Emitted when a signing key is revoked; it stays in the key history.
    event KeyRevoked(uint16 indexed exchangeId, address indexed key);
    /// @notice Emitted when an exchange lists an Ed25519 note key for its transparency log's checkpoints.
    event NoteKeyAdded(uint16 indexed exchangeId, bytes32 indexed key);
    /// @notice Emitted when an exchange revokes a note key; it stays in the exchange's note key history.
    event NoteKeyRevoked(uint16 indexed exchangeId, bytes32 indexed key);
    /// @notice Emitted when the approval threshold changes.
    event ThresholdChanged(uint16 previousThreshold, uint16 newThreshold, uint256 proposalId);
    /// @notice Emitted when a member proposes a governance action (the proposer's approval is counted).
    event ProposalCreated(
        uint256 indexed proposalId, uint16 indexed proposer, ProposalAction action, bytes payload, uint64 expiresAt
    );
    /// @notice Emitted for each approval, with the running count.
    event ProposalApproved(uint256 indexed proposalId, uint16 indexed exchangeId, uint16 approvals);
    /// @notice Emitted when a proposal reached the threshold and its action was applied.
    event ProposalExecuted(uint256 indexed proposalId);

    /// @notice Emitted when a supervisor is added by governance.
    event SupervisorAdded(uint16 indexed supervisorId, bytes8 indexed code, string name, address key, uint256 proposalId);
    /// @notice Emitted when a supervisor is removed; its keys stop being valid from this block on.
    event SupervisorRemoved(uint16 indexed supervisorId, uint256 proposalId);
    /// @notice Emitted when a supervisor replaces its key (the previous one stays in its key history).
    event SupervisorKeyChanged(uint16 indexed supervisorId, address indexed previousKey, address indexed newKey);

    /// @notice The caller is not a valid key of an active exchange.
    error NotExchangeKey(address caller);
    /// @notice The key is not the current key of an active supervisor.
    error NotSupervisorKey(address key);
    /// @notice No supervisor has this id.
    error UnknownSupervisor(uint16 supervisorId);
    /// @notice The supervisor exists but was removed.
    error SupervisorNotActive(uint16 supervisorId);
    /// @notice Another supervisor already uses this short code.
    error DuplicateSupervisorCode(bytes8 code);
    /// @notice No exchange has this id.
    error UnknownExchange(uint16 exchangeId);
    /// @notice The exchange exists but is no longer active.
    error ExchangeNotActive(uint16 exchangeId);
    /// @notice Another exchange already uses this short code.
    error DuplicateExchangeCode(bytes8 code);
    /// @notice Exchange codes are non-empty upper-case ASCII letters and digits, left-aligned.
    error InvalidExchangeCode(bytes8 code);
    /// @notice Exchange names are 1 to 128 bytes.
    error InvalidExchangeName();
    /// @notice A key address can belong to one exchange once; it is never reused, even after revocation.
    error KeyAlreadyUsed(address key);
    /// @notice The zero address is not a key.
    error ZeroKey();
    /// @notice The key is not one of the caller's exchange's keys.
    error KeyNotOwned(address key, uint16 exchangeId);
    /// @notice The key was already revoked.
    error KeyAlreadyRevoked(address key);
    /// @notice An exchange must keep at least one valid key.
    error LastActiveKey(address key);
    /// @notice An exchange may hold at most `MAX_ACTIVE_KEYS` valid keys at once.
    error TooManyKeys(uint16 exchangeId);
    /// @notice The zero word is not an Ed25519 note key.
    error ZeroNoteKey();
    /// @notice A note key can be listed once, by one exchange; it is never listed again, even after revocation.
    error NoteKeyAlreadyUsed(bytes32 key);
    /// @notice The note key is not one of the caller's exchange's note keys.
    error UnknownNoteKey(bytes32 key, uint16 exchangeId);
    /// @notice The note key was already revoked.
    error NoteKeyAlreadyRevoked(bytes32 key);
    /// @notice An exchange may hold at most `MAX_ACTIVE_NOTE_KEYS` valid note keys at once.
    error TooManyNoteKeys(uint16 exchangeId);
    /// @notice No proposal has this id.
    error UnknownProposal(uint256 proposalId);
    /// @notice The proposal has already been executed.
    error ProposalAlreadyExecuted(uint256 proposalId);
    /// @notice The proposal's approval window has closed.
    error ProposalExpired(uint256 proposalId, uint64 expiresAt);
    /// @notice Membership or threshold changed since the proposal was made; it must be proposed again.
    error ProposalStale(uint256 proposalId, uint64 epoch, uint64 currentEpoch);
    /// @notice This exchange has already approved the proposal.
    error AlreadyApproved(uint256 proposalId, uint16 exchangeId);
    /// @notice The threshold must be between 1 and the number of active members.
    error InvalidThreshold(uint16 threshold, uint16 members);
    /// @notice The proposal payload does not decode for its action.
    error InvalidPayload(ProposalAction action);
    /// @notice The key's consent was signed by another key (or for another member, role, code or name).
    error WrongKeySigner(address key, address recovered);
    /// @notice Signatures are 65 bytes (r, s, v); compact signatures are refused.
    error InvalidSignatureLength(uint256 length);
    /// @notice `s` is in the upper half of the curve order (malleable signature).
    error InvalidSignatureS(bytes32 s);
    /// @notice `v` must be 27 or 28.
    error InvalidSignatureV(uint8 v);

    /// @notice Propose a governance action. The caller's exchange approves it at once; with a threshold of
    /// one it executes in the same transaction.
    function propose(ProposalAction action, bytes calldata payload) external returns (uint256 proposalId);

    /// @notice Approve a pending proposal on behalf of the caller's exchange; executes it on reaching the threshold.
    function approve(uint256 proposalId) external;

    /// @notice Add a signing key to the caller's exchange; `signature` is the key's own signature of
    /// `KeyGrant(ROLE_EXCHANGE, exchangeId, key)` (see `keyGrantDigest`).
    function addKey(address key, bytes calldata signature) external;

    /// @notice Revoke one of the caller's exchange's keys (the caller's own key included, unless it is the last).
    function revokeKey(address key) external;

    /// @notice Add `newKey` (with its `KeyGrant` signature, as for `addKey`) and revoke the calling key, in one step.
    function rotateKey(address newKey, bytes calldata signature) external;

    /// @notice List an Ed25519 note key (32-byte public key) for the caller's exchange, valid from this block.
    /// The contract cannot check an Ed25519 key (no precompile): the caller's exchange key vouches for it.
    function addNoteKey(bytes32 key) external;

    /// @notice Revoke one of the caller's exchange's note keys from this block on (an exchange may be left with
    /// none: it then signs no checkpoint anyone should accept).
    function revokeNoteKey(bytes32 key) external;

    /// @notice Every note key an exchange has listed, in the order added, with the blocks each was valid in.
    function noteKeysOf(uint16 exchangeId) external view returns (NoteKey[] memory);

    /// @notice A note key's record (its exchange, 0 if never listed, and the blocks it was added and revoked in).
    function getNoteKey(bytes32 key) external view returns (NoteKeyRecord memory);

    /// @notice Whether `key` was a valid note key of exchange `exchangeId` at block `blockNumber`: added at or
    /// before it, not revoked at or before it, and its exchange not removed at or before it.
    function isNoteKeyValidAt(bytes32 key, uint16 exchangeId, uint64 blockNumber) external view returns (bool);

    /// @notice The id of the active exchange that `key` currently signs for; reverts with `NotExchangeKey` otherwise.
    function activeExchangeOf(address key) external view returns (uint16 exchangeId);

    /// @notice Whether `key` was a valid key of exchange `exchangeId` at block `blockNumber`.
    function isKeyValidAt(address key, uint16 exchangeId, uint64 blockNumber) external view returns (bool);

    /// @notice An exchange by id.
    function getExchange(uint16 exchangeId) external view returns (Exchange memory);

    /// @notice The id of the exchange with this code, 0 if none.
    function exchangeIdByCode(bytes8 code) external view returns (uint16);

    /// @notice A key's record (exchange, valid from, valid to).
    function getKey(address key) external view returns (KeyRecord memory);

    /// @notice Every key an exchange has ever had, in the order added.
    function keysOf(uint16 exchangeId) external view returns (address[] memory);

    /// @notice A proposal by id.
    function getProposal(uint256 proposalId) external view returns (Proposal memory);

    /// @notice Whether `exchangeId` approved proposal `proposalId`.
    function hasApproved(uint256 proposalId, uint16 exchangeId) external view returns (bool);

    /// @notice Approvals needed to execute a proposal.
    function threshold() external view returns (uint16);

    /// @notice Number of active member exchanges.
    function memberCount() external view returns (uint16);

    /// @notice Number of exchanges ever added (ids run from 1 to this).
    function exchangeCount() external view returns (uint16);

    /// @notice Number of proposals ever made (ids run from 1 to this).
    function proposalCount() external view returns (uint256);

    /// @notice Membership epoch: bumped by every executed proposal.
    function epoch() external view returns (uint64);

    /// @notice Replace the calling supervisor key by `newKey` (a supervisor holds one valid key at a time);
    /// `signature` is the new key's signature of `KeyGrant(ROLE_SUPERVISOR, supervisorId, newKey)`.
    function rotateSupervisorKey(address newKey, bytes calldata signature) external;

    /// @notice The EIP-712 digest a key signs to serve member `member` (an exchange or supervisor id, by `role`).
    function keyGrantDigest(uint8 role, uint16 member, address key) external view returns (bytes32);

    /// @notice The EIP-712 digest a key signs to be the first key of the member a proposal adds.
    function memberKeyDigest(uint8 role, bytes8 code, string memory name, address key) external view returns (bytes32);

    /// @notice The EIP-712 domain separator (name "ProvenanceFederation", version "1", this chain, this contract).
    function domainSeparator() external view returns (bytes32);

    /// @notice The id of the active supervisor whose current key `key` is; reverts with `NotSupervisorKey` otherwise.
    function activeSupervisorOf(address key) external view returns (uint16 supervisorId);

    /// @notice A supervisor by id (status `Removed` once removed).
    function getSupervisor(uint16 supervisorId) external view returns (Exchange memory);

    /// @notice Every key a supervisor has had, in order; `getSupervisorKey` gives each one's validity.
    function supervisorKeysOf(uint16 supervisorId) external view returns (address[] memory);

    /// @notice A supervisor key's record (supervisor id in `exchangeId`, valid from, valid to).
    function getSupervisorKey(address key) external view returns (KeyRecord memory);

    /// @notice Number of supervisors ever added (ids run from 1 to this).
    function supervisorCount() external view returns (uint16);
}
