// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Cross-border data flows: pre-approval, evidence during transfer, supervisory spot checks
/// @notice The three stages of the Lin-gang international data port pilot, on-chain.
///
/// 1. Application. An exporter (an entity of the registry, acting itself or through an exchange holding its
///    mandate) applies to transfer one of its registered records to a receiving entity in a destination
///    jurisdiction for a stated purpose, under a data category. The record's grade (read from the registry, not
///    declared) decides: core data is never approved; important data needs a security-assessment reference and a
///    supervisor's approval; general data whose (category, destination) is on the supervisors' low-risk
///    catalogue is approved at once, with the catalogue's validity and volume; other general data waits for a
///    supervisor. Records that are not active (suspended, revoked, superseded) cannot be applied for.
/// 2. Evidence. Each delivery under an approval records the hash of its manifest, its size and the block time,
///    singly or in batches. A delivery after the approval expired, beyond its volume, under an approval that is
///    not (or no longer) in force, or of a record no longer active, is refused.
/// 3. Spot checks. A supervisor announces a check of an exporter's deliveries so far; the sample is drawn from the
///    hash of a block mined after the announcement (so nobody could know it when the check was fixed), by a rule
///    anyone can recompute (`sampleOf`). The supervisor concludes the check with the sample and the hash of its
///    report; a sample that differs from the draw is refused.
/// @dev Approvals are made by a supervisor's current key directly or as an EIP-712 signature relayed by anyone;
/// the signature is bound to this chain and contract, to the application and every stored term of it (record,
/// exporter, receiver, destination, category, purpose hash, assessment), to the approval's terms and to a deadline,
/// and an application is decided once, so a signature cannot be replayed.
/// A check's population is the exporter's deliveries recorded before the announcement's block, so deliveries padded
/// into that block cannot dilute the sample. A check whose supervisor was removed may be concluded by any active
/// supervisor. A frozen entity (see IRegistry) can be neither exporter nor receiver.
interface ICrossBorder {
    enum ApplicationStatus {
        None,
        Pending,
        Approved,
        Rejected,
        Revoked // an approval withdrawn by a supervisor: no further deliveries
    }

    enum CheckState {
        None,
        Announced,
        Drawn,
        Concluded,
        Lapsed // the seed block left the 256-block window before anyone drew the sample
    }

    struct ApplicationRequest {
        bytes32 recordId;
        uint32 exporter; // entity id: must own the record
        uint32 receiver; // entity id of the receiving party
        bytes2 destination; // ISO 3166-1 alpha-2 code of the destination jurisdiction, e.g. "SG"
        bytes32 category; // data category code, left-aligned ASCII (the catalogue's key)
        bytes32 assessmentRef; // hash of the security-assessment reference; required for important data
        string purpose; // 1 to 256 bytes
    }

    struct Application {
        bytes32 recordId;
        bytes32 category;
        bytes32 assessmentRef;
        bytes32 purposeHash; // keccak256 of the purpose text (the text is in the ApplicationFiled event)
        uint32 exporter;
        uint32 receiver;
        bytes2 destination;
        uint8 grade;
        ApplicationStatus status;
        uint16 filedBy; // exchange id that filed it, 0 when the exporter filed itself
        uint16 decidedBy; // supervisor id, 0 for automatic approval or while pending
        uint64 filedAt; // unix time
        uint64 decidedAt; // unix time, 0 while pending
        uint64 expiresAt; // unix time after which no delivery is accepted; 0: no expiry
        uint64 volumeLimit; // bytes; 0: no limit
        uint64 delivered; // bytes delivered so far
        uint32 deliveries;
    }

    struct CatalogueEntry {
        uint64 maxValidity; // seconds an automatic approval lasts (> 0 for listed entries)
        uint64 maxVolume; // bytes an automatic approval allows; 0: no limit
    }

    struct DeliveryRequest {
        uint64 applicationId;
        bytes32 manifestHash; // canonical hash of the delivered manifest (see provenance.core.flows)
        uint64 size; // bytes delivered
    }

    struct Delivery {
        uint64 applicationId;
        uint32 exporter;
        uint64 size;
        uint64 timestamp; // block time
        uint64 blockNumber;
        bytes32 manifestHash;
    }

    struct SpotCheck {
        uint32 exporter;
        uint16 supervisor;
        uint16 sampleSize;
        CheckState state;
        uint64 population; // the exporter's deliveries when the check was announced
        uint64 announcedAt; // block number
        uint64 seedBlock; // block whose hash seeds the draw (mined after the announcement)
        uint16 passed;
        uint16 failed;
        bytes32 seed;
        bytes32 sampleHash; // keccak256(abi.encodePacked(deliveryIds)): each id a 32-byte word
        bytes32 reportHash;
    }

    event CatalogueChanged(bytes32 indexed category, bytes2 indexed destination, uint16 supervisorId, bool listed,
        uint64 maxValidity, uint64 maxVolume);
    event ApplicationFiled(uint64 indexed applicationId, bytes32 indexed recordId, uint32 indexed exporter,
        uint32 receiver, bytes2 destination, bytes32 category, uint8 grade, bytes32 assessmentRef, uint16 filedBy,
        string purpose);
    /// @notice `supervisorId` 0 marks an automatic approval from the low-risk catalogue.
    event ApplicationApproved(uint64 indexed applicationId, uint16 indexed supervisorId, uint64 expiresAt,
        uint64 volumeLimit, bool signed);
    event ApplicationRejected(uint64 indexed applicationId, uint16 indexed supervisorId, bytes32 reason);
    event ApprovalRevoked(uint64 indexed applicationId, uint16 indexed supervisorId, bytes32 reason);
    event DeliveryRecorded(uint64 indexed deliveryId, uint64 indexed applicationId, uint32 indexed exporter,
        bytes32 manifestHash, uint64 size, uint64 delivered, uint64 timestamp);
    event SpotCheckAnnounced(uint64 indexed checkId, uint32 indexed exporter, uint16 indexed supervisorId,
        uint64 population, uint16 sampleSize, uint64 seedBlock);
    event SampleDrawn(uint64 indexed checkId, bytes32 seed, uint64[] deliveryIds);
    event SpotCheckLapsed(uint64 indexed checkId);
    event SpotCheckConcluded(uint64 indexed checkId, uint16 indexed supervisorId, bytes32 reportHash, uint16 passed,
        uint16 failed);

    error ZeroAddress();
    /// @notice The registry given is bound to another federation than the one given.
    error RegistryFederationMismatch();
    /// @notice The caller is neither the exporter's account nor an active exchange holding the exporter's mandate.
    error NotExporterAgent(uint32 exporter, address caller);
    error RecordNotActive(bytes32 recordId, uint8 status);
    /// @notice The record's term ran out (IPropertyRegister): it is exported only once renewed.
    error RecordExpired(bytes32 id, uint40 expiresAt);
    /// @notice The record is under dispute (IPropertyRegister).
    error UnderDispute(bytes32 id);
    error ExporterNotOwner(bytes32 recordId, uint32 owner, uint32 exporter);
    error InvalidJurisdiction(bytes2 destination);
    error InvalidCategory(bytes32 category);
    error InvalidPurpose();
    error CoreDataNotExportable(bytes32 recordId);
    error AssessmentRequired(bytes32 recordId);
    error UnknownApplication(uint64 applicationId);
    error ApplicationNotPending(uint64 applicationId, ApplicationStatus status);
    error ApplicationNotApproved(uint64 applicationId, ApplicationStatus status);
    error InvalidExpiry(uint64 expiresAt, uint64 now_);
    error SignatureExpired(uint256 deadline, uint256 now_);
    error InvalidSignature();
    error ApprovalExpired(uint64 applicationId, uint64 expiresAt);
    error VolumeExceeded(uint64 applicationId, uint64 volumeLimit, uint64 delivered, uint64 size);
    error EmptyDelivery();
    error EmptyBatch();
    error InvalidCatalogueEntry();
    error UnknownSpotCheck(uint64 checkId);
    error NothingToCheck(uint32 exporter);
    error InvalidSampleSize(uint16 sampleSize);
    error SpotCheckNotAnnounced(uint64 checkId, CheckState state);
    error SpotCheckNotDrawn(uint64 checkId, CheckState state);
    error SeedNotYetAvailable(uint64 seedBlock, uint256 blockNumber);
    error SampleMismatch(uint64 checkId);
    error ResultCountMismatch(uint16 passed, uint16 failed, uint256 sampleLength);
    error NotCheckSupervisor(uint64 checkId, uint16 supervisorId);
    /// @notice A catalogue entry's validity exceeds `MAX_VALIDITY`.
    error ValidityTooLong(uint64 maxValidity, uint64 max);

    /// @notice List (maxValidity > 0) or delist (maxValidity == 0) a (category, destination) pair as low-risk.
    function setCatalogueEntry(bytes32 category, bytes2 destination, uint64 maxValidity, uint64 maxVolume) external;

    /// @notice File an application; it is approved in the same transaction when the catalogue allows.
    function fileApplication(ApplicationRequest calldata request) external returns (uint64 applicationId);

    /// @notice Approve a pending application with the caller's supervisor key.
    function approveApplication(uint64 applicationId, uint64 expiresAt, uint64 volumeLimit) external;

    /// @notice Approve a pending application with a supervisor's EIP-712 signature (see `approvalDigest`); anyone may relay it.
    function approveWithSignature(
        uint64 applicationId,
        uint64 expiresAt,
        uint64 volumeLimit,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Reject a pending application.
    function rejectApplication(uint64 applicationId, bytes32 reason) external;

    /// @notice Withdraw an approval: no further deliveries under it.
    function revokeApproval(uint64 applicationId, bytes32 reason) external;

    /// @notice Record one delivery under an approval.
    function recordDelivery(uint64 applicationId, bytes32 manifestHash, uint64 size) external returns (uint64 deliveryId);

    /// @notice Record several deliveries (under one or more approvals of the same exporter): all or none.
    function recordDeliveries(DeliveryRequest[] calldata deliveries) external returns (uint64 firstDeliveryId);

    /// @notice Announce a spot check of `sampleSize` of the exporter's deliveries recorded before this block.
    function announceSpotCheck(uint32 exporter, uint16 sampleSize) external returns (uint64 checkId);

    /// @notice Draw the sample of an announced check from its seed block's hash (anyone may call).
    function drawSample(uint64 checkId) external;

    /// @notice Conclude a drawn check with its sample, the hash of the report and the counts: the announcing
    /// supervisor, or any active supervisor once the announcing one was removed.
    function concludeSpotCheck(uint64 checkId, uint64[] calldata sample, bytes32 reportHash, uint16 passed, uint16 failed)
        external;

    function getApplication(uint64 applicationId) external view returns (Application memory);
    function getDelivery(uint64 deliveryId) external view returns (Delivery memory);
    function getSpotCheck(uint64 checkId) external view returns (SpotCheck memory);
    function catalogueEntry(bytes32 category, bytes2 destination) external view returns (CatalogueEntry memory);
    function deliveriesOf(uint32 exporter, uint256 start, uint256 limit) external view returns (uint64[] memory);
    function deliveryCountOf(uint32 exporter) external view returns (uint64);
    function counts() external view returns (uint64 applications, uint64 deliveries, uint64 spotChecks);
    /// @notice Positions (0-based, in draw order) that a seed picks out of a population: the sampling rule.
    function sampleOf(bytes32 seed, uint64 population, uint16 sampleSize) external pure returns (uint64[] memory);
    /// @notice The seed of check `checkId` given its seed block's hash.
    function seedOf(uint64 checkId, bytes32 seedBlockHash) external view returns (bytes32);
    /// @notice The EIP-712 digest a supervisor signs to approve an application on these terms.
    function approvalDigest(uint64 applicationId, uint64 expiresAt, uint64 volumeLimit, uint256 deadline)
        external
        view
        returns (bytes32);
    function domainSeparator() external view returns (bytes32);
    function federation() external view returns (address);
    function registry() external view returns (address);
}
