// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Registry of data resources, products and assets, and of the entities that own them
/// @notice Member exchanges of the federation register entities (merchants and other supply/demand parties)
/// and data registrations. A registration records its content hash, metadata hash, owner entity, registrar
/// exchange, grade, rights, source category, parents and status; its id is
/// `keccak256(abi.encode(uint16 registrar, bytes32 contentHash))`, so one registrar can never register the
/// same content twice, while two exchanges listing the same data get two records found by the same hash.
/// @dev Consent of the owner: an exchange registers directly only for an owner entity that has granted it a
/// mandate (`setMandate`, sent by the entity's own account); otherwise the owner signs the registration as
/// EIP-712 typed data and the exchange submits it with `registerFor`.
///
/// Consent of the entity: an exchange onboards an entity only with the account's own EIP-712 `Onboarding`
/// signature over the identifier hash, the account, the role, the onboarding exchange and a deadline, so no
/// member can take an identity (whose identifier hash anyone can compute from the public code) with an account it
/// holds. A disputed entity is frozen, unfrozen or moved to a new account by the federation's threshold
/// governance: an executed `FreezeEntity`, `UnfreezeEntity` or `ReassignEntity` proposal naming this registry,
/// applied here by anyone with `applyEntityDecision`, once, in proposal order per entity. A frozen entity has no
/// mandates (the freeze withdraws them), cannot grant any, sign registrations, change its account, or act as
/// exporter or receiver of a cross-border transfer until unfrozen.
///
/// Transparency logs: every registration of an exchange, direct or batched, is the next leaf of that exchange's
/// append-only Merkle log (RFC 6962: SHA-256, leaf hash `sha256(0x00 || leaf)`, node hash
/// `sha256(0x01 || left || right)`). A leaf is `uint16 registrar || entry`, where an entry is the packed
/// registration `kind, grade, source, rights (1 byte each), owner (4), contentHash, metadataHash, supersedes
/// (32 each), parent count (1), parents (32 each)`. This contract counts the leaves; it cannot compute roots
/// cheaply, so it stores the roots exchanges anchor, accepts only the current log size (hence a strictly growing
/// one), and every index recomputes each root from the leaves and flags an anchored root that disagrees.
///
/// Batches: `anchorBatch` carries many entries in calldata and re-emits them in `BatchAnchored`; they are not
/// stored here. Every index judges each batched entry with exactly the rules `_register` applies (plus the owner's
/// mandate), in chain order, so all honest nodes agree which batched entries are rejected. Two consequences:
/// a direct registration can name only stored (direct) records as parents, and the status of a batched record is
/// changed with `setBatchedStatus`, which the indexes judge the same way.
///
/// Catalogue: a registrar publishes the metadata documents of its general-grade records (`publishMetadata`) and
/// the profiles of the entities it onboarded (`publishProfiles`) in calldata; the events carry the bytes and
/// nothing is stored, so every node rebuilds the federation's catalogue from the chain alone. For a stored record
/// the contract checks the registrar, the grade and `keccak256(document) == metadataHash`; a batched entry is not
/// stored, so its publication is emitted unchecked and the indexes judge it by the same rules against the entry.
/// The contract never reads the bytes: whether they are a valid document (canonical JSON, schema, publisher) and,
/// for a profile, whether it binds to the entity's identifier hash is judged by the indexes, identically on
/// every node. Important- and core-grade documents, and individuals' profiles, are never published.
///
/// Property: the property register named at deployment (`propertyRegister`) changes a record's holder, rights and
/// metadata hash and cancels it through two hooks only it may call; a registration naming an expired parent is
/// refused (IPropertyRegister.ParentExpired), and an encumbered record is neither revoked nor superseded.
interface IRegistry {
    /// @dev Values of `RegistrationRequest.kind`.
    ///  0 resource (数据资源), 1 product (数据产品), 2 asset (数据资产).
    /// Values of `grade`: 0 general, 1 important, 2 core. Values of `source`: 0 public, 1 enterprise, 2 personal.
    /// `rights` is a non-zero bit set: 1 holding, 2 processing-and-use, 4 operation.
    enum Status {
        None,
        Active,
        Suspended,
        Revoked,
        Superseded
    }

    /// @dev FinancialInstitution: a pledgee; AssessmentInstitution: an assessor once governance accredits it;
    /// ArbitrationInstitution: an arbitrator once governance appoints it (see IPropertyRegister).
    enum EntityRole {
        Supplier,
        Demander,
        ServiceProvider,
        FinancialInstitution,
        AssessmentInstitution,
        ArbitrationInstitution
    }

    struct Entity {
        bytes32 identifierHash; // e.g. keccak256 of the unified social credit code
        address account; // the entity's own key: signs registrations and mandates
        uint16 registrar; // exchange that onboarded the entity
        EntityRole role;
        uint40 registeredAt; // unix time
        uint32 nonce; // next EIP-712 registration nonce
    }

    /// @notice One entity of a `registerEntities` batch: `registerEntity`'s arguments, with the account's consent
    /// signed over the same `Onboarding` struct (see `onboardingDigest`).
    struct Onboarding {
        bytes32 identifierHash; // e.g. keccak256 of the unified social credit code
        address account; // the entity's own key, which signed `consent`
        uint8 role; // an EntityRole
        uint256 deadline; // unix time after which the consent is refused
        bytes consent; // the account's EIP-712 signature, 65 bytes (r, s, v)
    }

    struct RegistrationRequest {
        uint8 kind;
        uint8 grade;
        uint8 source;
        uint8 rights;
        uint32 owner; // entity id
        bytes32 contentHash;
        bytes32 metadataHash;
        bytes32 supersedes; // id of the record this one replaces as a new version, or zero
        bytes32[] parents; // ids of the records this one was derived from
    }

    struct Record {
        uint32 owner;
        uint16 registrar;
        uint8 kind;
        uint8 grade;
        uint8 source;
        uint8 rights;
        Status status;
        uint8 parentCount;
        uint40 timestamp; // block time of registration
        uint64 blockNumber; // block of registration
        bytes32 contentHash;
        bytes32 metadataHash;
    }

    /// @notice Emitted when an exchange onboards an entity.
    event EntityRegistered(
        uint32 indexed entityId, uint16 indexed registrar, bytes32 indexed identifierHash, address account, EntityRole role
    );
    /// @notice Emitted when an entity moves to a new account key.
    event EntityAccountChanged(uint32 indexed entityId, address previousAccount, address newAccount);
    /// @notice Emitted when a governance decision froze an entity (its mandates were withdrawn just before).
    event EntityFrozen(uint32 indexed entityId, uint256 proposalId);
    /// @notice Emitted when a governance decision unfroze an entity (also when a reassignment ends a freeze).
    event EntityUnfrozen(uint32 indexed entityId, uint256 proposalId);
    /// @notice Emitted when a governance decision moved an entity to a new account, withdrawing its mandates.
    event EntityReassigned(uint32 indexed entityId, address previousAccount, address newAccount, uint256 proposalId);
    /// @notice Emitted when an exchange recognises an entity onboarded by another exchange (mutual recognition).
    event EntityRecognized(uint32 indexed entityId, uint16 indexed exchangeId);
    /// @notice Emitted when an entity grants or withdraws an exchange's mandate to register on its behalf.
    event MandateChanged(uint32 indexed entityId, uint16 indexed exchangeId, bool granted);
    /// @notice Emitted for every registration, with everything an indexer needs to rebuild the record.
    event DataRegistered(
        bytes32 indexed id,
        uint16 indexed registrar,
        uint32 indexed owner,
        uint8 kind,
        uint8 grade,
        uint8 source,
        uint8 rights,
        bytes32 contentHash,
        bytes32 metadataHash,
        bytes32 supersedes,
        bytes32[] parents,
        bool delegated,
        uint64 leafIndex
    );
    /// @notice Emitted when a record's status changes (also when a new version supersedes it).
    event StatusChanged(bytes32 indexed id, uint16 indexed registrar, Status previous, Status current, bytes32 reason);

    /// @notice Emitted when an exchange anchors a batch: entries `firstIndex .. treeSize-1` of its log, and the
    /// log's root at `treeSize`. `entries` is the packed entries, exactly as sent.
    /// `signature` is the exchange's EIP-712 `Checkpoint` signature (its signed note), by the sending key.
    event BatchAnchored(
        uint16 indexed exchangeId, uint64 firstIndex, uint64 treeSize, bytes32 root, bytes entries, bytes signature
    );
    /// @notice Emitted when an exchange anchors a checkpoint of its log without new entries.
    event CheckpointAnchored(uint16 indexed exchangeId, uint64 treeSize, bytes32 root, bytes signature);
    /// @notice Emitted when a partner exchange (a witness) cosigns an anchored checkpoint; `signature` is an EIP-712
    /// `Checkpoint` signature by `signer`, a key of the witness, verifiable offline.
    event CheckpointCosigned(
        uint16 indexed exchangeId, uint16 indexed witnessId, uint64 treeSize, bytes32 root, address signer, bytes signature
    );
    /// @notice Emitted when a registrar asks for a status change of a batched record; indexes judge it with the
    /// rules of `setStatus`.
    event BatchedStatusRequested(bytes32 indexed id, uint16 indexed registrar, Status status, bytes32 reason);
    /// @notice Emitted when an exchange anchors the hash of a signed status list (the statuses offline verifiers use).
    event StatusListAnchored(uint16 indexed exchangeId, uint64 atBlock, bytes32 listHash);
    /// @notice Emitted when an exchange recognises another exchange's certificate (mutual recognition).
    event CertificateRecognized(
        bytes32 indexed credentialHash, bytes32 indexed recordId, uint16 indexed recognizerId, uint16 issuerId
    );
    /// @notice Emitted for each metadata document a registrar publishes: `document` is the exact bytes sent (the
    /// canonical JSON whose keccak256 is the record's `metadataHash`). Checked here for stored records only.
    event MetadataPublished(bytes32 indexed id, uint16 indexed exchangeId, bytes document);
    /// @notice Emitted for each entity profile the entity's onboarding exchange publishes (the exact bytes sent).
    event EntityProfilePublished(uint32 indexed entityId, uint16 indexed exchangeId, bytes document);

    /// @notice No entity has this id.
    error UnknownEntity(uint32 entityId);
    /// @notice An entity with this identifier hash is already registered.
    error EntityExists(bytes32 identifierHash, uint32 entityId);
    /// @notice The identifier hash must not be zero.
    error ZeroIdentifier();
    /// @notice An entity account must not be the zero address.
    error ZeroAccount();
    /// @notice Role out of range.
    error InvalidRole(uint8 role);
    /// @notice Only the entity's own account may do this.
    error NotEntityAccount(uint32 entityId, address caller);
    /// @notice The exchange has already recognised this entity.
    error AlreadyRecognized(uint32 entityId, uint16 exchangeId);
    /// @notice The onboarding exchange does not recognise its own entity.
    error SelfRecognition(uint32 entityId, uint16 exchangeId);
    /// @notice The owner has not granted the registering exchange a mandate; use `registerFor` with its signature.
    error NoMandate(uint32 owner, uint16 exchangeId);
    /// @notice Kind out of range.
    error InvalidKind(uint8 kind);
    /// @notice Grade out of range.
    error InvalidGrade(uint8 grade);
    /// @notice Source category out of range.
    error InvalidSource(uint8 source);
    /// @notice Rights must be a non-empty subset of {1, 2, 4}.
    error InvalidRights(uint8 rights);
    /// @notice The content hash must not be zero.
    error ZeroContentHash();
    /// @notice This registrar already registered this content hash.
    error AlreadyRegistered(bytes32 id);
    /// @notice A parent id is not a registered record.
    error UnknownParent(bytes32 parentId);
    /// @notice A parent has been revoked.
    error ParentRevoked(bytes32 parentId);
    /// @notice A record cannot be its own parent.
    error SelfParent(bytes32 id);
    /// @notice A parent is listed twice.
    error DuplicateParent(bytes32 parentId);
    /// @notice More parents than `MAX_PARENTS`.
    error TooManyParents(uint256 count, uint256 max);
    /// @notice A derived record's grade must be at least each parent's grade.
    error GradeBelowParent(bytes32 parentId, uint8 parentGrade, uint8 grade);
    /// @notice Core-grade data may be registered as a resource but not listed as a product or asset.
    error CoreNotListable(uint8 kind);
    /// @notice No record has this id.
    error UnknownRecord(bytes32 id);
    /// @notice Only the record's registrar exchange may do this.
    error NotRegistrar(bytes32 id, uint16 registrar, uint16 caller);
    /// @notice The status change is not allowed (revoked is final; superseded only through a new version).
    error InvalidStatusTransition(bytes32 id, Status from, Status to);
    /// @notice A new version must have the owner and kind of the record it supersedes.
    error SupersedeMismatch(bytes32 supersededId);
    /// @notice The signed registration's deadline has passed.
    error SignatureExpired(uint256 deadline, uint256 timestamp);
    /// @notice The signed nonce is not the owner's next nonce (a replay, or out of order).
    error InvalidNonce(uint32 owner, uint256 expected, uint256 given);
    /// @notice Signatures are 65 bytes (r, s, v); compact signatures are refused.
    error InvalidSignatureLength(uint256 length);
    /// @notice `s` is in the upper half of the curve order (malleable signature).
    error InvalidSignatureS(bytes32 s);
    /// @notice `v` must be 27 or 28.
    error InvalidSignatureV(uint8 v);
    /// @notice The signature was made by another key than the owner's account.
    error WrongSigner(address recovered, address expected);

    /// @notice The entity is frozen by a governance decision.
    error EntityIsFrozen(uint32 entityId);
    /// @notice An unfreeze decision names an entity that is not frozen.
    error EntityNotFrozen(uint32 entityId);
    /// @notice The proposal has not (yet) been executed by the federation.
    error ProposalNotExecuted(uint256 proposalId);
    /// @notice The proposal is not a freeze, unfreeze or reassignment of an entity.
    error NotEntityDecision(uint256 proposalId, uint8 action);
    /// @notice The decision names another registry.
    error DecisionForOtherRegistry(uint256 proposalId, address registry);
    /// @notice A decision with this or a later proposal id was already applied to the entity.
    error DecisionOutdated(uint32 entityId, uint256 proposalId, uint256 lastApplied);
    /// @notice A registration cannot supersede itself.
    error SelfSupersede(bytes32 id);
    /// @notice All 2**32 - 1 entity ids are taken.
    error EntityIdsExhausted();
    /// @notice The owner's registration nonce reached 2**32 - 1; wrapping would reopen its old signatures.
    error NonceExhausted(uint32 owner);

    /// @notice A batch must carry at least one entry.
    error EmptyBatch();
    /// @notice The batch's bytes are not `count` entries (the new tree size less the log size): `length` bytes.
    error MalformedBatch(uint256 count, uint256 length);
    /// @notice An anchored checkpoint's tree size must be the exchange's current log size, and a batch's larger.
    error TreeSizeMismatch(uint16 exchangeId, uint64 expected, uint64 given);
    /// @notice The checkpoint at this size is already anchored (sizes strictly grow).
    error CheckpointExists(uint16 exchangeId, uint64 treeSize);
    /// @notice A root must not be zero.
    error ZeroRoot();
    /// @notice No checkpoint of this exchange's log is anchored at this size.
    error CheckpointNotAnchored(uint16 exchangeId, uint64 treeSize);
    /// @notice The cosigned root differs from the anchored one.
    error CheckpointRootMismatch(uint16 exchangeId, uint64 treeSize, bytes32 anchored, bytes32 given);
    /// @notice An exchange cannot witness its own log.
    error SelfWitness(uint16 exchangeId);
    /// @notice A stored (direct) record changes status through `setStatus`, not `setBatchedStatus`.
    error StoredRecord(bytes32 id);
    /// @notice A status list must be taken at a past block.
    error FutureBlock(uint64 atBlock, uint256 current);

    /// @notice A publication needs one document per id (`subjects` ids or entity ids, `documents` documents).
    error DocumentCountMismatch(uint256 subjects, uint256 documents);
    /// @notice A published document must not be empty; `subject` is the record id, or the entity id as a uint256.
    error EmptyDocument(bytes32 subject);
    /// @notice A published document is larger than `MAX_DOCUMENT_BYTES` (`max`); `subject` as for EmptyDocument.
    error DocumentTooLarge(bytes32 subject, uint256 size, uint256 max);
    /// @notice Only general-grade metadata is published on chain; important and core stay with the registrar.
    error NotPublicGrade(bytes32 id, uint8 grade);
    /// @notice The document does not hash (keccak256) to the record's metadata hash.
    error MetadataMismatch(bytes32 id, bytes32 expected, bytes32 actual);
    /// @notice Only the exchange that onboarded the entity publishes its profile.
    error NotEntityRegistrar(uint32 entityId, uint16 registrar, uint16 caller);
    /// @notice The property register's address must not be zero.
    error ZeroPropertyRegister();
    /// @notice Only the bound property register calls the property hooks.
    error NotPropertyRegister(address caller);
    /// @notice The record is pledged or under dispute (IPropertyRegister.encumbered): it cannot be revoked or
    /// superseded; the property register cancels it, ending the pledge with the pledgee's consent.
    error RecordEncumbered(bytes32 id);

    /// @notice Onboard an entity. Called by a key of an active exchange, which becomes the entity's registrar,
    /// with `consent`: the account's EIP-712 signature of `Onboarding(bytes32 identifierHash,address account,
    /// uint8 role,uint16 registrar,uint256 deadline)` for this exchange (see `onboardingDigest`).
    function registerEntity(bytes32 identifierHash, address account, uint8 role, uint256 deadline, bytes calldata consent)
        external
        returns (uint32 entityId);

    /// @notice Onboard several entities in one transaction, all or none: each item passes `registerEntity`'s checks
    /// in its order and refuses with its errors (a repeated identifier hash inside the batch is EntityExists,
    /// naming the id the batch's earlier item took), and emits its EntityRegistered. Ids are consecutive, in item
    /// order, from `firstId`.
    function registerEntities(Onboarding[] calldata items) external returns (uint32 firstId);

    /// @notice Apply an executed `FreezeEntity`, `UnfreezeEntity` or `ReassignEntity` proposal of the federation
    /// to the entity it names; anyone may send it, the authority is the proposal's threshold of approvals.
    function applyEntityDecision(uint256 proposalId) external;

    /// @notice Recognise an entity onboarded by another exchange.
    function recognizeEntity(uint32 entityId) external;

    /// @notice Move the entity to a new account key; called by its current account.
    function setEntityAccount(uint32 entityId, address newAccount) external;

    /// @notice Grant or withdraw an exchange's mandate to register data owned by the entity; called by its account.
    function setMandate(uint32 entityId, uint16 exchangeId, bool granted) external;

    /// @notice Register data for an owner that granted the caller's exchange a mandate.
    function register(RegistrationRequest calldata request) external returns (bytes32 id);

    /// @notice Register several records in one transaction; all or none.
    function registerBatch(RegistrationRequest[] calldata requests) external returns (bytes32[] memory ids);

    /// @notice Register data with the owner's EIP-712 signature over the request, `nonce` and `deadline`.
    function registerFor(RegistrationRequest calldata request, uint256 nonce, uint256 deadline, bytes calldata signature)
        external
        returns (bytes32 id);

    /// @notice Change a record's status (active, suspended, revoked); only its registrar; revoked is final. A
    /// record the property register reports encumbered (pledged or under dispute) is not revoked
    /// (`RecordEncumbered`), nor superseded by a new version.
    function setStatus(bytes32 id, Status status, bytes32 reason) external;

    /// @notice Property register hook: the record's holder, rights and metadata hash after a transfer, change,
    /// enforcement or ruling; `rights` 0 and `metadataHash` 0 leave that field as it is (a transfer passes both
    /// and so never reads them). Only the property register calls it (it emits the events and judged the rules).
    function propertyUpdate(bytes32 id, uint32 owner, uint8 rights, bytes32 metadataHash) external;

    /// @notice Property register hook: cancellation, Active or Suspended to Revoked, emitting StatusChanged with
    /// `reason` (the cancellation's reason code as a bytes32).
    function propertyRevoke(bytes32 id, bytes32 reason) external;

    /// @notice Anchor a batch of entries as the next leaves of the caller's exchange's log, with the log's root
    /// after them; `treeSize` is the log size after the batch, so the batch holds `treeSize - size` entries.
    /// `entries` lays them out column by column: the entries' parent counts (1 byte each), then their heads (104
    /// bytes each: kind, grade, source, rights, owner, contentHash, metadataHash, supersedes), then their parents
    /// (32 bytes each, entry by entry). The i-th leaf's entry is its head, its count and its parents, as for a
    /// direct registration. `signature` is the caller's EIP-712 signature of
    /// `Checkpoint(uint16 exchange,uint64 treeSize,bytes32 root)`: the checkpoint as a signed note that
    /// certificates carry and offline verifiers check.
    function anchorBatch(uint64 treeSize, bytes32 root, bytes calldata entries, bytes calldata signature) external;

    /// @notice Anchor a checkpoint (the current log size and its root) without new entries, signed as above.
    function anchorCheckpoint(uint64 treeSize, bytes32 root, bytes calldata signature) external;

    /// @notice Cosign another exchange's anchored checkpoint as a witness; `signature` must be the caller's
    /// EIP-712 signature of `Checkpoint(uint16 exchange,uint64 treeSize,bytes32 root)`.
    function cosignCheckpoint(uint16 exchangeId, uint64 treeSize, bytes32 root, bytes calldata signature) external;

    /// @notice Ask for a status change of a batched record (judged by the indexes like `setStatus`).
    function setBatchedStatus(bytes32 id, Status status, bytes32 reason) external;

    /// @notice Anchor the hash of a status list taken at block `atBlock`.
    function anchorStatusList(uint64 atBlock, bytes32 listHash) external;

    /// @notice Record that the caller's exchange recognises a certificate issued by `issuerId` for `recordId_`.
    function recognizeCertificate(bytes32 credentialHash, bytes32 recordId_, uint16 issuerId) external;

    /// @notice Publish the metadata documents of the caller's exchange's general-grade records, `documents[i]`
    /// for `ids[i]` (at least one; each 1 to `MAX_DOCUMENT_BYTES` bytes), emitting `MetadataPublished` for each.
    /// For a stored (direct) record the caller must be its registrar, its grade general and `keccak256` of the
    /// document its `metadataHash`, whatever its status. An id with no stored record (a batched entry, or no
    /// record at all) is emitted unchecked: the indexes accept it only if it names a batched entry they accepted
    /// and passes the same rules against that entry's registrar, grade and metadata hash. All or none.
    function publishMetadata(bytes32[] calldata ids, bytes[] calldata documents) external;

    /// @notice Publish the profiles of entities the caller's exchange onboarded, `documents[i]` for
    /// `entityIds[i]` (at least one; each 1 to `MAX_DOCUMENT_BYTES` bytes), emitting `EntityProfilePublished`
    /// for each. The contract cannot see whether a profile is an individual's: a node never publishes those
    /// (they stay with the onboarding exchange), and the indexes refuse one that is. All or none.
    function publishProfiles(uint32[] calldata entityIds, bytes[] calldata documents) external;

    /// @notice An exchange's log size and the size of its last anchored checkpoint.
    function logState(uint16 exchangeId) external view returns (uint64 size, uint64 anchoredSize);

    /// @notice The root anchored for an exchange's log at `treeSize`, zero if none.
    function anchoredRoot(uint16 exchangeId, uint64 treeSize) external view returns (bytes32);

    /// @notice Whether `proof` shows that `leafHash` is leaf `leafIndex` of the exchange's log at the anchored
    /// checkpoint of size `treeSize` (RFC 9162 section 2.1.3.2).
    function verifyInclusion(uint16 exchangeId, uint64 treeSize, uint64 leafIndex, bytes32 leafHash, bytes32[] calldata proof)
        external
        view
        returns (bool);

    /// @notice The root an inclusion proof leads to, or zero if the proof has the wrong shape for the tree size.
    function inclusionRoot(uint64 treeSize, uint64 leafIndex, bytes32 leafHash, bytes32[] calldata proof)
        external
        pure
        returns (bytes32);

    /// @notice The EIP-712 digest of `Checkpoint(uint16 exchange,uint64 treeSize,bytes32 root)`.
    function checkpointDigest(uint16 exchangeId, uint64 treeSize, bytes32 root) external view returns (bytes32);

    /// @notice A record's id: `keccak256(abi.encode(registrar, contentHash))`.
    function recordId(uint16 registrar, bytes32 contentHash) external pure returns (bytes32);

    /// @notice A record by id; reverts with `UnknownRecord` if there is none.
    function getRecord(bytes32 id) external view returns (Record memory);

    /// @notice The fields of a record the property rules read, from its first storage slot only (a third of
    /// `getRecord`'s reads); reverts with `UnknownRecord` if there is none.
    function propertyHead(bytes32 id)
        external
        view
        returns (uint32 owner, uint16 registrar, uint8 kind, uint8 rights, Status status, uint40 timestamp);

    /// @notice The parents of a record, in registration order.
    function parentsOf(bytes32 id) external view returns (bytes32[] memory);

    /// @notice An entity by id; reverts with `UnknownEntity` if there is none.
    function getEntity(uint32 entityId) external view returns (Entity memory);

    /// @notice An entity by id, as `getEntity`, but reverting with `EntityIsFrozen` for a frozen entity.
    function activeEntity(uint32 entityId) external view returns (Entity memory);

    /// @notice Whether a governance decision froze the entity.
    function isFrozen(uint32 entityId) external view returns (bool);

    /// @notice The proposal id of the last governance decision applied to the entity, 0 if none.
    function lastEntityDecision(uint32 entityId) external view returns (uint256);

    /// @notice The entity id for an identifier hash, 0 if none.
    function entityIdOf(bytes32 identifierHash) external view returns (uint32);

    /// @notice Whether the entity granted the exchange a mandate.
    function hasMandate(uint32 entityId, uint16 exchangeId) external view returns (bool);

    /// @notice Whether the exchange recognised the entity.
    function isRecognized(uint32 entityId, uint16 exchangeId) external view returns (bool);

    /// @notice Numbers of entities and registrations so far (an indexer checks its event counts against them).
    function counts() external view returns (uint64 entities, uint64 registrations);

    /// @notice The EIP-712 digest the owner signs for `registerFor`, for registrar `registrar`.
    function registrationDigest(uint16 registrar, RegistrationRequest calldata request, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32);

    /// @notice The EIP-712 digest an account signs to consent to its onboarding by exchange `registrar`.
    function onboardingDigest(bytes32 identifierHash, address account, uint8 role, uint16 registrar, uint256 deadline)
        external
        view
        returns (bytes32);

    /// @notice The EIP-712 domain separator (name "ProvenanceRegistry", version "1", this chain, this contract).
    function domainSeparator() external view returns (bytes32);

    /// @notice The federation whose member exchanges may write here.
    function federation() external view returns (address);

    /// @notice The property register bound to this registry (transfers, pledges, terms: IPropertyRegister).
    function propertyRegister() external view returns (address);
}
