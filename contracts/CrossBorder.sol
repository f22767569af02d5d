// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ICrossBorder} from "./interfaces/ICrossBorder.sol";
import {IFederation} from "./interfaces/IFederation.sol";
import {IPropertyRegister} from "./interfaces/IPropertyRegister.sol";
import {IRegistry} from "./interfaces/IRegistry.sol";
import {EIP712} from "./lib/EIP712.sol";

/// @title Cross-border data flows (see ICrossBorder for the full description)
contract CrossBorder is ICrossBorder {
    /// @notice Blocks between an announcement and the block whose hash seeds its sample.
    uint64 public constant SEED_DELAY = 1;
    /// @notice Most deliveries one spot check samples.
    uint16 public constant MAX_SAMPLE = 64;
    /// @notice Longest purpose text, in bytes.
    uint256 public constant MAX_PURPOSE = 256;
    /// @notice Longest validity of an automatic approval, in seconds (keeps `now + maxValidity` far inside uint64).
    uint64 public constant MAX_VALIDITY = 3650 days;

    uint8 private constant GRADE_IMPORTANT = 1;
    uint8 private constant GRADE_CORE = 2;

    /// @dev EIP-712 (lib/EIP712.sol). The approval binds every term of the stored application a supervisor judged
    /// (record, exporter, receiver, destination, category, purpose, assessment), not only its id.
    bytes32 private constant _NAME_HASH = keccak256("ProvenanceCrossBorder");
    bytes32 private constant _APPROVAL_TYPEHASH = keccak256(
        "Approval(uint64 application,bytes32 recordId,uint32 exporter,uint32 receiver,bytes2 destination,"
        "bytes32 category,bytes32 purposeHash,bytes32 assessmentRef,uint64 expiresAt,uint64 volumeLimit,"
        "uint256 deadline)"
    );

    IFederation private immutable _federation;
    IRegistry private immutable _registry;
    uint256 private immutable _cachedChainId;
    bytes32 private immutable _cachedDomainSeparator;

    mapping(bytes32 category => mapping(bytes2 destination => CatalogueEntry)) private _catalogue;
    mapping(uint64 applicationId => Application) private _applications;
    mapping(uint64 deliveryId => Delivery) private _deliveries;
    mapping(uint32 exporter => uint64[]) private _deliveriesOf;
    mapping(uint64 checkId => SpotCheck) private _checks;

    uint64 private _applicationCount;
    uint64 private _deliveryCount;
    uint64 private _checkCount;

    constructor(IFederation federation_, IRegistry registry_) {
        if (address(federation_) == address(0) || address(registry_) == address(0)) revert ZeroAddress();
        if (registry_.federation() != address(federation_)) revert RegistryFederationMismatch();
        _federation = federation_;
        _registry = registry_;
        _cachedChainId = block.chainid;
        _cachedDomainSeparator = _buildDomainSeparator();
    }

    // ------------------------------------------------------------------ catalogue

    /// @inheritdoc ICrossBorder
    function setCatalogueEntry(bytes32 category, bytes2 destination, uint64 maxValidity, uint64 maxVolume) external {
        uint16 supervisorId = _federation.activeSupervisorOf(msg.sender);
        _checkCategory(category);
        _checkJurisdiction(destination);
        if (maxValidity == 0 && maxVolume != 0) revert InvalidCatalogueEntry();
        if (maxValidity > MAX_VALIDITY) revert ValidityTooLong(maxValidity, MAX_VALIDITY);
        _catalogue[category][destination] = CatalogueEntry({maxValidity: maxValidity, maxVolume: maxVolume});
        emit CatalogueChanged(category, destination, supervisorId, maxValidity != 0, maxValidity, maxVolume);
    }

    // ------------------------------------------------------------------ applications

    /// @inheritdoc ICrossBorder
    function fileApplication(ApplicationRequest calldata request) external returns (uint64 applicationId) {
        uint16 filedBy = _agentOf(request.exporter);
        IRegistry.Record memory record = _registry.getRecord(request.recordId); // UnknownRecord if none
        if (record.status != IRegistry.Status.Active) revert RecordNotActive(request.recordId, uint8(record.status));
        if (record.owner != request.exporter) revert ExporterNotOwner(request.recordId, record.owner, request.exporter);
        _checkProperty(request.recordId);
        // Called for its revert: the receiver must be a registered, unfrozen entity; its fields are not needed.
        // slither-disable-next-line unused-return
        _registry.activeEntity(request.receiver); // UnknownEntity if none, EntityIsFrozen if frozen
        _checkJurisdiction(request.destination);
        _checkCategory(request.category);
        uint256 purposeLength = bytes(request.purpose).length;
        if (purposeLength == 0 || purposeLength > MAX_PURPOSE) revert InvalidPurpose();
        if (record.grade == GRADE_CORE) revert CoreDataNotExportable(request.recordId);
        if (record.grade == GRADE_IMPORTANT && request.assessmentRef == bytes32(0)) {
            revert AssessmentRequired(request.recordId);
        }
        applicationId = ++_applicationCount;
        Application storage a = _applications[applicationId];
        a.recordId = request.recordId;
        a.category = request.category;
        a.assessmentRef = request.assessmentRef;
        a.purposeHash = keccak256(bytes(request.purpose));
        a.exporter = request.exporter;
        a.receiver = request.receiver;
        a.destination = request.destination;
        a.grade = record.grade;
        a.status = ApplicationStatus.Pending;
        a.filedBy = filedBy;
        a.filedAt = uint64(block.timestamp);
        emit ApplicationFiled(
            applicationId,
            request.recordId,
            request.exporter,
            request.receiver,
            request.destination,
            request.category,
            record.grade,
            request.assessmentRef,
            filedBy,
            request.purpose
        );
        if (record.grade != GRADE_IMPORTANT) {
            CatalogueEntry memory entry = _catalogue[request.category][request.destination];
            if (entry.maxValidity != 0) {
                _approve(applicationId, a, 0, uint64(block.timestamp) + entry.maxValidity, entry.maxVolume, false);
            }
        }
    }

    /// @inheritdoc ICrossBorder
    function approveApplication(uint64 applicationId, uint64 expiresAt, uint64 volumeLimit) external {
        uint16 supervisorId = _federation.activeSupervisorOf(msg.sender);
        Application storage a = _pending(applicationId);
        _approve(applicationId, a, supervisorId, expiresAt, volumeLimit, false);
    }

    /// @inheritdoc ICrossBorder
    function approveWithSignature(
        uint64 applicationId,
        uint64 expiresAt,
        uint64 volumeLimit,
        uint256 deadline,
        bytes calldata signature
    ) external {
        // Signature deadlines are minutes long; a block producer's few seconds of timestamp drift cannot matter.
        // slither-disable-next-line timestamp
        if (block.timestamp > deadline) revert SignatureExpired(deadline, block.timestamp);
        Application storage a = _pending(applicationId);
        bytes32 digest = _approvalDigest(applicationId, a, expiresAt, volumeLimit, deadline);
        address signer = _recover(digest, signature);
        uint16 supervisorId = _federation.activeSupervisorOf(signer); // NotSupervisorKey for any other signer
        _approve(applicationId, a, supervisorId, expiresAt, volumeLimit, true);
    }

    /// @inheritdoc ICrossBorder
    function rejectApplication(uint64 applicationId, bytes32 reason) external {
        uint16 supervisorId = _federation.activeSupervisorOf(msg.sender);
        Application storage a = _pending(applicationId);
        a.status = ApplicationStatus.Rejected;
        a.decidedBy = supervisorId;
        a.decidedAt = uint64(block.timestamp);
        emit ApplicationRejected(applicationId, supervisorId, reason);
    }

    /// @inheritdoc ICrossBorder
    function revokeApproval(uint64 applicationId, bytes32 reason) external {
        uint16 supervisorId = _federation.activeSupervisorOf(msg.sender);
        Application storage a = _application(applicationId);
        if (a.status != ApplicationStatus.Approved) revert ApplicationNotApproved(applicationId, a.status);
        a.status = ApplicationStatus.Revoked;
        emit ApprovalRevoked(applicationId, supervisorId, reason);
    }

    // ------------------------------------------------------------------ evidence

    /// @inheritdoc ICrossBorder
    function recordDelivery(uint64 applicationId, bytes32 manifestHash, uint64 size)
        external
        returns (uint64 deliveryId)
    {
        Application storage a = _application(applicationId);
        _agentOf(a.exporter);
        deliveryId = _deliver(applicationId, a, manifestHash, size);
    }

    /// @inheritdoc ICrossBorder
    function recordDeliveries(DeliveryRequest[] calldata deliveries) external returns (uint64 firstDeliveryId) {
        uint256 n = deliveries.length;
        if (n == 0) revert EmptyBatch();
        uint32 checkedExporter = 0;
        for (uint256 i = 0; i < n; ++i) {
            DeliveryRequest calldata d = deliveries[i];
            Application storage a = _application(d.applicationId);
            if (a.exporter != checkedExporter) {
                _agentOf(a.exporter);
                checkedExporter = a.exporter;
            }
            uint64 id = _deliver(d.applicationId, a, d.manifestHash, d.size);
            if (i == 0) firstDeliveryId = id;
        }
    }

    // ------------------------------------------------------------------ spot checks

    /// @inheritdoc ICrossBorder
    function announceSpotCheck(uint32 exporter, uint16 sampleSize) external returns (uint64 checkId) {
        uint16 supervisorId = _federation.activeSupervisorOf(msg.sender);
        uint64 population = _settledDeliveries(exporter);
        if (population == 0) revert NothingToCheck(exporter);
        if (sampleSize == 0 || sampleSize > MAX_SAMPLE) revert InvalidSampleSize(sampleSize);
        checkId = ++_checkCount;
        uint64 seedBlock = uint64(block.number) + SEED_DELAY;
        SpotCheck storage c = _checks[checkId];
        c.exporter = exporter;
        c.supervisor = supervisorId;
        c.sampleSize = sampleSize;
        c.state = CheckState.Announced;
        c.population = population;
        c.announcedAt = uint64(block.number);
        c.seedBlock = seedBlock;
        emit SpotCheckAnnounced(checkId, exporter, supervisorId, population, sampleSize, seedBlock);
    }

    /// @inheritdoc ICrossBorder
    function drawSample(uint64 checkId) external {
        SpotCheck storage c = _check(checkId);
        if (c.state != CheckState.Announced) revert SpotCheckNotAnnounced(checkId, c.state);
        if (block.number <= c.seedBlock) revert SeedNotYetAvailable(c.seedBlock, block.number);
        bytes32 blockHash = blockhash(c.seedBlock);
        if (blockHash == bytes32(0)) {
            // Older than 256 blocks: the hash is gone. The check lapses openly (an event, not a silent redo).
            c.state = CheckState.Lapsed;
            emit SpotCheckLapsed(checkId);
            return;
        }
        bytes32 seed = _seedOf(checkId, blockHash);
        uint64[] memory positions = _sample(seed, c.population, c.sampleSize);
        uint64[] storage list = _deliveriesOf[c.exporter];
        uint64[] memory ids = new uint64[](positions.length);
        for (uint256 i = 0; i < positions.length; ++i) {
            ids[i] = list[positions[i]];
        }
        c.seed = seed;
        c.sampleHash = keccak256(abi.encodePacked(ids));
        c.state = CheckState.Drawn;
        emit SampleDrawn(checkId, seed, ids);
    }

    /// @inheritdoc ICrossBorder
    function concludeSpotCheck(uint64 checkId, uint64[] calldata sample, bytes32 reportHash, uint16 passed, uint16 failed)
        external
    {
        uint16 supervisorId = _federation.activeSupervisorOf(msg.sender);
        SpotCheck storage c = _check(checkId);
        // Another supervisor concludes the check of one that was removed, or the check would stay open for ever.
        if (
            c.supervisor != supervisorId
                && _federation.getSupervisor(c.supervisor).status == IFederation.ExchangeStatus.Active
        ) revert NotCheckSupervisor(checkId, supervisorId);
        if (c.state != CheckState.Drawn) revert SpotCheckNotDrawn(checkId, c.state);
        if (keccak256(abi.encodePacked(sample)) != c.sampleHash) revert SampleMismatch(checkId);
        if (uint256(passed) + uint256(failed) != sample.length) revert ResultCountMismatch(passed, failed, sample.length);
        c.state = CheckState.Concluded;
        c.reportHash = reportHash;
        c.passed = passed;
        c.failed = failed;
        emit SpotCheckConcluded(checkId, supervisorId, reportHash, passed, failed);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ICrossBorder
    function getApplication(uint64 applicationId) external view returns (Application memory) {
        return _application(applicationId);
    }

    /// @inheritdoc ICrossBorder
    function getDelivery(uint64 deliveryId) external view returns (Delivery memory) {
        return _deliveries[deliveryId];
    }

    /// @inheritdoc ICrossBorder
    function getSpotCheck(uint64 checkId) external view returns (SpotCheck memory) {
        return _check(checkId);
    }

    /// @inheritdoc ICrossBorder
    function catalogueEntry(bytes32 category, bytes2 destination) external view returns (CatalogueEntry memory) {
        return _catalogue[category][destination];
    }

    /// @inheritdoc ICrossBorder
    function deliveriesOf(uint32 exporter, uint256 start, uint256 limit) external view returns (uint64[] memory out) {
        uint64[] storage list = _deliveriesOf[exporter];
        uint256 end = start + limit > list.length ? list.length : start + limit;
        if (start >= end) return new uint64[](0);
        out = new uint64[](end - start);
        for (uint256 i = start; i < end; ++i) {
            out[i - start] = list[i];
        }
    }

    /// @inheritdoc ICrossBorder
    function deliveryCountOf(uint32 exporter) external view returns (uint64) {
        return uint64(_deliveriesOf[exporter].length);
    }

    /// @inheritdoc ICrossBorder
    function counts() external view returns (uint64 applications, uint64 deliveries, uint64 spotChecks) {
        return (_applicationCount, _deliveryCount, _checkCount);
    }

    /// @inheritdoc ICrossBorder
    function sampleOf(bytes32 seed, uint64 population, uint16 sampleSize) external pure returns (uint64[] memory) {
        return _sample(seed, population, sampleSize);
    }

    /// @inheritdoc ICrossBorder
    function seedOf(uint64 checkId, bytes32 seedBlockHash) external view returns (bytes32) {
        return _seedOf(checkId, seedBlockHash);
    }

    /// @inheritdoc ICrossBorder
    function approvalDigest(uint64 applicationId, uint64 expiresAt, uint64 volumeLimit, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return _approvalDigest(applicationId, _application(applicationId), expiresAt, volumeLimit, deadline);
    }

    /// @inheritdoc ICrossBorder
    function domainSeparator() public view returns (bytes32) {
        return block.chainid == _cachedChainId ? _cachedDomainSeparator : _buildDomainSeparator();
    }

    /// @inheritdoc ICrossBorder
    function federation() external view returns (address) {
        return address(_federation);
    }

    /// @inheritdoc ICrossBorder
    function registry() external view returns (address) {
        return address(_registry);
    }

    // ------------------------------------------------------------------ internals

    /// @dev An expired record, or one under dispute, does not leave the country (IPropertyRegister's rules).
    function _checkProperty(bytes32 recordId) private view {
        IPropertyRegister.PropertyState memory p =
            IPropertyRegister(_registry.propertyRegister()).propertyOf(recordId);
        if (p.expired) revert RecordExpired(recordId, p.expiresAt);
        if (p.disputed) revert UnderDispute(recordId);
    }

    /// @dev The exchange acting for `exporter` (0 when the exporter's own account calls); reverts otherwise.
    function _agentOf(uint32 exporter) private view returns (uint16) {
        // The callees below are the federation's own contracts, fixed at deployment; a revert in a batch reverts
        // the batch, which is meant (recordDeliveries is all or nothing).
        // slither-disable-next-line calls-loop
        IRegistry.Entity memory e = _registry.activeEntity(exporter); // UnknownEntity, EntityIsFrozen
        if (msg.sender == e.account) return 0;
        // slither-disable-next-line calls-loop
        try _federation.activeExchangeOf(msg.sender) returns (uint16 exchangeId) {
            // slither-disable-next-line calls-loop
            if (_registry.hasMandate(exporter, exchangeId)) return exchangeId;
        } catch {}
        revert NotExporterAgent(exporter, msg.sender);
    }

    function _application(uint64 applicationId) private view returns (Application storage a) {
        a = _applications[applicationId];
        if (a.status == ApplicationStatus.None) revert UnknownApplication(applicationId);
    }

    function _pending(uint64 applicationId) private view returns (Application storage a) {
        a = _application(applicationId);
        if (a.status != ApplicationStatus.Pending) revert ApplicationNotPending(applicationId, a.status);
    }

    function _check(uint64 checkId) private view returns (SpotCheck storage c) {
        c = _checks[checkId];
        if (c.state == CheckState.None) revert UnknownSpotCheck(checkId);
    }

    function _approve(
        uint64 applicationId,
        Application storage a,
        uint16 supervisorId,
        uint64 expiresAt,
        uint64 volumeLimit,
        bool signed
    ) private {
        // Approvals last days to months; a block producer's few seconds of timestamp drift cannot matter.
        // slither-disable-next-line timestamp
        if (expiresAt != 0 && expiresAt <= block.timestamp) revert InvalidExpiry(expiresAt, uint64(block.timestamp));
        // The record may have been suspended or revoked while the application waited.
        IRegistry.Status status = _registry.getRecord(a.recordId).status;
        if (status != IRegistry.Status.Active) revert RecordNotActive(a.recordId, uint8(status));
        a.status = ApplicationStatus.Approved;
        a.decidedBy = supervisorId;
        a.decidedAt = uint64(block.timestamp);
        a.expiresAt = expiresAt;
        a.volumeLimit = volumeLimit;
        emit ApplicationApproved(applicationId, supervisorId, expiresAt, volumeLimit, signed);
    }

    function _deliver(uint64 applicationId, Application storage a, bytes32 manifestHash, uint64 size)
        private
        returns (uint64 deliveryId)
    {
        if (a.status != ApplicationStatus.Approved) revert ApplicationNotApproved(applicationId, a.status);
        // Approvals last days to months; a block producer's few seconds of timestamp drift cannot matter.
        // slither-disable-next-line timestamp
        if (a.expiresAt != 0 && block.timestamp > a.expiresAt) revert ApprovalExpired(applicationId, a.expiresAt);
        if (size == 0 || manifestHash == bytes32(0)) revert EmptyDelivery();
        uint64 delivered = a.delivered + size; // checked: a sum past 2**64 reverts
        if (a.volumeLimit != 0 && delivered > a.volumeLimit) {
            revert VolumeExceeded(applicationId, a.volumeLimit, a.delivered, size);
        }
        // The registry is the federation's own contract, fixed at deployment; a revert reverts the whole batch,
        // which is meant (recordDeliveries is all or nothing).
        // slither-disable-next-line calls-loop
        IRegistry.Status status = _registry.getRecord(a.recordId).status;
        if (status != IRegistry.Status.Active) revert RecordNotActive(a.recordId, uint8(status));
        a.delivered = delivered;
        a.deliveries += 1;
        // After the first delivery of a batch the slot is warm and dirty: each further write costs 100 gas, well
        // under 1% of a delivery's storage writes.
        // slither-disable-next-line costly-loop
        deliveryId = ++_deliveryCount;
        _deliveries[deliveryId] = Delivery({
            applicationId: applicationId,
            exporter: a.exporter,
            size: size,
            timestamp: uint64(block.timestamp),
            blockNumber: uint64(block.number),
            manifestHash: manifestHash
        });
        _deliveriesOf[a.exporter].push(deliveryId);
        emit DeliveryRecorded(deliveryId, applicationId, a.exporter, manifestHash, size, delivered, uint64(block.timestamp));
    }

    /// @dev The exporter's deliveries recorded before this block: an exporter who sees an announcement pending
    /// cannot dilute its sample by padding deliveries into the announcement's block. The walk back costs one read
    /// per delivery of this block, each of which cost the exporter a delivery.
    function _settledDeliveries(uint32 exporter) private view returns (uint64 count) {
        uint64[] storage list = _deliveriesOf[exporter];
        uint256 n = list.length;
        // Equality is the rule: a delivery of this block has blockNumber == block.number, never more; block
        // numbers are not a balance an attacker can nudge past a strict comparison.
        // slither-disable-next-line incorrect-equality,timestamp
        while (n > 0 && _deliveries[list[n - 1]].blockNumber == block.number) {
            --n;
        }
        count = uint64(n); // a list length, far below 2**64
    }

    function _seedOf(uint64 checkId, bytes32 blockHash) private view returns (bytes32) {
        return keccak256(abi.encode(blockHash, block.chainid, address(this), checkId));
    }

    /// @dev Positions drawn without replacement: position = keccak256(seed, counter) mod population, skipping
    /// repeats, counter from 0; the whole population, in order, when the sample would cover it.
    function _sample(bytes32 seed, uint64 population, uint16 sampleSize) private pure returns (uint64[] memory out) {
        if (sampleSize >= population) {
            out = new uint64[](population);
            for (uint64 i = 0; i < population; ++i) {
                out[i] = i;
            }
            return out;
        }
        out = new uint64[](sampleSize);
        uint256 filled = 0;
        for (uint256 counter = 0; filled < sampleSize; ++counter) {
            // An audit sample, not a lottery: the seed is the hash of a block after the announcement (_seedOf; what
            // that block's producer can do is in the threat model), and the modulo bias is below 2**-190.
            // slither-disable-next-line weak-prng
            uint64 p = uint64(uint256(keccak256(abi.encode(seed, counter))) % population);
            bool seen = false;
            for (uint256 j = 0; j < filled; ++j) {
                if (out[j] == p) {
                    seen = true;
                    break;
                }
            }
            if (!seen) out[filled++] = p;
        }
    }

    function _checkJurisdiction(bytes2 code) private pure {
        bytes1 a = code[0];
        bytes1 b = code[1];
        if (!(a >= "A" && a <= "Z" && b >= "A" && b <= "Z")) revert InvalidJurisdiction(code);
        // Transfers out of mainland China only.
        if (code == "CN") revert InvalidJurisdiction(code);
    }

    /// @dev A category is 1-32 bytes of [A-Z0-9.-] followed only by zero bytes.
    function _checkCategory(bytes32 category) private pure {
        bool ended = false;
        for (uint256 i = 0; i < 32; ++i) {
            bytes1 c = category[i];
            if (c == 0) {
                ended = true;
            } else if (ended || !((c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "." || c == "-")) {
                revert InvalidCategory(category);
            }
        }
        if (category[0] == 0) revert InvalidCategory(category);
    }

    function _approvalDigest(
        uint64 applicationId,
        Application storage a,
        uint64 expiresAt,
        uint64 volumeLimit,
        uint256 deadline
    ) private view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                _APPROVAL_TYPEHASH,
                applicationId,
                a.recordId,
                a.exporter,
                a.receiver,
                a.destination,
                a.category,
                a.purposeHash,
                a.assessmentRef,
                expiresAt,
                volumeLimit,
                deadline
            )
        );
        return EIP712.digest(domainSeparator(), structHash);
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return EIP712.domainSeparator(_NAME_HASH);
    }

    /// @dev Strict encodings only (lib/EIP712.sol); a signature that recovers no key is refused too.
    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address signer) {
        EIP712.Failure failure;
        (signer, failure) = EIP712.tryRecover(digest, signature);
        if (failure != EIP712.Failure.None || signer == address(0)) revert InvalidSignature();
    }
}
