// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IRegistry} from "../interfaces/IRegistry.sol";

/// @title The transparency logs' pure arithmetic: RFC 9162 inclusion proofs and the framing of anchored batches
/// @dev Internal functions only, inlined into the Registry (no call, same gas).
library MerkleLog {
    /// @dev An entry takes 105 bytes of a batch (its parent count, 1, and its head: kind, grade, source, rights, 1
    /// byte each, owner, 4, contentHash, metadataHash, supersedes, 32 each) plus 32 for each parent.
    uint256 internal constant ENTRY_FIXED = 105;
    /// @dev 16 lanes of 16 bits holding 0x00ff, and 16 lanes holding 1: summing the bytes of a word.
    uint256 internal constant BYTE_LANES = 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff;
    uint256 internal constant LANE_ONES = 0x0001000100010001000100010001000100010001000100010001000100010001;

    /// @dev The root an inclusion proof leads to, or zero if the proof has the wrong shape (see IRegistry).
    function inclusionRoot(uint64 treeSize, uint64 leafIndex, bytes32 leafHash, bytes32[] calldata proof)
        internal
        pure
        returns (bytes32)
    {
        // RFC 9162 section 2.1.3.2. fn is the leaf's index and sn the last index at the current level; a node
        // hash is sha256(0x01 || left || right) (RFC 6962 section 2.1), so no node can pass for a leaf.
        if (leafIndex >= treeSize) return bytes32(0);
        uint256 fn = leafIndex;
        uint256 sn = treeSize - 1;
        bytes32 r = leafHash;
        uint256 n = proof.length;
        for (uint256 i = 0; i < n; ++i) {
            if (sn == 0) return bytes32(0); // proof longer than the path
            bytes32 p = proof[i];
            if (fn & 1 == 1 || fn == sn) {
                r = sha256(abi.encodePacked(bytes1(0x01), p, r));
                if (fn & 1 == 0) {
                    while (fn & 1 == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                r = sha256(abi.encodePacked(bytes1(0x01), r, p));
            }
            fn >>= 1;
            sn >>= 1;
        }
        if (sn != 0) return bytes32(0); // proof shorter than the path
        return r;
    }

    /// @dev `entries` must be exactly `count` entries (see IRegistry.anchorBatch): `count` parent-count bytes first,
    /// so their sum is read a word at a time (py-evm runs each opcode in Python; an entry-by-entry walk took 28
    /// opcodes an entry, this takes under one). `count` is below 2**64, so nothing here overflows.
    function checkFraming(bytes calldata entries, uint256 count) internal pure {
        uint256 length = entries.length;
        if (length < count * ENTRY_FIXED) revert IRegistry.MalformedBatch(count, length);
        uint256 parents;
        // Assembly on purpose (see the @dev above): it reads only calldata and writes only `parents`.
        // slither-disable-next-line assembly
        assembly ("memory-safe") {
            let p := entries.offset
            let end := add(p, count)
            for {} lt(p, end) { p := add(p, 32) } {
                let w := calldataload(p)
                let left := sub(end, p)
                if lt(left, 32) {
                    w := and(w, not(shr(shl(3, left), not(0)))) // only the first `left` bytes
                }
                // Bytes into 16 lanes of 16 bits (each at most 510); the product with LANE_ONES carries the
                // lanes' sum (at most 8160, so no lane overflows) into its top lane.
                let lanes := add(and(w, BYTE_LANES), and(shr(8, w), BYTE_LANES))
                parents := add(parents, shr(240, mul(lanes, LANE_ONES)))
            }
        }
        if (length != count * ENTRY_FIXED + parents * 32) revert IRegistry.MalformedBatch(count, length);
    }
}
